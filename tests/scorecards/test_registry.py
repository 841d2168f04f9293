"""Scorecard versions in the warehouse: idempotent registration, changed content refused, old versions rebuilt."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from audits import warehouse
from audits.errors import ConfigError, WarehouseError
from audits.scorecards import (
    BUILTIN_SCALES,
    Scale,
    get_scorecard,
    load_scorecard,
    register_scorecard,
    registered_versions,
    score,
)
from tests.scorecards.conftest import card_dict, write

ANSWERS = {"a": "no", "b": "4", "c": "yes", "d": "ok", "f": "yes", "e": "yes"}


def rows(con: Any) -> list[tuple[Any, ...]]:
    return con.execute(
        "SELECT scorecard_id, version, content_hash, title, source FROM scorecards ORDER BY version"
    ).fetchall()


def test_register_stores_the_canonical_body(con: Any, tmp_path: Path) -> None:
    card = load_scorecard(write(tmp_path, "card.yaml", card_dict()))
    when = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    register_scorecard(con, card, registered_at=when)
    assert rows(con) == [("test-card", "1", card.content_hash, "Test card", str(tmp_path / "card.yaml"))]
    body, at = warehouse.one(con, "SELECT body, registered_at FROM scorecards") or ()
    assert json.loads(body) == card.to_dict()
    assert at == when


def test_registering_the_same_content_again_changes_nothing(con: Any, tmp_path: Path) -> None:
    card = load_scorecard(write(tmp_path, "card.yaml", card_dict()))
    register_scorecard(con, card)
    before = con.execute("SELECT * FROM scorecards").fetchall()
    register_scorecard(con, card)
    moved = load_scorecard(write(tmp_path, "moved.yaml", card_dict()))  # same content, another file
    register_scorecard(con, moved)
    assert con.execute("SELECT * FROM scorecards").fetchall() == before


def test_changed_content_under_a_registered_version_is_refused(con: Any, tmp_path: Path) -> None:
    register_scorecard(con, load_scorecard(write(tmp_path, "card.yaml", card_dict())))
    before = con.execute("SELECT * FROM scorecards").fetchall()
    edited = card_dict()
    edited["sections"][0]["items"][0]["weight"] = 5
    path = write(tmp_path, "card.yaml", edited)
    with pytest.raises(ConfigError) as err:
        register_scorecard(con, load_scorecard(path))
    text = str(err.value)
    assert text.startswith(f"{path}: scorecard test-card version 1 is already registered with other content")
    assert f"bump `version:` in {path}" in text
    assert con.execute("SELECT * FROM scorecards").fetchall() == before


def test_a_new_version_registers_and_the_old_one_is_rebuilt_unchanged(wh: Path, tmp_path: Path) -> None:
    """Score under v1, move the file to v2 with another weight: v1 re-scores exactly as before."""
    path = write(tmp_path, "card.yaml", card_dict())
    v1 = load_scorecard(path)
    v1_score = score(v1, ANSWERS)
    assert v1_score.score == pytest.approx(0.7, abs=1e-15)  # (0 + 1.5 + 1 + 1.5 + 2 + 1) / 10
    edited = card_dict(version="2")
    edited["sections"][0]["items"][0]["weight"] = 5
    write(tmp_path, "card.yaml", edited)
    v2 = load_scorecard(path)
    with warehouse.open_warehouse(wh) as con:
        register_scorecard(con, v1)
        register_scorecard(con, v2)
        assert [r[1] for r in rows(con)] == ["1", "2"]
        assert registered_versions(con, "test-card") == ["1", "2"]
    with warehouse.open_warehouse(wh) as con:  # a later process
        old = get_scorecard(con, "test-card", "1")
        new = get_scorecard(con, "test-card", "2")
    assert old == v1 and old.content_hash == v1.content_hash and old.to_dict() == v1.to_dict()
    assert old.source == str(path)
    assert score(old, ANSWERS) == v1_score
    assert new == v2
    assert score(new, ANSWERS).score == pytest.approx(
        7 / 14, abs=1e-15
    )  # a weighs 5: (0 + 1.5+1+1.5+2+1) / 14


def test_an_old_version_does_not_follow_later_built_in_scales(
    con: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = load_scorecard(write(tmp_path, "card.yaml", card_dict()))
    register_scorecard(con, card)
    monkeypatch.setitem(
        BUILTIN_SCALES, "1-5", Scale("1-5", ("1", "2", "3", "4", "5"), (0, 0, 0, 0, 1), ("1",), "ordinal")
    )
    again = get_scorecard(con, "test-card", "1")
    assert again.item("b").scale.points == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert again.content_hash == card.content_hash


def test_an_unregistered_version_is_an_error_listing_the_registered_ones(con: Any, tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match="test-card version 1 is not registered .*registered versions: none"
    ):
        get_scorecard(con, "test-card", "1")
    register_scorecard(con, load_scorecard(write(tmp_path, "card.yaml", card_dict(version="2026.2"))))
    register_scorecard(con, load_scorecard(write(tmp_path, "card.yaml", card_dict(version="2026.11"))))
    with pytest.raises(ConfigError, match=re.escape("(registered versions: 2026.2, 2026.11)")):
        get_scorecard(con, "test-card", "1")


def test_a_body_edited_in_the_table_is_detected(con: Any, tmp_path: Path) -> None:
    register_scorecard(con, load_scorecard(write(tmp_path, "card.yaml", card_dict())))
    body = json.loads(warehouse.scalar(con, "SELECT body FROM scorecards"))
    body["pass_mark"] = 0.1
    con.execute("UPDATE scorecards SET body = ?", [json.dumps(body)])
    with pytest.raises(WarehouseError, match="does not match its key and content_hash"):
        get_scorecard(con, "test-card", "1")
