"""Tiny hand-built warehouses for the contract tests: rows inserted directly, so every answer is known."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from audits import warehouse

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def db() -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with every table the contracts read."""
    from audits.checks.run import ensure_tables as ensure_checks
    from audits.nightly.history import ensure_tables as ensure_nightly
    from audits.sampling.draw import ensure_draw_tables
    from audits.sampling.estimate import ensure_scores_table
    from audits.scoring.tables import ensure_scoring_tables

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    warehouse.ensure_schema(con)
    ensure_checks(con)
    ensure_nightly(con)
    ensure_draw_tables(con)
    ensure_scores_table(con)
    ensure_scoring_tables(con)
    return con


CONV_DEFAULTS: dict[str, Any] = {
    "supplier": "acme",
    "channel": "chat",
    "handler": "ai",
    "started_at": T0,
    "market": "SG",
    "journey": "refund",
    "customer_id": None,
    "outcome": "resolved",
    "escalation_requested_at": None,
    "escalation_handed_off_at": None,
    "handoff_latency_seconds": None,
    "first_response_seconds": None,
    "n_human_agent_turns": 0,
    "content_hash": "h",
}


def add_conversations(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Insert conversations: each dict needs conversation_id; other columns default (CONV_DEFAULTS)."""
    cols = ["conversation_id", *CONV_DEFAULTS]
    values = [[r.get(c, CONV_DEFAULTS.get(c)) for c in cols] for r in rows]
    con.executemany(
        f"INSERT INTO conversations ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})", values
    )


def escalation(cid: str, channel: str, latency: float | None, **extra: Any) -> dict[str, Any]:
    """A conversation with a hand-off request; latency None: never handed off."""
    handed = None if latency is None else T0 + dt.timedelta(seconds=latency)
    return {"conversation_id": cid, "channel": channel, "handler": "hybrid", "escalation_requested_at": T0,
            "escalation_handed_off_at": handed, "handoff_latency_seconds": latency, **extra}  # fmt: skip


def add_results(
    con: duckdb.DuckDBPyConnection, check_id: str, outcomes: dict[str, str], supplier: str = "acme"
) -> None:
    """check_results rows (outcome per conversation id) with the conversations' content hash."""
    for cid, outcome in outcomes.items():
        con.execute(
            "INSERT INTO check_results SELECT supplier, conversation_id, ?, '1', ?, NULL, NULL, content_hash, 'run' "
            "FROM conversations WHERE supplier = ? AND conversation_id = ?",
            [check_id, outcome, supplier, cid],
        )


def night_draw(
    con: duckdb.DuckDBPyConnection,
    night: dt.date,
    strata: list[tuple[str, int, list[bool | None], list[str] | None]],
    *,
    supplier: str = "acme",
    plan_name: str = "nightly-acme",
    plan_hash: str = "hash",
    reason: str = "random",
) -> str:
    """A recorded nightly draw: per stratum (key, N_h, outcomes of its drawn items, their channels).

    An outcome True passes, False fails, None is drawn but unscored. Conversations are created on the
    night (ids <draw>-<stratum>-<i>). Returns the draw id.
    """
    draw_id = f"d-{night.isoformat()}-{plan_name}"
    con.execute("INSERT INTO draws VALUES (?, ?, ?, '{}', 'seed', ?, 0, 'fp')",
                [draw_id, plan_name, plan_hash, T0])  # fmt: skip
    for key, big_n, outcomes, channels in strata:
        con.execute(
            "INSERT INTO draw_strata VALUES (?, ?, ?, ?, ?)",
            [draw_id, key, big_n, len(outcomes), len(outcomes)],
        )
        for i, passed in enumerate(outcomes):
            cid = f"{draw_id}-{key}-{i}"
            channel = channels[i] if channels else "chat"
            started = dt.datetime.combine(night, dt.time(12), tzinfo=dt.UTC)
            add_conversations(
                con,
                [{"conversation_id": cid, "supplier": supplier, "channel": channel, "started_at": started}],
            )
            con.execute(
                "INSERT INTO draw_items VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [draw_id, supplier, cid, key, reason if not key.startswith("edge:") else key[5:],
                 len(outcomes) / big_n, big_n / len(outcomes), i / 1000],
            )  # fmt: skip
            if passed is not None:
                con.execute(
                    "INSERT INTO sample_scores VALUES (?, ?, ?, ?, 'rev', ?, false)",
                    [draw_id, supplier, cid, passed, T0],
                )
    con.execute(
        "INSERT INTO nightly_draws VALUES (?, ?, ?, ?, 'seed', ?)",
        [night, plan_name, plan_hash, supplier, draw_id],
    )
    return draw_id
