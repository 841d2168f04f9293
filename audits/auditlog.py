"""The audit log: an append-only, hash-chained record of who did what, when, to which subject.

Every entry is one row of `audit_log` with a sequence number (1, 2, 3, ... without gaps) and
a hash over its content and the previous entry's hash:

    hash = sha256(canonical_json([seq, at, actor, action, subject, payload, prev_hash]))

where `at` is the entry's time in UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, `payload` a JSON object,
canonical JSON is `json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)`
(UTF-8 encoded before hashing), and entry 1's prev_hash is 64 zeros (`GENESIS`). Changing,
removing or reordering any entry breaks the chain from there on, and `verify` names the first entry
that no longer fits. Cutting entries off the end leaves a valid shorter chain: keep `head()` (the
last seq and hash) somewhere else (an evidence pack, a report) to detect that.

`append` never opens or commits a transaction. A caller that writes something and logs it calls
`append` between its own BEGIN and COMMIT, so the write and its entry are kept or lost together;
outside a transaction the append is a single statement of its own. `seq` is the table's primary
key: two writers that read the same head cannot both commit (the second gets a conflict error)
instead of forking the chain.

The log is generic: findings log `finding.<event>`; draws, scores and overrides can log their own
actions. Payloads are stored as given, so keep personal data out of them (the log goes into packs).
`verify` streams the log in batches (the canonical JSON is Python's, so hashes are recomputed in
Python): the log grows with people's actions and runs, not with conversations.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from audits.errors import ConfigError
from audits.warehouse import one, scalar, table_exists

GENESIS = "0" * 64
BATCH = 50_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    seq BIGINT PRIMARY KEY,      -- 1, 2, 3, ... without gaps
    "at" TIMESTAMPTZ,
    actor VARCHAR,               -- who: a user name, "check:<id>@<version>", "nightly", ...
    action VARCHAR,              -- what: "finding.detected", "draw.created", ...
    subject VARCHAR,             -- to what: a finding id, a draw id, ...
    payload JSON,                -- the details, canonical JSON
    prev_hash VARCHAR,           -- the previous entry's hash (64 zeros for entry 1)
    hash VARCHAR                 -- sha256 of the canonical JSON of the fields above
);
"""


@dataclass(frozen=True)
class LogEntry:
    """One entry of the audit log."""

    seq: int
    at: dt.datetime
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (`at` as in the hash)."""
        return {**self.__dict__, "at": iso_utc(self.at)}


@dataclass(frozen=True)
class LogVerification:
    """The chain's verdict: `ok`, how many entries were read, and the first bad one and why."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return dict(self.__dict__)


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create `audit_log` if it is missing."""
    con.execute(SCHEMA)


def to_utc(value: dt.datetime | str | None, what: str = "at") -> dt.datetime:
    """A time zone-aware datetime (or ISO 8601 text with an offset) in UTC; now when None."""
    if value is None:
        return dt.datetime.now(dt.UTC)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ConfigError(f"{what}: {value!r} is not an ISO 8601 time") from exc
    if not isinstance(value, dt.datetime):
        raise ConfigError(f"{what}: expected a time, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigError(f"{what}: {value.isoformat()} has no time zone; give an offset such as +00:00")
    return value.astimezone(dt.UTC)


def iso_utc(value: dt.datetime) -> str:
    """The time as it is hashed: UTC, microseconds, a Z suffix."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text; ConfigError for values JSON cannot hold."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"audit log payload is not plain JSON ({exc}): {value!r}") from exc


def entry_hash(
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    subject: str,
    payload: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """The sha256 (hex) of an entry's canonical JSON."""
    record = [seq, iso_utc(at), actor, action, subject, dict(payload), prev_hash]
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"audit log {name} must be non-empty text, got {value!r}")
    return value


