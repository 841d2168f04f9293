"""Test data for the partitioned audit: generated exports plus the awkward cases, and the single warehouse.

`build_sources(dir)` writes, in load order:

    conversations.jsonl  the generator's conversations (several suppliers and days, planted repeat contacts)
    corrections.jsonl    re-exports of some of them moved to the next day with a changed text (they
                         replace the originals), one invalid re-export (the original stays), a
                         conversation exported twice in the file on two days (both quarantined), and
                         contacts of existing customers at another supplier (whose name needs
                         encoding) a day later: repeat contacts across partitions
    kb_articles.jsonl    the generator's KB
    kb_more.jsonl        a further article and a KB line that breaks the contract
    odd.jsonl            lines that cannot be placed (bad JSON, not UTF-8, an array, no supplier,
                         started_at without an offset), a placeable record without an id, blank
                         lines, CRLF endings and no newline at the end
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb

from audits import warehouse
from audits.checks.run import run_checks
from audits.generator import generate
from audits.ingest.load import load_paths
from audits.scale import (
    Layout,
    MergeResult,
    PartitionResult,
    audit_partition,
    discover,
    merge_partitions,
    prepare_kb,
)

ODD_SUPPLIER = "acme/bpo é"  # a '/', a space and a non-ASCII letter: percent-encoded in folder names
PLAN_EXTRA = {
    "strata": ["supplier", "channel"],
    "edge_cases": [
        {"name": "repeat_contact", "take": "all"},
        {"name": "failed_automation", "rate": 0.5, "cap": 15},
    ],
}


def _shift(text: str | None, days: int) -> str | None:
    if text is None:
        return None
    return (dt.datetime.fromisoformat(text) + dt.timedelta(days=days)).isoformat()


def _moved(record: dict[str, Any], days: int) -> dict[str, Any]:
    out = json.loads(json.dumps(record))
    out["started_at"] = _shift(out["started_at"], days)
    out["ended_at"] = _shift(out.get("ended_at"), days)
    for key in ("requested_at", "handed_off_at"):
        if out.get("escalation") and out["escalation"].get(key):
            out["escalation"][key] = _shift(out["escalation"][key], days)
    for turn in out["turns"]:
        turn["at"] = _shift(turn.get("at"), days)
    return out


def build_sources(root: Path, *, conversations: int = 600, days: int = 1, seed: int = 11) -> Path:
    """Write the exports described in the module docstring into `root`; returns `root`."""
    generate(root, conversations=conversations, seed=seed, days=days)
    for name in ("_ground_truth.jsonl", "_ground_truth_summary.json"):
        (root / name).unlink()
    records = [json.loads(line) for line in (root / "conversations.jsonl").read_text().splitlines()]
    out: list[dict[str, Any]] = []
    for r in records[::60]:  # corrected re-exports, a day later, with a changed first turn
        fixed = _moved(r, 1)
        fixed["turns"][0]["text"] = fixed["turns"][0]["text"] + " (corrected)"
        out.append(fixed)
    bad = _moved(records[7], 1)
    bad["channel"] = "fax"  # breaks the contract: the original stays
    out.append(bad)
    twice = _moved(records[8], 0)
    twice["conversation_id"] = "twice-1"
    out.append(twice)
    out.append({**_moved(twice, 1), "conversation_id": "twice-1"})
    with_customer = [r for r in records if r.get("customer_id") and r.get("journey")]
    for i, r in enumerate(with_customer[5:200:40]):  # the same customer and journey at another supplier
        again = _moved(r, 1)
        again["conversation_id"] = f"elsewhere-{i}"
        again["supplier"] = ODD_SUPPLIER
        out.append(again)
    (root / "corrections.jsonl").write_text("".join(json.dumps(r) + "\n" for r in out))

    kb = json.loads((root / "kb_articles.jsonl").read_text().splitlines()[0])
    more = {**kb, "article_id": "kb-extra", "title": "Extra", "body": "Opening hours are 9 to 17."}
    broken = {k: v for k, v in kb.items() if k != "body"}
    broken["article_id"] = "kb-broken"
    (root / "kb_more.jsonl").write_text(json.dumps(more) + "\n" + json.dumps(broken) + "\n")

    placeable = json.loads(json.dumps(records[3]))
    placeable.pop("conversation_id")
    no_supplier = {k: v for k, v in records[4].items() if k != "supplier"}
    naive = {**records[5], "conversation_id": "naive-1", "started_at": "2026-11-01 10:00:00"}
    lines = [
        b'{"conversation_id": "broken", ',
        b"\xff\xfe not utf-8",
        b"[1, 2, 3]",
        b"",
        json.dumps(no_supplier).encode() + b"\r",
        b"   \t ",
        json.dumps(naive).encode() + b"\r",
        json.dumps(placeable).encode(),
    ]
    (root / "odd.jsonl").write_bytes(b"\n".join(lines))  # no newline after the last line
    return root


def single_warehouse(sources: Path, path: Path) -> Path:
    """One warehouse loaded with every source file (in name order) and checked: the reference."""
    load_paths([sources], warehouse_path=path, progress=False)
    with warehouse.open_warehouse(path) as con:
        run_checks(con)
    return path


def audit_all(
    input_dir: Path, out: Path, work: Path, **kwargs: Any
) -> tuple[Layout, list[PartitionResult], MergeResult]:
    """The partitioned audit without Prefect: KB, every partition in turn, the merge pass."""
    layout = discover(input_dir)
    kb = prepare_kb(layout, out, work)
    results = [
        audit_partition(p, input_root=layout.root, out_dir=out, work_dir=work, kb=kb, **kwargs)
        for p in layout.partitions
    ]
    return layout, results, merge_partitions(out, work)


CHECK_COLUMNS = "supplier, conversation_id, check_id, check_version, outcome, turn, evidence"


def differences(con: duckdb.DuckDBPyConnection, query_a: str, query_b: str) -> tuple[int, int]:
    """Rows of A not in B and of B not in A, as multisets (EXCEPT ALL both ways)."""
    a = con.execute(f"SELECT count(*) FROM (({query_a}) EXCEPT ALL ({query_b}))").fetchall()[0][0]
    b = con.execute(f"SELECT count(*) FROM (({query_b}) EXCEPT ALL ({query_a}))").fetchall()[0][0]
    return int(a), int(b)
