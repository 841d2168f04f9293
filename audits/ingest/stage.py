"""Staging: a file's records into temporary tables, typed, with each problem noted per record.

Two shapes arrive here:
- nested JSON lines (`stage_jsonl_lines`): one record per line, turns inside;
- flattened tables (`stage_flat`): Parquet or CSV, conversations and turns in separate files.

Both end in the same temporary tables, so the contract and the load never care which it was:

    stg_records  one row per record: _line, _raw (only kept for the rejected), _parse_error,
                 the declared fields typed (fields.py), <timestamp>_raw strings, _field_errors
                 (list of "field: message"), _extra (unknown keys), and for conversations
                 n_turns and _turn_problems aggregated from the turns
    stg_turns    one row per turn: _line of its record, turn_index, the turn fields, _extra

All work is set-based SQL in DuckDB; Python only cuts the file into lines.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from audits.errors import InputError
from audits.ingest.fields import (
    CONVERSATION_FIELDS,
    CONVERSATION_KEYS,
    KB_FIELDS,
    KB_KEYS,
    KIND_SQL_TYPE,
    NESTED_OBJECTS,
    RFC3339,
    SPEAKERS,
    TURN_FIELDS,
    TURN_KEYS,
    Field,
)
from audits.warehouse import scalar

CHUNK_LINES = 50_000
DEFAULT_MAX_RECORD_BYTES = 32 * 1024 * 1024

_MACROS = """
CREATE OR REPLACE TEMP MACRO json_kind(t) AS CASE t
    WHEN 'VARCHAR' THEN 'a string' WHEN 'BIGINT' THEN 'an integer' WHEN 'UBIGINT' THEN 'an integer'
    WHEN 'DOUBLE' THEN 'a number' WHEN 'BOOLEAN' THEN 'a boolean' WHEN 'ARRAY' THEN 'an array'
    WHEN 'OBJECT' THEN 'an object' ELSE lower(t) END;
CREATE OR REPLACE TEMP MACRO nonempty(l) AS CASE WHEN len(l) = 0 THEN NULL ELSE l END;
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


def _q(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------------------------------------
# Field expressions
# ---------------------------------------------------------------------------------------------


FieldSQL = tuple[str, str | None, str, str]


def _json_field(f: Field, i: int, doc: str, label: str) -> FieldSQL:
    """SQL for one field read from JSON: (value, raw timestamp text or None, error, is missing).

    `i` indexes the lists `_t` (json_type of each path) and `_s` (json_extract_string of each);
    `doc` is the JSON column (for arrays and objects); `label` is SQL naming the field in messages.
    """
    t, s = f"_t[{i}]", f"_s[{i}]"
    wrong = f"{label} || {_q(': expected ' + _EXPECTED[f.kind] + ', got ')} || json_kind({t})"
    raw = None
    if f.kind == "string":
        ok, value = f"{t} = 'VARCHAR'", f"CASE WHEN {t} = 'VARCHAR' THEN {s} END"
    elif f.kind == "string_or_integer":
        ok = f"{t} IN ('VARCHAR', 'BIGINT', 'UBIGINT')"
        value = f"CASE WHEN {ok} THEN {s} END"
    elif f.kind == "integer":
        ok = f"{t} IN ('BIGINT', 'UBIGINT') AND TRY_CAST({s} AS INTEGER) IS NOT NULL"
        value = f"CASE WHEN {ok} THEN TRY_CAST({s} AS INTEGER) END"
    elif f.kind == "boolean":
        ok, value = f"{t} = 'BOOLEAN'", f"CASE WHEN {t} = 'BOOLEAN' THEN {s}::BOOLEAN END"
    elif f.kind == "timestamp":
        ok = f"{t} = 'VARCHAR'"
        raw = f"CASE WHEN {t} = 'VARCHAR' THEN {s} END"
        value = f"CASE WHEN regexp_matches({raw}, {_q(RFC3339)}) THEN TRY_CAST({raw} AS TIMESTAMPTZ) END"
        invalid = f"{label} || ': ' || {raw} || ' is not a real date and time'"
        wrong = f"CASE WHEN {t} = 'VARCHAR' THEN {invalid} ELSE {wrong} END"
        ok = f"{t} = 'VARCHAR' AND NOT (regexp_matches({raw}, {_q(RFC3339)}) AND {value} IS NULL)"
    elif f.kind == "string_list":
        elem_ok = (
            f"coalesce(list_bool_and(list_transform(json_type({doc}, {_q(f.json_path + '[*]')}), "
            "lambda e: e = 'VARCHAR')), true)"
        )
        ok = f"{t} = 'ARRAY' AND {elem_ok}"
        value = f"CASE WHEN {ok} THEN json_extract({doc}, {_q(f.json_path)})::VARCHAR[] END"
        wrong = f"CASE WHEN {t} = 'ARRAY' THEN {label} || ': expected an array of strings' ELSE {wrong} END"
    elif f.kind == "object":
        ok = f"{t} = 'OBJECT'"
        value = f"CASE WHEN {ok} THEN json_extract({doc}, {_q(f.json_path)}) END"
    else:  # pragma: no cover - fields.py is the only source of kinds
        raise ValueError(f.kind)
    error = f"CASE WHEN {t} IS NOT NULL AND {t} <> 'NULL' AND NOT ({ok}) THEN {wrong} END"
    return value, raw, error, f"({t} IS NULL OR {t} = 'NULL')"


_INT_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
}  # fmt: skip


