"""Loading JSON lines: good records load, each kind of bad input is quarantined with its reason."""

from __future__ import annotations

import gzip
import json

import pytest

from audits import warehouse
from audits.errors import InputError
from audits.ingest.load import load_file
from tests.conftest import conv, write_jsonl


def reasons(con, line: int) -> list[dict]:
    rows = con.execute("SELECT reasons FROM quarantine WHERE line = ?", [line]).fetchall()
    assert rows, f"line {line} is not in quarantine"
    return rows[0][0]


def fields_of(con, line: int) -> set[str]:
    return {r["field"] for r in reasons(con, line)}


def count(con, table: str) -> int:
    return warehouse.scalar(con, f"SELECT count(*) FROM {table}")


def test_good_records_load_with_all_fields(con, tmp_path):
    rec = conv(
        agent_ids=["a-1"],
        automation={"failed": True, "reason": "no intent"},
        escalation={
            "requested_at": "2026-11-01T10:01:00+08:00",
            "handed_off_at": "2026-11-01T10:01:45+08:00",
            "reason": "asked for a human",
        },
        metadata={"queue": "vip"},
    )
    path = write_jsonl(tmp_path / "a.jsonl", [rec])
    result = load_file(con, path)
    assert (result.records_loaded, result.records_quarantined, result.turns_loaded) == (1, 0, 3)
    row = con.execute(
        "SELECT supplier, channel, handler, started_at, market, csat, automation_failed, automation_reason, "
        "agent_ids, metadata, handoff_latency_seconds, first_response_seconds, n_turns, n_ai_agent_turns, "
        "n_customer_turns FROM conversations"
    ).fetchall()[0]
    assert row[0:3] == ("acme-bpo", "chat", "ai")
    assert row[3].isoformat() == "2026-11-01T02:00:00+00:00"  # stored in UTC
    assert row[4:8] == ("SG", 4, True, "no intent")
    assert row[8] == ["a-1"]
    assert json.loads(row[9]) == {"queue": "vip"}
    assert row[10] == 45.0  # hand-off latency: requested 10:01:00, handed off 10:01:45
    assert row[11] == 6.0  # first response: customer at 10:00:20, agent at 10:00:26
    assert row[12:] == (3, 2, 1)
    turns = con.execute(
        "SELECT turn_index, speaker, kb_article_ids FROM turns ORDER BY turn_index"
    ).fetchall()
    assert turns[2] == (3, "ai_agent", ["kb-refund"])


def test_malformed_json_is_quarantined_and_neighbours_load(con, tmp_path):
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [conv(conversation_id="c1"), '{"conversation_id": "c2",', conv(conversation_id="c3")],
    )
    result = load_file(con, path)
    assert (result.records_loaded, result.records_quarantined) == (2, 1)
    (r,) = reasons(con, 2)
    assert r["rule"] == "parse" and r["message"].startswith("malformed JSON:")
    assert con.execute("SELECT path FROM quarantine").fetchall() == [(str(path),)]


def test_a_line_that_is_not_an_object(con, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", ["[1, 2]", conv()])
    load_file(con, path)
    assert reasons(con, 1)[0]["message"] == "not a JSON object, but an array"


@pytest.mark.parametrize(
    "missing", ["conversation_id", "supplier", "channel", "handler", "started_at", "turns"]
)
def test_missing_required_field(con, tmp_path, missing):
    path = write_jsonl(tmp_path / "a.jsonl", [conv(**{missing: ...}), conv(conversation_id="ok")])
    result = load_file(con, path)
    assert (result.records_loaded, result.records_quarantined) == (1, 1)
    assert {"field": missing, "rule": "required", "message": "required field is missing"} in reasons(con, 1)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("csat", "5", "expected an integer, got a string"),
        ("csat", 4.5, "expected an integer, got a number"),
        ("conversation_id", 17, "expected a string, got an integer"),
        ("agent_ids", "a-1", "expected an array of strings, got a string"),
        ("agent_ids", ["a", 2], "expected an array of strings"),
        ("metadata", [1], "expected an object, got an array"),
        ("turns", {"speaker": "customer"}, "expected an array, got an object"),
        ("started_at", 1730000000, "expected an RFC 3339 timestamp string, got an integer"),
        ("ended_at", "2026-02-30T10:00:00+08:00", "2026-02-30T10:00:00+08:00 is not a real date and time"),
    ],
)
def test_wrong_types_name_the_field(con, tmp_path, field, value, message):
    path = write_jsonl(tmp_path / "a.jsonl", [conv(**{field: value})])
    result = load_file(con, path)
    assert result.records_quarantined == 1
    got = [r for r in reasons(con, 1) if r["field"] == field and r["rule"] == "type"]
    assert [r["message"] for r in got] == [message]


