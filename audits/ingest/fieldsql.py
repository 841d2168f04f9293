"""SQL that reads one declared field (fields.py) from a source and types it.

Two sources: a JSON document (`json_field`, with the field's JSON type and text extracted once
per record for all paths) and a column of a Parquet/CSV file of some SQL type (`flat_field`). Each
gives the typed value, the raw text of a timestamp (for the contract's format rule), an error
message when the value has the wrong type, and a test for "missing". `select_fields` assembles
them into SELECT lists; staging (stage.py, flat.py) runs them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from audits.ingest.fields import KIND_SQL_TYPE, RFC3339, Field

MACROS = """
CREATE OR REPLACE TEMP MACRO json_kind(t) AS CASE t
    WHEN 'VARCHAR' THEN 'a string' WHEN 'BIGINT' THEN 'an integer' WHEN 'UBIGINT' THEN 'an integer'
    WHEN 'DOUBLE' THEN 'a number' WHEN 'BOOLEAN' THEN 'a boolean' WHEN 'ARRAY' THEN 'an array'
    WHEN 'OBJECT' THEN 'an object' ELSE lower(t) END;
CREATE OR REPLACE TEMP MACRO nonempty(l) AS CASE WHEN len(l) = 0 THEN NULL ELSE l END;
CREATE OR REPLACE TEMP MACRO json_add(obj, key, value) AS CASE
    WHEN value IS NULL THEN obj
    WHEN obj IS NULL THEN ('{' || to_json(key) || ':' || value || '}')::JSON
    ELSE (left(obj::VARCHAR, -1) || ',' || to_json(key) || ':' || value || '}')::JSON END;
CREATE OR REPLACE TEMP MACRO sql_kind(t) AS CASE
    WHEN t IN ('TINYINT','SMALLINT','INTEGER','BIGINT','HUGEINT','UTINYINT','USMALLINT',
               'UINTEGER','UBIGINT') THEN 'an integer'
    WHEN t IN ('FLOAT','DOUBLE') OR t LIKE 'DECIMAL%' THEN 'a number'
    WHEN t = 'VARCHAR' THEN 'a string' WHEN t = 'BOOLEAN' THEN 'a boolean'
    ELSE lower(t) END;
