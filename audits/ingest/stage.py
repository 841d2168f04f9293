"""Staging: a file's records into temporary tables, typed, with each problem noted per record.

This module stages JSON lines (`stage_jsonl`) and holds what both shapes share: the turn rules
and the one aggregate pass over turns. `flat.py` stages the flattened Parquet/CSV shape into the
same tables, so the contract and the write never care which it was:

    stg_records  one row per record: _line, _parse_error, the declared fields typed (fields.py),
                 <timestamp>_raw strings, _field_errors (list of "field: message"), _extra
                 (unknown keys), and for conversations n_turns and _turn_problems
    stg_turns    one row per turn: _line of its record, turn_index, the turn fields, _extra,
                 _bad (a cheap "breaks a rule") and _turn_errors (messages, computed on demand)
    turn_agg     one row per record with turns: counts, first response time, turns hash

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

from audits.ingest.fields import (
    CONVERSATION_FIELDS,
    CONVERSATION_KEYS,
    KB_FIELDS,
    KB_KEYS,
    NESTED_OBJECTS,
    RFC3339,
    SPEAKERS,
    TURN_FIELDS,
    TURN_KEYS,
    Field,
)
from audits.ingest.fieldsql import MACROS, extra_sql, json_field, q, select_fields

CHUNK_LINES = 50_000
CHUNK_BYTES = 64 * 1024 * 1024  # a batch of lines is handed to DuckDB at whichever comes first
DEFAULT_MAX_RECORD_BYTES = 32 * 1024 * 1024

# ---------------------------------------------------------------------------------------------
# JSON lines
# ---------------------------------------------------------------------------------------------


def iter_file_lines(path: Path, chunk_bytes: int = 64 * 1024 * 1024) -> Iterator[bytes]:
    """Lines of a (possibly gzipped) file as bytes, without their line endings."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
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
    records = blank = pending = 0
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
        pending += len(line)
        if len(raws) >= CHUNK_LINES or pending >= CHUNK_BYTES:
            flush()
            pending = 0
    flush()
    return records, blank


def stage_jsonl(con: duckdb.DuckDBPyConnection, kind: str, max_record_bytes: int) -> None:
    """From temp table `src`, build `stg_records` (and `stg_turns` for conversations)."""
    con.execute(MACROS)
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
    extra_paths = ["$.turns", "$.automation", "$.escalation"] if kind == "conversations" else []
    all_paths = "[" + ", ".join(q(p) for p in paths + extra_paths) + "]"
    select, errors, _ = select_fields((f, json_field(f, i + 1, "j", q(f.path))) for i, f in enumerate(fields))
    known = CONVERSATION_KEYS if kind == "conversations" else KB_KEYS
    extras = [extra_sql("j", known, "_extra")]
    if kind == "conversations":
        # unknown keys inside the known nested objects are kept under their object's name
        for obj, keys in NESTED_OBJECTS.items():
            extras.append(extra_sql(f"json_extract(j, {q('$.' + obj)})", keys, f"_extra_{obj}"))
        turns_i = len(paths) + 1
        extras.append(f"_t[{turns_i}] AS _turns_type")
        extras.append(f"_t[{turns_i + 1}] AS _automation_type")
        extras.append(f"_t[{turns_i + 2}] AS _escalation_type")
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
        container_errors = ", ".join(
            f"CASE WHEN s._{name}_type IS NOT NULL AND s._{name}_type NOT IN ('{want}', 'NULL') "
            f"THEN '{name}: expected {article} {word}, got ' || json_kind(s._{name}_type) END"
            for name, want, article, word in (
                ("turns", "ARRAY", "an", "array"),
                ("automation", "OBJECT", "an", "object"),
                ("escalation", "OBJECT", "an", "object"),
            )
        )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE stg_fields2 AS
            SELECT s.* EXCLUDE (_extra, _extra_automation, _extra_escalation, _field_errors,
                                _automation_type, _escalation_type),
                   nonempty(list_filter(list_concat(s._field_errors, [{container_errors}]),
                                        lambda x: x IS NOT NULL)) AS _field_errors,
                   json_add(json_add(s._extra, 'automation', s._extra_automation),
                            'escalation', s._extra_escalation) AS _extra,
                   CASE WHEN s._turns_type IS NULL OR s._turns_type = 'NULL' THEN NULL
                        ELSE coalesce(a.n_turns, 0) END AS n_turns,
                   tp._turn_problems
            FROM stg_fields s LEFT JOIN turn_agg a USING (_line) LEFT JOIN turn_problems tp USING (_line)
            """
        )
        con.execute("DROP TABLE stg_fields; ALTER TABLE stg_fields2 RENAME TO stg_fields")
    finish_records(con)


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
    paths = "[" + ", ".join(q(f.json_path) for f in TURN_FIELDS) + "]"
    fields = ((f, json_field(f, i + 1, "tj", turn_label(f))) for i, f in enumerate(TURN_FIELDS))
    select, errors, _ = select_fields(fields, label=turn_label)
    not_object = "CASE WHEN tt <> 'OBJECT' THEN 'turns[' || turn_index || ']: expected an object, got ' || json_kind(tt) END"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stg_turns_typed AS
        SELECT _line, turn_index, {select},
               nonempty(list_filter(list_concat([{not_object}], coalesce({errors}, [])),
                                    lambda x: x IS NOT NULL)) AS _field_errs,
               {extra_sql("tj", TURN_KEYS, "_extra")}
        FROM (SELECT p._line, e.key::INTEGER + 1 AS turn_index, e.value AS tj, e.type AS tt,
                     json_type(e.value, {paths}) AS _t, json_extract_string(e.value, {paths}) AS _s
              FROM parsed p, json_each(p.j, '$.turns') e
              WHERE p._parse_error IS NULL AND json_type(p.j, '$.turns') = 'ARRAY')
        """
    )
    turn_rules_view(con, "stg_turns_typed", "_field_errs IS NOT NULL", "_field_errs")
    aggregate_turns(con)


