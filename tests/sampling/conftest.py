"""Helpers for the sampling tests: synthetic populations inserted with set-based SQL."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from audits import warehouse
from audits.sampling import parse_plan

POPULATION_SQL = """
INSERT INTO conversations (supplier, conversation_id, channel, handler, started_at, market, language, journey,
                           automation_failed, csat, escalation_requested_at, escalation_handed_off_at,
                           is_repeat_contact, content_hash)
SELECT ['acme', 'beta', 'gamma'][i % 3 + 1], 'c-' || i, ['chat', 'voice'][i % 2 + 1], ['ai', 'human'][i % 5 % 2 + 1],
       TIMESTAMPTZ '2026-11-01 00:00:00+00' + to_hours(i % 720), 'SG', 'en', 'refund',
       i % 17 = 0, i % 5 + 1,
       CASE WHEN i % 11 = 0 THEN TIMESTAMPTZ '2026-11-01 00:00:00+00' END,
       CASE WHEN i % 22 = 0 THEN TIMESTAMPTZ '2026-11-01 00:01:00+00' END,
       i % 13 = 0, sha256(i::VARCHAR)
FROM range(?) t(i)
ORDER BY {order}
"""


def populate(con: duckdb.DuckDBPyConnection, n: int, *, shuffle: int | None = None) -> None:
    """Insert n synthetic conversations, in id order or shuffled by a hash keyed on `shuffle`."""
    order = "i" if shuffle is None else f"hash(i + {shuffle})"
    con.execute(POPULATION_SQL.format(order=order), [n])


def make_plan(**changes: Any) -> Any:
    """A valid plan dict with top-level `changes` applied, parsed into a Plan."""
    return parse_plan(plan_dict(**changes), "test-plan.yaml")


def plan_dict(**changes: Any) -> dict[str, Any]:
    """A valid plan as a dict (proportional over supplier x channel, n = 60)."""
    base: dict[str, Any] = {
        "name": "test",
        "population": {"from": "2026-11-01", "to": "2026-11-30", "suppliers": ["acme", "beta", "gamma"]},
        "strata": ["supplier", "channel"],
        "allocation": "proportional",
        "size": {"n": 60},
    }
    base.update(changes)
    return base


@pytest.fixture
def mem() -> Any:
    """An in-memory warehouse with the schema."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    warehouse.ensure_schema(con)
    yield con
    con.close()
