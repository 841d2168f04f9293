"""Generated nights of data (with ground truth) and a way to run a night's steps without Prefect."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from audits.nightly import steps

NIGHTS = [dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)]
REVIEWERS = ["sim-a", "sim-b"]


def run_night(warehouse: str, data: Path, night: dt.date, *, simulate: bool = True) -> list[dict[str, Any]]:
    """The steps of flows/nightly_audit.py in its order, called directly (the flow's tests run the flow)."""
    run_id = f"test-{night}-{uuid.uuid4().hex[:8]}"
    steps.begin(warehouse, run_id, night, {})
    files = [str(p) for p in sorted(data.glob("*.jsonl*")) if not p.name.startswith("_")]
    done = [steps.ingest(warehouse, run_id, files)]
    done.append(steps.contract(warehouse, run_id, night, done[0]["counts"]["load_ids"]))
    done.append(steps.checks(warehouse, run_id, night))
    done.append(steps.flags(warehouse, run_id, night))
    done.append(steps.draw(warehouse, run_id, night, None, None))
    ids = [d["draw_id"] for d in done[-1]["counts"]["draws"]]
    done.append(steps.assign(warehouse, run_id, ids, REVIEWERS))
    if simulate:
        done.append(steps.simulate(warehouse, run_id, ids, str(data / "_ground_truth.jsonl")))
    done.append(steps.estimate(warehouse, run_id, ids, 0.85))
    done.append(steps.breach(warehouse, run_id, night, ["harbor-cx", "lumen-ai", "northwind-bpo"], 0.85))
    steps.end(warehouse, run_id, "completed")
    return done
