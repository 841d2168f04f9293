"""Split ordinary exports into partitions by supplier and UTC day of `started_at`.

    split_exports(sources, out_dir) -> SplitResult

Python only cuts each file into lines, a block at a time with numpy (no loop per line); DuckDB
reads the lines, places every one in a set-based pass and the lines are written back out, byte
for byte, a partition file per (source file, partition) so a partition loads its records in the
order the sources gave them:

    OUT/supplier=<s>/day=<YYYY-MM-DD>/<NNNNN>-<source name>.jsonl[.gz]
    OUT/kb/<NNNNN>-<source name>          KB files (detected as `qa-audit load` does), copied whole
    OUT/_unplaced/<NNNNN>-<source name>   lines that cannot be placed: not UTF-8, not a JSON
                                          object, no supplier, no RFC 3339 started_at
    OUT/_sources.parquet                  each written line's source file and line

Where a line goes. A line is placed by its own supplier and started_at, except that every export of
one conversation (same supplier and conversation_id, in any source) goes to the partition of the
last placeable one, in source order. A single warehouse loads files in order and a later export
replaces an earlier one (a corrected re-export, which may have moved to another day); keeping them
in one partition, in the same order, keeps that: the partition's load replaces the earlier export
with the later one exactly as the warehouse would, and two copies in one file are quarantined as
duplicates in both. A record that cannot be placed (unreadable, no supplier or started_at) goes
to `_unplaced/`: the partitioned audit loads it as a partition of its own, so the contract
quarantines it with its file, line and reason, and nothing vanishes. Blank lines are counted and
dropped, as the load does.

The split is written to a temporary sibling folder and renamed into place at the end, so a crash
leaves no half-split folder behind; `out_dir` must not exist yet (or be empty).
"""

from __future__ import annotations

import gzip
import os
import shutil
import time
import uuid
from collections.abc import Generator, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import duckdb
import numpy as np
import pyarrow as pa

from audits.errors import ConfigError, InputError
from audits.ingest.fields import RFC3339
from audits.ingest.fieldsql import q
from audits.ingest.load import JSONL_SUFFIXES, _detect_kind, expand_paths
from audits.ingest.stage import iter_file_lines
from audits.scale.layout import KB_DIR, UNPLACED

BLOCK_BYTES = 64 * 1024 * 1024
WRITE_BATCH = 20_000
SOURCES_MAP = "_sources.parquet"
_WHITESPACE = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)"  # Python's bytes.strip()


@dataclass
class SplitResult:
    """What a split did: records read and placed, lines unplaced (by reason), files written."""

    out_dir: str
    sources: list[str]
    kb_files: list[str]
    records: int = 0
    placed: int = 0
    unplaced: int = 0
    blank_lines: int = 0
    moved: int = 0  # records placed with a later export of the same conversation, on another day
    partitions: int = 0
    files_written: int = 0
    unplaced_reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        lines = [
            f"{self.records} records from {len(self.sources) - len(self.kb_files)} conversation file(s): "
            f"{self.placed} placed in {self.partitions} partition(s), {self.unplaced} unplaced"
            + (f", {self.blank_lines} blank lines skipped" if self.blank_lines else ""),
        ]
        if self.moved:
            lines.append(
                f"{self.moved} earlier export(s) of a conversation placed with its last export (another day)"
            )
        if self.kb_files:
            lines.append(f"{len(self.kb_files)} KB file(s) copied to {KB_DIR}/")
        for reason, n in self.unplaced_reasons.items():
            lines.append(f"    {n:>7}  {reason}")
        if self.unplaced:
            lines.append(
                f"unplaced lines are in {UNPLACED}/: the partitioned audit quarantines them with reasons"
            )
        lines.append(f"written to {self.out_dir} in {self.seconds:.1f}s")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# cutting a file into lines, a block at a time


def _cut(block: bytes, first_line: int) -> tuple[pa.Table, int]:
    """The lines of `block` (which ends with a newline) as a table (line, raw), without their
    line endings (a final CR is dropped too, as the load does); and how many there were."""
    data = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(data == 10)
    n = len(ends)
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    cr = np.zeros(n, dtype=bool)
    nonempty = ends > starts
    cr[nonempty] = data[ends[nonempty] - 1] == 13
    keep = np.ones(len(data), dtype=bool)
    keep[ends] = False
    keep[ends[cr] - 1] = False
    lengths = ends - starts - cr
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    raw = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data[keep].tobytes())]
    )
    numbers = pa.array(np.arange(first_line, first_line + n, dtype=np.int64))
    return pa.table({"line": numbers, "raw": raw}), n


