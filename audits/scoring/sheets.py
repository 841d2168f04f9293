"""The review sheet: a reviewer's queue as CSV to fill in a spreadsheet, and its import, all or nothing.

Export: one row per assigned conversation x scorecard item, in the columns `COLUMNS`, RFC 4180
(comma, double quotes doubled, CRLF), UTF-8. `allowed` lists the values the item accepts;
`prefilled` is an automated check's proposal and `check_evidence` why (personal data in it is
masked, and a cell that a spreadsheet would read as a formula is prefixed with '). The sheet
carries no transcript: read it in the review page or with `qa-audit queue show`. `value` and
`comment` are left empty to fill; to confirm a proposal, copy it into `value`. Open items only,
unless `include_submitted`, which also writes submitted items with the current answers.

Import validates the whole file before writing anything and reports every problem with the file,
line and column: a conversation not in the reviewer's queue, an item not in the scorecard or listed
twice, a scorecard id or version other than the one the conversation is pinned to, a value the item
does not accept, a conversation half filled, rows missing for some items, a comment on a conversation
with no values, a primary review frozen by a dispute. Any problem: nothing is written (SheetError
lists the first 50 and counts the rest). Otherwise every filled conversation is submitted in one
transaction. A conversation left entirely blank (no value, no comment) is skipped and counted; one
whose answers equal the reviewer's current review is counted as unchanged and not re-submitted.
Columns may be in any order; other columns (question, ...) are read by people only.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from audits.checks.pii import find_pii
from audits.errors import ConfigError, InputError
from audits.scoring.answers import allowed_values, check_answers, normalize_value, pinned_scorecard
from audits.scoring.prefill import Prefill, prefills
from audits.scoring.reviews import ReviewResult, Submission, frozen_conversations, store_reviews
from audits.scoring.tables import PRIMARY, SUBMITTED, check_draw, has_scoring_tables, name

COLUMNS: tuple[str, ...] = (
    "draw_id", "supplier", "conversation_id", "scorecard_id", "scorecard_version", "item_id", "question",
    "allowed", "prefilled", "check_evidence", "value", "comment",
)  # fmt: skip
REQUIRED: tuple[str, ...] = (
    "draw_id", "supplier", "conversation_id", "scorecard_id", "scorecard_version", "item_id", "value", "comment",
)  # fmt: skip
MAX_LISTED = 50


class SheetError(InputError):
    """A review sheet with problems; `problems` holds (line, column, message) for every one of them."""

    def __init__(self, path: str, problems: Sequence[tuple[int, str, str]]):
        self.problems = list(problems)
        shown = [f"  {path}:{line} [{col}]: {msg}" for line, col, msg in self.problems[:MAX_LISTED]]
        if len(self.problems) > MAX_LISTED:
            shown.append(f"  ... and {len(self.problems) - MAX_LISTED} more problem(s)")
        super().__init__(path, f"{len(self.problems)} problem(s); nothing was imported:\n" + "\n".join(shown))


@dataclass(frozen=True)
class ExportResult:
    """A written sheet: its path, conversations and rows."""

    path: str
    conversations: int
    rows: int


@dataclass(frozen=True)
class ImportResult:
    """What an import did: conversations submitted, skipped blank (listed) and unchanged."""

    path: str
    reviewer: str
    rows: int
    submitted: int
    skipped_blank: int
    unchanged: int
    skipped: tuple[str, ...] = ()
    reviews: tuple[ReviewResult, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return dict(self.__dict__) | {
            "skipped": list(self.skipped),
            "reviews": [r.to_dict() for r in self.reviews],
        }


def _evidence(p: Prefill | None) -> str:
    if p is None:
        return ""
    text = f"{p.check_id} v{p.check_version}: {p.outcome}" + (
        f" at turn {p.turn}" if p.turn is not None else ""
    )
    if p.evidence:
        masked = p.evidence
        for kind, match in find_pii(masked):
            masked = masked.replace(match, f"[{kind}]")
        text += f": {masked}"
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_sheet(
    con: duckdb.DuckDBPyConnection,
    draw_id: str,
    reviewer: str,
    path: str | os.PathLike[str],
    *,
    include_submitted: bool = False,
) -> ExportResult:
    """Write the reviewer's items of a draw as a CSV sheet to fill (open items, or all of them)."""
    reviewer = name("reviewer", reviewer)
    check_draw(con, draw_id)
    rows = []
    if has_scoring_tables(con):
        rows = con.execute(
            "SELECT a.supplier, a.conversation_id, a.scorecard_id, a.scorecard_version, a.status, r.review_id "
            "FROM review_assignments a LEFT JOIN reviews r ON r.draw_id = a.draw_id AND r.supplier = a.supplier "
            "AND r.conversation_id = a.conversation_id AND r.reviewer = a.reviewer AND r.role = a.role "
            "AND r.superseded_by IS NULL WHERE a.draw_id = ? AND a.reviewer = ? AND (a.status = 'open' OR ?) "
            "ORDER BY a.supplier, a.conversation_id",
            [draw_id, reviewer, include_submitted],
        ).fetchall()
    if not rows and not include_submitted and not _has_any(con, draw_id, reviewer):
        raise ConfigError(f"{reviewer} has no items in draw {draw_id}")
    cache: dict[tuple[str, str], Any] = {}
    cards = {(s, c): pinned_scorecard(con, sid, sv, cache) for s, c, sid, sv, _, _ in rows}
    proposals = prefills(con, cards)
    answers = _answers(con, [r[5] for r in rows if r[5] is not None])
    out = Path(path)
    n = 0
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for supplier, cid, sid, sv, _, review_id in rows:  # over one reviewer's queue
            given = answers.get(review_id, {})
            for item in cards[(supplier, cid)].items:
                p = proposals.get((supplier, cid), {}).get(item.id)
                value, comment = given.get(item.id, ("", ""))
                writer.writerow([draw_id, supplier, cid, sid, sv, item.id, item.question,
                                 "|".join(allowed_values(item)), p.value if p and p.value else "",
                                 _evidence(p), value or "", comment or ""])  # fmt: skip
                n += 1
    return ExportResult(str(out), len(rows), n)


