"""Where findings are kept: the two tables, their transaction, and reading events back.

audits.trace.findings is the API; this module holds what its writers and readers share.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb

from audits import auditlog
from audits.auditlog import canonical_json
from audits.errors import WarehouseBusy
from audits.trace.lifecycle import FindingEvent
from audits.warehouse import scalar

SCHEMA = """
CREATE TABLE IF NOT EXISTS findings (
    finding_id VARCHAR PRIMARY KEY,  -- F-000001, F-000002, ... in order of opening
    supplier VARCHAR,
    conversation_id VARCHAR,
    turn INTEGER,                    -- the turn that shows it (1-based), NULL when none does
    kind VARCHAR,                    -- wrong_answer | missed_escalation | bot_loop | personal_data | ...
    severity VARCHAR,                -- low | medium | high | critical
    detected_by VARCHAR,             -- check:<id>@<version>, or the reviewer
    detected_at TIMESTAMPTZ,
    state VARCHAR,                   -- the last event that is not a side event
    summary VARCHAR,
    journey VARCHAR,                 -- the conversation's journey and customer, at opening
    customer_id VARCHAR,
    article_id VARCHAR,              -- the KB article at fault: the cited one, then the root cause's
    article_version VARCHAR,
    root_cause VARCHAR,              -- kb_article | script | routing | training | model
    corrected_version VARCHAR        -- the KB version that corrected it
);
CREATE TABLE IF NOT EXISTS finding_events (
    finding_id VARCHAR,
    seq INTEGER,                     -- 1, 2, ... per finding; 1 is detected
    event VARCHAR,
    "at" TIMESTAMPTZ,
    actor VARCHAR,
    details JSON,
    PRIMARY KEY (finding_id, seq)
);
"""

COLUMNS = (
    "finding_id, supplier, conversation_id, turn, kind, severity, detected_by, detected_at, state, summary, "
    "journey, customer_id, article_id, article_version, root_cause, corrected_version"
)
NAMES = tuple(c.strip() for c in COLUMNS.split(","))


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create `findings`, `finding_events` and `audit_log` if they are missing."""
    con.execute(SCHEMA)
    auditlog.ensure_table(con)


class Transaction:
    """BEGIN ... COMMIT, rolled back on any error; a write conflict is reported as WarehouseBusy."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def __enter__(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if kind is None:
            try:
                self.con.execute("COMMIT")
                return
            except duckdb.TransactionException as err:
                exc = err
        self.con.execute("ROLLBACK")
        if isinstance(exc, duckdb.TransactionException):
            path = scalar(
                self.con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
            )
            raise WarehouseBusy(str(path or "the warehouse"), 0) from exc


def write_event(
    con: duckdb.DuckDBPyConnection,
    finding_id: str,
    seq: int,
    event: str,
    at: dt.datetime,
    actor: str,
    details: dict[str, Any],
) -> None:
    """Insert one event row and its audit log entry (inside the caller's transaction)."""
    con.execute(
        "INSERT INTO finding_events VALUES (?, ?, ?, ?, ?, ?)",
        [finding_id, seq, event, at, actor, canonical_json(details)],
    )
    supplier = scalar(con, "SELECT supplier FROM findings WHERE finding_id = ?", [finding_id])  # its chain
    auditlog.append(con, actor=actor, action=f"finding.{event}", subject=finding_id, payload=details, at=at,
                    supplier=supplier)  # fmt: skip


def load_events(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, list[FindingEvent]]:
    """Per finding id: its events in order."""
    out: dict[str, list[FindingEvent]] = {}
    rows = con.execute(
        'SELECT finding_id, seq, event, "at", actor, details FROM finding_events '
        "WHERE list_contains(?, finding_id) ORDER BY finding_id, seq",
        [ids],
    ).fetchall()
    for fid, seq, event, at, actor, details in rows:
        out.setdefault(fid, []).append(FindingEvent(int(seq), event, at, actor, json.loads(details)))
    return out