def _flat_field(
    f: Field, column: str | None, sql_type: str | None, label: str, *, want_raw: bool = True
) -> FieldSQL:
    """SQL for one field read from a Parquet/CSV column of `sql_type` (None: column absent).

    `want_raw=False` skips the text form of typed timestamps (only records' timestamps need it, for
    the contract's format rule; formatting ten million turn times costs seconds).
    """
    if column is None or sql_type is None:
        typed_null = f"NULL::{KIND_SQL_TYPE[f.kind]}"
        return typed_null, ("NULL::VARCHAR" if f.kind == "timestamp" else None), "NULL::VARCHAR", "true"
    c = _ident(column)
    wrong = f"{label} || {_q(': expected ' + _EXPECTED[f.kind] + ', got ')} || sql_kind({_q(sql_type)})"
    raw = None
    is_text = sql_type == "VARCHAR"
    nested = sql_type.endswith("]") or sql_type.startswith(("STRUCT", "MAP", "UNION"))
    if f.kind in ("string", "string_or_integer"):
        ok = "false" if nested else "true"
        if f.kind == "string_or_integer" and not (is_text or sql_type in _INT_TYPES):
            ok = "false"
        value = f"CASE WHEN {ok} THEN {c}::VARCHAR END"
    elif f.kind == "integer":
        if sql_type in _INT_TYPES:
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
            value = f"CASE WHEN regexp_matches({c}, {_q(RFC3339)}) THEN TRY_CAST({c} AS TIMESTAMPTZ) END"
            ok = f"NOT (regexp_matches({c}, {_q(RFC3339)}) AND {value} IS NULL)"
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


def _select_fields(fields: Iterable[tuple[Field, FieldSQL]], *, label: object = None) -> tuple[str, str, str]:
    """Columns (value and raw), the list of errors, and a cheap "has an error" test, for a SELECT.

    With `label` (a function of the field giving SQL for its name), a missing required field is
    an error here too; records leave that to the contract's not-null rules instead. The error
    list is only evaluated where a query asks for it; the test costs no string work.
    """
    cols, errors = [], []
    for f, (value, raw, error, missing) in fields:
        cols.append(f"{value} AS {_ident(f.column)}")
        if raw is not None:
            cols.append(f"{raw} AS {_ident(f.column + '_raw')}")
        errors.append(error)
        if f.required and callable(label):
            errors.append(f"CASE WHEN {missing} THEN {label(f)} || ': required field is missing' END")
    errs = "nonempty(list_filter([" + ", ".join(errors) + "], lambda x: x IS NOT NULL))"
    bad = "coalesce(" + " OR ".join(f"({e}) IS NOT NULL" for e in errors) + ", false)"
    return ",\n       ".join(cols), errs, bad


def _extra_sql(doc: str, known: Iterable[str], key: str) -> str:
    """A correlated subquery: the keys of JSON `doc` that are not `known`, as a JSON object."""
    known_list = ", ".join(_q(k) for k in known)
    return (
        f"(SELECT json_group_object(e.key, e.value) FROM json_each({doc}) e "
        f"WHERE e.key NOT IN ({known_list}) HAVING count(*) > 0) AS {key}"
    )


# ---------------------------------------------------------------------------------------------
# JSON lines
# ---------------------------------------------------------------------------------------------