def _has_any(con: duckdb.DuckDBPyConnection, draw_id: str, reviewer: str) -> bool:
    if not has_scoring_tables(con):
        return False
    rows = con.execute(
        "SELECT 1 FROM review_assignments WHERE draw_id = ? AND reviewer = ? LIMIT 1", [draw_id, reviewer]
    ).fetchall()
    return bool(rows)


def _answers(con: duckdb.DuckDBPyConnection, review_ids: list[int]) -> dict[int, dict[str, tuple[str, str]]]:
    if not review_ids:
        return {}
    out: dict[int, dict[str, tuple[str, str]]] = {}
    for rid, item, value, comment in con.execute(
        "SELECT review_id, item_id, value, comment FROM review_answers WHERE review_id IN (SELECT unnest(?::BIGINT[]))",
        [review_ids],
    ).fetchall():
        out.setdefault(rid, {})[item] = (value, comment)
    return out


# ---------------------------------------------------------------------------------------------- import


@dataclass
class _Block:
    """The rows of one conversation in a sheet: (line, fields) in file order."""

    key: tuple[str, str, str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def _read(path: Path) -> tuple[list[_Block], int, list[tuple[int, str, str]]]:
    """The sheet's rows grouped by conversation, the row count, and problems of form."""
    problems: list[tuple[int, str, str]] = []
    blocks: dict[tuple[str, str, str], _Block] = {}
    n = 0
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise InputError(str(path), "empty file: expected a header row", line=1)
            header = [h.strip() for h in header]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise SheetError(str(path), [(1, c, "required column is missing") for c in missing])
            last = reader.line_num
            for row in reader:
                line, last = last + 1, reader.line_num
                if not row:
                    continue
                n += 1
                if len(row) != len(header):
                    problems.append((line, header[-1], f"{len(row)} fields; the header has {len(header)}"))
                    continue
                fields = {h: v.strip() for h, v in zip(header, row, strict=True)}
                key = (fields["draw_id"], fields["supplier"], fields["conversation_id"])
                blocks.setdefault(key, _Block(key)).rows.append((line, fields))
    except FileNotFoundError as exc:
        raise InputError(str(path), "no such file") from exc
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except csv.Error as exc:
        raise InputError(str(path), f"not a valid CSV file: {exc}", line=reader.line_num) from exc
    return list(blocks.values()), n, problems


def import_sheet(con: duckdb.DuckDBPyConnection, path: str | os.PathLike[str], reviewer: str) -> ImportResult:
    """Validate a filled sheet completely, then submit every filled conversation (all or nothing)."""
    reviewer = name("reviewer", reviewer)
    p = Path(path)
    blocks, n_rows, problems = _read(p)
    pins = _pins(con, reviewer, [b.key for b in blocks])
    frozen = frozen_conversations(con, [b.key for b in blocks if pins.get(b.key, ("",))[0] == PRIMARY])
    current = _answers(con, [pin[4] for pin in pins.values() if pin[4] is not None])
    cache: dict[tuple[str, str], Any] = {}
    subs: list[Submission] = []
    skipped: list[str] = []
    unchanged = 0
    for block in blocks:  # over the conversations of one sheet
        d, s, c = block.key
        first = block.rows[0][0]
        pin = pins.get(block.key)
        if pin is None:
            problems.append((first, "conversation_id", f"{s}/{c} of draw {d!r} is not in {reviewer}'s queue"))
            continue
        role, sid, sv, status, review_id = pin
        card = pinned_scorecard(con, sid, sv, cache)
        answers, comments, block_problems = _check_block(block, card)
        problems += block_problems
        if block_problems:
            continue
        if not answers and not comments:
            skipped.append(f"{d}/{s}/{c}")
            continue
        if block.key in frozen:
            problems.append(
                (first, "value", f"{s}/{c}: the primary review cannot change: {frozen[block.key]}")
            )
            continue
        try:
            normal, notes, result = check_answers(card, answers, comments, f"{s}/{c}")
        except ConfigError as exc:
            problems.append((first, "value", str(exc)))
            continue
        was = current.get(review_id, {}) if status == SUBMITTED else None
        if (
            was is not None
            and {k: v for k, (v, _) in was.items()} == normal
            and {k: n for k, (_, n) in was.items() if n} == notes
        ):
            unchanged += 1
            continue
        subs.append(Submission(d, s, c, reviewer, role, card, normal, notes, result, f"sheet:{p.name}"))
    if problems:
        raise SheetError(str(p), sorted(problems))
    stored = store_reviews(con, subs)
    return ImportResult(
        str(p), reviewer, n_rows, len(stored), len(skipped), unchanged, tuple(skipped), tuple(stored)
    )


def _pins(
    con: duckdb.DuckDBPyConnection, reviewer: str, keys: list[tuple[str, str, str]]
) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """(draw, supplier, conversation) -> (role, scorecard id, version, status, current review id) for the reviewer."""
    if not keys or not has_scoring_tables(con):
        return {}
    rows = con.execute(
        "SELECT a.draw_id, a.supplier, a.conversation_id, a.role, a.scorecard_id, a.scorecard_version, a.status, "
        "r.review_id FROM review_assignments a SEMI JOIN (SELECT unnest($d::VARCHAR[]) AS draw_id, "
        "unnest($s::VARCHAR[]) AS supplier, unnest($c::VARCHAR[]) AS conversation_id) k "
        "ON k.draw_id = a.draw_id AND k.supplier = a.supplier AND k.conversation_id = a.conversation_id "
        "LEFT JOIN reviews r ON r.draw_id = a.draw_id AND r.supplier = a.supplier "
        "AND r.conversation_id = a.conversation_id AND r.reviewer = a.reviewer AND r.role = a.role "
        "AND r.superseded_by IS NULL WHERE a.reviewer = $r",
        {"d": [k[0] for k in keys], "s": [k[1] for k in keys], "c": [k[2] for k in keys], "r": reviewer},
    ).fetchall()
    return {(d, s, c): tuple(rest) for d, s, c, *rest in rows}


def _check_block(
    block: _Block, card: Any
) -> tuple[dict[str, str], dict[str, str], list[tuple[int, str, str]]]:
    """A conversation's answers and comments, and the problems of its rows."""
    problems: list[tuple[int, str, str]] = []
    items = {i.id: i for i in card.items}
    seen: dict[str, int] = {}
    answers: dict[str, str] = {}
    comments: dict[str, str] = {}
    blanks: list[int] = []
    for line, f in block.rows:
        if (f["scorecard_id"], f["scorecard_version"]) != (card.id, card.version):
            problems.append((line, "scorecard_version",
                             f"the sheet says {f['scorecard_id']}@{f['scorecard_version']}, but the conversation "
                             f"is pinned to {card.label}; export a fresh sheet"))  # fmt: skip
        item = items.get(f["item_id"])
        if item is None:
            problems.append((line, "item_id", f"{f['item_id']!r} is not an item of scorecard {card.label}"))
            continue
        if f["item_id"] in seen:
            problems.append((line, "item_id", f"{item.id!r} is listed twice (also line {seen[item.id]})"))
            continue
        seen[item.id] = line
        if f["comment"]:
            comments[item.id] = f["comment"]
        if not f["value"]:
            blanks.append(line)
            continue
        value = normalize_value(item, f["value"])
        if value is None:
            allowed = ", ".join(allowed_values(item))
            problems.append(
                (line, "value", f"{f['value']!r} is not allowed for {item.id}; expected one of {allowed}")
            )
        else:
            answers[item.id] = value
    filled = len(seen) - len(blanks)
    if filled and blanks:
        problems += [(line, "value", "no value, but other items of this conversation are filled "
                      "(fill it, or clear the whole conversation to skip it)") for line in blanks]  # fmt: skip
    if not filled and comments:
        problems += [
            (seen[k], "comment", "a comment, but no item of this conversation has a value") for k in comments
        ]
    absent = [k for k in items if k not in seen]
    if filled and absent:
        problems.append(
            (block.rows[0][0], "item_id", f"no row for item(s) {', '.join(absent)} of {card.label}")
        )
    return answers, comments, problems
