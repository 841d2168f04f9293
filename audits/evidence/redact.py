"""Redaction of what an evidence pack takes out of the warehouse: personal data and tagged names.

Patterns (audits.checks.pii.redact): card numbers passing Luhn, emails, phone numbers and the national
ids of the markets served (SG NRIC/FIN, MY MyKad, ID NIK, PH PhilSys/SSS/UMID, TH id) become their
kind in brackets, e.g. "[card_number]".

Names cannot be found by a pattern, so a supplier (or an adapter) tags them:

- on the conversation: `"metadata": {"pii_names": ["Crystal Minh", ...]}`;
- on one turn: an extra key `"pii_names": [...]` (kept in `turns.extra`).

A tagged name is replaced by "[name]" wherever it appears in the pack's text, whichever conversation
tagged it (a name tagged once is redacted everywhere), as a whole and part by part: "Crystal Minh"
also removes "Crystal" and "Minh" on their own. Matching ignores case and respects word boundaries;
parts shorter than three letters are removed only as part of the whole name (so a name "An" does not
erase every "an").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import duckdb

from audits.checks.pii import redact as redact_pii
from audits.warehouse import table_exists

NAME = "[name]"
MIN_PART = 3


def _names_in(value: str | None) -> list[str]:
    """The strings of a JSON list (or a JSON object's `pii_names` list); [] for anything else."""
    if not value:
        return []
    try:
        data = json.loads(value)
    except ValueError:
        return []
    if isinstance(data, dict):
        data = data.get("pii_names")
    if not isinstance(data, list):
        return []
    return [n.strip() for n in data if isinstance(n, str) and n.strip()]


def tagged_names(con: duckdb.DuckDBPyConnection, keys: Iterable[tuple[str, str]]) -> set[str]:
    """The names tagged on the given conversations (supplier, conversation_id) and their turns."""
    pairs = sorted(set(keys))
    if not pairs:
        return set()
    con.register("_pack_keys", _keys_table(pairs))
    try:
        rows = con.execute(
            "SELECT json_extract(c.metadata, '$.pii_names')::VARCHAR FROM conversations c "
            "SEMI JOIN _pack_keys k USING (supplier, conversation_id) WHERE c.metadata IS NOT NULL"
        ).fetchall()
        if table_exists(con, "turns"):
            rows += con.execute(
                "SELECT json_extract(t.extra, '$.pii_names')::VARCHAR FROM turns t "
                "SEMI JOIN _pack_keys k USING (supplier, conversation_id) WHERE t.extra IS NOT NULL"
            ).fetchall()
    finally:
        con.unregister("_pack_keys")
    return {n for (v,) in rows for n in _names_in(v)}


def supplier_tagged_names(con: duckdb.DuckDBPyConnection, suppliers: Iterable[str]) -> set[str]:
    """Every name tagged on any conversation (or turn) of the suppliers: what a report over them must hide."""
    names = sorted(set(suppliers))
    if not names or not table_exists(con, "conversations"):
        return set()
    params = {"s": names}
    rows = con.execute(
        "SELECT DISTINCT json_extract(metadata, '$.pii_names')::VARCHAR FROM conversations "
        "WHERE supplier IN (SELECT unnest($s::VARCHAR[])) AND json_extract(metadata, '$.pii_names') IS NOT NULL",
        params,
    ).fetchall()
    if table_exists(con, "turns"):
        rows += con.execute(
            "SELECT DISTINCT json_extract(extra, '$.pii_names')::VARCHAR FROM turns "
            "WHERE supplier IN (SELECT unnest($s::VARCHAR[])) AND json_extract(extra, '$.pii_names') IS NOT NULL",
            params,
        ).fetchall()
    return {n for (v,) in rows for n in _names_in(v)}


def _keys_table(pairs: list[tuple[str, str]]) -> object:
    import pyarrow as pa  # noqa: PLC0415

    return pa.table({"supplier": [p[0] for p in pairs], "conversation_id": [p[1] for p in pairs]})


class Redactor:
    """Redacts personal-data patterns and a fixed set of tagged names from text."""

    def __init__(self, names: Iterable[str] = ()):
        terms: set[str] = set()
        for name in names:
            terms.add(name)
            terms.update(p for p in re.split(r"[\s,.]+", name) if len(p) >= MIN_PART)
        self.names = frozenset(terms)
        ordered = sorted(terms, key=lambda t: (-len(t), t))  # the whole name before its parts
        self._rx = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in ordered) + r")(?!\w)", re.IGNORECASE)
            if ordered
            else None
        )

    def __call__(self, text: str | None) -> str | None:
        """The text with personal-data patterns, then names, replaced; None stays None."""
        if text is None:
            return None
        text = redact_pii(text)  # first: a name inside an email must not break the email's pattern
        return self.names_only(text)

    def names_only(self, text: str) -> str:
        """The text with the tagged names replaced (for markup, where number patterns would hit drawings)."""
        return self._rx.sub(NAME, text) if self._rx is not None else text