def turn_label(f: Field) -> str:
    return "'turns[' || turn_index || ']." + f.path + "'"


def turn_rules_view(con: duckdb.DuckDBPyConnection, source: str, field_bad: str, field_errs: str) -> None:
    """View `stg_turns`: `source` plus the turn rules, as a cheap `_bad` flag and lazy messages."""
    speakers = ", ".join(q(s) for s in SPEAKERS)
    rules = [
        (f"speaker NOT IN ({speakers})",
         f"'turns[' || turn_index || '].speaker: ' || speaker || ' is not one of {', '.join(SPEAKERS)}'"),
        # blank: empty, or only white space (the first character decides cheaply for most texts)
        ("text = '' OR (regexp_full_match(text[1], '\\s') AND NOT regexp_matches(text, '\\S'))",
         "'turns[' || turn_index || '].text: is empty'"),
        (f"sent_at_raw IS NOT NULL AND NOT regexp_matches(sent_at_raw, {q(RFC3339)})",
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


def aggregate_turns(con: duckdb.DuckDBPyConnection) -> None:
    """`turn_agg`: per record, in one pass over the turns, everything the load needs from them.

    n_turns and counts per speaker, first response time, a hash of the turns (TURN_CONTENT), and
    whether any turn rule is broken. `turn_problems` then holds the messages of every broken rule,
    computed only for the records that have one.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE turn_agg AS
        SELECT _line, n_turns, n_customer_turns, n_ai_agent_turns, n_human_agent_turns, n_system_turns,
               epoch(list_sort(list_filter(agent_turns, lambda x: x.i > first_customer_i))[1].t
                     - first_customer_at) AS first_response_seconds,
               sha256(array_to_string(list_sort(turn_contents), chr(30))) AS turns_hash,
               any_bad OR index_nulls OR len(list_distinct(indexes)) <> len(indexes)
                   OR times <> list_sort(times) AS has_problem
        FROM (
            SELECT _line, count(*)::INTEGER AS n_turns,
                   count_if(speaker = 'customer')::INTEGER AS n_customer_turns,
                   count_if(speaker = 'ai_agent')::INTEGER AS n_ai_agent_turns,
                   count_if(speaker = 'human_agent')::INTEGER AS n_human_agent_turns,
                   count_if(speaker = 'system')::INTEGER AS n_system_turns,
                   min(turn_index) FILTER (WHERE speaker = 'customer') AS first_customer_i,
                   arg_min(sent_at, turn_index) FILTER (WHERE speaker = 'customer') AS first_customer_at,
                   list({{'i': turn_index, 't': sent_at}}) FILTER (WHERE speaker IN ('ai_agent', 'human_agent'))
                       AS agent_turns,
                   bool_or(_bad) AS any_bad,
                   count(turn_index) <> count(*) AS index_nulls,
                   list(turn_index) AS indexes,
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
                     THEN 'turns: turn_index ' || coalesce(turn_index::VARCHAR, '(missing)')
                          || ' is missing, repeated, or not a whole number from 1 up' END,
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


def finish_records(con: duckdb.DuckDBPyConnection) -> None:
    """`stg_records`: every record, parsed or not, with its fields where it could be read."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE stg_records AS
        SELECT p._line, p._parse_error, f.* EXCLUDE (_line)
        FROM parsed p LEFT JOIN stg_fields f USING (_line)
        """
    )
