"""Staging of the flattened shape: NAME.conversations + NAME.turns (Parquet or CSV).

The records file is copied into a temporary table (it is small); the turns file is only ever
read through views, by the checks and then by the final insert.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from audits.errors import InputError
from audits.ingest.fields import CONVERSATION_FIELDS, KB_FIELDS, TURN_FIELDS
from audits.ingest.fieldsql import INT_TYPES, MACROS, flat_field, ident, q, select_fields
from audits.ingest.stage import aggregate_turns, finish_records, turn_label, turn_rules_view
from audits.warehouse import scalar

# ---------------------------------------------------------------------------------------------
# Flattened Parquet / CSV
# ---------------------------------------------------------------------------------------------


GLOB_CHARACTERS = set("*?[]{}")
# Names the loader uses for its own columns: a file may not bring them.
RESERVED_COLUMNS = {"_line", "file_row_number", "_rec_line", "_turn_line", "_turn_supplier"}


def _source(path: Path) -> str:
    """The DuckDB table function reading `path`, exactly that one file, with explicit CSV rules."""
    if GLOB_CHARACTERS & set(str(path)):
        # DuckDB reads a path with these characters as a pattern: it could read other files.
        raise InputError(str(path), "file names with * ? [ ] { } cannot be read safely; rename the file")
    p = q(str(path))
    name = path.name.lower()
    if name.endswith(".parquet"):
        return f"read_parquet({p})"
    if name.endswith(".csv"):
        # RFC 4180, stated: the sniffer guesses the quote from the first rows and can alter text.
        return f"read_csv({p}, all_varchar = true, header = true, delim = ',', quote = '\"', escape = '\"')"
    raise InputError(str(path), "unknown file type; expected .jsonl, .parquet or .csv")


def _scan(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """A subquery reading `path` with a 1-based row number column `_line` (after checking names)."""
    source = _source(path)
    try:
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
    except duckdb.Error as exc:
        raise InputError(str(path), f"cannot be read: {exc}") from exc
    for name in names:
        if name in RESERVED_COLUMNS:
            raise InputError(str(path), "this column name is reserved by the loader; rename it", field=name)
    if path.name.lower().endswith(".parquet"):
        p = q(str(path))
        return (
            "(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _line "
            f"FROM read_parquet({p}, file_row_number = true))"
        )
    return f"(SELECT *, row_number() OVER () AS _line FROM {source})"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def _load_flat(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> dict[str, str]:
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {_scan(con, path)}")
    except duckdb.Error as exc:
        raise InputError(str(path), f"cannot be read: {exc}") from exc
    return _columns(con, table)


def stage_flat(
    con: duckdb.DuckDBPyConnection, kind: str, records_path: Path, turns_path: Path | None
) -> tuple[int, int]:
    """Stage a flattened file (and its turns file); return (records read, orphan turn rows)."""
    con.execute(MACROS)
    cols = _load_flat(con, records_path, "flat_records")
    fields = CONVERSATION_FIELDS if kind == "conversations" else KB_FIELDS
    for f in fields:
        if f.required and f.column not in cols:
            raise InputError(str(records_path), "required column is missing", field=f.column)
    known = {f.column for f in fields} | {"_line"}
    unknown = [c for c in cols if c not in known]
    select, errors, _ = select_fields(
        (f, flat_field(f, f.column, cols.get(f.column), q(f.path))) for f in fields
    )
    extra = (
        "to_json(struct_pack(" + ", ".join(f"{ident(c)} := {ident(c)}" for c in unknown) + "))"
        if unknown
        else "NULL::JSON"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stg_fields AS
        SELECT _line, {select}, {errors} AS _field_errors, {extra} AS _extra
        FROM flat_records
        """
    )
    orphans = 0
    if kind == "conversations":
        if turns_path is None:
            raise InputError(str(records_path), "a flattened conversations file needs its turns file")
        orphans = _stage_flat_turns(con, turns_path)
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE stg_fields2 AS
            SELECT s.*, coalesce(a.n_turns, 0) AS n_turns, tp._turn_problems
            FROM stg_fields s LEFT JOIN turn_agg a USING (_line) LEFT JOIN turn_problems tp USING (_line)
            """
        )
        con.execute("DROP TABLE stg_fields; ALTER TABLE stg_fields2 RENAME TO stg_fields")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE parsed AS "
        "SELECT _line, NULL::BLOB AS _raw, NULL::VARCHAR AS _parse_error FROM flat_records"
    )
    finish_records(con)
    return scalar(con, "SELECT count(*) FROM flat_records"), orphans


def _turn_index_sql(sql_type: str) -> str:
    """A whole number from 1 up, or NULL (which the turn rules report): never a rounded value."""
    if sql_type in INT_TYPES:
        value = "TRY_CAST(t.turn_index AS INTEGER)"
    elif sql_type == "VARCHAR":
        value = "CASE WHEN regexp_full_match(trim(t.turn_index), '[0-9]+') THEN TRY_CAST(trim(t.turn_index) AS INTEGER) END"
    else:
        value = "CASE WHEN t.turn_index = round(t.turn_index) THEN TRY_CAST(t.turn_index AS INTEGER) END"
    return f"CASE WHEN {value} >= 1 THEN {value} END"


def _stage_flat_turns(con: duckdb.DuckDBPyConnection, turns_path: Path) -> int:
    """View `stg_turns` over a flattened turns file, linked to `flat_records` by conversation id.

    The turns are not copied here: the checks and the final insert each read the file (Parquet
    scans are cheap; copying ten million texts is not).
    """
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW flat_turns AS SELECT * FROM {_scan(con, turns_path)}")
        cols = _columns(con, "flat_turns")
    except duckdb.Error as exc:
        raise InputError(str(turns_path), f"cannot be read: {exc}") from exc
    for name in ("conversation_id", "turn_index", "speaker", "text"):
        if name not in cols:
            raise InputError(str(turns_path), "required column is missing", field=name)
    flat_name = {f.path: f.path.replace(".", "_") for f in TURN_FIELDS}  # `at`, not sent_at
    known = set(flat_name.values()) | {"conversation_id", "supplier", "turn_index", "_line"}
    unknown = [c for c in cols if c not in known]
    select, errors, bad = select_fields(
        (
            (
                f,
                flat_field(f, flat_name[f.path], cols.get(flat_name[f.path]), turn_label(f), want_raw=False),
            )
            for f in TURN_FIELDS
        ),
        label=turn_label,
    )
    extra = (
        "to_json(struct_pack(" + ", ".join(f"{ident(c)} := t.{ident(c)}" for c in unknown) + "))"
        if unknown
        else "NULL::JSON"
    )
    join = "t.conversation_id::VARCHAR = r.conversation_id::VARCHAR"
    if "supplier" in cols:
        join += " AND t.supplier::VARCHAR IS NOT DISTINCT FROM r.supplier::VARCHAR"
    else:
        shared = scalar(
            con,
            "SELECT any_value(conversation_id) FROM flat_records GROUP BY conversation_id "
            "HAVING count(DISTINCT supplier) > 1 LIMIT 1",
        )
        if shared is not None:
            raise InputError(
                str(turns_path),
                f"conversation_id {shared} belongs to several suppliers, so its turns cannot be told "
                "apart: add a supplier column to the turns file",
                field="supplier",
            )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW flat_turns_linked AS
        SELECT r._line AS _rec_line, t._line AS _turn_line,
               {_turn_index_sql(cols["turn_index"])} AS turn_index,
               {"t.supplier::VARCHAR" if "supplier" in cols else "NULL::VARCHAR"} AS _turn_supplier,
               t.* EXCLUDE (_line, turn_index)
        FROM flat_turns t
        LEFT JOIN (SELECT _line, conversation_id, supplier FROM flat_records) r ON {join}
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW stg_turns_typed AS
        SELECT _rec_line AS _line, turn_index, {select}, {bad} AS _field_bad, {errors} AS _field_errs,
               {extra} AS _extra
        FROM flat_turns_linked t WHERE _rec_line IS NOT NULL
        """
    )
    turn_rules_view(con, "stg_turns_typed", "_field_bad", "_field_errs")
    aggregate_turns(con)
    return scalar(con, "SELECT count(*) FROM flat_turns_linked WHERE _rec_line IS NULL")
