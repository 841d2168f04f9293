"""`qa-audit report`: the HTML report for a QA lead and a buyer, and CSV/Parquet exports of its tables."""

from __future__ import annotations

from pathlib import Path

import click

from audits.cli_common import (
    contract_options,
    json_option,
    library_errors,
    print_json,
    table,
    warehouse_option,
)


@click.command("report")
@click.option(
    "--supplier", default=None, help="One supplier (the report then holds only its data). Default: all."
)
@click.option(
    "--period",
    default=None,
    help="UTC days: 2026-11-05, 2026-11-01..2026-11-07, 2026-W45 or 2026-11. Default: the data's first to last day.",
)
@contract_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="report.html",
    show_default=True,
    help="The HTML file to write.",
)
@click.option(
    "--exports",
    type=click.Path(file_okay=False),
    default=None,
    help="Also write every table shown as CSV and Parquet into this folder.",
)
@warehouse_option
@json_option
@library_errors
def report(
    supplier: str | None,
    period: str | None,
    contract_files: tuple[str, ...],
    contracts_dir: str | None,
    out: str,
    exports: str | None,
    warehouse: str | None,
    as_json: bool,
) -> None:
    """Write the QA audit report (one HTML file that opens offline) and, with --exports, its tables.

    Per supplier: QA pass rates with intervals, failing scorecard sections, edge cases, escalation
    latency and first response against the SLA, containment, QA coverage, compliance exceptions, every
    contract term met / breached / not enough evidence, trends across nights and open findings.
    """
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.contracts.load import contracts_or_default  # noqa: PLC0415
    from audits.period import parse_period  # noqa: PLC0415
    from audits.report import build_report, render_html, write_exports  # noqa: PLC0415

    contracts = contracts_or_default([*contract_files, *([contracts_dir] if contracts_dir else [])])
    when = parse_period(period) if period else None
    con = wh.connect(warehouse, read_only=True)
    try:
        rep = build_report(con, supplier=supplier, period=when, contracts=contracts)
    finally:
        con.close()
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(rep), encoding="utf-8")
    files = [str(p) for p in write_exports(rep, exports)] if exports else []
    rows = [
        {
            "supplier": s.supplier,
            "conversations": s.conversations,
            "scored": s.sample.scored,
            "pass_rate": f"{s.sample.estimate.overall.pass_rate:.1%}" if s.sample.estimate else "",
            "met": s.counts["met"],
            "breached": s.counts["breached"],
            "not_enough_evidence": s.counts["not enough evidence"],
            "open_findings": len(s.tables["findings"]),
        }
        for s in rep.suppliers
    ]
    if as_json:
        print_json({"out": str(target), "period": rep.period.to_dict() if rep.period else None,
                    "contracts": rep.contracts, "suppliers": rows, "warnings": rep.warnings, "exports": files})  # fmt: skip
        return
    click.echo(f"Report for {rep.period.label if rep.period else 'no data'}: {target}")
    click.echo(table(rows, list(rows[0]) if rows else ["supplier"]))
    for w in rep.warnings:
        click.echo(f"warning: {w}")
    if files:
        click.echo(f"{len(files)} export files in {exports}")


COMMANDS = [report]
