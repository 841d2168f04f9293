"""Disputes: challenging the review that counts for a conversation, and settling the challenge.

Only the review whose outcome is in `sample_scores` can be disputed: the current primary review, or
the review an earlier upheld dispute put in its place. Calibration reviews do not count, so there is
nothing to dispute there. One dispute at a time per conversation; while it is open the primary
review is frozen (its reviewer cannot re-submit).

Resolving: the resolver may not be the reviewer whose review is disputed, and a dispute is resolved
once (a closed dispute cannot be resolved again; open a new one).
- rejected: the review stands; no answers may be given.
- upheld: the resolver gives the corrected answers (required), scored on the disputed review's pinned
  scorecard version. They are stored as a review with role "dispute" by the resolver, and its
  pass/fail replaces the conversation's outcome in `sample_scores` with
  scored_by = "<resolver> (dispute <id>)". The disputed review is kept unchanged: it is the record
  of what its reviewer said. From then on the conversation's primary review is frozen; a later
  dispute challenges the dispute review.

Audit log (audits.auditlog, subject the dispute id, in the conversation's supplier chain), in the
same transaction as the write: `dispute.opened` by the person who raised it (the review, draw,
conversation and reason) and `dispute.resolved` by the resolver (the outcome, the note, the outcome
before and after; an upheld dispute's new review is in the same transaction's `review.submitted`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from audits import auditlog
from audits.errors import ConfigError
from audits.scoring.answers import check_answers, pinned_scorecard
from audits.scoring.reviews import Submission, store_reviews
from audits.scoring.tables import (
    COUNTING_ROLES,
    DISPUTE,
    ensure_scoring_tables,
    has_scoring_tables,
    name,
    next_id,
    rows_as_dicts,
)
from audits.warehouse import one

OUTCOMES = ("upheld", "rejected")


@dataclass(frozen=True)
class DisputeResult:
    """A resolved dispute: the outcome before and after, and the new review of an upheld one."""

    dispute_id: int
    status: str
    review_id: int
    new_review_id: int | None
    passed_before: bool
    passed_after: bool
    score_after: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return dict(self.__dict__)


def _review(con: duckdb.DuckDBPyConnection, review_id: int) -> dict[str, Any]:
    rows = []
    if has_scoring_tables(con):
        rows = rows_as_dicts(
            con.execute(
                "SELECT review_id, draw_id, supplier, conversation_id, reviewer, role, scorecard_id, "
                "scorecard_version, score, passed, superseded_by FROM reviews WHERE review_id = ?",
                [review_id],
            )
        )
    if not rows:
        raise ConfigError(f"no review {review_id} in the warehouse")
    return rows[0]


def open_dispute(con: duckdb.DuckDBPyConnection, review_id: int, raised_by: str, reason: str) -> int:
    """Dispute the review that counts for a conversation; returns the new dispute's id."""
    raised_by = name("raised_by", raised_by)
    reason = name("the reason", reason)
    r = _review(con, review_id)
    what = f"review {review_id} ({r['supplier']}/{r['conversation_id']} in draw {r['draw_id']})"
    if r["role"] not in COUNTING_ROLES:
        raise ConfigError(
            f"{what} is a calibration review: it measures the reviewers and does not count toward the "
            "estimates, so there is no outcome to dispute"
        )
    if r["superseded_by"] is not None:
        raise ConfigError(f"{what} was replaced by review {r['superseded_by']}; dispute that one")
    key = [r["draw_id"], r["supplier"], r["conversation_id"]]
    counting = one(
        con,
        "SELECT max(review_id) FROM reviews WHERE draw_id = ? AND supplier = ? AND conversation_id = ? "
        "AND role IN ('primary', 'dispute') AND superseded_by IS NULL",
        key,
    )
    if counting is None or counting[0] != review_id:
        raise ConfigError(
            f"{what} no longer counts: review {counting and counting[0]} replaced it; dispute that one"
        )
    already = one(
        con,
        "SELECT dispute_id FROM disputes WHERE draw_id = ? AND supplier = ? AND conversation_id = ? AND status = 'open'",
        key,
    )
    if already is not None:
        raise ConfigError(f"dispute {already[0]} is already open on {what}; resolve it first")
    ensure_scoring_tables(con)
    dispute_id = next_id(con, "disputes", "dispute_id")
    now = dt.datetime.now(dt.UTC)
    payload = {"dispute_id": dispute_id, "review_id": review_id, "draw_id": r["draw_id"],
               "conversation_id": r["conversation_id"], "reason": reason}  # fmt: skip
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO disputes VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, NULL, NULL, NULL)",
            [dispute_id, review_id, *key, raised_by, reason, now],
        )
        auditlog.append(con, actor=raised_by, action="dispute.opened", subject=str(dispute_id),
                        payload=payload, at=now, supplier=r["supplier"])  # fmt: skip
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return dispute_id


