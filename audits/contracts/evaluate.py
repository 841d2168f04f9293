"""Judging a contract's terms for its supplier over a period: met, breached or not enough evidence.

Every term is computed set-based in DuckDB over the warehouse (the automated figures over 100% of the
period's conversations, the quality floor over the period's nightly samples) and returns a `TermResult`
with the figures behind its verdict and the rule that produced it. The rules:

quality_floor       breached when the anytime-valid sequential test over the period's nights
                    (audits.nightly.breach.sequential_verdict) says "breach"; met when the one-sided
                    lower bound of the period's stratified pass rate is at or above the floor, there is
                    no coverage gap (an unscored stratum, a day with conversations but no draw) and at
                    least `min_scored` items are scored; otherwise not enough evidence. A breach is
                    never declared from the fixed-sample interval alone: re-reading it every night would
                    raise false alarms, which the sequential test is built to avoid (its figures show
                    the interval's own verdict).
escalation_latency  per channel: the escalations are the conversations with a hand-off request on
                    record or a failed handoff_missed check; a hand-off that never happened counts as
                    an infinite latency. Not enough evidence with fewer than `min_escalations`;
                    otherwise met when quantile_cont(latency, percentile) <= the channel's limit.
first_response      per channel: quantile_cont(first_response_seconds, percentile) over the
                    conversations with a timed first reply; not enough evidence with fewer than
                    `min_conversations`, else met when it is within the limit.
qa_coverage         per handler: conversations with a QA score (sample_scores, or a current review)
                    over all the handler's conversations; not enough evidence with fewer than
                    `min_conversations`, else met when the share reaches `min_share`.
containment         over AI-started conversations (handler ai or hybrid) with a customer id, a journey
                    and an outcome, started at least `window_days` before the warehouse's latest
                    conversation (later ones cannot be judged yet): contained = AI alone, resolved, no
                    repeat contact (same customer and journey, any supplier) within the window; safe =
                    contained, or a human took it over and no repeat contact followed. Not enough
                    evidence with fewer than `min_conversations` judged.
compliance          per check: failing conversations (fresh results only: a result computed on an
                    older version of the conversation does not count). Breached when the failures
                    exceed max_failures, or the failure rate exceeds max_rate even if every unchecked
                    conversation passed; met when every conversation has a fresh result and both limits
                    hold (the rate over at least `min_applicable` applicable conversations); otherwise
                    not enough evidence.
sampling_plan       met when every day with conversations has a nightly draw under the agreed plan (its
                    hash for that night); breached when a night was drawn under another plan; not enough
                    evidence when some days have no draw yet.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

from audits.contracts.estimates import PeriodSample, period_sample
from audits.contracts.model import BREACHED, MET, NOT_ENOUGH, ChannelLimits, ComplianceLimit, Contract
from audits.period import Period
from audits.sampling.estimate import floor_verdict
from audits.warehouse import one, table_exists


@dataclass(frozen=True)
class TermResult:
    """One term (for one channel, handler or check when the term is per scope) and its verdict."""

    contract_id: str
    term: str
    scope: str
    verdict: str
    requirement: str
    observed: str
    rule: str
    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ContractEvaluation:
    """A contract's terms judged for a period, with the quality floor's sample and sequential test."""

    contract: Contract
    period: Period
    terms: tuple[TermResult, ...]
    sample: PeriodSample | None
    sequential: Any | None  # audits.nightly.breach.BreachTest

    @property
    def counts(self) -> dict[str, int]:
        """How many terms are met, breached and without enough evidence."""
        out = {MET: 0, BREACHED: 0, NOT_ENOUGH: 0}
        for t in self.terms:
            out[t.verdict] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "contract": self.contract.to_dict(),
            "period": self.period.to_dict(),
            "counts": self.counts,
            "terms": [t.to_dict() for t in self.terms],
            "sequential": self.sequential.to_dict() if self.sequential is not None else None,
        }


def data_period(con: duckdb.DuckDBPyConnection, supplier: str | None = None) -> Period | None:
    """The UTC days from the first to the last conversation (of `supplier`), None without any."""
    row = one(
        con,
        "SELECT min(started_at)::DATE, max(started_at)::DATE FROM conversations"
        + (" WHERE supplier = ?" if supplier else ""),
        [supplier] if supplier else [],
    )
    if row is None or row[0] is None:
        return None
    return Period(row[0], row[1])


def _pct(p: float) -> str:
    return f"p{round(p * 100, 2):g}"


def _secs(x: float | None) -> str:
    if x is None:
        return "-"
    if x == float("inf"):
        return "never (missed hand-offs)"
    return f"{x:,.0f} s" if x >= 10 else f"{x:.1f} s"


# ------------------------------------------------------------------------------------------ quality floor


def _plan(contract: Contract) -> Any:
    if contract.sampling_plan is None:
        return None
    from audits.sampling.plan import load_plan  # noqa: PLC0415

    return load_plan(contract.sampling_plan)


def quality_floor(
    con: duckdb.DuckDBPyConnection, contract: Contract, period: Period, sample: PeriodSample
) -> tuple[TermResult, Any]:
    """The quality floor's verdict from the period sample's interval and the sequential test."""
    from audits.nightly.breach import sequential_verdict  # noqa: PLC0415

    qf = contract.quality_floor
    assert qf is not None
    seq = sequential_verdict(con, contract.supplier, floor=qf.min_pass_rate, alpha=qf.alpha, period=period)
    requirement = f"pass rate >= {qf.min_pass_rate:.1%} (one-sided {contract.confidence:.0%} bound)"
    figures: dict[str, Any] = {
        "floor": qf.min_pass_rate,
        "confidence": contract.confidence,
        "nights_drawn": len(sample.draws),
        "nights_missing": [d.isoformat() for d in sample.nights_missing],
        "unscored_strata": list(sample.unscored_strata),
        "drawn": sample.drawn,
        "scored": sample.scored,
        "simulated_scores": sample.simulated,
        "sequential_verdict": seq.verdict,
        "sequential_decided_on": seq.decided_on.isoformat() if seq.decided_on else None,
        "sequential_alpha": qf.alpha,
        "sequential_log_e_value": seq.result.statistic if seq.result else None,
        "sequential_log_threshold": math.log(1 / qf.alpha),
    }
    est = sample.estimate
    if est is None:
        interval = NOT_ENOUGH
        observed = "no scored sample in the period"
    else:
        o = est.overall
        fv = floor_verdict(
            o.pass_lower_bound, o.pass_upper_bound, qf.min_pass_rate, contract.confidence, gaps=sample.gaps
        )
        interval = fv.verdict
        figures |= {
            "pass_rate": o.pass_rate,
            "pass_lower": o.pass_interval.lower,
            "pass_upper": o.pass_interval.upper,
            "pass_lower_bound_one_sided": o.pass_lower_bound,
            "pass_upper_bound_one_sided": o.pass_upper_bound,
            "failures": est.failures,
            "interval_method": o.pass_interval.method,
        }
        observed = (
            f"{o.pass_rate:.1%} pass ({o.pass_interval.lower:.1%}-{o.pass_interval.upper:.1%}), "
            f"{est.scored} scored over {len(sample.draws)} nights; sequential test: {seq.verdict}"
        )
    figures["interval_verdict"] = interval
    if seq.verdict == "breach":
        verdict = BREACHED
        rule = f"the anytime-valid sequential test crossed 1/alpha = {1 / qf.alpha:g} on {seq.decided_on}"
    elif sample.scored < qf.min_scored:
        verdict = NOT_ENOUGH
        rule = f"fewer than {qf.min_scored} scored items ({sample.scored}) and no sequential breach"
    elif interval == MET:
        verdict = MET
        rule = "the one-sided lower bound is at or above the floor and no night or stratum is missing"
    else:
        verdict = NOT_ENOUGH
        if sample.gaps:
            rule = "part of the period is not covered by scores (a day without a draw or an unscored stratum)"
        elif interval == BREACHED:
            rule = "the interval lies below the floor but the sequential test has not (yet) declared a breach"
        else:
            rule = "the interval straddles the floor"
    term = TermResult(
        contract.contract_id, "quality_floor", "all", verdict, requirement, observed, rule, figures
    )
    return term, seq


# ------------------------------------------------------------------------------------- per-channel times

_ESCALATIONS = """
SELECT c.channel,
       CASE WHEN c.escalation_handed_off_at IS NOT NULL AND c.handoff_latency_seconds IS NOT NULL
            THEN c.handoff_latency_seconds ELSE 'inf'::DOUBLE END AS seconds,
       c.escalation_handed_off_at IS NULL AS missed
