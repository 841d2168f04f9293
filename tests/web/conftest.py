"""Review page fixtures: a small warehouse (two suppliers, planted markup, checks, a drawn and assigned
sample, four users) built once per session and copied for each test; a signed-in TestClient."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import conv, write_jsonl

SCRIPT = '<script>alert("pwned")</script>'
MARKUP = '<b onmouseover="steal()">bold</b> & <img src=x onerror=alert(1)>'
SUPPLIERS = ("acme-bpo", "beta-bpo")
N = 24


def _turns(i: int, supplier: str) -> list[dict[str, Any]]:
    t = "2026-11-01T10:00:{:02d}+08:00"
    turns = [
        {"speaker": "ai_agent", "text": "Hi, I'm an AI assistant.", "at": t.format(0)},
        {
            "speaker": "customer",
            "text": f"Where is my refund? {SCRIPT} {MARKUP} secret-{supplier}-{i}",
            "at": t.format(20),
        },
        {
            "speaker": "ai_agent",
            "text": "Refunds take 5-7 business days.",
            "at": t.format(26),
            "kb_article_ids": ["kb-refund"],
        },
    ]
    if i % 4 == 0:  # an agent echoes a card number: pii_echo fails on turn 4
        turns.append(
            {"speaker": "ai_agent", "text": "I see card 4111 1111 1111 1111 on file.", "at": t.format(40)}
        )
    return turns


@dataclass
class Site:
    """A copied warehouse, its draw and the users' tokens."""

    path: Path
    draw_id: str
    tokens: dict[str, str]


@pytest.fixture(scope="session")
def template_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    from audits import warehouse
    from audits.checks.run import run_checks
    from audits.ingest import load_paths
    from audits.sampling import draw, parse_plan
    from audits.scoring import assign_reviews
    from audits.web.auth import add_user

    d = tmp_path_factory.mktemp("web-site")
    records = []
    for i in range(N):
        supplier = SUPPLIERS[i % 2]
        records.append(
            conv(
                conversation_id=f"c{i:02d}",
                supplier=supplier,
                customer_id=f"cust-{i}",
                turns=_turns(i, supplier),
            )
        )
    write_jsonl(d / "conversations.jsonl", records)
    write_jsonl(
        d / "kb.jsonl",
        [
            {
                "article_id": "kb-refund",
                "version": "1",
                "title": "Refunds",
                "body": "Refunds take 5-7 business days.",
                "updated_at": "2026-10-01T00:00:00Z",
            },
            {
                "article_id": "kb-refund",
                "version": "2",
                "title": "Refunds",
                "body": "Refunds take 3 business days.",
                "updated_at": "2026-11-05T00:00:00Z",
            },
        ],
    )
    path = d / "warehouse.duckdb"
    load_paths([d / "conversations.jsonl"], warehouse_path=path)
    load_paths([d / "kb.jsonl"], warehouse_path=path, kind="kb_articles")
    con = warehouse.connect(path)
    try:
        run_checks(con)
        plan = parse_plan(
            {
                "name": "web",
                "population": {"from": "2026-10-31", "to": "2026-11-02", "suppliers": list(SUPPLIERS)},
                "strata": ["supplier"],
                "allocation": "proportional",
                "size": {"n": N},
            },
            "web.yaml",
        )
        draw_id = draw(con, plan, "web-seed").draw_id
        assign_reviews(con, draw_id, ["ann", "bob"], calibration_share=0.25)
        tokens = {
            "ann": add_user(con, "ann", "reviewer"),
            "bob": add_user(con, "bob", "reviewer"),
            "lead": add_user(con, "lead", "qa_lead"),
            "buyer": add_user(con, "buyer", "buyer_auditor", "acme-bpo"),
        }
    finally:
        con.close()
    return Site(path, draw_id, tokens)


@pytest.fixture
def site(template_site: Site, tmp_path: Path) -> Site:
    """A private copy of the session's warehouse."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(template_site.path, path)
    return Site(path, template_site.draw_id, dict(template_site.tokens))


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field in the page"
    return m.group(1)


def sign_in(client: Any, site: Site, name: str) -> None:
    """Sign `name` in through the real form (GET for the CSRF token, then POST)."""
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"name": name, "token": site.tokens[name], "csrf": csrf_of(page.text), "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


@pytest.fixture
def app_client(site: Site) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from audits.web import create_app

    app = create_app(site.path, busy_wait=0.3, retry_seconds=0.2)
    with TestClient(app) as client:
        yield client


def items(path: Path, draw_id: str, **where: str) -> list[tuple[str, str, str, str]]:
    """(supplier, conversation_id, reviewer, role) of the draw's assignments matching `where`, sorted."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        sql = "SELECT supplier, conversation_id, reviewer, role FROM review_assignments WHERE draw_id = ?"
        params: list[Any] = [draw_id]
        for k, v in where.items():
            sql += f" AND {k} = ?"
            params.append(v)
        return con.execute(sql + " ORDER BY ALL", params).fetchall()
    finally:
        con.close()
