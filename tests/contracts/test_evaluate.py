"""Each term judged on a tiny hand-built warehouse whose answer is known (percentiles recomputed by numpy)."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pytest

from audits.contracts import BREACHED, MET, NOT_ENOUGH, evaluate_contract, parse_contract
from audits.period import Period
from tests.contracts.helpers import T0, add_conversations, add_results, db, escalation, night_draw

DAY = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 1))


def contract(**terms: Any) -> Any:
    return parse_contract(
        {"contract_id": "b/acme", "buyer": "b", "supplier": "acme", "terms": terms}, "t.yaml"
    )


def by_scope(ev: Any, term: str) -> dict[str, Any]:
    return {t.scope: t for t in ev.terms if t.term == term}


# ------------------------------------------------------------------------------------ escalation latency


def test_escalation_latency_percentile_per_channel_against_numpy() -> None:
    """p95 is numpy.percentile (linear interpolation, = DuckDB quantile_cont) of the channel's latencies."""
    con = db()
    chat = [10.0 * (i + 1) for i in range(20)]  # 10, 20, ..., 200
    voice = [5.0] * 19
    add_conversations(con, [escalation(f"chat-{i}", "chat", v) for i, v in enumerate(chat)])
    add_conversations(con, [escalation(f"voice-{i}", "voice", v) for i, v in enumerate(voice)])
    add_conversations(con, [escalation(f"email-{i}", "email", 1.0) for i in range(20)])  # no limit for email
    expected = float(np.percentile(chat, 95))
    assert expected == pytest.approx(190.5)
    c = contract(escalation_latency={"percentile": 0.95, "limit_seconds": {"chat": 190, "voice": 60}})
    terms = by_scope(evaluate_contract(con, c, DAY), "escalation_latency")
    assert set(terms) == {"chat", "voice"}  # email has no limit and no default: not judged
    assert terms["chat"].figures["value_seconds"] == pytest.approx(expected)
    assert terms["chat"].figures["count"] == 20
    assert terms["chat"].verdict == BREACHED  # 190.5 > 190
    assert (
        terms["voice"].verdict == NOT_ENOUGH
        and "fewer than 20 escalations on voice (19)" in terms["voice"].rule
    )
    c = contract(
        escalation_latency={"percentile": 0.95, "limit_seconds": {"default": 191}, "min_escalations": 19}
    )
    terms = by_scope(evaluate_contract(con, c, DAY), "escalation_latency")
    assert terms["chat"].verdict == MET and terms["voice"].verdict == MET and terms["email"].verdict == MET


def test_a_missed_hand_off_is_an_infinite_latency() -> None:
    """With 1 of 20 never handed off, the p95 interpolates towards infinity: it is infinite (numpy agrees)."""
    con = db()
    values = [10.0] * 19
    add_conversations(con, [escalation(f"c-{i}", "chat", v) for i, v in enumerate(values)])
    add_conversations(con, [escalation("c-missed", "chat", None)])
    with np.errstate(invalid="ignore"):
        assert math.isinf(float(np.percentile([*values, math.inf], 95)))
    c = contract(escalation_latency={"percentile": 0.95, "limit_seconds": {"chat": 600}})
    t = by_scope(evaluate_contract(con, c, DAY), "escalation_latency")["chat"]
    assert (
        t.verdict == BREACHED
        and t.figures["missed"] == 1
        and t.figures["never"]
        and t.figures["value_seconds"] is None
    )
    assert "never" in t.observed
    # the p90 stays finite: 18.9 of 19 positions are below the missing one
    c = contract(escalation_latency={"percentile": 0.9, "limit_seconds": {"chat": 600}})
    t = by_scope(evaluate_contract(con, c, DAY), "escalation_latency")["chat"]
    assert t.verdict == MET and t.figures["value_seconds"] == pytest.approx(10.0)


