"""Read-only views of the warehouse for the CLI and the flows: loads, quarantine, status."""

from __future__ import annotations

import json
import os
from typing import Any

import duckdb

from audits import warehouse


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def list_loads(path: str | os.PathLike[str] | None = None, *, limit: int = 50) -> list[dict[str, Any]]:
    """The latest loads first."""
    with warehouse.open_warehouse(path, read_only=True) as con:
        rows = _dicts(
            con,
            """
            SELECT load_id, path, sha256, kind, format, started_at, finished_at, seconds, lines_read,
                   blank_lines, records_loaded, records_new, records_replaced, records_quarantined,
                   turns_loaded, contract_suite, contract_success, timings
            FROM loads ORDER BY finished_at DESC LIMIT ?
            """,
            [limit],
        )
    for r in rows:
        r["timings"] = json.loads(r["timings"]) if r["timings"] else {}
    return rows


def list_quarantine(
    path: str | os.PathLike[str] | None = None,
    *,
    load_id: str | None = None,
    path_like: str | None = None,
    limit: int = 100,
    raw: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """Quarantined records (file order) and how many match in all.

    `superseded` says a conversation with that supplier and id has loaded from a later file (a
    corrected re-export), so the quarantined copy needs no more action. (KB records: never, since
    a quarantined version's id cannot always be read.)
    """
    where, params = ["true"], []
    if load_id:
        where.append("q.load_id LIKE ?")
        params.append(load_id + "%")
    if path_like:
        where.append("q.path LIKE ?")
        params.append(f"%{path_like}%")
    cond = " AND ".join(where)
    raw_col = (
        "CASE WHEN TRY(decode(q.raw)) IS NOT NULL THEN decode(q.raw) ELSE q.raw::VARCHAR END"
        if raw
        else "NULL"
    )
    with warehouse.open_warehouse(path, read_only=True) as con:
        total = warehouse.scalar(con, f"SELECT count(*) FROM quarantine q WHERE {cond}", params)
        rows = _dicts(
            con,
            f"""
            SELECT q.load_id, q.path, q.line, q.kind, q.supplier, q.record_id, q.reasons,
                   {raw_col} AS raw,
                   CASE WHEN q.kind = 'conversations' THEN EXISTS (
                            SELECT 1 FROM conversations c JOIN loads cl ON cl.load_id = c.load_id
                            WHERE c.supplier = q.supplier AND c.conversation_id = q.record_id
                              AND cl.finished_at > l.finished_at)
                        ELSE false END AS superseded
            FROM quarantine q JOIN loads l USING (load_id)
            WHERE {cond}
            ORDER BY l.finished_at, q.path, q.line
            LIMIT ?
            """,
            [*params, limit],
        )
    if not raw:
        for r in rows:
            r.pop("raw")
    return rows, int(total or 0)


def warehouse_status(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Totals and per-supplier / per-channel counts and medians."""
    target = warehouse.resolve_path(path)
    with warehouse.open_warehouse(target, read_only=True) as con:
        totals = _dicts(
            con,
            """
            SELECT (SELECT count(*) FROM conversations) AS conversations,
                   (SELECT count(*) FROM turns) AS turns,
                   (SELECT count(*) FROM kb_articles) AS kb_articles,
                   (SELECT count(*) FROM quarantine) AS quarantined,
                   (SELECT count(*) FROM loads) AS loads
            """,
        )[0]
        by_supplier = _dicts(
            con,
            """
            SELECT supplier, count(*) AS conversations,
                   count(*) FILTER (WHERE handler = 'ai') AS ai, count(*) FILTER (WHERE handler = 'human') AS human,
                   count(*) FILTER (WHERE handler = 'hybrid') AS hybrid,
                   count(*) FILTER (WHERE automation_failed) AS automation_failed,
                   count_if(escalation_requested_at IS NOT NULL OR coalesce(outcome IN ('escalated', 'transferred'), false))
                       AS escalated,
                   count(*) FILTER (WHERE is_repeat_contact) AS repeat_contacts,
                   round(median(first_response_seconds), 1) AS median_first_response_s
            FROM conversations GROUP BY supplier ORDER BY supplier
            """,
        )
        by_channel = _dicts(
            con,
            """
            SELECT channel, count(*) AS conversations,
                   round(median(first_response_seconds), 1) AS median_first_response_s,
                   round(median(handoff_latency_seconds), 1) AS median_handoff_s
            FROM conversations GROUP BY channel ORDER BY conversations DESC
            """,
        )
    return {"warehouse": str(target), "totals": totals, "by_supplier": by_supplier, "by_channel": by_channel}
