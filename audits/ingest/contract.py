"""The data contract: a Great Expectations suite, enforced per record in SQL and run by GX.

The suite is written in Great Expectations' own serialised form (expectation type, kwargs, meta),
so `qa-audit contract` can print it and GX can load it unchanged. Every load then does two things
with it:

1. `sql_verdicts` compiles each expectation into a DuckDB predicate and gives every record the
   list of rules it breaks (field, rule, message). This is what quarantines records: set-based,
   one pass, millions of rows a second.
2. `run_great_expectations` validates the same batch (before quarantine) with Great Expectations
   and the per-expectation failure counts must equal the SQL's. A difference is a bug in the
   compiler and stops the load (`ContractMismatch`), so the two can never silently drift apart.

Rules about values that a typed frame cannot show (a string where a number belongs, a turn out of
order) are computed while staging into the detail columns `_field_errors` and `_turn_problems`;
the suite requires those to be empty, and each entry becomes a reason of its own.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any

import duckdb

from audits.errors import AuditError, ContractMismatch
from audits.ingest.fields import BCP47, CHANNELS, HANDLERS, ISO_COUNTRY, OUTCOMES, RFC3339
from audits.ingest.fieldsql import ident, q
from audits.warehouse import one

SUITES: dict[str, dict[str, Any]] = {}


def _python_regex(regex: str) -> str:
    """A pattern as Great Expectations (Python `re.search`) must see it: ends at the very end."""
    return regex[:-1] + r"\Z" if regex.endswith("$") else regex


def _sql_regex(regex: str) -> str:
    """The same pattern for DuckDB's RE2, whose `$` already means the very end."""
    return regex[:-2] + "$" if regex.endswith(r"\Z") else regex


def _e(type_: str, field: str, message: str | None = None, **kwargs: Any) -> dict[str, Any]:
    if "regex" in kwargs:
        kwargs["regex"] = _python_regex(kwargs["regex"])
    meta: dict[str, Any] = {"field": field}
    if message:
        meta["message"] = message
    return {"type": type_, "kwargs": kwargs, "meta": meta}


_TS = "is not an RFC 3339 timestamp with a UTC offset"

SUITES["conversations"] = {
    "name": "conversation_contract",
    "meta": {"version": "1", "record": "conversation"},
    "expectations": [
        *(
            _e("expect_column_values_to_not_be_null", name, column=column)
            for name, column in (
                ("conversation_id", "conversation_id"),
                ("supplier", "supplier"),
                ("channel", "channel"),
                ("handler", "handler"),
                ("started_at", "started_at_raw"),
                ("turns", "n_turns"),
            )
        ),
        _e("expect_column_values_to_be_in_set", "channel", column="channel", value_set=list(CHANNELS)),
        _e("expect_column_values_to_be_in_set", "handler", column="handler", value_set=list(HANDLERS)),
        _e("expect_column_values_to_be_in_set", "outcome", column="outcome", value_set=list(OUTCOMES)),
        *(
            _e("expect_column_values_to_match_regex", name, _TS, column=name.replace(".", "_") + "_raw", regex=RFC3339)
            for name in ("started_at", "ended_at", "escalation.requested_at", "escalation.handed_off_at")
        ),
        _e("expect_column_values_to_match_regex", "market", "is not an ISO 3166 alpha-2 code",
           column="market", regex=ISO_COUNTRY),
        _e("expect_column_values_to_match_regex", "language", "is not a BCP 47 language tag",
           column="language", regex=BCP47),
        _e("expect_column_values_to_be_between", "csat", column="csat", min_value=1, max_value=5),
        _e("expect_column_values_to_be_between", "turns", "a conversation needs at least one turn",
           column="n_turns", min_value=1),
        _e("expect_column_pair_values_a_to_be_greater_than_b", "ended_at", "is before started_at",
           column_A="ended_at", column_B="started_at", or_equal=True,
           ignore_row_if="either_value_is_missing"),
        _e("expect_column_pair_values_a_to_be_greater_than_b", "escalation.handed_off_at",
           "is before escalation.requested_at", column_A="escalation_handed_off_at",
           column_B="escalation_requested_at", or_equal=True, ignore_row_if="either_value_is_missing"),
        _e("expect_compound_columns_to_be_unique", "conversation_id",
           column_list=["supplier", "conversation_id"], ignore_row_if="any_value_is_missing"),
        _e("expect_column_values_to_be_null", "*", column="_field_errors"),
        _e("expect_column_values_to_be_null", "*", column="_turn_problems"),
    ],
}  # fmt: skip

