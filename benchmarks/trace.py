"""Trace benchmark: a failed answer's similar answers with the saved index against brute force.

    python benchmarks/trace.py [--conversations 1000000] [--seed 1] [--queries 5] [--brute-queries 5]
                               [--work benchmarks/_work]

1. The loaded warehouse of benchmarks/checks.py (N synthetic conversations with planted edge cases,
   cached in --work/checks/ per (N, seed) and code fingerprint; built first when missing). It is only
   read here (opened read-only), so no copy is made.
2. Queries: the first `--queries` planted KB contradictions of type stale_version in the generator's
   ground truth, one per article: each is a failed answer (supplier, conversation, turn, article,
   version) as an auditor would trace it.
3. Build, in a child process: `audits.trace.similar.build_index` over every agent answer (the one-off
   cost: read the turns in Arrow batches, fit TfidfVectorizer, save the folder). Wall time, peak
   resident memory, rows, features and the index's size on disk.
4. Search, in a child process (a fresh one, as after the build): `load_index` (timed apart), then for
   each query `Index.search(text, threshold=0.5)` and the whole `blast_radius` (cited version + similar
   answers + population and interval) with that index; the medians are reported.
5. Baseline, in a child process: `brute_force_search` (fit a vectoriser over every answer, score all)
   for the first `--brute-queries` queries. The parent checks that it returns the same hits as the index.

Target (issue 5): after the one-off build, a failed answer's search in under 5 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
from pathlib import Path

from _common import REPO, child, machine  # noqa: E402 - sibling modules of this script
from checks import build, code_version, data_folder  # noqa: E402

TARGET_SECONDS = 5.0
THRESHOLD = 0.5

BUILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from audits import warehouse
from audits.trace.similar import build_index
db, folder = sys.argv[1:3]
t1 = time.perf_counter()
con = warehouse.connect(db, read_only=True)
info = build_index(con, folder)
t2 = time.perf_counter()
con.close()
print(json.dumps({"seconds": t2 - t1, "import_seconds": t1 - t0, "info": info.to_dict(),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

SEARCH = """
import json, resource, statistics, sys, time
from audits import warehouse
from audits.trace.similar import load_index
from audits.trace.blast import blast_radius
db, folder, queries, threshold = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4])
con = warehouse.connect(db, read_only=True)
t0 = time.perf_counter()
idx = load_index(folder)
t1 = time.perf_counter()
stale = idx.stale(con)
t2 = time.perf_counter()
out = []
for q in queries:
    (text,) = con.execute("SELECT text FROM turns WHERE supplier = ? AND conversation_id = ? AND turn_index = ?",
                          [q["supplier"], q["conversation_id"], q["turn"]]).fetchall()[0]
    s0 = time.perf_counter()
    hits = idx.search(text, threshold=threshold)
    s1 = time.perf_counter()
    r = blast_radius(con, supplier=q["supplier"], conversation_id=q["conversation_id"], turn=q["turn"],
                     article_id=q["article_id"], article_version=q["version"], index=idx, threshold=threshold)
    s2 = time.perf_counter()
    out.append({"search_seconds": s1 - s0, "blast_seconds": s2 - s1, "hits": len(hits),
                "keys": sorted([h.supplier, h.conversation_id, h.turn_index] for h in hits),
                "rows": len(r.rows), "cited": r.cited, "similar": r.similar, "population": r.population,
                "customers": len(r.customers), "text": text})
