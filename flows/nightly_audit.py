"""The nightly audit: ingest -> contract -> checks -> flags -> draw -> queues -> estimates -> breach tests -> report.

Each task is one library call (audits.nightly.steps), with retries where the warehouse can be busy
or I/O can fail. The whole night holds the warehouse's nightly lock, so two nights never interleave
on one warehouse: the second waits `wait` seconds, then fails naming the run that holds it. Every
step is idempotent by night, so re-running a night after a crash (or retrying one failed step)
ends with the same warehouse as an uninterrupted run. docs/operations.md tells an operator how to
schedule it (prefect.yaml) or run it from cron (`qa-audit nightly`).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from audits.ingest.load import expand_paths
from audits.nightly import steps
from audits.nightly.lock import night_lock
from audits.nightly.plans import load_plans
from audits.warehouse import resolve_path
from flows.common import worth_retrying

# a task over a library call that can meet a busy warehouse or an I/O error: retried twice
retrying = task(retries=2, retry_delay_seconds=5, retry_condition_fn=worth_retrying, cache_policy=NO_CACHE)


@task(cache_policy=NO_CACHE)
def begin(warehouse: str, run_id: str, night: dt.date, parameters: dict[str, Any]) -> int:
    """Record the attempt as running; earlier attempts left running are marked crashed."""
    return steps.begin(warehouse, run_id, night, parameters)


@task(cache_policy=NO_CACHE)
def list_files(input_dir: str | None, night: dt.date) -> list[str]:
    """The night's export files (INPUT/<night> if it exists, else INPUT)."""
    return [str(p) for p in expand_paths([steps.night_input(input_dir, night)])]


@retrying
def ingest(warehouse: str, run_id: str, files: list[str]) -> dict[str, Any]:
    """Load the night's files under the data contract; a file loaded before is skipped."""
    return steps.ingest(warehouse, run_id, files)


@retrying
def contract(warehouse: str, run_id: str, night: dt.date, load_ids: list[str]) -> dict[str, Any]:
    """What the night holds and what its loads quarantined."""
    return steps.contract(warehouse, run_id, night, load_ids)


@retrying
def checks(warehouse: str, run_id: str, night: dt.date, config: str | None) -> dict[str, Any]:
    """Every automated check on the night's conversations (repeat contact over its window)."""
    return steps.checks(warehouse, run_id, night, config)


@retrying
def flags(warehouse: str, run_id: str, night: dt.date) -> dict[str, Any]:
    """Edge-case counts for the night, per supplier."""
    return steps.flags(warehouse, run_id, night)


@retrying
def draw(
    warehouse: str, run_id: str, night: dt.date, plans: list[str] | None, seed: str | None
) -> dict[str, Any]:
    """One seeded draw per nightly plan over the night's conversations."""
    return steps.draw(warehouse, run_id, night, plans, seed)


@retrying
def assign(warehouse: str, run_id: str, draw_ids: list[str], reviewers: list[str]) -> dict[str, Any]:
    """Put each draw's items in the reviewers' queues."""
    return steps.assign(warehouse, run_id, draw_ids, reviewers)


@retrying
def simulate(warehouse: str, run_id: str, draw_ids: list[str], truth: str) -> dict[str, Any]:
    """Demo only: the simulated reviewer scores the queues from the ground truth."""
    return steps.simulate(warehouse, run_id, draw_ids, truth)


@retrying
def estimate(warehouse: str, run_id: str, draw_ids: list[str], floor: float) -> dict[str, Any]:
    """Pass rates with intervals from the scores available."""
    return steps.estimate(warehouse, run_id, draw_ids, floor)


@retrying
def breach(warehouse: str, run_id: str, night: dt.date, suppliers: list[str], floor: float) -> dict[str, Any]:
    """The anytime-valid breach test per supplier over the nights so far."""
    return steps.breach(warehouse, run_id, night, suppliers, floor)


@retrying
def report(
    warehouse: str, run_id: str, night: dt.date, done: list[dict[str, Any]], contracts: list[str] | None
) -> dict[str, Any]:
    """The night's summary and the HTML report, written next to the warehouse."""
    return steps.report(warehouse, run_id, night, done, contracts)


@retrying
def end(warehouse: str, run_id: str, outcome: str, error: str | None = None) -> None:
    """Record how the attempt ended."""
    steps.end(warehouse, run_id, outcome, error)