FROM conversations c
{missed_join}
WHERE c.supplier = $supplier AND {period}
  AND (c.escalation_requested_at IS NOT NULL {missed_or})
"""

_FIRST_RESPONSE = """
SELECT c.channel, c.first_response_seconds AS seconds, false AS missed
FROM conversations c
WHERE c.supplier = $supplier AND {period} AND c.first_response_seconds IS NOT NULL
"""


def escalation_sql(con: duckdb.DuckDBPyConnection, period: Period) -> str:
    """SQL (parameter $supplier): one row per escalation of the period: channel, seconds (inf: missed), missed."""
    has_checks = table_exists(con, "check_results")
    return _ESCALATIONS.format(
        period=period.where("c.started_at"),
        missed_join=(
            "LEFT JOIN check_results m ON m.supplier = c.supplier AND m.conversation_id = c.conversation_id "
            "AND m.check_id = 'handoff_missed' AND m.outcome = 'fail'"
            if has_checks
            else ""
        ),
        missed_or="OR m.outcome IS NOT NULL" if has_checks else "",
    )


def first_response_sql(period: Period) -> str:
    """SQL (parameter $supplier): one row per conversation with a timed first reply: channel, seconds."""
    return _FIRST_RESPONSE.format(period=period.where("c.started_at"))


def _channel_times(
    con: duckdb.DuckDBPyConnection, sql: str, supplier: str, percentile: float
) -> dict[str, tuple[int, int, float | None, float]]:
    """Per channel: (events, missed, quantile_cont at the percentile, the maximum finite value)."""
    rows = con.execute(
        f"SELECT channel, count(*), count(*) FILTER (WHERE missed), quantile_cont(seconds, {float(percentile)!r}), "
        f"max(seconds) FILTER (WHERE isfinite(seconds)) FROM ({sql}) GROUP BY channel ORDER BY channel",
        {"supplier": supplier},
    ).fetchall()
    return {ch: (int(n), int(m), None if q is None else float(q), mx) for ch, n, m, q, mx in rows}


def _times_terms(
    con: duckdb.DuckDBPyConnection, contract: Contract, term: str, limits: ChannelLimits, sql: str, what: str
) -> list[TermResult]:
    stats = _channel_times(con, sql, contract.supplier, limits.percentile)
    channels = sorted(set(stats) | {c for c in limits.limit_seconds if c != "default"})
    out = []
    p = _pct(limits.percentile)
    for ch in channels:
        limit = limits.limit(ch)
        if limit is None:
            continue  # the contract sets no limit for this channel
        n, missed, q, _ = stats.get(ch, (0, 0, None, None))
        never = q is not None and math.isinf(q)
        figures = {"channel": ch, "percentile": limits.percentile, "limit_seconds": limit, "count": n,
                   "missed": missed, "value_seconds": None if never else q, "never": never,
                   "min_count": limits.min_count}  # fmt: skip
        requirement = f"{p} <= {_secs(limit)}"
        observed = f"{p} {_secs(q)} over {n} {what}" + (f" ({missed} never handed off)" if missed else "")
        if n < limits.min_count:
            verdict, rule = NOT_ENOUGH, f"fewer than {limits.min_count} {what} on {ch} ({n})"
        elif q is not None and q <= limit:
            verdict, rule = MET, f"{p} within the limit"
        else:
            verdict, rule = BREACHED, f"{p} above the limit"
        out.append(TermResult(contract.contract_id, term, ch, verdict, requirement, observed, rule, figures))
    return out


# ------------------------------------------------------------------------------------------ QA coverage


def coverage_sql(con: duckdb.DuckDBPyConnection, period: Period) -> str:
    """SQL (parameter $supplier): per handler, the period's conversations and how many have a QA score."""
    sources = []
    if table_exists(con, "sample_scores"):
        sources.append(
            "SELECT supplier, conversation_id, simulated FROM sample_scores WHERE passed IS NOT NULL"
        )
    if table_exists(con, "reviews"):
        sources.append(
            "SELECT supplier, conversation_id, source = 'simulated' FROM reviews WHERE superseded_by IS NULL"
        )
    scored = (
        " UNION ALL ".join(sources)
        if sources
        else "SELECT NULL::VARCHAR AS supplier, NULL::VARCHAR AS conversation_id, NULL::BOOLEAN AS simulated"
    )
    return f"""
    WITH s AS (SELECT supplier, conversation_id, bool_and(coalesce(simulated, false)) AS simulated
               FROM ({scored}) t(supplier, conversation_id, simulated) GROUP BY ALL)
    SELECT c.handler, count(*) AS conversations, count(s.conversation_id) AS scored,
           count(*) FILTER (WHERE s.simulated) AS simulated
    FROM conversations c LEFT JOIN s USING (supplier, conversation_id)
    WHERE c.supplier = $supplier AND {period.where("c.started_at")}
    GROUP BY c.handler ORDER BY c.handler
    """


