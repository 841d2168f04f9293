"""The report's tables for one supplier and period, each one set-based query over the warehouse.

Each function returns a `Table` (audits.report.tables) with a `supplier` column, so tables of several
suppliers concatenate into one export. Missing tables (no checks run yet, no reviews, no findings)
give empty tables, never errors: a report on a young warehouse says what is not there yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb

from audits.contracts.estimates import PeriodSample
from audits.contracts.evaluate import (
    ContractEvaluation,
    compliance_counts,
    containment_sql,
    coverage_sql,
    escalation_sql,
    first_response_sql,
)
from audits.ingest.derive import DEFAULT_REPEAT_WINDOW_DAYS, stored_repeat_window
from audits.period import Period
from audits.report.tables import Column, Table, rows_of
from audits.warehouse import scalar, table_exists

QUANTILES = (0.5, 0.9, 0.95, 0.99)
DEFAULT_COMPLIANCE = ("pii_echo", "ai_disclosure", "identity_before_action")

S = Column("supplier", "Supplier", "id")


def terms_table(supplier: str, evaluations: Sequence[ContractEvaluation]) -> Table:
    """Every term of every contract of the supplier, with its verdict and the figures behind it."""
    rows = [
        {"supplier": supplier, **t.to_dict()}
        for ev in evaluations
        for t in ev.terms  # one row per term (tens), not per conversation
    ]
    return Table(
        "terms",
        "Contract terms",
        [
            S,
            Column("contract_id", "Contract", "id"),
            Column("term", "Term", "id"),
            Column("scope", "Scope", "id"),
            Column("requirement", "Requirement", "text"),
            Column("observed", "Observed", "text"),
            Column("verdict", "Verdict", "verdict"),
            Column("rule", "Why", "text"),
            Column("figures", "Figures", "json"),
        ],  # fmt: skip
        rows,
        "Each term of the contract judged over the period: met, breached, or not enough evidence to say.",
    )


def pass_rate_table(supplier: str, sample: PeriodSample) -> Table:
    """The period's QA pass rate: the supplier overall, then by channel, market, journey, handler and night."""
    rows: list[dict[str, Any]] = []
    est = sample.estimate
    if est is not None:
        o = est.overall
        rows.append({
            "supplier": supplier, "dimension": "supplier", "value": supplier, "scored": est.scored,
            "failures": est.failures, "pass_rate": o.pass_rate, "pass_lower": o.pass_interval.lower,
            "pass_upper": o.pass_interval.upper, "simulated_scores": est.simulated_scores,
        })  # fmt: skip
    for d in sample.domains:  # one row per domain
        r = d.row()
        rows.append({"supplier": supplier, **{k: r[k] for k in (
            "dimension", "value", "scored", "failures", "pass_rate", "pass_lower", "pass_upper", "simulated_scores")}})  # fmt: skip
    return Table(
        "pass_rates",
        "QA pass rate with 95% intervals",
        [
            S,
            Column("dimension", "By", "id"),
            Column("value", "Value", "text"),
            Column("scored", "Scored", "int"),
            Column("failures", "Failed", "int"),
            Column("pass_rate", "Pass rate", "pct"),
            Column("pass_lower", "Lower", "pct"),
            Column("pass_upper", "Upper", "pct"),
            Column("simulated_scores", "Simulated", "int"),
        ],  # fmt: skip
        rows,
        "Design-weighted estimates from the nightly samples (edge cases oversampled, weighted back); "
        "the interval is two-sided.",
    )


