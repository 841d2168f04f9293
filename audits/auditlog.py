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

Supplier chains. An entry about one supplier (a draw's sample of it, its reviews, its disputes, a
finding on one of its conversations) also carries `supplier` and is linked into that supplier's own
chain, so a supplier's entries can be handed over (an evidence pack) and verified without the other
suppliers' entries, which must not leave the warehouse:

    payload_digest = sha256(salt + canonical_json(payload))          (salt: 32 random hex digits)
    supplier_hash  = sha256(canonical_json([supplier, supplier_seq, seq, at, actor, action, subject,
                                            payload_digest, supplier_prev_hash]))

`supplier_seq` runs 1, 2, 3, ... per supplier, and its first `supplier_prev_hash` is `GENESIS`. The
digest lets a pack withhold one payload (one that names another supplier's conversations, or
personal data) and still prove the chain: the salt keeps a withheld payload from being guessed by
hashing candidates. An entry that names no supplier takes, for `finding.*` actions, the supplier of
the finding its subject names; otherwise it is in the global chain only. `verify` checks the global
chain, then every supplier chain.

`append` and `append_many` never open or commit a transaction. A caller that writes something and
logs it calls them between its own BEGIN and COMMIT, so the write and its entries are kept or lost
together; outside a transaction an append is a single statement of its own. `append_many` writes a
batch in one INSERT (one head lookup, hashes chained in Python). `seq` is the table's primary key:
two writers that read the same head cannot both commit (the second gets a conflict error) instead
of forking the chain (either chain: every supplier entry also takes a global seq).

The log is generic: findings log `finding.<event>`; draws, assignments, reviews, overrides and
disputes log theirs (audits/evidence/__init__.py lists them). Payloads are stored as given, so keep
personal data and transcript text out of them. `verify` streams the log in batches (the canonical
JSON is Python's, so hashes are recomputed in Python): the log grows with people's actions and runs,
not with conversations.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import secrets
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from audits.errors import ConfigError
from audits.warehouse import one, scalar, table_exists

GENESIS = "0" * 64
BATCH = 50_000
ENV_ACTOR = "QA_AUDIT_ACTOR"

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    seq BIGINT PRIMARY KEY,      -- 1, 2, 3, ... without gaps
    "at" TIMESTAMPTZ,
    actor VARCHAR,               -- who: a user name, "check:<id>@<version>", "nightly", ...
    action VARCHAR,              -- what: "finding.detected", "draw.created", ...
    subject VARCHAR,             -- to what: a finding id, a draw id, ...
    payload JSON,                -- the details, canonical JSON
    prev_hash VARCHAR,           -- the previous entry's hash (64 zeros for entry 1)
    hash VARCHAR,                -- sha256 of the canonical JSON of the fields above
    supplier VARCHAR,            -- the supplier the entry is about (NULL: none in particular)
    supplier_seq BIGINT,         -- 1, 2, 3, ... within that supplier's chain
    salt VARCHAR,                -- random hex, hashed with the payload into its digest
    supplier_prev_hash VARCHAR,  -- the supplier's previous entry's supplier_hash (64 zeros first)
    supplier_hash VARCHAR        -- sha256 of the supplier chain's canonical JSON (module docstring)
);
"""
_SUPPLIER_COLUMNS = (
    ("supplier", "VARCHAR"),
    ("supplier_seq", "BIGINT"),
    ("salt", "VARCHAR"),
    ("supplier_prev_hash", "VARCHAR"),
    ("supplier_hash", "VARCHAR"),
)
_COLUMNS = 'seq, "at", actor, action, subject, payload, prev_hash, hash'
_ALL_COLUMNS = _COLUMNS + ", " + ", ".join(c for c, _ in _SUPPLIER_COLUMNS)


@dataclass(frozen=True)
class LogEntry:
    """One entry of the audit log (the supplier fields are None outside a supplier chain)."""

    seq: int
    at: dt.datetime
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str
    supplier: str | None = None
    supplier_seq: int | None = None
    salt: str | None = None
    supplier_prev_hash: str | None = None
    supplier_hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (`at` as in the hash)."""
        return {**self.__dict__, "at": iso_utc(self.at)}


@dataclass(frozen=True)
class NewEntry:
    """An entry to append: `at` defaults to now, `supplier` to none (see the module docstring)."""

    actor: str
    action: str
    subject: str
    payload: Mapping[str, Any]
    supplier: str | None = None
    at: dt.datetime | str | None = None


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


