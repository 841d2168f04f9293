"""The report opened in headless Chromium: charts and tables render, nothing is fetched, the page is not blank.

The full-page screenshot goes to $QA_AUDIT_SCREENSHOTS (kept for a person to look at) or the test's
temporary folder. The PNG is decoded by the browser itself (a canvas), since no imaging library is
installed: distinct colours and the share of non-background pixels are counted on every 5th row.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

from audits.period import Period
from audits.report import render_report_html

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip

COUNT_PIXELS = """async (src) => {
    const img = new Image();
    img.src = src;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = img.width; canvas.height = img.height;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const colours = new Set();
    let sampled = 0, ink = 0;
    for (let y = 0; y < img.height; y += 5) {
        const row = ctx.getImageData(0, y, img.width, 1).data;
        for (let i = 0; i < row.length; i += 4) {
            const rgb = (row[i] << 16) | (row[i + 1] << 8) | row[i + 2];
            colours.add(rgb);
            sampled++;
            if (rgb !== 0xffffff && rgb !== 0xf7fafc) ink++;
        }
    }
    return {width: img.width, height: img.height, colours: colours.size, ink: ink / sampled};
}"""


def screenshots_folder(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("QA_AUDIT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.slow
def test_the_report_renders_in_headless_chromium(ro: Any, contracts: list[Any], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is needed at /usr/bin/chromium (apt-get install chromium)"
    page_file = tmp_path / "report.html"
    period = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 3))
    page_file.write_text(
        render_report_html(ro, supplier=None, period=period, contracts=contracts), encoding="utf-8"
    )
    shot = screenshots_folder(tmp_path) / "report-full-page.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            requests: list[str] = []
            problems: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")

            boxes = page.eval_on_selector_all(
                "svg.chart",
                "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })",
            )
            assert len(boxes) >= 18, boxes
            assert all(w > 200 and h > 60 for w, h in boxes), boxes
            marks = page.eval_on_selector_all(
                "svg.chart circle, svg.chart rect",
                "els => els.filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; }).length",
            )
            assert marks > 100  # the dots of the intervals, the bars of the histograms
            tables = page.eval_on_selector_all(
                "table[data-table]",
                "ts => ts.map(t => [t.dataset.table, t.tBodies[0].rows.length, t.getBoundingClientRect().height])",
            )
            assert len(tables) >= 3 * 12 + 1
            assert all(rows > 0 and height > 20 for _, rows, height in tables), tables
            overflowing = page.evaluate(
                "Array.from(document.querySelectorAll('.scroll'))"
                ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.querySelector('table').dataset.table)"
            )
            assert overflowing == []  # every table fits the page at 1280 pixels
            page.screenshot(path=str(shot), full_page=True)
            assert requests == [page_file.as_uri()], requests  # nothing fetched: the page opens offline
            assert problems == []

            check = browser.new_page()
            stats = check.evaluate(
                COUNT_PIXELS, "data:image/png;base64," + base64.b64encode(shot.read_bytes()).decode()
            )
        finally:
            browser.close()
    assert stats["width"] == 1280 and stats["height"] > 5000
    assert stats["colours"] > 50, stats  # text, badges, chart colours: not a blank page
    assert 0.03 < stats["ink"] < 0.6, stats
