"""Partitioned benchmark: the partitioned-audit flow on a Dask LocalCluster against one warehouse.

    python benchmarks/partitioned.py [--conversations 50000] [--days 7] [--workers 2]
                                     [--duckdb-threads 1] [--seed 1] [--work benchmarks/_work]

1. Generates N synthetic conversations over D days as JSON lines with the KB (cached in
   --work/partitioned/), the interchange format a supplier hands over.
2. Baseline, in a child process: one warehouse: `load_paths` of the folder, `run_checks`, and the
   demo plan's draw (`audits.sampling.select`), each timed.
3. Ours: `split_exports` (timed), then, with a Prefect temporary server and a
   `distributed.LocalCluster` of W worker processes (one thread each) already running (their start-up
   is reported apart), the `partitioned-audit` flow pointed at the cluster's address: the KB once,
   one task per partition (load, checks, Parquet), the merge pass, the sample. Then the flow again
   on the same input (every partition unchanged: skipped), and once more after one partition's file
   changed (that partition alone is redone; the comparison in 4 is made before this change).
4. Checks that both gave the same check results (per check and outcome) and the same sample
   (population fingerprint and items), and prints the figures with the machine.

The work done inside the partitions is summed from their own timings, so the output separates the
fixed cost each partition pays (a DuckDB file, eleven checks' SQL, a Great Expectations run, four
Parquet writes) from orchestration (flow time minus the library calls on the critical path).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from _common import REPO, child, machine  # noqa: E402 - a sibling module of this script

PLAN = str(REPO / "data" / "plans" / "demo-week.yaml")
SEED = "bench-42"

SINGLE = """
import json, resource, sys, time
from audits import warehouse
from audits.checks.run import run_checks
from audits.ingest import load_paths
from audits.sampling import select
from audits.sampling.plan import load_plan
folder, db, plan, seed = sys.argv[1:5]
t0 = time.perf_counter()
results = load_paths([folder], warehouse_path=db, progress=False)
t1 = time.perf_counter()
with warehouse.open_warehouse(db) as con:
    run = run_checks(con)
    t2 = time.perf_counter()
    sel = select(con, load_plan(plan), seed)
    t3 = time.perf_counter()
    counts = dict(((c, o), n) for c, o, n in con.execute(
        "SELECT check_id, outcome, count(*) FROM check_results GROUP BY ALL").fetchall())
