"""The report as one HTML page: Jinja2 with autoescaping on, the template shipped as package data."""

from __future__ import annotations

import re
from typing import Any

from audits.contracts.model import BREACHED, MET, NOT_ENOUGH
from audits.report.build import Report
from audits.report.tables import fmt

TEMPLATE = "report.html.j2"


def _slug(text: Any) -> str:
    """An HTML id from a supplier name: lower case letters, digits and dashes."""
    return "s-" + (re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x")


def _verdict_class(verdict: Any) -> str:
    return {MET: "met", BREACHED: "breached", NOT_ENOUGH: "nee"}.get(str(verdict), "")


def environment() -> Any:
    """The Jinja2 environment: templates from the package, autoescape on, undefined names are errors."""
    import jinja2  # noqa: PLC0415  (heavy-ish, and only needed to render)

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("audits.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters["cell"] = fmt
    env.filters["slug"] = _slug
    env.filters["verdict_class"] = _verdict_class
    return env


def render_html(report: Report) -> str:
    """The report as a self-contained HTML page (inline CSS and SVG, no script, no external resource)."""
    scope = report.supplier or (", ".join(s.supplier for s in report.suppliers) or "no supplier")
    period_label = report.period.label if report.period else "no data"
    return str(
        environment().get_template(TEMPLATE).render(report=report, scope=scope, period_label=period_label)
    )