@pytest.mark.parametrize(
    ("field", "value", "rule", "message"),
    [
        ("channel", "fax", "allowed_values", "fax is not one of voice, chat, whatsapp, email, sms, social"),
        ("handler", "robot", "allowed_values", "robot is not one of ai, human, hybrid"),
        ("outcome", "fine", "allowed_values", "fine is not one of resolved, unresolved, escalated, abandoned, transferred"),
        ("csat", 0, "range", "0 is not between 1 and 5"),
        ("csat", 6, "range", "6 is not between 1 and 5"),
        ("market", "sgp", "format", "sgp is not an ISO 3166 alpha-2 code"),
        ("started_at", "2026-11-01T10:00:00", "format", "2026-11-01T10:00:00 is not an RFC 3339 timestamp with a UTC offset"),
        ("started_at", "yesterday", "format", "yesterday is not an RFC 3339 timestamp with a UTC offset"),
        ("turns", [], "range", "a conversation needs at least one turn"),
    ],
)  # fmt: skip
def test_values_outside_the_contract(con, tmp_path, field, value, rule, message):
    path = write_jsonl(tmp_path / "a.jsonl", [conv(**{field: value})])
    load_file(con, path)
    assert {"field": field, "rule": rule, "message": message} in reasons(con, 1)


def test_timestamps_out_of_order(con, tmp_path):
    turns = [
        {"speaker": "customer", "text": "a", "at": "2026-11-01T10:00:05+08:00"},
        {"speaker": "ai_agent", "text": "b", "at": "2026-11-01T10:00:01+08:00"},
    ]
    bad_end = conv(conversation_id="c2", ended_at="2026-11-01T09:00:00+08:00")
    bad_handoff = conv(
        conversation_id="c3",
        escalation={
            "requested_at": "2026-11-01T10:05:00+08:00",
            "handed_off_at": "2026-11-01T10:04:00+08:00",
        },
    )
    path = write_jsonl(tmp_path / "a.jsonl", [conv(turns=turns), bad_end, bad_handoff])
    result = load_file(con, path)
    assert result.records_quarantined == 3
    assert reasons(con, 1) == [
        {
            "field": "turns[2].at",
            "rule": "turn",
            "message": "2026-11-01T02:00:01Z is earlier than the turn before it (2026-11-01T02:00:05Z)",
        }
    ]
    assert reasons(con, 2)[0]["field"] == "ended_at" and reasons(con, 2)[0]["rule"] == "order"
    assert reasons(con, 3)[0]["field"] == "escalation.handed_off_at"


def test_bad_turns_are_named_by_position(con, tmp_path):
    turns = [
        {"speaker": "customer", "text": "hello"},
        {"speaker": "bot", "text": ""},
        {"text": "who?"},
        "not a turn",
        {"speaker": "ai_agent", "text": 5, "kb_article_ids": "kb-1"},
    ]
    path = write_jsonl(tmp_path / "a.jsonl", [conv(turns=turns)])
    load_file(con, path)
    got = {(r["field"], r["message"]) for r in reasons(con, 1)}
    assert got == {
        ("turns[2].speaker", "bot is not one of customer, ai_agent, human_agent, system"),
        ("turns[2].text", "is empty"),
        ("turns[3].speaker", "required field is missing"),
        ("turns[4]", "expected an object, got a string"),
        ("turns[4].speaker", "required field is missing"),
        ("turns[4].text", "required field is missing"),
        ("turns[5].text", "expected a string, got an integer"),
        ("turns[5].kb_article_ids", "expected an array of strings, got a string"),
    }


def test_duplicate_ids_within_a_file_hold_back_every_copy(con, tmp_path):
    other_supplier = conv(supplier="other-bpo")  # same id, other supplier: allowed
    path = write_jsonl(
        tmp_path / "a.jsonl", [conv(), conv(csat=1), other_supplier, conv(conversation_id="c9")]
    )
    result = load_file(con, path)
    assert (result.records_loaded, result.records_quarantined) == (2, 2)
    assert reasons(con, 2) == [
        {
            "field": "conversation_id",
            "rule": "duplicate_id",
            "message": "c1 appears 2 times in this file (first on line 1); all copies are held back",
        }
    ]
    assert sorted(con.execute("SELECT supplier, conversation_id FROM conversations").fetchall()) == [
        ("acme-bpo", "c9"),
        ("other-bpo", "c1"),
    ]


