"""The trace flow: for open findings, the blast-radius search once corrected, then recurrence searches.

Run nightly after the checks: a corrected finding gets its blast radius (and customers to contact);
every finding past its correction and not yet verified gets a recurrence search over the conversations
since the correction. People's steps (review, root cause, correction, contact, verification) are
recorded by people; the flow only runs the searches.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from audits.trace.findings import find_findings
from audits.trace.similar import load_index
from audits.trace.workflow import check_recurrence, search_blast
from audits.warehouse import connect, resolve_path
from flows.common import worth_retrying

SEARCHED = ("blast_radius_searched", "customers_listed", "contacted")


@task(cache_policy=NO_CACHE)
def open_findings(warehouse: str) -> dict[str, list[str]]:
    """The findings waiting for a blast-radius search, and those waiting for a recurrence search."""
    con = connect(warehouse)
    try:
        corrected = [f.finding_id for f in find_findings(con, state="corrected")]
        searched = [f.finding_id for s in SEARCHED for f in find_findings(con, state=s)]
    finally:
        con.close()
    return {"blast": corrected, "recurrence": sorted(set(corrected) | set(searched))}


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=worth_retrying, cache_policy=NO_CACHE)
def blast(warehouse: str, finding_id: str, index_dir: str | None, at: dt.datetime | None) -> dict[str, Any]:
    """Search and store one finding's blast radius."""
    con = connect(warehouse)
    try:
        index = load_index(index_dir) if index_dir else None
        radius = search_blast(con, finding_id, actor="trace-flow", index=index, at=at)
    finally:
        con.close()
    print(f"{finding_id}: blast radius {len(radius.rows)} conversations, {len(radius.customers)} customers")
    return {"conversations": len(radius.rows), "customers": len(radius.customers)}


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=worth_retrying, cache_policy=NO_CACHE)
def recurrence(warehouse: str, finding_id: str, index_dir: str | None, at: dt.datetime | None) -> int:
    """Search for the error again since the correction; returns how many conversations repeated it."""
    con = connect(warehouse)
    try:
        index = load_index(index_dir) if index_dir else None
        found = check_recurrence(con, finding_id, actor="trace-flow", index=index, at=at, through=at)
    finally:
        con.close()
    print(f"{finding_id}: {len(found.conversations)} recurrences since the correction")
    return len(found.conversations)


@flow(name="trace", log_prints=True)
def trace_flow(
    warehouse: str | None = None, index_dir: str | None = None, at: dt.datetime | None = None
) -> dict[str, Any]:
    """Blast-radius searches for corrected findings, then recurrence searches for all searched ones.

    `at`: the time the searches are recorded at and the recurrence search looks up to (default now;
    the demo replays its week with it).
    """
    warehouse = str(resolve_path(warehouse))
    todo = open_findings(warehouse)
    blasts = {fid: blast(warehouse, fid, index_dir, at) for fid in todo["blast"]}
    recurrences = {fid: recurrence(warehouse, fid, index_dir, at) for fid in todo["recurrence"]}
    return {"blast": blasts, "recurrences": recurrences}
