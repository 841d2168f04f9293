"""The report: every section there, numbers equal to the library's, text escaped and redacted, exports exact."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from audits.contracts import evaluate_contract
from audits.contracts.estimates import period_sample
from audits.period import Period
from audits.report import build_report, render_html, render_report_html, write_exports, write_report_exports
from audits.report.render import _slug
from audits.report.tables import fmt
from tests.report.conftest import CARD, EMAIL, SUPPLIERS
from tests.report.htmlread import read

PERIOD = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 3))
SECTIONS = ("terms-h", "pass", "trend", "sections", "edge", "latency", "frt", "containment", "coverage",
            "compliance", "findings")  # fmt: skip
TABLES = ("terms", "pass_rates", "nightly", "section_failures", "item_failures", "edge_cases", "escalation_latency",
          "first_response", "containment", "first_contact_resolution", "qa_coverage", "compliance", "findings")  # fmt: skip


@pytest.fixture
def html(ro: Any, contracts: list[Any]) -> str:
    return render_report_html(ro, supplier=None, period=PERIOD, contracts=contracts)


def test_every_section_and_table_for_every_supplier(html: str) -> None:
    doc = read(html)
    for s in SUPPLIERS:
        for section in SECTIONS:
            assert f"{_slug(s)}-{section}" in doc.ids, (s, section)
        for name in TABLES:
            if name in ("findings",) and s != "harbor-cx":
                continue  # only harbor-cx has an open finding: the others say there is none
            assert doc.tables.get((s, name)), (s, name)
    assert len(doc.tables[("", "overview")]) == 3
    assert html.count("<svg") >= 3 * 6  # pass rates, trend, e-value, checks, latencies per supplier
    assert "<script" not in html.lower() and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )


def test_numbers_match_the_library(ro: Any, contracts: list[Any], html: str) -> None:
    doc = read(html)
    overview = {r["Supplier"]: r for r in doc.tables[("", "overview")]}
    for c in contracts:
        s = c.supplier
        ps = period_sample(ro, s, PERIOD, plan_name=f"nightly-{s}")
        assert ps.estimate is not None
        assert overview[s]["Pass rate"] == fmt(ps.estimate.overall.pass_rate, "pct")
        assert overview[s]["Lower"] == fmt(ps.estimate.overall.pass_interval.lower, "pct")
        assert overview[s]["Scored"] == str(ps.scored)
        ev = evaluate_contract(ro, c, PERIOD)
        shown = {(r["Term"], r["Scope"]): r["Verdict"] for r in doc.tables[(s, "terms")]}
        assert shown == {(t.term, t.scope): t.verdict for t in ev.terms}
        assert overview[s]["Breached"] == str(ev.counts["breached"])
        rates = {(r["By"], r["Value"]): r for r in doc.tables[(s, "pass_rates")]}
        for d in ps.domains:
            assert rates[(d.dimension, d.value)]["Pass rate"] == fmt(d.estimate.pass_rate, "pct")
            assert rates[(d.dimension, d.value)]["Upper"] == fmt(d.estimate.pass_interval.upper, "pct")


def test_latency_and_first_response_percentiles_match_numpy(ro: Any, html: str) -> None:
    doc = read(html)
    for s in SUPPLIERS:
        rows = ro.execute(
            "SELECT channel, handoff_latency_seconds, first_response_seconds, escalation_requested_at IS NOT NULL, "
            "escalation_handed_off_at IS NULL FROM conversations WHERE supplier = ? "
            "AND started_at >= '2026-11-01 00:00:00+00' AND started_at < '2026-11-04 00:00:00+00'",
            [s],
        ).fetchall()
        frt = {r["Channel"]: r for r in doc.tables[(s, "first_response")]}
        for ch in {r[0] for r in rows}:
            values = [r[2] for r in rows if r[0] == ch and r[2] is not None]
            if values:
                assert frt[ch]["p90"] == fmt(float(np.percentile(values, 90)), "secs")
                assert frt[ch]["Conversations"] == str(len(values))
        esc = {r["Channel"]: r for r in doc.tables[(s, "escalation_latency")]}
        for ch, row in esc.items():
            handed = [r[1] for r in rows if r[0] == ch and r[3] and not r[4]]
            if row["Never handed off"] == "0":
                assert row["p50"] == fmt(float(np.percentile(handed, 50)), "secs")
                assert row["Escalations"] == str(len(handed))


def test_markup_is_escaped_and_personal_data_redacted(html: str) -> None:
    doc = read(html)
    (finding,) = doc.tables[("harbor-cx", "findings")]
    assert finding["Summary"].startswith("card_number, email: Noted card [card_number] and [email]")
    assert '<script>alert("x")</script>' in finding["Summary"]  # shown as text ...
    assert "&lt;script&gt;" in html and "<img" not in html  # ... because it is escaped
    for secret in (CARD, CARD.replace(" ", ""), EMAIL):
        assert secret not in html


def test_exports_round_trip_and_hold_no_personal_data(ro: Any, contracts: list[Any], tmp_path: Path) -> None:
    report = build_report(ro, period=PERIOD, contracts=contracts)
    files = write_exports(report, tmp_path / "out")
    tables = report.tables()
    assert {p.name for p in files} == {f"{n}.{ext}" for n in tables for ext in ("csv", "parquet")}
    for name, table in tables.items():
        expected = table.to_arrow()
        assert len(expected) == len(table.rows)
        assert pq.read_table(tmp_path / "out" / f"{name}.parquet").equals(expected), name
        back = pacsv.read_csv(
            tmp_path / "out" / f"{name}.csv",
            convert_options=pacsv.ConvertOptions(
                column_types=expected.schema, strings_can_be_null=True, quoted_strings_can_be_null=False
            ),  # fmt: skip
        )
        assert back.equals(expected), name
    assert {r["supplier"] for r in tables["pass_rates"].rows} == set(SUPPLIERS)
    for path in files:
        raw = path.read_bytes()
        if path.suffix == ".parquet":
            raw = str(pq.read_table(path).to_pylist()).encode()
        for secret in (CARD, CARD.replace(" ", ""), EMAIL):
            assert secret.encode() not in raw, path.name
    findings = pq.read_table(tmp_path / "out" / "findings.parquet").to_pylist()
    assert "[card_number]" in findings[0]["summary"]


def test_a_formula_in_transcript_text_is_defused_in_csv_only(report_wh: Path, tmp_path: Path) -> None:
    from audits import warehouse as wh
    from audits.trace.findings import open_finding

    con = wh.connect(report_wh)
    try:
        open_finding(con, supplier="harbor-cx", conversation_id="c-planted-2", kind="other", severity="low",
                     detected_by="qa", summary='=HYPERLINK("http://evil")')  # fmt: skip
        files = write_report_exports(con, tmp_path / "x", supplier="harbor-cx", period=PERIOD)
    finally:
        con.close()
    csv_text = (tmp_path / "x" / "findings.csv").read_text(encoding="utf-8")
    assert '"\'=HYPERLINK(""http://evil"")"' in csv_text
    summaries = [r["summary"] for r in pq.read_table(tmp_path / "x" / "findings.parquet").to_pylist()]
    assert '=HYPERLINK("http://evil")' in summaries
    assert len(files) == 2 * 14


def test_a_supplier_report_holds_only_that_supplier(ro: Any, contracts: list[Any], tmp_path: Path) -> None:
    report = build_report(ro, supplier="lumen-ai", period=PERIOD, contracts=contracts)
    html = render_html(report)
    for other in ("harbor-cx", "northwind-bpo"):
        assert other not in html
    write_exports(report, tmp_path)
    for path in tmp_path.glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        assert "harbor-cx" not in text and "northwind-bpo" not in text, path.name
    assert report.contracts == [f"acme/lumen-ai ({contracts[1].source})"]


def test_without_a_contract_nothing_is_judged(ro: Any) -> None:
    html = render_report_html(ro, supplier="harbor-cx", period=None, contracts=None)
    doc = read(html)
    assert "No contract for harbor-cx was given" in html
    assert ("harbor-cx", "terms") not in doc.tables
    assert doc.tables[("harbor-cx", "pass_rates")]  # everything else is still there
    assert doc.tables[("harbor-cx", "compliance")][0]["Check"] == "pii_echo"
    assert "2026-10-31..2026-11-03" in html  # the data's days (local times east of UTC start on 10-31)


def test_an_unknown_supplier_is_an_error(ro: Any) -> None:
    from audits.errors import ConfigError

    with pytest.raises(ConfigError, match="no conversations of supplier 'nobody'"):
        build_report(ro, supplier="nobody")


def test_a_fresh_warehouse_with_conversations_only(tmp_path: Path) -> None:
    """Loaded but not checked, drawn or reviewed: every section is there and says there is nothing yet."""
    from audits import warehouse as wh
    from audits.ingest import load_paths
    from tests.conftest import conv, write_jsonl

    write_jsonl(tmp_path / "c.jsonl", [conv(conversation_id=f"c{i}") for i in range(3)])
    load_paths([tmp_path / "c.jsonl"], warehouse_path=tmp_path / "w.duckdb", progress=False)
    con = wh.connect(tmp_path / "w.duckdb", read_only=True)
    try:
        html = render_report_html(con, supplier=None, period=None, contracts=None)
    finally:
        con.close()
    doc = read(html)
    assert doc.tables[("", "overview")][0]["Conversations"] == "3"
    assert doc.tables[("acme-bpo", "first_response")][0]["Conversations"] == "3"
    assert (
        html.count("Nothing to show for this period.") >= 6
    )  # pass rates, nightly, sections, edge cases, ...
    for section in SECTIONS:
        assert f"{_slug('acme-bpo')}-{section}" in doc.ids


def test_names_tagged_on_conversations_are_hidden_in_the_report_and_exports(tmp_path: Path) -> None:
    """A name cannot be found by a pattern: one tagged in metadata.pii_names never leaves in a report."""
    from audits import warehouse as wh
    from audits.ingest import load_paths
    from audits.period import parse_period
    from audits.trace.findings import open_finding
    from tests.conftest import conv, write_jsonl

    src = write_jsonl(tmp_path / "c.jsonl", [conv(conversation_id="c-name", supplier="harbor-cx",
                                                  metadata={"pii_names": ["Crystal Minh"]})])  # fmt: skip
    path = tmp_path / "w.duckdb"
    load_paths([src], warehouse_path=path, progress=False)
    con = wh.connect(path)
    try:
        open_finding(con, supplier="harbor-cx", conversation_id="c-name", kind="other", severity="low",
                     detected_by="qa", summary="Crystal Minh was promised a refund; Minh called back")  # fmt: skip
        report = build_report(con, period=parse_period("2026-11-01"))
    finally:
        con.close()
    html = render_html(report)
    assert "[name] was promised a refund; [name] called back" in html
    assert "Crystal" not in html and "Minh" not in html
    write_exports(report, tmp_path / "out")
    for f in (tmp_path / "out").iterdir():
        raw = str(pq.read_table(f).to_pylist()) if f.suffix == ".parquet" else f.read_text(encoding="utf-8")
        assert "Crystal" not in raw and "Minh" not in raw, f.name