def test_non_utf8_bytes(con, tmp_path):
    good = json.dumps(conv(conversation_id="c2")).encode()
    bad = json.dumps(conv()).encode().replace(b"Where", b"Wh\xe9re")
    path = write_jsonl(tmp_path / "a.jsonl", [bad, good])
    result = load_file(con, path)
    assert (result.records_loaded, result.records_quarantined) == (1, 1)
    (r,) = reasons(con, 1)
    assert r["message"].startswith("not valid UTF-8: byte 0xe9 at column ")
    raw = warehouse.scalar(con, "SELECT raw FROM quarantine")
    assert raw == bad  # kept exactly as received


def test_markup_and_sql_in_text_are_stored_verbatim(con, tmp_path):
    evil = [
        "<script>alert('x')</script>",
        "'); DROP TABLE conversations; --",
        "Robert'); DELETE FROM turns WHERE ('1'='1",
        "emoji 🙂 and Thai ขอบคุณ and NUL-free \u202e override",
    ]
    turns = [{"speaker": "customer", "text": t} for t in evil]
    path = write_jsonl(tmp_path / "a.jsonl", [conv(turns=turns, journey="<b>refund</b>")])
    assert load_file(con, path).records_loaded == 1
    stored = [r[0] for r in con.execute("SELECT text FROM turns ORDER BY turn_index").fetchall()]
    assert stored == evil
    assert warehouse.scalar(con, "SELECT journey FROM conversations") == "<b>refund</b>"