def resolve_dispute(
    con: duckdb.DuckDBPyConnection,
    dispute_id: int,
    resolved_by: str,
    outcome: str,
    answers: Mapping[str, Any] | None = None,
    note: str | None = None,
    *,
    comments: Mapping[str, Any] | None = None,
) -> DisputeResult:
    """Uphold (with corrected answers, which re-score the conversation) or reject an open dispute."""
    resolved_by = name("resolved_by", resolved_by)
    row = None
    if has_scoring_tables(con):
        row = one(
            con,
            "SELECT review_id, status, resolved_by, resolved_at FROM disputes WHERE dispute_id = ?",
            [dispute_id],
        )
    if row is None:
        raise ConfigError(f"no dispute {dispute_id} in the warehouse")
    review_id, status, by, when = row
    if status != "open":
        raise ConfigError(f"dispute {dispute_id} is closed ({status} by {by} at {when}); open a new dispute")
    if outcome not in OUTCOMES:
        raise ConfigError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    r = _review(con, review_id)
    if resolved_by == r["reviewer"]:
        raise ConfigError(
            f"{resolved_by} wrote review {review_id}, the one disputed; another person must resolve dispute {dispute_id}"
        )
    now = dt.datetime.now(dt.UTC)
    text = note.strip() if note and note.strip() else None

    def logged(passed_after: bool | None) -> auditlog.NewEntry:
        payload = {"dispute_id": dispute_id, "outcome": outcome, "review_id": review_id, "draw_id": r["draw_id"],
                   "conversation_id": r["conversation_id"], "note": text, "passed_before": r["passed"],
                   "passed_after": passed_after}  # fmt: skip
        return auditlog.NewEntry(
            resolved_by, "dispute.resolved", str(dispute_id), payload, r["supplier"], now
        )

    if outcome == "rejected":
        if answers:
            raise ConfigError(f"dispute {dispute_id}: a rejected dispute keeps the review; give no answers")
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "UPDATE disputes SET status = 'rejected', resolved_by = ?, resolved_at = ?, note = ? "
                "WHERE dispute_id = ?",
                [resolved_by, now, text, dispute_id],
            )
            auditlog.append_many(con, [logged(r["passed"])])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return DisputeResult(dispute_id, "rejected", review_id, None, r["passed"], r["passed"], r["score"])
    if not answers:
        raise ConfigError(
            f"dispute {dispute_id}: upholding it needs the corrected answers (item=value for every item)"
        )
    card = pinned_scorecard(con, r["scorecard_id"], r["scorecard_version"])
    where = f"dispute {dispute_id} ({r['supplier']}/{r['conversation_id']})"
    normal, notes, result = check_answers(card, answers, comments, where)
    sub = Submission(r["draw_id"], r["supplier"], r["conversation_id"], resolved_by, DISPUTE, card,
                     normal, notes, result, "dispute", dispute_id)  # fmt: skip
    close = (
        "UPDATE disputes SET status = 'upheld', resolved_by = $by, resolved_at = $now, note = $note, "
        "new_review_id = (SELECT max(review_id) FROM reviews WHERE dispute_id = $id) WHERE dispute_id = $id"
    )
    reopen = (
        "UPDATE disputes SET status = 'open', resolved_by = NULL, resolved_at = NULL, note = NULL, "
        "new_review_id = NULL WHERE dispute_id = $id"
    )
    [stored] = store_reviews(
        con,
        [sub],
        extra=[(close, {"by": resolved_by, "now": now, "note": text, "id": dispute_id})],
        undo=[(reopen, {"id": dispute_id})],
        log=[logged(bool(result.passed))],
    )
    return DisputeResult(
        dispute_id, "upheld", review_id, stored.review_id, r["passed"], stored.passed, stored.score
    )


def list_disputes(
    con: duckdb.DuckDBPyConnection, *, status: str | None = None, draw_id: str | None = None
) -> list[dict[str, Any]]:
    """Disputes (newest first) with the disputed review's reviewer and outcome, and the new one's."""
    if not has_scoring_tables(con):
        return []
    return rows_as_dicts(
        con.execute(
            "SELECT d.dispute_id, d.status, d.draw_id, d.supplier, d.conversation_id, d.review_id, "
            "r.reviewer, r.passed AS passed_before, d.raised_by, d.reason, d.opened_at, d.resolved_by, "
            "d.resolved_at, d.note, d.new_review_id, n.passed AS passed_after "
            "FROM disputes d JOIN reviews r ON r.review_id = d.review_id "
            "LEFT JOIN reviews n ON n.review_id = d.new_review_id "
            "WHERE ($status::VARCHAR IS NULL OR d.status = $status::VARCHAR) "
            "AND ($draw::VARCHAR IS NULL OR d.draw_id = $draw::VARCHAR) ORDER BY d.dispute_id DESC",
            {"status": status, "draw": draw_id},
        )
    )