def _coverage_terms(con: duckdb.DuckDBPyConnection, contract: Contract, period: Period) -> list[TermResult]:
    cov = contract.qa_coverage
    assert cov is not None
    rows = {
        h: (int(n), int(k), int(sim))
        for h, n, k, sim in con.execute(coverage_sql(con, period), {"supplier": contract.supplier}).fetchall()
    }
    out = []
    for handler, share in cov.min_share.items():
        n, k, sim = rows.get(handler, (0, 0, 0))
        figures = {"handler": handler, "conversations": n, "scored": k, "simulated": sim,
                   "share": k / n if n else None, "min_share": share}  # fmt: skip
        requirement = f"at least {share:.1%} of {handler} conversations scored"
        observed = f"{k} of {n} scored ({k / n:.1%})" if n else "no conversations"
        if sim:
            observed += f", {sim} by a simulated reviewer"
        if n < cov.min_conversations:
            verdict, rule = NOT_ENOUGH, f"fewer than {cov.min_conversations} {handler} conversations ({n})"
        elif k / n >= share:
            verdict, rule = MET, "share scored at or above the minimum"
        else:
            verdict, rule = BREACHED, "share scored below the minimum"
        out.append(
            TermResult(
                contract.contract_id, "qa_coverage", handler, verdict, requirement, observed, rule, figures
            )
        )
    return out


