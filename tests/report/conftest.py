"""A small but complete warehouse for the report tests, built once per session with the real library.

Generated conversations (3 suppliers, 3 days) plus two planted ones of harbor-cx whose AI turn echoes a
card number and an email and carries HTML markup; checks run; each night and supplier a nightly draw
(recorded in nightly_draws) reviewed by the simulated reviewer on the shipped scorecards; a finding
opened from the planted pii_echo failure (its summary quotes the card number and the markup).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import conv, write_jsonl

CARD = "4111 1111 1111 1111"
EMAIL = "jane.doe@example.com"
MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'
PLANTED = "c-planted-1"
NIGHTS = [dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)]
SUPPLIERS = ("harbor-cx", "lumen-ai", "northwind-bpo")


def nightly_plan(supplier: str) -> dict[str, Any]:
    """A nightly plan like the bundled ones, smaller."""
    return {
        "name": f"nightly-{supplier}",
        "population": {"from": "2026-11-01", "to": "2026-11-01", "suppliers": [supplier]},
        "strata": ["handler"],
        "allocation": "proportional",
        "size": {"n": 12},
        "min_per_stratum": 3,
        "edge_cases": [{"name": "failed_automation", "rate": 0.5, "cap": 3}],
    }


def planted_records() -> list[dict[str, Any]]:
    """Two harbor-cx chats whose AI agent echoes personal data and markup (pii_echo fails)."""
    out = []
    for i, day in enumerate(("2026-11-01", "2026-11-02"), start=1):
        t0 = f"{day}T09:00:00+00:00"
        out.append(
            conv(
                conversation_id=f"c-planted-{i}",
                supplier="harbor-cx",
                started_at=t0,
                ended_at=f"{day}T09:05:00+00:00",
                customer_id=f"cust-planted-{i}",
                turns=[
                    {"speaker": "ai_agent", "text": "Hi, I'm an AI assistant.", "at": t0},
                    {
                        "speaker": "customer",
                        "text": f"My card is {CARD}, mail {EMAIL}",
                        "at": f"{day}T09:00:20+00:00",
                    },
                    {
                        "speaker": "ai_agent",
                        "text": f"Noted card {CARD} and {EMAIL} {MARKUP}",
                        "at": f"{day}T09:00:30+00:00",
                    },
                ],
            )
        )
    return out


def build_warehouse(folder: Path) -> Path:
    """Write the small warehouse (and the plans it was drawn with) into `folder`; returns the DuckDB file."""
    from audits import warehouse as wh
    from audits.checks.run import run_checks
    from audits.generator import generate
    from audits.ingest import load_paths
    from audits.nightly.history import record_draw
    from audits.nightly.plans import night_seed, plan_for_night
    from audits.nightly.simulate import simulate_reviews
    from audits.sampling import draw
    from audits.sampling.plan import parse_plan
    from audits.scoring import assign_reviews
    from audits.trace.findings import finding_from_check

    gen = folder / "gen"
    generate(gen, conversations=360, seed=11, start=dt.date(2026, 11, 1), days=3)
    planted = folder / "planted"
    planted.mkdir()
    write_jsonl(planted / "planted.jsonl", planted_records())
    path = folder / "report.duckdb"
    load_paths([gen, planted], warehouse_path=path, progress=False)
    plans_dir = folder / "plans"
    plans_dir.mkdir()
    con = wh.connect(path)
    try:
        run_checks(con)
        for supplier in SUPPLIERS:
            import yaml

            (plans_dir / f"{supplier}.yaml").write_text(
                yaml.safe_dump(nightly_plan(supplier)), encoding="utf-8"
            )
            plan = parse_plan(nightly_plan(supplier), str(plans_dir / f"{supplier}.yaml"))
            for night in NIGHTS:
                p = plan_for_night(plan, night)
                seed = night_seed(night, plan, "test")
                d = draw(con, p, seed)
                record_draw(con, night, p, seed, d.draw_id)
                assign_reviews(con, d.draw_id, ["rev-a", "rev-b"], calibration_share=0.0)
                simulate_reviews(con, [d.draw_id], gen / "_ground_truth.jsonl")
        finding_from_check(con, "harbor-cx", PLANTED, "pii_echo")
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's warehouse folder (never written to by tests: copy it first)."""
    folder = tmp_path_factory.mktemp("report-wh")
    build_warehouse(folder)
    return folder


@pytest.fixture
def report_wh(built: Path, tmp_path: Path) -> Path:
    """A private copy of the session's warehouse, and its plans folder next to it."""
    shutil.copy(built / "report.duckdb", tmp_path / "report.duckdb")
    shutil.copytree(built / "plans", tmp_path / "plans")
    return tmp_path / "report.duckdb"


@pytest.fixture
def ro(built: Path) -> Iterator[Any]:
    """A read-only connection to the session's warehouse."""
    from audits import warehouse as wh

    con = wh.connect(built / "report.duckdb", read_only=True)
    yield con
    con.close()


def contract_text(supplier: str, plan: str | None = None, **terms: Any) -> str:
    """A contract YAML for `supplier` with the given terms (dicts) and optional sampling plan path."""
    import yaml

    data: dict[str, Any] = {"contract_id": f"acme/{supplier}", "buyer": "acme", "supplier": supplier}
    if plan:
        data["sampling_plan"] = plan
    data["terms"] = terms
    return yaml.safe_dump(data, sort_keys=False)


FULL_TERMS: dict[str, Any] = {
    "quality_floor": {"min_pass_rate": 0.8, "min_scored": 10},
    "escalation_latency": {
        "percentile": 0.95,
        "limit_seconds": {"default": 900, "voice": 300},
        "min_escalations": 5,
    },
    "first_response": {"percentile": 0.9, "limit_seconds": {"chat": 60, "voice": 20, "email": 86400}},
    "qa_coverage": {"min_share": {"ai": 0.05, "human": 0.05}, "min_conversations": 5},
    "containment": {
        "window_days": 1,
        "min_contained_rate": 0.4,
        "min_safe_rate": 0.7,
        "min_conversations": 10,
    },
    "compliance_exceptions": {
        "pii_echo": {"max_failures": 0},
        "ai_disclosure": {"max_rate": 0.2, "min_applicable": 5},
    },
}


@pytest.fixture
def contracts(built: Path, tmp_path: Path) -> list[Any]:
    """One contract per supplier with every term, pointing at the plans the nightly draws used."""
    from audits.contracts import load_contracts

    folder = tmp_path / "contracts"
    folder.mkdir()
    for s in SUPPLIERS:
        plan = str(built / "plans" / f"{s}.yaml")
        (folder / f"{s}.yaml").write_text(contract_text(s, plan, **FULL_TERMS), encoding="utf-8")
    return load_contracts([folder])
