"""The DuckDB warehouse: where it is, how to open it safely, and its tables.

Only one process may open a DuckDB file read-write at a time (and no other process can open it
even read-only meanwhile). Writers therefore hold it briefly and `connect` retries with back-off
until `wait` seconds have passed, then raises `WarehouseBusy`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from audits.errors import WarehouseBusy, WarehouseError

ENV_WAREHOUSE = "QA_AUDIT_WAREHOUSE"
ENV_MEMORY_LIMIT = "QA_AUDIT_MEMORY_LIMIT"
# DuckDB's own default is 80% of RAM; a bounded buffer makes big loads spill to disk instead
# (next to the warehouse, in WAREHOUSE.tmp/). Python-side memory (GX's frame) comes on top.
DEFAULT_MEMORY_LIMIT = "3GB"
DEFAULT_WAREHOUSE = Path("data") / "warehouse.duckdb"
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value VARCHAR);

CREATE TABLE IF NOT EXISTS loads (
    load_id VARCHAR,            -- sha256 of the file's bytes: one load per content
    path VARCHAR,
    sha256 VARCHAR,
    kind VARCHAR,               -- conversations | kb_articles
    format VARCHAR,             -- jsonl | parquet | csv | tau-bench | abcd
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    seconds DOUBLE,
    lines_read BIGINT,          -- records (lines or rows) read, blank lines excluded
    blank_lines BIGINT,
    records_loaded BIGINT,
    records_new BIGINT,
    records_replaced BIGINT,    -- loaded records that replaced an earlier version
    records_quarantined BIGINT,
    turns_loaded BIGINT,
    contract_suite VARCHAR,
    contract_success BOOLEAN,   -- Great Expectations' verdict on the batch before quarantine
    contract_result JSON,       -- per expectation: failing record count in SQL and in GX
    timings JSON                -- seconds per step: hash, stage, contract_sql, contract_gx, write, ...
);

CREATE TABLE IF NOT EXISTS conversations (
    supplier VARCHAR,
    conversation_id VARCHAR,
    channel VARCHAR,
    handler VARCHAR,
    started_at TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    market VARCHAR,
    language VARCHAR,
    journey VARCHAR,
    agent_ids VARCHAR[],
    customer_id VARCHAR,
    outcome VARCHAR,
    csat INTEGER,
    automation_failed BOOLEAN,
    automation_reason VARCHAR,
    escalation_requested_at TIMESTAMPTZ,
    escalation_handed_off_at TIMESTAMPTZ,
    escalation_reason VARCHAR,
    metadata JSON,
    extra JSON,                 -- fields we do not know, kept as given
    -- derived at load
    n_turns INTEGER,
    n_customer_turns INTEGER,
    n_ai_agent_turns INTEGER,
    n_human_agent_turns INTEGER,
    n_system_turns INTEGER,
    first_response_seconds DOUBLE,
    handoff_latency_seconds DOUBLE,
    is_repeat_contact BOOLEAN,      -- an earlier contact, same customer and journey, in the window
    repeat_of VARCHAR,              -- that earlier conversation's id
    followed_by_repeat BOOLEAN,     -- the customer came back on the same journey in the window
    content_hash VARCHAR,           -- sha256 of the stored record and its turns
    load_id VARCHAR,
    source_line BIGINT
);

CREATE TABLE IF NOT EXISTS turns (
    supplier VARCHAR,
    conversation_id VARCHAR,
    turn_index INTEGER,          -- 1-based position in the conversation
    speaker VARCHAR,
    text VARCHAR,
    sent_at TIMESTAMPTZ,         -- the turn's `at`
    kb_article_ids VARCHAR[],
    action VARCHAR,
    extra JSON
);

CREATE TABLE IF NOT EXISTS kb_articles (
    article_id VARCHAR,
    version VARCHAR,
    title VARCHAR,
    body VARCHAR,
    updated_at TIMESTAMPTZ,
    extra JSON,
    content_hash VARCHAR,
    load_id VARCHAR,
    source_line BIGINT
);

CREATE TABLE IF NOT EXISTS quarantine (
    load_id VARCHAR,
    path VARCHAR,
    line BIGINT,                 -- 1-based line (JSONL) or row (Parquet/CSV) in the file
    kind VARCHAR,
    supplier VARCHAR,
    record_id VARCHAR,           -- conversation_id or article_id when it could be read
    reasons STRUCT(field VARCHAR, rule VARCHAR, message VARCHAR)[],
    raw BLOB                     -- the record exactly as received
);
"""


def resolve_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: the argument, else $QA_AUDIT_WAREHOUSE, else data/warehouse.duckdb."""
    if path:
        return Path(path)
    env = os.environ.get(ENV_WAREHOUSE)
    return Path(env) if env else DEFAULT_WAREHOUSE


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set lock" in text)


def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    wait: float = 60.0,
    create: bool = True,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, creating its tables if needed; retry while another process holds it."""
    target = resolve_path(path)
    if read_only and not target.exists():
        raise WarehouseError(str(target), "no warehouse here yet; load some data first")
    if not read_only and create:
        target.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(target), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise WarehouseError(str(target), str(exc)) from exc
            if time.monotonic() >= deadline:
                raise WarehouseBusy(str(target), wait) from exc
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    con.execute("SET TimeZone = 'UTC'")
    limit = os.environ.get(ENV_MEMORY_LIMIT, DEFAULT_MEMORY_LIMIT)
    try:
        con.execute("SET memory_limit = ?", [limit])
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(
            str(target), f"${ENV_MEMORY_LIMIT}={limit!r} is not a memory size: {exc}"
        ) from exc
    if not read_only:
        ensure_schema(con)
    return con


@contextmanager
def open_warehouse(
    path: str | os.PathLike[str] | None = None, *, read_only: bool = False, wait: float = 60.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """`connect` as a context manager that always closes the file."""
    con = connect(path, read_only=read_only, wait=wait)
    try:
        yield con
    finally:
        con.close()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the warehouse's tables if they are missing and record the schema version."""
    con.execute(SCHEMA)
    have = one(con, "SELECT value FROM meta WHERE key = 'schema_version'")
    if have is None:
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    elif int(have[0]) > SCHEMA_VERSION:
        raise WarehouseError(
            scalar(con, "SELECT current_database()"),
            f"schema version {have[0]} is newer than this qa-audit ({SCHEMA_VERSION}); upgrade it",
        )


def one(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | None = None
) -> tuple[Any, ...] | None:
    """The first row of a query, or None; the result is always read to its end.

    DuckDB 2.0 refuses new work on a connection whose last `execute` result was not read to the
    end, and `fetchone()` on a one-row result does not finish it: use this instead.
    """
    rows = con.execute(sql, list(params or [])).fetchall()
    return rows[0] if rows else None


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """True when the warehouse has a (non-temporary) table called `name`."""
    return (
        one(con, "SELECT 1 FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [name]) is not None
    )


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | None = None) -> Any:
    """The first column of the first row of a query (None when there is no row)."""
    row = one(con, sql, params)
    return row[0] if row else None
