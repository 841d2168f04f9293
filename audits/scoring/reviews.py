"""Submitting reviews: who may, what is stored, and which outcome reaches the estimates.

Only a reviewer the item is assigned to may submit it. The answers are checked against the pinned
scorecard version and scored by `score()`; the review row, one answer row per item (final value,
the check's proposal, whether it was overridden, a comment) and the assignment's status are written
in one transaction.

Re-submitting replaces, nothing is lost: the reviewer's earlier review stays in `reviews` with
`superseded_by` set to the new review's id, so the history, and the first (blind) submission that
calibration statistics should use, can always be read back.

Which score counts. The PRIMARY review's pass/fail goes to `sample_scores` through `record_scores`
(scored_by = the reviewer), so estimates use it. Calibration reviews do not: the primary review is
the sampling design's measurement of the conversation, taken by one rater chosen without regard to
the outcome; calibration reviews measure the reviewers (agreement), and letting them in would make
a conversation's outcome depend on how many people happened to look at it. An upheld dispute
replaces the outcome (see disputes.py); while a conversation has an open dispute, or once one was
upheld, its primary review is frozen.

`record_scores` runs its own transaction, so it is called right after ours commits; should it
fail, the reviews just written are removed again and the error raised (nothing half done).

The audit log (audits.auditlog) gets, in the reviews' transaction, per draw, supplier, reviewer and
source: `review.submitted` (each review's id, conversation, role, scorecard id and version, score,
passed, whether it counts, and its answers), `review.replaced` (the earlier reviews the batch
superseded) and `prefill.overridden` (answers that differ from a check's pre-fill, with both
values); a batch taken back because its scores could not be recorded gets `review.withdrawn`.
Subject: the draw id; each entry is in its supplier's chain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from audits import auditlog
from audits.errors import ConfigError
from audits.scoring.answers import check_answers, pinned_scorecard
from audits.scoring.prefill import prefills
from audits.scoring.tables import (
    CALIBRATION,
    COUNTING_ROLES,
    PRIMARY,
    ensure_scoring_tables,
    has_scoring_tables,
    name,
    next_id,
)
from audits.warehouse import one

SIMULATED_SOURCE = "simulated"  # Submission.source of the demo's simulated reviewer (audits.nightly.simulate)


@dataclass(frozen=True)
class Assignment:
    """A reviewer's assignment of one drawn conversation."""

    draw_id: str
    supplier: str
    conversation_id: str
    reviewer: str
    role: str
    scorecard_id: str
    scorecard_version: str
    status: str


@dataclass(frozen=True)
class Submission:
    """A checked review ready to be stored."""

    draw_id: str
    supplier: str
    conversation_id: str
    reviewer: str
    role: str
    scorecard: Any
    answers: dict[str, str]
    comments: dict[str, str]
    result: Any
    source: str
    dispute_id: int | None = None


@dataclass(frozen=True)
class ReviewResult:
    """A stored review: its id, score and whether it counts toward the estimates."""

    review_id: int
    role: str
    score: float
    passed: bool
    counts: bool
    failed_items: tuple[str, ...]
    overridden: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return dict(self.__dict__) | {
            "failed_items": list(self.failed_items),
            "overridden": list(self.overridden),
        }


def get_assignment(
    con: duckdb.DuckDBPyConnection, draw_id: str, supplier: str, conversation_id: str, reviewer: str
) -> Assignment:
    """The reviewer's assignment of the item; ConfigError when the item is not theirs."""
    row = None
    if has_scoring_tables(con):
        row = one(
            con,
            "SELECT role, scorecard_id, scorecard_version, status FROM review_assignments "
            "WHERE draw_id = ? AND supplier = ? AND conversation_id = ? AND reviewer = ?",
            [draw_id, supplier, conversation_id, reviewer],
        )
    if row is None:
        raise ConfigError(
            f"conversation {conversation_id!r} of supplier {supplier!r} in draw {draw_id!r} is not assigned "
            f"to {reviewer!r}; only its assigned reviewers may see or score it"
        )
    return Assignment(draw_id, supplier, conversation_id, reviewer, *row)


