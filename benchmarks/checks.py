"""Checks benchmark: every automated check over N conversations against DuckDB's plain scan of the turns.

    python benchmarks/checks.py [--conversations 1000000] [--seed 1] [--work benchmarks/_work]

1. Generates N synthetic conversations (about 10 turns each) as a flattened Parquet pair plus the KB,
   in the same cached folder as benchmarks/ingest.py (again when the generator's version changed),
   then loads the folder (`audits.ingest.load_paths`: the conversations pair and kb_articles.jsonl)
   into a warehouse, cached in --work/checks/ per (N, seed) and a fingerprint of the code that builds
   it (audits/generator, audits/ingest, audits/warehouse.py), so a changed derived column is never
   measured on a stale warehouse. Each measured run gets its own copy, since the checks write into it.
2. Baseline, in a child process: `SELECT count(*), sum(length(text)) FROM turns` on a copy (every
   turn's text read once), with the counts of conversations and turns.
3. Ours, in a child process: `audits.checks.run.run_checks(con)` on a fresh copy opened with
   `audits.warehouse.connect` (so under the product's memory limit, $QA_AUDIT_MEMORY_LIMIT or 3GB):
   the eleven checks of the default configuration over every conversation, and the transaction that
   stores their results in `check_results`. The child also times the close (DuckDB's checkpoint of
   the results), which the wall figure does not include.

Each child reports its wall time, CPU time (all threads) and peak resident memory (ru_maxrss); the
parent prints them side by side with the ratio and each check's seconds. On a shared machine, CPU
time well under twice the wall time means the run waited for cores: `--repeat N` measures N times and
reports the median run. Target (issue 4): all checks over 1,000,000
conversations in under 2 minutes on two cores, under 6 GB peak.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import REPO, child, machine  # noqa: E402 - a sibling module of this script

TARGET_SECONDS = 120.0
TARGET_PEAK_MB = 6e9 / 2**20  # 6 GB

BASELINE = """
import json, resource, sys, time, duckdb
db, = sys.argv[1:2]
t0, c0 = time.perf_counter(), time.process_time()
con = duckdb.connect(db)
turns, chars = con.execute("SELECT count(*), sum(length(text)) FROM turns").fetchall()[0]
t1, c1 = time.perf_counter(), time.process_time()
conversations = con.execute("SELECT count(*) FROM conversations").fetchall()[0][0]
kb = con.execute("SELECT count(*) FROM kb_articles").fetchall()[0][0]
threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
con.close()
print(json.dumps({"seconds": t1 - t0, "cpu_seconds": c1 - c0, "turns": turns, "chars": chars, "conversations": conversations,
                  "kb_articles": kb, "threads": threads,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

OURS = """
import json, resource, sys, time
t0 = time.perf_counter()
from audits import warehouse
from audits.checks.run import run_checks
db, = sys.argv[1:2]
t1 = time.perf_counter()
con = warehouse.connect(db)
limit, threads = con.execute(
    "SELECT current_setting('memory_limit'), current_setting('threads')").fetchall()[0]
t2, c2 = time.perf_counter(), time.process_time()
run = run_checks(con)
t3, c3 = time.perf_counter(), time.process_time()
rows = con.execute("SELECT count(*) FROM check_results").fetchall()[0][0]
con.close()
t4 = time.perf_counter()
print(json.dumps({"seconds": t3 - t2, "cpu_seconds": c3 - c2, "import_seconds": t1 - t0, "connect_seconds": t2 - t1,
                  "close_seconds": t4 - t3, "run_seconds": run.seconds, "timings": run.timings,
                  "counts": run.counts, "conversations": run.conversations, "result_rows": rows,
                  "warnings": run.warnings, "memory_limit": limit, "threads": threads,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

LOAD = """
import json, sys, time
from audits.ingest import load_paths
folder, db = sys.argv[1:3]
t0 = time.perf_counter()
results = load_paths([folder], warehouse_path=db, progress=False)
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "files": {r.kind: r.records_loaded for r in results},
                  "quarantined": sum(r.records_quarantined for r in results)}))
