"""A supplier's audit log chain in an evidence pack: written from the warehouse, checked from the file.

`audit_log.jsonl` holds every entry of the supplier's chain (audits.auditlog: supplier_seq 1, 2, ...,
from the first entry about the supplier to the last when the pack was built), one JSON object a line:

    seq, at, actor, action, subject      the entry (its place in the warehouse's global log, its time,
                                         who, what, to which subject)
    payload, salt                        the details, and the salt of their digest
    payload_digest                       sha256(salt + canonical_json(payload))
    supplier, supplier_seq, supplier_prev_hash, supplier_hash     the supplier chain's link
    prev_hash, hash                      the global chain's link (hashes only)
    withheld                             why the payload is left out (then payload and salt are null)

A payload is withheld when it names a conversation or the name of another supplier (a recurrence
search can find other suppliers' conversations) or holds personal data; its digest still binds it, so
the chain verifies all the same. Other suppliers' entries are not in the file at all: the supplier
chain links this supplier's entries to each other, not to theirs.

`check_log` recomputes every digest and link from the file alone, and each disclosed entry's global
hash from its content and prev_hash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb

from audits import auditlog
from audits.checks.pii import find_pii
from audits.errors import ConfigError
from audits.evidence.redact import Redactor
from audits.warehouse import table_exists

LOG_FILE = "audit_log.jsonl"


def strings_in(value: Any) -> set[str]:
    """Every string in a JSON value (keys and values, recursively), and the parts of "a/b" strings."""
    out: set[str] = set()
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            out.add(v)
            if "/" in v:
                out.update(p for p in v.split("/") if p)
        elif isinstance(v, dict):
            out.update(k for k in v if isinstance(k, str))
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return out


def foreign_strings(con: duckdb.DuckDBPyConnection, supplier: str, candidates: Iterable[str]) -> set[str]:
    """The candidates that are another supplier's name, or a conversation id of another supplier only."""
    wanted = sorted(set(candidates))
    if not wanted:
        return set()
    names = set()
    for table in ("conversations", "draw_items", "findings", "sample_scores"):
        if table_exists(con, table):
            names |= {
                s for (s,) in con.execute(f"SELECT DISTINCT supplier FROM {table} WHERE supplier <> ?", [supplier]).fetchall()
            }  # fmt: skip
    if table_exists(con, "audit_log") and auditlog.has_supplier_columns(con):
        names |= {
            s
            for (s,) in con.execute(
                "SELECT DISTINCT supplier FROM audit_log WHERE supplier IS NOT NULL AND supplier <> ?",
                [supplier],
            ).fetchall()
        }
    hits = {w for w in wanted if w in names}
    if table_exists(con, "conversations"):
        rows = con.execute(
            "SELECT DISTINCT w.v FROM (SELECT unnest($w::VARCHAR[]) AS v) w "
            "JOIN conversations c ON c.conversation_id = w.v AND c.supplier <> $s "
            "WHERE NOT EXISTS (SELECT 1 FROM conversations m WHERE m.supplier = $s AND m.conversation_id = w.v)",
            {"w": wanted, "s": supplier},
        ).fetchall()
        hits |= {v for (v,) in rows}
    return hits


_HEX_ID = re.compile(r"[0-9a-f]{16}|[0-9a-f]{64}")  # draw ids, hashes


@dataclass(frozen=True)
class Screen:
    """Decides which payloads may leave the warehouse: `foreign` strings (another supplier's name or
    conversations) and personal data (patterns, tagged names) keep one in; `identifiers` (this
    supplier's conversation ids, hex ids) are not read as personal data (an id can look like a phone)."""

    supplier: str
    foreign: frozenset[str]
    identifiers: frozenset[str]
    redactor: Redactor

    def reason(self, payload: Any) -> str | None:
        """Why a payload must not leave the warehouse, or None when it may."""
        found = strings_in(payload)
        if found & self.foreign:
            return "names another supplier or its conversations"
        for s in found:
            if s in self.identifiers or _HEX_ID.fullmatch(s):
                continue
            if all(p in self.identifiers or p == self.supplier for p in s.split("/") if p):
                continue
            if find_pii(s):
                return "holds personal data"
            if self.redactor.names_only(s) != s:
                return "holds a tagged personal name"
        return None


def screen(
    con: duckdb.DuckDBPyConnection, supplier: str, values: Iterable[Any], redactor: Redactor
) -> Screen:
    """The Screen for the payloads `values` (their strings are looked up in the warehouse once)."""
    candidates = sorted({s for v in values for s in strings_in(v)})
    own: set[str] = set()
    if candidates and table_exists(con, "conversations"):
        own = {c for (c,) in con.execute(
            "SELECT DISTINCT conversation_id FROM conversations WHERE supplier = $s "
            "AND list_contains($w::VARCHAR[], conversation_id)", {"s": supplier, "w": candidates}).fetchall()}  # fmt: skip
    return Screen(supplier, frozenset(foreign_strings(con, supplier, candidates)), frozenset(own), redactor)


