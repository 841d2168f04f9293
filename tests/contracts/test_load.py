"""Contracts from YAML: every field read, every error naming the file and the key, the bundled contracts."""

from __future__ import annotations

from pathlib import Path

import pytest

from audits.contracts import load_contract, load_contracts, parse_contract
from audits.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

PLAN = """
name: nightly-acme
population: {from: 2026-11-01, to: 2026-11-01, suppliers: [acme]}
strata: [handler]
allocation: proportional
size: {n: 10}
"""

FULL = """
contract_id: buyer/acme
buyer: buyer
supplier: acme
title: Buyer and Acme
confidence: 0.9
sampling_plan: plans/acme.yaml
terms:
  quality_floor: {min_pass_rate: 0.85, alpha: 0.01, min_scored: 40}
  escalation_latency: {percentile: 0.95, limit_seconds: {default: 300, voice: 120}, min_escalations: 25}
  first_response: {percentile: 0.9, limit_seconds: {chat: 30}}
  qa_coverage: {min_share: {ai: 0.02, human: 0.05}, min_conversations: 10}
  containment: {window_days: 3, min_contained_rate: 0.6, min_conversations: 40}
  compliance_exceptions:
    pii_echo: {max_failures: 0}
    ai_disclosure: {max_rate: 0.02, min_applicable: 50}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "acme.yaml").write_text(PLAN, encoding="utf-8")
    return tmp_path


def write(folder: Path, text: str, name: str = "acme.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_field_is_read(folder: Path) -> None:
    c = load_contract(write(folder, FULL))
    assert (c.contract_id, c.buyer, c.supplier, c.title, c.confidence) == (
        "buyer/acme", "buyer", "acme", "Buyer and Acme", 0.9)  # fmt: skip
    assert c.sampling_plan == folder / "plans" / "acme.yaml"  # relative to the contract's folder
    assert c.quality_floor is not None
    assert (c.quality_floor.min_pass_rate, c.quality_floor.alpha, c.quality_floor.min_scored) == (
        0.85,
        0.01,
        40,
    )
    assert c.escalation_latency is not None
    assert c.escalation_latency.limit("voice") == 120 and c.escalation_latency.limit("sms") == 300
    assert c.escalation_latency.min_count == 25
    assert c.first_response is not None
    assert c.first_response.limit("voice") is None and c.first_response.min_count == 20  # the default
    assert c.qa_coverage is not None and c.qa_coverage.min_share == {"ai": 0.02, "human": 0.05}
    assert c.containment is not None
    assert (c.containment.window_days, c.containment.min_contained_rate, c.containment.min_safe_rate) == (
        3,
        0.6,
        None,
    )
    assert [(x.check_id, x.max_failures, x.max_rate, x.min_applicable) for x in c.compliance] == [
        ("pii_echo", 0, None, 30), ("ai_disclosure", None, 0.02, 50)]  # fmt: skip
    assert c.to_dict()["sampling_plan"].endswith("acme.yaml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("supplier: acme", "suplier: acme"), "suplier: unknown key"),
        (("contract_id: buyer/acme\n", ""), "contract_id: is required"),
        (
            ("min_pass_rate: 0.85", "min_pass_rate: 1.0"),
            "terms.quality_floor.min_pass_rate: must be a number",
        ),
        (("percentile: 0.95", "percentile: 95"), "terms.escalation_latency.percentile: must be a number"),
        (("voice: 120", "fax: 120"), "terms.escalation_latency.limit_seconds.fax: unknown key"),
        (
            ("{chat: 30}", "{chat: -1}"),
            "terms.first_response.limit_seconds.chat: must be a number of seconds",
        ),
        (("{ai: 0.02, human: 0.05}", "{bots: 0.02}"), "terms.qa_coverage.min_share.bots: unknown key"),
        (
            ("{window_days: 3, min_contained_rate: 0.6, min_conversations: 40}", "{window_days: 3}"),
            "terms.containment: names no limit",
        ),
        (
            ("pii_echo: {max_failures: 0}", "pii_leak: {max_failures: 0}"),
            "terms.compliance_exceptions.pii_leak: unknown key",
        ),
        (
            ("pii_echo: {max_failures: 0}", "pii_echo: {max_failures: -1}"),
            "terms.compliance_exceptions.pii_echo.max_failures: must be an integer >= 0",
        ),
        (
            ("pii_echo: {max_failures: 0}", "pii_echo: {}"),
            "terms.compliance_exceptions.pii_echo: names no limit",
        ),
        (("plans/acme.yaml", "plans/missing.yaml"), "sampling_plan: no plan file at"),
        (("terms:", "terms: {}\nx:"), "x: unknown key"),
    ],
)
def test_errors_name_the_file_and_the_key(folder: Path, change: tuple[str, str], message: str) -> None:
    path = write(folder, FULL.replace(*change))
    with pytest.raises(ConfigError) as err:
        load_contract(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_a_plan_of_another_supplier_is_refused(folder: Path) -> None:
    (folder / "plans" / "acme.yaml").write_text(PLAN.replace("[acme]", "[other]"), encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"sampling_plan: plan 'nightly-acme' .* not only the contract's supplier 'acme'"
    ):
        load_contract(write(folder, FULL))


def test_no_terms_and_bad_yaml(folder: Path) -> None:
    with pytest.raises(ConfigError, match="terms: names no term"):
        parse_contract({"contract_id": "a", "buyer": "b", "supplier": "c"}, "x.yaml")
    with pytest.raises(ConfigError, match=r"acme.yaml \(line 2\): not valid YAML"):
        load_contract(write(folder, "contract_id: a\n  - b: [\n"))
    with pytest.raises(ConfigError, match="no such file or folder"):
        load_contracts([folder / "nowhere"])


def test_two_contracts_with_one_id_are_refused(folder: Path) -> None:
    write(folder, FULL, "a.yaml")
    write(folder, FULL, "b.yaml")
    with pytest.raises(ConfigError, match="have the same contract_id 'buyer/acme'"):
        load_contracts([folder])


def test_the_bundled_contracts_load_and_name_the_bundled_nightly_plans() -> None:
    contracts = load_contracts([REPO / "data" / "contracts"])
    assert sorted(c.supplier for c in contracts) == ["harbor-cx", "lumen-ai", "northwind-bpo"]
    for c in contracts:
        assert c.buyer == "acme-retail"
        assert c.sampling_plan == REPO / "data" / "plans" / "nightly" / f"{c.supplier}.yaml"
        assert c.quality_floor is not None and c.escalation_latency is not None and c.compliance
