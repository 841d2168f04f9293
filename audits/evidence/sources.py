"""The pack's two call points into other parts of qa-audit: contract verdicts and the HTML report.

Each is one function, so a change of either library touches one place here.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import duckdb

from audits.period import Period


def contract_evidence(
    con: duckdb.DuckDBPyConnection, supplier: str, period: Period, contracts: Sequence[Any]
) -> list[dict[str, Any]]:
    """Each contract with `supplier` judged over `period` (audits.contracts.evaluate_contract), as plain data."""
    from audits.contracts import evaluate_contract  # noqa: PLC0415

    return [evaluate_contract(con, c, period).to_dict() for c in contracts if c.supplier == supplier]


def report_html(
    con: duckdb.DuckDBPyConnection, supplier: str, period: Period, contracts: Sequence[Any]
) -> tuple[str | None, str | None]:
    """(the supplier's HTML report, None), or (None, why it is not in the pack)."""
    try:
        from audits.report import render_report_html  # noqa: PLC0415
    except ImportError:
        return None, "report.html: audits.report.render_report_html is not available in this version"
    kwargs: dict[str, Any] = {"supplier": supplier, "period": period}
    if "contracts" in inspect.signature(render_report_html).parameters:
        kwargs["contracts"] = list(contracts)
    return str(render_report_html(con, **kwargs)), None