def nightly_table(
    supplier: str, sample: PeriodSample, sequential: Any, con: duckdb.DuckDBPyConnection
) -> Table:
    """Per night: conversations, the night's sample and pass rate, and the sequential test's running figures."""
    per_day = dict(
        con.execute(
            f"SELECT started_at::DATE, count(*) FROM conversations WHERE supplier = ? AND {sample.period.where()} "
            "GROUP BY 1",
            [supplier],
        ).fetchall()
    )
    nights = {d.value: d for d in sample.domain("night")}
    seq: dict[str, dict[str, Any]] = {}
    if sequential is not None and sequential.result is not None:
        n_cum = x_cum = 0
        path = sequential.result.llr_path
        for i, nc in enumerate(sequential.nights):
            n_cum += nc.n
            x_cum += nc.failures
            seq[nc.night.isoformat()] = {
                "seq_n": n_cum,
                "seq_failures": x_cum,
                "log_e_value": path[i] if i < len(path) else None,
            }
    days = sorted({*(d.isoformat() for d in per_day), *nights, *(n.isoformat() for n, _ in sample.draws)})
    rows = []
    for day in days:  # one row per night
        d = nights.get(day)
        rows.append({
            "supplier": supplier, "night": dt.date.fromisoformat(day), "conversations": per_day.get(dt.date.fromisoformat(day), 0),
            "scored": d.scored if d else 0, "failures": d.failures if d else 0,
            "pass_rate": d.estimate.pass_rate if d else None,
            "pass_lower": d.estimate.pass_interval.lower if d else None,
            "pass_upper": d.estimate.pass_interval.upper if d else None,
            **seq.get(day, {}),
        })  # fmt: skip
    return Table(
        "nightly",
        "Trend across nights",
        [
            S,
            Column("night", "Night", "date"),
            Column("conversations", "Conversations", "int"),
            Column("scored", "Scored", "int"),
            Column("failures", "Failed", "int"),
            Column("pass_rate", "Pass rate", "pct"),
            Column("pass_lower", "Lower", "pct"),
            Column("pass_upper", "Upper", "pct"),
            Column("seq_n", "Test: items so far", "int"),
            Column("seq_failures", "Test: failures so far", "int"),
            Column("log_e_value", "Test: log e-value", "float"),
        ],  # fmt: skip
        rows,
        "Each night's sample on its own; the sequential test accumulates the random strata night after "
        "night and declares a breach once its e-value reaches 1/alpha.",
    )


def section_failure_tables(
    con: duckdb.DuckDBPyConnection, supplier: str, period: Period
) -> tuple[Table, Table]:
    """Scorecard sections and items that fail most, over the counting reviews of the period's conversations."""
    sections = Table(
        "section_failures",
        "Scorecard sections that fail most",
        [
            S,
            Column("scorecard", "Scorecard", "id"),
            Column("section_id", "Section", "id"),
            Column("section_title", "Title", "text"),
            Column("reviews", "Reviews", "int"),
            Column("failed", "Failed", "int"),
            Column("fail_rate", "Fail rate", "pct"),
        ],  # fmt: skip
        note="Share of reviews in which at least one answered item of the section failed (sample counts, "
        "not weighted: edge cases are oversampled).",
    )
    items = Table(
        "item_failures",
        "Scorecard items that fail most",
        [
            S,
            Column("scorecard", "Scorecard", "id"),
            Column("item_id", "Item", "id"),
            Column("question", "Question", "text"),
            Column("answered", "Answered", "int"),
            Column("failed", "Failed", "int"),
            Column("fail_rate", "Fail rate", "pct"),
            Column("overridden", "Check overridden", "int"),
        ],  # fmt: skip
        note="Answers other than n/a; 'check overridden' counts reviewers who changed an automated check's proposal.",
    )
    if not (table_exists(con, "reviews") and table_exists(con, "scorecards")):
        return sections, items
    base = f"""
    WITH counting AS (
        SELECT r.* FROM reviews r JOIN conversations c USING (supplier, conversation_id)
        WHERE r.supplier = $supplier AND {period.where("c.started_at")} AND r.superseded_by IS NULL
          AND r.role IN ('primary', 'dispute')
        QUALIFY row_number() OVER (PARTITION BY r.draw_id, r.supplier, r.conversation_id
                                   ORDER BY r.role = 'dispute' DESC, r.submitted_at DESC, r.review_id DESC) = 1
    ),
    card AS (
        SELECT s.scorecard_id, s.version, sec.value->>'id' AS section_id, sec.value->>'title' AS section_title,
               it.value->>'id' AS item_id, it.value->>'question' AS question,
               from_json(sc.value->'fail', '["VARCHAR"]') AS fail_values
        FROM scorecards s, json_each(s.body->'sections') sec, json_each(sec.value->'items') it,
             json_each(s.body->'scales') sc
        WHERE sc.key = it.value->>'scale'
    ),
    answers AS (
        SELECT k.review_id, k.scorecard_id || '@' || k.scorecard_version AS scorecard, card.section_id,
               card.section_title, a.item_id, card.question, list_contains(card.fail_values, a.value) AS failed,
               coalesce(a.overridden, false) AS overridden
        FROM counting k JOIN review_answers a USING (review_id)
        JOIN card ON card.scorecard_id = k.scorecard_id AND card.version = k.scorecard_version
             AND card.item_id = a.item_id
        WHERE a.value <> 'na'
    )
    """
    params = {"supplier": supplier}
    sections.extend(
        {"supplier": supplier, **r}
        for r in rows_of(con.execute(base + """
            SELECT scorecard, section_id, any_value(section_title) AS section_title, count(*) AS reviews,
                   count(*) FILTER (WHERE failed) AS failed, count(*) FILTER (WHERE failed) / count(*) AS fail_rate
            FROM (SELECT review_id, scorecard, section_id, any_value(section_title) AS section_title,
                         bool_or(failed) AS failed FROM answers GROUP BY ALL)
            GROUP BY scorecard, section_id ORDER BY fail_rate DESC, failed DESC, scorecard, section_id""", params))
    )  # fmt: skip
    items.extend(
        {"supplier": supplier, **r}
        for r in rows_of(con.execute(base + """
            SELECT scorecard, item_id, any_value(question) AS question, count(*) AS answered,
                   count(*) FILTER (WHERE failed) AS failed, count(*) FILTER (WHERE failed) / count(*) AS fail_rate,
                   count(*) FILTER (WHERE overridden) AS overridden
            FROM answers GROUP BY scorecard, item_id HAVING count(*) FILTER (WHERE failed) > 0
            ORDER BY failed DESC, fail_rate DESC, scorecard, item_id LIMIT 15""", params))
    )  # fmt: skip
    return sections, items


