"""The partitioned audit: partitions by supplier and day, audited in parallel on a Dask cluster.

    partitions -> KB once -> [load + checks -> Parquet] per partition, in parallel on Dask
               -> prune gone partitions -> merge pass (repeat contacts) -> sample (top-k merged)

The flow process discovers the partitions, loads the KB once and then hands one task per
partition to a Dask cluster through prefect-dask's `DaskTaskRunner`: the one at `cluster_address`
(`dask scheduler` + `dask worker`s, or a `distributed.LocalCluster`), else a temporary local
cluster. Each task reads its files and writes its Parquet parts on a folder every worker sees. The
merge pass and the sample run in the flow process, over the Parquet. docs/scaling.md has the scheme.
The library (`audits.scale`) does the work; this module only arranges it.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from audits.ingest.derive import DEFAULT_REPEAT_WINDOW_DAYS
from audits.sampling.plan import load_plan
from audits.scale import (
    KbTemplate,
    Partition,
    audit_partition,
    discover,
    draw_sample,
    merge_partitions,
    prepare_kb,
    prune_outputs,
    write_sample,
)
from flows.common import worth_retrying


@task(cache_policy=NO_CACHE)
def list_partitions(input_dir: str) -> dict[str, Any]:
    """The input's partitions (files in load order) and KB files."""
    layout = discover(input_dir)
    return {
        "root": layout.root,
        "kb_files": list(layout.kb_files),
        "partitions": [p.to_dict() for p in layout.partitions],
    }


@task(retries=1, retry_delay_seconds=5, retry_condition_fn=worth_retrying, cache_policy=NO_CACHE)
def load_kb(input_dir: str, out_dir: str, work_dir: str) -> dict[str, Any]:
    """Load the KB once into the template every partition starts from."""
    kb = prepare_kb(discover(input_dir), out_dir, work_dir)
    print(
        f"KB: {kb.articles} article versions, {kb.quarantined} quarantined"
        + (" (reused)" if kb.reused else "")
    )
    return kb.to_dict()


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=worth_retrying, cache_policy=NO_CACHE)
def audit_one(
    partition: dict[str, Any],
    input_root: str,
    out_dir: str,
    work_dir: str,
    kb: dict[str, Any],
    check_config: str | None,
    repeat_window_days: int,
    threads: int | None,
) -> dict[str, Any]:
    """Load, check and write one partition's Parquet parts (skipped when its inputs are unchanged)."""
    result = audit_partition(
        Partition.from_dict(partition),
        input_root=input_root,
        out_dir=out_dir,
        work_dir=work_dir,
        kb=KbTemplate(**kb),
        check_config=check_config,
        repeat_window_days=repeat_window_days,
        threads=threads,
    )
    return result.to_dict()


@flow(name="partition-fan-out", log_prints=True)
def fan_out(
    partitions: list[dict[str, Any]],
    input_root: str,
    out_dir: str,
    work_dir: str,
    kb: dict[str, Any],
    check_config: str | None = None,
    repeat_window_days: int = DEFAULT_REPEAT_WINDOW_DAYS,
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """One task per partition, all submitted at once to this flow's task runner (a Dask cluster)."""
    futures = [
        audit_one.submit(p, input_root, out_dir, work_dir, kb, check_config, repeat_window_days, threads)
        for p in partitions
    ]
    results = [f.result() for f in futures]
    done = [r for r in results if r["status"] == "done"]
    print(f"{len(done)} partition(s) audited, {len(results) - len(done)} unchanged and skipped")
    return results


@task(cache_policy=NO_CACHE)
def prune(out_dir: str, keys: list[str]) -> list[str]:
    """Remove the outputs of partitions no longer in the input."""
    return prune_outputs(out_dir, keys)


@task(retries=1, retry_delay_seconds=5, retry_condition_fn=worth_retrying, cache_policy=NO_CACHE)
def merge(out_dir: str, work_dir: str, check_config: str | None, repeat_window_days: int) -> dict[str, Any]:
    """The merge pass: repeat contacts across partitions; rewrites the partitions that change."""
    result = merge_partitions(
        out_dir, work_dir, check_config=check_config, repeat_window_days=repeat_window_days
    )
    print(
        f"merge: {result.conversations} conversations, {result.repeat_contacts} repeat contacts, "
        f"{len(result.rewritten)} partition(s) rewritten"
        + (f"; {result.duplicates} conversation(s) in more than one partition" if result.duplicates else "")
    )
    return result.to_dict()


@task(cache_policy=NO_CACHE)
def sample(out_dir: str, plan: str, seed: str) -> dict[str, Any]:
    """The plan's sample over the Parquet partitions (per-partition top-k, merged)."""
    the_plan = load_plan(plan)
    selection = draw_sample(out_dir, the_plan, seed)
    path = write_sample(out_dir, selection, the_plan, seed)
    print(f"sample: {len(selection.items)} of {selection.population_count} conversations -> {path}")
    return {
        "path": str(path),
        "items": len(selection.items),
        "population_count": selection.population_count,
        "population_fingerprint": selection.population_fingerprint,
    }


def task_runner(cluster_address: str | None) -> Any:
    """prefect-dask's runner on the cluster at `cluster_address`, else on a temporary local cluster."""
    from prefect_dask import DaskTaskRunner  # noqa: PLC0415

    return DaskTaskRunner(address=cluster_address) if cluster_address else DaskTaskRunner()


@flow(name="partitioned-audit", log_prints=True)
def partitioned_audit(
    input_dir: str,
    out_dir: str,
    work_dir: str,
    plan: str,
    seed: str,
    cluster_address: str | None = None,
    check_config: str | None = None,
    repeat_window_days: int = DEFAULT_REPEAT_WINDOW_DAYS,
    threads: int | None = None,
) -> dict[str, Any]:
    """Audit a partitioned input (INPUT/supplier=<s>/day=<d>/, INPUT/kb/) into Parquet parts under
    `out_dir` and draw `plan`'s sample with `seed`; `work_dir` holds the partitions' DuckDB files.

    `cluster_address`: a Dask scheduler (tcp://host:8786); without it a temporary local cluster.
    `threads` caps DuckDB's threads per partition task.
    """
    layout = list_partitions(input_dir)
    kb = load_kb(input_dir, out_dir, work_dir)
    results = fan_out.with_options(task_runner=task_runner(cluster_address))(
        layout["partitions"], layout["root"], out_dir, work_dir, kb, check_config, repeat_window_days, threads
    )
    pruned = prune(out_dir, [p["key"] for p in layout["partitions"]])
    merged = merge(out_dir, work_dir, check_config, repeat_window_days)
    drawn = sample(out_dir, plan, seed)
    return {"kb": kb, "partitions": results, "pruned": pruned, "merge": merged, "sample": drawn}


if __name__ == "__main__":  # pragma: no cover
    import sys

    # python -m flows.partitioned_audit INPUT OUT WORK PLAN SEED [CLUSTER_ADDRESS]
    args = sys.argv[1:]
    address = args[5] if len(args) > 5 else None
    print(partitioned_audit(args[0], args[1], args[2], args[3], args[4], cluster_address=address))
