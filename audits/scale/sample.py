"""The sample drawn over the Parquet partitions: per-partition top-k merged (`select_partitioned`).

It equals `audits.sampling.select` on one warehouse holding everything (same population count and
fingerprint, same strata, same items with the same probabilities and weights), because order
sampling's k smallest keys of a union are among each part's k smallest (audits/sampling/partition.py).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from audits.errors import InputError
from audits.sampling.partition import select_partitioned
from audits.sampling.plan import Plan, load_plan
from audits.sampling.select import Selection
from audits.scale.layout import conversation_parts, encode_supplier
from audits.scale.partitions import _write_json


def draw_sample(out_dir: str | Path, plan: Plan | str | os.PathLike[str], seed: str | int) -> Selection:
    """The plan's sample with `seed` over every conversations part under `out_dir`."""
    plan = plan if isinstance(plan, Plan) else load_plan(plan)
    parts = conversation_parts(out_dir)
    if not parts:
        raise InputError(
            str(Path(out_dir) / "conversations"), "no conversations part: run the partitions first"
        )
    return select_partitioned(parts, plan, seed)


def selection_to_dict(selection: Selection, plan: Plan, seed: str | int) -> dict[str, Any]:
    """The draw as JSON-ready data: plan, seed, population count and fingerprint, strata, items."""
    return {
        "plan_name": plan.name,
        "plan_hash": plan.plan_hash,
        "plan": plan.to_dict(),
        "seed": str(seed),
        "population_count": selection.population_count,
        "population_fingerprint": selection.population_fingerprint,
        "strata": [dataclasses.asdict(s) for s in selection.strata],
        "items": [dataclasses.asdict(i) for i in selection.items],
    }


def write_sample(out_dir: str | Path, selection: Selection, plan: Plan, seed: str | int) -> Path:
    """Write the draw to OUT/samples/<plan name>/seed=<seed>.json (through a rename); its path."""
    path = Path(out_dir) / "samples" / encode_supplier(plan.name) / f"seed={encode_supplier(str(seed))}.json"
    _write_json(path, selection_to_dict(selection, plan, seed))
    return path