def append(
    con: duckdb.DuckDBPyConnection,
    *,
    actor: str,
    action: str,
    subject: str,
    payload: Mapping[str, Any],
    at: dt.datetime | str | None = None,
) -> int:
    """Append one entry and return its seq; never opens a transaction (see the module docstring)."""
    _text("actor", actor)
    _text("action", action)
    _text("subject", subject)
    if not isinstance(payload, Mapping):
        raise ConfigError(f"audit log payload must be a mapping, got {payload!r}")
    when = to_utc(at)
    body = canonical_json(dict(payload))
    ensure_table(con)
    last = one(con, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    seq, prev = (1, GENESIS) if last is None else (int(last[0]) + 1, str(last[1]))
    digest = entry_hash(seq, when, actor, action, subject, json.loads(body), prev)
    con.execute(
        "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [seq, when, actor, action, subject, body, prev, digest],
    )
    return seq


def _rows(
    con: duckdb.DuckDBPyConnection, where: str = "", params: list[Any] | None = None
) -> Generator[tuple[Any, ...], None, None]:
    reader = con.sql(
        'SELECT seq, "at", actor, action, subject, payload, prev_hash, hash FROM audit_log '
        f"{where} ORDER BY seq",
        params=params or [],
    ).to_arrow_reader(BATCH)
    try:
        for batch in reader:
            yield from zip(*(col.to_pylist() for col in batch.columns), strict=True)
    finally:
        reader.close()  # an open result blocks the connection until it is drained or closed


def entries(
    con: duckdb.DuckDBPyConnection, subject: str | None = None, action_prefix: str | None = None
) -> list[LogEntry]:
    """The entries (in seq order), optionally of one subject and/or with actions starting with a prefix."""
    if not table_exists(con, "audit_log"):
        return []
    parts, params = [], []
    if subject is not None:
        parts.append("subject = ?")
        params.append(subject)
    if action_prefix is not None:
        parts.append("starts_with(action, ?)")
        params.append(action_prefix)
    where = "WHERE " + " AND ".join(parts) if parts else ""
    return [
        LogEntry(int(s), a, actor, action, subj, json.loads(p) if p is not None else {}, ph, h)
        for s, a, actor, action, subj, p, ph, h in _rows(con, where, params)
    ]


def head(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """The last entry's (seq, hash); (0, GENESIS) for an empty log. Keep it to detect truncation."""
    if not table_exists(con, "audit_log"):
        return 0, GENESIS
    row = one(con, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def verify(con: duckdb.DuckDBPyConnection) -> LogVerification:
    """Recompute the chain from entry 1 and name the first entry that does not fit."""
    if not table_exists(con, "audit_log"):
        return LogVerification(True, 0)
    n = int(scalar(con, "SELECT count(*) FROM audit_log"))
    rows = _rows(con)
    try:
        return _check_chain(rows, n)
    finally:
        rows.close()  # releases the DuckDB result when the walk stops early


def _check_chain(rows: Iterator[tuple[Any, ...]], n: int) -> LogVerification:
    expected, prev = 1, GENESIS
    for seq, at, actor, action, subject, payload, prev_hash, stored in rows:
        seq = int(seq)
        if seq > expected:
            gap = f"entry {expected}" if seq == expected + 1 else f"entries {expected} to {seq - 1}"
            return LogVerification(
                False, n, expected, f"{gap} missing: the log goes from {expected - 1} to {seq}"
            )
        if seq < expected:
            return LogVerification(False, n, seq, f"entry {seq} appears more than once")
        try:
            body = json.loads(payload) if payload is not None else None
            content_ok = isinstance(body, dict) and stored == entry_hash(
                seq, at, actor, action, subject, body, prev_hash
            )
        except (ValueError, TypeError, AttributeError, ConfigError):
            content_ok = False
        if not content_ok:
            return LogVerification(
                False, n, seq, f"entry {seq}'s hash does not match its content: it was edited or moved"
            )
        if prev_hash != prev:
            link = "the genesis hash" if seq == 1 else f"entry {seq - 1}'s hash"
            return LogVerification(
                False,
                n,
                seq,
                f"entry {seq}'s prev_hash is not {link}: entries were changed, removed or reordered",
            )
        expected, prev = seq + 1, stored
    return LogVerification(True, n)
