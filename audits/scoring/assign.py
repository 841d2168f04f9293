"""Review queues: every drawn conversation to one primary reviewer, a share of them also to others, blind.

Primary reviewers. The items of a draw that have no primary reviewer yet are put in the order of a
keyed hash, sha256(seed + ":review:" + supplier + ":" + conversation_id) (the seed defaults to the
draw's own), and dealt to the reviewers by water-filling: the next item goes to the reviewer with the
fewest primary items of this draw, ties broken by name. On a fresh draw that is a round robin and the
loads differ by at most one; the reviewers' order on the command line does not matter.

Calibration. The ceil(share x items) items with the smallest calibration hash
(sha256(seed + ":calibration:" + ...)) are also given, blind, to further reviewers until each has
`raters` independent raters (the primary counts as one). Raising the share extends the same set.
Extra raters are dealt to the calibration items in hash order, each to the eligible reviewer (not
already on the item) with the fewest calibration items of this draw, ties broken by rotation from
the primary's place in name order. Greedy dealing can leave loads two or more apart (the idle
reviewer may be the primary of the last items), so new rows are then handed along chains from the
busiest to the idlest reviewer (augmenting paths: A gives an item to B, who gives one to C) until
loads differ by at most one or no chain exists (e.g. with as many raters as reviewers, everyone
rates every calibration item they are not primary on). No one rates an item twice. These loops run
over the calibration items only (a small share of one sample), never over the population.

Sticky and idempotent. An assignment, once made, never moves (someone may be half way through it).
A later call only places items with no primary yet and tops up calibration items with fewer raters
than asked, so running the same call again adds nothing. A reviewer added later therefore gets only
new or unassigned work, not a share of what was already dealt.

Scorecards. Each conversation's scorecard is chosen by `scorecard_for(channel, handler)` once per
distinct (channel, handler) of the draw, registered in the warehouse and pinned (id and version) on
the assignment; calibration raters use the primary's pinned scorecard. A conversation no scorecard
applies to stops the assignment (nothing written), unless `skip_uncovered`: then such items stay
unassigned (and uncalibrated), are reported in `AssignResult.uncovered`, and a later call places
them once a scorecard covers them.

Logged in the same transaction (audits.auditlog, action `review.assigned`, subject the draw id): one
entry per supplier with the rows this call added (conversation, reviewer, role, scorecard id and
version), in that supplier's chain.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from audits import auditlog
from audits.errors import ConfigError
from audits.scorecards import load_scorecards, register_scorecard, scorecard_for
from audits.scoring.tables import CALIBRATION, PRIMARY, check_draw, ensure_scoring_tables, name
from audits.warehouse import scalar


@dataclass(frozen=True)
class AssignResult:
    """What an assignment call did. `per_reviewer`: reviewer -> {primary, calibration} in the draw."""

    draw_id: str
    items: int
    primary_added: int
    calibration_added: int
    calibration_items: int
    per_reviewer: dict[str, dict[str, int]] = field(default_factory=dict)
    scorecards: tuple[tuple[str, str, str, str, int], ...] = ()  # channel, handler, id, version, items
    uncovered: tuple[
        tuple[str, str, int], ...
    ] = ()  # channel, handler, items left unassigned (skip_uncovered)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "draw_id": self.draw_id,
            "items": self.items,
            "primary_added": self.primary_added,
            "calibration_added": self.calibration_added,
            "calibration_items": self.calibration_items,
            "per_reviewer": self.per_reviewer,
            "scorecards": [
                {"channel": c, "handler": h, "scorecard_id": i, "scorecard_version": v, "items": n}
                for c, h, i, v, n in self.scorecards
            ],
            "uncovered": [{"channel": c, "handler": h, "items": n} for c, h, n in self.uncovered],
        }


def _key(tag: str) -> str:
    return f"('0x' || substr(sha256($seed || ':{tag}:' || i.supplier || ':' || i.conversation_id), 1, 13))::UBIGINT"


def _reviewers(reviewers: Sequence[str]) -> list[str]:
    names = [name("reviewer", r) for r in reviewers]
    if not names:
        raise ConfigError("give at least one reviewer")
    twice = sorted({r for r in names if names.count(r) > 1})
    if twice:
        raise ConfigError(f"reviewer(s) listed twice: {', '.join(twice)}")
    return sorted(names)


def _check_options(calibration_share: float, raters: int, n_reviewers: int) -> None:
    if isinstance(calibration_share, bool) or not isinstance(calibration_share, int | float):
        raise ConfigError(f"calibration share must be a number in [0, 1), got {calibration_share!r}")
    if not 0 <= calibration_share < 1:
        raise ConfigError(f"calibration share must be in [0, 1), got {calibration_share!r}")
    if isinstance(raters, bool) or not isinstance(raters, int) or raters < 2:
        raise ConfigError(f"raters per calibration item must be an integer >= 2, got {raters!r}")
    if calibration_share > 0 and n_reviewers < raters:
        raise ConfigError(
            f"calibration needs {raters} independent raters per item but only {n_reviewers} reviewer(s) "
            "were given; add reviewers, lower --raters or set --calibration-share 0"
        )


def _choose_scorecards(
    con: duckdb.DuckDBPyConnection,
    draw_id: str,
    catalogue: Mapping[Any, Any],
    scorecard_id: str | None,
    skip_uncovered: bool,
) -> tuple[list[tuple[str, str, Any, int]], list[tuple[str, str, int]]]:
    """(channel, handler, scorecard, items) per (channel, handler) of the unassigned items, and those with none."""
    missing = con.execute(
        "SELECT i.supplier, i.conversation_id FROM draw_items i ANTI JOIN conversations c "
        "ON c.supplier = i.supplier AND c.conversation_id = i.conversation_id WHERE i.draw_id = ? "
        "ORDER BY 1, 2 LIMIT 5",
        [draw_id],
    ).fetchall()
    if missing:
        shown = ", ".join(f"{s}/{c}" for s, c in missing)
        raise ConfigError(f"draw {draw_id} holds conversations the warehouse no longer has: {shown}")
    pairs = con.execute(
        "SELECT c.channel, c.handler, count(*) FROM draw_items i JOIN conversations c "
        "ON c.supplier = i.supplier AND c.conversation_id = i.conversation_id "
        "WHERE i.draw_id = ? AND NOT EXISTS (SELECT 1 FROM review_assignments a WHERE a.draw_id = i.draw_id "
        "AND a.supplier = i.supplier AND a.conversation_id = i.conversation_id AND a.role = 'primary') "
        "GROUP BY ALL ORDER BY 1, 2",
        [draw_id],
    ).fetchall()
    chosen, uncovered, problems = [], [], []
    for channel, handler, n in pairs:  # over the distinct (channel, handler), a handful
        try:
            sc = scorecard_for(catalogue, channel, handler, scorecard_id=scorecard_id)
        except ConfigError as exc:
            problems.append(f"{n} conversation(s) on channel {channel!r}, handler {handler!r}: {exc}")
            uncovered.append((channel, handler, int(n)))
            continue
        chosen.append((channel, handler, sc, int(n)))
    if problems and not skip_uncovered:
        raise ConfigError(
            "no scorecard for some of the draw's conversations (add one, or skip them with "
            "skip_uncovered / --skip-uncovered):\n  " + "\n  ".join(problems)
        )
    registered: set[tuple[str, str]] = set()
    for _, _, sc, _ in chosen:
        if (sc.id, str(sc.version)) not in registered:
            register_scorecard(con, sc)
            registered.add((sc.id, str(sc.version)))
    return chosen, uncovered


PRIMARY_SQL = f"""
INSERT INTO review_assignments
WITH todo AS (
    SELECT i.supplier, i.conversation_id, m.scorecard_id, m.scorecard_version,
           row_number() OVER (ORDER BY {_key("review")}, i.supplier, i.conversation_id) - 1 AS pos
    FROM draw_items i
    JOIN conversations c ON c.supplier = i.supplier AND c.conversation_id = i.conversation_id
    JOIN (SELECT unnest($ch::VARCHAR[]) AS channel, unnest($hd::VARCHAR[]) AS handler,
                 unnest($sid::VARCHAR[]) AS scorecard_id, unnest($sv::VARCHAR[]) AS scorecard_version) m
      ON m.channel IS NOT DISTINCT FROM c.channel AND m.handler IS NOT DISTINCT FROM c.handler
    WHERE i.draw_id = $draw AND NOT EXISTS (
        SELECT 1 FROM review_assignments a WHERE a.draw_id = i.draw_id AND a.supplier = i.supplier
        AND a.conversation_id = i.conversation_id AND a.role = 'primary')
),
loads AS (
    SELECT r.reviewer, count(a.reviewer) AS n
    FROM (SELECT unnest($reviewers::VARCHAR[]) AS reviewer) r
    LEFT JOIN review_assignments a ON a.draw_id = $draw AND a.role = 'primary' AND a.reviewer = r.reviewer
    GROUP BY r.reviewer
),
slots AS (
    SELECT reviewer, row_number() OVER (ORDER BY slot, reviewer) - 1 AS pos
    FROM (SELECT reviewer, unnest(range(n, (SELECT max(n) FROM loads) + $per + 1)) AS slot FROM loads)
)
SELECT $draw, t.supplier, t.conversation_id, s.reviewer, 'primary', t.scorecard_id, t.scorecard_version,
       $now, 'open'