# ------------------------------------------------------------------------------------------ containment


def containment_sql(period: Period, window_days: int) -> str:
    """SQL (parameter $supplier): one row per AI-started conversation of the period with its judgement.

    Columns: channel, judged (repeat contact knowable), contained, safe, reached_human, repeat, resolved.
    """
    w = f"INTERVAL {int(window_days)} DAY"
    return f"""
    WITH nxt AS (
        SELECT supplier, conversation_id,
               lead(started_at) OVER (PARTITION BY customer_id, journey
                                      ORDER BY started_at, supplier, conversation_id) AS next_at
        FROM conversations WHERE customer_id IS NOT NULL AND journey IS NOT NULL
    ),
    base AS (
        SELECT c.channel, c.handler, c.outcome, c.customer_id, c.journey, c.started_at,
               n.next_at IS NOT NULL AND n.next_at - c.started_at <= {w} AS repeat,
               c.handler = 'ai' AND c.escalation_requested_at IS NULL
                   AND coalesce(c.n_human_agent_turns, 0) = 0 AS ai_alone,
               c.escalation_handed_off_at IS NOT NULL OR coalesce(c.n_human_agent_turns, 0) > 0
                   OR c.outcome = 'transferred' AS reached_human,
               c.customer_id IS NOT NULL AND c.journey IS NOT NULL AND c.outcome IS NOT NULL
                   AND c.started_at <= (SELECT max(started_at) FROM conversations) - {w} AS judged
        FROM conversations c LEFT JOIN nxt n USING (supplier, conversation_id)
        WHERE c.supplier = $supplier AND {period.where("c.started_at")} AND c.handler IN ('ai', 'hybrid')
    )
    SELECT channel, judged, repeat, reached_human, outcome = 'resolved' AS resolved,
           ai_alone AND outcome = 'resolved' AND NOT repeat AS contained,
           (ai_alone AND outcome = 'resolved' AND NOT repeat) OR (reached_human AND NOT repeat) AS safe
    FROM base
    """