def test_a_failed_handoff_missed_check_counts_as_an_escalation_never_handed_off() -> None:
    con = db()
    add_conversations(con, [escalation(f"c-{i}", "chat", 30.0) for i in range(4)])
    add_conversations(con, [{"conversation_id": "asked", "channel": "chat"}])  # asked in words, no record
    add_results(con, "handoff_missed", {"asked": "fail"})
    c = contract(escalation_latency={"percentile": 0.5, "limit_seconds": {"chat": 60}, "min_escalations": 5})
    t = by_scope(evaluate_contract(con, c, DAY), "escalation_latency")["chat"]
    assert (t.figures["count"], t.figures["missed"]) == (5, 1)
    assert t.verdict == MET  # the median of 30, 30, 30, 30, inf


def test_the_period_limits_what_is_counted() -> None:
    con = db()
    add_conversations(con, [escalation("in", "chat", 10.0)])
    add_conversations(con, [escalation("out", "chat", 9999.0, started_at=T0 + dt.timedelta(days=1))])
    c = contract(escalation_latency={"percentile": 0.95, "limit_seconds": {"chat": 60}, "min_escalations": 1})
    t = by_scope(evaluate_contract(con, c, DAY), "escalation_latency")["chat"]
    assert t.figures["count"] == 1 and t.verdict == MET


# ---------------------------------------------------------------------------------------- first response


def test_first_response_percentile_against_numpy() -> None:
    con = db()
    rng = np.random.default_rng(7)
    values = [float(v) for v in rng.integers(1, 120, size=25)]
    add_conversations(
        con, [{"conversation_id": f"c-{i}", "first_response_seconds": v} for i, v in enumerate(values)]
    )
    add_conversations(con, [{"conversation_id": "untimed"}])  # no first response time: not counted
    p90 = float(np.percentile(values, 90))
    c = contract(first_response={"percentile": 0.9, "limit_seconds": {"chat": p90 - 0.5}})
    t = by_scope(evaluate_contract(con, c, DAY), "first_response")["chat"]
    assert t.figures["value_seconds"] == pytest.approx(p90) and t.figures["count"] == 25
    assert t.verdict == BREACHED
    c = contract(first_response={"percentile": 0.9, "limit_seconds": {"chat": p90}})
    assert by_scope(evaluate_contract(con, c, DAY), "first_response")["chat"].verdict == MET
    c = contract(first_response={"percentile": 0.9, "limit_seconds": {"chat": 60}, "min_conversations": 26})
    assert by_scope(evaluate_contract(con, c, DAY), "first_response")["chat"].verdict == NOT_ENOUGH


# ------------------------------------------------------------------------------------------ QA coverage


def test_qa_coverage_counts_scored_and_reviewed_conversations_per_handler() -> None:
    con = db()
    add_conversations(con, [{"conversation_id": f"ai-{i}"} for i in range(10)])
    add_conversations(con, [{"conversation_id": f"hu-{i}", "handler": "human"} for i in range(4)])
    for cid in ("ai-0", "ai-1", "ai-2"):
        con.execute("INSERT INTO sample_scores VALUES ('d', 'acme', ?, true, 'r', ?, false)", [cid, T0])
    con.execute(
        "INSERT INTO sample_scores VALUES ('d', 'acme', 'ai-9', NULL, 'r', ?, false)", [T0]
    )  # no outcome
    review = "INSERT INTO reviews (review_id, draw_id, supplier, conversation_id, reviewer, role, superseded_by, source) "
    con.execute(review + "VALUES (1, 'd', 'acme', 'ai-3', 'r', 'calibration', NULL, 'submit')")
    con.execute(review + "VALUES (2, 'd', 'acme', 'ai-4', 'r', 'primary', 3, 'submit')")  # superseded by 3
    con.execute(review + "VALUES (3, 'd', 'acme', 'ai-4', 'r', 'primary', NULL, 'simulated')")
    c = contract(qa_coverage={"min_share": {"ai": 0.5, "human": 0.1}, "min_conversations": 5})
    terms = by_scope(evaluate_contract(con, c, DAY), "qa_coverage")
    ai = terms["ai"]
    assert (ai.figures["scored"], ai.figures["conversations"], ai.figures["simulated"]) == (5, 10, 1)
    assert ai.verdict == MET  # 5 / 10 = 0.5
    assert (
        terms["human"].verdict == NOT_ENOUGH and "fewer than 5 human conversations (4)" in terms["human"].rule
    )
    c = contract(qa_coverage={"min_share": {"ai": 0.51}})
    assert by_scope(evaluate_contract(con, c, DAY), "qa_coverage")["ai"].verdict == BREACHED


