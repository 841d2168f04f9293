"""Calibration over the warehouse: reviewers' answers and the checks' pre-fills as `Rating` rows.

`calibrate(con)` reads every current review (not superseded; primary and calibration roles — a
dispute's re-score is a resolution, not an independent rating) with its answers, and, for the items
of those scorecards that name a check, the check's outcome for the same conversation turned into an
answer exactly as the review form pre-fills it (`audits.scorecards.prefill`). It hands both to
`audits.calibration`: agreement among reviewers per item and overall, and each check against the
reviewers. Items are named `scorecard_id@version/item_id`: an item's meaning is pinned to its version.
The scale's level (nominal, ordinal, interval) and order come from the pinned scorecard.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import duckdb

from audits.calibration import (
    CHECK_PREFIX,
    DEFAULT_THRESHOLD,
    Rating,
    calibration_report,
    check_agreement,
)
from audits.errors import ConfigError
from audits.scorecards import Scorecard, get_scorecard, prefill
from audits.warehouse import table_exists


def warehouse_ratings(con: duckdb.DuckDBPyConnection, *, draw_id: str | None = None) -> list[Rating]:
    """Every current reviewer answer, and the check answers for the same conversations and items."""
    if not table_exists(con, "reviews"):
        raise ConfigError("no reviews in the warehouse yet: assign a queue and score some items first")
    where = "AND r.draw_id = ?" if draw_id else ""
    rows = con.execute(
        "SELECT r.supplier, r.conversation_id, r.reviewer, r.scorecard_id, r.scorecard_version, a.item_id, a.value "
        "FROM reviews r JOIN review_answers a USING (review_id) "
        f"WHERE r.superseded_by IS NULL AND r.role IN ('primary', 'calibration') {where} "
        "ORDER BY ALL",
        [draw_id] if draw_id else [],
    ).fetchall()
    cards: dict[tuple[str, str], Scorecard] = {}
    out: list[Rating] = []
    reviewed: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for supplier, cid, reviewer, sc_id, sc_version, item_id, value in rows:
        card = cards.get((sc_id, sc_version)) or cards.setdefault(
            (sc_id, sc_version), get_scorecard(con, sc_id, sc_version)
        )
        item = card.item(item_id)
        out.append(
            _rating(f"{supplier}/{cid}", card, item_id, reviewer, value, item.scale.level, item.scale.values)
        )
        reviewed[(supplier, cid)].add((sc_id, sc_version))
    if not reviewed or not table_exists(con, "check_results"):
        return out
    con.execute("CREATE OR REPLACE TEMP TABLE _reviewed (supplier VARCHAR, conversation_id VARCHAR)")
    con.executemany("INSERT INTO _reviewed VALUES (?, ?)", list(reviewed))
    outcomes: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for supplier, cid, check_id, outcome in con.execute(
        "SELECT supplier, conversation_id, check_id, outcome FROM check_results "
        "SEMI JOIN _reviewed USING (supplier, conversation_id)"
    ).fetchall():
        outcomes[(supplier, cid)][check_id] = outcome
    con.execute("DROP TABLE _reviewed")
    for key, versions in reviewed.items():
        for version in sorted(versions):
            card = cards[version]
            for item_id, value in prefill(card, outcomes.get(key, {})).items():
                item = card.item(item_id)
                rater = CHECK_PREFIX + str(item.check)
                out.append(
                    _rating(
                        f"{key[0]}/{key[1]}", card, item_id, rater, value, item.scale.level, item.scale.values
                    )
                )
    return out


def _rating(
    unit: str,
    card: Scorecard,
    item_id: str,
    rater: str,
    value: str | None,
    level: str,
    order: tuple[str, ...],
) -> Rating:
    return Rating(unit, f"{card.id}@{card.version}/{item_id}", rater, value, level,  # type: ignore[arg-type]
                  order if level != "nominal" else None)  # fmt: skip


def calibrate(
    con: duckdb.DuckDBPyConnection, *, draw_id: str | None = None, threshold: float = DEFAULT_THRESHOLD
) -> dict[str, Any]:
    """Agreement per scorecard item and overall among reviewers, and of each check with the reviewers."""
    ratings = warehouse_ratings(con, draw_id=draw_id)
    report = calibration_report(ratings, threshold=threshold)
    checks = check_agreement(ratings, threshold=threshold)
    data = report.to_dict()
    data["checks"] = [c.to_dict() for c in checks]
    data["draw_id"] = draw_id
    data["ratings"] = {
        "reviewer": sum(1 for r in ratings if not r.is_check),
        "check": sum(1 for r in ratings if r.is_check),
    }
    return data
