"""Sampling benchmark: a recorded stratified draw on 10M conversations against pandas' groupby sample.

    python benchmarks/sampling.py [--rows 10000000] [--pandas-rows N] [--seed 2026] [--work benchmarks/_work]

1. Generates N conversations directly in a DuckDB warehouse, once per N (cached in --work): 3 suppliers
   x 6 channels x 3 handlers x 2 markets = 108 strata, every column derived from hash(i) (no Python
   loop); about 6% automation_failed, about 4% low CSAT; content_hash = md5 of the id.
2. Ours, in a child process: `audits.sampling.draw` of a plan file (proportional over the 108 strata,
   n = 2000, min 5 per stratum, edge cases failed_automation at 1% capped at 1000 and low_csat at 0.1%
   capped at 500) written to a temp dir. The draw includes what pandas does not do: the population
   fingerprint (sha256 over the sorted population), the keyed-hash u of every row, and the one
   transaction that stores draws / draw_strata / draw_items. Previous draws are dropped first.
   The child then times `population_summary` and `select` alone (warm) as a breakdown.
3. Baseline, in a child process: load the strata and flag columns from the same warehouse into pandas
   (timed separately), then `df.groupby(strata).sample(n=k, random_state=seed)` with k = 2000 / 108
   rounded up (the same total), plus `df[df.automation_failed].sample(n=min(1000, ceil(1%)))` for the edge case.

Each child reports wall time and peak resident memory (ru_maxrss). Target: our draw < 10 s on two cores.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

from _common import REPO, child, machine  # noqa: E402 - a sibling module of this script

STRATA = ["supplier", "channel", "handler", "market"]
N_STRATA = 3 * 6 * 3 * 2
SAMPLE_N = 2000

GENERATE_SQL = """
INSERT INTO conversations (supplier, conversation_id, channel, handler, started_at, ended_at, market, language,
                           journey, csat, automation_failed, escalation_requested_at, is_repeat_contact,
                           content_hash)
SELECT ['acme-bpo', 'beta-care', 'gamma-cx'][h % 3 + 1],
       'c-' || i,
       ['chat', 'voice', 'email', 'sms', 'whatsapp', 'social'][(h >> 8) % 6 + 1],
       ['ai', 'human', 'hybrid'][(h >> 16) % 3 + 1],
       TIMESTAMPTZ '2026-11-01 00:00:00+00' + to_seconds(((h >> 24) % 2592000)::BIGINT),
       TIMESTAMPTZ '2026-11-01 00:00:00+00' + to_seconds(((h >> 24) % 2592000)::BIGINT + 600),
       ['SG', 'MY'][(h >> 48) % 2 + 1],
       'en',
       'refund',
       CASE WHEN (h >> 50) % 100 < 4 THEN 1 + (h >> 50) % 2 ELSE 3 + (h >> 50) % 3 END,
       (h >> 32) % 100 < 6,
       CASE WHEN (h >> 40) % 100 < 3 THEN TIMESTAMPTZ '2026-11-01 00:00:00+00' END,
       (h >> 56) % 100 < 8,
       md5(i::VARCHAR)
FROM (SELECT i, (hash(i) >> 1)::BIGINT AS h FROM range(?) t(i))
"""

PLAN_YAML = """
name: benchmark
population: {from: 2026-11-01, to: 2026-11-30, suppliers: [acme-bpo, beta-care, gamma-cx]}
strata: [supplier, channel, handler, market]
allocation: proportional
size: {n: SAMPLE_N}
min_per_stratum: 5
edge_cases:
  - {name: failed_automation, rate: 0.01, cap: 1000}
  - {name: low_csat, rate: 0.001, cap: 500}
""".replace("SAMPLE_N", str(SAMPLE_N))

OURS = """
import json, resource, sys, tempfile, time
from pathlib import Path
t0 = time.perf_counter()
from audits import warehouse
from audits.sampling import draw, load_plan, select
from audits.sampling.select import population_summary
db, plan_yaml, seed = sys.argv[1:4]
t1 = time.perf_counter()
with tempfile.TemporaryDirectory() as tmp:
    (Path(tmp) / "plan.yaml").write_text(plan_yaml)
    con = warehouse.connect(db)
    con.execute("DROP TABLE IF EXISTS draws; DROP TABLE IF EXISTS draw_items; DROP TABLE IF EXISTS draw_strata")
    con.execute("CHECKPOINT")
    t2 = time.perf_counter()
    plan = load_plan(Path(tmp) / "plan.yaml")
    d = draw(con, plan, seed)
    t3 = time.perf_counter()
    assert not d.existing
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t4 = time.perf_counter()
    population_summary(con, plan)
    t5 = time.perf_counter()
    s = select(con, plan, seed)
    t6 = time.perf_counter()
    assert s.items == d.items
    con.close()