def default_actor() -> str:
    """Who acts when a caller names no one: $QA_AUDIT_ACTOR, else `user:<login name>`."""
    name = os.environ.get(ENV_ACTOR, "").strip()
    if name:
        return name
    try:
        return f"user:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in this environment
        return "qa-audit"


def has_supplier_columns(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        scalar(
            con,
            "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'audit_log' "
            "AND database_name = current_database() AND schema_name = current_schema() "
            "AND column_name = 'supplier_hash'",
        )
    )


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create `audit_log` if it is missing; add the supplier chain's columns to an older one."""
    con.execute(SCHEMA)
    if not has_supplier_columns(con):
        for column, kind in _SUPPLIER_COLUMNS:
            con.execute(f"ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS {column} {kind}")


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


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    return _sha(canonical_json([seq, iso_utc(at), actor, action, subject, dict(payload), prev_hash]))


def payload_digest(salt: str, payload: Mapping[str, Any]) -> str:
    """sha256 (hex) of the salt followed by the payload's canonical JSON."""
    return _sha(salt + canonical_json(dict(payload)))


def supplier_entry_hash(
    supplier: str,
    supplier_seq: int,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    subject: str,
    digest: str,
    supplier_prev_hash: str,
) -> str:
    """The sha256 (hex) of an entry's link in its supplier's chain (see the module docstring)."""
    record = [supplier, supplier_seq, seq, iso_utc(at), actor, action, subject, digest, supplier_prev_hash]
    return _sha(canonical_json(record))


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
    supplier: str | None = None,
) -> int:
    """Append one entry and return its seq; never opens a transaction (see the module docstring)."""
    return append_many(con, [NewEntry(actor, action, subject, payload, supplier, at)])[0]


def _checked(entry: NewEntry) -> tuple[NewEntry, dt.datetime, str]:
    """The entry with its time in UTC and its payload's canonical JSON; ConfigError when invalid."""
    if not isinstance(entry, NewEntry):
        raise ConfigError(f"audit log entries must be NewEntry records, got {entry!r}")
    _text("actor", entry.actor)
    _text("action", entry.action)
    _text("subject", entry.subject)
    if entry.supplier is not None:
        _text("supplier", entry.supplier)
    if not isinstance(entry.payload, Mapping):
        raise ConfigError(f"audit log payload must be a mapping, got {entry.payload!r}")
    return entry, to_utc(entry.at), canonical_json(dict(entry.payload))


