"""What a reviewer sees of one item, and the queue with progress per reviewer and per draw.

Blind review. `reviewer_view` is the one place the review tools (CLI sheet, web form) read an item
from. It returns the transcript, the pinned scorecard, the checks' proposals with their evidence and
the reviewer's OWN reviews (current and superseded). Other reviewers' answers are left out until this
reviewer has submitted the item; only then are the other current reviews shown (`others`), for the
calibration discussion. A re-submission after that is no longer blind, which is why the first
submission of every reviewer is kept (`reviews.superseded_by`) for agreement statistics.

`queue` lists assignments and counts progress; it shows statuses and review ids, never scores or
answers, so a lead's overview cannot unblind anyone either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from audits.scoring.answers import pinned_scorecard
from audits.scoring.prefill import Prefill, prefills
from audits.scoring.reviews import get_assignment
from audits.scoring.tables import has_scoring_tables, name, rows_as_dicts
from audits.warehouse import table_exists


@dataclass(frozen=True)
class ReviewerView:
    """One item as its reviewer may see it. `others` is None while the reviewer has not submitted."""

    draw_id: str
    supplier: str
    conversation_id: str
    reviewer: str
    role: str
    status: str
    scorecard: Any
    conversation: dict[str, Any]
    turns: list[dict[str, Any]]
    prefill: dict[str, Prefill]
    own_reviews: list[dict[str, Any]]
    others: list[dict[str, Any]] | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the scorecard as its canonical dict)."""
        out = dict(self.__dict__)
        out["scorecard"] = self.scorecard.to_dict() | {"content_hash": self.scorecard.content_hash}
        out["prefill"] = {k: p.to_dict() for k, p in self.prefill.items()}
        return out