# ------------------------------------------------------------------------------------------ containment


def test_containment_and_safe_hand_off_with_repeat_contacts_and_censoring() -> None:
    """Window 2 days; the warehouse's last conversation is on 11-10, so only contacts up to 11-08 are judged."""
    con = db()
    day = lambda d: dt.datetime(2026, 11, d, 12, tzinfo=dt.UTC)  # noqa: E731
    add_conversations(con, [
        {"conversation_id": "c1", "customer_id": "A", "started_at": day(1)},                       # contained
        {"conversation_id": "c2", "customer_id": "B", "started_at": day(1)},                       # came back
        {"conversation_id": "c3", "customer_id": "B", "started_at": day(2), "handler": "human"},   # not AI
        {"conversation_id": "c4", "customer_id": "C", "started_at": day(1), "handler": "hybrid",
         "escalation_requested_at": day(1), "escalation_handed_off_at": day(1), "n_human_agent_turns": 2},  # safe
        {"conversation_id": "c5", "customer_id": "D", "started_at": day(1), "outcome": "unresolved"},  # neither
        {"conversation_id": "c6", "customer_id": "E", "started_at": day(9)},                       # too recent
        {"conversation_id": "c7", "customer_id": None, "started_at": day(1)},                      # no customer
        {"conversation_id": "c8", "customer_id": "F", "started_at": day(1)},                       # back after 4 days
        {"conversation_id": "c9", "customer_id": "F", "started_at": day(5), "supplier": "other"},
        {"conversation_id": "c10", "customer_id": "G", "started_at": day(10), "supplier": "other"},
        {"conversation_id": "c11", "customer_id": "H", "started_at": day(1), "journey": "billing"},
        {"conversation_id": "c12", "customer_id": "H", "started_at": day(2), "journey": "refund",
         "supplier": "other"},                                                                     # other journey
    ])  # fmt: skip
    week = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 10))
    c = contract(
        containment={
            "window_days": 2,
            "min_contained_rate": 0.5,
            "min_safe_rate": 0.6,
            "min_conversations": 6,
        }
    )
    terms = by_scope(evaluate_contract(con, c, week), "containment")
    f = terms["contained"].figures
    # judged: c1, c2, c4, c5, c8, c11; contained: c1, c8, c11; safe: those and c4
    assert (f["ai_started"], f["judged"], f["contained"], f["safe"], f["not_judged"]) == (8, 6, 3, 4, 2)
    assert f["repeat_contacts"] == 1
    assert terms["contained"].verdict == MET  # 3 / 6 = 0.5
    assert terms["safe"].verdict == MET  # 4 / 6 >= 0.6
    c = contract(containment={"window_days": 2, "min_contained_rate": 0.51, "min_conversations": 6})
    assert by_scope(evaluate_contract(con, c, week), "containment")["contained"].verdict == BREACHED
    c = contract(containment={"window_days": 2, "min_safe_rate": 0.1, "min_conversations": 7})
    t = by_scope(evaluate_contract(con, c, week), "containment")["safe"]
    assert t.verdict == NOT_ENOUGH and "fewer than 7 judged conversations (6)" in t.rule
    # a window of 4 days makes c8 a repeat contact (F came back after exactly 4 days)
    c = contract(containment={"window_days": 4, "min_contained_rate": 0.5, "min_conversations": 1})
    f = by_scope(evaluate_contract(con, c, week), "containment")["contained"].figures
    assert (f["judged"], f["contained"]) == (6, 2)


# ------------------------------------------------------------------------------------------- compliance


def compliance_db() -> Any:
    con = db()
    add_conversations(con, [{"conversation_id": f"c{i}", "content_hash": f"h{i}"} for i in range(10)])
    add_results(con, "pii_echo", {f"c{i}": ("fail" if i == 0 else "pass") for i in range(10)})
    add_results(con, "ai_disclosure", {f"c{i}": ("fail" if i < 2 else "pass") for i in range(10)})
    return con


