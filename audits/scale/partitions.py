"""One partition's audit: load its files into a DuckDB of its own, run the checks, write Parquet.

    prepare_kb(layout, out_dir, work_dir)        -> KbTemplate   (once, before the fan-out)
    audit_partition(partition, out_dir=..., ...) -> PartitionResult  (one per partition, in parallel)
    prune_outputs(out_dir, keys)                 -> removed keys (partitions no longer in the input)

The KB is loaded once, through the ordinary load (`audits.ingest.load.load_paths`: same contract,
same quarantine), into a template DuckDB file named after the KB files' fingerprint; each partition
starts from a copy of it, so every partition has the whole KB (kb_grounded needs it) and the KB is
not validated again per partition. A partition then loads its own files with `load_paths` (in
name order, one transaction per file) and runs the whole catalogue with `run_checks`.

Idempotent: a partition's fingerprint is the sha256 of its files' names and contents, the KB's
fingerprint, the check configuration's hash, the repeat window and the output format version. A
partition whose marker (`OUT/_partitions/<key>.json`) holds the same fingerprint, with all its
Parquet parts present, is skipped. Otherwise it is redone whole, from a fresh DuckDB file: the
four parts are written to a staging folder, renamed into place one by one, and only then the
marker is written (itself renamed into place), so a crash at any point leaves either the old
marker (whose fingerprint no longer matches, or whose parts are complete) or none, and the next
run redoes the partition.

Partition-local results for repeat_contact (and the conversations' repeat columns) are provisional:
the merge pass (`audits.scale.merge`) recomputes them over all partitions.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from audits import warehouse
from audits.checks.config import load_config
from audits.checks.run import run_checks
from audits.ingest.derive import DEFAULT_REPEAT_WINDOW_DAYS
from audits.ingest.load import load_paths, sha256_file
from audits.scale.layout import (
    KB_KEY,
    MARKERS,
    PART_FILE,
    TABLES,
    Layout,
    Partition,
    output_dir,
    output_file,
)
from audits.scale.split import SOURCES_MAP

FORMAT_VERSION = "1"  # bump when what a partition writes changes: every partition is redone
_ORDER = {
    "conversations": "supplier, conversation_id",
    "turns": "supplier, conversation_id, turn_index",
    "check_results": "supplier, conversation_id, check_id",
    "quarantine": "path, line, kind",
}


@dataclass(frozen=True)
class KbTemplate:
    """The KB loaded once: a DuckDB file partitions start from (None without KB files)."""

    path: str | None
    fingerprint: str
    articles: int = 0
    quarantined: int = 0
    reused: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PartitionResult:
    """What one partition's audit did (`status` done or skipped) and its counts and seconds."""

    key: str
    status: str
    fingerprint: str
    conversations: int = 0
    turns: int = 0
    quarantined: int = 0
    check_failures: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sql_path(path: str | Path) -> str:
    return str(path).replace("'", "''")


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    con.execute(f"COPY ({query}) TO '{_sql_path(target)}' (FORMAT parquet)")