con.close()
print(json.dumps({"load_seconds": t1 - t0, "stale_seconds": t2 - t1, "stale": stale, "queries": out,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

BRUTE = """
import json, resource, sys, time
from audits import warehouse
from audits.trace.similar import brute_force_search
db, texts, threshold = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3])
con = warehouse.connect(db, read_only=True)
out = []
for text in texts:
    t0 = time.perf_counter()
    hits = brute_force_search(con, text, threshold)
    out.append({"seconds": time.perf_counter() - t0,
                "keys": sorted([h.supplier, h.conversation_id, h.turn_index] for h in hits)})
con.close()
print(json.dumps({"queries": out, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def failed_answers(truth: Path, n: int) -> list[dict]:
    """The first n planted stale_version contradictions, one per article, as failed answers to trace."""
    picked: dict[str, dict] = {}
    with open(truth) as fh:
        for line in fh:
            if '"stale_version"' not in line:
                continue
            rec = json.loads(line)
            d = rec["detail"]
            if rec["kind"] == "kb_contradiction" and d["article_id"] not in picked:
                picked[d["article_id"]] = {"supplier": rec["supplier"], "conversation_id": rec["conversation_id"],
                                           "turn": d["turn"], "article_id": d["article_id"],
                                           "version": d["version"]}  # fmt: skip
                if len(picked) == n:
                    break
    if len(picked) < n:
        raise SystemExit(f"only {len(picked)} articles with a planted stale answer in {truth}")
    return list(picked.values())


def size_mb(folder: Path) -> float:
    """The index's size on disk."""
    return sum(p.stat().st_size for p in folder.iterdir()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=5)
    parser.add_argument("--brute-queries", type=int, default=5)
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "_work")
    args = parser.parse_args()

    db = build(args.work, args.conversations, args.seed)
    queries = failed_answers(data_folder(args.work, args.conversations, args.seed) / "_ground_truth.jsonl",
                             args.queries)  # fmt: skip
    folder = args.work / "trace" / f"{db.stem}-index"
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)

    built = child(BUILD, str(db), str(folder))
    found = child(SEARCH, str(db), str(folder), json.dumps(queries), str(THRESHOLD))
    texts = [q["text"] for q in found["queries"][: args.brute_queries]]
    brute = child(BRUTE, str(db), json.dumps(texts), str(THRESHOLD))
    for ours, base in zip(found["queries"], brute["queries"], strict=False):
        assert ours["keys"] == base["keys"], "the index and brute force disagree"

    info = built["info"]
    search = [q["search_seconds"] for q in found["queries"]]
    blast = [q["blast_seconds"] for q in found["queries"]]
    base = [q["seconds"] for q in brute["queries"]]
    print(f"\nmachine: {machine()}")
    print(f"code: commit {code_version()}")
    print(f"warehouse: {db} ({args.conversations:,} conversations, {info['turns']:,} turns)")
    print(
        f"index: {info['rows']:,} agent answers x {info['features']:,} terms, {size_mb(folder):,.0f} MiB on disk; "
        f"library import {built['import_seconds']:.1f}s not in the build time\n"
    )
    print(f"{'':52}{'wall s':>9}{'peak MiB':>10}")
    print(f"{'build_index (one-off: read, fit, save)':52}{built['seconds']:9.1f}{built['peak_mb']:10,.0f}")
    print(f"{'load_index (once per process)':52}{found['load_seconds']:9.2f}{found['peak_mb']:10,.0f}")
    print(f"{'Index.stale (fingerprint)':52}{found['stale_seconds']:9.2f}")
    for name, values, digits in (
        (f"Index.search, median of {len(search)}", search, 3),
        (f"blast_radius with the index, median of {len(blast)}", blast, 3),
        (f"baseline: brute_force_search, median of {len(base)}", base, 1),
    ):
        peak = f"{brute['peak_mb']:10,.0f}" if values is base else ""
        print(f"{name:52}{statistics.median(values):9.{digits}f}{peak}")
    print(f"\n{'failed answer':44}{'search s':>9}{'blast s':>8}{'hits':>8}{'cited':>8}{'similar':>8}"
          f"{'popul.':>9}{'brute s':>9}")  # fmt: skip
    for i, (q, r) in enumerate(zip(queries, found["queries"], strict=True)):
        name = f"{q['conversation_id']} t{q['turn']} {q['article_id']} v{q['version']}"
        b = f"{brute['queries'][i]['seconds']:9.1f}" if i < len(base) else f"{'':>9}"
        print(f"{name:44}{r['search_seconds']:9.3f}{r['blast_seconds']:8.2f}{r['hits']:8,}{r['cited']:8,}"
              f"{r['similar']:8,}{r['population']:9,}{b}")  # fmt: skip
    met = statistics.median(search) < TARGET_SECONDS and statistics.median(blast) < TARGET_SECONDS
    print(
        f"\nspeed-up of the search over brute force: {statistics.median(base) / statistics.median(search):,.0f}x; "
        f"target < {TARGET_SECONDS:.0f} s per failed answer after the build: {'met' if met else 'NOT met'}; "
        f"index hits identical to brute force on {len(base)} queries; stale: {found['stale']}"
    )


if __name__ == "__main__":
    main()