@pytest.mark.parametrize(
    ("limits", "verdict"),
    [
        ({"pii_echo": {"max_failures": 0}}, BREACHED),
        ({"pii_echo": {"max_failures": 1}}, MET),
        ({"ai_disclosure": {"max_rate": 0.2, "min_applicable": 10}}, MET),  # 2 / 10
        ({"ai_disclosure": {"max_rate": 0.19, "min_applicable": 10}}, BREACHED),
        ({"ai_disclosure": {"max_rate": 0.2, "min_applicable": 11}}, NOT_ENOUGH),
        ({"ai_disclosure": {"max_rate": 0.5, "max_failures": 1, "min_applicable": 1}}, BREACHED),
    ],
)
def test_compliance_exceptions(limits: dict[str, Any], verdict: str) -> None:
    ev = evaluate_contract(compliance_db(), contract(compliance_exceptions=limits), DAY)
    (t,) = ev.terms
    assert t.verdict == verdict


def test_compliance_without_a_current_result_is_not_enough_evidence_unless_already_breached() -> None:
    con = compliance_db()
    con.execute(
        "UPDATE conversations SET content_hash = 'edited' WHERE conversation_id = 'c5'"
    )  # result is stale
    con.execute("DELETE FROM check_results WHERE conversation_id = 'c6'")
    t = evaluate_contract(con, contract(compliance_exceptions={"pii_echo": {"max_failures": 1}}), DAY).terms[
        0
    ]
    assert (
        t.verdict == NOT_ENOUGH
        and t.figures["unchecked"] == 2
        and "2 conversations have no current" in t.rule
    )
    t = evaluate_contract(con, contract(compliance_exceptions={"pii_echo": {"max_failures": 0}}), DAY).terms[
        0
    ]
    assert t.verdict == BREACHED  # the unchecked ones can only add failures
    # 2 fails of 8 applicable + 2 unchecked: at best 2 / 10 = 0.2 > 0.15
    t = evaluate_contract(con, contract(compliance_exceptions={"ai_disclosure": {"max_rate": 0.15, "min_applicable": 5}}),
                          DAY).terms[0]  # fmt: skip
    assert t.verdict == BREACHED


# ---------------------------------------------------------------------------------------- quality floor


def log_e_value(x: int, n: int, p0: float) -> float:
    """Robbins' uniform-prior mixture against the best null rate (docs/sampling.md), from lgamma alone."""
    q = min(x / n, p0)
    log_beta = math.lgamma(1 + x) + math.lgamma(1 + n - x) - math.lgamma(2 + n)
    log_null = (x * math.log(q) if x else 0.0) + (n - x) * math.log(1 - q)
    return log_beta - log_null


NIGHT = dt.date(2026, 11, 1)


def floor_db(outcomes: list[bool], big_n: int = 1000) -> Any:
    con = db()
    night_draw(con, NIGHT, [("handler=ai", big_n, list(outcomes), None)])
    return con


@pytest.mark.parametrize(
    ("failures", "n", "floor", "verdict", "rule"),
    [
        (0, 100, 0.9, MET, "lower bound is at or above the floor"),
        (40, 100, 0.9, BREACHED, "sequential test crossed"),
        (10, 100, 0.9, NOT_ENOUGH, "straddles"),
        (4, 20, 0.95, NOT_ENOUGH, "below the floor but the sequential test has not"),
        (0, 5, 0.5, NOT_ENOUGH, "fewer than 10 scored items (5)"),
    ],
)
def test_quality_floor_combines_the_interval_and_the_sequential_test(
    failures: int, n: int, floor: float, verdict: str, rule: str
) -> None:
    con = floor_db([False] * failures + [True] * (n - failures))
    ev = evaluate_contract(con, contract(quality_floor={"min_pass_rate": floor, "min_scored": 10}), DAY)
    (t,) = ev.terms
    assert t.verdict == verdict and rule in t.rule
    assert t.figures["scored"] == n and t.figures["failures"] == failures
    assert t.figures["pass_rate"] == pytest.approx(1 - failures / n)
    assert t.figures["sequential_log_e_value"] == pytest.approx(log_e_value(failures, n, 1 - floor))
    assert t.figures["sequential_log_threshold"] == pytest.approx(math.log(1 / 0.05))
    json.dumps(ev.to_dict(), allow_nan=False, default=str)  # plain JSON: no Infinity, no NaN
    assert t.figures["sequential_verdict"] == ("breach" if verdict == BREACHED else "continue")