def test_a_5_mb_transcript_loads_whole(con, tmp_path):
    big = "lorem ipsum dolor sit amet " * (5 * 1024 * 1024 // 27 + 1)
    path = write_jsonl(tmp_path / "a.jsonl", [conv(turns=[{"speaker": "customer", "text": big}])])
    assert load_file(con, path).records_loaded == 1
    assert warehouse.scalar(con, "SELECT length(text) FROM turns") == len(big)


def test_records_over_the_size_limit_are_quarantined_not_truncated(con, tmp_path):
    big = conv(turns=[{"speaker": "customer", "text": "x" * 5000}])
    path = write_jsonl(tmp_path / "a.jsonl", [big, conv(conversation_id="c2")])
    result = load_file(con, path, max_record_bytes=4096)
    assert (result.records_loaded, result.records_quarantined) == (1, 1)
    (r,) = reasons(con, 1)
    assert "over the limit of 4096" in r["message"]
    assert len(warehouse.scalar(con, "SELECT raw FROM quarantine")) > 5000


def test_unknown_fields_are_kept(con, tmp_path):
    rec = conv(sentiment="angry", automation={"failed": False, "engine": "v2"})
    rec["turns"][0]["confidence"] = 0.93
    path = write_jsonl(tmp_path / "a.jsonl", [rec])
    load_file(con, path)
    extra = json.loads(warehouse.scalar(con, "SELECT extra FROM conversations"))
    assert extra == {"sentiment": "angry", "automation": {"engine": "v2"}}
    turn_extra = warehouse.scalar(con, "SELECT extra FROM turns WHERE turn_index = 1")
    assert json.loads(turn_extra) == {"confidence": 0.93}


def test_blank_lines_bom_crlf_and_gzip(con, tmp_path):
    body = (
        b"\xef\xbb\xbf"
        + json.dumps(conv()).encode()
        + b"\r\n\r\n   \n"
        + json.dumps(conv(conversation_id="c2")).encode()
    )
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(gzip.compress(body))
    result = load_file(con, path)
    assert (result.records_loaded, result.records_quarantined, result.blank_lines) == (2, 0, 2)
    assert warehouse.scalar(con, "SELECT max(source_line) FROM conversations") == 4


def test_the_same_file_twice_changes_nothing(con, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [conv(), "oops"])
    first = load_file(con, path)
    snapshot = {t: count(con, t) for t in ("conversations", "turns", "quarantine", "loads")}
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(path.read_bytes())
    for again in (path, copy):
        second = load_file(con, again)
        assert second.status == "already loaded"
        assert second.previous_path == str(path)
    assert {t: count(con, t) for t in snapshot} == snapshot
    assert first.status == "loaded"


def test_a_corrected_re_export_replaces_the_conversations(con, tmp_path):
    load_file(
        con,
        write_jsonl(
            tmp_path / "day1.jsonl", [conv(conversation_id="c1", csat=2), conv(conversation_id="c2")]
        ),
    )
    fixed_turns = [{"speaker": "customer", "text": "only one turn now"}]
    result = load_file(
        con,
        write_jsonl(tmp_path / "day1-fixed.jsonl", [conv(conversation_id="c1", csat=5, turns=fixed_turns)]),
    )
    assert (result.records_loaded, result.records_new, result.records_replaced) == (1, 0, 1)
    assert con.execute("SELECT conversation_id, csat, n_turns FROM conversations ORDER BY 1").fetchall() == [
        ("c1", 5, 1),
        ("c2", 4, 3),
    ]
    assert warehouse.scalar(con, "SELECT count(*) FROM turns WHERE conversation_id = 'c1'") == 1


def test_a_bad_correction_does_not_remove_the_good_original(con, tmp_path):
    load_file(con, write_jsonl(tmp_path / "a.jsonl", [conv()]))
    result = load_file(con, write_jsonl(tmp_path / "b.jsonl", [conv(channel="fax")]))
    assert (result.records_loaded, result.records_quarantined) == (0, 1)
    assert warehouse.scalar(con, "SELECT channel FROM conversations") == "chat"


def test_content_hash_is_stable_and_sensitive(con, tmp_path):
    load_file(
        con,
        write_jsonl(tmp_path / "a.jsonl", [conv(conversation_id="c1"), conv(conversation_id="c2", csat=5)]),
    )
    hashes = dict(con.execute("SELECT conversation_id, content_hash FROM conversations").fetchall())
    assert len(hashes["c1"]) == 64 and hashes["c1"] != hashes["c2"]
    # the same record in another file (different bytes: other key order) hashes the same
    reordered = json.dumps(dict(reversed(list(conv(conversation_id="c1").items()))))
    load_file(con, write_jsonl(tmp_path / "b.jsonl", [reordered]))
    assert (
        warehouse.scalar(con, "SELECT content_hash FROM conversations WHERE conversation_id = 'c1'")
        == hashes["c1"]
    )


def test_repeat_contact_within_the_window(con, tmp_path):
    def visit(cid, day, customer="cust-1", journey="refund"):
        return conv(conversation_id=cid, customer_id=customer, journey=journey,
                    started_at=f"2026-11-{day:02d}T10:00:00+08:00", ended_at=...,
                    turns=[{"speaker": "customer", "text": "hi"}])  # fmt: skip

    load_file(con, write_jsonl(tmp_path / "a.jsonl", [visit("v1", 1), visit("v2", 5), visit("v3", 20)]))
    # a later file adds a contact between v2 and v3, and one on another journey
    load_file(con, write_jsonl(tmp_path / "b.jsonl", [visit("v4", 14), visit("v5", 2, journey="billing")]))
    rows = con.execute(
        "SELECT conversation_id, is_repeat_contact, repeat_of, followed_by_repeat FROM conversations ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("v1", False, None, True),  # v2 came 4 days later
        ("v2", True, "v1", False),  # v4 is 9 days later: outside 7
        ("v3", True, "v4", False),  # 6 days after v4
        ("v4", False, None, True),
        ("v5", False, None, False),  # other journey
    ]


def test_a_correction_that_changes_the_customer_clears_the_old_repeat(con, tmp_path):
    first = [
        conv(conversation_id="v1", started_at="2026-11-01T10:00:00+08:00", ended_at=...),
        conv(conversation_id="v2", started_at="2026-11-03T10:00:00+08:00", ended_at=...),
    ]
    load_file(con, write_jsonl(tmp_path / "a.jsonl", first))
    assert con.execute(
        "SELECT followed_by_repeat FROM conversations WHERE conversation_id = 'v1'"
    ).fetchall() == [(True,)]
    fixed = conv(
        conversation_id="v2", customer_id="cust-2", started_at="2026-11-03T10:00:00+08:00", ended_at=...
    )
    load_file(con, write_jsonl(tmp_path / "b.jsonl", [fixed]))
    assert con.execute(
        "SELECT followed_by_repeat FROM conversations WHERE conversation_id = 'v1'"
    ).fetchall() == [(False,)]


def test_changing_the_repeat_window_recomputes_everything(con, tmp_path):
    recs = [
        conv(conversation_id="v1", started_at="2026-11-01T10:00:00+08:00", ended_at=...),
        conv(conversation_id="v2", started_at="2026-11-11T10:00:00+08:00", ended_at=...),
    ]
    load_file(con, write_jsonl(tmp_path / "a.jsonl", recs))
    assert warehouse.scalar(con, "SELECT count_if(is_repeat_contact) FROM conversations") == 0
    load_file(con, write_jsonl(tmp_path / "b.jsonl", [conv(conversation_id="z", customer_id="other")]),
              repeat_window_days=14)  # fmt: skip
    assert warehouse.scalar(con, "SELECT count_if(is_repeat_contact) FROM conversations") == 1


def test_kb_articles_jsonl(con, tmp_path):
    arts = [
        {"article_id": "kb-refund", "version": "1", "title": "Refunds", "body": "14 days", "updated_at": "2026-01-01T00:00:00Z"},
        {"article_id": "kb-refund", "version": 2, "title": "Refunds", "body": "30 days", "updated_at": "2026-06-01T00:00:00Z"},
        {"article_id": "kb-refund", "version": "2", "title": "dup", "body": "x", "updated_at": "2026-06-01T00:00:00Z"},
        {"article_id": "kb-x", "version": "1", "title": "No date", "body": "y"},
    ]  # fmt: skip
    result = load_file(con, write_jsonl(tmp_path / "kb.jsonl", arts))
    assert result.kind == "kb_articles"
    assert (result.records_loaded, result.records_quarantined) == (1, 3)
    assert con.execute("SELECT article_id, version, body FROM kb_articles").fetchall() == [
        ("kb-refund", "1", "14 days")
    ]
    assert {r["rule"] for r in reasons(con, 2)} == {"duplicate_id"}
    assert {"field": "updated_at", "rule": "required", "message": "required field is missing"} in reasons(
        con, 4
    )


def test_a_missing_file_is_an_input_error(con, tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_file(con, tmp_path / "nope.jsonl")


def test_a_crash_mid_file_leaves_no_rows(con, tmp_path, monkeypatch):
    from audits.ingest import derive

    load_file(con, write_jsonl(tmp_path / "a.jsonl", [conv(conversation_id="keep")]))
    before = {t: count(con, t) for t in ("conversations", "turns", "quarantine", "loads")}

    def boom(*args, **kwargs):
        raise RuntimeError("power cut")

    # conversations and turns are already inserted when the repeat-contact update runs
    monkeypatch.setattr(derive, "refresh_repeat_contacts", boom)
    path = write_jsonl(
        tmp_path / "b.jsonl", [conv(conversation_id="new"), conv(conversation_id="keep", csat=1), "bad"]
    )
    with pytest.raises(RuntimeError, match="power cut"):
        load_file(con, path)
    assert {t: count(con, t) for t in before} == before
    assert warehouse.scalar(con, "SELECT csat FROM conversations WHERE conversation_id = 'keep'") == 4
    monkeypatch.undo()
    assert load_file(con, path).records_loaded == 2  # and the file can be loaded afterwards


def test_a_killed_process_leaves_no_rows(wh, tmp_path):
    """A hard kill (no Python clean-up at all) inside the transaction."""
    import subprocess
    import sys

    path = write_jsonl(tmp_path / "a.jsonl", [conv(conversation_id=f"c{i}") for i in range(50)])
    script = f"""
import os
from audits import warehouse
from audits.ingest import derive, load
def die(*a, **k):
    os._exit(9)
derive.refresh_repeat_contacts = die
con = warehouse.connect({str(wh)!r})
load.load_file(con, {str(path)!r})
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    con = warehouse.connect(wh)
    try:
        assert [count(con, t) for t in ("conversations", "turns", "loads")] == [0, 0, 0]
        assert load_file(con, path).records_loaded == 50
    finally:
        con.close()


def test_a_truncated_gzip_is_an_input_error_and_nothing_loads(con, tmp_path):
    whole = gzip.compress(b"\n".join(json.dumps(conv(conversation_id=f"c{i}")).encode() for i in range(200)))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match="cut.jsonl.gz: cannot be read"):
        load_file(con, path)
    assert count(con, "conversations") == 0 and count(con, "loads") == 0


def test_a_failed_file_does_not_disturb_the_next(con, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"conversation_id": ["x"]}), tmp_path / "bad.conversations.parquet")
    pq.write_table(pa.table({"conversation_id": ["x"], "turn_index": [1]}), tmp_path / "bad.turns.parquet")
    with pytest.raises(InputError, match="required column is missing"):
        load_file(con, tmp_path / "bad.conversations.parquet")
    assert load_file(con, write_jsonl(tmp_path / "a.jsonl", [conv()])).records_loaded == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("started_at", "2026-11-01T10:00:00+08:00\n", "2026-11-01T10:00:00+08:00\n is not an RFC 3339 timestamp with a UTC offset"),
        ("market", "SG\n", "SG\n is not an ISO 3166 alpha-2 code"),
        ("started_at", "２０２６-11-01T10:00:00+08:00", "２０２６-11-01T10:00:00+08:00 is not an RFC 3339 timestamp with a UTC offset"),
    ],
)  # fmt: skip
def test_regex_rules_agree_with_great_expectations_on_edge_text(con, tmp_path, field, value, message):
    """Python's `$` matches before a final newline and its `\\d` takes any script's digits: GX and
    the SQL must still count the same records (else the load stops with ContractMismatch)."""
    result = load_file(
        con, write_jsonl(tmp_path / "a.jsonl", [conv(**{field: value}), conv(conversation_id="ok")])
    )
    assert (result.records_loaded, result.records_quarantined) == (1, 1)
    assert {"field": field, "rule": "format", "message": message} in reasons(con, 1)


@pytest.mark.parametrize("name", ["automation", "escalation"])
def test_nested_objects_of_the_wrong_type_are_not_dropped(con, tmp_path, name):
    load_file(con, write_jsonl(tmp_path / "a.jsonl", [conv(**{name: "failed: bot crashed"})]))
    assert reasons(con, 1) == [
        {
            "field": name,
            "rule": "type",
            "message": f"{name}: expected an object, got a string"[len(name) + 2 :],
        }
    ]


def test_unknown_nested_keys_keep_their_null_values(con, tmp_path):
    rec = conv(automation={"failed": True, "vendor_code": None, "ctx": {"k": None, "j": 1}}, other=None)
    load_file(con, write_jsonl(tmp_path / "a.jsonl", [rec]))
    extra = json.loads(warehouse.scalar(con, "SELECT extra FROM conversations"))
    assert extra == {"other": None, "automation": {"vendor_code": None, "ctx": {"k": None, "j": 1}}}


def test_wrong_typed_ids_are_neither_duplicates_nor_missing(con, tmp_path):
    load_file(con, write_jsonl(tmp_path / "a.jsonl", [conv(conversation_id=5), conv(conversation_id=6)]))
    for line in (1, 2):
        assert reasons(con, line) == [
            {"field": "conversation_id", "rule": "type", "message": "expected a string, got an integer"}
        ]


def test_empty_ids_are_refused(con, tmp_path):
    load_file(con, write_jsonl(tmp_path / "a.jsonl", [conv(conversation_id=""), conv(supplier="")]))
    assert reasons(con, 1) == [{"field": "conversation_id", "rule": "type", "message": "is empty"}]
    assert reasons(con, 2) == [{"field": "supplier", "rule": "type", "message": "is empty"}]


def test_lower_case_t_and_z_are_rfc_3339(con, tmp_path):
    result = load_file(
        con, write_jsonl(tmp_path / "a.jsonl", [conv(started_at="2026-11-01t02:00:00z", ended_at=...)])
    )
    assert result.records_loaded == 1
    assert (
        warehouse.scalar(con, "SELECT started_at FROM conversations").isoformat()
        == "2026-11-01T02:00:00+00:00"
    )


def test_an_integer_out_of_range_says_so(con, tmp_path):
    load_file(con, write_jsonl(tmp_path / "a.jsonl", [conv(csat=3_000_000_000)]))
    assert {"field": "csat", "rule": "type", "message": "3000000000 is out of range"} in reasons(con, 1)


def test_upper_case_gzip_suffix(con, tmp_path):
    path = tmp_path / "A.JSONL.GZ"
    path.write_bytes(gzip.compress(json.dumps(conv()).encode()))
    assert load_file(con, path).records_loaded == 1
