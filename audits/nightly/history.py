"""Run history of the nightly audit, and which draw each night made for each plan.

    nightly_runs    one row per attempt: run id, night, parameters, per-step counts and seconds, outcome
    nightly_draws   (night, plan) -> the draw made for it; a re-run of the night finds it here

An attempt starts as `running`. It ends `completed` or `failed` (with the error). An attempt whose
process died (killed, power cut) cannot say so itself: the next run of any night takes the nightly
lock, so every `running` row it finds then belongs to a dead process and is marked `crashed`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb

from audits.period import Period
from audits.sampling.plan import Plan
from audits.warehouse import table_exists

TABLES_SQL = """
CREATE TABLE IF NOT EXISTS nightly_runs (
    run_id      VARCHAR PRIMARY KEY,
    night       DATE NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    outcome     VARCHAR NOT NULL,      -- running | completed | failed | crashed
    parameters  JSON NOT NULL,
    steps       JSON NOT NULL,         -- [{step, seconds, counts}, ...] in the order they finished
    error       VARCHAR
);
CREATE TABLE IF NOT EXISTS nightly_draws (
    night       DATE NOT NULL,
    plan_name   VARCHAR NOT NULL,
    plan_hash   VARCHAR NOT NULL,
    supplier    VARCHAR,               -- the plan's one supplier (NULL for a plan over several)
    seed        VARCHAR NOT NULL,
    draw_id     VARCHAR NOT NULL,
    PRIMARY KEY (night, plan_name)
);
"""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for stmt in TABLES_SQL.split(";"):
        if stmt.strip():
            con.execute(stmt)


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, night: dt.date, parameters: dict[str, Any]) -> int:
    """Record a new attempt as running; returns how many earlier `running` attempts were marked crashed."""
    ensure_tables(con)
    now = dt.datetime.now(dt.UTC)
    crashed = con.execute(
        "UPDATE nightly_runs SET outcome = 'crashed', finished_at = ?, "
        "error = 'the process ended without finishing (found by the next run)' WHERE outcome = 'running' "
        "RETURNING run_id",
        [now],
    ).fetchall()
    con.execute(
        "INSERT INTO nightly_runs VALUES (?, ?, ?, NULL, 'running', ?, '[]', NULL)",
        [run_id, night, now, json.dumps(parameters, sort_keys=True, default=str)],
    )
    return len(crashed)


def record_step(
    con: duckdb.DuckDBPyConnection, run_id: str, step: str, seconds: float, counts: dict[str, Any]
) -> None:
    """Append a finished step (its library call's seconds and counts) to the attempt's row."""
    entry = json.dumps(
        {"step": step, "seconds": round(seconds, 4), "counts": counts}, sort_keys=True, default=str
    )
    con.execute(
        "UPDATE nightly_runs SET steps = to_json(list_append(CAST(steps AS JSON[]), ?::JSON)) "
        "WHERE run_id = ?",
        [entry, run_id],
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, outcome: str, error: str | None = None) -> None:
    con.execute(
        "UPDATE nightly_runs SET outcome = ?, finished_at = ?, error = ? WHERE run_id = ?",
        [outcome, dt.datetime.now(dt.UTC), error, run_id],
    )


def record_draw(con: duckdb.DuckDBPyConnection, night: dt.date, plan: Plan, seed: str, draw_id: str) -> None:
    """Remember the night's draw for a plan (the same row again is a no-op)."""
    ensure_tables(con)
    supplier = plan.population.suppliers[0] if len(plan.population.suppliers) == 1 else None
    con.execute(
        "INSERT INTO nightly_draws VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (night, plan_name) DO UPDATE SET "
        "plan_hash = excluded.plan_hash, supplier = excluded.supplier, seed = excluded.seed, "
        "draw_id = excluded.draw_id",
        [night, plan.name, plan.plan_hash, supplier, seed, draw_id],
    )


def night_draws(
    con: duckdb.DuckDBPyConnection, supplier: str | None = None, period: Period | None = None
) -> list[dict[str, Any]]:
    """The nightly draws (night, plan_name, plan_hash, supplier, seed, draw_id), by night then plan."""
    if not table_exists(con, "nightly_draws"):
        return []
    where: list[str] = ["true"]
    params: list[Any] = []
    if supplier is not None:
        where.append("supplier = ?")
        params.append(supplier)
    if period is not None:
        where.append("night BETWEEN ? AND ?")
        params += [period.start, period.end]
    rows = con.execute(
        "SELECT night, plan_name, plan_hash, supplier, seed, draw_id FROM nightly_draws "
        f"WHERE {' AND '.join(where)} ORDER BY night, plan_name",
        params,
    ).fetchall()
    keys = ("night", "plan_name", "plan_hash", "supplier", "seed", "draw_id")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def list_runs(
    con: duckdb.DuckDBPyConnection, *, night: dt.date | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """The latest attempts first: run id, night, times, outcome, parameters, steps, error."""
    if not table_exists(con, "nightly_runs"):
        return []
    rows = con.execute(
        "SELECT run_id, night, started_at, finished_at, outcome, parameters, steps, error FROM nightly_runs "
        + ("WHERE night = ? " if night else "")
        + "ORDER BY started_at DESC LIMIT ?",
        [night, limit] if night else [limit],
    ).fetchall()
    out = []
    for run_id, n, started, finished, outcome, params, steps, error in rows:
        out.append({
            "run_id": run_id, "night": n, "started_at": started, "finished_at": finished, "outcome": outcome,
            "seconds": (finished - started).total_seconds() if finished else None,
            "parameters": json.loads(params), "steps": json.loads(steps), "error": error,
        })  # fmt: skip
    return out