def frozen_conversations(
    con: duckdb.DuckDBPyConnection, keys: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str, str], str]:
    """(draw, supplier, conversation) -> why its primary review cannot change (an open or upheld dispute)."""
    if not keys or not has_scoring_tables(con):
        return {}
    rows = con.execute(
        "SELECT d.draw_id, d.supplier, d.conversation_id, min(d.dispute_id), "
        "bool_or(d.status = 'open') FROM disputes d SEMI JOIN (SELECT unnest($d::VARCHAR[]) AS draw_id, "
        "unnest($s::VARCHAR[]) AS supplier, unnest($c::VARCHAR[]) AS conversation_id) k "
        "ON k.draw_id = d.draw_id AND k.supplier = d.supplier AND k.conversation_id = d.conversation_id "
        "WHERE d.status IN ('open', 'upheld') GROUP BY ALL",
        {"d": [k[0] for k in keys], "s": [k[1] for k in keys], "c": [k[2] for k in keys]},
    ).fetchall()
    return {
        (d, s, c): (
            f"dispute {n} is open on it; resolve it first"
            if is_open
            else f"its outcome was settled by upheld dispute {n}; open a new dispute to change it"
        )
        for d, s, c, n, is_open in rows
    }


def submit_review(
    con: duckdb.DuckDBPyConnection,
    *,
    draw_id: str,
    supplier: str,
    conversation_id: str,
    reviewer: str,
    answers: Mapping[str, Any],
    comments: Mapping[str, Any] | None = None,
    scorecard: Any = None,
    source: str = "submit",
) -> ReviewResult:
    """Store the assigned reviewer's answers for one item (replacing their earlier review, kept as history)."""
    reviewer = name("reviewer", reviewer)
    a = get_assignment(con, draw_id, supplier, conversation_id, reviewer)
    where = f"draw {draw_id}, {supplier}/{conversation_id}, reviewer {reviewer}"
    pinned = pinned_scorecard(con, a.scorecard_id, a.scorecard_version)
    if scorecard is not None and (scorecard.id, str(scorecard.version)) != (
        a.scorecard_id,
        a.scorecard_version,
    ):
        raise ConfigError(
            f"{where}: scored on scorecard {scorecard.id} v{scorecard.version}, but the item is pinned to "
            f"{a.scorecard_id} v{a.scorecard_version}"
        )
    if a.role == PRIMARY:
        frozen = frozen_conversations(con, [(draw_id, supplier, conversation_id)])
        if frozen:
            raise ConfigError(f"{where}: the primary review cannot change: {next(iter(frozen.values()))}")
    normal, notes, result = check_answers(pinned, answers, comments, where)
    sub = Submission(
        draw_id, supplier, conversation_id, reviewer, a.role, pinned, normal, notes, result, source
    )
    return store_reviews(con, [sub])[0]


def _scored_by(sub: Submission) -> str:
    return sub.reviewer if sub.role == PRIMARY else f"{sub.reviewer} (dispute {sub.dispute_id})"


def store_reviews(
    con: duckdb.DuckDBPyConnection,
    subs: Sequence[Submission],
    *,
    extra: Sequence[tuple[str, Any]] = (),
    undo: Sequence[tuple[str, Any]] = (),
    log: Sequence[auditlog.NewEntry] = (),
) -> list[ReviewResult]:
    """Write checked submissions (and `extra` statements) in one transaction, then record counting scores.

    `log`: further audit log entries written in the same transaction (after the reviews' own).
    """
    from audits.sampling.estimate import Score, ensure_scores_table, record_scores  # noqa: PLC0415

    if not subs:
        return []
    ensure_scoring_tables(con)
    keys = [(s.draw_id, s.supplier, s.conversation_id, s.reviewer, s.role) for s in subs]
    if len(set(keys)) != len(keys):
        raise ConfigError("the same reviewer's review of a conversation is given twice in one batch")
    proposals = prefills(con, {(s.supplier, s.conversation_id, i): s.scorecard for i, s in enumerate(subs)})
    start = next_id(con, "reviews", "review_id")
    ids = list(range(start, start + len(subs)))
    now = dt.datetime.now(dt.UTC)
    answer_rows: list[tuple[Any, ...]] = []
    results = []
    for rid, (i, s) in zip(ids, enumerate(subs), strict=True):  # over the submissions of one batch
        proposed = proposals.get((s.supplier, s.conversation_id, i), {})
        overridden = []
        for item_id, value in s.answers.items():
            p = proposed.get(item_id)
            pv = p.value if p is not None else None
            if pv is not None and pv != value:
                overridden.append(item_id)
            answer_rows.append(
                (rid, item_id, value, pv, pv is not None and pv != value, s.comments.get(item_id))
            )
        results.append(
            ReviewResult(
                rid,
                s.role,
                float(s.result.score),
                bool(s.result.passed),
                s.role in COUNTING_ROLES,
                tuple(s.result.failed_items),
                tuple(overridden),
            )
        )
    assigned = [
        (s.draw_id, s.supplier, s.conversation_id, s.reviewer)
        for s in subs
        if s.role in (PRIMARY, CALIBRATION)
    ]
    was_open = con.execute(
        "SELECT a.draw_id, a.supplier, a.conversation_id, a.reviewer FROM review_assignments a SEMI JOIN "
        f"({_KEYS}) k ON {_ON.format(t='a')} WHERE a.status = 'open'",
        _key_params(assigned),
    ).fetchall()
    review_params = {
        "id": ids,
        "d": [s.draw_id for s in subs],
        "s": [s.supplier for s in subs],
        "c": [s.conversation_id for s in subs],
        "r": [s.reviewer for s in subs],
        "role": [s.role for s in subs],
        "sid": [s.scorecard.id for s in subs],
        "sv": [str(s.scorecard.version) for s in subs],
        "score": [float(s.result.score) for s in subs],
        "passed": [bool(s.result.passed) for s in subs],
        "src": [s.source for s in subs],
        "dispute": [s.dispute_id for s in subs],
        "now": now,
    }
    columns = list(zip(*answer_rows, strict=True))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(SUPERSEDE_SQL, {k: review_params[k] for k in ("id", "d", "s", "c", "r", "role", "now")})
        con.execute(INSERT_REVIEWS_SQL, review_params)
        if answer_rows:
            names = ("id", "item", "v", "p", "o", "note")
            con.execute(INSERT_ANSWERS_SQL, dict(zip(names, map(list, columns), strict=True)))
        if assigned:
            con.execute(
                f"UPDATE review_assignments a SET status = 'submitted' FROM ({_KEYS}) k WHERE {_ON.format(t='a')}",
                _key_params(assigned),
            )
        for sql, params in extra:
            con.execute(sql, params)
        auditlog.append_many(con, [*_log_entries(con, subs, ids, answer_rows, now), *log])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    try:
        ensure_scores_table(con)
        for draw_id in sorted({s.draw_id for s in subs}):
            counting = [s for s in subs if s.draw_id == draw_id and s.role in COUNTING_ROLES]
            for simulated in (False, True):  # a simulated reviewer's scores are marked so wherever they count
                part = [s for s in counting if (s.source == SIMULATED_SOURCE) == simulated]
                if part:
                    record_scores(
                        con, draw_id,
                        [Score(s.supplier, s.conversation_id, bool(s.result.passed), _scored_by(s)) for s in part],
                        simulated=simulated,
                    )  # fmt: skip
    except BaseException:
        _undo(con, ids, was_open, undo, _withdrawn(subs, ids))
        raise
    return results