SUITES["kb_articles"] = {
    "name": "kb_article_contract",
    "meta": {"version": "1", "record": "kb_article"},
    "expectations": [
        *(
            _e("expect_column_values_to_not_be_null", name, column=column)
            for name, column in (
                ("article_id", "article_id"),
                ("version", "version"),
                ("title", "title"),
                ("body", "body"),
                ("updated_at", "updated_at_raw"),
            )
        ),
        _e("expect_column_values_to_match_regex", "updated_at", _TS, column="updated_at_raw", regex=RFC3339),
        _e("expect_compound_columns_to_be_unique", "version", column_list=["article_id", "version"],
           ignore_row_if="any_value_is_missing"),
        _e("expect_column_values_to_be_null", "*", column="_field_errors"),
    ],
}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# SQL enforcement
# ---------------------------------------------------------------------------------------------


# The rule named in a quarantine reason, per expectation type.
RULE_NAMES = {
    "expect_column_values_to_not_be_null": "required",
    "expect_column_values_to_be_in_set": "allowed_values",
    "expect_column_values_to_match_regex": "format",
    "expect_column_values_to_be_between": "range",
    "expect_column_pair_values_a_to_be_greater_than_b": "order",
    "expect_compound_columns_to_be_unique": "duplicate_id",
    "expect_column_values_to_be_null": "detail",
}
DETAIL_RULES = {"_field_errors": "type", "_turn_problems": "turn"}


@dataclass(frozen=True)
class CompiledRule:
    """One expectation as SQL: `fails` is true for a record that breaks it."""

    label: str
    fails: str
    reason: str  # SQL for a STRUCT(field, rule, message), or a list of them for detail columns
    is_detail: bool = False
    window: str | None = None  # a window column the predicate needs, `expr AS name`


def _label(exp: dict[str, Any]) -> str:
    kw = exp["kwargs"]
    target = kw.get("column") or kw.get("column_list") or [kw.get("column_A"), kw.get("column_B")]
    return f"{exp['type']}({target})"


