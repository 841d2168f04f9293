"""The QA audit report: per supplier and period, the pass rate with intervals, the edge cases, the SLA figures,
each contract term met, breached or without enough evidence, trends across nights and the open findings.

    build_report(con, supplier=, period=, contracts=)  -> Report (tables and inline SVG charts)
    render_html(report)                                 -> one self-contained HTML page
    write_exports(report, dir)                          -> every table as CSV and Parquet
    render_report_html(con, supplier=, period=, contracts=) -> the page in one call (the evidence pack's)

docs/report.md explains every section.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from audits.report.build import Report, SupplierReport, build_report
from audits.report.exports import write_exports
from audits.report.render import render_html

if TYPE_CHECKING:
    import duckdb

    from audits.contracts.model import Contract
    from audits.period import Period


def render_report_html(
    con: duckdb.DuckDBPyConnection,
    *,
    supplier: str | None,
    period: Period | None,
    contracts: Sequence[Contract] | Contract | None = None,
) -> str:
    """The report of `supplier` (None: every supplier) over `period` (None: the data's days) as HTML."""
    return render_html(build_report(con, supplier=supplier, period=period, contracts=contracts))


def write_report_exports(
    con: duckdb.DuckDBPyConnection,
    out_dir: str | os.PathLike[str],
    *,
    supplier: str | None,
    period: Period | None,
    contracts: Sequence[Contract] | Contract | None = None,
) -> list[Path]:
    """The report's tables as CSV and Parquet files in `out_dir`; returns the files written."""
    return write_exports(build_report(con, supplier=supplier, period=period, contracts=contracts), out_dir)


__all__ = [
    "Report",
    "SupplierReport",
    "build_report",
    "render_html",
    "render_report_html",
    "write_exports",
    "write_report_exports",
]
