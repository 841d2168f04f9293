"""Load files into the warehouse: one transaction per file, idempotent by content.

    load_paths(paths, warehouse=...)        -> [LoadResult]   (the CLI and the flow call this)
    load_file(con, path, ...)               -> LoadResult     (one file, an open connection)

A file's load id is the SHA-256 of its bytes (for a flattened pair, of both files' hashes): a file
already loaded is skipped and changes nothing. Records that break the contract are written to
`quarantine` with their reasons; the others replace any earlier version of the same
(supplier, conversation_id) or (article_id, version). Everything a file writes is written in one
transaction, so a crash leaves no trace of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from audits import warehouse
from audits.errors import ConfigError, InputError
from audits.ingest import contract, derive, flat, stage
from audits.warehouse import one, scalar

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
FLAT_SUFFIXES = (".parquet", ".csv")
FORMATS = ("auto", "jsonl", "parquet", "csv", "tau-bench", "abcd")
KINDS = ("auto", "conversations", "kb_articles")


@dataclass
class LoadResult:
    """What one file's load did. `reasons` counts quarantined records by 'field: rule'."""

    path: str
    load_id: str
    status: str  # loaded | already loaded
    kind: str
    format: str
    records_read: int = 0
    records_loaded: int = 0
    records_new: int = 0
    records_replaced: int = 0
    records_quarantined: int = 0
    turns_loaded: int = 0
    orphan_turns: int = 0
    blank_lines: int = 0
    seconds: float = 0.0
    contract_success: bool | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    previous_path: str | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def format_load_summary(results: list[LoadResult]) -> str:
    """A person's summary of a load: one block per file, then totals."""
    out = []
    for r in results:
        if r.status == "already loaded":
            out.append(f"{r.path}: already loaded (same content as {r.previous_path}); nothing changed")
            continue
        out.append(
            f"{r.path}: {r.records_loaded} {r.kind} loaded ({r.records_new} new, "
            f"{r.records_replaced} replaced), {r.records_quarantined} quarantined"
            + (f", {r.turns_loaded} turns" if r.kind == "conversations" else "")
            + (f", {r.blank_lines} blank lines skipped" if r.blank_lines else "")
            + (f", {r.orphan_turns} turn rows without a conversation" if r.orphan_turns else "")
            + f" in {r.seconds:.1f}s"
        )
        for reason, n in r.reasons.items():
            out.append(f"    {n:>7}  {reason}")
    loaded = sum(r.records_loaded for r in results)
    quarantined = sum(r.records_quarantined + r.orphan_turns for r in results)
    out.append(f"total: {loaded} loaded, {quarantined} quarantined from {len(results)} file(s)")
    if quarantined:
        out.append("see them with: qa-audit quarantine")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in JSONL_SUFFIXES + FLAT_SUFFIXES + (".json", ".md"):
        if name.endswith(s):
            return s
    return path.suffix.lower()


def flat_partner(path: Path) -> tuple[Path, Path | None, str]:
    """For a flattened file, (records file, turns file or None, kind).

    Conversations come as a pair: `NAME.conversations.parquet` with `NAME.turns.parquet` (or .csv).
    KB articles come alone: `NAME.kb_articles.parquet`. Either file of a pair names the pair.
    """
    name, suffix = path.name, _suffix(path)
    stem = name[: -len(suffix)]
    for marker, kind in ((".kb_articles", "kb_articles"), (".conversations", "conversations"),
                         (".turns", "conversations")):  # fmt: skip
        if stem.endswith(marker):
            base = stem[: -len(marker)]
            if kind == "kb_articles":
                return path, None, kind
            conv = path.with_name(base + ".conversations" + suffix)
            turns = path.with_name(base + ".turns" + suffix)
            for p in (conv, turns):
                if not p.exists():
                    raise InputError(str(p), f"missing: {path.name} is half of a pair and needs it")
            return conv, turns, kind
    raise InputError(
        str(path),
        "a flattened file must be named NAME.conversations"
        + suffix
        + " (with NAME.turns"
        + suffix
        + ") or NAME.kb_articles"
        + suffix,
    )


def _detect_kind(lines: Iterable[bytes]) -> str:
    """conversations or kb_articles, from the first line that parses as a JSON object."""
    for i, line in enumerate(lines):
        if i >= 1000:
            break
        try:
            obj = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(obj, dict):
            if "article_id" in obj and "conversation_id" not in obj:
                return "kb_articles"
            return "conversations"
    return "conversations"


# ---------------------------------------------------------------------------------------------


