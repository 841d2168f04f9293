"""The tables a report shows: named columns with a kind, rows of plain values, personal data redacted.

Every table of the report is one `Table`; the HTML shows it and `--exports` writes it as CSV and
Parquet, so what a reader sees and what a script reads are the same rows. Text cells are redacted
(`audits.checks.pii.redact`) when the table is built, so no later step can leak them; identifier
columns (supplier, conversation and finding ids, check ids) are not, because an id such as
c-000000009 reads like a phone number to the patterns and is not personal data.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from audits.checks.pii import redact

KINDS = ("id", "text", "int", "float", "pct", "secs", "date", "datetime", "verdict", "json")


@dataclass(frozen=True)
class Column:
    """A column: its key in the rows, its heading, and its kind (how it is formatted and typed)."""

    key: str
    label: str
    kind: str = "text"


@dataclass
class Table:
    """A titled table; `rows` are dicts keyed by column key. `note` says what it shows, in a sentence."""

    name: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    def __post_init__(self) -> None:
        for c in self.columns:
            if c.kind not in KINDS:
                raise ValueError(f"table {self.name}: column {c.key} has unknown kind {c.kind!r}")
        self.rows = [self._clean(r) for r in self.rows]

    def _clean(self, row: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for c in self.columns:
            v = row.get(c.key)
            if isinstance(v, str) and c.kind in ("text", "verdict"):
                v = redact(v)
            elif c.kind == "json" and v is not None and not isinstance(v, str):
                v = redact(json.dumps(v, default=str, sort_keys=True, ensure_ascii=False))
            out[c.key] = v
        return out

    def extend(self, rows: Iterable[dict[str, Any]]) -> None:
        """Add rows (redacted like the rows given at construction)."""
        self.rows.extend(self._clean(r) for r in rows)

    def __len__(self) -> int:
        return len(self.rows)

    def where(self, **match: Any) -> list[dict[str, Any]]:
        """The rows whose columns equal the given values."""
        return [r for r in self.rows if all(r.get(k) == v for k, v in match.items())]

    def to_arrow(self) -> pa.Table:
        """The rows as an Arrow table, one typed column per column (no row: an empty typed table)."""
        arrays = {}
        for c in self.columns:
            values = [_arrow_value(r.get(c.key), c.kind) for r in self.rows]
            arrays[c.key] = pa.array(values, type=_ARROW_TYPES[c.kind])
        return pa.table(arrays)


def _arrow_value(v: Any, kind: str) -> Any:
    if v is None:
        return None
    if kind in ("float", "pct", "secs"):
        return float(v)
    if kind == "int":
        return int(v)
    if kind == "date" and isinstance(v, dt.datetime):
        return v.date()
    if kind in ("id", "text", "verdict", "json"):
        return str(v)
    return v


_ARROW_TYPES: dict[str, pa.DataType] = {
    "id": pa.string(),
    "text": pa.string(),
    "verdict": pa.string(),
    "json": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "pct": pa.float64(),
    "secs": pa.float64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us", tz="UTC"),
}


def concat(tables: Sequence[Table]) -> Table:
    """Tables of one name (one per supplier) as one table, for exports."""
    first = tables[0]
    rows = [r for t in tables for r in t.rows]
    return Table(first.name, first.title, first.columns, rows, first.note)


def fmt(value: Any, kind: str) -> str:
    """A cell as text, the way the report shows it."""
    if value is None:
        return "–"
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "secs":
        if isinstance(value, float) and math.isinf(value):
            return "never"
        return f"{value:,.0f} s" if abs(value) >= 10 else f"{value:.1f} s"
    if kind == "float":
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "datetime" and isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    if kind == "date" and isinstance(value, dt.date | dt.datetime):
        return value.isoformat()[:10]
    return str(value)


def rows_of(cursor: Any, columns: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The rows of an executed DuckDB query as dicts keyed by column name."""
    names = list(columns) if columns is not None else [d[0] for d in cursor.description or []]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
