"""Assembling a report: per supplier, its contract verdicts, tables and charts, for one period.

`build_report` reads the warehouse (read-only: it creates nothing) and returns a `Report`, which
`render_html` turns into one self-contained HTML page and `write_exports` into CSV and Parquet files.
A report scoped to one supplier reads only that supplier's rows and only contracts with that supplier,
so it can go into that supplier's evidence pack.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from audits.contracts.estimates import PeriodSample, period_sample
from audits.contracts.evaluate import ContractEvaluation, data_period, evaluate_contract
from audits.contracts.model import BREACHED, MET, NOT_ENOUGH, Contract
from audits.errors import ConfigError
from audits.period import Period
from audits.report import charts, queries
from audits.report.tables import Column, Table, concat
from audits.warehouse import one, table_exists

DIMENSION_TITLES = {"channel": "channel", "market": "market", "journey": "journey", "handler": "handler"}


@dataclass
class SupplierReport:
    """Everything the report shows for one supplier."""

    supplier: str
    evaluations: list[ContractEvaluation]
    sample: PeriodSample
    sequential: Any | None
    floor: float | None
    tables: dict[str, Table]
    charts: dict[str, Any]
    closed_findings: int
    conversations: int

    @property
    def counts(self) -> dict[str, int]:
        """Terms met, breached and without enough evidence, over the supplier's contracts."""
        out = {MET: 0, BREACHED: 0, NOT_ENOUGH: 0}
        for ev in self.evaluations:
            for k, v in ev.counts.items():
                out[k] += v
        return out


@dataclass
class Report:
    """A report: its scope, period, one SupplierReport per supplier, an overview and warnings."""

    generated_at: dt.datetime
    period: Period | None
    supplier: str | None
    suppliers: list[SupplierReport]
    overview: Table
    contracts: list[str]
    warnings: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, Table]:
        """Every table shown, suppliers' tables of one name concatenated (what the exports hold)."""
        out: dict[str, Table] = {"overview": self.overview}
        names: list[str] = []
        for s in self.suppliers:
            for name in s.tables:
                if name not in names:
                    names.append(name)
        for name in names:
            out[name] = concat([s.tables[name] for s in self.suppliers if name in s.tables])
        return out


def _suppliers(con: duckdb.DuckDBPyConnection, supplier: str | None) -> list[str]:
    if supplier is not None:
        if one(con, "SELECT 1 FROM conversations WHERE supplier = ? LIMIT 1", [supplier]) is None:
            raise ConfigError(f"no conversations of supplier {supplier!r} in the warehouse")
        return [supplier]
    return [s for (s,) in con.execute("SELECT DISTINCT supplier FROM conversations ORDER BY 1").fetchall()]


def _plan_name(contracts: Sequence[Contract]) -> str | None:
    from audits.sampling.plan import load_plan  # noqa: PLC0415

    for c in contracts:
        if c.sampling_plan is not None:
            return load_plan(c.sampling_plan).name
    return None


def _supplier_report(
    con: duckdb.DuckDBPyConnection,
    supplier: str,
    period: Period,
    contracts: Sequence[Contract],
    now: dt.datetime,
) -> SupplierReport:
    evaluations = [evaluate_contract(con, c, period) for c in contracts]
    floor_ev = next((ev for ev in evaluations if ev.contract.quality_floor is not None), None)
    if floor_ev is not None and floor_ev.sample is not None:
        sample = floor_ev.sample
    else:
        sample = period_sample(con, supplier, period, plan_name=_plan_name(contracts))
    sequential = floor_ev.sequential if floor_ev is not None else None
    floor = (
        floor_ev.contract.quality_floor.min_pass_rate
        if floor_ev and floor_ev.contract.quality_floor
        else None
    )
    window = queries.window_days(con, evaluations)
    tables: dict[str, Table] = {}
    tables["terms"] = queries.terms_table(supplier, evaluations)
    tables["pass_rates"] = queries.pass_rate_table(supplier, sample)
    tables["nightly"] = queries.nightly_table(supplier, sample, sequential, con)
    tables["section_failures"], tables["item_failures"] = queries.section_failure_tables(
        con, supplier, period
    )
    tables["edge_cases"] = queries.edge_case_table(con, supplier, period)
    tables["escalation_latency"] = queries.latency_table(con, supplier, period, evaluations)
    tables["first_response"] = queries.first_response_table(con, supplier, period, evaluations)
    tables["containment"] = queries.containment_table(con, supplier, period, window)
    tables["first_contact_resolution"] = queries.fcr_table(con, supplier, period, window)
    tables["qa_coverage"] = queries.coverage_table(con, supplier, period, evaluations)
    tables["compliance"] = queries.compliance_table(con, supplier, period, evaluations)
    tables["findings"], closed = queries.findings_table(con, supplier, now)
    conversations = int(
        con.execute(
            f"SELECT count(*) FROM conversations WHERE supplier = ? AND {period.where()}", [supplier]
        ).fetchall()[0][0]
    )
    return SupplierReport(
        supplier=supplier,
        evaluations=evaluations,
        sample=sample,
        sequential=sequential,
        floor=floor,
        tables=tables,
        charts=_charts(con, supplier, period, sample, sequential, floor, tables, evaluations),
        closed_findings=closed,
        conversations=conversations,
    )


