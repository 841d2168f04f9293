"""The nightly steps as library calls: what each records, idempotence by night, breach tests, simulation."""

from __future__ import annotations

import json

import pytest

from audits.errors import ConfigError
from audits.nightly import history, steps
from audits.nightly.breach import night_counts, sequential_verdict
from audits.nightly.plans import load_plans, night_seed, plan_for_night
from audits.stats.sequential import anytime_breach
from audits.warehouse import connect
from tests.nightly.conftest import NIGHTS, run_night

TABLES = ["conversations", "check_results", "draws", "draw_items", "review_assignments", "reviews",
          "review_answers", "sample_scores", "nightly_draws"]  # fmt: skip


def _counts(wh: str) -> dict[str, int]:
    con = connect(wh, read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}
    finally:
        con.close()


@pytest.fixture(scope="module")
def three_nights(night_data, tmp_path_factory):
    wh = str(tmp_path_factory.mktemp("wh") / "w.duckdb")
    outs = [run_night(wh, night_data, n) for n in NIGHTS]
    return wh, outs


def test_each_night_draws_one_sample_per_plan_of_that_night_only(three_nights):
    wh, outs = three_nights
    con = connect(wh, read_only=True)
    try:
        rows = history.night_draws(con)
        assert [(r["night"], r["supplier"]) for r in rows] == [
            (n, s) for n in NIGHTS for s in ("harbor-cx", "lumen-ai", "northwind-bpo")
        ]
        # every drawn conversation started on its draw's night (UTC) and belongs to the plan's supplier
        bad = con.execute(
            "SELECT count(*) FROM nightly_draws nd JOIN draw_items i USING (draw_id) JOIN conversations c "
            "ON c.supplier = i.supplier AND c.conversation_id = i.conversation_id "
            "WHERE (c.started_at AT TIME ZONE 'UTC')::DATE <> nd.night OR c.supplier <> nd.supplier"
        ).fetchall()
        assert bad == [(0,)]
        assert all(r["seed"] == f"{r['night']}:{r['plan_name']}" for r in rows)
    finally:
        con.close()
    first = {s["step"]: s["counts"] for s in outs[0]}
    assert first["contract"]["verdict"] == "all records passed"
    assert first["ingest"]["records_loaded"] > 0
    later = {s["step"]: s["counts"] for s in outs[1]}
    assert later["ingest"]["already_loaded"] == later["ingest"]["files"]  # the same files: skipped


def test_rerunning_a_night_adds_nothing(three_nights, night_data):
    wh, _ = three_nights
    before = _counts(wh)
    again = {s["step"]: s["counts"] for s in run_night(wh, night_data, NIGHTS[1])}
    assert _counts(wh) == before
    assert all(d["existing"] for d in again["draw"]["draws"])
    assert all(v["primary_added"] == 0 for v in again["assign"]["draws"].values())
    assert again["simulate"]["simulated_reviews"] == 0


def test_run_history_keeps_each_steps_counts_and_seconds(three_nights):
    wh, _ = three_nights
    con = connect(wh, read_only=True)
    try:
        runs = history.list_runs(con, night=NIGHTS[0])
    finally:
        con.close()
    (run,) = runs
    assert run["outcome"] == "completed" and run["seconds"] > 0
    assert [s["step"] for s in run["steps"]] == [
        "ingest", "contract", "checks", "flags", "draw", "assign", "simulate", "estimate", "breach",
    ]  # fmt: skip
    assert all(s["seconds"] >= 0 for s in run["steps"])


def test_a_running_attempt_is_marked_crashed_by_the_next(tmp_path):
    wh = str(tmp_path / "w.duckdb")
    steps.begin(wh, "dead", NIGHTS[0], {"a": 1})
    assert steps.begin(wh, "next", NIGHTS[0], {}) == 1
    con = connect(wh, read_only=True)
    try:
        by_id = {r["run_id"]: r for r in history.list_runs(con)}
    finally:
        con.close()
    assert by_id["dead"]["outcome"] == "crashed" and "without finishing" in by_id["dead"]["error"]
    assert by_id["dead"]["parameters"] == {"a": 1}
    assert by_id["next"]["outcome"] == "running"


