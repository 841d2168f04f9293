"""Running the catalogue over the warehouse: results in `check_results`, one run in `check_runs`.

`run_checks` defines the scope (`_c`, the conversations; `_t`, their turns), computes every check's
outcome for every conversation in scope into a temp table, then, in one transaction, replaces the
earlier results of those conversations and checks and records the run. A crash part-way leaves the
earlier results in place; a re-run recomputes the same rows (checks are deterministic SQL), so
running twice changes nothing but the run log.

Each result row keeps the conversation's `content_hash` at the time it was checked, and each run the
KB's fingerprint, so `stale_results` finds results that no longer hold: a corrected re-export of the
conversation, a KB changed since (kb_grounded), or a repeat contact loaded later (repeat_contact).

Two runs on one connection or warehouse at once: the second's write conflicts and is refused with a
`WarehouseBusy` error (retry it); nothing is half written.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from audits.checks import CHECK_IDS, grounding
from audits.checks import catalogue as cat
from audits.checks.config import CheckConfig, load_config
from audits.checks.pii import SQL_MACROS
from audits.errors import ConfigError, WarehouseBusy
from audits.ingest.fieldsql import q
from audits.warehouse import scalar

KB_FINGERPRINT = (
    "SELECT sha256(coalesce(string_agg(article_id || chr(31) || version || chr(31) || coalesce(content_hash, ''), "
    "chr(30) ORDER BY article_id, version), '')) FROM kb_articles"
)

CATALOGUE: tuple[cat.Check, ...] = (
    cat.Check("ai_disclosure", "1", "AI disclosure in the first AI turn", cat.ai_disclosure),
    cat.Check("pii_echo", "1", "Personal data in an agent turn", cat.pii_echo),
    cat.Check("handoff_missed", "1", "Customer asked for a human and was not handed off", cat.handoff_missed),
    cat.Check("handoff_sla", "1", "Hand-off to a human within the SLA", cat.handoff_sla),
    cat.Check("bot_loop", "1", "Agent repeats itself or customer repeats the request", cat.bot_loop),
    cat.Check("first_response_sla", "1", "First response within the channel's SLA", cat.first_response_sla),
    cat.Check(
        "identity_before_action",
        "1",
        "Identity verified before an account action",
        cat.identity_before_action,
    ),  # fmt: skip
    cat.Check("kb_grounded", "1", "Answer grounded in the cited KB article version", grounding.kb_grounded),
    cat.Check("handoff_abandoned", "1", "Customer left while waiting for a human", cat.handoff_abandoned),
    cat.Check("repeat_contact", "1", "Customer came back on the same journey", cat.repeat_contact),
    cat.Check("automation_failed", "1", "The automation failed (supplier's record)", cat.automation_failed),
)
BY_ID = {c.check_id: c for c in CATALOGUE}
assert tuple(BY_ID) == CHECK_IDS, "the catalogue and CHECK_IDS must list the same checks in order"

OUTCOMES = ("pass", "fail", "na")

SCHEMA = """
CREATE TABLE IF NOT EXISTS check_results (
    supplier VARCHAR,
    conversation_id VARCHAR,
    check_id VARCHAR,
    check_version VARCHAR,
    outcome VARCHAR,             -- pass | fail | na
    turn INTEGER,                -- the turn that shows it (1-based), NULL when none does
    evidence VARCHAR,            -- what triggered it, quoted (clipped to 300 characters)
    content_hash VARCHAR,        -- the conversation's content_hash when it was checked
    run_id VARCHAR
);
CREATE TABLE IF NOT EXISTS check_runs (
    run_id VARCHAR,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    seconds DOUBLE,
    checks VARCHAR[],
    scope JSON,                  -- the filter: suppliers, from, to (null: the whole warehouse)
    conversations BIGINT,
    config_hash VARCHAR,
    config JSON,
    counts JSON,                 -- per check: pass, fail, na
    timings JSON,                -- seconds per check
    warnings VARCHAR[],
    kb_fingerprint VARCHAR       -- sha256 of the KB's (article, version, content hash) when it ran
);
"""


@dataclass(frozen=True)
class Scope:
    """Which conversations to check: all, or those of some suppliers and/or started in [from, to]."""

    suppliers: tuple[str, ...] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def where(self) -> str:
        parts = []
        if self.suppliers:
            parts.append("supplier IN (" + ", ".join(q(s) for s in self.suppliers) + ")")
        if self.date_from:
            parts.append(f"started_at >= TIMESTAMPTZ '{self.date_from} 00:00:00+00'")
        if self.date_to:
            parts.append(f"started_at < TIMESTAMPTZ '{self.date_to + dt.timedelta(days=1)} 00:00:00+00'")
        return " AND ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "suppliers": list(self.suppliers) if self.suppliers else None,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }


@dataclass
class CheckRun:
    """What one run did: per check its pass, fail and na counts and seconds."""

    run_id: str
    conversations: int
    counts: dict[str, dict[str, int]]
    versions: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    config_hash: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "conversations": self.conversations,
            "seconds": round(self.seconds, 3),
            "config_hash": self.config_hash,
            "checks": {
                cid: {
                    "version": self.versions[cid],
                    **self.counts[cid],
                    "seconds": round(self.timings[cid], 3),
                }
                for cid in self.counts
            },
            "warnings": self.warnings,
        }


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create `check_results` and `check_runs` if they are missing."""
    con.execute(SCHEMA)


