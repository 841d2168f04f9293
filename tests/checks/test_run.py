"""The runner: scope, idempotence, staleness, errors; and the checks on the demo and real data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from audits import warehouse
from audits.checks import CHECK_IDS
from audits.checks.measure import TRUTH_KIND, measure
from audits.checks.run import Scope, check_counts, run_checks, stale_results
from audits.cli import main
from audits.errors import ConfigError
from audits.ingest.load import load_file, load_paths
from tests.conftest import conv, write_jsonl

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo"
TAU = REPO.parent / "shared" / "data" / "tau-bench-airline"


def results(con: Any) -> list[tuple[Any, ...]]:
    return con.execute(
        "SELECT supplier, conversation_id, check_id, check_version, outcome, turn, evidence, content_hash "
        "FROM check_results ORDER BY ALL"
    ).fetchall()


def test_every_conversation_gets_every_check_and_a_rerun_changes_nothing(con: Any, tmp_path: Path) -> None:
    load_file(con, write_jsonl(tmp_path / "a.jsonl", [conv(conversation_id=f"c{i}") for i in range(5)]))
    first = run_checks(con)
    before = results(con)
    assert len(before) == 5 * len(CHECK_IDS)
    assert {(r[2], r[3]) for r in before} == {(c, "1") for c in CHECK_IDS}
    second = run_checks(con)
    assert results(con) == before and first.run_id != second.run_id
    assert con.execute("SELECT count(*) FROM check_runs").fetchall()[0][0] == 2
    assert check_counts(con) == first.counts == second.counts


def test_scope_replaces_only_its_own_results(con: Any, tmp_path: Path) -> None:
    recs = [conv(conversation_id="a1"), conv(conversation_id="b1", supplier="beta")]
    load_file(con, write_jsonl(tmp_path / "a.jsonl", recs))
    run_checks(con, checks=["ai_disclosure"])
    con.execute("UPDATE check_results SET evidence = 'old' WHERE supplier = 'beta'")
    run = run_checks(con, checks=["ai_disclosure"], scope=Scope(suppliers=("acme-bpo",)))
    assert run.conversations == 1
    rows = dict(con.execute("SELECT supplier, evidence FROM check_results").fetchall())
    assert rows == {"acme-bpo": "Hi, I'm an AI assistant.", "beta": "old"}
    run = run_checks(
        con, checks=["ai_disclosure"], scope=Scope(date_from=__import__("datetime").date(2026, 11, 2))
    )
    assert run.conversations == 0  # both started on 2026-11-01


def test_a_corrected_conversation_shows_as_stale_until_checked_again(con: Any, tmp_path: Path) -> None:
    load_file(con, write_jsonl(tmp_path / "a.jsonl", [conv()]))
    run_checks(con)
    assert stale_results(con) == 0
    load_file(con, write_jsonl(tmp_path / "b.jsonl", [conv(csat=1)]))  # a corrected re-export
    assert stale_results(con) == 1
    run_checks(con)
    assert stale_results(con) == 0


def test_unknown_check_is_refused(con: Any) -> None:
    with pytest.raises(ConfigError, match="unknown check.*nonsense"):
        run_checks(con, checks=["nonsense"])


# ---------------------------------------------------------------------------------------------
# The bundled demo data: precision and recall against the generator's ground truth
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("demo") / "w.duckdb"
    load_paths([DEMO], warehouse_path=path, progress=False)
    con = warehouse.connect(path)
    run_checks(con)
    yield con
    con.close()


def test_demo_checks_find_what_was_planted(demo: Any) -> None:
    """Every check with a ground-truth kind finds at least 95% of it with at least 95% precision.

    (The generator's text is cleaner than real transcripts: docs/checks.md reports the figures and
    what the real tau-bench data shows.)"""
    summary = json.loads((DEMO / "_ground_truth_summary.json").read_text())
    expected = summary["planted"] | summary["observed"]
    for m in measure(demo, DEMO / "_ground_truth.jsonl"):
        if m.truth_kind is None:
            continue
        assert m.true_positives + m.false_negatives == expected[TRUTH_KIND[m.check_id]], m
        assert m.precision is not None and m.precision >= 0.95, m
        assert m.recall is not None and m.recall >= 0.95, m


def test_check_cli_prints_counts_per_check(demo: Any, tmp_path: Path) -> None:
    counts = check_counts(demo)
    path = tmp_path / "w.duckdb"
    load_paths([DEMO], warehouse_path=path, progress=False)
    out = CliRunner().invoke(main, ["check", "--warehouse", str(path), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["conversations"] == 3000
    assert {cid: {k: v[k] for k in ("pass", "fail", "na")} for cid, v in data["checks"].items()} == counts
    listed = CliRunner().invoke(main, ["check", "--list", "--json"])
    assert [r["check"] for r in json.loads(listed.output)] == list(CHECK_IDS)


# ---------------------------------------------------------------------------------------------
# Real data: tau-bench airline (200 GPT-4o conversations, 116 with reward 0, 48 transfers)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tau(tmp_path_factory: pytest.TempPathFactory) -> Any:
    con = warehouse.connect(tmp_path_factory.mktemp("tau") / "w.duckdb")
    for name in ("historical_trajectories__gpt-4o-airline.json", "airline__wiki.md"):
        load_file(con, TAU / name, fmt="tau-bench")
    run_checks(con)
    yield con
    con.close()


def outcomes(con: Any, check_id: str) -> dict[str, str]:
    return dict(
        con.execute(
            "SELECT conversation_id, outcome FROM check_results WHERE check_id = ?", [check_id]
        ).fetchall()
    )


def test_tau_failed_automations_follow_the_reward(tau: Any) -> None:
    rewards = json.loads((TAU / "historical_trajectories__gpt-4o-airline.json").read_text())
    failed = {f"tau-airline-{t['task_id']}-{t['trial']}" for t in rewards if t["reward"] < 1}
    got = outcomes(tau, "automation_failed")
    assert {c for c, o in got.items() if o == "fail"} == failed and len(failed) == 116


def test_tau_handoffs(tau: Any) -> None:
    missed, abandoned = outcomes(tau, "handoff_missed"), outcomes(tau, "handoff_abandoned")
    transferred = {
        c
        for (c,) in tau.execute(
            "SELECT conversation_id FROM conversations WHERE outcome = 'transferred'"
        ).fetchall()
    }
    assert len(transferred) == 48
    assert all(missed[c] == "pass" for c in transferred)  # the record's escalation counts as asked-and-handed
    # task 12, trial 0: "Yes, please transfer me to a human agent." and the conversation ends untransferred
    assert missed["tau-airline-12-0"] == "fail"
    assert all(
        abandoned[c] == "pass" for c in transferred
    )  # transferred out of the transcript, not abandoned


def test_tau_tool_calls_are_not_judged_as_answers(tau: Any) -> None:
    """tau-bench cites the policy section on tool-call turns only; a tool call is not an answer."""
    assert set(outcomes(tau, "kb_grounded").values()) == {"na"}
    assert set(outcomes(tau, "ai_disclosure").values()) == {"fail"}  # GPT-4o never says it is an AI


def test_results_go_stale_when_the_kb_or_a_later_contact_changes_them(con: Any, tmp_path: Path) -> None:
    first = conv(conversation_id="a", customer_id="cust-9")
    load_file(con, write_jsonl(tmp_path / "a.jsonl", [first]))
    kb = {"article_id": "kb-refund", "version": "1", "title": "Refunds", "body": "Refunds take 5-7 business days.",
          "updated_at": "2026-01-01T00:00:00+00:00"}  # fmt: skip
    load_file(con, write_jsonl(tmp_path / "kb.jsonl", [kb]), kind="kb_articles")
    run_checks(con)
    assert stale_results(con) == 0
    again = conv(conversation_id="b", customer_id="cust-9", started_at="2026-11-02T10:00:00+08:00",
                 ended_at="2026-11-02T10:06:00+08:00")  # fmt: skip
    load_file(con, write_jsonl(tmp_path / "b.jsonl", [again]))
    run_checks(con, scope=Scope(date_from=__import__("datetime").date(2026, 11, 2)))  # b only
    assert stale_results(con) == 1  # a's repeat_contact: now followed by b
    run_checks(con)
    assert stale_results(con) == 0
    load_file(con, write_jsonl(tmp_path / "kb2.jsonl", [kb | {"version": "2", "updated_at": "2026-06-01T00:00:00+00:00"}]),
              kind="kb_articles")  # fmt: skip
    assert stale_results(con) == 2  # both kb_grounded results were judged under the old KB


def test_a_failed_run_leaves_nothing_behind(
    con: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audits.checks import run as runner

    load_file(con, write_jsonl(tmp_path / "a.jsonl", [conv()]))
    run_checks(con)
    before = results(con)

    def broken(cfg: Any) -> str:
        return "SELECT nonsense FROM _c"

    check = runner.BY_ID["bot_loop"]
    monkeypatch.setitem(
        runner.BY_ID, "bot_loop", type(check)(check.check_id, check.version, check.title, broken)
    )
    monkeypatch.setattr(runner, "CATALOGUE", tuple(runner.BY_ID.values()))
    with pytest.raises(Exception, match="nonsense"):
        run_checks(con)
    assert results(con) == before
    tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}
    assert not tables & {"_check_new", "_handoff", "_kb_live", "_kb_idf", "_kb_vec", "_kb_sim"}