def export_log(
    con: duckdb.DuckDBPyConnection, supplier: str, redactor: Redactor | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """The supplier chain's entries as pack records, and the notes on what was withheld."""
    found = auditlog.entries(con, supplier=supplier)
    check = screen(con, supplier, [e.payload for e in found], redactor or Redactor())
    records, notes = [], []
    for e in found:
        why = check.reason(e.payload)
        record = {
            "seq": e.seq, "at": auditlog.iso_utc(e.at), "actor": e.actor, "action": e.action, "subject": e.subject,
            "payload": None if why else e.payload, "salt": None if why else e.salt,
            "payload_digest": auditlog.payload_digest(e.salt or "", e.payload), "withheld": why,
            "supplier": e.supplier, "supplier_seq": e.supplier_seq, "supplier_prev_hash": e.supplier_prev_hash,
            "supplier_hash": e.supplier_hash, "prev_hash": e.prev_hash, "hash": e.hash,
        }  # fmt: skip
        if why:
            notes.append(f"audit log entry {e.seq} ({e.action} {e.subject}): payload withheld, it {why}")
        records.append(record)
    return records, notes


@dataclass(frozen=True)
class LogCheck:
    """The pack's log verdict: the chain's, the supplier head, the entries and the problems found."""

    ok: bool
    entries: int
    withheld: int
    head: tuple[int, str]
    problems: tuple[str, ...]


def check_log(
    records: list[dict[str, Any]], supplier: str, head: Any, anchor: tuple[int, str] | None = None
) -> LogCheck:
    """Verify the supplier chain in `records` (and each disclosed entry's global hash) from the file alone.

    `head` is the [supplier_seq, supplier_hash] the pack declares; `anchor` one received separately
    (an earlier pack, a report): the chain must hold that link.
    """
    problems: list[str] = []
    links = []
    for i, r in enumerate(records, start=1):
        try:
            at = auditlog.to_utc(r["at"], f"{LOG_FILE} line {i} at")
            if r.get("supplier") != supplier:
                problems.append(
                    f"{LOG_FILE} line {i} (entry {r.get('seq')}): supplier is {r.get('supplier')!r}, not {supplier!r}"
                )
            payload = r.get("payload")
            if payload is not None and not isinstance(payload, dict):
                raise ConfigError("payload is not a JSON object")
            links.append(auditlog.ChainLink(
                int(r["seq"]), at, r["actor"], r["action"], r["subject"], payload, r.get("payload_digest"),
                r.get("salt"), str(r.get("supplier")), int(r["supplier_seq"]), r["supplier_prev_hash"],
                r["supplier_hash"],
            ))  # fmt: skip
            if payload is not None and r.get("hash") is not None:
                expected = auditlog.entry_hash(
                    int(r["seq"]), at, r["actor"], r["action"], r["subject"], payload, r["prev_hash"]
                )
                if expected != r["hash"]:
                    problems.append(
                        f"entry {r['seq']} ({r['action']}): its global hash does not match its content"
                    )
        except (KeyError, TypeError, ValueError, ConfigError) as exc:
            problems.append(f"{LOG_FILE} line {i}: unreadable entry ({exc})")
    order = [(link.supplier_seq, link.seq) for link in links]
    if order != sorted(order):
        problems.append(f"{LOG_FILE}: entries are not in supplier_seq order")
    result = auditlog.check_links(links, len(links))
    if not result.ok:
        problems.insert(0, f"chain broken at entry {result.first_bad_seq}: {result.reason}")
    last = (links[-1].supplier_seq or 0, links[-1].supplier_hash or "") if links else (0, auditlog.GENESIS)
    declared = tuple(head) if isinstance(head, list | tuple) else None
    if declared != last:
        problems.append(f"the pack declares the chain's head {declared}, the file ends at {last}")
    if anchor is not None:
        held = next((link for link in links if link.supplier_seq == anchor[0]), None)
        if held is None:
            problems.append(f"the anchor's entry {anchor[0]} is not in the chain (it has {len(links)})")
        elif held.supplier_hash != anchor[1]:
            problems.append(
                f"the chain's entry {anchor[0]} has supplier_hash {held.supplier_hash}, the anchor {anchor[1]}: "
                "the history before the anchor was rewritten"
            )
    withheld = sum(1 for r in records if r.get("payload") is None)
    return LogCheck(not problems, len(records), withheld, (int(last[0]), str(last[1])), tuple(problems))