def _select(checks: Sequence[str] | None) -> list[cat.Check]:
    if not checks:
        return list(CATALOGUE)
    unknown = [c for c in checks if c not in BY_ID]
    if unknown:
        raise ConfigError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECK_IDS)}")
    return [c for c in CATALOGUE if c.check_id in checks]


def run_checks(
    con: duckdb.DuckDBPyConnection,
    config: CheckConfig | None = None,
    *,
    checks: Sequence[str] | None = None,
    scope: Scope | None = None,
    progress: bool = False,
) -> CheckRun:
    """Run `checks` (all by default) over the conversations in `scope` and store their results."""
    cfg = config or load_config()
    selected = _select(checks)
    scope = scope or Scope()
    ensure_tables(con)
    started, t0 = dt.datetime.now(dt.UTC), time.perf_counter()
    for stmt in (SQL_MACROS + cat.MACROS).split(";"):
        if stmt.strip():
            con.execute(stmt)
    where = scope.where()
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW _c AS SELECT * FROM conversations {'WHERE ' + where if where else ''}"
    )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW _t AS "
        + (
            "SELECT t.* FROM turns t SEMI JOIN _c USING (supplier, conversation_id)"
            if where
            else "SELECT * FROM turns"
        )
    )
    n = int(scalar(con, "SELECT count(*) FROM _c") or 0)
    run_id = str(uuid.uuid4())
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _check_new (supplier VARCHAR, conversation_id VARCHAR, check_id VARCHAR, "
        "check_version VARCHAR, outcome VARCHAR, turn INTEGER, evidence VARCHAR)"
    )
    timings: dict[str, float] = {}
    warnings: list[str] = []
    bar = _bar(len(selected), progress)
    handoff_built = False
    try:
        for check in selected:
            t = time.perf_counter()
            bar.set_postfix_str(check.check_id)
            if check.check_id.startswith("handoff_") and not handoff_built:
                con.execute(cat.handoff_facts(cfg))  # the three hand-off checks share it
                handoff_built = True
            if check.check_id == "kb_grounded":
                if not scalar(con, "SELECT count(*) FROM kb_articles"):
                    warnings.append("no KB article is loaded: kb_grounded is na for every conversation")
                for stmt in grounding.prepare(cfg):
                    con.execute(stmt)
            con.execute(
                f"INSERT INTO _check_new SELECT supplier, conversation_id, {q(check.check_id)}, "
                f"{q(check.version)}, outcome, turn, evidence FROM ({check.sql(cfg)})"
            )
            timings[check.check_id] = time.perf_counter() - t
            bar.update(1)
    except BaseException:
        con.execute("DROP TABLE IF EXISTS _check_new")
        raise
    finally:
        bar.close()
        for table in ("_handoff", "_kb_live", "_kb_idf", "_kb_vec", "_kb_sim"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    counts = {c.check_id: dict.fromkeys(OUTCOMES, 0) for c in selected}
    for cid, outcome, k in con.execute(
        "SELECT check_id, outcome, count(*) FROM _check_new GROUP BY ALL"
    ).fetchall():
        counts[cid][outcome] = int(k)
    ids = "(" + ", ".join(q(c.check_id) for c in selected) + ")"
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"DELETE FROM check_results r USING _c c WHERE r.supplier = c.supplier "
            f"AND r.conversation_id = c.conversation_id AND r.check_id IN {ids}"
        )
        con.execute(
            "INSERT INTO check_results SELECT n.supplier, n.conversation_id, n.check_id, n.check_version, "
            "n.outcome, n.turn, n.evidence, c.content_hash, ? FROM _check_new n "
            "JOIN _c c USING (supplier, conversation_id) "
            # stored in conversation order, so a page that looks up one conversation's results reads
            # one row group (zone maps) instead of scanning them all: 2.6 ms instead of 62 ms at 11 M rows
            "ORDER BY n.supplier, n.conversation_id, n.check_id, n.turn",
            [run_id],
        )
        seconds = time.perf_counter() - t0
        con.execute(
            "INSERT INTO check_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, started, dt.datetime.now(dt.UTC), seconds, [c.check_id for c in selected],
             json.dumps(scope.to_dict()), n, cfg.config_hash, json.dumps(cfg.to_dict(), ensure_ascii=False),
             json.dumps(counts), json.dumps(timings), warnings, scalar(con, KB_FINGERPRINT)],
        )  # fmt: skip
        con.execute("COMMIT")
    except duckdb.TransactionException as exc:
        con.execute("ROLLBACK")
        where = scalar(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
        raise WarehouseBusy(str(where or "the warehouse"), 0) from exc
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS _check_new")
    return CheckRun(
        run_id,
        n,
        counts,
        {c.check_id: c.version for c in selected},
        timings,
        seconds,
        cfg.config_hash,
        warnings,
    )


def check_counts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Per check id in the warehouse: its pass, fail and na counts (from `check_results`)."""
    ensure_tables(con)
    out: dict[str, dict[str, int]] = {}
    for cid, outcome, k in con.execute(
        "SELECT check_id, outcome, count(*) FROM check_results GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        out.setdefault(cid, dict.fromkeys(OUTCOMES, 0))[outcome] = int(k)
    return {cid: out[cid] for cid in CHECK_IDS if cid in out} | {
        c: v for c, v in out.items() if c not in BY_ID
    }


def stale_results(con: duckdb.DuckDBPyConnection) -> int:
    """Conversations with a stored result that no longer holds: the conversation was replaced since, the
    KB changed since its kb_grounded result, or a later contact changed its repeat_contact outcome."""
    ensure_tables(con)
    return int(
        scalar(
            con,
            f"""
            SELECT count(DISTINCT (r.supplier, r.conversation_id))
            FROM check_results r JOIN conversations c USING (supplier, conversation_id)
            LEFT JOIN check_runs k ON k.run_id = r.run_id
            WHERE r.content_hash <> c.content_hash
               OR (r.check_id = 'kb_grounded' AND k.kb_fingerprint IS DISTINCT FROM ({KB_FINGERPRINT}))
               OR (r.check_id = 'repeat_contact' AND r.outcome <> CASE
                     WHEN c.customer_id IS NULL OR c.journey IS NULL OR c.followed_by_repeat IS NULL THEN 'na'
                     WHEN c.followed_by_repeat THEN 'fail' ELSE 'pass' END)
            """,
        )
        or 0
    )


class _NoBar:
    def set_postfix_str(self, s: str) -> None: ...
    def update(self, n: int) -> None: ...
    def close(self) -> None: ...


def _bar(total: int, progress: bool) -> Any:
    if not progress:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="check", desc="checks", leave=False)