def compile_rule(exp: dict[str, Any], index: int) -> CompiledRule:
    """Translate one GX expectation (as a dict) into SQL over the staged records."""
    type_, kw, meta = exp["type"], exp["kwargs"], exp["meta"]
    field = meta["field"]
    rule = RULE_NAMES[type_]
    label = _label(exp)

    def reason(message_sql: str) -> str:
        return f"{{'field': {q(field)}, 'rule': {q(rule)}, 'message': {message_sql}}}"

    def msg(default: str) -> str:
        return q(meta.get("message", default))

    if type_ == "expect_column_values_to_not_be_null":
        return CompiledRule(label, f"{ident(kw['column'])} IS NULL", reason(msg("required field is missing")))
    if type_ == "expect_column_values_to_be_null":
        col = ident(kw["column"])
        detail = (
            f"list_transform({col}, lambda e: {{'field': split_part(e, ': ', 1), "
            f"'rule': {q(DETAIL_RULES[kw['column']])}, 'message': e[strpos(e, ': ') + 2:]}})"
        )
        return CompiledRule(label, f"{col} IS NOT NULL", detail, is_detail=True)
    if type_ == "expect_column_values_to_be_in_set":
        col = ident(kw["column"])
        allowed = ", ".join(q(v) for v in kw["value_set"])
        text = q(" is not one of " + ", ".join(kw["value_set"]))
        return CompiledRule(
            label, f"{col} IS NOT NULL AND {col} NOT IN ({allowed})", reason(f"{col} || {text}")
        )
    if type_ == "expect_column_values_to_match_regex":
        col = ident(kw["column"])
        fails = f"{col} IS NOT NULL AND NOT regexp_matches({col}, {q(_sql_regex(kw['regex']))})"
        return CompiledRule(label, fails, reason(f"{col} || ' ' || {msg('does not match ' + kw['regex'])}"))
    if type_ == "expect_column_values_to_be_between":
        col = ident(kw["column"])
        lo, hi = kw.get("min_value"), kw.get("max_value")
        conds = ([f"{col} < {lo}"] if lo is not None else []) + ([f"{col} > {hi}"] if hi is not None else [])
        default = (
            f"is not between {lo} and {hi}"
            if lo is not None and hi is not None
            else (f"is below {lo}" if lo is not None else f"is above {hi}")
        )
        fails = f"{col} IS NOT NULL AND ({' OR '.join(conds)})"
        message = msg(default) if "message" in meta else f"{col}::VARCHAR || ' ' || {q(default)}"
        return CompiledRule(label, fails, reason(message))
    if type_ == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = ident(kw["column_A"]), ident(kw["column_B"])
        op = ">=" if kw.get("or_equal") else ">"
        if kw.get("ignore_row_if") != "either_value_is_missing":
            raise AuditError(f"{label}: only ignore_row_if='either_value_is_missing' is supported")
        fails = f"{a} IS NOT NULL AND {b} IS NOT NULL AND NOT ({a} {op} {b})"
        text = f"strftime({a}, '%Y-%m-%dT%H:%M:%SZ') || ' ' || {msg('is not after ' + kw['column_B'])} || ' (' || strftime({b}, '%Y-%m-%dT%H:%M:%SZ') || ')'"
        return CompiledRule(label, fails, reason(text))
    if type_ == "expect_compound_columns_to_be_unique":
        cols = [ident(c) for c in kw["column_list"]]
        name = f"_dup{index}"
        first = f"_dup{index}_first"
        window = (
            f"count(*) OVER (PARTITION BY {', '.join(cols)}) AS {name}, "
            f"min(_line) OVER (PARTITION BY {', '.join(cols)}) AS {first}"
        )
        if kw.get("ignore_row_if") != "any_value_is_missing":
            raise AuditError(f"{label}: only ignore_row_if='any_value_is_missing' is supported")
        any_null = " OR ".join(f"{c} IS NULL" for c in cols)
        fails = f"{name} > 1 AND NOT ({any_null})"
        text = (
            f"{cols[-1]} || ' appears ' || {name} || ' times in this file (first on line ' || {first} "
            f"|| '); all copies are held back'"
        )
        return CompiledRule(label, fails, reason(text), window=window)
    raise AuditError(f"the contract uses {type_!r}, which the SQL compiler does not support")


def compile_suite(kind: str) -> list[CompiledRule]:
    return [compile_rule(e, i) for i, e in enumerate(SUITES[kind]["expectations"])]