def _groups(subs: Sequence[Submission]) -> dict[tuple[str, str, str, str], list[int]]:
    """Positions of the submissions per (draw, supplier, reviewer, source), in batch order."""
    out: dict[tuple[str, str, str, str], list[int]] = {}
    for k, s in enumerate(subs):  # over the submissions of one batch
        out.setdefault((s.draw_id, s.supplier, s.reviewer, s.source), []).append(k)
    return out


def _log_entries(
    con: duckdb.DuckDBPyConnection,
    subs: Sequence[Submission],
    ids: Sequence[int],
    answer_rows: Sequence[tuple[Any, ...]],
    now: dt.datetime,
) -> list[auditlog.NewEntry]:
    """The batch's review.submitted, review.replaced and prefill.overridden entries (module docstring)."""
    answers: dict[int, dict[str, str]] = {}
    overrides: dict[int, list[dict[str, Any]]] = {}
    for rid, item_id, value, prefilled, overridden, _comment in answer_rows:  # the batch's answers
        answers.setdefault(rid, {})[item_id] = value
        if overridden:
            overrides.setdefault(rid, []).append({"item_id": item_id, "prefilled": prefilled, "value": value})
    replaced: dict[int, list[int]] = {}
    for old, new in con.execute(
        "SELECT review_id, superseded_by FROM reviews WHERE superseded_by BETWEEN ? AND ? ORDER BY review_id",
        [ids[0], ids[-1]],
    ).fetchall():
        replaced.setdefault(int(new), []).append(int(old))
    out = []
    for (draw_id, supplier, reviewer, source), ks in _groups(subs).items():
        reviews = []
        for k in ks:
            s, rid = subs[k], ids[k]
            row = {"review_id": rid, "conversation_id": s.conversation_id, "role": s.role,
                   "scorecard_id": s.scorecard.id, "scorecard_version": str(s.scorecard.version),
                   "score": float(s.result.score), "passed": bool(s.result.passed),
                   "counts": s.role in COUNTING_ROLES, "answers": answers.get(rid, {})}  # fmt: skip
            if s.dispute_id is not None:
                row["dispute_id"] = s.dispute_id
            reviews.append(row)
        base = {"draw_id": draw_id, "source": source}
        out.append(auditlog.NewEntry(reviewer, "review.submitted", draw_id, base | {"reviews": reviews},
                                     supplier, now))  # fmt: skip
        gone = [[old, ids[k], subs[k].conversation_id] for k in ks for old in replaced.get(ids[k], [])]
        if gone:
            out.append(auditlog.NewEntry(reviewer, "review.replaced", draw_id, base | {"replaced": gone},
                                         supplier, now))  # fmt: skip
        changed = [{"review_id": ids[k], "conversation_id": subs[k].conversation_id, **o}
                   for k in ks for o in overrides.get(ids[k], [])]  # fmt: skip
        if changed:
            out.append(auditlog.NewEntry(reviewer, "prefill.overridden", draw_id, base | {"overrides": changed},
                                         supplier, now))  # fmt: skip
    return out


