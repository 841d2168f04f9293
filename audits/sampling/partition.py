"""Selection over partitions: per-partition top-k candidates merged give the same sample as the whole.

Order sampling takes, in each stratum h, the k_h conversations with the smallest
(u_key, supplier, conversation_id). The k_h smallest of a union are among the k_h smallest of each
part, so a population split into partitions (e.g. Parquet files per supplier and day) is sampled in
three passes that never hold more than sum(k_h) candidates per partition:

1. Sizes: count each stratum in each partition (with the plan's population filter and stratum
   expression, exactly as `select` does) and add the counts up. The allocation depends on the whole
   stratum sizes, so it is computed only now, with `plan_allocation`.
2. Candidates: in each partition, the k_h smallest keys of each stratum.
3. Merge: per stratum, the k_h smallest of the union of the candidates; pi = k_h / N_h as in `select`.

The population fingerprint is also merged from the partitions: each partition streams its
fingerprint lines sorted, and a k-way merge (`heapq.merge`) feeds them to one sha256, so the result
equals the single-warehouse fingerprint without sorting the whole population at once (Python string
order is code-point order, which is UTF-8 byte order, DuckDB's VARCHAR order).

A conversation present in two partitions is counted twice, as it would be in a warehouse holding it
twice: partitions are expected to be disjoint.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from audits.sampling.allocate import plan_allocation
from audits.sampling.plan import Plan
from audits.sampling.select import (
    U_KEY_SQL,
    U_SCALE,
    Item,
    Selection,
    StratumDraw,
    population_where,
    stratum_sql,
)

_BATCH = 50_000


def _pop_sql(plan: Plan, source: str) -> tuple[str, dict[str, Any]]:
    where, params = population_where(plan)
    sql = (
        f"SELECT supplier, conversation_id, content_hash, {stratum_sql(plan)} AS stratum "
        f"FROM {source} WHERE {where}"
    )
    return sql, params


def _source(path: str | Path) -> str:
    text = str(path).replace("'", "''")
    return f"read_parquet('{text}')"


def _sorted_lines(con: duckdb.DuckDBPyConnection, plan: Plan, source: str) -> Iterator[str]:
    """The partition's fingerprint lines, sorted, in batches (the cursor is read to its end)."""
    sql, params = _pop_sql(plan, source)
    cur = con.cursor()
    try:
        cur.execute(
            f"SELECT supplier || chr(9) || conversation_id || chr(9) || coalesce(content_hash, '') AS line "
            f"FROM ({sql}) ORDER BY line",
            params,
        )
        while batch := cur.fetchmany(_BATCH):
            for (line,) in batch:
                yield line
    finally:
        cur.close()


def _fingerprint(con: duckdb.DuckDBPyConnection, plan: Plan, sources: Sequence[str]) -> str:
    """sha256 of all partitions' lines, sorted and joined with newlines (see `population_summary`)."""
    h = hashlib.sha256()
    first = True
    for line in heapq.merge(*(_sorted_lines(con, plan, s) for s in sources)):
        if not first:
            h.update(b"\n")
        h.update(line.encode())
        first = False
    return h.hexdigest()


def partition_sizes(con: duckdb.DuckDBPyConnection, plan: Plan, source: str) -> dict[str, int]:
    """Size per stratum of one partition's part of the plan's population."""
    sql, params = _pop_sql(plan, source)
    rows = con.execute(f"SELECT stratum, count(*) FROM ({sql}) GROUP BY stratum", params).fetchall()
    return {k: int(n) for k, n in rows}


def partition_candidates(
    con: duckdb.DuckDBPyConnection, plan: Plan, source: str, seed: str, allocation: dict[str, int]
) -> list[tuple[str, int, str, str]]:
    """(stratum, u_key, supplier, conversation_id) of the k_h smallest keys per stratum in one partition."""
    keys = sorted(k for k, v in allocation.items() if v > 0)
    if not keys:
        return []
    sql, params = _pop_sql(plan, source)
    params.update(seed=seed, keys=keys, ks=[allocation[k] for k in keys])
    rows = con.execute(
        f"""WITH pop AS ({sql}),
        alloc AS (SELECT unnest($keys::VARCHAR[]) AS stratum, unnest($ks::BIGINT[]) AS k),
        ranked AS (
            SELECT *, row_number() OVER (PARTITION BY stratum ORDER BY u_key, supplier, conversation_id) AS rk
            FROM (SELECT supplier, conversation_id, stratum, {U_KEY_SQL} AS u_key FROM pop))
        SELECT r.stratum, r.u_key, r.supplier, r.conversation_id
        FROM ranked r JOIN alloc a USING (stratum) WHERE r.rk <= a.k""",
        params,
    ).fetchall()
    return [(s, int(u), sup, cid) for s, u, sup, cid in rows]


def select_partitioned(
    partitions: Sequence[str | Path],
    plan: Plan,
    seed: str | int,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Selection:
    """The sample of `plan` with `seed` over Parquet partitions, equal to `select` on their union.

    `partitions` are Parquet files with the `conversations` columns the plan uses (supplier,
    conversation_id, content_hash, started_at, channel, handler, the strata columns and the edge-case
    predicates' columns). `con` is the DuckDB connection that reads them (a fresh in-memory one, in
    UTC, by default).
    """
    seed = str(seed)
    sources = [_source(p) for p in partitions]
    own = con is None
    if con is None:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
    try:
        sizes: dict[str, int] = {}
        for src in sources:
            for k, n in partition_sizes(con, plan, src).items():
                sizes[k] = sizes.get(k, 0) + n
        count = sum(sizes.values())
        fingerprint = _fingerprint(con, plan, sources)
        allocation = plan_allocation(plan, sizes)
        candidates: dict[str, list[tuple[int, str, str]]] = {}
        for src in sources:
            for stratum, u_key, supplier, cid in partition_candidates(con, plan, src, seed, allocation):
                candidates.setdefault(stratum, []).append((u_key, supplier, cid))
    finally:
        if own:
            con.close()
    items: list[Item] = []
    keys = sorted(allocation)
    for k in keys:
        chosen = heapq.nsmallest(allocation[k], candidates.get(k, []))
        pi = allocation[k] / sizes[k]
        reason = k[len("edge:") :] if k.startswith("edge:") else "random"
        weight = sizes[k] / allocation[k]
        items.extend(Item(sup, cid, k, reason, pi, weight, u_key / U_SCALE) for u_key, sup, cid in chosen)
    drawn: dict[str, int] = {}
    for it in items:
        drawn[it.stratum] = drawn.get(it.stratum, 0) + 1
    strata = tuple(StratumDraw(k, sizes[k], allocation[k], drawn.get(k, 0)) for k in keys)
    return Selection(count, fingerprint, strata, tuple(items))
