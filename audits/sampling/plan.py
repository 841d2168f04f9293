"""A sampling plan: which conversations form the population, how they are stratified and how many to draw.

A plan is written in YAML and validated into frozen dataclasses; every error names the file and the key::

    name: acme-november
    population:
      from: 2026-11-01          # started_at >= this date, 00:00 UTC
      to: 2026-11-30            # started_at < the day after this date (inclusive), UTC
      suppliers: [acme-bpo]
      channels: [chat, voice]   # optional
      handlers: [ai, human]     # optional
    strata: [supplier, channel] # any of supplier, channel, handler, market, language, journey
    allocation:                 # or just `allocation: proportional` / `equal`
      method: neyman            # proportional | equal | neyman | fixed
      prior_failure_rate: {default: 0.05, "supplier=acme-bpo|channel=voice": 0.12}
    size: {n: 200}              # or {tolerable: 0.05, expected: 0.0, confidence: 0.95[, method]}
                                # or {margin: 0.05, confidence: 0.95[, expected: 0.5]}
    min_per_stratum: 5
    max_per_stratum: 80
    edge_cases:
      - {name: failed_automation, take: all}
      - {name: low_csat, rate: 0.2, cap: 30}

`fixed` allocation gives `n: {stratum key: count}` instead of a size, and takes no min/max.
`plan_hash` is the sha256 of the canonical JSON of the validated plan (`Plan.to_dict`), so two YAML
spellings of the same plan (shorthand, key order, dates quoted or not) hash the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from audits.config import ConfigReader
from audits.errors import ConfigError

STRATUM_COLUMNS: tuple[str, ...] = ("supplier", "channel", "handler", "market", "language", "journey")
ALLOCATIONS: tuple[str, ...] = ("proportional", "equal", "neyman", "fixed")
EDGE_CASES: dict[str, str] = {
    "failed_automation": "coalesce(automation_failed, false)",
    "escalation": "escalation_requested_at IS NOT NULL",
    "missed_handoff": "escalation_requested_at IS NOT NULL AND escalation_handed_off_at IS NULL",
    "repeat_contact": "coalesce(is_repeat_contact, false)",
    "low_csat": "coalesce(csat <= 2, false)",
}
SIZE_METHODS: tuple[str, ...] = ("binomial", "hypergeometric")

_TOP_KEYS = (
    "name",
    "population",
    "strata",
    "allocation",
    "size",
    "min_per_stratum",
    "max_per_stratum",
    "edge_cases",
)


@dataclass(frozen=True)
class Population:
    """The population filter: started_at within [date_from, date_to] (UTC days) and the listed values."""

    date_from: dt.date
    date_to: dt.date
    suppliers: tuple[str, ...]
    channels: tuple[str, ...] | None = None
    handlers: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Allocation:
    """How the random sample is spread over strata; `prior_failure_rate` and `fixed` are keyed by stratum."""

    method: str
    default_failure_rate: float | None = None
    prior_failure_rate: dict[str, float] = field(default_factory=dict)
    fixed: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Size:
    """The total random sample: `n`, or a target (attribute: tolerable/expected; margin: margin)."""

    n: int | None = None
    tolerable: float | None = None
    expected: float | None = None
    confidence: float | None = None
    method: str = "binomial"
    margin: float | None = None


@dataclass(frozen=True)
class EdgeCase:
    """An edge-case stratum: the catalogue predicate `name`, taken whole or at `rate` up to `cap`."""

    name: str
    take_all: bool
    rate: float | None = None
    cap: int | None = None


@dataclass(frozen=True)
class Plan:
    """A validated sampling plan; `source` (the file) is not part of the plan's identity."""

    name: str
    population: Population
    strata: tuple[str, ...]
    allocation: Allocation
    size: Size | None
    min_per_stratum: int = 0
    max_per_stratum: int | None = None
    edge_cases: tuple[EdgeCase, ...] = ()
    source: str = field(default="<plan>", compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The canonical form, accepted back by `parse_plan`."""
        pop: dict[str, Any] = {
            "from": self.population.date_from.isoformat(),
            "to": self.population.date_to.isoformat(),
            "suppliers": list(self.population.suppliers),
        }
        if self.population.channels is not None:
            pop["channels"] = list(self.population.channels)
        if self.population.handlers is not None:
            pop["handlers"] = list(self.population.handlers)
        alloc: dict[str, Any] = {"method": self.allocation.method}
        if self.allocation.method == "neyman":
            rates: dict[str, float] = dict(self.allocation.prior_failure_rate)
            if self.allocation.default_failure_rate is not None:
                rates["default"] = self.allocation.default_failure_rate
            alloc["prior_failure_rate"] = rates
        if self.allocation.method == "fixed":
            alloc["n"] = dict(self.allocation.fixed)
        out: dict[str, Any] = {
            "name": self.name,
            "population": pop,
            "strata": list(self.strata),
            "allocation": alloc,
            "edge_cases": [
                {"name": e.name, "take": "all"}
                if e.take_all
                else {"name": e.name, "rate": e.rate, **({"cap": e.cap} if e.cap is not None else {})}
                for e in self.edge_cases
            ],
        }
        if self.size is not None:
            out["size"] = {k: v for k, v in vars(self.size).items() if v is not None}
            if self.size.n is not None or self.size.margin is not None:
                out["size"].pop("method", None)
        if self.allocation.method != "fixed":
            out["min_per_stratum"] = self.min_per_stratum
            out["max_per_stratum"] = self.max_per_stratum
        return out

    def canonical_json(self) -> str:
        """Sorted keys, no whitespace: the bytes `plan_hash` is taken over."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @property
    def plan_hash(self) -> str:
        """sha256 (hex) of `canonical_json`."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


def _population(r: ConfigReader, raw: Any) -> Population:
    d = r.mapping("population", raw, ("from", "to", "suppliers", "channels", "handlers"))
    for k in ("from", "to", "suppliers"):
        if k not in d:
            raise r.fail(f"population.{k}", "is required")
    date_from, date_to = r.date("population.from", d["from"]), r.date("population.to", d["to"])
    if date_from > date_to:
        raise r.fail("population.to", f"{date_to} is before population.from {date_from}")
    opt = {k: r.strings(f"population.{k}", d[k]) if k in d else None for k in ("channels", "handlers")}
    return Population(date_from, date_to, r.strings("population.suppliers", d["suppliers"]), **opt)


def _allocation(r: ConfigReader, raw: Any) -> Allocation:
    if isinstance(raw, str):
        raw = {"method": raw}
    d = r.mapping("allocation", raw, ("method", "prior_failure_rate", "n"))
    method = d.get("method")
    if method not in ALLOCATIONS:
        raise r.fail(
            "allocation.method", f"unknown allocation {method!r}; expected one of {', '.join(ALLOCATIONS)}"
        )
    if "prior_failure_rate" in d and method != "neyman":
        raise r.fail("allocation.prior_failure_rate", "only applies to method neyman")
    if "n" in d and method != "fixed":
        raise r.fail("allocation.n", "only applies to method fixed")
    if method == "neyman":
        if "prior_failure_rate" not in d:
            raise r.fail("allocation.prior_failure_rate", "is required for method neyman")
        prior = d["prior_failure_rate"]
        if not isinstance(prior, dict):
            return Allocation(method, default_failure_rate=r.rate("allocation.prior_failure_rate", prior))
        rates = {}
        for k, v in prior.items():
            rates[r.string("allocation.prior_failure_rate", k)] = r.rate(
                f"allocation.prior_failure_rate.{k}", v
            )
        default = rates.pop("default", None)
        return Allocation(method, default_failure_rate=default, prior_failure_rate=rates)
    if method == "fixed":
        if not isinstance(d.get("n"), dict) or not d["n"]:
            raise r.fail("allocation.n", "method fixed needs a non-empty mapping {stratum key: count}")
        fixed = {r.string("allocation.n", k): r.integer(f"allocation.n.{k}", v, 0) for k, v in d["n"].items()}
        return Allocation(method, fixed=fixed)
    return Allocation(method)


def _size(r: ConfigReader, raw: Any) -> Size:
    d = r.mapping("size", raw, ("n", "tolerable", "expected", "confidence", "method", "margin"))
    if "n" in d:
        if len(d) > 1:
            raise r.fail(
                "size", "give either n or a target (tolerable/expected/confidence or margin), not both"
            )
        return Size(n=r.integer("size.n", d["n"], 1))
    if "confidence" not in d:
        raise r.fail("size", "needs n, or a target with confidence and tolerable (or margin)")
    confidence = r.rate("size.confidence", d["confidence"])
    if "margin" in d:
        if "tolerable" in d or "method" in d:
            raise r.fail("size.margin", "a margin target takes only margin, confidence and expected")
        expected = r.rate("size.expected", d.get("expected", 0.5))
        return Size(margin=r.rate("size.margin", d["margin"]), confidence=confidence, expected=expected)
    if "tolerable" not in d:
        raise r.fail("size.tolerable", "is required for an attribute target (or give size.margin)")
    tolerable = r.rate("size.tolerable", d["tolerable"])
    expected = r.rate("size.expected", d.get("expected", 0.0), low_open=False)
    if expected >= tolerable:
        raise r.fail("size.expected", f"must be below size.tolerable ({tolerable}), got {expected}")
    method = d.get("method", "binomial")
    if method not in SIZE_METHODS:
        raise r.fail("size.method", f"unknown method {method!r}; expected one of {', '.join(SIZE_METHODS)}")
    return Size(tolerable=tolerable, expected=expected, confidence=confidence, method=method)


def _edge_cases(r: ConfigReader, raw: Any) -> tuple[EdgeCase, ...]:
    if not isinstance(raw, list):
        raise r.fail("edge_cases", f"must be a list, got {type(raw).__name__}")
    out: list[EdgeCase] = []
    for i, item in enumerate(raw):
        key = f"edge_cases[{i}]"
        d = r.mapping(key, item, ("name", "take", "rate", "cap"))
        name = d.get("name")
        if name not in EDGE_CASES:
            raise r.fail(
                f"{key}.name", f"unknown edge case {name!r}; expected one of {', '.join(EDGE_CASES)}"
            )
        if any(e.name == name for e in out):
            raise r.fail(f"{key}.name", f"edge case {name!r} is listed twice")
        if ("take" in d) == ("rate" in d):
            raise r.fail(key, "give exactly one of take: all or rate")
        if "take" in d:
            if d["take"] != "all":
                raise r.fail(f"{key}.take", f"must be 'all', got {d['take']!r}")
            if "cap" in d:
                raise r.fail(f"{key}.cap", "does not apply to take: all (use a rate)")
            out.append(EdgeCase(name, take_all=True))
        else:
            cap = r.integer(f"{key}.cap", d["cap"], 1) if "cap" in d else None
            out.append(EdgeCase(name, False, r.rate(f"{key}.rate", d["rate"], high_closed=True), cap))
    return tuple(out)


def parse_plan(data: Any, source: str = "<plan>") -> Plan:
    """Validate a plan given as a dict (parsed YAML or `Plan.to_dict()`); `source` names it in errors."""
    r = ConfigReader(str(source))
    d = r.mapping("", data, _TOP_KEYS)
    for k in ("name", "population", "allocation"):
        if k not in d:
            raise r.fail(k, "is required")
    allocation = _allocation(r, d["allocation"])
    fixed = allocation.method == "fixed"
    size = None
    if fixed:
        for k in ("size", "min_per_stratum", "max_per_stratum"):
            if d.get(k) is not None:
                raise r.fail(
                    k, "does not apply to allocation fixed (allocation.n gives each stratum's count)"
                )
    elif "size" not in d:
        raise r.fail("size", "is required (n, or a tolerable/expected/confidence or margin target)")
    else:
        size = _size(r, d["size"])
    low = r.integer("min_per_stratum", d.get("min_per_stratum", 0), 0)
    high = d.get("max_per_stratum")
    if high is not None:
        high = r.integer("max_per_stratum", high, 1)
        if low > high:
            raise r.fail("min_per_stratum", f"{low} is greater than max_per_stratum {high}")
    return Plan(
        name=r.string("name", d["name"]),
        population=_population(r, d["population"]),
        strata=r.strings("strata", d.get("strata", []), allowed=STRATUM_COLUMNS, empty=True),
        allocation=allocation,
        size=size,
        min_per_stratum=low,
        max_per_stratum=high,
        edge_cases=_edge_cases(r, d.get("edge_cases", [])),
        source=str(source),
    )


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """Read and validate a YAML plan file; ConfigError names the file (and the key) on any problem."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the plan: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from exc
    return parse_plan(data, str(p))