FROM todo t JOIN slots s ON s.pos = t.pos
"""

CALIBRATION_SQL = f"""
WITH cal AS (
    SELECT i.supplier, i.conversation_id,
           row_number() OVER (ORDER BY {_key("calibration")}, i.supplier, i.conversation_id) - 1 AS j
    FROM draw_items i WHERE i.draw_id = $draw
    QUALIFY j < $m
)
SELECT cal.supplier, cal.conversation_id, p.scorecard_id, p.scorecard_version, p.reviewer,
       (SELECT list(a.reviewer) FROM review_assignments a WHERE a.draw_id = $draw
        AND a.supplier = cal.supplier AND a.conversation_id = cal.conversation_id) AS raters
FROM cal JOIN review_assignments p ON p.draw_id = $draw AND p.supplier = cal.supplier
     AND p.conversation_id = cal.conversation_id AND p.role = 'primary'
WHERE len(raters) < $raters
ORDER BY cal.j
"""


def _calibration_rows(
    con: duckdb.DuckDBPyConnection, draw_id: str, seed: str, m: int, raters: int, roster: list[str]
) -> list[tuple[str, ...]]:
    """(supplier, conversation_id, reviewer, scorecard id, version) of the extra raters to add."""
    todo = con.execute(CALIBRATION_SQL, {"draw": draw_id, "seed": seed, "m": m, "raters": raters}).fetchall()
    load = dict.fromkeys(roster, 0)
    for reviewer, n in con.execute(
        "SELECT reviewer, count(*) FROM review_assignments WHERE draw_id = ? AND role = 'calibration' GROUP BY ALL",
        [draw_id],
    ).fetchall():
        if reviewer in load:
            load[reviewer] = int(n)
    place = {r: i for i, r in enumerate(roster)}
    out: list[tuple[str, ...]] = []
    for j, (supplier, cid, sid, sv, primary, have) in enumerate(todo):  # over the calibration items
        taken = set(have)
        start = place.get(primary, -1) + 1 + j
        for _ in range(raters - len(taken)):
            free = [r for r in roster if r not in taken]
            pick = min(free, key=lambda r: (load[r], (place[r] - start) % len(roster)))
            taken.add(pick)
            load[pick] += 1
            out.append((supplier, cid, pick, sid, sv))
    _level(out, load, raters_of={(s, c): set(h) for s, c, *_, h in todo})
    return out


def _level(
    out: list[tuple[str, ...]], load: dict[str, int], raters_of: dict[tuple[str, str], set[str]]
) -> None:
    """Even out calibration loads by moving new rows along chains busiest -> ... -> idlest (augmenting paths)."""
    for row in out:
        raters_of[(row[0], row[1])].add(row[2])
    while True:
        pairs = [(hi, lo) for hi in sorted(load, key=lambda r: (-load[r], r))
                 for lo in sorted(load, key=lambda r: (load[r], r)) if load[hi] - load[lo] > 1]  # fmt: skip
        found = ((hi, lo, _chain(out, raters_of, set(load), hi, lo)) for hi, lo in pairs)
        hi, lo, path = next((f for f in found if f[2] is not None), ("", "", None))
        if path is None:
            return
        for k, to in path:  # each step hands one item on; only the two ends change load
            supplier, cid, was, sid, sv = out[k]
            raters_of[(supplier, cid)].discard(was)
            raters_of[(supplier, cid)].add(to)
            out[k] = (supplier, cid, to, sid, sv)
        load[hi] -= 1
        load[lo] += 1


def _chain(
    out: list[tuple[str, ...]],
    raters_of: dict[tuple[str, str], set[str]],
    reviewers: set[str],
    source: str,
    target: str,
) -> list[tuple[int, str]] | None:
    """Moves (row, new reviewer) handing one item from `source` on to `target`, or None (breadth first)."""
    came: dict[str, tuple[str, int] | None] = {source: None}
    frontier = [source]
    while frontier and target not in came:
        nxt = []
        for a in frontier:
            for k, row in enumerate(out):
                if row[2] != a:
                    continue
                for b in sorted(reviewers - raters_of[(row[0], row[1])]):
                    if b not in came:
                        came[b] = (a, k)
                        nxt.append(b)
        frontier = nxt
    if target not in came:
        return None
    path, node = [], target
    while (step := came[node]) is not None:
        path.append((step[1], node))
        node = step[0]
    return path[::-1]


def assign_reviews(
    con: duckdb.DuckDBPyConnection,
    draw_id: str,
    reviewers: Sequence[str],
    *,
    calibration_share: float = 0.1,
    raters_per_calibration_item: int = 2,
    seed: str | int | None = None,
    scorecards: Mapping[Any, Any] | None = None,
    scorecard_id: str | None = None,
    skip_uncovered: bool = False,
    actor: str | None = None,
) -> AssignResult:
    """Put a draw's items in review queues (primary + blind calibration), in one transaction; idempotent.

    `actor` (default `auditlog.default_actor()`) is who the audit log says assigned them.
    """
    draw_seed = check_draw(con, draw_id)
    roster = _reviewers(reviewers)
    _check_options(calibration_share, raters_per_calibration_item, len(roster))
    ensure_scoring_tables(con)
    if scorecards is None:
        scorecards = load_scorecards()
    chosen, uncovered = _choose_scorecards(con, draw_id, scorecards, scorecard_id, skip_uncovered)
    n_items = int(scalar(con, "SELECT count(*) FROM draw_items WHERE draw_id = ?", [draw_id]))
    todo = sum(n for *_, n in chosen)
    m = math.ceil(calibration_share * n_items) if calibration_share > 0 else 0
    now = dt.datetime.now(dt.UTC)
    key_seed = draw_seed if seed is None else str(seed)
    base = {"draw": draw_id, "seed": key_seed, "now": now, "reviewers": roster}
    before = _count(con, draw_id)
    con.execute("BEGIN TRANSACTION")
    try:
        if todo:
            con.execute(
                PRIMARY_SQL,
                base
                | {
                    "per": math.ceil(todo / len(roster)),
                    "ch": [c for c, *_ in chosen],
                    "hd": [h for _, h, *_ in chosen],
                    "sid": [sc.id for *_, sc, _ in chosen],
                    "sv": [str(sc.version) for *_, sc, _ in chosen],
                },
            )
        extra = _calibration_rows(con, draw_id, key_seed, m, raters_per_calibration_item, roster) if m else []
        if extra:
            cols = list(zip(*extra, strict=True))
            con.execute(
                "INSERT INTO review_assignments SELECT $draw, unnest($s::VARCHAR[]), unnest($c::VARCHAR[]), "
                "unnest($r::VARCHAR[]), 'calibration', unnest($sid::VARCHAR[]), unnest($sv::VARCHAR[]), $now, 'open'",
                {"draw": draw_id, "now": now}
                | dict(zip(("s", "c", "r", "sid", "sv"), map(list, cols), strict=True)),
            )
        _log_assigned(con, draw_id, now, actor or auditlog.default_actor())
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    after = _count(con, draw_id)
    per_reviewer: dict[str, dict[str, int]] = {}
    for reviewer, role, n in con.execute(
        "SELECT reviewer, role, count(*) FROM review_assignments WHERE draw_id = ? GROUP BY ALL ORDER BY 1, 2",
        [draw_id],
    ).fetchall():
        per_reviewer.setdefault(reviewer, {PRIMARY: 0, CALIBRATION: 0})[role] = int(n)
    return AssignResult(
        draw_id=draw_id,
        items=n_items,
        primary_added=after[PRIMARY] - before[PRIMARY],
        calibration_added=after[CALIBRATION] - before[CALIBRATION],
        calibration_items=m,
        per_reviewer=per_reviewer,
        scorecards=tuple((c, h, sc.id, str(sc.version), n) for c, h, sc, n in chosen),
        uncovered=tuple(uncovered),
    )


def _log_assigned(con: duckdb.DuckDBPyConnection, draw_id: str, now: dt.datetime, actor: str) -> None:
    """One `review.assigned` entry per supplier for the rows this call added (all stamped `now`)."""
    rows = con.execute(
        "SELECT supplier, conversation_id, reviewer, role, scorecard_id, scorecard_version FROM review_assignments "
        "WHERE draw_id = ? AND assigned_at = ? ORDER BY supplier, conversation_id, role DESC, reviewer",
        [draw_id, now],
    ).fetchall()
    added: dict[str, list[list[str]]] = {}
    for supplier, *rest in rows:  # over the rows just added (one sample's)
        added.setdefault(supplier, []).append(list(rest))
    auditlog.append_many(con, [
        auditlog.NewEntry(actor, "review.assigned", draw_id, {"draw_id": draw_id, "assignments": got}, supplier, now)
        for supplier, got in added.items()
    ])  # fmt: skip


def _count(con: duckdb.DuckDBPyConnection, draw_id: str) -> dict[str, int]:
    rows = con.execute(
        "SELECT role, count(*) FROM review_assignments WHERE draw_id = ? GROUP BY role", [draw_id]
    ).fetchall()
    return {PRIMARY: 0, CALIBRATION: 0} | {r: int(n) for r, n in rows}