def line_batches(path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[pa.Table]:
    """The lines of a (possibly gzipped) file in tables of (line, raw), numbered from 1 as the load
    numbers them (a UTF-8 byte order mark at the start is dropped)."""
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        block = fh.read(3).removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte order mark
        rest = b""
        line = 1
        while True:
            block = block or fh.read(block_bytes)
            if not block:
                break
            data, block = rest + block, b""
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            rest = data[cut + 1 :]
            table, n = _cut(data[: cut + 1], line)
            line += n
            yield table
        if rest:
            yield _cut(rest + b"\n", line)[0]


# ---------------------------------------------------------------------------------------------


def _stem(name: str) -> str:
    low = name.lower()
    for s in JSONL_SUFFIXES:
        if low.endswith(s):
            return name[: -len(s)]
    return name


def _sources(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    files = expand_paths(paths)
    bad = [f for f in files if not f.name.lower().endswith(JSONL_SUFFIXES)]
    if bad:
        raise InputError(
            str(bad[0]),
            "the splitter reads JSON lines (.jsonl or .ndjson, optionally gzipped); "
            "load a flattened Parquet/CSV pair as a partition of its own instead",
        )
    if not files:
        raise InputError(", ".join(map(str, paths)), "no JSON lines file to split")
    return files


def _kind(path: Path) -> str:
    """conversations or kb_articles, decided from the first lines exactly as the load decides it."""
    lines = cast(Generator[bytes, None, None], iter_file_lines(path))  # a generator: closed below
    try:
        return _detect_kind(lines)
    except (OSError, EOFError) as exc:
        raise InputError(str(path), f"cannot be read: {exc}") from exc
    finally:
        lines.close()


def _target(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ConfigError(f"{out_dir}: already exists and is not empty; split into a new folder")


def split_exports(
    sources: Iterable[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    compress: bool = False,
    memory_limit: str | None = None,
) -> SplitResult:
    """Split JSON lines exports (files or folders) into `out_dir` by supplier and UTC day.

    `compress` writes the partition files gzipped. Returns the counts; the unplaced lines' reasons
    are counted per reason.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    _target(out)
    files = _sources(sources)
    tmp = out.with_name(f".{out.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        result = _split_into(files, tmp, compress, memory_limit)
        if out.exists():
            out.rmdir()  # empty (checked above)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.out_dir = str(out)
    result.seconds = time.perf_counter() - t0
    return result


def _split_into(files: list[Path], out: Path, compress: bool, memory_limit: str | None) -> SplitResult:
    result = SplitResult(str(out), [str(f) for f in files], [])
    names: list[tuple[int, str, str]] = []  # (src, output name, source path) for conversation files
    conv: list[tuple[int, Path]] = []
    for i, f in enumerate(files, start=1):
        name = f"{i:05d}-{f.name}"
        if _kind(f) == "kb_articles":
            (out / KB_DIR).mkdir(exist_ok=True)
            shutil.copyfile(f, out / KB_DIR / name)
            result.kb_files.append(str(f))
            continue
        conv.append((i, f))
        names.append((i, f"{i:05d}-{_stem(f.name)}.jsonl" + (".gz" if compress else ""), str(f)))
    if not conv:
        return result
    db = out / "_split.duckdb"
    con = duckdb.connect(str(db))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET preserve_insertion_order = false")
        if memory_limit:
            con.execute("SET memory_limit = ?", [memory_limit])
        con.execute("CREATE TABLE lines (src INTEGER, line BIGINT, raw BLOB)")
        for src, path in conv:
            try:
                for batch in line_batches(path):
                    con.register("_batch", batch)
                    con.execute(f"INSERT INTO lines SELECT {src}, line, raw FROM _batch")
                    con.unregister("_batch")
            except (OSError, EOFError) as exc:
                raise InputError(str(path), f"cannot be read: {exc}") from exc
        names_table = pa.table(
            {
                "src": pa.array([n[0] for n in names], pa.int32()),
                "name": [n[1] for n in names],
                "source_path": [n[2] for n in names],
            }
        )
        con.register("_names", names_table)
        con.execute("CREATE TABLE names AS SELECT * FROM _names")
        con.unregister("_names")
        _place(con)
        _count(con, result)
        _write(con, out, result)
    finally:
        con.close()
        db.unlink(missing_ok=True)
        Path(str(db) + ".wal").unlink(missing_ok=True)
    return result


def _place(con: duckdb.DuckDBPyConnection) -> None:
    """Table `placed`: every non-blank line's (src, line) with its partition key (or `_unplaced`) and reason."""
    paths = "['$.supplier', '$.conversation_id', '$.started_at']"
    con.execute(
        f"""
        CREATE TABLE placed AS
        WITH d AS (SELECT src, line, raw, TRY(decode(raw)) AS j FROM lines),
        p AS (
            SELECT src, line, j,
                   CASE WHEN j IS NULL THEN 'not valid UTF-8'
                        WHEN NOT json_valid(j) THEN 'malformed JSON'
                        WHEN json_type(j) <> 'OBJECT' THEN 'not a JSON object' END AS bad
            FROM d WHERE j IS NULL OR trim(j, {_WHITESPACE}) <> ''),
        f AS (
            SELECT src, line, bad,
                   CASE WHEN bad IS NULL THEN json_type(j, {paths}) END AS t,
                   CASE WHEN bad IS NULL THEN json_extract_string(j, {paths}) END AS s
            FROM p),
        g AS (
            SELECT src, line, bad,
                   CASE WHEN t[1] = 'VARCHAR' AND s[1] <> '' THEN s[1] END AS supplier,
                   CASE WHEN t[2] = 'VARCHAR' AND s[2] <> '' THEN s[2] END AS cid,
                   CASE WHEN t[3] = 'VARCHAR' AND regexp_matches(s[3], {q(RFC3339)})
                        THEN strftime(TRY_CAST(upper(s[3]) AS TIMESTAMPTZ), '%Y-%m-%d') END AS own_day
            FROM f),
        h AS (
            SELECT *,
                   CASE WHEN supplier IS NOT NULL AND cid IS NOT NULL
                        THEN last_value(own_day IGNORE NULLS) OVER (
                            PARTITION BY supplier, cid ORDER BY src, line
                            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
                        ELSE own_day END AS day
            FROM g)
        SELECT src, line, supplier, own_day, day,
               CASE WHEN supplier IS NOT NULL AND day IS NOT NULL
                    THEN 'supplier=' || url_encode(supplier) || '/day=' || day ELSE {q(UNPLACED)} END AS pkey,
               CASE WHEN bad IS NOT NULL THEN bad
                    WHEN supplier IS NULL THEN 'supplier: missing, empty or not a string'
                    WHEN day IS NULL THEN 'started_at: missing or not an RFC 3339 timestamp with an offset'
               END AS reason
        FROM h
        """
    )


def _count(con: duckdb.DuckDBPyConnection, result: SplitResult) -> None:
    total, placed, moved, parts = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE pkey <> {q(UNPLACED)}),
                   count(*) FILTER (WHERE own_day IS DISTINCT FROM day AND pkey <> {q(UNPLACED)}),
                   count(DISTINCT pkey) FILTER (WHERE pkey <> {q(UNPLACED)})
            FROM placed"""
    ).fetchall()[0]
    result.records, result.placed, result.moved, result.partitions = (
        int(total),
        int(placed),
        int(moved),
        int(parts),
    )
    result.unplaced = result.records - result.placed
    lines = con.execute("SELECT count(*) FROM lines").fetchall()[0][0]
    result.blank_lines = int(lines) - result.records
    rows = con.execute(
        f"SELECT reason, count(*) AS n FROM placed WHERE pkey = {q(UNPLACED)} GROUP BY reason ORDER BY n DESC, reason"
    ).fetchall()
    result.unplaced_reasons = {str(r): int(n) for r, n in rows}


def _write(con: duckdb.DuckDBPyConnection, out: Path, result: SplitResult) -> None:
    """Each (partition, source) group's lines, in order, to its file; and the map of lines."""
    con.execute(
        """
        CREATE TABLE written AS
        SELECT p.src, p.line, p.pkey, p.pkey || '/' || n.name AS file, n.source_path,
               row_number() OVER (PARTITION BY p.pkey, p.src ORDER BY p.line) AS file_line,
               dense_rank() OVER (ORDER BY p.pkey, p.src) AS grp
        FROM placed p JOIN names n USING (src)
        """
    )
    groups = dict(con.execute("SELECT DISTINCT grp, file FROM written").fetchall())
    reader = con.sql(
        "SELECT w.grp, l.raw || '\\x0A'::BLOB AS raw FROM written w JOIN lines l USING (src, line) "
        "ORDER BY w.grp, w.file_line"
    ).to_arrow_reader(WRITE_BATCH)
    current: int | None = None
    fh: Any = None  # the open group's file: it spans batches, so it is closed by hand (finally below)
    try:
        for batch in reader:
            grp = batch.column(0).to_numpy()
            raw = batch.column(1)
            cuts = [0, *(np.flatnonzero(np.diff(grp)) + 1).tolist(), len(grp)]
            for a, b in zip(cuts[:-1], cuts[1:], strict=True):
                g = int(grp[a])
                if g != current:
                    if fh is not None:
                        fh.close()
                    path = out / groups[g]
                    path.parent.mkdir(parents=True, exist_ok=True)
                    fh = gzip.GzipFile(path, "wb", mtime=0) if path.name.endswith(".gz") else open(path, "wb")  # noqa: SIM115
                    current = g
                    result.files_written += 1
                assert fh is not None
                fh.write(_binary_bytes(raw.slice(a, b - a)))
    finally:
        if fh is not None:
            fh.close()
    target = str(out / "_sources.parquet").replace("'", "''")
    con.execute(
        f"""COPY (SELECT file, file_line AS line, source_path, line AS source_line FROM written
                  ORDER BY file, file_line) TO '{target}' (FORMAT parquet)"""
    )


def _binary_bytes(column: pa.Array) -> memoryview:
    """The concatenated bytes of a (large) binary Arrow array, without copying."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    large = pa.types.is_large_binary(column.type) or pa.types.is_large_string(column.type)
    offsets_type = np.int64 if large else np.int32
    _validity, offsets_buf, data_buf = column.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=offsets_type)[column.offset : column.offset + len(column) + 1]
    return memoryview(data_buf)[int(offsets[0]) : int(offsets[-1])]
