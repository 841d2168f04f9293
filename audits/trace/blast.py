"""The blast radius of one failed answer: every other conversation that carries the same error.

Given the failed agent turn (supplier, conversation, turn) and, when the root cause is a KB
article, the faulty (article_id, article_version), two sources are merged per conversation:

cited_version   every conversation with an agent turn (answers and actions alike: a refund decided
                under a stale version carries its error too) that cites `article_id` while
                `article_version` was the live version: the one with the latest `updated_at` at or
                before the turn's `sent_at` (the conversation's `started_at` when the turn has no
                time), versions sharing an `updated_at` ordered by their number, then their name,
                exactly as the kb_grounded check resolves it (checks/grounding.py). One SQL pass.
                Skipped without `article_id`; without `article_version`, the version live when the
                failed turn was sent is the faulty one.
similar_answer  agent answers whose TF-IDF cosine similarity to the failed turn's text is at least
                `threshold`, from a saved index (similar.py), on the failed conversation's journey
                when `same_journey`. Skipped when no index is given; a stale index (built before
                the latest load) is refused, since it would miss conversations silently.

A conversation found by both has reason 'both'; its `turn` is the first turn citing the version,
its `score` the best similarity among its answers. The failed conversation itself is never a row.
Rows come in the order of the conversations' start; `customers` lists their distinct known customer
ids (the warehouse's pseudonymous ids, as loaded), sorted.

Prevalence: rows / population, with a 95% Wilson interval (audits.stats.wilson). The population is
the other conversations (the failed one left out) whose `started_at` falls in the version's live
period [its updated_at, the next version's) (the whole warehouse without an article), on the failed
conversation's journey when `same_journey`, plus any row outside that scope (a conversation started
before the version went live but answered under it, or a similar answer on another date), so that
rows are always a subset of the population. With a population of 0, the interval is None.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from audits.errors import ConfigError
from audits.stats import wilson
from audits.trace.similar import Index, check_threshold
from audits.warehouse import one, scalar

AGENTS = ("ai_agent", "human_agent")
VERSION_ORDER = "k.updated_at DESC NULLS LAST, TRY_CAST(k.version AS BIGINT) DESC NULLS LAST, k.version DESC"
HITS = pa.schema([("supplier", pa.string()), ("conversation_id", pa.string()), ("turn_index", pa.int32()),
                  ("score", pa.float64())])  # fmt: skip


@dataclass(frozen=True)
class BlastRow:
    """One conversation in the blast radius, why it is there, and the turn that shows it."""

    supplier: str
    conversation_id: str
    reason: str  # cited_version | similar_answer | both
    turn: int
    score: float | None  # the best similarity of its answers; None when not found by similarity
    evidence: str  # the turn's text, clipped to 300 characters
    customer_id: str | None
    started_at: datetime | None


@dataclass(frozen=True)
class BlastRadius:
    """Every other conversation carrying the failed answer's error, and how prevalent it is."""

    supplier: str
    conversation_id: str
    turn: int
    article_id: str | None
    article_version: str | None
    live_from: datetime | None  # the version's live period; None without an article
    live_to: datetime | None  # None: still live (or no article)
    journey: str | None
    threshold: float
    same_journey: bool
    rows: list[BlastRow]
    cited: int
    similar: int
    population: int
    prevalence: float
    interval: tuple[float, float] | None
    customers: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Everything, times as ISO 8601 strings, for JSON."""
        out = asdict(self)
        for key in ("live_from", "live_to"):
            out[key] = _iso(out[key])
        for row in out["rows"]:
            row["started_at"] = _iso(row["started_at"])
        out["interval"] = list(self.interval) if self.interval else None
        return out


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _failed_turn(
    con: duckdb.DuckDBPyConnection, supplier: str, conversation_id: str, turn: int
) -> tuple[str | None, str, datetime | None]:
    """(journey, text, time) of the failed turn; ConfigError names an unknown or non-agent turn."""
    conv = one(con, "SELECT journey, started_at FROM conversations WHERE supplier = ? AND conversation_id = ?",
               [supplier, conversation_id])  # fmt: skip
    if conv is None:
        raise ConfigError(f"conversation_id: no conversation {conversation_id!r} of supplier {supplier!r}")
    row = one(con, "SELECT speaker, text, sent_at FROM turns WHERE supplier = ? AND conversation_id = ? "
                   "AND turn_index = ?", [supplier, conversation_id, turn])  # fmt: skip
    if row is None:
        n = scalar(con, "SELECT count(*) FROM turns WHERE supplier = ? AND conversation_id = ?",
                   [supplier, conversation_id])  # fmt: skip
        raise ConfigError(f"turn: conversation {conversation_id!r} has no turn {turn} (it has turns 1-{n})")
    if row[0] not in AGENTS:
        raise ConfigError(f"turn: turn {turn} of {conversation_id!r} is a {row[0]} turn, not an agent answer")
    return conv[0], row[1] or "", row[2] or conv[1]


def _version(
    con: duckdb.DuckDBPyConnection, article_id: str, version: str | None, turn_at: datetime | None
) -> tuple[str, datetime | None, datetime | None, bool]:
    """(version, live_from, live_to, ever live) of the faulty article version."""
    if version is None:
        version = scalar(con, f"SELECT k.version FROM kb_articles k WHERE k.article_id = ? AND k.updated_at <= ? "
                              f"ORDER BY {VERSION_ORDER} LIMIT 1", [article_id, turn_at])  # fmt: skip
        if version is None:
            raise ConfigError(f"article_version: no version of {article_id!r} was live at the failed turn")
    row = one(
        con,
        f"""WITH v AS (SELECT k.version, k.updated_at,
                              row_number() OVER (PARTITION BY k.updated_at ORDER BY {VERSION_ORDER}) AS rank_at
                       FROM kb_articles k WHERE k.article_id = $1),
                 me AS (SELECT updated_at, rank_at FROM v WHERE version = $2 LIMIT 1)
            SELECT me.updated_at, me.rank_at = 1,
                   (SELECT min(v.updated_at) FROM v WHERE v.updated_at > me.updated_at)
            FROM me""",
        [article_id, version],
    )
    if row is None:
        raise ConfigError(f"article_version: the KB has no version {version!r} of article {article_id!r}")
    return version, row[0], row[2], bool(row[1])


def _cited_sql(article: bool) -> str:
    """The conversations citing the faulty version while it was live, with their first such turn."""
    if not article:
        return "SELECT NULL::VARCHAR AS supplier, NULL::VARCHAR AS conversation_id, NULL::INTEGER AS turn WHERE false"
    return f"""
        SELECT supplier, conversation_id, min(turn_index) AS turn
        FROM (SELECT x.supplier, x.conversation_id, x.turn_index, k.version
              FROM (SELECT t.supplier, t.conversation_id, t.turn_index,
                           coalesce(t.sent_at, c.started_at) AS turn_at
                    FROM turns t JOIN conversations c USING (supplier, conversation_id)
                    WHERE t.speaker IN {AGENTS} AND list_contains(t.kb_article_ids, $article_id)) x
              LEFT JOIN kb_articles k ON k.article_id = $article_id AND k.updated_at <= x.turn_at
              QUALIFY row_number() OVER (PARTITION BY x.supplier, x.conversation_id, x.turn_index
                                         ORDER BY {VERSION_ORDER}) = 1)
        WHERE version = $version
        GROUP BY ALL"""


def blast_radius(
    con: duckdb.DuckDBPyConnection,
    *,
    supplier: str,
    conversation_id: str,
    turn: int,
    article_id: str | None = None,
    article_version: str | None = None,
    index: Index | None = None,
    threshold: float = 0.5,
    same_journey: bool = True,
) -> BlastRadius:
    """Every other conversation that cited the faulty article version or gave a similar answer."""
    check_threshold(threshold)
    if isinstance(turn, bool) or not isinstance(turn, int):
        raise ConfigError(f"turn: must be a turn number (an integer), got {turn!r}")
    if article_version is not None and article_id is None:
        raise ConfigError("article_version: given without article_id")
    journey, text, turn_at = _failed_turn(con, supplier, conversation_id, turn)
    live_from = live_to = None
    scope = "TRUE"
    if article_id is not None:
        article_version, live_from, live_to, ever = _version(con, article_id, article_version, turn_at)
        scope = (
            "started_at >= $live_from AND ($live_to IS NULL OR started_at < $live_to)" if ever else "FALSE"
        )
    if same_journey:
        scope += " AND journey IS NOT DISTINCT FROM $journey"
    hits = pa.table({n: pa.array([], t) for n, t in zip(HITS.names, HITS.types, strict=True)})
    if index is not None:
        if index.stale(con):
            raise ConfigError(f"index: the similarity index in {index.info.folder} was built before the "
                              "warehouse's latest load; rebuild it")  # fmt: skip
        found = index.search_table(text, threshold=threshold, exclude=[(supplier, conversation_id)])
        hits = found.select(HITS.names).cast(HITS)
    params = {"supplier": supplier, "conversation_id": conversation_id, "journey": journey,
              "same_journey": same_journey, "article_id": article_id, "version": article_version,
              "live_from": live_from, "live_to": live_to}  # fmt: skip
    sql = f"""
        WITH cited AS ({_cited_sql(article_id is not None)}),
        near AS (
            SELECT h.supplier, h.conversation_id, h.turn_index AS turn, h.score
            FROM _trace_hits h JOIN conversations c USING (supplier, conversation_id)
            WHERE NOT $same_journey OR c.journey IS NOT DISTINCT FROM $journey
            QUALIFY row_number() OVER (PARTITION BY h.supplier, h.conversation_id
                                       ORDER BY h.score DESC, h.turn_index) = 1),
        merged AS (
            SELECT supplier, conversation_id,
                   CASE WHEN ci.turn IS NULL THEN 'similar_answer' WHEN si.turn IS NULL THEN 'cited_version'
                        ELSE 'both' END AS reason,
                   coalesce(ci.turn, si.turn) AS turn, si.score
            FROM cited ci FULL JOIN near si USING (supplier, conversation_id)
            WHERE NOT (supplier = $supplier AND conversation_id = $conversation_id))
        SELECT m.supplier, m.conversation_id, m.reason, m.turn, m.score,
               CASE WHEN length(t.text) > 300 THEN left(t.text, 300) || '…' ELSE coalesce(t.text, '') END,
               c.customer_id, c.started_at, coalesce({scope}, false) AS in_scope
        FROM merged m JOIN conversations c USING (supplier, conversation_id)
        LEFT JOIN turns t ON t.supplier = m.supplier AND t.conversation_id = m.conversation_id
                         AND t.turn_index = m.turn
        ORDER BY c.started_at, m.supplier, m.conversation_id"""
    con.register("_trace_hits", hits)
    try:
        found_rows = con.execute(sql, _used(sql, params)).fetchall()
        scope_sql = f"""SELECT count(*) FROM conversations WHERE coalesce({scope}, false)
                        AND NOT (supplier = $supplier AND conversation_id = $conversation_id)"""
        in_scope = con.execute(scope_sql, _used(scope_sql, params)).fetchall()[0][0]
    finally:
        con.unregister("_trace_hits")
    rows = [BlastRow(*r[:8]) for r in found_rows]
    population = int(in_scope) + sum(1 for r in found_rows if not r[8])
    interval = None
    if population:
        w = wilson(len(rows), population)
        interval = (w.lower, w.upper)
    return BlastRadius(
        supplier=supplier, conversation_id=conversation_id, turn=turn, article_id=article_id,
        article_version=article_version, live_from=live_from, live_to=live_to, journey=journey,
        threshold=threshold, same_journey=same_journey, rows=rows,
        cited=sum(1 for r in rows if r.reason != "similar_answer"),
        similar=sum(1 for r in rows if r.reason != "cited_version"),
        population=population, prevalence=len(rows) / population if population else 0.0,
        interval=interval, customers=sorted({r.customer_id for r in rows if r.customer_id}),
    )  # fmt: skip


def _used(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The named parameters a statement uses (DuckDB refuses unused ones)."""
    return {k: v for k, v in params.items() if f"${k}" in sql}
