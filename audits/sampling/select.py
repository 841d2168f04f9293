"""Order sampling on a keyed hash: each stratum takes the conversations with the smallest u.

u(seed, supplier, conversation_id) = int(first 13 hex digits of sha256(f"{seed}:{supplier}:{conversation_id}"))
/ 16**13, a number in [0, 1). It is computed in DuckDB for the draw and by `order_key` in plain Python
for an auditor; both are exact (a 52-bit integer divided by a power of two is an exact double). The
ranking uses the 52-bit integer itself, ties (never seen in practice) broken by supplier and id, so
the sample does not depend on row order, thread count or machine.

Strata. Edge-case strata come first: a conversation matching an edge case's predicate belongs to the
stratum "edge:NAME" of the first edge case it matches (in plan order), and it leaves the random
strata's population whether or not it is drawn. Edge strata therefore partition off part of the
population: taken whole their inclusion probability is 1, at a rate it is k/N_e. Every other
conversation is in the random stratum named by the plan's strata columns, e.g.
"supplier=acme|channel=chat" ("all" without strata columns; a NULL value reads "(none)").
Each item records pi = k_h / N_h and weight = N_h / k_h (= 1 / pi).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from audits.sampling.allocate import plan_allocation
from audits.sampling.plan import EDGE_CASES, Plan

U_DIGITS = 13
U_SCALE = 16**U_DIGITS


def order_key(seed: str | int, supplier: str, conversation_id: str) -> float:
    """u in [0, 1) for one conversation, exactly as the DuckDB draw computes it."""
    digest = hashlib.sha256(f"{seed}:{supplier}:{conversation_id}".encode()).hexdigest()
    return int(digest[:U_DIGITS], 16) / U_SCALE


U_KEY_SQL = (
    f"('0x' || substr(sha256($seed || ':' || supplier || ':' || conversation_id), 1, {U_DIGITS}))::UBIGINT"
)
U_SQL = f"({U_KEY_SQL} / {float(U_SCALE)!r})"


@dataclass(frozen=True)
class StratumDraw:
    """One stratum: its population N_h, the allocated k_h and how many were drawn."""

    stratum: str
    population: int
    allocated: int
    drawn: int


@dataclass(frozen=True)
class Item:
    """One selected conversation with its design information."""

    supplier: str
    conversation_id: str
    stratum: str
    reason: str
    inclusion_probability: float
    weight: float
    u: float


@dataclass(frozen=True)
class Selection:
    """The re-derivable result of a plan and seed on a population."""

    population_count: int
    population_fingerprint: str
    strata: tuple[StratumDraw, ...]
    items: tuple[Item, ...]


def population_where(plan: Plan) -> tuple[str, dict[str, Any]]:
    """The SQL filter on `conversations` for the plan's population, and its named parameters."""
    pop = plan.population
    start = dt.datetime.combine(pop.date_from, dt.time(), dt.UTC)
    end = dt.datetime.combine(pop.date_to + dt.timedelta(days=1), dt.time(), dt.UTC)
    clauses = ["started_at >= $start", "started_at < $end", "list_contains($suppliers::VARCHAR[], supplier)"]
    params: dict[str, Any] = {"start": start, "end": end, "suppliers": list(pop.suppliers)}
    for column, values in (("channel", pop.channels), ("handler", pop.handlers)):
        if values is not None:
            clauses.append(f"list_contains(${column}s::VARCHAR[], {column})")
            params[f"{column}s"] = list(values)
    return " AND ".join(clauses), params


def stratum_sql(plan: Plan) -> str:
    """A SQL expression giving each conversation's stratum key (edge cases first, in plan order)."""
    if plan.strata:
        parts = [f"'{c}=' || coalesce(CAST({c} AS VARCHAR), '(none)')" for c in plan.strata]
        random_key = "concat_ws('|', " + ", ".join(parts) + ")"
    else:
        random_key = "'all'"
    if not plan.edge_cases:
        return random_key
    whens = " ".join(f"WHEN {EDGE_CASES[e.name]} THEN 'edge:{e.name}'" for e in plan.edge_cases)
    return f"CASE {whens} ELSE {random_key} END"


def _population_cte(plan: Plan) -> tuple[str, dict[str, Any]]:
    where, params = population_where(plan)
    sql = f"""pop AS (
        SELECT supplier, conversation_id, content_hash, {stratum_sql(plan)} AS stratum
        FROM conversations WHERE {where})"""
    return sql, params