def attempt_id(flow_run_id: str | None, run_count: int | None) -> str:
    """The attempt's id in `nightly_runs`: the flow run's id, suffixed by its run count on a Prefect retry
    (a retry from the UI or `prefect flow-run retry` reuses the flow run's id); a fresh uuid outside Prefect."""
    if not flow_run_id:
        return str(uuid.uuid4())
    return str(flow_run_id) if not run_count or run_count <= 1 else f"{flow_run_id}-{run_count}"


def yesterday(timezone: str) -> dt.date:
    """The night to audit by default: yesterday in `timezone` (the schedule's)."""
    return dt.datetime.now(ZoneInfo(timezone)).date() - dt.timedelta(days=1)


@flow(name="nightly-audit", log_prints=True)
def nightly_audit(
    night: dt.date | None = None,
    input_dir: str | None = None,
    warehouse: str | None = None,
    plans: list[str] | None = None,
    seed: str | None = None,
    reviewers: list[str] | None = None,
    floor: float = 0.85,
    check_config: str | None = None,
    simulate_reviews: str | None = None,
    wait: float = 0.0,
    timezone: str = "UTC",
    contracts: list[str] | None = None,
) -> dict[str, Any]:
    """Audit one night: `night` (default yesterday in `timezone`), exports in `input_dir`, into `warehouse`.

    plans: nightly sampling plans (files or folders; default data/plans/nightly); seed: prepended to
    each night's seed (the buyer's, if given); reviewers: who gets the review queues (none: no queues);
    floor: the contract's pass-rate floor for the breach test; simulate_reviews: a ground truth file
    for the demo's simulated reviewer; wait: seconds to wait for another night holding the warehouse;
    contracts: contract YAML files or folders the HTML report judges (default $QA_AUDIT_CONTRACTS, else
    ./data/contracts).
    """
    t0 = time.perf_counter()
    night = night or yesterday(timezone)
    warehouse = str(resolve_path(warehouse))
    run_id = attempt_id(flow_run.id, flow_run.run_count)
    parameters = {"night": night.isoformat(), "input_dir": input_dir, "warehouse": warehouse, "plans": plans,
                  "seed": seed, "reviewers": reviewers, "floor": floor, "check_config": check_config,
                  "simulate_reviews": simulate_reviews, "contracts": contracts}  # fmt: skip
    suppliers = sorted({s for p in load_plans(plans) for s in p.population.suppliers})
    with night_lock(warehouse, night, run_id, wait):
        crashed = begin(warehouse, run_id, night, parameters)
        if crashed:
            print(
                f"{crashed} earlier attempt(s) had been left running and are marked crashed (qa-audit runs)"
            )
        done: list[dict[str, Any]] = []
        try:
            files = list_files(input_dir, night)
            done.append(ingest(warehouse, run_id, files))
            done.append(contract(warehouse, run_id, night, done[-1]["counts"]["load_ids"]))
            print(
                f"night {night}: {done[-1]['counts']['conversations']} conversations; {done[-1]['counts']['verdict']}"
            )
            done.append(checks(warehouse, run_id, night, check_config))
            done.append(flags(warehouse, run_id, night))
            done.append(draw(warehouse, run_id, night, plans, seed))
            draw_ids = [d["draw_id"] for d in done[-1]["counts"]["draws"]]
            if reviewers:
                done.append(assign(warehouse, run_id, draw_ids, reviewers))
                if simulate_reviews:
                    done.append(simulate(warehouse, run_id, draw_ids, simulate_reviews))
            done.append(estimate(warehouse, run_id, draw_ids, floor))
            done.append(breach(warehouse, run_id, night, suppliers, floor))
            done.append(report(warehouse, run_id, night, done, contracts))
        except BaseException as exc:
            end(warehouse, run_id, "failed", f"{type(exc).__name__}: {exc}")
            raise
        end(warehouse, run_id, "completed")
    flow_seconds = time.perf_counter() - t0
    library = sum(s["seconds"] for s in done)
    return {"run_id": run_id, "night": night.isoformat(), "warehouse": warehouse, "steps": done,
            "flow_seconds": flow_seconds, "library_seconds": library, "overhead_seconds": flow_seconds - library}  # fmt: skip


if __name__ == "__main__":  # pragma: no cover
    import sys

    out = nightly_audit(night=dt.date.fromisoformat(sys.argv[1]) if len(sys.argv) > 1 else None)
    print({k: v for k, v in out.items() if k != "steps"})