def sql_verdicts(con: duckdb.DuckDBPyConnection, kind: str) -> dict[str, int]:
    """Create temp table `verdicts(_line, reasons)`; return each rule's failure count in SQL.

    Unreadable records (a parse error) get that one reason; the counts cover readable ones only,
    which is also what Great Expectations sees.
    """
    rules = compile_suite(kind)
    windows = ", ".join(r.window for r in rules if r.window)
    source = (
        f"(SELECT *, {windows} FROM stg_records WHERE _parse_error IS NULL)"
        if windows
        else ("(SELECT * FROM stg_records WHERE _parse_error IS NULL)")
    )
    plain = ", ".join(f"CASE WHEN {r.fails} THEN {r.reason} END" for r in rules if not r.is_detail)
    details = [f"CASE WHEN {r.fails} THEN {r.reason} END" for r in rules if r.is_detail]
    reasons = f"list_filter([{plain}], lambda x: x IS NOT NULL)"
    for d in details:
        reasons = f"list_concat({reasons}, coalesce({d}, []))"
    counts = ", ".join(f"count_if({r.fails}) AS r{i}" for i, r in enumerate(rules))
    # A present value of the wrong type reads as NULL: say "wrong type", not also "missing".
    typed = "list_transform(list_filter(r, lambda y: y.rule = 'type'), lambda y: y.field)"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _checked AS
        SELECT _line, list_filter(r, lambda x: NOT (x.rule = 'required' AND list_contains({typed}, x.field)))
                   AS reasons
        FROM (SELECT _line, {reasons} AS r FROM {source})
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE verdicts AS
        SELECT s._line,
               CASE WHEN s._parse_error IS NOT NULL
                    THEN [{'field': '(record)', 'rule': 'parse', 'message': s._parse_error}]
                    ELSE nonempty(c.reasons) END AS reasons
        FROM stg_records s LEFT JOIN _checked c USING (_line)
        """
    )
    row = one(con, f"SELECT {counts} FROM {source}")
    assert row is not None  # an aggregate always returns one row
    return {r.label: int(row[i] or 0) for i, r in enumerate(rules)}


# ---------------------------------------------------------------------------------------------
# Great Expectations
# ---------------------------------------------------------------------------------------------


# Two loads validating on threads of one process (e.g. partitions on one Dask worker) would see each
# other's batches in the shared context and report a false ContractMismatch.
_GX_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _gx_context() -> Any:
    import great_expectations as gx  # noqa: PLC0415 - heavy (about 3 s): only when loading
    from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: PLC0415

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("qa_audit_staging")
    asset = source.add_dataframe_asset("records")
    return asset.add_batch_definition_whole_dataframe("batch")


def build_suite(kind: str) -> Any:
    """The suite as a Great Expectations `ExpectationSuite`."""
    import great_expectations as gx  # noqa: PLC0415

    return gx.ExpectationSuite(**SUITES[kind])


def suite_columns(kind: str) -> list[str]:
    cols: list[str] = ["_line"]
    for e in SUITES[kind]["expectations"]:
        kw = e["kwargs"]
        for c in [
            kw.get("column"),
            kw.get("column_A"),
            kw.get("column_B"),
            *kw.get("column_list", []),
        ]:
            if c and c not in cols:
                cols.append(c)
    return cols


def gx_frame(con: duckdb.DuckDBPyConnection, kind: str) -> Any:
    """The staged batch as the pandas frame Great Expectations validates (readable records)."""
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE stg_records)").fetchall())
    # Timestamps go to GX as naive UTC: pandas 3 warns on every tz-aware comparison GX makes.
    cols = ", ".join(
        f"{ident(c)}::TIMESTAMP AS {ident(c)}" if types.get(c) == "TIMESTAMP WITH TIME ZONE" else ident(c)
        for c in suite_columns(kind)
    )
    return con.sql(f"SELECT {cols} FROM stg_records WHERE _parse_error IS NULL").to_arrow_table().to_pandas()


def validate_frame(
    df: Any, kind: str, path: str, sql_counts: dict[str, int]
) -> tuple[bool, list[dict[str, Any]]]:
    """Validate a batch with GX; check its failure counts equal the SQL's.

    Needs no DuckDB connection, so a load runs it on a thread while it writes (pandas and GX
    hold the GIL; DuckDB does not). Returns GX's verdict and, per expectation, the failure count
    (stored with the load); raises `ContractMismatch` when GX and the SQL disagree.
    """
    with _GX_LOCK:  # one cached GX context per process, not safe for two threads at once
        result = (
            _gx_context()
            .get_batch(batch_parameters={"dataframe": df})
            .validate(build_suite(kind), result_format="BASIC")
        )
    rows: list[dict[str, Any]] = []
    for r in result.results:
        exp = {"type": r.expectation_config.type, "kwargs": dict(r.expectation_config.kwargs)}
        exp["kwargs"].pop("batch_id", None)
        label = _label(exp)
        info = r.exception_info or {}
        if info.get("raised_exception"):
            raise AuditError(f"{path}: Great Expectations failed on {label}: {info.get('exception_message')}")
        gx_count = int(r.result.get("unexpected_count") or 0)
        sql_count = sql_counts[label]
        if gx_count != sql_count:
            raise ContractMismatch(path, label, sql_count, gx_count)
        rows.append({"expectation": label, "failed_records": gx_count, "success": bool(r.success)})
    return bool(result.success), rows


def run_great_expectations(
    con: duckdb.DuckDBPyConnection, kind: str, path: str, sql_counts: dict[str, int]
) -> tuple[bool, list[dict[str, Any]]]:
    """`validate_frame` on the staged batch, in the calling thread."""
    return validate_frame(gx_frame(con, kind), kind, path, sql_counts)