def iter_file_lines(path: Path, chunk_bytes: int = 64 * 1024 * 1024) -> Iterator[bytes]:
    """Lines of a (possibly gzipped) file as bytes, without their line endings."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        assert isinstance(fh, io.BufferedIOBase | gzip.GzipFile)
        rest = b""
        first = True
        while True:
            block = fh.read(chunk_bytes)
            if not block:
                break
            if first:
                block = block.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte order mark
                first = False
            parts = (rest + block).split(b"\n")
            rest = parts.pop()
            for line in parts:
                yield line.removesuffix(b"\r")
        if rest:
            yield rest.removesuffix(b"\r")


def read_lines_table(
    con: duckdb.DuckDBPyConnection,
    lines: Iterable[bytes],
    *,
    progress: object | None = None,
) -> tuple[int, int]:
    """Fill temp table `src(_line, _raw)` with the non-blank lines; return (records, blank lines)."""
    con.execute("CREATE OR REPLACE TEMP TABLE src (_line BIGINT, _raw BLOB)")
    records = blank = 0
    numbers: list[int] = []
    raws: list[bytes] = []

    def flush() -> None:
        if not raws:
            return
        batch = pa.table({"_line": pa.array(numbers, pa.int64()), "_raw": pa.array(raws, pa.binary())})
        con.register("_src_batch", batch)
        con.execute("INSERT INTO src SELECT * FROM _src_batch")
        con.unregister("_src_batch")
        numbers.clear()
        raws.clear()

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            blank += 1
            continue
        numbers.append(number)
        raws.append(line)
        records += 1
        if progress is not None:
            progress.update(len(line) + 1)  # type: ignore[attr-defined]
        if len(raws) >= CHUNK_LINES:
            flush()
    flush()
    return records, blank


def stage_jsonl(con: duckdb.DuckDBPyConnection, kind: str, max_record_bytes: int) -> None:
    """From temp table `src`, build `stg_records` (and `stg_turns` for conversations)."""
    con.execute(_MACROS)
    fields = CONVERSATION_FIELDS if kind == "conversations" else KB_FIELDS
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE parsed AS
        SELECT _line, _raw, j,
               CASE WHEN octet_length(_raw) > {int(max_record_bytes)}
                        THEN 'record is ' || octet_length(_raw) || ' bytes, over the limit of '
                             || {int(max_record_bytes)} || ' (raise --max-record-bytes)'
                    WHEN j IS NULL THEN 'not valid UTF-8'
                    WHEN NOT json_valid(j) THEN 'malformed JSON'
                    WHEN json_type(j) <> 'OBJECT' THEN 'not a JSON object, but ' || json_kind(json_type(j))
               END AS _parse_error
        FROM (SELECT _line, _raw,
                     CASE WHEN octet_length(_raw) <= {int(max_record_bytes)} THEN TRY(decode(_raw)) END AS j
              FROM src)
        """
    )
    _explain_parse_errors(con)
    paths = [f.json_path for f in fields]
    extra_paths = ["$.turns"] if kind == "conversations" else []
    all_paths = "[" + ", ".join(_q(p) for p in paths + extra_paths) + "]"
    select, errors, _ = _select_fields(
        (f, _json_field(f, i + 1, "j", _q(f.path))) for i, f in enumerate(fields)
    )
    known = CONVERSATION_KEYS if kind == "conversations" else KB_KEYS
    extras = [_extra_sql("j", known, "_extra")]
    if kind == "conversations":
        # unknown keys inside the known nested objects are kept under their object's name
        for obj, keys in NESTED_OBJECTS.items():
            extras.append(_extra_sql(f"json_extract(j, {_q('$.' + obj)})", keys, f"_extra_{obj}"))
        turns_i = len(paths) + 1
        extras.append(f"_t[{turns_i}] AS _turns_type")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stg_fields AS
        SELECT _line, {select},
               {errors} AS _field_errors,
               {", ".join(extras)}
        FROM (SELECT _line, j, json_type(j, {all_paths}) AS _t, json_extract_string(j, {all_paths}) AS _s
              FROM parsed WHERE _parse_error IS NULL)
        """
    )
    if kind == "conversations":
        _stage_json_turns(con)
        turns_error = (
            "CASE WHEN s._turns_type IS NOT NULL AND s._turns_type NOT IN ('ARRAY', 'NULL') "
            "THEN 'turns: expected an array, got ' || json_kind(s._turns_type) END"
        )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE stg_fields2 AS
            SELECT s.* EXCLUDE (_extra, _extra_automation, _extra_escalation, _field_errors),
                   nonempty(list_filter(list_concat(s._field_errors, [{turns_error}]),
                                        lambda x: x IS NOT NULL)) AS _field_errors,
                   CASE WHEN s._extra IS NULL AND s._extra_automation IS NULL
                             AND s._extra_escalation IS NULL THEN NULL
                        ELSE json_merge_patch(coalesce(s._extra, '{{}}'),
                             CASE WHEN s._extra_automation IS NULL THEN '{{}}'
                                  ELSE json_object('automation', s._extra_automation) END,
                             CASE WHEN s._extra_escalation IS NULL THEN '{{}}'
                                  ELSE json_object('escalation', s._extra_escalation) END)
                   END AS _extra,
                   CASE WHEN s._turns_type IS NULL OR s._turns_type = 'NULL' THEN NULL
                        ELSE coalesce(a.n_turns, 0) END AS n_turns,
                   tp._turn_problems
            FROM stg_fields s LEFT JOIN turn_agg a USING (_line) LEFT JOIN turn_problems tp USING (_line)
            """
        )
        con.execute("DROP TABLE stg_fields; ALTER TABLE stg_fields2 RENAME TO stg_fields")
    _finish_records(con)