"""

_EXPECTED = {
    "string": "a string",
    "string_or_integer": "a string or an integer",
    "integer": "an integer",
    "boolean": "a boolean",
    "timestamp": "an RFC 3339 timestamp string",
    "string_list": "an array of strings",
    "object": "an object",
}


def q(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------------------------------------
# Field expressions
# ---------------------------------------------------------------------------------------------


FieldSQL = tuple[str, str | None, str, str]


def json_field(f: Field, i: int, doc: str, label: str) -> FieldSQL:
    """SQL for one field read from JSON: (value, raw timestamp text or None, error, is missing).

    `i` indexes the lists `_t` (json_type of each path) and `_s` (json_extract_string of each);
    `doc` is the JSON column (for arrays and objects); `label` is SQL naming the field in messages.
    """
    t, s = f"_t[{i}]", f"_s[{i}]"
    wrong = f"{label} || {q(': expected ' + _EXPECTED[f.kind] + ', got ')} || json_kind({t})"
    raw = None
    if f.kind in ("string", "string_or_integer"):
        types = "('VARCHAR')" if f.kind == "string" else "('VARCHAR', 'BIGINT', 'UBIGINT')"
        ok = f"{t} IN {types}" + (f" AND {s} <> ''" if f.required else "")
        value = f"CASE WHEN {ok} THEN {s} END"
        if f.required:  # an empty id is no id
            wrong = f"CASE WHEN {t} = 'VARCHAR' THEN {label} || ': is empty' ELSE {wrong} END"
    elif f.kind == "integer":
        ok = f"{t} IN ('BIGINT', 'UBIGINT') AND TRY_CAST({s} AS INTEGER) IS NOT NULL"
        value = f"CASE WHEN {ok} THEN TRY_CAST({s} AS INTEGER) END"
        wrong = f"CASE WHEN {t} IN ('BIGINT', 'UBIGINT') THEN {label} || ': ' || {s} || ' is out of range' ELSE {wrong} END"
    elif f.kind == "boolean":
        ok, value = f"{t} = 'BOOLEAN'", f"CASE WHEN {t} = 'BOOLEAN' THEN {s}::BOOLEAN END"
    elif f.kind == "timestamp":
        ok = f"{t} = 'VARCHAR'"
        raw = f"CASE WHEN {t} = 'VARCHAR' THEN {s} END"
        value = (
            f"CASE WHEN regexp_matches({raw}, {q(RFC3339)}) THEN TRY_CAST(upper({raw}) AS TIMESTAMPTZ) END"
        )
        invalid = f"{label} || ': ' || {raw} || ' is not a real date and time'"
        wrong = f"CASE WHEN {t} = 'VARCHAR' THEN {invalid} ELSE {wrong} END"
        ok = f"{t} = 'VARCHAR' AND NOT (regexp_matches({raw}, {q(RFC3339)}) AND {value} IS NULL)"
    elif f.kind == "string_list":
        elem_ok = (
            f"coalesce(list_bool_and(list_transform(json_type({doc}, {q(f.json_path + '[*]')}), "
            "lambda e: e = 'VARCHAR')), true)"
        )
        ok = f"{t} = 'ARRAY' AND {elem_ok}"
        value = f"CASE WHEN {ok} THEN json_extract({doc}, {q(f.json_path)})::VARCHAR[] END"
        wrong = f"CASE WHEN {t} = 'ARRAY' THEN {label} || ': expected an array of strings' ELSE {wrong} END"
    elif f.kind == "object":
        ok = f"{t} = 'OBJECT'"
        value = f"CASE WHEN {ok} THEN json_extract({doc}, {q(f.json_path)}) END"
    else:  # pragma: no cover - fields.py is the only source of kinds
        raise ValueError(f.kind)
    error = f"CASE WHEN {t} IS NOT NULL AND {t} <> 'NULL' AND NOT ({ok}) THEN {wrong} END"
    return value, raw, error, f"({t} IS NULL OR {t} = 'NULL')"


INT_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
}  # fmt: skip


def flat_field(
    f: Field, column: str | None, sql_type: str | None, label: str, *, want_raw: bool = True
) -> FieldSQL:
    """SQL for one field read from a Parquet/CSV column of `sql_type` (None: column absent).

    `want_raw=False` skips the text form of typed timestamps (only records' timestamps need it, for
    the contract's format rule; formatting ten million turn times costs seconds).
    """
    if column is None or sql_type is None:
        typed_null = f"NULL::{KIND_SQL_TYPE[f.kind]}"
        return typed_null, ("NULL::VARCHAR" if f.kind == "timestamp" else None), "NULL::VARCHAR", "true"
    c = ident(column)
    wrong = f"{label} || {q(': expected ' + _EXPECTED[f.kind] + ', got ')} || sql_kind({q(sql_type)})"
    raw = None
    is_text = sql_type == "VARCHAR"
    nested = sql_type.endswith("]") or sql_type.startswith(("STRUCT", "MAP", "UNION"))
    if f.kind in ("string", "string_or_integer"):
        ok = "false" if nested else "true"
        if f.kind == "string_or_integer" and not (is_text or sql_type in INT_TYPES):
            ok = "false"
        if f.required and ok == "true":  # an empty id is no id
            ok = f"{c}::VARCHAR <> ''"
            wrong = f"{label} || ': is empty'"
        value = f"CASE WHEN {ok} THEN {c}::VARCHAR END"
    elif f.kind == "integer":
        if sql_type in INT_TYPES:
            value = f"TRY_CAST({c} AS INTEGER)"
        elif is_text:
            value = (
                f"CASE WHEN regexp_full_match(trim({c}), '-?[0-9]+') THEN TRY_CAST(trim({c}) AS INTEGER) END"
            )
        elif sql_type in ("FLOAT", "DOUBLE") or sql_type.startswith("DECIMAL"):
            value = f"CASE WHEN {c} = round({c}) THEN TRY_CAST({c} AS INTEGER) END"
        else:
            value = "NULL::INTEGER"
        ok = f"{value} IS NOT NULL"
    elif f.kind == "boolean":
        if sql_type == "BOOLEAN":
            value = c
        elif is_text:
            value = f"CASE lower(trim({c})) WHEN 'true' THEN true WHEN 'false' THEN false END"
        else:
            value = "NULL::BOOLEAN"
        ok = f"{value} IS NOT NULL"
    elif f.kind == "timestamp":
        if sql_type in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
            raw = f"strftime({c}, '%Y-%m-%dT%H:%M:%S.%fZ')" if want_raw else "NULL::VARCHAR"
            value, ok = c, "true"
        elif sql_type.startswith("TIMESTAMP") or sql_type == "DATE":
            # A naive timestamp has no offset: the contract's RFC 3339 rule rejects it.
            raw, value, ok = f"strftime({c}, '%Y-%m-%dT%H:%M:%S.%f')", "NULL::TIMESTAMPTZ", "true"
        elif is_text:
            raw = c
            value = (
                f"CASE WHEN regexp_matches({c}, {q(RFC3339)}) THEN TRY_CAST(upper({c}) AS TIMESTAMPTZ) END"
            )
            ok = f"NOT (regexp_matches({c}, {q(RFC3339)}) AND {value} IS NULL)"
            wrong = f"{label} || ': ' || {c} || ' is not a real date and time'"
        else:
            raw, value, ok = "NULL", "NULL::TIMESTAMPTZ", "false"
    elif f.kind == "string_list":
        if sql_type == "VARCHAR[]":
            value = c
        elif is_text:
            value = (
                f"CASE WHEN json_valid({c}) AND json_type({c}) = 'ARRAY' AND "
                f"coalesce(list_bool_and(list_transform(json_type({c}, '$[*]'), "
                f"lambda e: e = 'VARCHAR')), true) THEN {c}::JSON::VARCHAR[] END"
            )
        elif sql_type.endswith("[]"):
            value = f"TRY_CAST({c} AS VARCHAR[])"
        else:
            value = "NULL::VARCHAR[]"
        ok = f"{value} IS NOT NULL"
    elif f.kind == "object":
        if sql_type == "JSON" or is_text:
            value = f"CASE WHEN json_valid({c}) AND json_type({c}::JSON) = 'OBJECT' THEN {c}::JSON END"
        elif sql_type.startswith(("STRUCT", "MAP")):
            value = f"to_json({c})"
        else:
            value = "NULL::JSON"
        ok = f"{value} IS NOT NULL"
    else:  # pragma: no cover
        raise ValueError(f.kind)
    if is_text and f.kind not in ("string", "string_or_integer"):
        # CSV writes a missing value as an empty field.
        present = f"{c} IS NOT NULL AND trim({c}) <> ''"
        value = f"CASE WHEN {present} THEN {value} END"
        if raw is not None:
            raw = f"CASE WHEN {present} THEN {raw} END"
    else:
        present = f"{c} IS NOT NULL"
    error = f"CASE WHEN {present} AND NOT ({ok}) THEN {wrong} END"
    return value, raw, error, f"NOT ({present})"


def select_fields(fields: Iterable[tuple[Field, FieldSQL]], *, label: object = None) -> tuple[str, str, str]:
    """Columns (value and raw), the list of errors, and a cheap "has an error" test, for a SELECT.

    With `label` (a function of the field giving SQL for its name), a missing required field is
    an error here too; records leave that to the contract's not-null rules instead. The error
    list is only evaluated where a query asks for it; the test costs no string work.
    """
    cols, errors = [], []
    for f, (value, raw, error, missing) in fields:
        cols.append(f"{value} AS {ident(f.column)}")
        if raw is not None:
            cols.append(f"{raw} AS {ident(f.column + '_raw')}")
        errors.append(error)
        if f.required and callable(label):
            errors.append(f"CASE WHEN {missing} THEN {label(f)} || ': required field is missing' END")
    errs = "nonempty(list_filter([" + ", ".join(errors) + "], lambda x: x IS NOT NULL))"
    bad = "coalesce(" + " OR ".join(f"({e}) IS NOT NULL" for e in errors) + ", false)"
    return ",\n       ".join(cols), errs, bad


def extra_sql(doc: str, known: Iterable[str], key: str) -> str:
    """The keys of JSON object `doc` that are not `known`, as a JSON object (NULL when none).

    A JSON merge patch that sets the known keys to null deletes them (RFC 7396): one scalar call
    per row, no subquery.
    """
    patch = json.dumps({k: None for k in known})
    return (
        f"CASE WHEN json_type({doc}) = 'OBJECT' "
        f"THEN nullif(json_merge_patch({doc}, {q(patch)})::VARCHAR, '{{}}')::JSON END AS {key}"
    )