def population_summary(con: duckdb.DuckDBPyConnection, plan: Plan) -> tuple[int, str, dict[str, int]]:
    """(count, fingerprint, size per stratum) of the plan's population.

    The fingerprint is sha256 over the population's "supplier\\tconversation_id\\tcontent_hash" lines
    (a NULL content hash reads as empty), sorted bytewise (UTF-8) and joined with newlines; an auditor
    re-derives it with `hashlib.sha256("\\n".join(sorted(lines, key=str.encode)).encode())`.
    DuckDB sorts the lines; their bytes stream to hashlib in Arrow batches (a string_agg of ten
    million lines costs three times as long).
    """
    cte, params = _population_cte(plan)
    rows = con.execute(
        f"WITH {cte} SELECT stratum, count(*) FROM pop GROUP BY stratum ORDER BY stratum", params
    ).fetchall()
    sizes = {str(k): int(n) for k, n in rows}
    reader = con.sql(
        f"""WITH {cte}
        SELECT line || chr(10) AS terminated
        FROM (SELECT supplier || chr(9) || conversation_id || chr(9) || coalesce(content_hash, '') AS line
              FROM pop)
        ORDER BY line""",  # the bare line: the auditor's Python sorts lines without their newline
        params=params,
    ).to_arrow_reader(1_000_000)
    digest = hashlib.sha256()
    held = b""  # the last newline so far: lines are joined by newlines, not ended by them
    for batch in reader:
        column = batch.column(0)
        if len(column) == 0:
            continue
        chunk = _string_bytes(column)
        digest.update(held)
        digest.update(chunk[:-1])
        held = bytes(chunk[-1:])
    return sum(sizes.values()), digest.hexdigest(), sizes


def _string_bytes(column: pa.Array) -> memoryview:
    """The concatenated UTF-8 bytes of a string (or large string) Arrow array, without copying."""
    offsets_type = np.int64 if pa.types.is_large_string(column.type) else np.int32
    _validity, offsets_buf, data_buf = column.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=offsets_type)[column.offset : column.offset + len(column) + 1]
    return memoryview(data_buf)[int(offsets[0]) : int(offsets[-1])]


def select(con: duckdb.DuckDBPyConnection, plan: Plan, seed: str | int) -> Selection:
    """Derive the sample of `plan` with `seed` from the warehouse (read-only; nothing is written)."""
    count, fingerprint, sizes = population_summary(con, plan)
    allocation = plan_allocation(plan, sizes)
    keys = sorted(allocation)
    cte, params = _population_cte(plan)
    params.update(
        seed=str(seed),
        keys=keys,
        ks=[allocation[k] for k in keys],
        ns=[sizes[k] for k in keys],
    )
    rows = con.execute(
        f"""WITH {cte},
        alloc AS (SELECT unnest($keys::VARCHAR[]) AS stratum, unnest($ks::BIGINT[]) AS k,
                         unnest($ns::BIGINT[]) AS n_h),
        ranked AS (
            SELECT *, row_number() OVER (PARTITION BY stratum ORDER BY u_key, supplier, conversation_id) AS rk
            FROM (SELECT supplier, conversation_id, stratum, {U_KEY_SQL} AS u_key FROM pop))
        SELECT r.supplier, r.conversation_id, r.stratum,
               CASE WHEN r.stratum LIKE 'edge:%' THEN substr(r.stratum, 6) ELSE 'random' END AS reason,
               a.k::DOUBLE / a.n_h AS pi, a.n_h::DOUBLE / a.k AS weight,
               r.u_key / {float(U_SCALE)!r} AS u
        FROM ranked r JOIN alloc a USING (stratum)
        WHERE r.rk <= a.k
        ORDER BY r.stratum, r.u_key, r.supplier, r.conversation_id""",
        params,
    ).fetchall()
    items = tuple(Item(*row) for row in rows)
    drawn: dict[str, int] = {}
    for it in items:  # over the sample, not the population
        drawn[it.stratum] = drawn.get(it.stratum, 0) + 1
    strata = tuple(StratumDraw(k, sizes[k], allocation[k], drawn.get(k, 0)) for k in keys)
    return Selection(count, fingerprint, strata, items)