def load_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    warehouse_path: str | os.PathLike[str] | None = None,
    fmt: str = "auto",
    kind: str = "auto",
    repeat_window_days: int | None = None,
    max_record_bytes: int = stage.DEFAULT_MAX_RECORD_BYTES,
    wait: float = 60.0,
    progress: bool | None = None,
) -> list[LoadResult]:
    """Load files and folders (their files, sorted) into the warehouse, one transaction each."""
    files = expand_paths(paths, fmt)
    results = []
    with warehouse.open_warehouse(warehouse_path, wait=wait) as con:
        for unit in files:
            results.append(
                load_file(
                    con,
                    unit,
                    fmt=fmt,
                    kind=kind,
                    repeat_window_days=repeat_window_days,
                    max_record_bytes=max_record_bytes,
                    progress=progress,
                )  # fmt: skip
            )
    return results


def expand_paths(paths: Iterable[str | os.PathLike[str]], fmt: str = "auto") -> list[Path]:
    """Files to load, in order: folders expand to their loadable files; a pair counts once."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out: list[Path] = []
    seen: set[Path] = set()
    for p in map(Path, paths):
        if not p.exists():
            raise InputError(str(p), "no such file or folder")
        if p.is_dir() and fmt in ("tau-bench", "abcd"):
            from audits.adapters import adapter_files  # noqa: PLC0415

            candidates = adapter_files(fmt, p)
        else:
            candidates = sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]
        for c in candidates:
            suffix = _suffix(c)
            if p.is_dir() and c.name.startswith(("_", ".")):
                continue  # _SUCCESS, _ground_truth.jsonl, .hidden: not data, by convention
            if p.is_dir() and fmt == "auto" and suffix not in JSONL_SUFFIXES + FLAT_SUFFIXES:
                continue
            key = c
            if fmt in ("auto", "parquet", "csv") and suffix in FLAT_SUFFIXES:
                key = flat_partner(c)[0]
            if key not in seen:
                seen.add(key)
                out.append(key)
    return out


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: str | os.PathLike[str],
    *,
    fmt: str = "auto",
    kind: str = "auto",
    repeat_window_days: int | None = None,
    max_record_bytes: int = stage.DEFAULT_MAX_RECORD_BYTES,
    progress: bool | None = None,
) -> LoadResult:
    """Load one file (or flattened pair) through an open read-write connection."""
    if kind not in KINDS:
        raise ConfigError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "no such file")
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    suffix = _suffix(path)
    if fmt == "auto":
        fmt = {".parquet": "parquet", ".csv": "csv"}.get(suffix, "jsonl")
    turns_path: Path | None = None
    if fmt in ("parquet", "csv"):
        path, turns_path, detected = flat_partner(path)
        load_id = hashlib.sha256(
            (sha256_file(path) + (sha256_file(turns_path) if turns_path else "")).encode()
        ).hexdigest()
        kind = detected if kind == "auto" else kind
    else:
        load_id = sha256_file(path)
    shown_path = str(path) + (f" + {turns_path.name}" if turns_path else "")

    previous = one(con, "SELECT path, kind, format FROM loads WHERE load_id = ?", [load_id])
    if previous:
        return LoadResult(shown_path, load_id, "already loaded", previous[1], previous[2],
                          previous_path=previous[0], seconds=time.perf_counter() - t0)  # fmt: skip

    lines_source: Callable[[], Iterator[bytes]] | None = None
    if fmt == "jsonl":

        def lines_source() -> Iterator[bytes]:
            return stage.iter_file_lines(path)
    elif fmt in ("tau-bench", "abcd"):
        from audits.adapters import adapter_lines  # noqa: PLC0415

        adapted_kind, adapted = adapter_lines(fmt, path)
        kind = adapted_kind if kind == "auto" else kind

        def lines_source() -> Iterator[bytes]:
            return iter(adapted)
    elif fmt not in ("parquet", "csv"):
        raise ConfigError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")

    _drop_staging(con)  # whatever an earlier failure left behind
    try:
        return _stage_check_write(
            con, path, turns_path, shown_path, load_id, kind, fmt, lines_source, started, t0,
            repeat_window_days=repeat_window_days, max_record_bytes=max_record_bytes, progress=progress,
        )  # fmt: skip
    finally:
        _drop_staging(con)


def _stage_check_write(
    con: duckdb.DuckDBPyConnection, path: Path, turns_path: Path | None, shown_path: str, load_id: str,
    kind: str, fmt: str, lines_source: Callable[[], Iterator[bytes]] | None, started: datetime, t0: float,
    *, repeat_window_days: int | None, max_record_bytes: int, progress: bool | None,
) -> LoadResult:  # fmt: skip
    """The load proper, once the file is known to be new: stage, check, write in one transaction."""
    blank = orphans = 0
    timings: dict[str, float] = {"hash": time.perf_counter() - t0}
    mark = time.perf_counter()
    try:
        if lines_source is not None:
            if kind == "auto":
                try:
                    kind = _detect_kind(lines_source())
                except (OSError, EOFError) as exc:
                    raise InputError(str(path), f"cannot be read: {exc}") from exc
            bar = _progress_bar(path, progress)
            try:
                records, blank = stage.read_lines_table(con, lines_source(), progress=bar)
            except (OSError, EOFError) as exc:  # EOFError: a truncated gzip
                raise InputError(str(path), f"cannot be read: {exc}") from exc
            finally:
                if bar is not None:
                    bar.close()
            stage.stage_jsonl(con, kind, max_record_bytes)
        else:
            records, orphans = flat.stage_flat(con, kind, path, turns_path)
    except duckdb.Error as exc:
        # a value DuckDB cannot read at all (a malformed CSV row deep in a file, say)
        raise InputError(str(turns_path or path), f"cannot be read: {exc}") from exc
    timings["stage"] = time.perf_counter() - mark
    mark = time.perf_counter()
    sql_counts = contract.sql_verdicts(con, kind)
    timings["contract_sql"] = time.perf_counter() - mark
    # Great Expectations validates the batch on a thread while the transaction writes; its verdict
    # is awaited before COMMIT, and a disagreement with the SQL rolls the load back.
    mark = time.perf_counter()
    frame = contract.gx_frame(con, kind)
    timings["gx_frame"] = time.perf_counter() - mark
    result = LoadResult(shown_path, load_id, "loaded", kind, fmt, records_read=records,
                        blank_lines=blank, orphan_turns=orphans, timings=timings)  # fmt: skip
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gx") as pool:
        gx_job = pool.submit(_timed, contract.validate_frame, frame, kind, shown_path, sql_counts)
        mark = time.perf_counter()
        con.execute("BEGIN TRANSACTION")
        try:
            _write(con, result, turns_path, repeat_window_days)
            timings["write"] = time.perf_counter() - mark
            mark = time.perf_counter()
            (gx_success, gx_rows), timings["contract_gx"] = gx_job.result()
            timings["gx_wait"] = time.perf_counter() - mark
            del frame
            result.contract_success = gx_success
            result.seconds = time.perf_counter() - t0
            con.execute(
                "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [load_id, shown_path, load_id, kind, fmt, started, datetime.now(UTC), result.seconds,
                 records, blank, result.records_loaded, result.records_new, result.records_replaced,
                 result.records_quarantined, result.turns_loaded, contract.SUITES[kind]["name"],
                 gx_success, json.dumps(gx_rows), json.dumps(timings)],
            )  # fmt: skip
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            gx_job.cancel()
            raise
    return result


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    return fn(*args), time.perf_counter() - t


def _write(
    con: duckdb.DuckDBPyConnection, result: LoadResult, turns_path: Path | None,
    repeat_window_days: int | None,
) -> None:  # fmt: skip
    """Everything one file writes; the caller holds the transaction."""
    load_id, kind = result.load_id, result.kind
    con.execute(
        "CREATE OR REPLACE TEMP TABLE good AS SELECT s.* FROM stg_records s "
        "JOIN verdicts v USING (_line) WHERE v.reasons IS NULL"
    )
    if kind == "conversations":
        derive.build_new_conversations(con)
        con.execute("UPDATE new_conv SET load_id = ?", [load_id])
        result.records_replaced = scalar(
            con,
            "SELECT count(*) FROM new_conv n SEMI JOIN conversations c "
            "ON c.supplier = n.supplier AND c.conversation_id = n.conversation_id",
        )
        # customers whose repeat-contact flags may change: the new records' and, when a
        # correction changed a record's customer, the one it had before
        con.execute(
            "CREATE OR REPLACE TEMP TABLE touched_customers AS "
            "SELECT customer_id FROM new_conv UNION SELECT c.customer_id FROM conversations c "
            "SEMI JOIN new_conv n ON c.supplier = n.supplier AND c.conversation_id = n.conversation_id"
        )
        con.execute(
            "DELETE FROM turns t USING new_conv n "
            "WHERE t.supplier = n.supplier AND t.conversation_id = n.conversation_id"
        )
        con.execute(
            "DELETE FROM conversations c USING new_conv n "
            "WHERE c.supplier = n.supplier AND c.conversation_id = n.conversation_id"
        )
        con.execute("INSERT INTO conversations BY NAME SELECT * FROM new_conv")
        result.turns_loaded = derive.insert_new_turns(con)
        result.records_loaded = scalar(con, "SELECT count(*) FROM new_conv")
        window = repeat_window_days
        stored = derive.stored_repeat_window(con)
        if window is None:
            window = stored if stored is not None else derive.DEFAULT_REPEAT_WINDOW_DAYS
        if stored is not None and stored != window:
            derive.refresh_repeat_contacts(con, window, customers_from=None)
        else:
            derive.refresh_repeat_contacts(con, window, customers_from="touched_customers")
        record_id = "conversation_id"
    else:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE new_kb AS
            SELECT article_id, version, title, body, updated_at, _extra AS extra,
                   sha256(to_json({'article_id': article_id, 'version': version, 'title': title,
                                   'body': body, 'updated_at': updated_at, 'extra': _extra}))
                       AS content_hash,
                   ?::VARCHAR AS load_id, _line AS source_line
            FROM good
            """,
            [load_id],
        )
        result.records_replaced = scalar(
            con,
            "SELECT count(*) FROM new_kb n SEMI JOIN kb_articles k "
            "ON k.article_id = n.article_id AND k.version = n.version",
        )
        con.execute(
            "DELETE FROM kb_articles k USING new_kb n "
            "WHERE k.article_id = n.article_id AND k.version = n.version"
        )
        con.execute("INSERT INTO kb_articles BY NAME SELECT * FROM new_kb")
        result.records_loaded = scalar(con, "SELECT count(*) FROM new_kb")
        record_id = "article_id"
    result.records_new = result.records_loaded - result.records_replaced

    supplier = "s.supplier" if kind == "conversations" else "NULL"
    flat = result.format in ("parquet", "csv")
    con.execute(
        f"""
        INSERT INTO quarantine
        SELECT ?, ?, v._line, ?, {supplier}, s.{record_id}, v.reasons, {_raw_sql(kind, flat)}
        FROM verdicts v JOIN stg_records s USING (_line) JOIN parsed p USING (_line)
        WHERE v.reasons IS NOT NULL
        ORDER BY v._line
        """,
        [load_id, result.path, kind],
    )
    result.records_quarantined = scalar(con, "SELECT count(*) FROM verdicts WHERE reasons IS NOT NULL")
    if result.orphan_turns:
        con.execute(
            """
            INSERT INTO quarantine
            SELECT ?, ?, t._turn_line, 'turn', t._turn_supplier, t.conversation_id::VARCHAR,
                   [{'field': 'conversation_id', 'rule': 'orphan_turn',
                     'message': 'no conversation ' || coalesce(t.conversation_id::VARCHAR, '(missing)')
                                || ' in the conversations file'}],
                   encode(to_json(t)::VARCHAR)
            FROM flat_turns_linked t WHERE t._rec_line IS NULL ORDER BY t._turn_line
            """,
            [result.load_id, str(turns_path)],
        )
    rows = con.execute(
        r"""
        SELECT regexp_replace(r.field, '\[\d+\]', '[]', 'g') || ': ' || r.rule AS reason, count(*) AS n
        FROM (SELECT unnest(reasons) AS r FROM verdicts WHERE reasons IS NOT NULL)
        GROUP BY 1 ORDER BY n DESC, reason
        """
    ).fetchall()
    result.reasons = {reason: n for reason, n in rows}
    if result.orphan_turns:
        result.reasons["conversation_id: orphan_turn"] = result.orphan_turns


