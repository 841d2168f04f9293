"""Stored draws: one transaction, idempotent, and `verify` says exactly what changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from audits import warehouse
from audits.errors import ConfigError
from audits.sampling import draw, parse_plan, select, verify
from audits.sampling.draw import draw_id_for
from tests.sampling.conftest import make_plan, populate


def counts(con: Any) -> tuple[int, int, int]:
    return con.execute(
        "SELECT (SELECT count(*) FROM draws), (SELECT count(*) FROM draw_items), (SELECT count(*) FROM draw_strata)"
    ).fetchall()[0]


def test_draw_stores_and_is_idempotent(tmp_path: Path) -> None:
    plan = make_plan(edge_cases=[{"name": "repeat_contact", "rate": 0.2, "cap": 10}])
    with warehouse.open_warehouse(tmp_path / "w.duckdb") as con:
        populate(con, 2000)
        first = draw(con, plan, 2026)
        assert not first.existing
        assert first.draw_id == draw_id_for(plan.plan_hash, "2026", first.population_fingerprint)
        assert counts(con) == (1, len(first.items), len(first.strata)) and len(first.items) == 70
        stored = con.execute(
            "SELECT plan_name, plan_hash, plan_json, seed, population_count FROM draws"
        ).fetchall()[0]
        assert stored[:2] == ("test", plan.plan_hash) and stored[3:] == ("2026", 2000)
        assert parse_plan(json.loads(stored[2])).plan_hash == plan.plan_hash
    with warehouse.open_warehouse(tmp_path / "w.duckdb") as con:
        again = draw(con, plan, "2026")
        assert again.existing and again.draw_id == first.draw_id
        assert again.items == first.items and again.strata == first.strata
        assert again.created_at == first.created_at
        assert counts(con) == (1, 70, 7)
        other = draw(con, plan, "2027")
        assert not other.existing and counts(con)[0] == 2


def test_draw_is_one_transaction(mem: Any) -> None:
    """A failure on the last insert leaves no draw, no items and no strata behind."""
    populate(mem, 500)
    plan = make_plan()
    real_execute = mem.execute
    calls: list[str] = []

    class Flaky:
        def __getattr__(self, name: str) -> Any:
            return getattr(mem, name)

        def execute(self, sql: str, *args: Any) -> Any:
            calls.append(sql)
            if sql.startswith("INSERT INTO draw_strata"):
                raise RuntimeError("disk full")
            return real_execute(sql, *args)

    with pytest.raises(RuntimeError, match="disk full"):
        draw(Flaky(), plan, "x")  # type: ignore[arg-type]
    assert any(c.startswith("INSERT INTO draw_items") for c in calls)
    assert counts(mem) == (0, 0, 0)


@pytest.fixture
def drawn(mem: Any) -> tuple[Any, Any, Any]:
    populate(mem, 1000)
    plan = make_plan(strata=[], size={"n": 10})
    result = draw(mem, plan, "v")
    return mem, plan, result


def test_verify_ok_untouched(drawn: tuple[Any, Any, Any]) -> None:
    con, _, result = drawn
    report = verify(con, result.draw_id)
    assert report.ok and report.population_count == (1000, 1000)
    assert not (report.missing or report.extra or report.changed or report.strata_changed)


def test_verify_after_deleting_an_unselected_conversation(drawn: tuple[Any, Any, Any]) -> None:
    con, _, result = drawn
    chosen = {i.conversation_id for i in result.items}
    victim = next(f"c-{i}" for i in range(1000) if f"c-{i}" not in chosen)
    con.execute("DELETE FROM conversations WHERE conversation_id = ?", [victim])
    report = verify(con, result.draw_id)
    assert not report.ok
    assert report.population_count == (1000, 999)
    assert (
        report.population_fingerprint[0] == result.population_fingerprint != report.population_fingerprint[1]
    )
    assert report.missing == () and report.extra == ()
    # every item's probability and weight moves from 10/1000 to 10/999, nothing else
    assert {(c[2], c[3], c[4]) for c in report.changed} == {
        ("inclusion_probability", 10 / 1000, 10 / 999),
        ("weight", 1 / (10 / 1000), 1 / (10 / 999)),
    }
    assert len(report.changed) == 20
    assert report.strata_changed == (("all", "population", 1000, 999),)


def test_verify_after_deleting_a_selected_conversation(drawn: tuple[Any, Any, Any]) -> None:
    con, plan, result = drawn
    victim = result.items[0]
    con.execute("DELETE FROM conversations WHERE conversation_id = ?", [victim.conversation_id])
    now = select(con, plan, "v")
    report = verify(con, result.draw_id)
    assert report.missing == ((victim.supplier, victim.conversation_id),)
    new = {(i.supplier, i.conversation_id) for i in now.items} - {
        (i.supplier, i.conversation_id) for i in result.items
    }
    assert report.extra == tuple(new) and len(new) == 1
    assert report.population_count == (1000, 999)


def test_verify_after_changing_a_content_hash(drawn: tuple[Any, Any, Any]) -> None:
    con, _, result = drawn
    con.execute("UPDATE conversations SET content_hash = 'tampered' WHERE conversation_id = 'c-500'")
    report = verify(con, result.draw_id)
    assert not report.ok
    assert report.population_count == (1000, 1000)
    assert report.population_fingerprint[0] != report.population_fingerprint[1]
    assert not (report.missing or report.extra or report.changed or report.strata_changed)


def test_verify_after_editing_a_stored_item(drawn: tuple[Any, Any, Any]) -> None:
    con, _, result = drawn
    item = result.items[3]
    con.execute(
        "UPDATE draw_items SET weight = 1.0 WHERE draw_id = ? AND conversation_id = ?",
        [result.draw_id, item.conversation_id],
    )
    report = verify(con, result.draw_id)
    assert not report.ok
    assert report.changed == ((item.supplier, item.conversation_id, "weight", 1.0, 100.0),)
    assert not (report.missing or report.extra or report.strata_changed)
    assert report.population_fingerprint[0] == report.population_fingerprint[1]


def test_verify_unknown_draw(drawn: tuple[Any, Any, Any], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no draw 'nope'"):
        verify(drawn[0], "nope")
    with (
        warehouse.open_warehouse(tmp_path / "empty.duckdb") as con,
        pytest.raises(ConfigError, match="no draw"),
    ):
        verify(con, "nope")