def edge_case_table(con: duckdb.DuckDBPyConnection, supplier: str, period: Period) -> Table:
    """Per automated check: how many of the period's conversations it failed, of those it applied to."""
    from audits.checks.run import BY_ID  # noqa: PLC0415

    table = Table(
        "edge_cases",
        "Edge cases found by the automated checks",
        [
            S,
            Column("check_id", "Check", "id"),
            Column("title", "What it finds", "text"),
            Column("conversations", "Conversations", "int"),
            Column("checked", "Checked", "int"),
            Column("applicable", "Applicable", "int"),
            Column("failures", "Failed", "int"),
            Column("fail_rate", "Fail rate (applicable)", "pct"),
            Column("fail_share", "Share of all", "pct"),
        ],  # fmt: skip
        note="Every conversation is checked (a census, not a sample); results computed on an older version "
        "of a conversation are not counted.",
    )
    if not table_exists(con, "check_results"):
        return table
    rows = rows_of(con.execute(
        f"""
        WITH c AS (SELECT supplier, conversation_id, content_hash FROM conversations
                   WHERE supplier = $supplier AND {period.where()}),
        ids AS (SELECT DISTINCT check_id FROM check_results WHERE supplier = $supplier)
        SELECT ids.check_id, (SELECT count(*) FROM c) AS conversations, count(r.outcome) AS checked,
               count(*) FILTER (WHERE r.outcome IN ('pass', 'fail')) AS applicable,
               count(*) FILTER (WHERE r.outcome = 'fail') AS failures
        FROM ids CROSS JOIN c
        LEFT JOIN check_results r ON r.supplier = c.supplier AND r.conversation_id = c.conversation_id
             AND r.check_id = ids.check_id AND r.content_hash = c.content_hash
        GROUP BY ids.check_id
        """,
        {"supplier": supplier},
    ))  # fmt: skip
    order = {cid: i for i, cid in enumerate(BY_ID)}
    rows.sort(key=lambda r: (order.get(r["check_id"], 99), r["check_id"]))
    table.extend(
        {
            "supplier": supplier, **r, "title": BY_ID[r["check_id"]].title if r["check_id"] in BY_ID else "",
            "fail_rate": r["failures"] / r["applicable"] if r["applicable"] else None,
            "fail_share": r["failures"] / r["conversations"] if r["conversations"] else None,
        }
        for r in rows
    )  # fmt: skip
    return table


