"""The scoring tables, and the small SQL helpers the scoring modules share.

review_assignments  one row per (draw item, reviewer): who reviews what, in which role, on which
                    scorecard version; a reviewer never holds the same item twice (primary key).
reviews             one row per submission. A re-submission does not overwrite: the earlier row is
                    kept with `superseded_by` pointing at its replacement, so nothing is lost and the
                    first (blind) submission of every reviewer can always be read back.
review_answers      one row per review and scorecard item: the final value, the value an automated
                    check pre-filled (if any), whether the reviewer overrode it, and a comment.
disputes            a challenge to the review that counts for a conversation, and its resolution.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from audits.errors import ConfigError
from audits.warehouse import one, scalar, table_exists

SCORING_SCHEMA = """
CREATE TABLE IF NOT EXISTS review_assignments (
    draw_id VARCHAR,
    supplier VARCHAR,
    conversation_id VARCHAR,
    reviewer VARCHAR,
    role VARCHAR,                -- primary | calibration
    scorecard_id VARCHAR,
    scorecard_version VARCHAR,
    assigned_at TIMESTAMPTZ,
    status VARCHAR,              -- open | submitted
    PRIMARY KEY (draw_id, supplier, conversation_id, reviewer)
);
CREATE TABLE IF NOT EXISTS reviews (
    review_id BIGINT PRIMARY KEY,
    draw_id VARCHAR,
    supplier VARCHAR,
    conversation_id VARCHAR,
    reviewer VARCHAR,
    role VARCHAR,                -- primary | calibration | dispute
    scorecard_id VARCHAR,
    scorecard_version VARCHAR,
    score DOUBLE,                -- 0..1, from the scorecard's rules
    passed BOOLEAN,
    submitted_at TIMESTAMPTZ,
    source VARCHAR,              -- submit | sheet:<file name> | dispute
    dispute_id BIGINT,           -- set on a review written by resolving a dispute
    superseded_by BIGINT,        -- the same reviewer's later review of the item (NULL: current)
    superseded_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS review_answers (
    review_id BIGINT,
    item_id VARCHAR,
    value VARCHAR,               -- a value of the item's scale, or 'na'
    prefilled VARCHAR,           -- what an automated check proposed (NULL: no proposal)
    overridden BOOLEAN,          -- a proposal existed and the reviewer chose another value
    comment VARCHAR
);
CREATE TABLE IF NOT EXISTS disputes (
    dispute_id BIGINT PRIMARY KEY,
    review_id BIGINT,            -- the disputed review
    draw_id VARCHAR,
    supplier VARCHAR,
    conversation_id VARCHAR,
    raised_by VARCHAR,
    reason VARCHAR,
    opened_at TIMESTAMPTZ,
    status VARCHAR,              -- open | upheld | rejected
    resolved_by VARCHAR,
    resolved_at TIMESTAMPTZ,
    note VARCHAR,
    new_review_id BIGINT         -- the re-scored review of an upheld dispute
);
"""

PRIMARY, CALIBRATION, DISPUTE = "primary", "calibration", "dispute"
OPEN, SUBMITTED = "open", "submitted"
COUNTING_ROLES = (PRIMARY, DISPUTE)


def ensure_scoring_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the scoring tables if they are missing."""
    con.execute(SCORING_SCHEMA)


def has_scoring_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the warehouse has the scoring tables (a read-only connection cannot create them)."""
    return table_exists(con, "review_assignments")


def next_id(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    """The next integer id of a table: one more than the largest so far."""
    return int(scalar(con, f"SELECT coalesce(max({column}), 0) + 1 FROM {table}"))


def check_draw(con: duckdb.DuckDBPyConnection, draw_id: str) -> str:
    """The draw's seed; ConfigError when the warehouse has no such draw."""
    row = (
        one(con, "SELECT seed FROM draws WHERE draw_id = ?", [draw_id])
        if table_exists(con, "draws")
        else None
    )
    if row is None:
        raise ConfigError(f"no draw {draw_id!r} in the warehouse")
    return str(row[0])


def name(kind: str, value: Any) -> str:
    """A reviewer or user name, stripped; ConfigError when it is empty or not text."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{kind} must be a non-empty name, got {value!r}")
    return value.strip()


def rows_as_dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The rows of an executed query as dicts keyed by column name."""
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def in_transaction(con: duckdb.DuckDBPyConnection, statements: Sequence[tuple[str, Any]]) -> None:
    """Run (sql, params) statements in one transaction: all of them or none."""
    con.execute("BEGIN TRANSACTION")
    try:
        for sql, params in statements:
            con.execute(sql, params)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