"""


def data_folder(work: Path, conversations: int, seed: int) -> Path:
    """The generated folder (the one benchmarks/ingest.py uses too), generated unless it is current."""
    sys.path.insert(0, str(REPO))
    from audits.generator import GENERATOR_VERSION, generate  # noqa: PLC0415

    data = work / f"n{conversations}-s{seed}"
    names = ("conversations.conversations.parquet", "conversations.turns.parquet", "kb_articles.jsonl")
    summary = data / "_ground_truth_summary.json"
    current = (
        summary.exists() and json.loads(summary.read_text()).get("generator_version") == GENERATOR_VERSION
    )
    if not (current and all((data / n).exists() for n in names)):
        shutil.rmtree(data, ignore_errors=True)
        t0 = time.perf_counter()
        generate(data, conversations=conversations, seed=seed, fmt="parquet", progress=True)
        print(f"generated {conversations:,} conversations in {time.perf_counter() - t0:.1f}s")
    return data


def code_fingerprint() -> str:
    """sha256 (10 hex digits) of the source that decides what a loaded warehouse holds."""
    audits = REPO / "audits"
    files = sorted(
        [*(audits / "generator").glob("*.py"), *(audits / "ingest").glob("*.py"), audits / "warehouse.py"]
    )
    h = hashlib.sha256()
    for f in files:
        h.update(f.relative_to(REPO).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:10]


def build(work: Path, conversations: int, seed: int) -> Path:
    """The loaded warehouse for (N, seed) and the current code, built unless it is cached."""
    stem = f"n{conversations}-s{seed}"
    db = work / "checks" / f"{stem}-{code_fingerprint()}.duckdb"
    if db.exists():
        return db
    data = data_folder(work, conversations, seed)
    db.parent.mkdir(parents=True, exist_ok=True)
    for old in db.parent.glob(f"{stem}-*.duckdb*"):  # built by older code, or a load cut short
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    partial = db.with_name(db.name + ".partial")
    loaded = child(LOAD, str(data), str(partial))  # the child closes (checkpoints) the file when done
    partial.rename(db)  # only a complete load becomes the cached warehouse
    print(
        f"loaded {loaded['files']} ({loaded['quarantined']} quarantined) in {loaded['seconds']:.1f}s ({db})"
    )
    return db


def code_version() -> str:
    """The repository's commit, and whether audits/ differs from it (figures belong to a version)."""
    git = ["git", "-C", str(REPO)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no", "--", "audits"],
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head.stdout.strip() + (" with uncommitted changes in audits/" if dirty.stdout.strip() else "")


def fresh_copy(db: Path, runs: Path, name: str) -> Path:
    """A copy of the cached warehouse for one measured run."""
    target = runs / name
    for p in (target, Path(f"{target}.wal")):
        p.unlink(missing_ok=True)
    shutil.rmtree(f"{target}.tmp", ignore_errors=True)
    shutil.copyfile(db, target)
    return target


def median_run(runs: list[dict]) -> dict:
    """The run with the median wall time (the lower middle one for an even count)."""
    return sorted(runs, key=lambda r: r["seconds"])[(len(runs) - 1) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=1, help="measure each side this many times; report the median run"
    )
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "_work")
    args = parser.parse_args()

    version = code_version()  # before measuring: the code may change while the runs take minutes
    db = build(args.work, args.conversations, args.seed)
    runs = args.work / "checks" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    bases, ourses, loads = [], [], []
    for _ in range(max(1, args.repeat)):
        loads.append(os.getloadavg()[0])  # other work on the machine slows the figures: say so
        bases.append(child(BASELINE, str(fresh_copy(db, runs, "baseline.duckdb"))))
        ourses.append(child(OURS, str(fresh_copy(db, runs, "checks.duckdb"))))
    base, ours = median_run(bases), median_run(ourses)
    assert ours["conversations"] == base["conversations"], (ours["conversations"], base["conversations"])
    assert ours["result_rows"] == base["conversations"] * len(ours["counts"]), ours["result_rows"]

    n, turns = base["conversations"], base["turns"]
    print(f"\nmachine: {machine()}")
    print(f"code: commit {version}" + ("" if version == code_version() else f" (now {code_version()})"))
    print(
        f"warehouse: {n:,} conversations, {turns:,} turns ({base['chars'] / 1e9:.2f} G characters of text), "
        f"{base['kb_articles']} KB article versions, {db.stat().st_size / 2**20:,.0f} MiB file"
    )
    print(
        f"DuckDB: threads {ours['threads']}, memory_limit {ours['memory_limit']} "
        f"($QA_AUDIT_MEMORY_LIMIT: {os.environ.get('QA_AUDIT_MEMORY_LIMIT', 'unset, so the default 3GB')})"
    )
    if len(ourses) > 1:
        walls = ", ".join(f"{r['seconds']:.1f} (CPU {r['cpu_seconds']:.1f})" for r in ourses)
        print(f"{len(ourses)} runs of each; the median run is shown; checks wall seconds: {walls}")
    print(f"load average before each run: {', '.join(f'{x:.1f}' for x in loads)}\n")
    print(f"{'':40}{'wall s':>9}{'CPU s':>9}{'conv/s':>12}{'turns/s':>12}{'peak MiB':>10}")
    for name, r in (
        ("baseline: scan turns (count, length)", base),
        ("qa-audit check: all checks, stored", ours),
    ):
        print(
            f"{name:40}{r['seconds']:9.2f}{r['cpu_seconds']:9.2f}{n / r['seconds']:12,.0f}"
            f"{turns / r['seconds']:12,.0f}{r['peak_mb']:10,.0f}"
        )

    print(f"\n{'check':24}{'seconds':>9}{'share':>7}{'pass':>11}{'fail':>10}{'na':>11}")
    for cid, sec in sorted(ours["timings"].items(), key=lambda kv: -kv[1]):
        c = ours["counts"][cid]
        print(f"{cid:24}{sec:9.2f}{sec / ours['seconds']:7.0%}{c['pass']:11,}{c['fail']:10,}{c['na']:11,}")
    store = ours["run_seconds"] - sum(ours["timings"].values())
    print(f"{'(set-up, counts, store)':24}{store:9.2f}{store / ours['seconds']:7.0%}")
    print(f"{'(close: checkpoint)':24}{ours['close_seconds']:9.2f}   not in the wall time")

    met_time = ours["seconds"] < TARGET_SECONDS
    met_peak = max(r["peak_mb"] for r in ourses) < TARGET_PEAK_MB
    print(
        f"\nratio checks / baseline: {ours['seconds'] / base['seconds']:.0f}x; "
        f"target < {TARGET_SECONDS:.0f} s on two cores: {ours['seconds']:.1f}s, "
        f"{'met' if met_time else 'NOT met'} ({os.cpu_count()} cores here); "
        f"peak {max(r['peak_mb'] for r in ourses) / 1024:.2f} GiB (target < 6 GB): "
        f"{'met' if met_peak else 'NOT met'}"
    )
    print(
        f"{ours['result_rows']:,} rows in check_results; library import {ours['import_seconds']:.1f}s "
        f"and connect {ours['connect_seconds']:.1f}s not in the wall time"
        + "".join(f"\nwarning: {w}" for w in ours["warnings"])
    )


if __name__ == "__main__":
    main()
