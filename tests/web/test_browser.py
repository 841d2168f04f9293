"""End to end in a real browser: the server on 127.0.0.1 (uvicorn in a thread) driven by headless
Chromium through Playwright. Screenshots of the main pages go to $QA_AUDIT_SCREENSHOTS (docs/review/
when refreshing the docs) or the test's tmp folder."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import Site, items

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed_reviews(site: Site) -> None:
    """Calibration items scored by both raters (some answers differ) and one open dispute, for the lead's pages."""
    from audits import warehouse
    from audits.scoring import open_dispute, reviewer_view, submit_review

    cal = items(site.path, site.draw_id, role="calibration")
    everyone = items(site.path, site.draw_id)
    con = warehouse.connect(site.path)
    try:
        for k, (s, c, rater, _) in enumerate(cal):
            primary = next(r for s2, c2, r, role in everyone if (s2, c2) == (s, c) and role == "primary")
            for who in (primary, rater):
                card = reviewer_view(con, site.draw_id, s, c, who).scorecard
                answers = {}
                for j, item in enumerate(card.items):
                    values = list(item.scale.values)
                    pick = values[0] if who == primary or (j + k) % 3 else values[-1]
                    answers[item.id] = pick
                submit_review(
                    con,
                    draw_id=site.draw_id,
                    supplier=s,
                    conversation_id=c,
                    reviewer=who,
                    answers=answers,
                    comments={"tone": "friendly"} if who == rater else None,
                )
        rid = con.execute("SELECT min(review_id) FROM reviews WHERE role = 'primary'").fetchall()[0][0]
        open_dispute(con, rid, "lead", "the card number was masked by the platform")
    finally:
        con.close()


@pytest.fixture
def server(site: Site) -> Iterator[str]:
    import uvicorn

    from audits.web import create_app

    _seed_reviews(site)
    port = _free_port()
    app = create_app(site.path, busy_wait=1.0, retry_seconds=1.0)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=15)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("QA_AUDIT_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _sign_in(page, base: str, site: Site, name: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=token]", site.tokens[name])
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def _submitted(page, reviewer: str) -> int:
    row = page.locator("#by-reviewer tr", has_text=reviewer)
    return int(row.locator("td").nth(2).inner_text())


def test_a_reviewers_day_and_a_buyer_refused(site: Site, server: str, browser, shots: Path) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.goto(server + "/")
    assert page.url.startswith(server + "/login")
    page.screenshot(path=str(shots / "login.png"))
    _sign_in(page, server, site, "ann")
    before = _submitted(page, "ann")
    page.screenshot(path=str(shots / "queue.png"), full_page=True)

    # open the first open primary item and score it
    page.locator("#items tr.status-open", has_text="primary").first.locator("a").click()
    page.wait_for_selector("#score-form")
    html = page.content()
    assert "&lt;script&gt;" in html and page.locator("main script").count() == 0
    assert page.locator("mark.ev-pass").count() > 0
    page.screenshot(path=str(shots / "conversation.png"), full_page=True)
    for fs in page.locator("fieldset.item").all():
        if fs.locator("input[type=radio]:checked").count() == 0:
            fs.locator("input[type=radio]").first.check()
    page.fill("textarea[name='comment:ai_disclosure']", "Disclosed in the first turn.")
    page.click("#submit")
    page.wait_for_selector("#submitted")
    assert "stored: score" in page.locator("#submitted").inner_text()
    assert _submitted(page, "ann") == before + 1
    page.screenshot(path=str(shots / "queue-after-submit.png"), full_page=True)
    ctx.close()

    # the QA lead: calibration and disputes
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    _sign_in(page, server, site, "lead")
    page.goto(server + "/calibration")
    assert page.locator("#agreement").count() == 1
    assert page.locator("details.side-item").count() >= 1
    page.screenshot(path=str(shots / "calibration.png"), full_page=True)
    page.goto(server + "/disputes")
    page.locator("#disputes a").first.click()
    page.wait_for_selector("#resolve-form")
    page.screenshot(path=str(shots / "dispute.png"), full_page=True)
    ctx.close()

    # a buyer auditor: their supplier, read-only and masked; another supplier's page refused
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    _sign_in(page, server, site, "buyer")
    assert "beta-bpo" not in page.content()
    response = page.goto(f"{server}/c/{site.draw_id}/acme-bpo/c00")
    assert response is not None and response.status == 200
    assert page.locator("#score-form").count() == 0 and "4111 1111 1111 1111" not in page.content()
    page.screenshot(path=str(shots / "buyer-conversation.png"), full_page=True)
    response = page.goto(f"{server}/c/{site.draw_id}/beta-bpo/c01")
    assert response is not None and response.status in (403, 404)
    assert "secret-beta-bpo" not in page.content()
    assert re.search(r"Not found|Not allowed", page.content())
    page.screenshot(path=str(shots / "buyer-refused.png"))
    ctx.close()
    assert {p.name for p in shots.glob("*.png")} >= {
        "login.png",
        "queue.png",
        "conversation.png",
        "queue-after-submit.png",
        "calibration.png",
        "dispute.png",
        "buyer-conversation.png",
        "buyer-refused.png",
    }
