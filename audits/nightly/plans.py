"""Nightly sampling plans: a plan file per supplier contract, its population window set to the night."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path

from audits.errors import ConfigError
from audits.sampling.plan import Plan, load_plan

BUNDLED_PLANS = Path(__file__).resolve().parents[2] / "data" / "plans" / "nightly"


def plan_files(paths: Sequence[str | os.PathLike[str]] | None) -> list[Path]:
    """The plan files named (folders give their *.yaml, sorted); the bundled nightly plans by default."""
    out: list[Path] = []
    for p in [Path(x) for x in (paths or [BUNDLED_PLANS])]:
        if p.is_dir():
            out.extend(sorted(p.glob("*.yaml")))
        elif p.is_file():
            out.append(p)
        else:
            raise ConfigError(f"sampling plan {p}: no such file or folder")
    if not out:
        raise ConfigError(
            f"no sampling plans (*.yaml) in {', '.join(str(p) for p in paths or [BUNDLED_PLANS])}"
        )
    return out


def load_plans(paths: Sequence[str | os.PathLike[str]] | None) -> list[Plan]:
    """Load and validate the plans; two plans with one name are refused (a night keeps one draw per name)."""
    plans = [load_plan(p) for p in plan_files(paths)]
    seen: dict[str, str] = {}
    for p in plans:
        if p.name in seen:
            raise ConfigError(f"sampling plans {seen[p.name]} and {p.source} have the same name {p.name!r}")
        seen[p.name] = p.source
    return plans


def plan_for_night(plan: Plan, night: dt.date) -> Plan:
    """The plan with its population window replaced by the one UTC day `night`."""
    population = dataclasses.replace(plan.population, date_from=night, date_to=night)
    return dataclasses.replace(plan, population=population)


def night_seed(night: dt.date, plan: Plan, seed: str | None) -> str:
    """The seed of the night's draw: `SEED:night:plan` when a seed (e.g. the buyer's) is given, else `night:plan`.

    Deterministic, so a re-run of the night draws the same sample; a buyer who wants a seed nobody
    knew in advance gives it after the night's population manifest is frozen (docs/operations.md).
    """
    base = f"{night.isoformat()}:{plan.name}"
    return f"{seed}:{base}" if seed else base
