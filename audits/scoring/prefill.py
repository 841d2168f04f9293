"""Scorecard items pre-filled from automated checks, looked up for many conversations in one query.

An item with `check: CHECK_ID` takes that check's outcome for the conversation from `check_results`:
pass -> the scale's first value, fail -> the scale's first fail value, na -> "na". When a check has
several rows for a conversation, the highest check version counts (numerically when versions are
integers) and, within it, the worst outcome (fail, then pass, then na) with its earliest turn as the
evidence. No proposal is made when the table or the row is missing, when the scale has no fail value
for a failure, or when the item does not allow "na" for a not-applicable outcome: the reviewer
answers those items unaided. A proposal is only a proposal: the reviewer confirms or overrides it and
the review stores both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from audits.scorecards import prefill
from audits.warehouse import table_exists


@dataclass(frozen=True)
class Prefill:
    """An automated check's proposal for one scorecard item of one conversation."""

    item_id: str
    check_id: str
    check_version: str
    outcome: str  # pass | fail | na
    value: str | None  # the proposed answer; None when the outcome has no value on the item's scale
    turn: int | None
    evidence: str | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return dict(self.__dict__)


LOOKUP_SQL = """
WITH k AS (SELECT DISTINCT unnest($s::VARCHAR[]) AS supplier, unnest($c::VARCHAR[]) AS conversation_id),
r AS (
    SELECT cr.supplier, cr.conversation_id, cr.check_id, cr.check_version::VARCHAR AS v, cr.outcome,
           cr.turn, cr.evidence
    FROM check_results cr SEMI JOIN k ON k.supplier = cr.supplier AND k.conversation_id = cr.conversation_id
    {fresh_join}
    WHERE cr.check_id IN (SELECT unnest($checks::VARCHAR[])) AND cr.outcome IN ('pass', 'fail', 'na') {fresh}
),
latest AS (
    SELECT * FROM r QUALIFY dense_rank() OVER (PARTITION BY supplier, conversation_id, check_id
        ORDER BY try_cast(v AS BIGINT) DESC NULLS LAST, v DESC) = 1
)
SELECT supplier, conversation_id, check_id, v, outcome, turn, evidence FROM latest
QUALIFY row_number() OVER (PARTITION BY supplier, conversation_id, check_id
    ORDER BY CASE outcome WHEN 'fail' THEN 0 WHEN 'pass' THEN 1 ELSE 2 END, turn NULLS LAST, evidence) = 1
"""


def prefills(
    con: duckdb.DuckDBPyConnection, cards: Mapping[tuple[Any, ...], Any]
) -> dict[tuple[Any, ...], dict[str, Prefill]]:
    """Proposals per key and item id; a key starts with (supplier, conversation_id), its value is the scorecard."""
    checks = sorted({i.check for sc in cards.values() for i in sc.items if i.check})
    if not cards or not checks or not table_exists(con, "check_results"):
        return {}
    keys = list(cards)
    fresh = fresh_join = ""
    if {"content_hash"} <= _columns(con, "check_results"):
        # the conversations asked about only (a correlated subquery would join all of them)
        fresh_join = (
            "LEFT JOIN (SELECT c.supplier, c.conversation_id, c.content_hash FROM conversations c "
            "SEMI JOIN k USING (supplier, conversation_id)) cc "
            "ON cc.supplier = cr.supplier AND cc.conversation_id = cr.conversation_id"
        )
        fresh = "AND cr.content_hash IS NOT DISTINCT FROM cc.content_hash"
    rows = con.execute(
        LOOKUP_SQL.format(fresh=fresh, fresh_join=fresh_join),
        {"s": [k[0] for k in keys], "c": [k[1] for k in keys], "checks": checks},
    ).fetchall()
    found: dict[tuple[str, str], dict[str, tuple[Any, ...]]] = {}
    for supplier, cid, check_id, *rest in rows:
        found.setdefault((supplier, cid), {})[check_id] = tuple(rest)
    out: dict[tuple[Any, ...], dict[str, Prefill]] = {}
    for key, card in cards.items():  # over the conversations asked about, not the population
        by_check = found.get((key[0], key[1]))
        if by_check:
            out[key] = dict(_for_card(card, by_check))
    return out


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [table]).fetchall()
    return {r[0] for r in rows}


def _for_card(card: Any, by_check: Mapping[str, tuple[Any, ...]]) -> Iterable[tuple[str, Prefill]]:
    values = prefill(card, {check: row[1] for check, row in by_check.items()})
    for item in card.items:
        if item.check and item.check in by_check:
            version, outcome, turn, evidence = by_check[item.check]
            yield (
                item.id,
                Prefill(
                    item.id,
                    item.check,
                    version,
                    outcome,
                    values.get(item.id),
                    None if turn is None else int(turn),
                    evidence,
                ),
            )