def test_quality_floor_uses_the_sample_estimator_of_qa_audit_sample_estimate() -> None:
    """One night, one stratum: the period estimate is `compute_estimate` of that draw."""
    from audits.sampling.estimate import estimate

    con = floor_db([False] * 3 + [True] * 37, big_n=400)
    (t,) = evaluate_contract(con, contract(quality_floor={"min_pass_rate": 0.8}), DAY).terms
    e = estimate(con, "d-2026-11-01-nightly-acme")
    assert t.figures["pass_rate"] == pytest.approx(e.overall.pass_rate)
    assert t.figures["pass_lower"] == pytest.approx(e.overall.pass_interval.lower)
    assert t.figures["pass_lower_bound_one_sided"] == pytest.approx(e.overall.pass_lower_bound)


def test_a_day_without_a_draw_keeps_the_floor_from_being_met() -> None:
    con = floor_db([True] * 100)
    add_conversations(con, [{"conversation_id": "late", "started_at": T0 + dt.timedelta(days=1)}])
    two_days = Period(NIGHT, NIGHT + dt.timedelta(days=1))
    (t,) = evaluate_contract(con, contract(quality_floor={"min_pass_rate": 0.9}), two_days).terms
    assert t.verdict == NOT_ENOUGH and t.figures["nights_missing"] == ["2026-11-02"]
    assert t.figures["interval_verdict"] == NOT_ENOUGH  # gaps: never met


def test_no_nightly_draw_at_all() -> None:
    con = db()
    add_conversations(con, [{"conversation_id": "c1"}])
    (t,) = evaluate_contract(con, contract(quality_floor={"min_pass_rate": 0.9}), DAY).terms
    assert t.verdict == NOT_ENOUGH and t.figures["sequential_verdict"] == "no data"
    assert t.observed == "no scored sample in the period"


# ---------------------------------------------------------------------------------------- sampling plan


def test_sampling_plan_followed_missing_and_changed(tmp_path: Any) -> None:
    from audits.nightly.plans import plan_for_night
    from audits.sampling.plan import load_plan

    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(
        "name: nightly-acme\npopulation: {from: 2026-11-01, to: 2026-11-01, suppliers: [acme]}\n"
        "strata: []\nallocation: proportional\nsize: {n: 2}\n",
        encoding="utf-8",
    )
    c = parse_contract({"contract_id": "b/acme", "buyer": "b", "supplier": "acme", "sampling_plan": "plan.yaml",
                        "terms": {"qa_coverage": {"min_share": {"ai": 0.1}}}}, str(tmp_path / "c.yaml"))  # fmt: skip
    plan = load_plan(plan_file)
    con = db()
    night_draw(con, NIGHT, [("all", 5, [True, True], None)], plan_hash=plan_for_night(plan, NIGHT).plan_hash)
    term = {t.term: t for t in evaluate_contract(con, c, DAY).terms}["sampling_plan"]
    assert term.verdict == MET and term.figures["nights_agreed_plan"] == ["2026-11-01"]
    add_conversations(con, [{"conversation_id": "next", "started_at": T0 + dt.timedelta(days=1)}])
    two = Period(NIGHT, NIGHT + dt.timedelta(days=1))
    term = {t.term: t for t in evaluate_contract(con, c, two).terms}["sampling_plan"]
    assert term.verdict == NOT_ENOUGH and term.figures["nights_missing"] == ["2026-11-02"]
    night_draw(con, NIGHT + dt.timedelta(days=1), [("all", 5, [True], None)], plan_hash="another")
    term = {t.term: t for t in evaluate_contract(con, c, two).terms}["sampling_plan"]
    assert term.verdict == BREACHED and term.figures["nights_other_plan"] == ["2026-11-02"]