MAX_EXPLAINED = 10_000


def _explain_parse_errors(con: duckdb.DuckDBPyConnection) -> None:
    """Say where a line breaks: the JSON parser's message, or the first byte that is not UTF-8.

    Only unreadable lines come here (at most MAX_EXPLAINED of them; the rest keep the short
    reason), so a Python pass over them costs nothing on good data.
    """
    rows = con.execute(
        "SELECT _line, _raw FROM parsed WHERE _parse_error IN ('malformed JSON', 'not valid UTF-8') "
        f"ORDER BY _line LIMIT {MAX_EXPLAINED}"
    ).fetchall()
    details = []
    for line, raw in rows:
        try:
            json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            details.append((line, f"not valid UTF-8: byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"))
        except ValueError as exc:
            details.append((line, f"malformed JSON: {exc}"))
    if details:
        batch = pa.table({"_line": [d[0] for d in details], "detail": [d[1] for d in details]})
        con.register("_parse_details", batch)
        con.execute(
            "UPDATE parsed SET _parse_error = d.detail FROM _parse_details d WHERE parsed._line = d._line"
        )
        con.unregister("_parse_details")


def _stage_json_turns(con: duckdb.DuckDBPyConnection) -> None:
    """`stg_turns` from the `turns` arrays of the parsed records, then `turn_agg` per record."""
    paths = "[" + ", ".join(_q(f.json_path) for f in TURN_FIELDS) + "]"
    fields = ((f, _json_field(f, i + 1, "tj", _turn_label(f))) for i, f in enumerate(TURN_FIELDS))
    select, errors, _ = _select_fields(fields, label=_turn_label)
    not_object = "CASE WHEN tt <> 'OBJECT' THEN 'turns[' || turn_index || ']: expected an object, got ' || json_kind(tt) END"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stg_turns_typed AS
        SELECT _line, turn_index, {select},
               nonempty(list_filter(list_concat([{not_object}], coalesce({errors}, [])),
                                    lambda x: x IS NOT NULL)) AS _field_errs,
               {_extra_sql("tj", TURN_KEYS, "_extra")}
        FROM (SELECT p._line, e.key::INTEGER + 1 AS turn_index, e.value AS tj, e.type AS tt,
                     json_type(e.value, {paths}) AS _t, json_extract_string(e.value, {paths}) AS _s
              FROM parsed p, json_each(p.j, '$.turns') e
              WHERE p._parse_error IS NULL AND json_type(p.j, '$.turns') = 'ARRAY')
        """
    )
    _turn_rules_view(con, "stg_turns_typed", "_field_errs IS NOT NULL", "_field_errs")
    _aggregate_turns(con)


def _turn_label(f: Field) -> str:
    return "'turns[' || turn_index || ']." + f.path + "'"


def _turn_rules_view(con: duckdb.DuckDBPyConnection, source: str, field_bad: str, field_errs: str) -> None:
    """View `stg_turns`: `source` plus the turn rules, as a cheap `_bad` flag and lazy messages."""
    speakers = ", ".join(_q(s) for s in SPEAKERS)
    rules = [
        (f"speaker NOT IN ({speakers})",
         f"'turns[' || turn_index || '].speaker: ' || speaker || ' is not one of {', '.join(SPEAKERS)}'"),
        ("trim(text) = ''", "'turns[' || turn_index || '].text: is empty'"),
        (f"sent_at_raw IS NOT NULL AND NOT regexp_matches(sent_at_raw, {_q(RFC3339)})",
         "'turns[' || turn_index || '].at: ' || sent_at_raw || ' is not an RFC 3339 timestamp with a UTC offset'"),
    ]  # fmt: skip
    bad = " OR ".join(f"coalesce({cond}, false)" for cond, _ in rules)
    messages = ", ".join(f"CASE WHEN {cond} THEN {msg} END" for cond, msg in rules)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW stg_turns AS
        SELECT *, ({field_bad}) OR {bad} AS _bad,
               list_filter(list_concat(coalesce({field_errs}, []), [{messages}]), lambda x: x IS NOT NULL)
                   AS _turn_errors
        FROM {source}
        """
    )