def _withdrawn(subs: Sequence[Submission], ids: Sequence[int]) -> list[auditlog.NewEntry]:
    """`review.withdrawn` entries for a batch taken back because its scores could not be recorded."""
    return [
        auditlog.NewEntry(reviewer, "review.withdrawn", draw_id,
                          {"draw_id": draw_id, "source": source, "review_ids": [ids[k] for k in ks],
                           "why": "the scores could not be recorded; the reviews were removed"}, supplier)
        for (draw_id, supplier, reviewer, source), ks in _groups(subs).items()
    ]  # fmt: skip


_KEYS = (
    "SELECT unnest($d::VARCHAR[]) AS draw_id, unnest($s::VARCHAR[]) AS supplier, "
    "unnest($c::VARCHAR[]) AS conversation_id, unnest($r::VARCHAR[]) AS reviewer"
)
_ON = (
    "k.draw_id = {t}.draw_id AND k.supplier = {t}.supplier AND k.conversation_id = {t}.conversation_id "
    "AND k.reviewer = {t}.reviewer"
)


def _key_params(rows: Sequence[tuple[Any, ...]]) -> dict[str, list[str]]:
    """(draw, supplier, conversation, reviewer) rows as the array parameters of `_KEYS`."""
    return {name: [r[i] for r in rows] for i, name in enumerate(("d", "s", "c", "r"))}


SUPERSEDE_SQL = """
UPDATE reviews SET superseded_by = n.id, superseded_at = $now
FROM (SELECT unnest($id::BIGINT[]) AS id, unnest($d::VARCHAR[]) AS draw_id, unnest($s::VARCHAR[]) AS supplier,
             unnest($c::VARCHAR[]) AS conversation_id, unnest($r::VARCHAR[]) AS reviewer,
             unnest($role::VARCHAR[]) AS role) n
WHERE reviews.draw_id = n.draw_id AND reviews.supplier = n.supplier
  AND reviews.conversation_id = n.conversation_id AND reviews.reviewer = n.reviewer
  AND reviews.superseded_by IS NULL AND n.role IN ('primary', 'calibration')
  AND reviews.role IN ('primary', 'calibration')
"""

INSERT_REVIEWS_SQL = """
INSERT INTO reviews
SELECT unnest($id::BIGINT[]), unnest($d::VARCHAR[]), unnest($s::VARCHAR[]), unnest($c::VARCHAR[]),
       unnest($r::VARCHAR[]), unnest($role::VARCHAR[]), unnest($sid::VARCHAR[]), unnest($sv::VARCHAR[]),
       unnest($score::DOUBLE[]), unnest($passed::BOOLEAN[]), $now, unnest($src::VARCHAR[]),
       unnest($dispute::BIGINT[]), NULL, NULL
"""

INSERT_ANSWERS_SQL = """
INSERT INTO review_answers
SELECT unnest($id::BIGINT[]), unnest($item::VARCHAR[]), unnest($v::VARCHAR[]), unnest($p::VARCHAR[]),
       unnest($o::BOOLEAN[]), unnest($note::VARCHAR[])
"""


def _undo(
    con: duckdb.DuckDBPyConnection,
    ids: list[int],
    was_open: list[tuple[Any, ...]],
    undo: Sequence[tuple[str, Any]],
    log: Sequence[auditlog.NewEntry] = (),
) -> None:
    """Take back a batch whose scores could not be recorded (and log that it was)."""
    lo, hi = ids[0], ids[-1]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM review_answers WHERE review_id BETWEEN ? AND ?", [lo, hi])
        con.execute("DELETE FROM reviews WHERE review_id BETWEEN ? AND ?", [lo, hi])
        con.execute(
            "UPDATE reviews SET superseded_by = NULL, superseded_at = NULL WHERE superseded_by BETWEEN ? AND ?",
            [lo, hi],
        )
        if was_open:
            con.execute(
                f"UPDATE review_assignments a SET status = 'open' FROM ({_KEYS}) k WHERE {_ON.format(t='a')}",
                _key_params(was_open),
            )
        for sql, params in undo:
            con.execute(sql, params)
        auditlog.append_many(con, log)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