def append_many(con: duckdb.DuckDBPyConnection, entries: Iterable[NewEntry]) -> list[int]:
    """Append entries in order with one INSERT and return their seqs; never opens a transaction.

    Nothing is written when any entry is invalid (ConfigError naming the field).
    """
    checked = [_checked(e) for e in entries]
    if not checked:
        return []
    ensure_table(con)
    suppliers = [e.supplier for e, _, _ in checked]
    last = one(con, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    seq, prev = (0, GENESIS) if last is None else (int(last[0]), str(last[1]))
    heads: dict[str, tuple[int, str]] = {}
    named = sorted({s for s in suppliers if s is not None})
    if named:
        for s, n, h in con.execute(
            "SELECT supplier, max(supplier_seq), arg_max(supplier_hash, supplier_seq) FROM audit_log "
            "WHERE list_contains($s::VARCHAR[], supplier) GROUP BY supplier",
            {"s": named},
        ).fetchall():
            heads[s] = (int(n), str(h))
    cols: dict[str, list[Any]] = {k: [] for k in ("seq", "at", "actor", "action", "subject", "payload", "prev",
                                                  "hash", "sup", "sseq", "salt", "sprev", "shash")}  # fmt: skip
    for (e, when, body), supplier in zip(checked, suppliers, strict=True):
        seq += 1
        payload = json.loads(body)
        digest = entry_hash(seq, when, e.actor, e.action, e.subject, payload, prev)
        row = [seq, when, e.actor, e.action, e.subject, body, prev, digest, supplier, None, None, None, None]
        if supplier is not None:
            sseq, sprev = heads.get(supplier, (0, GENESIS))
            salt = secrets.token_hex(16)
            shash = supplier_entry_hash(
                supplier,
                sseq + 1,
                seq,
                when,
                e.actor,
                e.action,
                e.subject,
                payload_digest(salt, payload),
                sprev,
            )
            row[9:] = [sseq + 1, salt, sprev, shash]
            heads[supplier] = (sseq + 1, shash)
        for key, value in zip(cols, row, strict=True):
            cols[key].append(value)
        prev = digest
    con.execute(
        f"INSERT INTO audit_log ({_ALL_COLUMNS}) SELECT unnest($seq::BIGINT[]), unnest($at::TIMESTAMPTZ[]), "
        "unnest($actor::VARCHAR[]), unnest($action::VARCHAR[]), unnest($subject::VARCHAR[]), "
        "unnest($payload::VARCHAR[])::JSON, unnest($prev::VARCHAR[]), unnest($hash::VARCHAR[]), "
        "unnest($sup::VARCHAR[]), unnest($sseq::BIGINT[]), unnest($salt::VARCHAR[]), unnest($sprev::VARCHAR[]), "
        "unnest($shash::VARCHAR[])",
        cols,
    )
    return list(cols["seq"])


def _rows(
    con: duckdb.DuckDBPyConnection, where: str = "", params: list[Any] | None = None, order: str = "seq"
) -> Generator[tuple[Any, ...], None, None]:
    """The entries' 13 columns (supplier columns NULL in a log written before they existed)."""
    columns = _ALL_COLUMNS if has_supplier_columns(con) else _COLUMNS + ", NULL, NULL, NULL, NULL, NULL"
    reader = con.sql(
        f"SELECT {columns} FROM audit_log {where} ORDER BY {order}", params=params or []
    ).to_arrow_reader(BATCH)
    try:
        for batch in reader:
            yield from zip(*(col.to_pylist() for col in batch.columns), strict=True)
    finally:
        reader.close()  # an open result blocks the connection until it is drained or closed


def _entry(row: tuple[Any, ...]) -> LogEntry:
    s, a, actor, action, subj, p, ph, h, sup, sseq, salt, sprev, shash = row
    return LogEntry(int(s), a, actor, action, subj, json.loads(p) if p is not None else {}, ph, h,
                    sup, None if sseq is None else int(sseq), salt, sprev, shash)  # fmt: skip


def entries(
    con: duckdb.DuckDBPyConnection,
    subject: str | None = None,
    action_prefix: str | None = None,
    *,
    supplier: str | None = None,
    limit: int | None = None,
) -> list[LogEntry]:
    """The entries in seq order, optionally of one subject, with actions starting with a prefix, of
    one supplier; `limit` keeps the last ones."""
    if not table_exists(con, "audit_log"):
        return []
    parts: list[str] = []
    params: list[Any] = []
    if subject is not None:
        parts.append("subject = ?")
        params.append(subject)
    if action_prefix is not None:
        parts.append("starts_with(action, ?)")
        params.append(action_prefix)
    if supplier is not None:
        if not has_supplier_columns(con):
            return []
        parts.append("supplier = ?")
        params.append(supplier)
    where = "WHERE " + " AND ".join(parts) if parts else ""
    if limit is not None:
        low = one(con, f"SELECT min(seq) FROM (SELECT seq FROM audit_log {where} ORDER BY seq DESC LIMIT ?)",
                  [*params, max(int(limit), 0)])  # fmt: skip
        if low is None or low[0] is None:
            return []
        where = ("WHERE " + " AND ".join([*parts, "seq >= ?"])) if parts else "WHERE seq >= ?"
        params.append(int(low[0]))
    return [_entry(r) for r in _rows(con, where, params)]


def head(con: duckdb.DuckDBPyConnection, supplier: str | None = None) -> tuple[int, str]:
    """The last entry's (seq, hash), or with `supplier` its chain's (supplier_seq, supplier_hash);
    (0, GENESIS) for an empty log or chain. Keep it to detect truncation."""
    if not table_exists(con, "audit_log"):
        return 0, GENESIS
    if supplier is None:
        row = one(con, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    elif not has_supplier_columns(con):
        row = None
    else:
        row = one(
            con,
            "SELECT supplier_seq, supplier_hash FROM audit_log WHERE supplier = ? "
            "ORDER BY supplier_seq DESC LIMIT 1",
            [supplier],
        )
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def verify(con: duckdb.DuckDBPyConnection) -> LogVerification:
    """Recompute the chain from entry 1, then every supplier chain, and name the first entry that does
    not fit."""
    if not table_exists(con, "audit_log"):
        return LogVerification(True, 0)
    n = int(scalar(con, "SELECT count(*) FROM audit_log"))
    rows = _rows(con)
    try:
        result = _check_chain(rows, n)
    finally:
        rows.close()  # releases the DuckDB result when the walk stops early
    if not result.ok or not has_supplier_columns(con):
        return result
    stray = one(
        con,
        "SELECT min(seq) FROM audit_log WHERE supplier IS NULL AND (supplier_seq IS NOT NULL "
        "OR supplier_hash IS NOT NULL OR supplier_prev_hash IS NOT NULL)",
    )
    if stray is not None and stray[0] is not None:
        return LogVerification(
            False, n, int(stray[0]), f"entry {stray[0]} has supplier chain fields but no supplier: edited"
        )
    rows = _rows(con, "WHERE supplier IS NOT NULL", order="supplier, supplier_seq, seq")
    try:
        return _check_supplier_chains(rows, n)
    finally:
        rows.close()


def _check_chain(rows: Iterator[tuple[Any, ...]], n: int) -> LogVerification:
    expected, prev = 1, GENESIS
    for seq, at, actor, action, subject, payload, prev_hash, stored, *_ in rows:
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


@dataclass(frozen=True)
class ChainLink:
    """One entry of a supplier chain as a verifier sees it: `payload` None when withheld, then
    `digest` (the payload digest) stands for it; with a payload, `salt` must be given."""

    seq: int
    at: dt.datetime
    actor: str
    action: str
    subject: str
    payload: dict[str, Any] | None
    digest: str | None
    salt: str | None
    supplier: str
    supplier_seq: int | None
    supplier_prev_hash: str | None
    supplier_hash: str | None


def check_links(links: Iterable[ChainLink], n: int) -> LogVerification:
    """Verify supplier chains given in (supplier, supplier_seq) order; name the first bad entry.

    Used by `verify` on the warehouse and by an evidence pack's verifier on the pack's entries.
    """
    supplier, expected, prev = None, 1, GENESIS
    for link in links:
        if link.supplier != supplier:
            supplier, expected, prev = link.supplier, 1, GENESIS
        who = f"supplier {link.supplier}'s chain"
        if link.supplier_seq is None or link.supplier_seq > expected:
            return LogVerification(
                False, n, link.seq,
                f"{who}: entry {expected} missing (entry {link.seq} has supplier_seq {link.supplier_seq})",
            )  # fmt: skip
        if link.supplier_seq < expected:
            return LogVerification(
                False, n, link.seq, f"{who}: supplier_seq {link.supplier_seq} appears twice"
            )
        try:
            digest = link.digest
            if link.payload is not None:
                if link.salt is None:
                    raise ValueError("no salt")
                digest = payload_digest(link.salt, link.payload)
                if link.digest is not None and link.digest != digest:
                    return LogVerification(
                        False, n, link.seq,
                        f"{who}: entry {link.seq}'s payload does not match its digest: the payload was edited",
                    )  # fmt: skip
            ok = digest is not None and link.supplier_prev_hash is not None and link.supplier_hash == supplier_entry_hash(
                link.supplier, link.supplier_seq, link.seq, link.at, link.actor, link.action, link.subject,
                digest, link.supplier_prev_hash,
            )  # fmt: skip
        except (ValueError, TypeError, AttributeError, ConfigError):
            ok = False
        if not ok:
            return LogVerification(
                False, n, link.seq,
                f"{who}: entry {link.seq}'s supplier_hash does not match its content: it was edited or moved",
            )  # fmt: skip
        if link.supplier_prev_hash != prev:
            before = "the genesis hash" if expected == 1 else f"its entry {expected - 1}'s supplier_hash"
            return LogVerification(
                False, n, link.seq,
                f"{who}: entry {link.seq}'s supplier_prev_hash is not {before}: entries were changed, "
                "removed or reordered",
            )  # fmt: skip
        expected, prev = expected + 1, str(link.supplier_hash)
    return LogVerification(True, n)


def _check_supplier_chains(rows: Iterator[tuple[Any, ...]], n: int) -> LogVerification:
    def links() -> Iterator[ChainLink]:
        for seq, at, actor, action, subject, payload, _ph, _h, sup, sseq, salt, sprev, shash in rows:
            try:
                body = json.loads(payload) if payload is not None else None
            except ValueError:
                body = None
            yield ChainLink(int(seq), at, actor, action, subject, body if isinstance(body, dict) else {},
                            None, salt, sup, None if sseq is None else int(sseq), sprev, shash)  # fmt: skip

    return check_links(links(), n)
