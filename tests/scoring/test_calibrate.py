"""Calibration over the warehouse: reviews and check pre-fills become ratings, reported per item."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from audits.calibrate import calibrate, warehouse_ratings
from audits.calibration import Rating, calibration_report, check_agreement
from audits.scoring import assign_reviews, submit_review
from tests.scoring.conftest import BOT_YAML, PEOPLE_YAML, write_cards


def _setup(db: Any, draw_id: str, tmp_path: Any) -> list[tuple[str, str, str, str]]:
    """Assign the draw to two reviewers; returns (supplier, cid, reviewer, role) of the bot-card items both got."""
    from audits.scorecards import load_scorecards

    cards = load_scorecards(write_cards(tmp_path / "cards", BOT_YAML, PEOPLE_YAML))
    assign_reviews(db, draw_id, ["ann", "bob"], calibration_share=0.5, raters_per_calibration_item=2,
                   scorecards=cards, skip_uncovered=True)  # fmt: skip
    return db.execute(  # the items that both reviewers got (the calibration share)
        "SELECT supplier, conversation_id, reviewer, role FROM review_assignments "
        "WHERE draw_id = ? AND scorecard_id = 'bot' AND (supplier, conversation_id) IN ("
        "  SELECT (supplier, conversation_id) FROM review_assignments WHERE draw_id = ? "
        "  GROUP BY ALL HAVING count(*) = 2) ORDER BY ALL",
        [draw_id, draw_id],
    ).fetchall()


def test_reviews_and_check_prefills_become_ratings(db: Any, draw_id: str, tmp_path: Any) -> None:
    work = _setup(db, draw_id, tmp_path)
    units = sorted({(s, c) for s, c, _, _ in work})
    assert len(units) >= 4 and len(work) == 2 * len(units)
    # ann always says "yes" to disclosed; bob says "no" on every other conversation
    expected: list[Rating] = []
    for i, (s, c) in enumerate(units):
        for reviewer, disclosed in (("ann", "yes"), ("bob", "no" if i % 2 else "yes")):
            answers = {"disclosed": disclosed, "no_pii": "yes", "tone": str(1 + i % 5), "resolved": "na"}
            submit_review(
                db, draw_id=draw_id, supplier=s, conversation_id=c, reviewer=reviewer, answers=answers
            )
            for item, value in answers.items():
                level = "ordinal" if item == "tone" else "nominal"
                order = ("1", "2", "3", "4", "5") if item == "tone" else None
                expected.append(Rating(f"{s}/{c}", f"bot@1/{item}", reviewer, value, level, order))  # type: ignore[arg-type]
    # the check says the bot disclosed in the first half of the conversations, and nothing on the rest
    db.execute("CREATE TABLE check_results (supplier VARCHAR, conversation_id VARCHAR, check_id VARCHAR, "
               "check_version VARCHAR, outcome VARCHAR, turn INTEGER, evidence VARCHAR, content_hash VARCHAR, "
               "run_id VARCHAR)")  # fmt: skip
    half = units[: len(units) // 2]
    for s, c in half:
        db.execute(
            "INSERT INTO check_results VALUES (?, ?, 'ai_disclosure', '1', 'pass', 1, 'x', NULL, 'r')", [s, c]
        )
        expected.append(Rating(f"{s}/{c}", "bot@1/disclosed", "check:ai_disclosure", "yes"))
    got = warehouse_ratings(db, draw_id=draw_id)
    key = lambda r: (r.unit, r.item, r.rater)  # noqa: E731
    assert sorted(got, key=key) == sorted(expected, key=key)
    data = calibrate(db, draw_id=draw_id)
    assert data["items"] == calibration_report(expected).to_dict()["items"]
    assert data["checks"] == [c.to_dict() for c in check_agreement(expected)]
    disclosed = next(r for r in data["items"] if r["item"] == "bot@1/disclosed")
    assert disclosed["n_units"] == len(units) and disclosed["n_raters"] == 2
    assert disclosed["percent_agreement"] == sum(1 for i in range(len(units)) if i % 2 == 0) / len(units)
    (check_row,) = data["checks"]
    assert check_row["check"] == "check:ai_disclosure" and check_row["n_units"] == len(half)


def test_a_resubmitted_review_replaces_the_earlier_answers(db: Any, draw_id: str, tmp_path: Any) -> None:
    work = _setup(db, draw_id, tmp_path)
    s, c, _, _ = work[0]
    base = {"disclosed": "yes", "no_pii": "yes", "tone": "3", "resolved": "yes"}
    submit_review(db, draw_id=draw_id, supplier=s, conversation_id=c, reviewer="ann", answers=base)
    submit_review(
        db, draw_id=draw_id, supplier=s, conversation_id=c, reviewer="ann", answers=base | {"tone": "4"}
    )
    tones = [r.value for r in warehouse_ratings(db) if r.item == "bot@1/tone"]
    assert tones == ["4"]


def test_calibrate_cli(db: Any, draw_id: str, tmp_path: Any) -> None:
    """The command reads a warehouse file; here the in-memory one is copied out with ATTACH."""
    work = _setup(db, draw_id, tmp_path)
    for s, c, reviewer, _ in work:
        submit_review(db, draw_id=draw_id, supplier=s, conversation_id=c, reviewer=reviewer,
                      answers={"disclosed": "yes", "no_pii": "yes", "tone": "3", "resolved": "yes"})  # fmt: skip
    path = tmp_path / "w.duckdb"
    db.execute(f"ATTACH '{path}' AS f")
    db.execute("COPY FROM DATABASE memory TO f")
    db.execute("DETACH f")
    from audits.cli import main

    out = CliRunner().invoke(main, ["calibrate", "--warehouse", str(path), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    tone = next(r for r in data["items"] if r["item"] == "bot@1/tone")
    assert tone["percent_agreement"] == 1.0 and tone["flagged"] is False
    text = CliRunner().invoke(main, ["calibrate", "--warehouse", str(path)])
    assert text.exit_code == 0 and "bot@1/tone" in text.output