edge = sum(1 for i in d.items if i.reason != "random")
print(json.dumps({"seconds": t3 - t2, "import_seconds": t1 - t0, "peak_mb": peak,
                  "population": d.population_count, "strata": len(d.strata), "items": len(d.items),
                  "edge_items": edge, "summary_seconds": t5 - t4, "select_seconds": t6 - t5}))
"""

PANDAS = """
import json, math, resource, sys, time
t0 = time.perf_counter()
import duckdb, pandas as pd
db, seed, rows, k, strata = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].split(",")
t1 = time.perf_counter()
con = duckdb.connect(db, read_only=True)
con.execute("SET TimeZone = 'UTC'")
limit = f"WHERE substr(conversation_id, 3)::BIGINT < {rows}" if rows else ""
df = con.execute(f"SELECT supplier, conversation_id, {', '.join(c for c in strata if c != 'supplier')}, "
                 f"automation_failed FROM conversations {limit}").df()
con.close()
t2 = time.perf_counter()
sample = df.groupby(strata).sample(n=k, random_state=seed)
failed = df[df["automation_failed"]]
edge = failed.sample(n=min(1000, math.ceil(0.01 * len(failed))), random_state=seed)
t3 = time.perf_counter()
print(json.dumps({"load_seconds": t2 - t1, "seconds": t3 - t2, "import_seconds": t1 - t0,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rows": len(df), "items": len(sample) + len(edge), "groups": int(df.groupby(strata).ngroups)}))
"""


def build(db: Path, rows: int) -> None:
    """Create the warehouse with `rows` generated conversations unless it already holds exactly that."""
    sys.path.insert(0, str(REPO))
    from audits import warehouse  # noqa: PLC0415

    if db.exists():
        with warehouse.open_warehouse(db) as con:
            if warehouse.scalar(con, "SELECT count(*) FROM conversations") == rows:
                return
        db.unlink()
    db.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with warehouse.open_warehouse(db) as con:
        con.execute(GENERATE_SQL, [rows])
        con.execute("CHECKPOINT")
    print(f"generated {rows:,} conversations in {time.perf_counter() - t0:.1f}s ({db})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--pandas-rows", type=int, default=0, help="rows for the pandas baseline only (0: all of them)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "_work")
    args = parser.parse_args()

    db = args.work / "sampling" / f"n{args.rows}.duckdb"
    build(db, args.rows)
    k = math.ceil(SAMPLE_N / N_STRATA)
    ours = child(OURS, str(db), PLAN_YAML, str(args.seed))
    base = child(PANDAS, str(db), str(args.seed), str(args.pandas_rows), str(k), ",".join(STRATA))

    print(f"\nmachine: {machine(pandas=True)}")
    print(f"population: {ours['population']:,} conversations, {ours['strata']} strata (incl. edge strata)\n")
    print(f"{'':46}{'rows':>12}{'wall s':>9}{'peak MiB':>10}{'items':>7}")
    print(
        f"{'ours: audits.sampling.draw (recorded)':46}{ours['population']:12,}{ours['seconds']:9.2f}"
        f"{ours['peak_mb']:10,.0f}{ours['items']:7,}"
    )
    print(f"{'  of which population_summary (warm, alone)':46}{'':12}{ours['summary_seconds']:9.2f}")
    print(f"{'  select alone (warm, incl. summary)':46}{'':12}{ours['select_seconds']:9.2f}")
    print(f"{'pandas: load 6 columns into a DataFrame':46}{base['rows']:12,}{base['load_seconds']:9.2f}")
    print(
        f"{f'pandas: groupby(strata).sample(n={k}) + edge':46}{base['rows']:12,}{base['seconds']:9.2f}"
        f"{base['peak_mb']:10,.0f}{base['items']:7,}"
    )
    print(f"{'pandas: load + sample':46}{'':12}{base['load_seconds'] + base['seconds']:9.2f}")
    verdict = "met" if ours["seconds"] < 10 else "NOT met"
    print(
        f"\ntarget: our draw < 10 s on two cores: {ours['seconds']:.2f}s, {verdict} "
        f"({os.cpu_count()} cores here); edge-case items {ours['edge_items']}; "
        f"library import {ours['import_seconds']:.1f}s not in the wall time"
    )


if __name__ == "__main__":
    main()
