"""Nightly benchmark: one night of N conversations end to end, the Prefect flow against its own library calls.

    python benchmarks/nightly.py [--conversations 1000000] [--seed 1] [--work benchmarks/_work]

1. Generates N synthetic conversations on ONE day (2026-11-01, `days=1`) as a flattened Parquet pair
   plus the KB and ground truth, cached in --work/night-n<N>-s<seed> (again when the generator's
   version changed).
2. Baseline, in a child process: the night's library calls in the flow's order, called directly
   (audits.nightly.steps: ingest, contract, checks, flags, draw, assign to five reviewers, the
   simulated reviewer, estimate, breach, report) into a fresh warehouse; no Prefect.
3. Ours, in a child process: `flows.nightly_audit.nightly_audit` on another fresh warehouse, under
   Prefect's temporary server, timed from the call (server start-up included) to its return.

Printed: each step's seconds in both runs, the flow's wall time, the sum of its library calls, and the
orchestration overhead (flow time minus the library calls), as seconds and as a share of the flow
time; with and without the temporary server's start-up. Target (issue 6): overhead under 10%.
Each child reports its peak resident memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from _common import REPO, child, machine  # noqa: E402 - a sibling module of this script

NIGHT = "2026-11-01"
REVIEWERS = ["ann", "bob", "cho", "dev", "eli"]

BASELINE = """
import datetime as dt, json, resource, sys, time, uuid
from pathlib import Path
from audits.nightly import steps
wh, data = sys.argv[1:3]
night = dt.date.fromisoformat(sys.argv[3]); reviewers = json.loads(sys.argv[4])
t0 = time.perf_counter()
run_id = str(uuid.uuid4())
steps.begin(wh, run_id, night, {})
files = [str(p) for p in sorted(Path(data).iterdir()) if not p.name.startswith("_")]
done = [steps.ingest(wh, run_id, files)]
done.append(steps.contract(wh, run_id, night, done[0]["counts"]["load_ids"]))
done.append(steps.checks(wh, run_id, night))
done.append(steps.flags(wh, run_id, night))
done.append(steps.draw(wh, run_id, night, None, None))
ids = [d["draw_id"] for d in done[-1]["counts"]["draws"]]
done.append(steps.assign(wh, run_id, ids, reviewers))
done.append(steps.simulate(wh, run_id, ids, str(Path(data) / "_ground_truth.jsonl")))
done.append(steps.estimate(wh, run_id, ids, 0.85))
done.append(steps.breach(wh, run_id, night, ["harbor-cx", "lumen-ai", "northwind-bpo"], 0.85))
done.append(steps.report(wh, run_id, night, done))
steps.end(wh, run_id, "completed")
wall = time.perf_counter() - t0
print(json.dumps({"wall": wall, "steps": {s["step"]: s["seconds"] for s in done},
                  "conversations": done[1]["counts"]["conversations"],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

OURS = """
import datetime as dt, json, resource, sys, time
wh, data = sys.argv[1:3]
night = dt.date.fromisoformat(sys.argv[3]); reviewers = json.loads(sys.argv[4])
t0 = time.perf_counter()
from flows.nightly_audit import nightly_audit
t1 = time.perf_counter()
out = nightly_audit(night=night, input_dir=data, warehouse=wh, reviewers=reviewers,
                    simulate_reviews=data + "/_ground_truth.jsonl")
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "call": t2 - t1, "flow": out["flow_seconds"], "library": out["library_seconds"],
                  "steps": {s["step"]: s["seconds"] for s in out["steps"]},
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def night_data(work: Path, conversations: int, seed: int) -> Path:
    """N conversations on one day, generated unless the cached folder matches the generator's version."""
    sys.path.insert(0, str(REPO))
    from audits.generator import GENERATOR_VERSION, generate  # noqa: PLC0415

    data = work / f"night-n{conversations}-s{seed}"
    stamp = data / ".generator-version"
    if not (stamp.is_file() and stamp.read_text() == GENERATOR_VERSION):
        shutil.rmtree(data, ignore_errors=True)
        t0 = time.perf_counter()
        generate(data, conversations=conversations, seed=seed, fmt="parquet", days=1, progress=True)
        stamp.write_text(GENERATOR_VERSION)
        print(f"generated {conversations:,} conversations on one day in {time.perf_counter() - t0:.1f}s")
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--conversations", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=REPO / "benchmarks" / "_work")
    args = ap.parse_args()
    data = night_data(args.work, args.conversations, args.seed)
    runs = args.work / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    base_wh, flow_wh = runs / "night-baseline.duckdb", runs / "night-flow.duckdb"
    for w in (base_wh, flow_wh):
        for p in (w, w.with_name(w.name + ".wal")):
            p.unlink(missing_ok=True)
    print(f"machine: {machine()}")
    print(f"night {NIGHT}: {args.conversations:,} conversations (seed {args.seed}) from {data}")
    rv = json.dumps(REVIEWERS)
    base = child(BASELINE, str(base_wh), str(data), NIGHT, rv)
    ours = child(OURS, str(flow_wh), str(data), NIGHT, rv)
    print(f"{'step':<10}{'library alone (s)':>20}{'in the flow (s)':>18}")
    for step, secs in base["steps"].items():
        print(f"{step:<10}{secs:>20.2f}{ours['steps'].get(step, float('nan')):>18.2f}")
    lib = ours["library"]
    print(f"baseline: the library calls alone {base['wall']:.1f}s wall, peak {base['peak_mb']:.0f} MB "
          f"({base['conversations']:,} conversations in the night)")  # fmt: skip
    print(f"flow: {ours['flow']:.1f}s inside the flow function, {ours['call']:.1f}s from the call "
          f"(the temporary Prefect server's start-up included); peak {ours['peak_mb']:.0f} MB")  # fmt: skip
    over, over_call = ours["flow"] - lib, ours["call"] - lib
    print(f"orchestration overhead: {over:.2f}s = {over / ours['flow']:.1%} of the flow "
          f"({over_call:.2f}s = {over_call / ours['call']:.1%} with the server start-up); target under 10%")  # fmt: skip


if __name__ == "__main__":
    main()