def containment_figures(
    con: duckdb.DuckDBPyConnection, supplier: str, period: Period, window_days: int
) -> dict[str, int]:
    """Counts over the AI-started conversations: all, judged, contained, safe, handed_off, repeats, not_judged."""
    row = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE judged), count(*) FILTER (WHERE judged AND contained),
                   count(*) FILTER (WHERE judged AND safe), count(*) FILTER (WHERE judged AND reached_human),
                   count(*) FILTER (WHERE judged AND repeat)
            FROM ({containment_sql(period, window_days)})""",
        {"supplier": supplier},
    ).fetchall()[0]
    keys = ("ai_started", "judged", "contained", "safe", "reached_human", "repeat_contacts")
    out = dict(zip(keys, (int(v) for v in row), strict=True))
    out["not_judged"] = out["ai_started"] - out["judged"]
    return out


def _containment_terms(
    con: duckdb.DuckDBPyConnection, contract: Contract, period: Period
) -> list[TermResult]:
    ct = contract.containment
    assert ct is not None
    f = containment_figures(con, contract.supplier, period, ct.window_days)
    f["window_days"] = ct.window_days
    out = []
    for scope, limit, key in (
        ("contained", ct.min_contained_rate, "contained"),
        ("safe", ct.min_safe_rate, "safe"),
    ):
        if limit is None:
            continue
        n, k = f["judged"], f[key]
        figures = dict(f, rate=k / n if n else None, min_rate=limit)
        label = "contained by the AI" if key == "contained" else "contained or safely handed off"
        requirement = f"at least {limit:.1%} {label} (no repeat contact within {ct.window_days} days)"
        observed = (f"{k} of {n} judged ({k / n:.1%})" if n else "none judged") + (
            f"; {f['not_judged']} too recent or without customer, journey or outcome"
            if f["not_judged"]
            else ""
        )
        if n < ct.min_conversations:
            verdict, rule = NOT_ENOUGH, f"fewer than {ct.min_conversations} judged conversations ({n})"
        elif k / n >= limit:
            verdict, rule = MET, "rate at or above the minimum"
        else:
            verdict, rule = BREACHED, "rate below the minimum"
        out.append(
            TermResult(
                contract.contract_id, "containment", scope, verdict, requirement, observed, rule, figures
            )
        )
    return out


# ------------------------------------------------------------------------------------------- compliance


def compliance_counts(
    con: duckdb.DuckDBPyConnection, supplier: str, period: Period, check_id: str
) -> dict[str, int]:
    """The period's conversations, those with a fresh result of the check, and its fails and applicable (pass + fail)."""
    if not table_exists(con, "check_results"):
        n = con.execute(
            f"SELECT count(*) FROM conversations WHERE supplier = ? AND {period.where()}", [supplier]
        )
        return {"conversations": int(n.fetchall()[0][0]), "checked": 0, "failures": 0, "applicable": 0}
    row = con.execute(
        f"""SELECT count(*), count(r.outcome), count(*) FILTER (WHERE r.outcome = 'fail'),
                   count(*) FILTER (WHERE r.outcome IN ('pass', 'fail'))
            FROM conversations c
            LEFT JOIN check_results r ON r.supplier = c.supplier AND r.conversation_id = c.conversation_id
                 AND r.check_id = ? AND r.content_hash = c.content_hash
            WHERE c.supplier = ? AND {period.where("c.started_at")}""",
        [check_id, supplier],
    ).fetchall()[0]
    return dict(
        zip(("conversations", "checked", "failures", "applicable"), (int(v) for v in row), strict=True)
    )


def _compliance_term(
    con: duckdb.DuckDBPyConnection, contract: Contract, period: Period, lim: ComplianceLimit
) -> TermResult:
    f: dict[str, Any] = compliance_counts(con, contract.supplier, period, lim.check_id)
    n, checked, x, applicable = f["conversations"], f["checked"], f["failures"], f["applicable"]
    unchecked = n - checked
    rate = x / applicable if applicable else None
    f |= {"check_id": lim.check_id, "unchecked": unchecked, "rate": rate, "max_failures": lim.max_failures,
          "max_rate": lim.max_rate, "min_applicable": lim.min_applicable}  # fmt: skip
    parts = []
    if lim.max_failures is not None:
        parts.append(f"at most {lim.max_failures} failing")
    if lim.max_rate is not None:
        parts.append(f"failure rate <= {lim.max_rate:.1%}")
    requirement = " and ".join(parts)
    observed = f"{x} failing of {applicable} applicable" + (f" ({rate:.1%})" if rate is not None else "")
    if unchecked:
        observed += f"; {unchecked} of {n} conversations without a current result"
    breach_count = lim.max_failures is not None and x > lim.max_failures
    # the lowest rate the unchecked conversations could give: they all pass
    low_rate = x / (applicable + unchecked) if applicable + unchecked else None
    breach_rate = (
        lim.max_rate is not None
        and low_rate is not None
        and applicable + unchecked >= lim.min_applicable
        and low_rate > lim.max_rate
    )
    if breach_count or breach_rate:
        verdict = BREACHED
        rule = "more failures than allowed" if breach_count else "failure rate above the maximum"
    elif n == 0:
        verdict, rule = NOT_ENOUGH, "no conversations in the period"
    elif unchecked:
        verdict, rule = (
            NOT_ENOUGH,
            f"{unchecked} conversations have no current {lim.check_id} result (run qa-audit check)",
        )
    elif lim.max_rate is not None and applicable < lim.min_applicable:
        verdict, rule = (
            NOT_ENOUGH,
            f"the rate is over fewer than {lim.min_applicable} applicable conversations ({applicable})",
        )
    else:
        verdict, rule = MET, "within the allowed exceptions"
    return TermResult(
        contract.contract_id, "compliance", lim.check_id, verdict, requirement, observed, rule, f
    )