def _raw_sql(kind: str, flat: bool) -> str:
    """The record as received: the line's bytes, or for flat files the row (and its turns)."""
    if not flat:
        return "p._raw"
    if kind == "conversations":
        return (
            "encode(to_json({'record': (SELECT r FROM flat_records r WHERE r._line = v._line), "
            "'turns': (SELECT list(t ORDER BY t.turn_index) FROM flat_turns_linked t "
            "WHERE t._rec_line = v._line)})::VARCHAR)"
        )
    return "encode(to_json((SELECT r FROM flat_records r WHERE r._line = v._line))::VARCHAR)"


def _drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every temporary table and view a load made (views first: they use the tables)."""
    rows = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_catalog = 'temp' "
        "ORDER BY table_type DESC"
    ).fetchall()
    for name, kind in rows:
        con.execute(f'DROP {"VIEW" if kind == "VIEW" else "TABLE"} IF EXISTS temp."{name}"')


def _progress_bar(path: Path, enabled: bool | None) -> Any:
    """A tqdm bar over the bytes of a large file, on stderr when it is a terminal."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if enabled is False or (enabled is None and size < 50 * 1024 * 1024):
        return None
    from tqdm import tqdm  # noqa: PLC0415

    return tqdm(
        total=size,
        unit="B",
        unit_scale=True,
        desc=path.name,
        disable=None if enabled is None else False,
    )
