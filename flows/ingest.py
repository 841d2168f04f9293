"""The ingest flow: exports -> data contract -> warehouse, one task per file.

Files are loaded one after another: a DuckDB file has one writer at a time, and each load is its
own transaction, so a failed file can be retried alone (Prefect retries it) without touching the
others, and a re-run skips what already loaded.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from audits.ingest.load import LoadResult, expand_paths, format_load_summary, load_paths
from audits.queries import warehouse_status
from audits.warehouse import resolve_path
from flows.checks import check_all
from flows.common import worth_retrying


@task(cache_policy=NO_CACHE)
def list_files(paths: list[str], fmt: str) -> list[str]:
    """The files to load, in order (folders expanded, flattened pairs counted once)."""
    return [str(p) for p in expand_paths(paths, fmt)]


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=worth_retrying, cache_policy=NO_CACHE)
def load_one(path: str, warehouse: str, fmt: str, repeat_window_days: int | None) -> dict[str, Any]:
    """Load one file under the contract; retried if the warehouse is busy or I/O fails."""
    (result,) = load_paths([path], warehouse_path=warehouse, fmt=fmt, repeat_window_days=repeat_window_days)
    print(format_load_summary([result]).splitlines()[0])  # logged by the flow (log_prints)
    return result.to_dict()


@task(cache_policy=NO_CACHE)
def summarise(warehouse: str) -> dict[str, Any]:
    """What the warehouse holds after the loads."""
    return warehouse_status(warehouse)


@flow(name="ingest", log_prints=True)
def ingest_flow(
    paths: list[str],
    warehouse: str | None = None,
    fmt: str = "auto",
    repeat_window_days: int | None = None,
    run_checks: bool = False,
    check_config: str | None = None,
) -> dict[str, Any]:
    """Load every file under `paths` into `warehouse` and report what happened.

    `warehouse` defaults to $QA_AUDIT_WAREHOUSE, else data/warehouse.duckdb. With `run_checks`, the
    automated checks then run over the whole warehouse (`check_config`: a YAML over the defaults).
    """
    warehouse = str(resolve_path(warehouse))
    files = list_files(paths, fmt)
    results = [load_one(f, warehouse, fmt, repeat_window_days) for f in files]
    checks = check_all(warehouse, check_config) if run_checks else None
    status = summarise(warehouse)
    summary = format_load_summary([LoadResult(**r) for r in results])
    return {"loads": results, "status": status, "summary_text": summary, "checks": checks}


if __name__ == "__main__":  # pragma: no cover
    import sys

    print(ingest_flow(paths=sys.argv[1:] or ["data/demo"])["summary_text"])