def _charts(
    con: duckdb.DuckDBPyConnection,
    supplier: str,
    period: Period,
    sample: PeriodSample,
    sequential: Any | None,
    floor: float | None,
    tables: dict[str, Table],
    evaluations: Sequence[ContractEvaluation],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rates = tables["pass_rates"]
    for dim, title in DIMENSION_TITLES.items():
        rows = [(r["value"] + f" (n={r['scored']})", r["pass_rate"], r["pass_lower"], r["pass_upper"])
                for r in rates.where(dimension=dim)]  # fmt: skip
        if dim == "channel":
            rows = [(f"all (n={r['scored']})", r["pass_rate"], r["pass_lower"], r["pass_upper"])
                    for r in rates.where(dimension="supplier")] + rows  # fmt: skip
        if rows:
            out[f"pass_{dim}"] = charts.interval_chart(
                rows, floor=floor, title=f"Pass rate by {title}, 95% intervals"
            )
    nightly = tables["nightly"].rows
    if any(r["pass_rate"] is not None for r in nightly):
        out["trend"] = charts.trend_chart(
            [(r["night"].isoformat()[5:], r["pass_rate"], r["pass_lower"], r["pass_upper"]) for r in nightly],
            floor=floor,
            title="Pass rate by night, 95% intervals",
        )
    if sequential is not None and sequential.result is not None:
        path = sequential.result.llr_path
        out["evalue"] = charts.evalue_chart(
            [(n.night.isoformat()[5:], path[i]) for i, n in enumerate(sequential.nights[: len(path)])],
            threshold=1 / sequential.alpha,
            title=f"Sequential breach test (failure rate above {1 - sequential.floor:.0%}?)",
        )
    edge = [r for r in tables["edge_cases"].rows if r["applicable"]]
    if edge:
        out["edge_cases"] = charts.bar_chart(
            [(r["check_id"], r["fail_rate"] or 0.0, f"{r['failures']} of {r['applicable']} ({(r['fail_rate'] or 0) * 100:.1f}%)")
             for r in edge],
            title="Failure rate among the conversations each check applies to",
        )  # fmt: skip
    daily = queries.daily_checks(con, supplier, period)
    worst = [r["check_id"] for r in sorted(edge, key=lambda r: -(r["fail_rate"] or 0))[:6]]
    if daily and worst:
        out["daily_checks"] = charts.lines_chart(
            {cid: [(d.isoformat(), v) for d, v in daily[cid]] for cid in worst if cid in daily},
            title="Daily failure rate of the six checks failing most (applicable conversations)",
        )
    limits = {}
    for ev in evaluations:
        if ev.contract.escalation_latency is not None:
            limits = {
                ch: ev.contract.escalation_latency.limit(ch)
                for ch in ("voice", "chat", "whatsapp", "email", "sms", "social")
            }
            break
    values, missed = queries.latencies(con, supplier, period)
    if values or missed:
        out["latency_all"] = charts.histogram(
            values, missed=missed, title="Escalation latency, all channels (seconds to a human)"
        )
    per_channel = []
    for r in tables["escalation_latency"].rows:
        ch_values, ch_missed = _channel_latencies(con, supplier, period, r["channel"])
        per_channel.append(
            (
                r["channel"],
                charts.histogram(
                    ch_values,
                    limit=limits.get(r["channel"]),
                    missed=ch_missed,
                    width=540,
                    title=f"{r['channel']}: {r['events']} escalations",
                ),
            )  # fmt: skip
        )
    out["latency_channels"] = per_channel
    return out


def _channel_latencies(
    con: duckdb.DuckDBPyConnection, supplier: str, period: Period, channel: str
) -> tuple[list[float], int]:
    from audits.contracts.evaluate import escalation_sql  # noqa: PLC0415

    rows = con.execute(
        f"SELECT seconds, missed FROM ({escalation_sql(con, period)}) WHERE channel = $channel",
        {"supplier": supplier, "channel": channel},
    ).fetchall()
    return [float(s) for s, m in rows if not m], sum(1 for _, m in rows if m)


def _overview(reports: Sequence[SupplierReport]) -> Table:
    rows = []
    for s in reports:  # one row per supplier
        est = s.sample.estimate
        c = s.counts
        rows.append({
            "supplier": s.supplier, "conversations": s.conversations, "scored": s.sample.scored,
            "pass_rate": est.overall.pass_rate if est else None,
            "pass_lower": est.overall.pass_interval.lower if est else None,
            "pass_upper": est.overall.pass_interval.upper if est else None,
            "floor": s.floor, "sequential": s.sequential.verdict if s.sequential is not None else None,
            "met": c[MET], "breached": c[BREACHED], "not_enough": c[NOT_ENOUGH],
            "open_findings": len(s.tables["findings"]), "simulated_scores": s.sample.simulated,
        })  # fmt: skip
    return Table(
        "overview",
        "Overview",
        [
            Column("supplier", "Supplier", "id"),
            Column("conversations", "Conversations", "int"),
            Column("scored", "Scored", "int"),
            Column("pass_rate", "Pass rate", "pct"),
            Column("pass_lower", "Lower", "pct"),
            Column("pass_upper", "Upper", "pct"),
            Column("floor", "Floor", "pct"),
            Column("sequential", "Sequential test", "text"),
            Column("met", "Terms met", "int"),
            Column("breached", "Breached", "int"),
            Column("not_enough", "Not enough evidence", "int"),
            Column("open_findings", "Open findings", "int"),
            Column("simulated_scores", "Simulated scores", "int"),
        ],  # fmt: skip
        rows,
        "One row per supplier over the period.",
    )


def _hide_tagged_names(
    con: duckdb.DuckDBPyConnection, suppliers: Sequence[str], tables: Sequence[Table]
) -> None:
    """Replace the names tagged on the suppliers' conversations (metadata.pii_names) in every text cell.

    Patterns (cards, emails, ...) are redacted when a table is built; names cannot be found by a
    pattern, so the ones a supplier or adapter tagged are removed here, as in an evidence pack.
    """
    from audits.evidence.redact import Redactor, supplier_tagged_names  # noqa: PLC0415

    redactor = Redactor(supplier_tagged_names(con, suppliers))
    if not redactor.names:
        return
    for table in tables:
        text = [c.key for c in table.columns if c.kind in ("text", "verdict", "json")]
        for row in table.rows:  # the report's rows: findings, terms, a few per dimension
            for key in text:
                if isinstance(row.get(key), str):
                    row[key] = redactor.names_only(row[key])


def build_report(
    con: duckdb.DuckDBPyConnection,
    *,
    supplier: str | None = None,
    period: Period | None = None,
    contracts: Sequence[Contract] | Contract | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """The report for one supplier (or all) over `period` (default: the data's days), judged on `contracts`."""
    if isinstance(contracts, Contract):
        contracts = [contracts]
    contracts = list(contracts or [])
    now = now or dt.datetime.now(dt.UTC)
    if not table_exists(con, "conversations"):
        raise ConfigError("the warehouse has no conversations table; load some data first")
    names = _suppliers(con, supplier)
    period = period or data_period(con, supplier)
    warnings = []
    known = set(names)
    used = [c for c in contracts if c.supplier in known]
    if supplier is None:
        for c in contracts:
            if c.supplier not in known:
                warnings.append(
                    f"contract {c.contract_id} ({c.source}): no conversations of supplier {c.supplier!r}"
                )
    reports = []
    if period is not None:
        for name in names:  # a few suppliers
            reports.append(_supplier_report(con, name, period, [c for c in used if c.supplier == name], now))
    if any(r.sample.simulated for r in reports):
        warnings.append(
            "Some scores were made by a simulated reviewer (the demo's ground truth), not by people; "
            "the pass rates show how the report reads, not a supplier's quality."
        )
    if table_exists(con, "check_results") and names:
        stale = con.execute(
            "SELECT count(DISTINCT (r.supplier, r.conversation_id)) FROM check_results r "
            "JOIN conversations c USING (supplier, conversation_id) "
            "WHERE r.content_hash <> c.content_hash AND r.supplier IN (SELECT unnest($s::VARCHAR[]))",
            {"s": names},
        ).fetchall()[0][0]
        if stale:
            warnings.append(
                f"{stale} conversations have check results computed on an older version of the conversation "
                "(run qa-audit check); they count as unchecked."
            )
    overview = _overview(reports)
    _hide_tagged_names(con, names, [overview, *(t for r in reports for t in r.tables.values())])
    return Report(
        generated_at=now,
        period=period,
        supplier=supplier,
        suppliers=reports,
        overview=overview,
        contracts=[f"{c.contract_id} ({c.source})" for c in used],
        warnings=warnings,
    )
