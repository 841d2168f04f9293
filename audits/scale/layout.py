"""Where things live: the partitioned input, the work folder and the Parquet output.

Input (what `split_exports` writes, or what a user lays out the same way):

    INPUT/supplier=<s>/day=<YYYY-MM-DD>/<files>      one partition: conversations started that UTC day
    INPUT/kb/<files>                                 the KB articles; every partition needs them
    INPUT/_unplaced/<files>                          lines the splitter could not place (quarantined later)

`<s>` is the supplier percent-encoded (RFC 3986: letters, digits and `-._~` stay as they are), so
any supplier name is one safe folder name and `supplier=` keeps it from looking like anything else.
A partition's files are whatever `qa-audit load` reads (JSON lines, plain or gzipped, or flattened
Parquet/CSV pairs), loaded in name order; names starting with `_` or `.` are not data.

Output:

    OUT/<table>/supplier=<s>/day=<d>/part-0.parquet  conversations, turns, check_results, quarantine
    OUT/<table>/_unplaced/part-0.parquet             the same for the unplaced lines
    OUT/kb_articles/part-0.parquet                   the KB as loaded (once)
    OUT/quarantine/_kb/part-0.parquet                KB records that broke the contract
    OUT/_partitions/<key>.json                       a partition's marker: its input fingerprint
    OUT/_merged.json                                 the merge pass's marker
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audits.errors import InputError
from audits.ingest.load import expand_paths

TABLES = ("conversations", "turns", "check_results", "quarantine")
KB_DIR = "kb"
UNPLACED = "_unplaced"
KB_KEY = "_kb"
PART_FILE = "part-0.parquet"
MARKERS = "_partitions"
MERGED_MARKER = "_merged.json"

_DAY = re.compile(r"^day=(\d{4}-\d{2}-\d{2})$")


def encode_supplier(supplier: str) -> str:
    """A supplier as one folder-name-safe token (percent-encoding, as DuckDB's url_encode does)."""
    return urllib.parse.quote(supplier, safe="-._~")


def decode_supplier(token: str) -> str:
    return urllib.parse.unquote(token)


def partition_key(supplier: str, day: dt.date | str) -> str:
    """The relative folder of one partition: `supplier=<encoded>/day=<YYYY-MM-DD>`."""
    return f"supplier={encode_supplier(supplier)}/day={day}"


@dataclass(frozen=True)
class Partition:
    """One unit of the fan-out: a supplier's day (or the unplaced lines) and its files in load order."""

    key: str  # "supplier=<s>/day=<d>" or "_unplaced"
    supplier: str | None
    day: dt.date | None
    files: tuple[str, ...]

    @property
    def marker_name(self) -> str:
        """The key as one file name (the marker's)."""
        return self.key.replace("/", "--")

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for a task's parameters); `from_dict` reads it back."""
        return {"key": self.key, "supplier": self.supplier, "day": self.day.isoformat() if self.day else None,
                "files": list(self.files)}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Partition:
        day = data.get("day")
        return cls(data["key"], data.get("supplier"), dt.date.fromisoformat(day) if day else None,
                   tuple(data["files"]))  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """A partitioned input folder: its KB files and its partitions, sorted by key."""

    root: str
    kb_files: tuple[str, ...]
    partitions: tuple[Partition, ...] = field(default=())

    def keys(self) -> list[str]:
        return [p.key for p in self.partitions]


def _files(folder: Path) -> tuple[str, ...]:
    return tuple(str(p) for p in expand_paths([folder]))


def discover(input_dir: str | Path) -> Layout:
    """Read the layout of a partitioned input folder; a folder that breaks the scheme is named."""
    root = Path(input_dir)
    if not root.is_dir():
        raise InputError(str(root), "no such folder (expected supplier=<s>/day=<YYYY-MM-DD>/ folders)")
    kb = _files(root / KB_DIR) if (root / KB_DIR).is_dir() else ()
    parts: list[Partition] = []
    for sdir in sorted(root.iterdir()):
        name = sdir.name
        if not sdir.is_dir() or name in (KB_DIR,) or name.startswith("."):
            continue
        if name == UNPLACED:
            files = _files(sdir)
            if files:
                parts.append(Partition(UNPLACED, None, None, files))
            continue
        if name.startswith("_"):
            continue
        if not name.startswith("supplier="):
            raise InputError(str(sdir), "expected supplier=<s>, kb or _unplaced here")
        supplier = decode_supplier(name[len("supplier=") :])
        if not supplier:
            raise InputError(str(sdir), "the supplier is empty")
        for ddir in sorted(sdir.iterdir()):
            if not ddir.is_dir() or ddir.name.startswith((".", "_")):
                continue
            m = _DAY.match(ddir.name)
            if not m:
                raise InputError(str(ddir), "expected day=<YYYY-MM-DD> here")
            try:
                day = dt.date.fromisoformat(m.group(1))
            except ValueError as exc:
                raise InputError(str(ddir), f"not a real day: {exc}") from exc
            files = _files(ddir)
            if files:
                parts.append(Partition(partition_key(supplier, day), supplier, day, files))
    if not parts:
        raise InputError(
            str(root), "no partition with files (expected supplier=<s>/day=<YYYY-MM-DD>/*.jsonl)"
        )
    parts.sort(key=lambda p: p.key)
    return Layout(str(root), kb, tuple(parts))


def output_dir(out_dir: str | Path, table: str, key: str) -> Path:
    """The folder of one table's Parquet part for a partition key."""
    return Path(out_dir) / table / key


def output_file(out_dir: str | Path, table: str, key: str) -> Path:
    return output_dir(out_dir, table, key) / PART_FILE


def table_glob(out_dir: str | Path, table: str) -> str:
    """A glob over every part of a table (partitions, the unplaced part; the KB's quarantine too)."""
    return str(Path(out_dir) / table / "**" / PART_FILE)


def parquet_source(out_dir: str | Path, table: str) -> str:
    """SQL reading every part of `table` (the files' own columns; the folder names add nothing)."""
    glob = table_glob(out_dir, table).replace("'", "''")
    return f"read_parquet('{glob}', hive_partitioning = false, union_by_name = true)"


def conversation_parts(out_dir: str | Path) -> list[Path]:
    """The conversations' Parquet parts, sorted (what `select_partitioned` takes)."""
    return sorted((Path(out_dir) / "conversations").glob(f"**/{PART_FILE}"))