def _fingerprint(items: list[tuple[str, str]], **more: Any) -> str:
    return hashlib.sha256(
        json.dumps({"files": items, **more}, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def _replace_into(staged: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON through a temporary name and a rename: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def _remove_db(path: Path) -> None:
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)
    shutil.rmtree(Path(str(path) + ".tmp"), ignore_errors=True)


# ---------------------------------------------------------------------------------------------


def prepare_kb(layout: Layout, out_dir: str | Path, work_dir: str | Path) -> KbTemplate:
    """Load the layout's KB files once into a template DuckDB file; write the KB and its quarantine.

    The template is named after the KB's fingerprint, so a KB that has not changed is reused.
    """
    out, work = Path(out_dir), Path(work_dir)
    root = Path(layout.root)
    items = [(Path(f).relative_to(root).as_posix(), sha256_file(Path(f))) for f in layout.kb_files]
    fp = _fingerprint(items, format=FORMAT_VERSION)
    kb_parts = (output_file(out, "kb_articles", ""), output_file(out, "quarantine", KB_KEY))
    if not items:
        con = duckdb.connect()
        try:
            warehouse.ensure_schema(con)
            _write_kb_outputs(con, out, kb_parts)
        finally:
            con.close()
        return KbTemplate(None, fp)
    template = work / "kb" / f"kb-{fp[:16]}.duckdb"
    reused = template.exists() and all(p.exists() for p in kb_parts)
    if not reused:
        template.parent.mkdir(parents=True, exist_ok=True)
        building = template.with_name(f"building-{uuid.uuid4().hex[:8]}.duckdb")
        try:
            load_paths(layout.kb_files, warehouse_path=building, kind="kb_articles", progress=False)
            with warehouse.open_warehouse(building) as con:
                _write_kb_outputs(con, out, kb_parts)
            os.replace(building, template)
        finally:
            _remove_db(building)
    with warehouse.open_warehouse(template, read_only=True) as con:
        articles = int(warehouse.scalar(con, "SELECT count(*) FROM kb_articles") or 0)
        quarantined = int(warehouse.scalar(con, "SELECT count(*) FROM quarantine") or 0)
    return KbTemplate(str(template), fp, articles, quarantined, reused)


def _write_kb_outputs(con: duckdb.DuckDBPyConnection, out: Path, parts: tuple[Path, Path]) -> None:
    articles, quarantine = parts
    for query, target in (
        ("SELECT * FROM kb_articles ORDER BY article_id, version", articles),
        (
            "SELECT *, NULL::VARCHAR AS source_path, NULL::BIGINT AS source_line FROM quarantine "
            f"ORDER BY {_ORDER['quarantine']}",
            quarantine,
        ),
    ):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
        _copy(con, query, tmp)
        os.replace(tmp, target)


# ---------------------------------------------------------------------------------------------


def partition_fingerprint(
    partition: Partition,
    input_root: str | Path,
    kb_fingerprint: str,
    config_hash: str,
    repeat_window_days: int,
) -> str:
    """sha256 over what a partition's outputs depend on (its files by name and content, the KB,
    the check configuration, the repeat window and the output format)."""
    root = Path(input_root)
    items = [(Path(f).relative_to(root).as_posix(), sha256_file(Path(f))) for f in partition.files]
    return _fingerprint(
        items, kb=kb_fingerprint, config=config_hash, window=repeat_window_days, format=FORMAT_VERSION
    )


def marker_path(out_dir: str | Path, partition: Partition) -> Path:
    return Path(out_dir) / MARKERS / f"{partition.marker_name}.json"


def is_current(out_dir: str | Path, partition: Partition, fingerprint: str) -> bool:
    """True when the partition's marker holds `fingerprint` and its four parts are all there."""
    marker = marker_path(out_dir, partition)
    try:
        done = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return done.get("fingerprint") == fingerprint and all(
        output_file(out_dir, t, partition.key).exists() for t in TABLES
    )


def audit_partition(
    partition: Partition,
    *,
    input_root: str | Path,
    out_dir: str | Path,
    work_dir: str | Path,
    kb: KbTemplate,
    check_config: str | os.PathLike[str] | None = None,
    repeat_window_days: int = DEFAULT_REPEAT_WINDOW_DAYS,
    threads: int | None = None,
    keep_database: bool = False,
) -> PartitionResult:
    """Load, check and write one partition (or skip it when its inputs have not changed).

    `threads` caps DuckDB's threads for this partition (workers sharing a machine); the partition's
    DuckDB file is removed after success unless `keep_database`.
    """
    t0 = time.perf_counter()
    out, work = Path(out_dir), Path(work_dir)
    cfg = load_config(check_config)
    fp = partition_fingerprint(partition, input_root, kb.fingerprint, cfg.config_hash, repeat_window_days)
    timings = {"fingerprint": time.perf_counter() - t0}
    if is_current(out, partition, fp):
        return PartitionResult(
            partition.key, "skipped", fp, seconds=time.perf_counter() - t0, timings=timings
        )

    marker = marker_path(out, partition)
    marker.unlink(missing_ok=True)
    db = work / "partitions" / f"{partition.marker_name}.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    _remove_db(db)  # whatever a crashed run left: the partition is redone whole
    staging_root = out / "_staging"
    for stale in staging_root.glob(f"{partition.marker_name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    staging = staging_root / f"{partition.marker_name}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    result = PartitionResult(partition.key, "done", fp)
    holder = None
    try:
        mark = time.perf_counter()
        if kb.path:
            shutil.copyfile(kb.path, db)
        if threads:
            # the loads below open the same file in this process and so share this instance's setting
            holder = duckdb.connect(str(db))
            holder.execute(f"SET threads = {int(threads)}")
        timings["prepare"] = time.perf_counter() - mark
        mark = time.perf_counter()
        loads = load_paths(
            partition.files,
            warehouse_path=db,
            kind="conversations",  # the KB is in the template; a partition holds conversations
            repeat_window_days=repeat_window_days,
            progress=False,
        )
        timings["load"] = time.perf_counter() - mark
        mark = time.perf_counter()
        con = warehouse.connect(db)
        try:
            run = run_checks(con, cfg)
            timings["checks"] = time.perf_counter() - mark
            result.warnings.extend(run.warnings)
            mark = time.perf_counter()
            _write_parts(con, partition, input_root, staging)
            result.conversations = int(warehouse.scalar(con, "SELECT count(*) FROM conversations") or 0)
            result.turns = int(warehouse.scalar(con, "SELECT count(*) FROM turns") or 0)
            result.check_failures = int(
                warehouse.scalar(con, "SELECT count(*) FROM check_results WHERE outcome = 'fail'") or 0
            )
        finally:
            con.close()
        result.quarantined = sum(r.records_quarantined + r.orphan_turns for r in loads)
        for table in TABLES:
            _replace_into(staging / f"{table}.parquet", output_file(out, table, partition.key))
        timings["write"] = time.perf_counter() - mark
        result.seconds = time.perf_counter() - t0
        result.timings = timings
        _write_json(marker, {"key": partition.key, "fingerprint": fp, "files": list(partition.files),
                             "result": result.to_dict()})  # fmt: skip
    finally:
        if holder is not None:
            holder.close()
        shutil.rmtree(staging, ignore_errors=True)
    if not keep_database:
        _remove_db(db)
    return result


def _write_parts(
    con: duckdb.DuckDBPyConnection, partition: Partition, input_root: str | Path, staging: Path
) -> None:
    """The four tables of a partition's DuckDB file as Parquet files in `staging`.

    The quarantine part holds the conversation records only (the KB's are written once, by
    `prepare_kb`) and, for lines the splitter wrote, their source file and line (`_sources.parquet`).
    """
    for table in ("conversations", "turns", "check_results"):
        _copy(con, f"SELECT * FROM {table} ORDER BY {_ORDER[table]}", staging / f"{table}.parquet")
    root = Path(input_root)
    files = pa.table(
        {
            "path": [str(f) for f in partition.files],
            "rel": [Path(f).relative_to(root).as_posix() for f in partition.files],
        }
    )
    con.register("_part_files", files)
    sources = root / SOURCES_MAP
    if sources.exists():
        mapping = (
            f"SELECT f.path, m.line, m.source_path, m.source_line FROM read_parquet('{_sql_path(sources)}') m "
            "JOIN _part_files f ON m.file = f.rel"
        )
    else:
        mapping = "SELECT NULL::VARCHAR AS path, NULL::BIGINT AS line, NULL::VARCHAR AS source_path, NULL::BIGINT AS source_line"
    try:
        _copy(
            con,
            f"""SELECT q.*, m.source_path, m.source_line
                FROM quarantine q LEFT JOIN ({mapping}) m ON m.path = q.path AND m.line = q.line
                WHERE q.kind <> 'kb_articles' ORDER BY {", ".join("q." + c for c in _ORDER["quarantine"].split(", "))}""",
            staging / "quarantine.parquet",
        )
    finally:
        con.unregister("_part_files")


def prune_outputs(out_dir: str | Path, keep: list[str]) -> list[str]:
    """Remove the outputs and markers of partitions that are no longer in the input; their keys."""
    out = Path(out_dir)
    present: set[str] = set()
    for table in TABLES:
        for part in (out / table).glob(f"**/{PART_FILE}"):
            key = part.parent.relative_to(out / table).as_posix()
            if key != KB_KEY:
                present.add(key)
    gone = sorted(present - set(keep))
    for key in gone:
        for table in TABLES:
            shutil.rmtree(output_dir(out, table, key), ignore_errors=True)
        (out / MARKERS / f"{key.replace('/', '--')}.json").unlink(missing_ok=True)
    # empty supplier folders left behind
    for table in TABLES:
        for sdir in (out / table).glob("supplier=*"):
            if sdir.is_dir() and not any(sdir.iterdir()):
                sdir.rmdir()
    return gone
