"""The automated checks as a Prefect task: every conversation in the warehouse, set-based SQL."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from audits.checks.config import load_config
from audits.checks.run import run_checks
from audits.warehouse import connect, resolve_path
from flows.common import worth_retrying


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=worth_retrying, cache_policy=NO_CACHE)
def check_all(warehouse: str, config: str | None = None) -> dict[str, Any]:
    """Run the check catalogue over the whole warehouse; retried if the warehouse is busy."""
    cfg = load_config(config)
    con = connect(warehouse)
    try:
        run = run_checks(con, cfg)
    finally:
        con.close()
    for w in run.warnings:
        print(f"warning: {w}")
    print(f"checked {run.conversations} conversations in {run.seconds:.1f}s (run {run.run_id})")
    return run.to_dict()


@flow(name="checks", log_prints=True)
def checks_flow(warehouse: str | None = None, config: str | None = None) -> dict[str, Any]:
    """Run every automated check over `warehouse` (default $QA_AUDIT_WAREHOUSE, else data/warehouse.duckdb)."""
    return check_all(str(resolve_path(warehouse)), config)