# A turn's content, unambiguously: a JSON array of its short fields, the text's length, the text.
# A record's turns hash is one SHA-256 over its turns' contents sorted (the turn index is in each,
# so sorting loses nothing) and joined: cheaper than a hash per turn or an ordered aggregate.
TURN_CONTENT = (
    "to_json([turn_index::VARCHAR, speaker, epoch_us(sent_at)::VARCHAR, to_json(kb_article_ids)::VARCHAR, "
    "action, _extra::VARCHAR]) || length(text) || ':' || coalesce(text, '')"
)


def _aggregate_turns(con: duckdb.DuckDBPyConnection) -> None:
    """`turn_agg`: per record, in one pass over the turns, everything the load needs from them.

    n_turns and counts per speaker, first response time, a hash of the turns (TURN_CONTENT), and
    whether any turn rule is broken. `turn_problems` then holds the messages of every broken rule,
    computed only for the records that have one.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE turn_agg AS
        SELECT _line, n_turns, n_customer_turns, n_ai_agent_turns, n_human_agent_turns, n_system_turns,
               epoch(list_min(list_filter(agent_times, lambda x: x >= first_customer_at)) - first_customer_at)
                   AS first_response_seconds,
               sha256(array_to_string(list_sort(turn_contents), chr(30))) AS turns_hash,
               any_bad OR index_bad OR times <> list_sort(times) AS has_problem
        FROM (
            SELECT _line, count(*)::INTEGER AS n_turns,
                   count_if(speaker = 'customer')::INTEGER AS n_customer_turns,
                   count_if(speaker = 'ai_agent')::INTEGER AS n_ai_agent_turns,
                   count_if(speaker = 'human_agent')::INTEGER AS n_human_agent_turns,
                   count_if(speaker = 'system')::INTEGER AS n_system_turns,
                   min(sent_at) FILTER (WHERE speaker = 'customer') AS first_customer_at,
                   list(sent_at) FILTER (WHERE speaker IN ('ai_agent', 'human_agent')) AS agent_times,
                   bool_or(_bad) AS any_bad,
                   count(turn_index) <> count(*) OR count(DISTINCT turn_index) <> count(*) AS index_bad,
                   list_filter(list_transform(list_sort(list({{'i': turn_index, 't': sent_at}})),
                                              lambda x: x.t), lambda t: t IS NOT NULL) AS times,
                   list({TURN_CONTENT}) AS turn_contents
            FROM stg_turns GROUP BY _line
        )
        """
    )
    # Messages, for the few records that break a turn rule.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE turn_problems AS
        SELECT _line, nonempty(flatten(list(problems ORDER BY turn_index NULLS FIRST))) AS _turn_problems
        FROM (
            SELECT _line, turn_index, list_filter(list_concat(_turn_errors, [
                CASE WHEN turn_index IS NULL OR count(*) OVER (PARTITION BY _line, turn_index) > 1
                     THEN 'turns: turn_index ' || coalesce(turn_index::VARCHAR, 'missing')
                          || ' is missing or repeated' END,
                CASE WHEN sent_at < prev_at
                     THEN 'turns[' || turn_index || '].at: ' || strftime(sent_at, '%Y-%m-%dT%H:%M:%SZ')
                          || ' is earlier than the turn before it ('
                          || strftime(prev_at, '%Y-%m-%dT%H:%M:%SZ') || ')' END
            ]), lambda x: x IS NOT NULL) AS problems
            FROM (SELECT *, max(sent_at) OVER (PARTITION BY _line ORDER BY turn_index
                                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_at
                  FROM stg_turns WHERE _line IN (SELECT _line FROM turn_agg WHERE has_problem))
        )
        GROUP BY _line
        """
    )


def _finish_records(con: duckdb.DuckDBPyConnection) -> None:
    """`stg_records`: every record, parsed or not, with its fields where it could be read."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE stg_records AS
        SELECT p._line, p._parse_error, f.* EXCLUDE (_line)
        FROM parsed p LEFT JOIN stg_fields f USING (_line)
        """
    )


# ---------------------------------------------------------------------------------------------
# Flattened Parquet / CSV
# ---------------------------------------------------------------------------------------------


def _scan(path: Path) -> str:
    """A DuckDB table function reading `path` with a 1-based row number column `_line`."""
    p = _q(str(path))
    if path.suffix == ".parquet":
        return f"(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _line FROM read_parquet({p}, file_row_number = true))"
    if path.suffix in (".csv", ".gz"):
        return (
            f"(SELECT *, row_number() OVER () AS _line FROM read_csv({p}, all_varchar = true, header = true))"
        )
    raise InputError(str(path), "unknown file type; expected .jsonl, .parquet or .csv")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def _load_flat(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> dict[str, str]:
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {_scan(path)}")
    except duckdb.Error as exc:
        raise InputError(str(path), f"cannot be read: {exc}") from exc
    return _columns(con, table)


def stage_flat(
    con: duckdb.DuckDBPyConnection, kind: str, records_path: Path, turns_path: Path | None
) -> tuple[int, int]:
    """Stage a flattened file (and its turns file); return (records read, orphan turn rows)."""
    con.execute(_MACROS)
    cols = _load_flat(con, records_path, "flat_records")
    fields = CONVERSATION_FIELDS if kind == "conversations" else KB_FIELDS
    for f in fields:
        if f.required and f.column not in cols:
            raise InputError(str(records_path), "required column is missing", field=f.column)
    known = {f.column for f in fields} | {"_line"}
    unknown = [c for c in cols if c not in known]
    select, errors, _ = _select_fields(
        (f, _flat_field(f, f.column, cols.get(f.column), _q(f.path))) for f in fields
    )
    extra = (
        "to_json(struct_pack(" + ", ".join(f"{_ident(c)} := {_ident(c)}" for c in unknown) + "))"
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
    _finish_records(con)
    return scalar(con, "SELECT count(*) FROM flat_records"), orphans


def _stage_flat_turns(con: duckdb.DuckDBPyConnection, turns_path: Path) -> int:
    """View `stg_turns` over a flattened turns file, linked to `flat_records` by conversation id.

    The turns are not copied here: the checks and the final insert each read the file (Parquet
    scans are cheap; copying ten million texts is not).
    """
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW flat_turns AS SELECT * FROM {_scan(turns_path)}")
        cols = _columns(con, "flat_turns")
    except duckdb.Error as exc:
        raise InputError(str(turns_path), f"cannot be read: {exc}") from exc
    for name in ("conversation_id", "turn_index", "speaker", "text"):
        if name not in cols:
            raise InputError(str(turns_path), "required column is missing", field=name)
    flat_name = {f.path: f.path.replace(".", "_") for f in TURN_FIELDS}  # `at`, not sent_at
    known = set(flat_name.values()) | {"conversation_id", "supplier", "turn_index", "_line"}
    unknown = [c for c in cols if c not in known]
    select, errors, bad = _select_fields(
        (
            (
                f,
                _flat_field(
                    f, flat_name[f.path], cols.get(flat_name[f.path]), _turn_label(f), want_raw=False
                ),
            )
            for f in TURN_FIELDS
        ),
        label=_turn_label,
    )
    extra = (
        "to_json(struct_pack(" + ", ".join(f"{_ident(c)} := t.{_ident(c)}" for c in unknown) + "))"
        if unknown
        else "NULL::JSON"
    )
    join = "t.conversation_id::VARCHAR = r.conversation_id::VARCHAR"
    if "supplier" in cols:
        join += " AND t.supplier::VARCHAR IS NOT DISTINCT FROM r.supplier::VARCHAR"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW flat_turns_linked AS
        SELECT r._line AS _rec_line, t._line AS _turn_line,
               TRY_CAST(t.turn_index AS INTEGER) AS turn_index,
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
    _turn_rules_view(con, "stg_turns_typed", "_field_bad", "_field_errs")
    _aggregate_turns(con)
    return scalar(con, "SELECT count(*) FROM flat_turns_linked WHERE _rec_line IS NULL")
