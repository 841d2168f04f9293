"""Scoring fixtures: a drawn sample on a synthetic population, and two small scorecards written as YAML."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from audits import warehouse
from audits.sampling import draw
from tests.sampling.conftest import make_plan, populate

BOT_YAML = """
id: bot
version: "1"
title: AI agents
applies_to: {channels: [chat, voice], handlers: [ai]}
pass_mark: 0.8
sections:
  - id: main
    title: Main
    items:
      - id: disclosed
        question: 'Did the agent say it is an AI, "clearly", before its first answer?'
        guidance: Pass when it did; fail when it did not.
        check: ai_disclosure
      - id: no_pii
        question: Did the agent avoid echoing personal data?
        guidance: Pass when it did; fail when it did not.
        check: pii_echo
        critical: true
      - id: tone
        question: "Tone: how did it feel? (the café test)"
        guidance: Pass when it did; fail when it did not.
        scale: 1-5
      - id: resolved
        question: |
          Was the request resolved?
          Answer na when nothing was asked.
        guidance: Pass when it did; fail when it did not.
        na_allowed: true
"""

PEOPLE_YAML = """
id: people
version: "2"
title: Human agents
applies_to: {channels: [chat, voice], handlers: [human]}
pass_mark: 0.5
sections:
  - id: main
    title: Main
    items:
      - id: greeting
        question: Did the agent greet the customer?
        guidance: Pass when it did; fail when it did not.
      - id: resolved
        question: Was the request resolved?
        guidance: Pass when it did; fail when it did not.
"""

PASSING = {
    "bot": {"disclosed": "yes", "no_pii": "yes", "tone": "5", "resolved": "yes"},
    "people": {"greeting": "yes", "resolved": "yes"},
}
FAILING = {
    "bot": {"disclosed": "yes", "no_pii": "no", "tone": "5", "resolved": "yes"},
    "people": {"greeting": "no", "resolved": "no"},
}


def write_cards(folder: Path, *texts: str) -> Path:
    """Write scorecard YAML texts as files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(texts):
        (folder / f"card{i}.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def cards_dir(tmp_path: Path) -> Path:
    return write_cards(tmp_path / "cards", BOT_YAML, PEOPLE_YAML)


@pytest.fixture
def catalogue(cards_dir: Path) -> dict[tuple[str, str], Any]:
    from audits.scorecards import load_scorecards

    return load_scorecards(cards_dir)


def fresh_db(n: int = 300) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse holding n synthetic conversations."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    warehouse.ensure_schema(con)
    populate(con, n)
    return con


@pytest.fixture
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    con = fresh_db()
    yield con
    con.close()


@pytest.fixture
def draw_id(db: duckdb.DuckDBPyConnection) -> str:
    """A draw of 60 conversations (supplier x channel, proportional) with seed s1."""
    return draw(db, make_plan(), "s1").draw_id


def assignments(con: duckdb.DuckDBPyConnection, draw_id: str) -> list[tuple[Any, ...]]:
    """(supplier, conversation_id, reviewer, role, scorecard_id, scorecard_version) of a draw, sorted."""
    return con.execute(
        "SELECT supplier, conversation_id, reviewer, role, scorecard_id, scorecard_version "
        "FROM review_assignments WHERE draw_id = ? ORDER BY ALL",
        [draw_id],
    ).fetchall()


def one_item(con: duckdb.DuckDBPyConnection, draw_id: str, role: str = "primary") -> tuple[str, ...]:
    """(supplier, conversation_id, reviewer, scorecard_id) of the first assignment in a role."""
    row = con.execute(
        "SELECT supplier, conversation_id, reviewer, scorecard_id FROM review_assignments "
        "WHERE draw_id = ? AND role = ? ORDER BY supplier, conversation_id, reviewer LIMIT 1",
        [draw_id, role],
    ).fetchall()
    return row[0]


def sample_score(
    con: duckdb.DuckDBPyConnection, draw_id: str, supplier: str, cid: str
) -> tuple[Any, ...] | None:
    """(passed, scored_by) of an item in sample_scores, or None."""
    rows = con.execute(
        "SELECT passed, scored_by FROM sample_scores WHERE draw_id = ? AND supplier = ? AND conversation_id = ?",
        [draw_id, supplier, cid],
    ).fetchall()
    return rows[0] if rows else None


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Rows in a table; 0 when the table does not exist."""
    if not warehouse.table_exists(con, table):
        return 0
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
