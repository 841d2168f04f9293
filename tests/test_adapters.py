"""The tau-bench and ABCD adapters, loading the real shared data through the library.

The expected numbers are computed here from the source JSON, independently of the adapters, and
checked against what the warehouse holds after `load_file`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audits import warehouse
from audits.adapters import ADAPTERS, adapter_files, adapter_lines
from audits.errors import AdapterError, ConfigError
from audits.ingest.load import load_file

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TAU = SHARED / "tau-bench-airline"
TRAJECTORIES = TAU / "historical_trajectories__gpt-4o-airline.json"
WIKI = TAU / "airline__wiki.md"
ABCD = SHARED / "abcd"
ABCD_SAMPLE = ABCD / "abcd_sample.json"
GUIDELINES = ABCD / "guidelines.json"
KB_SEQUENCES = ABCD / "kb.json"

TRANSFER = "transfer_to_human_agents"
TAU_SUPPLIER = "tau-bench-gpt-4o"


def _require_data() -> None:
    missing = [p for p in (TRAJECTORIES, WIKI, ABCD_SAMPLE, GUIDELINES, KB_SEQUENCES) if not p.is_file()]
    if missing:
        pytest.fail(
            f"the shared data set is missing ({', '.join(map(str, missing))}); these tests read the "
            f"real tau-bench and ABCD files from {SHARED} (the repository's sibling folder shared/data)",
            pytrace=False,
        )


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _calls(message: dict[str, Any]) -> list[str]:
    return [c["function"]["name"] for c in message.get("tool_calls") or []]


def _transferred(item: dict[str, Any]) -> bool:
    return any(TRANSFER in _calls(m) for m in item["traj"])


def _tau_id(item: dict[str, Any]) -> str:
    return f"tau-airline-{item['task_id']}-{item['trial']}"


def rows(con: Any, sql: str, params: list[Any] | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def count(con: Any, sql: str, params: list[Any] | None = None) -> int:
    return int(warehouse.scalar(con, sql, params) or 0)


# ---------------------------------------------------------------------------------------------
# One warehouse with all four shared files loaded once
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tau() -> list[dict[str, Any]]:
    _require_data()
    return _json(TRAJECTORIES)


@pytest.fixture(scope="module")
def abcd_convos() -> list[dict[str, Any]]:
    _require_data()
    return _json(ABCD_SAMPLE)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, Any]]]:
    """(connection, {file name: LoadResult}) for a warehouse holding the four shared files."""
    _require_data()
    con = warehouse.connect(tmp_path_factory.mktemp("adapters") / "w.duckdb")
    results = {
        path.name: load_file(con, path, fmt=fmt)
        for fmt, path in (("tau-bench", TRAJECTORIES), ("tau-bench", WIKI), ("abcd", ABCD_SAMPLE),
                          ("abcd", GUIDELINES))
    }  # fmt: skip
    yield con, results
    con.close()


# ---------------------------------------------------------------------------------------------
# tau-bench trajectories
# ---------------------------------------------------------------------------------------------


def test_tau_trajectories_load_without_quarantine(loaded, tau):
    con, results = loaded
    r = results[TRAJECTORIES.name]
    assert (r.status, r.kind, r.format) == ("loaded", "conversations", "tau-bench")
    assert len(tau) == 200
    assert (r.records_read, r.records_loaded, r.records_quarantined) == (200, 200, 0), r.reasons
    assert r.contract_success is True
    assert count(con, "SELECT count(*) FROM quarantine") == 0
    assert rows(con, "SELECT supplier, channel, handler, language, count(*) FROM conversations "
                     "WHERE supplier LIKE 'tau%' GROUP BY ALL") == [(TAU_SUPPLIER, "chat", "ai", "en", 200)]  # fmt: skip
    # record N is item N of the file: the loader's line numbers point at the item
    sql = "SELECT conversation_id, source_line FROM conversations WHERE supplier = ?"
    assert dict(rows(con, sql, [TAU_SUPPLIER])) == {_tau_id(item): n for n, item in enumerate(tau, start=1)}


def test_tau_automation_failed_follows_the_reward(loaded, tau):
    con, _ = loaded
    failed = sum(1 for item in tau if item["reward"] == 0)
    passed = sum(1 for item in tau if item["reward"] == 1)
    assert (failed, passed) == (116, 84)  # what the data's README says
    got = dict(rows(con, "SELECT automation_failed, count(*) FROM conversations WHERE supplier = ? GROUP BY 1",
                    [TAU_SUPPLIER]))  # fmt: skip
    assert got == {True: failed, False: passed}
    per_id = dict(rows(con, "SELECT conversation_id, automation_failed FROM conversations WHERE supplier = ?",
                       [TAU_SUPPLIER]))  # fmt: skip
    assert per_id == {_tau_id(item): item["reward"] == 0 for item in tau}
    reasons = rows(con, "SELECT automation_failed, automation_reason, count(*) FROM conversations "
                        "WHERE supplier = ? GROUP BY ALL ORDER BY 1", [TAU_SUPPLIER])  # fmt: skip
    assert reasons == [
        (False, None, passed),
        (True, "tau-bench reward 0: end state differs from the expected actions", failed),
    ]


def test_tau_transfers_and_outcomes(loaded, tau):
    con, _ = loaded
    transferred = [item for item in tau if _transferred(item)]
    assert len(transferred) == 48  # what the data's README says
    expected = {
        _tau_id(item): "transferred"
        if _transferred(item)
        else ("resolved" if item["reward"] == 1 else "unresolved")
        for item in tau
    }
    got = dict(
        rows(con, "SELECT conversation_id, outcome FROM conversations WHERE supplier = ?", [TAU_SUPPLIER])
    )
    assert got == expected
    assert Counter(got.values())["transferred"] == 48

    summaries = {}
    for item in transferred:
        call = next(
            c for m in item["traj"] for c in m.get("tool_calls") or [] if c["function"]["name"] == TRANSFER
        )
        summaries[_tau_id(item)] = json.loads(call["function"]["arguments"])["summary"]
    esc = rows(con, "SELECT conversation_id, escalation_reason, escalation_requested_at = started_at, "
                    "escalation_handed_off_at FROM conversations WHERE supplier = ? "
                    "AND escalation_requested_at IS NOT NULL", [TAU_SUPPLIER])  # fmt: skip
    assert {r[0]: r[1] for r in esc} == summaries
    assert all(r[2] is True and r[3] is None for r in esc)


def test_tau_turns_follow_the_messages(loaded, tau):
    con, _ = loaded
    speaker = {"user": "customer", "assistant": "ai_agent", "tool": "system"}
    expected: dict[str, list[tuple]] = {}
    for item in tau:
        turns = []
        for m in item["traj"]:
            if m["role"] == "system":
                continue
            calls = m.get("tool_calls") or []
            assert len(calls) <= 1  # one call per message in this data, so one turn per message
            action = calls[0]["function"]["name"] if calls else None
            text = m["content"]
            if m["role"] == "tool" and not text.strip():
                text = "(empty tool result)"
            elif calls:
                shown = f"[tool] {action}({calls[0]['function']['arguments']})"
                text = f"{text}\n{shown}" if text else shown
            turns.append((speaker[m["role"]], text, action))
        assert len(turns) == len(item["traj"]) - sum(m["role"] == "system" for m in item["traj"])
        expected[_tau_id(item)] = turns
    got: dict[str, list[tuple]] = {}
    for cid, idx, spk, text, action, sent_at in rows(
        con,
        "SELECT conversation_id, turn_index, speaker, text, action, sent_at FROM turns "
        "WHERE supplier = ? ORDER BY conversation_id, turn_index",
        [TAU_SUPPLIER],
    ):
        assert sent_at is None  # no timestamps on tau-bench turns
        assert idx == len(got.setdefault(cid, [])) + 1
        got[cid].append((spk, text, action))
    assert got == expected
    n_turns = dict(
        rows(con, "SELECT conversation_id, n_turns FROM conversations WHERE supplier = ?", [TAU_SUPPLIER])
    )
    assert n_turns == {cid: len(t) for cid, t in expected.items()}


def test_tau_trials_are_not_repeat_contacts(loaded):
    con, _ = loaded
    assert rows(
        con,
        "SELECT count(*) FILTER (WHERE is_repeat_contact) FROM conversations WHERE supplier = ?",
        [TAU_SUPPLIER],
    ) == [(0,)]


def test_tau_conversation_fields(loaded, tau):
    con, _ = loaded
    by_id = {_tau_id(item): item for item in tau}
    for cid, started, customer, journey, metadata in rows(
        con,
        "SELECT conversation_id, strftime(started_at, '%Y-%m-%dT%H:%M:%SZ'), customer_id, journey, metadata "
        "FROM conversations WHERE supplier = ?",
        [TAU_SUPPLIER],
    ):
        item = by_id[cid]
        meta = json.loads(metadata)
        assert started == "2024-05-15T20:00:00Z"  # 15:00 EST, the policy's clock
        assert customer is None  # trials are replays, not repeat contacts
        assert meta["user_id"] == item["info"]["task"]["user_id"]
        assert meta["source"] == "tau-bench" and meta["timestamps_synthetic"] is True
        assert (meta["task_id"], meta["trial"], meta["reward"]) == (
            item["task_id"],
            item["trial"],
            item["reward"],
        )
        assert meta["instruction"] == item["info"]["task"]["instruction"]
        assert meta["expected_actions"] == [a["name"] for a in item["info"]["task"]["actions"]]
        names = {a["name"] for a in item["info"]["task"]["actions"]}
        if "book_reservation" in names:
            assert "book" in journey.split("+")
        if "cancel_reservation" in names:
            assert "cancel" in journey.split("+")
        if "update_reservation_flights" in names:
            assert "modify" in journey.split("+")


# ---------------------------------------------------------------------------------------------
# tau-bench policy
# ---------------------------------------------------------------------------------------------


def test_wiki_sections_become_articles(loaded):
    con, results = loaded
    text = WIKI.read_text(encoding="utf-8")
    headings = [line[3:].strip() for line in text.splitlines() if line.startswith("## ")]
    r = results[WIKI.name]
    assert (r.status, r.kind, r.records_loaded, r.records_quarantined) == (
        "loaded",
        "kb_articles",
        len(headings) + 1,
        0,
    )
    got = rows(con, "SELECT article_id, version, title, body, strftime(updated_at, '%Y-%m-%dT%H:%M:%SZ') "
                    "FROM kb_articles WHERE article_id LIKE 'airline-policy/%' ORDER BY source_line")  # fmt: skip
    assert len(got) == len(headings) + 1
    assert [g[0] for g in got] == ["airline-policy/general"] + [
        "airline-policy/" + re.sub(r"[^a-z0-9]+", "-", h.lower()).strip("-") for h in headings
    ]
    assert [g[2] for g in got[1:]] == headings
    assert {g[1] for g in got} == {"1"} and {g[4] for g in got} == {"2024-05-15T05:00:00Z"}
    bodies = {g[0]: g[3] for g in got}
    assert bodies["airline-policy/general"].startswith("The current time is 2024-05-15 15:00:00 EST.")
    assert "at most five passengers" in bodies["airline-policy/book-flight"]
    assert "## " not in "".join(bodies.values())


def test_tool_calls_cite_the_policy_section_that_governs_them(loaded):
    con, _ = loaded
    cited = dict(rows(con, "SELECT action, list_distinct(flatten(list(kb_article_ids))) FROM turns "
                           "WHERE supplier = ? AND kb_article_ids IS NOT NULL GROUP BY 1", [TAU_SUPPLIER]))  # fmt: skip
    assert cited == {
        "book_reservation": ["airline-policy/book-flight"],
        "update_reservation_flights": ["airline-policy/modify-flight"],
        "update_reservation_baggages": ["airline-policy/modify-flight"],
        "update_reservation_passengers": ["airline-policy/modify-flight"],
        "cancel_reservation": ["airline-policy/cancel-flight"],
        "send_certificate": ["airline-policy/refund"],
        TRANSFER: ["airline-policy/general"],
    }
    dangling = rows(con, "SELECT DISTINCT k FROM (SELECT unnest(kb_article_ids) AS k FROM turns) "
                         "WHERE k NOT IN (SELECT article_id FROM kb_articles)")  # fmt: skip
    assert dangling == []


# ---------------------------------------------------------------------------------------------
# ABCD
# ---------------------------------------------------------------------------------------------


def test_abcd_conversations(loaded, abcd_convos):
    con, results = loaded
    r = results[ABCD_SAMPLE.name]
    assert (r.status, r.kind, r.records_loaded, r.records_quarantined) == ("loaded", "conversations", 3, 0)
    assert len(abcd_convos) == 3
    got = {
        row[0]: row[1:]
        for row in rows(con, "SELECT conversation_id, handler, channel, n_turns, journey, customer_id, "
                             "strftime(started_at, '%Y-%m-%dT%H:%M:%SZ') FROM conversations WHERE supplier = 'abcd-human'")
    }  # fmt: skip
    assert set(got) == {f"abcd-{c['convo_id']}" for c in abcd_convos}
    sql = "SELECT conversation_id, source_line FROM conversations WHERE supplier = 'abcd-human'"
    assert dict(rows(con, sql)) == {f"abcd-{c['convo_id']}": n for n, c in enumerate(abcd_convos, start=1)}
    speaker = {"agent": "human_agent", "customer": "customer", "action": "system"}
    for c in abcd_convos:
        cid = f"abcd-{c['convo_id']}"
        handler, channel, n_turns, journey, customer, started = got[cid]
        assert (handler, channel, n_turns) == ("human", "chat", len(c["original"]))
        assert journey == f"{c['scenario']['flow']}/{c['scenario']['subflow']}"
        assert customer == c["scenario"]["personal"].get("username")
        assert started == "2020-01-01T00:00:00Z"
        turns = rows(
            con,
            "SELECT speaker, text, action FROM turns WHERE conversation_id = ? ORDER BY turn_index",
            [cid],
        )
        expected = [
            (speaker[s], text, d["targets"][2] if s == "action" else None)
            for (s, text), d in zip(c["original"], c["delexed"], strict=True)
        ]
        assert turns == expected


def test_abcd_metadata_holds_no_personal_details(loaded, abcd_convos):
    con, _ = loaded
    stored = dict(
        rows(con, "SELECT conversation_id, metadata FROM conversations WHERE supplier = 'abcd-human'")
    )
    checked = 0
    for c in abcd_convos:
        meta = stored[f"abcd-{c['convo_id']}"].lower()
        personal = c["scenario"]["personal"]
        order = c["scenario"].get("order", {})
        secrets = [personal.get(k) for k in ("customer_name", "email", "phone")]
        secrets += [order.get(k) for k in ("street_address", "full_address")]
        for secret in filter(None, secrets):
            checked += 1
            assert secret.lower() not in meta, f"{secret!r} leaked into metadata"
        assert json.loads(stored[f"abcd-{c['convo_id']}"])["flow"] == c["scenario"]["flow"]
    assert checked >= 10  # names, phones and addresses of all three, emails of two


def test_abcd_guidelines_become_articles(loaded):
    con, results = loaded
    guidelines = _json(GUIDELINES)
    sequences = _json(KB_SEQUENCES)
    n_subflows = sum(len(flow["subflows"]) for flow in guidelines.values())
    r = results[GUIDELINES.name]
    assert (r.status, r.kind, r.records_loaded, r.records_quarantined) == (
        "loaded",
        "kb_articles",
        n_subflows,
        0,
    )
    got = rows(
        con,
        "SELECT article_id, title, body FROM kb_articles WHERE article_id LIKE 'abcd/%' ORDER BY source_line",
    )
    assert len(got) == n_subflows == 55
    assert [g[1] for g in got] == [
        f"{f} > {s}" for f, flow in guidelines.items() for s in flow["subflows"]
    ]  # in order
    by_id = {g[0]: g[2] for g in got}
    size = by_id["abcd/product-defect/return-size"]
    assert "[Membership Privileges]" in size and "Gold members get unlimited returns" in size
    assert size.endswith("Required actions: " + " -> ".join(sequences["return_size"]))
    assert by_id["abcd/account-access/reset-2fa"].endswith(" -> ".join(sequences["reset_2fa"]))
    with_sequence = sum(1 for body in by_id.values() if "\nRequired actions: " in body)
    assert with_sequence == len(sequences) == 55
    # the ABCD conversations' action turns cite their subflow's article, which exists
    cited = rows(
        con, "SELECT DISTINCT unnest(kb_article_ids) FROM turns WHERE supplier = 'abcd-human' ORDER BY 1"
    )
    assert [c[0] for c in cited] == [
        "abcd/product-defect/refund-status",
        "abcd/product-defect/return-size",
        "abcd/storewide-query/timing",
    ]
    assert all(c[0] in by_id for c in cited)


# ---------------------------------------------------------------------------------------------
# Loading again, folders, bad input
# ---------------------------------------------------------------------------------------------


def test_loading_the_same_file_again_changes_nothing(loaded):
    con, _ = loaded
    snapshot_sql = (
        "SELECT (SELECT count(*) FROM loads), (SELECT count(*) FROM conversations), (SELECT count(*) FROM turns), "
        "(SELECT count(*) FROM kb_articles), (SELECT count(*) FROM quarantine), "
        "(SELECT string_agg(content_hash, ',' ORDER BY supplier, conversation_id) FROM conversations), "
        "(SELECT string_agg(content_hash, ',' ORDER BY article_id) FROM kb_articles)"
    )
    before = rows(con, snapshot_sql)
    for fmt, path in (
        ("tau-bench", TRAJECTORIES),
        ("tau-bench", WIKI),
        ("abcd", ABCD_SAMPLE),
        ("abcd", GUIDELINES),
    ):
        again = load_file(con, path, fmt=fmt)
        assert again.status == "already loaded", path
        assert again.previous_path == str(path)
        assert again.records_loaded == 0
    assert rows(con, snapshot_sql) == before


def test_adapter_files_pick_each_adapters_files():
    _require_data()
    assert adapter_files("tau-bench", TAU) == [WIKI, TRAJECTORIES]  # not LICENSE
    assert adapter_files("abcd", ABCD) == [ABCD_SAMPLE, GUIDELINES]  # not kb.json, ontology.json, LICENSE
    # from the folder above both, each adapter still takes only its own files (not README.md)
    assert adapter_files("tau-bench", SHARED) == [WIKI, TRAJECTORIES]
    assert adapter_files("abcd", SHARED) == [ABCD_SAMPLE, GUIDELINES]


def test_unknown_adapter_is_a_config_error(tmp_path):
    assert ADAPTERS == ("tau-bench", "abcd")
    with pytest.raises(ConfigError, match="unknown adapter"):
        adapter_lines("zendesk", tmp_path / "x.json")
    with pytest.raises(ConfigError, match="unknown adapter"):
        adapter_files("zendesk", tmp_path)


def _small_tau(tau: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    return json.loads(json.dumps(tau[:n]))


def test_bad_tau_files_raise_adapter_errors_and_write_nothing(con, tmp_path, tau):
    obj = tmp_path / "object.json"
    obj.write_text(json.dumps({"task_id": 1, "traj": []}))
    with pytest.raises(AdapterError, match="expected a JSON array of trajectories, got an object") as err:
        load_file(con, obj, fmt="tau-bench")
    assert err.value.path == str(obj)

    items = _small_tau(tau, 3)
    del items[1]["traj"]
    no_traj = tmp_path / "no_traj.json"
    no_traj.write_text(json.dumps(items))
    with pytest.raises(AdapterError, match="missing key 'traj'") as err:
        load_file(con, no_traj, fmt="tau-bench")
    assert (err.value.path, err.value.line, err.value.field) == (str(no_traj), 2, "traj")

    items = _small_tau(tau, 3)
    items[2]["traj"][1]["role"] = "robot"
    robot = tmp_path / "robot.json"
    robot.write_text(json.dumps(items))
    with pytest.raises(AdapterError, match="unknown role 'robot'") as err:
        load_file(con, robot, fmt="tau-bench")
    assert (err.value.line, err.value.field) == (3, "traj[1].role")

    broken = tmp_path / "broken.json"
    broken.write_text('[{"task_id": 1,\n "traj": [}]')
    with pytest.raises(AdapterError, match="not valid JSON") as err:
        load_file(con, broken, fmt="tau-bench")
    assert err.value.line == 2  # the line of the file where the JSON breaks

    assert count(con, "SELECT count(*) FROM loads") == 0
    assert count(con, "SELECT count(*) FROM conversations") == 0


def test_record_line_is_the_items_position(con, tmp_path, tau):
    items = _small_tau(tau, 4)
    first_user = next(m for m in items[1]["traj"] if m["role"] == "user")
    first_user["content"] = "   "  # a value problem: the contract quarantines the record, not the file
    path = tmp_path / "four.json"
    path.write_text(json.dumps(items))
    result = load_file(con, path, fmt="tau-bench")
    assert (result.records_read, result.records_loaded, result.records_quarantined) == (4, 3, 1)
    assert rows(con, "SELECT line, record_id FROM quarantine") == [(2, _tau_id(items[1]))]
    reasons = warehouse.scalar(con, "SELECT reasons FROM quarantine")
    assert [(r["field"], r["rule"]) for r in reasons] == [("turns[1].text", "turn")]
    stored = rows(con, "SELECT conversation_id, source_line FROM conversations ORDER BY source_line")
    assert stored == [(_tau_id(items[n - 1]), n) for n in (1, 3, 4)]


def test_bad_abcd_files_raise_adapter_errors(con, tmp_path, abcd_convos):
    not_a_list = tmp_path / "convos.json"
    not_a_list.write_text(json.dumps({"convo_id": 1}))
    with pytest.raises(AdapterError, match="expected a JSON array of ABCD conversations") as err:
        load_file(con, not_a_list, fmt="abcd")
    assert err.value.path == str(not_a_list)

    items = json.loads(json.dumps(abcd_convos))
    del items[2]["scenario"]["flow"]
    no_flow = tmp_path / "no_flow.json"
    no_flow.write_text(json.dumps(items))
    with pytest.raises(AdapterError, match="missing key 'flow'") as err:
        load_file(con, no_flow, fmt="abcd")
    assert (err.value.line, err.value.field) == (3, "scenario.flow")

    items = json.loads(json.dumps(abcd_convos))
    items[0]["original"][4] = ["manager", "hello"]
    speaker = tmp_path / "speaker.json"
    speaker.write_text(json.dumps(items))
    with pytest.raises(AdapterError, match="unknown speaker 'manager'") as err:
        load_file(con, speaker, fmt="abcd")
    assert (err.value.line, err.value.field) == (1, "original[4][0]")

    with pytest.raises(AdapterError, match="companion of guidelines.json") as err:
        load_file(con, KB_SEQUENCES, fmt="abcd")
    assert err.value.path == str(KB_SEQUENCES)
    assert count(con, "SELECT count(*) FROM loads") == 0
