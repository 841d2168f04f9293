"""The SVG charts: well-formed, labels escaped, and the marks where the numbers put them."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from audits.report import charts

NS = {"s": "http://www.w3.org/2000/svg"}
EVIL = '<script>alert("x")</script>&'


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("s:title", NS) is not None and root.find("s:desc", NS) is not None
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


ALL = [
    charts.interval_chart([(EVIL, 0.8, 0.7, 0.9)], floor=0.85, title=EVIL),
    charts.trend_chart([(EVIL, 0.8, 0.7, 0.9), ("b", None, None, None)], floor=0.85, title=EVIL),
    charts.evalue_chart([(EVIL, 0.5), ("b", 3.5)], threshold=20, title=EVIL),
    charts.histogram([1.0, 50.0, 700.0], limit=300, missed=2, title=EVIL),
    charts.bar_chart([(EVIL, 0.25, EVIL)], title=EVIL),
    charts.lines_chart({EVIL: [("2026-11-01", 0.1), ("2026-11-02", 0.2)]}, title=EVIL),
]


@pytest.mark.parametrize("svg", ALL)
def test_well_formed_and_escaped(svg: str) -> None:
    root = parse(svg)
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    assert any(EVIL in t for t in texts(root)) or EVIL in (root.find("s:title", NS).text or "")  # type: ignore[union-attr]


def test_interval_chart_places_points_on_the_axis() -> None:
    """Axis from 50% (a multiple of 10% below the lowest bound) to 100%: 75% sits half-way."""
    svg = charts.interval_chart([("a", 0.75, 0.55, 0.95)], width=720)
    root = parse(svg)
    (circle,) = root.iter("{http://www.w3.org/2000/svg}circle")
    left = 120  # short labels: the minimum margin
    span = 720 - left - 30
    assert float(circle.get("cx", "0")) == pytest.approx(left + span / 2, abs=0.1)


def test_histogram_counts_match_numpy() -> None:
    values = [0.0, 3.0, 7.5, 12.0, 55.0, 55.0, 99.0, 180.0, 950.0, 1446.0]
    edges = charts._bins(values)
    assert edges == [2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0]
    expected, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    svg = charts.histogram(values, missed=3)
    root = parse(svg)
    counts = [
        int(r.find("s:title", NS).text.rsplit(": ", 1)[1])
        for r in root.iter("{http://www.w3.org/2000/svg}rect")
    ]  # type: ignore[union-attr]
    assert counts[:-1] == list(expected) and counts[-1] == 3  # the last bar: never handed off


def test_evalue_chart_marks_the_breach() -> None:
    svg = charts.evalue_chart([("a", math.log(2)), ("b", math.log(25))], threshold=20)
    fills = [c.get("fill") for c in parse(svg).iter("{http://www.w3.org/2000/svg}circle")]
    assert fills == [charts.BLUE, charts.RED]
