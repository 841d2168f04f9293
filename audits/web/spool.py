"""Reviews submitted while the warehouse is busy: kept in an append-only spool, written later, once.

DuckDB lets one process write a file at a time. When the nightly run holds the warehouse and a
reviewer submits, the submission is appended as one JSON line to `<warehouse>.review-spool.jsonl`
(flushed and fsync'd, file and folder, before the reviewer is told "queued"). `replay` writes the
pending submissions when the warehouse is free: the server runs it at start-up and every few
seconds, and `qa-audit review flush` runs it by hand.

Exactly once. Every submission has an id (made when the form was rendered, so a double click is one
submission too) and is written through `audits.scoring.submit_review` with `source = "web:<id>"`,
which is stored on the review row in the same transaction as the review. Before writing, `replay`
looks for a review with that source: a crash between the write and the spool's "applied" line is
therefore repaired by the next replay without writing again. Lines:

    {"kind": "submission", "id": ..., "at": ..., "draw_id": ..., "supplier": ..., "conversation_id": ...,
     "reviewer": ..., "answers": {...}, "comments": {...}}
    {"kind": "applied", "id": ..., "review_id": ..., "at": ...}
    {"kind": "refused", "id": ..., "error": ..., "at": ...}     (the library refused it, e.g. a dispute
                                                                 froze the item meanwhile; shown to the reviewer)

Appends and replays take an exclusive `fcntl.flock` on the spool, so two servers on one warehouse do
not interleave lines. A torn last line (a crash mid-append) is skipped and reported, never guessed.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audits.errors import AuditError, WarehouseBusy

SOURCE_PREFIX = "web:"
ID_RE = re.compile(r"^[0-9a-f]{32}$")


def spool_path(warehouse: str | os.PathLike[str]) -> Path:
    """The spool file next to the warehouse."""
    p = Path(warehouse)
    return p.with_name(p.name + ".review-spool.jsonl")


def source_of(submission_id: str) -> str:
    """The `reviews.source` a web submission is stored with."""
    return SOURCE_PREFIX + submission_id


@dataclass
class SpoolState:
    """The spool read back: submissions by id, and which were applied or refused."""

    submissions: dict[str, dict[str, Any]] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    torn_lines: list[int] = field(default_factory=list)

    @property
    def pending(self) -> list[dict[str, Any]]:
        """Submissions neither applied nor refused, in the order they were spooled."""
        return [s for i, s in self.submissions.items() if i not in self.applied and i not in self.refused]

    def status(self, submission_id: str) -> str | None:
        """queued | applied | refused, or None when the id is not in the spool."""
        if submission_id in self.applied:
            return "applied"
        if submission_id in self.refused:
            return "refused"
        return "queued" if submission_id in self.submissions else None


@contextmanager
def _locked(path: Path, mode: str) -> Iterator[Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, mode, encoding="utf-8") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield fh
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def append(path: Path, record: dict[str, Any]) -> None:
    """Append one record as a JSON line, flushed and fsync'd (and the folder, for a new file)."""
    new = not path.exists()
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
    with _locked(path, "a") as fh:
        fh.write(_after_torn(path) + line)
        fh.flush()
        os.fsync(fh.fileno())
    if new:
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def spool_submission(
    path: Path,
    submission_id: str,
    *,
    draw_id: str,
    supplier: str,
    conversation_id: str,
    reviewer: str,
    answers: dict[str, str],
    comments: dict[str, str],
) -> None:
    """Keep a submission durably until the warehouse can take it (a repeated id is kept once)."""
    if not ID_RE.match(submission_id):
        raise ValueError(f"submission id must be 32 hex digits, got {submission_id!r}")
    if submission_id in read(path).submissions:
        return
    append(path, {"kind": "submission", "id": submission_id, "at": _now(), "draw_id": draw_id,
                  "supplier": supplier, "conversation_id": conversation_id, "reviewer": reviewer,
                  "answers": answers, "comments": comments})  # fmt: skip


def read(path: Path) -> SpoolState:
    """The spool's state (an empty one when there is no file)."""
    state = SpoolState()
    if not path.exists():
        return state
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                kind, sid = rec["kind"], rec["id"]
            except (ValueError, KeyError, TypeError):
                state.torn_lines.append(n)
                continue
            if kind == "submission":
                state.submissions.setdefault(sid, rec)
            elif kind == "applied":
                state.applied[sid] = int(rec["review_id"])
            elif kind == "refused":
                state.refused[sid] = str(rec["error"])
    return state


@dataclass(frozen=True)
class ReplayResult:
    """What one replay did."""

    applied: list[tuple[str, int]]
    already: list[tuple[str, int]]
    refused: list[tuple[str, str]]
    pending: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def replay(path: Path, warehouse: str | os.PathLike[str], *, wait: float = 1.0) -> ReplayResult:
    """Write the pending submissions (each once); WarehouseBusy when the warehouse is still held."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.scoring import submit_review  # noqa: PLC0415

    if not read(path).pending:
        return ReplayResult([], [], [], 0)
    applied: list[tuple[str, int]] = []
    already: list[tuple[str, int]] = []
    refused: list[tuple[str, str]] = []
    with _locked(path, "a") as _lock:  # one replayer at a time; appends wait for it
        state = read(path)
        todo = state.pending
        if not todo:
            return ReplayResult([], [], [], 0)
        con = wh.connect(warehouse, wait=wait)
        try:
            for sub in todo:  # over the queued submissions (a handful: what arrived while busy)
                sid = sub["id"]
                found = wh.one(
                    con,
                    "SELECT review_id FROM reviews WHERE source = ? ORDER BY review_id LIMIT 1",
                    [source_of(sid)],
                ) if wh.table_exists(con, "reviews") else None  # fmt: skip
                if found is not None:
                    already.append((sid, int(found[0])))
                    _mark(_lock, {"kind": "applied", "id": sid, "review_id": int(found[0]), "at": _now()})
                    continue
                try:
                    result = submit_review(
                        con, draw_id=sub["draw_id"], supplier=sub["supplier"],
                        conversation_id=sub["conversation_id"], reviewer=sub["reviewer"],
                        answers=sub["answers"], comments=sub.get("comments") or {}, source=source_of(sid),
                    )  # fmt: skip
                except WarehouseBusy:
                    raise
                except AuditError as exc:
                    refused.append((sid, str(exc)))
                    _mark(_lock, {"kind": "refused", "id": sid, "error": str(exc), "at": _now()})
                    continue
                applied.append((sid, result.review_id))
                _mark(_lock, {"kind": "applied", "id": sid, "review_id": result.review_id, "at": _now()})
        finally:
            con.close()
    return ReplayResult(applied, already, refused, len(read(path).pending))


def _after_torn(path: Path) -> str:
    """A newline when the file ends in a torn line (a crash mid-append), so the next record stays whole."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() == 0:
            return ""
        fh.seek(-1, os.SEEK_END)
        return "" if fh.read(1) == b"\n" else "\n"


def _mark(fh: Any, record: dict[str, Any]) -> None:
    fh.write(
        _after_torn(Path(fh.name))
        + json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
        + "\n"
    )
    fh.flush()
    os.fsync(fh.fileno())