# ---------------------------------------------------------------------------------------- sampling plan


def _plan_term(
    con: duckdb.DuckDBPyConnection, contract: Contract, period: Period, plan: Any
) -> TermResult | None:
    if plan is None:
        return None
    from audits.nightly.plans import plan_for_night  # noqa: PLC0415

    days = [d for (d,) in con.execute(
        f"SELECT DISTINCT started_at::DATE FROM conversations WHERE supplier = ? AND {period.where()} ORDER BY 1",
        [contract.supplier],
    ).fetchall()]  # fmt: skip
    expected = {d: plan_for_night(plan, d).plan_hash for d in days}
    drawn: dict[dt.date, list[tuple[str, str]]] = {}
    if table_exists(con, "nightly_draws"):
        for night, name, h in con.execute(
            "SELECT night, plan_name, plan_hash FROM nightly_draws WHERE supplier = ? AND night BETWEEN ? AND ?",
            [contract.supplier, period.start, period.end],
        ).fetchall():
            drawn.setdefault(night, []).append((name, h))
    other = sorted(str(n) for n, plans in drawn.items() if any(h != expected.get(n) for _, h in plans))
    agreed = sorted(str(d) for d in days if any(h == expected[d] for _, h in drawn.get(d, [])))
    missing = sorted(str(d) for d in days if d not in drawn)
    figures = {"plan": plan.name, "plan_file": str(contract.sampling_plan), "days": len(days),
               "nights_agreed_plan": agreed, "nights_other_plan": other, "nights_missing": missing}  # fmt: skip
    requirement = f"every night drawn under plan {plan.name!r} ({contract.sampling_plan})"
    observed = f"{len(agreed)} of {len(days)} days drawn under it"
    if other:
        observed += f"; {len(other)} under another plan"
    if other:
        verdict, rule = (
            BREACHED,
            "a night was drawn under a plan other than the agreed one: " + ", ".join(other),
        )
    elif missing or not days:
        verdict, rule = (
            NOT_ENOUGH,
            ("days without a nightly draw: " + ", ".join(missing)) if missing else "no conversations",
        )
    else:
        verdict, rule = MET, "every day drawn under the agreed plan"
    return TermResult(
        contract.contract_id, "sampling_plan", "all", verdict, requirement, observed, rule, figures
    )


# ----------------------------------------------------------------------------------------------- all


def evaluate_contract(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    period: Period | None = None,
    *,
    method: str = "wilson",
) -> ContractEvaluation:
    """Judge every term of `contract` over `period` (default: the supplier's data range); read-only."""
    period = period or data_period(con, contract.supplier) or Period(dt.date.today(), dt.date.today())
    plan = _plan(contract)
    sample = period_sample(
        con, contract.supplier, period, confidence=contract.confidence, method=method,
        plan_name=plan.name if plan is not None else None,
    )  # fmt: skip
    terms: list[TermResult] = []
    seq = None
    if contract.quality_floor is not None:
        term, seq = quality_floor(con, contract, period, sample)
        terms.append(term)
    if contract.escalation_latency is not None:
        terms += _times_terms(con, contract, "escalation_latency", contract.escalation_latency,
                              escalation_sql(con, period), "escalations")  # fmt: skip
    if contract.first_response is not None:
        terms += _times_terms(con, contract, "first_response", contract.first_response,
                              first_response_sql(period), "conversations")  # fmt: skip
    if contract.qa_coverage is not None:
        terms += _coverage_terms(con, contract, period)
    if contract.containment is not None:
        terms += _containment_terms(con, contract, period)
    terms += [_compliance_term(con, contract, period, lim) for lim in contract.compliance]
    plan_term = _plan_term(con, contract, period, plan)
    if plan_term is not None:
        terms.append(plan_term)
    return ContractEvaluation(contract, period, tuple(terms), sample, seq)