def _reviews(con: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> list[dict[str, Any]]:
    """Reviews matching `where` (on table r), newest first, each with its answers."""
    rows = rows_as_dicts(
        con.execute(
            "SELECT r.review_id, r.reviewer, r.role, r.score, r.passed, r.submitted_at, r.source, "
            "r.superseded_by IS NULL AS current, list({'item_id': a.item_id, 'value': a.value, "
            "'prefilled': a.prefilled, 'overridden': a.overridden, 'comment': a.comment}) AS answers "
            f"FROM reviews r LEFT JOIN review_answers a ON a.review_id = r.review_id WHERE {where} "
            "GROUP BY ALL ORDER BY r.review_id DESC",
            params,
        )
    )
    for row in rows:
        row["answers"] = {a["item_id"]: a for a in row["answers"] if a["item_id"] is not None}
    return rows


def reviewer_view(
    con: duckdb.DuckDBPyConnection, draw_id: str, supplier: str, conversation_id: str, reviewer: str
) -> ReviewerView:
    """The item as `reviewer` may see it: never another reviewer's answers before their own submission."""
    reviewer = name("reviewer", reviewer)
    a = get_assignment(con, draw_id, supplier, conversation_id, reviewer)
    card = pinned_scorecard(con, a.scorecard_id, a.scorecard_version)
    key = [draw_id, supplier, conversation_id]
    conv = rows_as_dicts(
        con.execute(
            "SELECT channel, handler, market, language, journey, started_at, ended_at, outcome, csat "
            "FROM conversations WHERE supplier = ? AND conversation_id = ?",
            [supplier, conversation_id],
        )
    )
    turns = rows_as_dicts(
        con.execute(
            "SELECT turn_index, speaker, text, sent_at, kb_article_ids, action FROM turns "
            "WHERE supplier = ? AND conversation_id = ? ORDER BY turn_index",
            [supplier, conversation_id],
        )
    )
    same = "r.draw_id = ? AND r.supplier = ? AND r.conversation_id = ?"
    own = _reviews(con, f"{same} AND r.reviewer = ? AND r.role = ?", [*key, reviewer, a.role])
    others = None
    if any(r["current"] for r in own):
        others = _reviews(con, f"{same} AND r.reviewer <> ? AND r.superseded_by IS NULL", [*key, reviewer])
    return ReviewerView(
        draw_id,
        supplier,
        conversation_id,
        reviewer,
        a.role,
        a.status,
        card,
        conv[0] if conv else {},
        turns,
        prefills(con, {(supplier, conversation_id): card}).get((supplier, conversation_id), {}),
        own,
        others,
    )


@dataclass(frozen=True)
class QueueReport:
    """Assignments (open first) and progress per reviewer and per draw."""

    items: list[dict[str, Any]]
    by_reviewer: list[dict[str, Any]]
    by_draw: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return dict(self.__dict__)


_FILTER = "($reviewer::VARCHAR IS NULL OR a.reviewer = $reviewer::VARCHAR) AND ($draw::VARCHAR IS NULL OR a.draw_id = $draw::VARCHAR)"

ITEMS_SQL = f"""
SELECT a.draw_id, a.supplier, a.conversation_id, a.reviewer, a.role, a.scorecard_id, a.scorecard_version,
       a.status, a.assigned_at, r.review_id, r.submitted_at
FROM review_assignments a
LEFT JOIN reviews r ON r.draw_id = a.draw_id AND r.supplier = a.supplier AND r.conversation_id = a.conversation_id
     AND r.reviewer = a.reviewer AND r.role = a.role AND r.superseded_by IS NULL
WHERE {_FILTER}
ORDER BY a.draw_id, a.reviewer, a.status = 'submitted', a.role DESC, a.supplier, a.conversation_id
"""

BY_REVIEWER_SQL = f"""
SELECT a.reviewer, count(*) AS assigned, count(*) FILTER (WHERE a.status = 'submitted') AS submitted,
       count(*) FILTER (WHERE a.status = 'open') AS open,
       count(*) FILTER (WHERE a.role = 'primary' AND a.status = 'open') AS primary_open,
       count(*) FILTER (WHERE a.role = 'calibration' AND a.status = 'open') AS calibration_open,
       round(count(*) FILTER (WHERE a.status = 'submitted') / count(*), 4) AS progress
FROM review_assignments a WHERE {_FILTER} GROUP BY a.reviewer ORDER BY a.reviewer
"""

BY_DRAW_SQL = f"""
WITH per_item AS (
    SELECT draw_id, supplier, conversation_id,
           bool_or(role = 'primary') AS has_primary,
           bool_or(role = 'primary' AND status = 'submitted') AS primary_done,
           bool_or(role = 'calibration') AS calibration,
           bool_and(status = 'submitted') AS all_done,
           count(*) FILTER (WHERE status = 'open') AS open
    FROM review_assignments
    WHERE draw_id IN (SELECT a.draw_id FROM review_assignments a WHERE {_FILTER})
    GROUP BY ALL
)
SELECT p.draw_id, (SELECT count(*) FROM draw_items i WHERE i.draw_id = p.draw_id) AS items,
       count(*) FILTER (WHERE has_primary) AS assigned, count(*) FILTER (WHERE primary_done) AS primary_submitted,
       count(*) FILTER (WHERE calibration) AS calibration_items,
       count(*) FILTER (WHERE calibration AND all_done) AS calibration_complete,
       sum(open)::BIGINT AS open_assignments,
       round(count(*) FILTER (WHERE primary_done) / (SELECT count(*) FROM draw_items i WHERE i.draw_id = p.draw_id), 4)
           AS progress
FROM per_item p GROUP BY p.draw_id ORDER BY p.draw_id
"""


def queue(
    con: duckdb.DuckDBPyConnection, reviewer: str | None = None, draw_id: str | None = None
) -> QueueReport:
    """Assignments with their status, and progress per reviewer and per draw (no scores, no answers)."""
    if not has_scoring_tables(con):
        return QueueReport([], [], [])
    params = {"reviewer": reviewer, "draw": draw_id}
    by_draw = rows_as_dicts(con.execute(BY_DRAW_SQL, params))
    if by_draw and table_exists(con, "disputes"):
        open_disputes = dict(
            con.execute(
                "SELECT draw_id, count(*) FROM disputes WHERE status = 'open' GROUP BY ALL"
            ).fetchall()
        )
        for row in by_draw:
            row["open_disputes"] = int(open_disputes.get(row["draw_id"], 0))
    return QueueReport(
        rows_as_dicts(con.execute(ITEMS_SQL, params)),
        rows_as_dicts(con.execute(BY_REVIEWER_SQL, params)),
        by_draw,
    )