print(json.dumps({"load": t1 - t0, "checks": t2 - t1, "sample": t3 - t2, "total": t3 - t0,
                  "conversations": run.conversations,
                  "counts": {f"{c}/{o}": n for (c, o), n in sorted(counts.items())},
                  "fingerprint": sel.population_fingerprint,
                  "items": sorted([i.supplier, i.conversation_id, i.weight] for i in sel.items),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def data_folder(work: Path, conversations: int, days: int, seed: int) -> Path:
    sys.path.insert(0, str(REPO))
    from audits.generator import GENERATOR_VERSION, generate  # noqa: PLC0415

    data = work / "partitioned" / f"src-n{conversations}-d{days}-s{seed}"
    summary = data / "_ground_truth_summary.json"
    current = (
        summary.exists() and json.loads(summary.read_text()).get("generator_version") == GENERATOR_VERSION
    )
    if not current:
        shutil.rmtree(data, ignore_errors=True)
        t0 = time.perf_counter()
        generate(data, conversations=conversations, seed=seed, days=days)
        print(
            f"generated {conversations:,} conversations over {days} days in {time.perf_counter() - t0:.1f}s"
        )
    return data


def _same_answers(out: Path, report: dict, single: dict) -> bool:
    """Same check results (per check and outcome) and the same sample as the single warehouse."""
    from audits.scale import open_outputs  # noqa: PLC0415

    con = open_outputs(out)
    counts = {
        f"{c}/{o}": n
        for c, o, n in con.execute(
            "SELECT check_id, outcome, count(*) FROM check_results GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    }
    con.close()
    drawn = json.loads(Path(report["sample"]["path"]).read_text())
    items = sorted([i["supplier"], i["conversation_id"], i["weight"]] for i in drawn["items"])
    fingerprint = report["sample"]["population_fingerprint"]
    return counts == single["counts"] and items == single["items"] and fingerprint == single["fingerprint"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--conversations", type=int, default=50_000)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--duckdb-threads", type=int, default=1, help="DuckDB threads per partition task")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=REPO / "benchmarks" / "_work")
    args = ap.parse_args()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

    src = data_folder(args.work, args.conversations, args.days, args.seed)
    run = args.work / "partitioned" / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    size = sum(f.stat().st_size for f in src.glob("*.jsonl")) / 2**20
    print(f"input: {args.conversations:,} conversations over {args.days} days, {size:.0f} MiB of JSON lines")

    single = child(SINGLE, str(src), str(run / "one.duckdb"), PLAN, SEED)
    print(
        f"one warehouse: load {single['load']:.1f}s, checks {single['checks']:.1f}s, "
        f"sample {single['sample']:.1f}s; total {single['total']:.1f}s (peak {single['peak_mb']:.0f} MiB)"
    )

    sys.path.insert(0, str(REPO))
    from distributed import LocalCluster  # noqa: PLC0415
    from prefect.testing.utilities import prefect_test_harness  # noqa: PLC0415

    from audits.scale import split_exports  # noqa: PLC0415
    from flows.partitioned_audit import partitioned_audit  # noqa: PLC0415

    t0 = time.perf_counter()
    split = split_exports([src], run / "input")
    split_s = time.perf_counter() - t0
    print(f"split: {split.records:,} records into {split.partitions} partitions in {split_s:.1f}s")

    t0 = time.perf_counter()
    with prefect_test_harness(server_startup_timeout=120):
        server_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            cluster_s = time.perf_counter() - t0
            flow_args = (str(run / "input"), str(run / "out"), str(run / "work"), PLAN, SEED)
            t0 = time.perf_counter()
            report = partitioned_audit(
                *flow_args, cluster_address=cluster.scheduler_address, threads=args.duckdb_threads
            )
            flow_s = time.perf_counter() - t0
            same = _same_answers(run / "out", report, single)  # before the input changes below
            t0 = time.perf_counter()
            again = partitioned_audit(
                *flow_args, cluster_address=cluster.scheduler_address, threads=args.duckdb_threads
            )
            rerun_s = time.perf_counter() - t0
            # one supplier-day re-exported (its last record dropped): only that partition is redone
            changed = next(p for p in sorted((run / "input").glob("supplier=*/day=*/*.jsonl")))
            lines = changed.read_bytes().splitlines(keepends=True)
            changed.write_bytes(b"".join(lines[:-1]))
            t0 = time.perf_counter()
            third = partitioned_audit(
                *flow_args, cluster_address=cluster.scheduler_address, threads=args.duckdb_threads
            )
            one_s = time.perf_counter() - t0
    print(
        f"(Prefect temporary server {server_s:.1f}s, LocalCluster of {args.workers} workers {cluster_s:.1f}s)"
    )

    parts = report["partitions"]
    steps: dict[str, float] = {}
    for p in parts:
        for k, v in p["timings"].items():
            steps[k] = steps.get(k, 0.0) + v
    work_s = sum(p["seconds"] for p in parts)
    merge_s = report["merge"]["seconds"]
    print(f"partitioned flow: {flow_s:.1f}s for {len(parts)} partitions on {args.workers} workers")
    print(
        f"    partition tasks: {work_s:.1f}s of work in all ("
        + ", ".join(f"{k} {v:.1f}s" for k, v in steps.items())
        + f"), {work_s / max(len(parts), 1):.2f}s per partition"
    )
    print(f"    merge pass {merge_s:.1f}s ({len(report['merge']['rewritten'])} partitions rewritten)")
    print(
        f"    re-run with nothing changed: {rerun_s:.1f}s ({sum(p['status'] == 'skipped' for p in again['partitions'])} skipped)"
    )
    redone = sum(p["status"] == "done" for p in third["partitions"])
    print(f"    re-run after one partition changed: {one_s:.1f}s ({redone} redone)")
    total = split_s + flow_s
    print(
        f"split + flow {total:.1f}s vs one warehouse {single['total']:.1f}s: "
        f"{single['total'] / total:.2f}x the single warehouse's speed"
    )
    print(f"same check results and sample as one warehouse: {'yes' if same else 'NO'}")
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the end")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
