"""The merge pass: what one partition cannot know, computed once over all partitions' Parquet.

    merge_partitions(out_dir, work_dir, ...) -> MergeResult

Every check in the catalogue reads only its own conversation's row and turns (`_c`, `_t`) and the KB,
which every partition holds whole, except `repeat_contact`: it fails a contact that the same
customer followed on the same journey within N days, at any supplier, and names that next contact.
Its inputs are the conversations' repeat columns (`is_repeat_contact`, `repeat_of`,
`followed_by_repeat`), which the load derives over the whole warehouse. A partition (one supplier,
one day) sees neither the customer's other suppliers nor the following days, and a look-back into
earlier days' Parquet would not do either: `followed_by_repeat` looks forward, so day d's result
changes when day d+1 arrives. So the partitions compute them provisionally, and this pass:

1. reads every partition's conversations into one DuckDB file (no turns: a few columns per
   conversation, small beside the turns),
2. recomputes the repeat columns over all of them with the load's own SQL
   (`derive.refresh_repeat_contacts`) and `repeat_contact` with the catalogue's own query
   (`run_checks(checks=["repeat_contact"])`), so both are exactly what one warehouse computes,
3. rewrites, through a temporary name and a rename, the conversations and check_results parts of
   only the partitions where anything differs (a re-run with nothing new writes nothing).

It also reports conversations present in more than one partition (a single warehouse would hold
one of them; the split never produces them, a hand-made layout can).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from audits import warehouse
from audits.checks.config import load_config
from audits.checks.run import run_checks
from audits.ingest import derive
from audits.scale.layout import MARKERS, MERGED_MARKER, PART_FILE, output_file
from audits.scale.partitions import _write_json

CROSS_PARTITION_CHECKS = ("repeat_contact",)
_REPEAT_COLUMNS = ("is_repeat_contact", "repeat_of", "followed_by_repeat")


@dataclass
class MergeResult:
    """What the merge pass found and rewrote."""

    partitions: int = 0
    conversations: int = 0
    repeat_contacts: int = 0
    repeat_contact_fails: int = 0
    rewritten: list[str] = field(default_factory=list)
    duplicates: int = 0
    duplicate_examples: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _lit(text: str | Path) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def merge_partitions(
    out_dir: str | Path,
    work_dir: str | Path,
    *,
    check_config: str | os.PathLike[str] | None = None,
    repeat_window_days: int = derive.DEFAULT_REPEAT_WINDOW_DAYS,
) -> MergeResult:
    """Recompute the cross-partition columns and checks over every partition and fix the parts."""
    t0 = time.perf_counter()
    out, work = Path(out_dir), Path(work_dir)
    result = MergeResult()
    conv_root = out / "conversations"
    parts = sorted(conv_root.glob(f"**/{PART_FILE}"))
    if not parts:
        return result
    cfg = load_config(check_config)
    db = work / "merge.duckdb"
    work.mkdir(parents=True, exist_ok=True)
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    con = warehouse.connect(db)
    try:
        mark = time.perf_counter()
        prefix = str(conv_root) + os.sep
        con.execute("ALTER TABLE conversations ADD COLUMN _part VARCHAR")
        files = "[" + ", ".join(_lit(p) for p in parts) + "]"
        con.execute(
            f"""INSERT INTO conversations BY NAME
                SELECT * EXCLUDE (filename),
                       replace(substr(filename, {len(prefix) + 1}), {_lit(os.sep + PART_FILE)}, '') AS _part
                FROM read_parquet({files}, hive_partitioning = false, filename = true)"""
        )
        con.execute(
            "CREATE TEMP TABLE _before AS SELECT _part, supplier, conversation_id, "
            + ", ".join(_REPEAT_COLUMNS)
            + " FROM conversations"
        )
        result.timings["read"] = time.perf_counter() - mark
        result.partitions = len(parts)
        result.conversations = int(warehouse.scalar(con, "SELECT count(*) FROM conversations") or 0)
        dup = con.execute(
            """SELECT supplier, conversation_id, list(_part ORDER BY _part) FROM conversations
               GROUP BY supplier, conversation_id HAVING count(*) > 1 ORDER BY supplier, conversation_id"""
        ).fetchall()
        result.duplicates = len(dup)
        result.duplicate_examples = [
            {"supplier": s, "conversation_id": c, "partitions": p} for s, c, p in dup[:10]
        ]

        mark = time.perf_counter()
        derive.refresh_repeat_contacts(con, repeat_window_days, customers_from=None)
        run_checks(con, cfg, checks=list(CROSS_PARTITION_CHECKS))
        result.timings["recompute"] = time.perf_counter() - mark
        result.repeat_contacts = int(
            warehouse.scalar(con, "SELECT count(*) FROM conversations WHERE is_repeat_contact") or 0
        )
        result.repeat_contact_fails = int(
            warehouse.scalar(
                con,
                "SELECT count(*) FROM check_results WHERE check_id = 'repeat_contact' AND outcome = 'fail'",
            )
            or 0
        )

        mark = time.perf_counter()
        changed = _changed_partitions(con, out, parts)
        for key in changed:
            _rewrite(con, out, key)
        result.rewritten = changed
        result.timings["rewrite"] = time.perf_counter() - mark
    finally:
        con.close()
        for p in (db, Path(str(db) + ".wal")):
            p.unlink(missing_ok=True)
    result.seconds = time.perf_counter() - t0
    _write_json(out / MERGED_MARKER, _marker(out, result, cfg.config_hash, repeat_window_days))
    return result


def _changed_partitions(con: duckdb.DuckDBPyConnection, out: Path, parts: list[Path]) -> list[str]:
    """Keys of the partitions whose repeat columns or cross-partition check results differ."""
    ids = "(" + ", ".join(_lit(c) for c in CROSS_PARTITION_CHECKS) + ")"
    cols = ", ".join(_REPEAT_COLUMNS)
    cr_root = out / "check_results"
    cr_prefix = str(cr_root) + os.sep
    cr_files = [cr_root / p.parent.relative_to(out / "conversations") / PART_FILE for p in parts]
    cr_list = "[" + ", ".join(_lit(p) for p in cr_files if p.exists()) + "]"
    stored = (
        f"""SELECT replace(substr(filename, {len(cr_prefix) + 1}), {_lit(os.sep + PART_FILE)}, '') AS _part,
                   supplier, conversation_id, check_id, check_version, outcome, turn, evidence
            FROM read_parquet({cr_list}, hive_partitioning = false, filename = true)
            WHERE check_id IN {ids}"""
        if cr_list != "[]"
        else "SELECT _part, supplier, conversation_id, NULL::VARCHAR AS check_id, NULL::VARCHAR AS check_version, "
        "NULL::VARCHAR AS outcome, NULL::INTEGER AS turn, NULL::VARCHAR AS evidence FROM conversations LIMIT 0"
    )
    fresh = (
        "SELECT c._part, r.supplier, r.conversation_id, r.check_id, r.check_version, r.outcome, r.turn, r.evidence "
        "FROM check_results r JOIN conversations c USING (supplier, conversation_id)"
    )
    rows = con.execute(
        f"""
        SELECT _part FROM (SELECT _part, supplier, conversation_id, {cols} FROM conversations
                           EXCEPT SELECT _part, supplier, conversation_id, {cols} FROM _before)
        UNION SELECT _part FROM (({fresh}) EXCEPT ({stored}))
        UNION SELECT _part FROM (({stored}) EXCEPT ({fresh}))
        ORDER BY _part
        """
    ).fetchall()
    return [str(r[0]) for r in rows]


def _rewrite(con: duckdb.DuckDBPyConnection, out: Path, key: str) -> None:
    """Write a partition's conversations and check_results again with the merged values."""
    conv = output_file(out, "conversations", key)
    cr = output_file(out, "check_results", key)
    ids = "(" + ", ".join(_lit(c) for c in CROSS_PARTITION_CHECKS) + ")"
    jobs = (
        (
            f"SELECT * EXCLUDE (_part) FROM conversations WHERE _part = {_lit(key)} "
            "ORDER BY supplier, conversation_id",
            conv,
        ),
        (
            f"""SELECT * FROM (
                    SELECT * FROM read_parquet({_lit(cr)}, hive_partitioning = false) WHERE check_id NOT IN {ids}
                    UNION ALL
                    SELECT r.* FROM check_results r JOIN conversations c USING (supplier, conversation_id)
                    WHERE c._part = {_lit(key)})
                ORDER BY supplier, conversation_id, check_id""",
            cr,
        ),
    )
    for query, target in jobs:
        tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
        try:
            con.execute(f"COPY ({query}) TO {_lit(tmp)} (FORMAT parquet)")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)


def _marker(out: Path, result: MergeResult, config_hash: str, window: int) -> dict[str, Any]:
    """What the merge covered: each partition's fingerprint at the time, the window and configuration."""
    fingerprints: dict[str, str] = {}
    for m in sorted((out / MARKERS).glob("*.json")):
        try:
            data = json.loads(m.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        fingerprints[str(data.get("key"))] = str(data.get("fingerprint"))
    return {
        "partitions": fingerprints,
        "repeat_window_days": window,
        "config_hash": config_hash,
        "result": result.to_dict(),
    }
