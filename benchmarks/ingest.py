"""Ingest benchmark: the full load against DuckDB's own CTAS of the same Parquet files.

    python benchmarks/ingest.py [--conversations 1000000] [--seed 1] [--work benchmarks/_work]

1. Generates N synthetic conversations (about 10 turns each) as a flattened Parquet pair, once per
   (N, seed) (cached in --work).
2. Baseline, in a child process: `CREATE TABLE AS SELECT * FROM read_parquet(...)` of both files
   into a new DuckDB file.
3. The full load, in a child process: `audits.ingest.load_paths` (staging, the contract in SQL and
   Great Expectations, derived columns, content hashes, repeat contacts, one transaction).

Each child reports its wall time and peak resident memory (ru_maxrss); the parent prints both side
by side with the ratio. Target (issue 2): full load within 3x of the baseline, under 4 GB peak.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from _common import REPO, child, machine  # noqa: E402 - a sibling module of this script

BASELINE = """
import json, resource, sys, time, duckdb
conv, turns, db = sys.argv[1:4]
t0 = time.perf_counter()
con = duckdb.connect(db)
con.execute(f"CREATE TABLE c AS SELECT * FROM read_parquet('{conv}')")
con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{turns}')")
n = con.execute("SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM t)").fetchall()[0]
con.close()
print(json.dumps({"seconds": time.perf_counter() - t0, "conversations": n[0], "turns": n[1],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

FULL = """
import json, resource, sys, time
t0 = time.perf_counter()
from audits.ingest import load_paths
conv, db = sys.argv[1:3]
t1 = time.perf_counter()
(r,) = load_paths([conv], warehouse_path=db, progress=False)
print(json.dumps({"seconds": time.perf_counter() - t1, "import_seconds": t1 - t0,
                  "conversations": r.records_loaded, "turns": r.turns_loaded,
                  "quarantined": r.records_quarantined, "timings": r.timings,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "_work")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from audits.generator import generate  # noqa: PLC0415

    data = args.work / f"n{args.conversations}-s{args.seed}"
    conv = data / "conversations.conversations.parquet"
    turns = data / "conversations.turns.parquet"
    if not (conv.exists() and turns.exists()):
        shutil.rmtree(data, ignore_errors=True)
        t0 = time.perf_counter()
        generate(data, conversations=args.conversations, seed=args.seed, fmt="parquet", progress=True)
        print(f"generated {args.conversations:,} conversations in {time.perf_counter() - t0:.1f}s")
    size_mb = (conv.stat().st_size + turns.stat().st_size) / 2**20

    runs = args.work / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True)
    base = child(BASELINE, str(conv), str(turns), str(runs / "baseline.duckdb"))
    full = child(FULL, str(conv), str(runs / "full.duckdb"))
    assert full["conversations"] + full["quarantined"] == base["conversations"], (full, base)

    print(f"\nmachine: {machine()}")
    print(
        f"input: {base['conversations']:,} conversations, {base['turns']:,} turns, {size_mb:.0f} MiB of Parquet\n"
    )
    print(f"{'':34}{'wall s':>9}{'conv/s':>12}{'turns/s':>12}{'peak MiB':>10}")
    for name, r in (
        ("baseline: DuckDB CTAS read_parquet", base),
        ("qa-audit load (contract, derived)", full),
    ):
        print(
            f"{name:34}{r['seconds']:9.1f}{base['conversations'] / r['seconds']:12,.0f}"
            f"{base['turns'] / r['seconds']:12,.0f}{r['peak_mb']:10,.0f}"
        )
    print(f"\nratio full / baseline: {full['seconds'] / base['seconds']:.2f}x (target <= 3x); "
          f"peak {full['peak_mb'] / 1024:.2f} GiB (target < 4 GiB)")  # fmt: skip
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in full["timings"].items())
    print(f"full load steps: {steps}; library import {full['import_seconds']:.1f}s (not in the wall time)")


if __name__ == "__main__":
    main()
