"""Scorecard versions in the warehouse: a score is pinned to a version that can always be rebuilt.

`register_scorecard` stores the canonical body of a scorecard in the table `scorecards`, keyed by
(scorecard_id, version). Registering the same content again changes nothing. Registering different
content under a version already stored is refused: scores given under that version keep the meaning
they were given under, so an edited scorecard must get a new version.

`get_scorecard` rebuilds a stored version from its body alone (every scale is spelled out in it, so
built-in scales changing later does not change an old version) and checks the rebuilt scorecard
hashes to the stored content_hash. Its `source` is the file it was registered from.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import duckdb

from audits.errors import ConfigError, WarehouseError
from audits.scorecards.model import Scorecard, version_key
from audits.scorecards.parse import parse_scorecard
from audits.warehouse import one, scalar, table_exists

SCORECARDS_SCHEMA = """
CREATE TABLE IF NOT EXISTS scorecards (
    scorecard_id VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,   -- sha256 of body
    title VARCHAR,
    body JSON,                       -- Scorecard.to_dict() as canonical JSON
    source VARCHAR,                  -- the file it was first registered from
    registered_at TIMESTAMPTZ,
    PRIMARY KEY (scorecard_id, version)
);
"""


def ensure_scorecards_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create `scorecards` if it is missing."""
    con.execute(SCORECARDS_SCHEMA)


def _stored(
    con: duckdb.DuckDBPyConnection, scorecard_id: str, version: str
) -> tuple[str, str, object] | None:
    row = one(
        con,
        "SELECT content_hash, source, registered_at FROM scorecards WHERE scorecard_id = ? AND version = ?",
        [scorecard_id, version],
    )
    return None if row is None else (row[0], row[1], row[2])


def _refuse_change(card: Scorecard, stored: tuple[str, str, object]) -> None:
    if stored[0] != card.content_hash:
        raise ConfigError(
            f"{card.source}: scorecard {card.id} version {card.version} is already registered with other "
            f"content (from {stored[1]} at {stored[2]}, hash {stored[0][:12]}, now {card.content_hash[:12]}); "
            f"scores given under version {card.version} keep that meaning: bump `version:` in {card.source} "
            "to register the change"
        )


def register_scorecard(
    con: duckdb.DuckDBPyConnection, scorecard: Scorecard, *, registered_at: dt.datetime | None = None
) -> None:
    """Store `scorecard` under its id and version; idempotent; ConfigError if that version has other content."""
    ensure_scorecards_table(con)
    stored = _stored(con, scorecard.id, scorecard.version)
    if stored is not None:
        _refuse_change(scorecard, stored)
        return
    try:
        con.execute(
            "INSERT INTO scorecards VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                scorecard.id,
                scorecard.version,
                scorecard.content_hash,
                scorecard.title,
                scorecard.canonical_json(),
                scorecard.source,
                registered_at or dt.datetime.now(dt.UTC),
            ],
        )
    except duckdb.ConstraintException:  # registered by another connection since we looked
        stored = _stored(con, scorecard.id, scorecard.version)
        if stored is None:
            raise
        _refuse_change(scorecard, stored)


def registered_versions(con: duckdb.DuckDBPyConnection, scorecard_id: str) -> list[str]:
    """The versions of `scorecard_id` in the warehouse, oldest first."""
    if not table_exists(con, "scorecards"):
        return []
    rows = con.execute("SELECT version FROM scorecards WHERE scorecard_id = ?", [scorecard_id]).fetchall()
    return sorted((r[0] for r in rows), key=version_key)


def get_scorecard(con: duckdb.DuckDBPyConnection, scorecard_id: str, version: str) -> Scorecard:
    """Rebuild a registered scorecard version from its stored body; ConfigError if it is not registered."""
    version = str(version)
    row = None
    if table_exists(con, "scorecards"):
        row = one(
            con,
            "SELECT content_hash, body, source FROM scorecards WHERE scorecard_id = ? AND version = ?",
            [scorecard_id, version],
        )
    if row is None:
        have = registered_versions(con, scorecard_id)
        raise ConfigError(
            f"scorecard {scorecard_id} version {version} is not registered in the warehouse "
            f"(registered versions: {', '.join(have) or 'none'})"
        )
    stored_hash, body, source = row
    where = f"warehouse table scorecards ({scorecard_id}@{version})"
    card = parse_scorecard(json.loads(body), where, builtin_scales={})
    if card.content_hash != stored_hash or (card.id, card.version) != (scorecard_id, version):
        raise WarehouseError(
            str(scalar(con, "SELECT current_database()")),
            f"{where}: the stored body does not match its key and content_hash {stored_hash[:12]}; "
            "the table was edited outside qa-audit",
        )
    return replace(card, source=source)