def test_checks_by_night_equal_one_run_over_everything(three_nights, night_data, tmp_path):
    """Night-scoped checks (+ repeat contact re-checked over its window) give the whole-warehouse results."""
    from audits.checks.run import run_checks
    from audits.ingest.load import load_paths

    wh, _ = three_nights
    whole = str(tmp_path / "whole.duckdb")
    load_paths(
        [str(p) for p in sorted(night_data.glob("*.jsonl*")) if not p.name.startswith("_")],
        warehouse_path=whole,
    )
    con = connect(whole)
    try:
        run_checks(con)
        con.execute(f"ATTACH '{wh}' AS n (READ_ONLY)")
        q = ("SELECT supplier, conversation_id, check_id, check_version, outcome, turn, evidence FROM {t}.check_results "
             "WHERE conversation_id IN (SELECT conversation_id FROM {t}.conversations "
             "WHERE (started_at AT TIME ZONE 'UTC')::DATE BETWEEN '2026-11-01' AND '2026-11-03')")  # fmt: skip
        only_whole = con.execute(f"{q.format(t='whole')} EXCEPT ALL {q.format(t='n')}").fetchall()
        only_night = con.execute(f"{q.format(t='n')} EXCEPT ALL {q.format(t='whole')}").fetchall()
        n = con.execute(f"SELECT count(*) FROM ({q.format(t='n')})").fetchall()[0][0]
    finally:
        con.close()
    assert n > 0
    assert only_whole == [] and only_night == []


def test_breach_counts_only_scored_random_strata(three_nights):
    wh, _ = three_nights
    con = connect(wh, read_only=True)
    try:
        counts = night_counts(con, "lumen-ai")
        expected = con.execute(
            "SELECT nd.night, count(*) FILTER (WHERE NOT s.passed), count(*) FROM nightly_draws nd "
            "JOIN draw_items i ON i.draw_id = nd.draw_id AND i.reason = 'random' "
            "JOIN sample_scores s ON s.draw_id = i.draw_id AND s.supplier = i.supplier "
            "AND s.conversation_id = i.conversation_id WHERE nd.supplier = 'lumen-ai' GROUP BY ALL ORDER BY 1"
        ).fetchall()
        test = sequential_verdict(con, "lumen-ai", floor=0.85)
    finally:
        con.close()
    assert [(c.night, c.failures, c.n) for c in counts] == expected
    assert all(c.simulated for c in counts)
    ref = anytime_breach([(c.failures, c.n) for c in counts], p0=1 - 0.85)  # floor 85%
    assert test.verdict == ref.verdict and test.result is not None
    assert test.result.llr_path == ref.llr_path
    body = test.to_dict()
    assert body["simulated"] is True and len(body["nights"]) == len(NIGHTS)
    json.dumps(body)


def test_breach_without_scores_says_no_data(night_data, tmp_path):
    wh = str(tmp_path / "w.duckdb")
    run_night(wh, night_data, NIGHTS[0], simulate=False)
    con = connect(wh, read_only=True)
    try:
        test = sequential_verdict(con, "harbor-cx", floor=0.85)
    finally:
        con.close()
    assert test.verdict == "no data" and test.result is None
    assert [n.n for n in test.nights] == [0]