def _verdicts(evaluations: Sequence[ContractEvaluation], term: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for ev in evaluations:
        for t in ev.terms:
            if t.term == term:
                out.setdefault(t.scope, {"verdict": t.verdict, **t.figures})
    return out


def _times_table(
    con: duckdb.DuckDBPyConnection, supplier: str, sql: str, name: str, title: str, what: str,
    verdicts: dict[str, dict[str, Any]], note: str,
) -> Table:  # fmt: skip
    qs = ", ".join(f"quantile_cont(seconds, {q!r}) AS p{round(q * 100)}" for q in QUANTILES)
    rows = rows_of(con.execute(
        f"SELECT channel, count(*) AS events, count(*) FILTER (WHERE missed) AS missed, {qs}, "
        f"max(seconds) FILTER (WHERE isfinite(seconds)) AS max_finite FROM ({sql}) GROUP BY channel ORDER BY channel",
        {"supplier": supplier},
    ))  # fmt: skip
    for r in rows:
        v = verdicts.get(r["channel"], {})
        pct = v.get("percentile")
        r.update(supplier=supplier, percentile=f"p{round(pct * 100, 2):g}" if pct else None, limit_seconds=v.get("limit_seconds"),
                 verdict=v.get("verdict"))  # fmt: skip
    cols = [S, Column("channel", "Channel", "id"), Column("events", what, "int")]
    if name == "escalation_latency":
        cols.append(Column("missed", "Never handed off", "int"))
    cols += [Column(f"p{round(q * 100)}", f"p{round(q * 100)}", "secs") for q in QUANTILES]
    cols += [Column("max_finite", "Max", "secs"), Column("percentile", "Contract percentile", "id"),
             Column("limit_seconds", "Limit", "secs"), Column("verdict", "Verdict", "verdict")]  # fmt: skip
    return Table(name, title, cols, rows, note)


def latency_table(
    con: duckdb.DuckDBPyConnection, supplier: str, period: Period, evaluations: Sequence[ContractEvaluation]
) -> Table:
    """Escalation latency percentiles per channel against the contract's limit."""
    return _times_table(
        con, supplier, escalation_sql(con, period), "escalation_latency", "Escalation latency (request to human)",
        "Escalations", _verdicts(evaluations, "escalation_latency"),
        "Seconds from the customer's request for a human to the hand-off; a hand-off that never came counts "
        "as never (infinite), so more than 5% missed makes the p95 'never'.",
    )  # fmt: skip


def latencies(con: duckdb.DuckDBPyConnection, supplier: str, period: Period) -> tuple[list[float], int]:
    """The period's finite escalation latencies (for the histogram) and the number never handed off."""
    rows = con.execute(
        f"SELECT seconds, missed FROM ({escalation_sql(con, period)})", {"supplier": supplier}
    ).fetchall()
    return [float(s) for s, m in rows if not m], sum(1 for _, m in rows if m)


def first_response_table(
    con: duckdb.DuckDBPyConnection, supplier: str, period: Period, evaluations: Sequence[ContractEvaluation]
) -> Table:
    """First response time percentiles per channel against the contract's limit."""
    return _times_table(
        con, supplier, first_response_sql(period), "first_response", "First response time", "Conversations",
        _verdicts(evaluations, "first_response"),
        "Seconds from the customer's first message to the first agent reply, over conversations with both times.",
    )  # fmt: skip


def window_days(con: duckdb.DuckDBPyConnection, evaluations: Sequence[ContractEvaluation]) -> int:
    """The repeat-contact window: the contract's, else the warehouse's, else the loader's default (7 days)."""
    for ev in evaluations:
        if ev.contract.containment is not None:
            return ev.contract.containment.window_days
    stored = stored_repeat_window(con) if table_exists(con, "meta") else None
    return stored if stored else DEFAULT_REPEAT_WINDOW_DAYS


def containment_table(con: duckdb.DuckDBPyConnection, supplier: str, period: Period, window: int) -> Table:
    """Containment and safe hand-off of AI-started conversations, per channel and in all."""
    rows = rows_of(con.execute(
        f"""SELECT coalesce(channel, 'all') AS channel, count(*) AS ai_started,
                   count(*) FILTER (WHERE judged) AS judged,
                   count(*) FILTER (WHERE judged AND contained) AS contained,
                   count(*) FILTER (WHERE judged AND safe) AS safe,
                   count(*) FILTER (WHERE judged AND reached_human) AS reached_human,
                   count(*) FILTER (WHERE judged AND repeat) AS repeat_contacts
            FROM ({containment_sql(period, window)}) GROUP BY ROLLUP (channel)
            ORDER BY channel IS NULL DESC, channel""",
        {"supplier": supplier},
    ))  # fmt: skip
    for r in rows:
        n = r["judged"]
        r.update(supplier=supplier, window_days=window, contained_rate=r["contained"] / n if n else None,
                 safe_rate=r["safe"] / n if n else None)  # fmt: skip
    return Table(
        "containment",
        "Containment and safe hand-off (AI-started conversations)",
        [
            S,
            Column("channel", "Channel", "id"),
            Column("ai_started", "AI-started", "int"),
            Column("judged", "Judged", "int"),
            Column("contained", "Contained", "int"),
            Column("contained_rate", "Containment", "pct"),
            Column("reached_human", "Reached a human", "int"),
            Column("safe", "Contained or safe hand-off", "int"),
            Column("safe_rate", "Safe rate", "pct"),
            Column("repeat_contacts", "Came back", "int"),
            Column("window_days", "Window (days)", "int"),
        ],  # fmt: skip
        rows,
        f"Judged: a customer id, a journey and an outcome, and started at least {window} days before the "
        "latest conversation (so a repeat contact would be in the warehouse). Contained: the AI alone resolved it "
        "and the customer did not come back on the same journey within the window.",
    )


def fcr_table(con: duckdb.DuckDBPyConnection, supplier: str, period: Period, window: int) -> Table:
    """First-contact resolution per channel: resolved, and no repeat contact on the journey in the window."""
    w = f"INTERVAL {int(window)} DAY"
    rows = rows_of(con.execute(
        f"""
        WITH nxt AS (
            SELECT supplier, conversation_id,
                   lead(started_at) OVER (PARTITION BY customer_id, journey
                                          ORDER BY started_at, supplier, conversation_id) AS next_at
            FROM conversations WHERE customer_id IS NOT NULL AND journey IS NOT NULL
        ),
        j AS (
            SELECT c.channel, c.outcome = 'resolved'
                   AND NOT (n.next_at IS NOT NULL AND n.next_at - c.started_at <= {w}) AS fcr
            FROM conversations c JOIN nxt n USING (supplier, conversation_id)
            WHERE c.supplier = $supplier AND {period.where("c.started_at")} AND c.outcome IS NOT NULL
              AND c.started_at <= (SELECT max(started_at) FROM conversations) - {w}
        )
        SELECT coalesce(channel, 'all') AS channel, count(*) AS judged, count(*) FILTER (WHERE fcr) AS resolved_first
        FROM j GROUP BY ROLLUP (channel) ORDER BY channel IS NULL DESC, channel
        """,
        {"supplier": supplier},
    ))  # fmt: skip
    for r in rows:
        r.update(
            supplier=supplier,
            rate=r["resolved_first"] / r["judged"] if r["judged"] else None,
            window_days=window,
        )
    return Table(
        "first_contact_resolution",
        "First-contact resolution",
        [
            S,
            Column("channel", "Channel", "id"),
            Column("judged", "Judged", "int"),
            Column("resolved_first", "Resolved at first contact", "int"),
            Column("rate", "FCR", "pct"),
            Column("window_days", "Window (days)", "int"),
        ],  # fmt: skip
        rows,
        "All handlers: resolved, and the same customer did not come back on the same journey within the window.",
    )


def coverage_table(
    con: duckdb.DuckDBPyConnection, supplier: str, period: Period, evaluations: Sequence[ContractEvaluation]
) -> Table:
    """QA coverage per handler: conversations with a QA score, against the contract's minimum share."""
    verdicts = _verdicts(evaluations, "qa_coverage")
    rows = rows_of(con.execute(coverage_sql(con, period), {"supplier": supplier}))
    for r in rows:
        v = verdicts.get(r["handler"], {})
        r.update(supplier=supplier, share=r["scored"] / r["conversations"] if r["conversations"] else None,
                 min_share=v.get("min_share"), verdict=v.get("verdict"))  # fmt: skip
    return Table(
        "qa_coverage",
        "QA coverage",
        [
            S,
            Column("handler", "Handler", "id"),
            Column("conversations", "Conversations", "int"),
            Column("scored", "Scored by QA", "int"),
            Column("share", "Share", "pct"),
            Column("simulated", "Simulated", "int"),
            Column("min_share", "Contract minimum", "pct"),
            Column("verdict", "Verdict", "verdict"),
        ],  # fmt: skip
        rows,
        "A conversation is covered when it has a QA score (a reviewed sample item or any current review).",
    )


def compliance_table(
    con: duckdb.DuckDBPyConnection, supplier: str, period: Period, evaluations: Sequence[ContractEvaluation]
) -> Table:
    """Compliance exceptions: the contract's checks (or the usual ones) with failures and the allowance."""
    verdicts = _verdicts(evaluations, "compliance")
    checks = list(verdicts) or list(DEFAULT_COMPLIANCE)
    rows = []
    for cid in checks:  # a handful of checks, one query each
        f = compliance_counts(con, supplier, period, cid)
        v = verdicts.get(cid, {})
        allowed = []
        if v.get("max_failures") is not None:
            allowed.append(f"at most {v['max_failures']}")
        if v.get("max_rate") is not None:
            allowed.append(f"rate <= {v['max_rate']:.1%}")
        rows.append({"supplier": supplier, "check_id": cid, **f,
                     "rate": f["failures"] / f["applicable"] if f["applicable"] else None,
                     "allowed": " and ".join(allowed) or None, "verdict": v.get("verdict")})  # fmt: skip
    return Table(
        "compliance",
        "Compliance exceptions",
        [
            S,
            Column("check_id", "Check", "id"),
            Column("conversations", "Conversations", "int"),
            Column("checked", "Checked", "int"),
            Column("applicable", "Applicable", "int"),
            Column("failures", "Exceptions", "int"),
            Column("rate", "Rate", "pct"),
            Column("allowed", "Allowed", "text"),
            Column("verdict", "Verdict", "verdict"),
        ],  # fmt: skip
        rows,
        "Exceptions are failing conversations of the check over the period (every conversation is checked).",
    )


def findings_table(con: duckdb.DuckDBPyConnection, supplier: str, now: dt.datetime) -> tuple[Table, int]:
    """Open findings (state other than closed) with their trace status, and how many are closed."""
    table = Table(
        "findings",
        "Open findings and their trace",
        [
            S,
            Column("finding_id", "Finding", "id"),
            Column("conversation_id", "Conversation", "id"),
            Column("kind", "Kind", "id"),
            Column("severity", "Severity", "id"),
            Column("state", "Trace status", "id"),
            Column("detected_at", "Detected", "datetime"),
            Column("days_open", "Days open", "float"),
            Column("detected_by", "Detected by", "text"),
            Column("article", "KB article", "text"),
            Column("root_cause", "Root cause", "id"),
            Column("last_event", "Last event", "id"),
            Column("last_event_at", "At", "datetime"),
            Column("summary", "Summary", "text"),
        ],  # fmt: skip
        note="Every finding not yet closed, whatever the period, oldest first; text is redacted.",
    )
    if not table_exists(con, "findings"):
        return table, 0
    closed = int(
        scalar(con, "SELECT count(*) FROM findings WHERE supplier = ? AND state = 'closed'", [supplier])
    )
    rows = rows_of(con.execute(
        """
        SELECT f.finding_id, f.conversation_id, f.kind, f.severity, f.state, f.detected_at,
               round(epoch($now::TIMESTAMPTZ - f.detected_at) / 86400, 1) AS days_open, f.detected_by,
               CASE WHEN f.article_id IS NOT NULL THEN f.article_id || ' v' || coalesce(f.article_version, '?') END
                   AS article,
               f.root_cause, e.event AS last_event, e."at" AS last_event_at, f.summary
        FROM findings f
        LEFT JOIN (SELECT finding_id, arg_max(event, seq) AS event, arg_max("at", seq) AS "at"
                   FROM finding_events GROUP BY finding_id) e USING (finding_id)
        WHERE f.supplier = $supplier AND f.state <> 'closed'
        ORDER BY f.detected_at, f.finding_id
        """,
        {"supplier": supplier, "now": now},
    ))  # fmt: skip
    table.extend({"supplier": supplier, **r} for r in rows)
    return table, closed


def daily_checks(
    con: duckdb.DuckDBPyConnection, supplier: str, period: Period
) -> dict[str, list[tuple[dt.date, float]]]:
    """Per check with any failure in the period: (day, failure rate among applicable) for the trend chart."""
    if not table_exists(con, "check_results"):
        return {}
    out: dict[str, list[tuple[dt.date, float]]] = {}
    for cid, day, rate in con.execute(
        f"""SELECT r.check_id, c.started_at::DATE AS day,
                   count(*) FILTER (WHERE r.outcome = 'fail') / count(*) AS rate
            FROM conversations c JOIN check_results r USING (supplier, conversation_id)
            WHERE c.supplier = ? AND {period.where("c.started_at")} AND r.outcome IN ('pass', 'fail')
              AND r.content_hash = c.content_hash
              AND r.check_id IN (SELECT check_id FROM check_results r2 JOIN conversations c2 USING (supplier, conversation_id)
                                 WHERE r2.supplier = ? AND r2.outcome = 'fail' AND {period.where("c2.started_at")})
            GROUP BY ALL ORDER BY r.check_id, day""",
        [supplier, supplier],
    ).fetchall():
        out.setdefault(cid, []).append((day, float(rate)))
    return out
