"""Plan validation: a valid plan round-trips and hashes canonically; every error names the file and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from audits.errors import ConfigError
from audits.sampling import load_plan, parse_plan
from tests.sampling.conftest import plan_dict

EXAMPLE = """
name: acme-november
population:
  from: 2026-11-01
  to: 2026-11-30
  suppliers: [acme-bpo]
  channels: [chat, voice]
strata: [supplier, channel]
allocation:
  method: neyman
  prior_failure_rate: {default: 0.05, "supplier=acme-bpo|channel=voice": 0.12}
size: {n: 200}
min_per_stratum: 5
max_per_stratum: 80
edge_cases:
  - {name: failed_automation, take: all}
  - {name: low_csat, rate: 0.2, cap: 30}
"""


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def test_example_loads_and_round_trips(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, EXAMPLE))
    assert plan.strata == ("supplier", "channel")
    assert plan.allocation.default_failure_rate == 0.05
    assert plan.allocation.prior_failure_rate == {"supplier=acme-bpo|channel=voice": 0.12}
    assert plan.edge_cases[1].rate == 0.2 and plan.edge_cases[1].cap == 30
    again = parse_plan(plan.to_dict(), "again")
    assert again == plan
    assert again.plan_hash == plan.plan_hash and len(plan.plan_hash) == 64


def test_hash_ignores_spelling_but_not_content() -> None:
    short = parse_plan(plan_dict(allocation="equal"))
    full = parse_plan(plan_dict(allocation={"method": "equal"}, min_per_stratum=0))
    assert short.plan_hash == full.plan_hash
    assert parse_plan(plan_dict(size={"n": 61})).plan_hash != short.plan_hash


def test_targets_parse() -> None:
    attribute = parse_plan(plan_dict(size={"tolerable": 0.05, "expected": 0, "confidence": 0.95})).size
    assert attribute is not None and attribute.tolerable == 0.05 and attribute.method == "binomial"
    margin = parse_plan(plan_dict(size={"margin": 0.05, "confidence": 0.95})).size
    assert margin is not None and margin.margin == 0.05 and margin.expected == 0.5


@pytest.mark.parametrize(
    "changes",
    [
        {"size": {"tolerable": 0.05, "expected": 0.01, "confidence": 0.9, "method": "hypergeometric"}},
        {"size": {"margin": 0.03, "confidence": 0.99, "expected": 0.2}},
        {"allocation": {"method": "fixed", "n": {"supplier=acme|channel=chat": 4}}, "size": None},
        {"allocation": {"method": "neyman", "prior_failure_rate": 0.1}, "max_per_stratum": 9},
        {"population": {"from": "2026-11-01", "to": "2026-11-01", "suppliers": ["a"], "handlers": ["ai"]}},
        {"edge_cases": [{"name": "missed_handoff", "take": "all"}, {"name": "repeat_contact", "rate": 1}]},
    ],
)
def test_every_form_round_trips(changes: dict[str, Any]) -> None:
    data = {k: v for k, v in plan_dict(**changes).items() if v is not None}
    plan = parse_plan(data)
    assert parse_plan(plan.to_dict()) == plan
    assert parse_plan(plan.to_dict()).plan_hash == plan.plan_hash


BAD: list[tuple[dict[str, Any], str]] = [
    ({"colour": "red"}, "colour: unknown key"),
    (
        {"population": {"from": "2026-11-01", "to": "2026-11-30", "suppliers": ["a"], "market": ["SG"]}},
        "population.market: unknown key",
    ),
    ({"population": {"from": "2026-11-01", "to": "2026-11-30"}}, "population.suppliers: is required"),
    ({"population": {"from": "2026-12-01", "to": "2026-11-30", "suppliers": ["a"]}}, "population.to:"),
    (
        {"population": {"from": "1 Nov", "to": "2026-11-30", "suppliers": ["a"]}},
        "population.from: must be a date",
    ),
    (
        {"population": {"from": "2026-11-01", "to": "2026-11-30", "suppliers": "acme"}},
        "population.suppliers: must be a non-empty list",
    ),
    ({"strata": ["supplier", "colour"]}, "strata[1]: unknown value 'colour'"),
    ({"strata": ["supplier", "supplier"]}, "strata[1]: 'supplier' is listed twice"),
    ({"allocation": "random"}, "allocation.method: unknown allocation 'random'"),
    ({"allocation": {"method": "neyman"}}, "allocation.prior_failure_rate: is required"),
    (
        {"allocation": {"method": "neyman", "prior_failure_rate": 1.5}},
        "allocation.prior_failure_rate: must be",
    ),
    ({"allocation": {"method": "equal", "n": {"all": 3}}}, "allocation.n: only applies to method fixed"),
    ({"allocation": {"method": "fixed", "n": {"all": 3}}}, "size: does not apply to allocation fixed"),
    ({"size": {"n": "ten"}}, "size.n: must be an integer >= 1, got 'ten'"),
    ({"size": {"n": True}}, "size.n: must be an integer"),
    ({"size": {"n": 5, "confidence": 0.9}}, "size: give either n or a target"),
    ({"size": {"tolerable": 0.05, "expected": 0.06, "confidence": 0.95}}, "size.expected: must be below"),
    ({"size": {"tolerable": 0.05, "confidence": 0.95, "method": "poisson"}}, "size.method: unknown method"),
    ({"size": {"tolerable": 0.05, "confidence": 95}}, "size.confidence: must be a number"),
    ({"min_per_stratum": 10, "max_per_stratum": 5}, "min_per_stratum: 10 is greater than max_per_stratum 5"),
    ({"min_per_stratum": -1}, "min_per_stratum: must be an integer >= 0"),
    (
        {"edge_cases": [{"name": "bot_loop", "take": "all"}]},
        "edge_cases[0].name: unknown edge case 'bot_loop'",
    ),
    ({"edge_cases": [{"name": "low_csat", "take": "all", "rate": 0.5}]}, "edge_cases[0]: give exactly one"),
    ({"edge_cases": [{"name": "low_csat", "take": "some"}]}, "edge_cases[0].take: must be 'all'"),
    ({"edge_cases": [{"name": "low_csat", "rate": 0}]}, "edge_cases[0].rate: must be a number"),
    (
        {"edge_cases": [{"name": "low_csat", "rate": 0.5, "cap": 0}]},
        "edge_cases[0].cap: must be an integer >= 1",
    ),
    (
        {"edge_cases": [{"name": "escalation", "take": "all"}, {"name": "escalation", "rate": 0.1}]},
        "edge_cases[1].name: edge case 'escalation' is listed twice",
    ),
    ({"edge_cases": [{"name": "escalation", "take": "all", "limit": 3}]}, "edge_cases[0].limit: unknown key"),
]


@pytest.mark.parametrize(("changes", "message"), BAD, ids=[m for _, m in BAD])
def test_errors_name_file_and_key(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    path = write(tmp_path, plan_dict(**changes))
    with pytest.raises(ConfigError) as err:
        load_plan(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


def test_missing_name_and_not_a_mapping(tmp_path: Path) -> None:
    data = plan_dict()
    del data["name"]
    with pytest.raises(ConfigError, match=r"plan\.yaml: name: is required"):
        load_plan(write(tmp_path, data))
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_plan(write(tmp_path, "- just\n- a list\n"))


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the plan"):
        load_plan(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_plan(write(tmp_path, "name: [unclosed\n"))