def test_simulated_reviews_follow_the_ground_truth_and_are_marked(three_nights, night_data):
    """Each answer to an item with a check fails exactly when the ground truth lists that check's kind."""
    from audits.checks.measure import TRUTH_KIND
    from audits.scorecards.load import load_scorecards

    wh, _ = three_nights
    cards = load_scorecards()
    con = connect(wh, read_only=True)
    try:
        con.execute(
            f"CREATE TEMP TABLE truth AS SELECT * FROM read_json('{night_data / '_ground_truth.jsonl'}', "
            "format='newline_delimited', columns={supplier:'VARCHAR', conversation_id:'VARCHAR', kind:'VARCHAR'})"
        )
        sources = con.execute("SELECT DISTINCT source FROM reviews").fetchall()
        unsimulated = con.execute("SELECT count(*) FROM sample_scores WHERE NOT simulated").fetchall()
        answers = con.execute(
            "SELECT r.scorecard_id, r.scorecard_version, a.item_id, a.value, "
            "coalesce((SELECT list(t.kind) FROM truth t WHERE t.supplier = r.supplier "
            "AND t.conversation_id = r.conversation_id), []) FROM reviews r JOIN review_answers a USING (review_id)"
        ).fetchall()
    finally:
        con.close()
    assert sources == [("simulated",)]
    assert unsimulated == [(0,)]
    judged = failed = 0
    for card_id, version, item_id, value, kinds in answers:  # a few hundred answers of the sample
        item = next(i for i in cards[(card_id, version)].items if i.id == item_id)
        kind = TRUTH_KIND.get(item.check or "")
        if item.check is None and "resolution" not in item_id:  # judgement items get the best passing value
            best = max((v for v in item.scale.values if v not in item.scale.fail), key=item.scale.points_of)
            assert value == best, (card_id, item_id, value)
        if kind is None:
            continue
        judged += 1
        failed += kind in kinds
        assert (value in item.scale.fail) == (kind in kinds), (card_id, item_id, value, kinds)
    assert judged > 100 and failed > 10  # both sides of the rule were exercised


def test_plans_are_set_to_the_night_and_seeded_per_night():
    plans = load_plans(None)
    assert {p.population.suppliers for p in plans} == {("harbor-cx",), ("lumen-ai",), ("northwind-bpo",)}
    p = plan_for_night(plans[0], NIGHTS[2])
    assert (p.population.date_from, p.population.date_to) == (NIGHTS[2], NIGHTS[2])
    assert p.plan_hash != plans[0].plan_hash
    assert night_seed(NIGHTS[2], p, None) == f"2026-11-03:{p.name}"
    assert night_seed(NIGHTS[2], p, "buyer-42") == f"buyer-42:2026-11-03:{p.name}"


def test_missing_input_and_plans_are_named(tmp_path):
    with pytest.raises(ConfigError, match="no input for night 2026-11-01"):
        steps.night_input(tmp_path / "nowhere", NIGHTS[0])
    (tmp_path / "2026-11-01").mkdir()
    assert steps.night_input(tmp_path, NIGHTS[0]) == tmp_path / "2026-11-01"
    assert steps.night_input(tmp_path, NIGHTS[1]) == tmp_path
    with pytest.raises(ConfigError, match="no such file or folder"):
        load_plans([str(tmp_path / "missing.yaml")])
    with pytest.raises(ConfigError, match=r"no sampling plans \(\*\.yaml\)"):
        load_plans([str(tmp_path)])


def test_a_prefect_retry_of_the_same_flow_run_gets_its_own_attempt(tmp_path):
    """Prefect's Retry reuses the flow run id; the second attempt must not collide with the first's row."""
    from flows.nightly_audit import attempt_id

    wh = str(tmp_path / "w.duckdb")
    first, second = attempt_id("abc", 1), attempt_id("abc", 2)
    assert (first, second) == ("abc", "abc-2")
    steps.begin(wh, first, NIGHTS[0], {})
    steps.end(wh, first, "failed", "boom")
    steps.begin(wh, second, NIGHTS[0], {})
    con = connect(wh, read_only=True)
    try:
        outcomes = {r["run_id"]: r["outcome"] for r in history.list_runs(con)}
    finally:
        con.close()
    assert outcomes == {"abc": "failed", "abc-2": "running"}
    assert len(attempt_id(None, None)) == 36  # outside Prefect: a uuid
