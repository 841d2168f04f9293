"""`make demo`'s command on the bundled data, and the bundled data itself."""

from __future__ import annotations

import json

from click.testing import CliRunner

from audits.cli import BUNDLED_DATA, main
from tests.conftest import REPO

DEMO_SEED = 20261101
DEMO_CONVERSATIONS = 3000


def test_bundled_data_is_what_the_generator_makes(tmp_path):
    """data/demo is exactly `qa-audit demo-data -n 3000 --seed 20261101 --compress` (see data/README.md)."""
    from audits.generator import generate

    generate(tmp_path, conversations=DEMO_CONVERSATIONS, seed=DEMO_SEED, compress=True)
    shipped = sorted(p.name for p in BUNDLED_DATA.iterdir())
    assert shipped == sorted(p.name for p in tmp_path.iterdir())
    for name in shipped:
        assert (BUNDLED_DATA / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_demo_runs_the_flow_and_is_idempotent(prefect_harness, tmp_path):
    wh = str(tmp_path / "demo.duckdb")
    first = CliRunner().invoke(main, ["demo", "--warehouse", wh])
    assert first.exit_code == 0, first.output
    assert f"The warehouse is at {tmp_path / 'demo.duckdb'}" in first.output
    summary = json.loads((BUNDLED_DATA / "_ground_truth_summary.json").read_text())
    assert f"{summary['conversations']} conversations loaded" in first.output
    assert "0 quarantined" in first.output
    assert f"Automated checks on all {summary['conversations']} conversations" in first.output
    assert "A failed answer traced (qa-audit trace F-000001)" in first.output
    pii = next(line for line in first.output.splitlines() if line.startswith("pii_echo "))
    assert pii.split()[2] == str(summary["planted"]["pii_echo"])  # check, pass, fail, na
    again = CliRunner().invoke(main, ["demo", "--warehouse", wh, "--json"])
    assert again.exit_code == 0, again.output
    report = json.loads(again.output)
    assert {r["status"] for r in report["loads"]} == {"already loaded"}
    assert report["status"]["totals"]["conversations"] == summary["conversations"]
    assert report["status"]["totals"]["turns"] == summary["turns"]
    assert report["checks"]["checks"]["repeat_contact"]["fail"] == summary["planted"]["repeat_contact"]
    # the demo's trace: found, corrected, its siblings found, no recurrence, verified and closed; once
    trace = report["trace"]
    assert trace["state"] == "closed" and trace["blast_radius"] > 0 and trace["customers"] > 0
    assert [e["event"] for e in trace["events"]] == [
        "detected", "reviewed", "root_cause", "corrected", "blast_radius_searched", "customers_listed",
        "recurrence_checked", "contacted", "verified", "closed"]  # fmt: skip
    assert "<h1>Finding " + trace["finding_id"] in (tmp_path / "trace-demo.html").read_text(encoding="utf-8")


def test_readme_names_the_two_commands():
    text = (REPO / "README.md").read_text()
    assert "make demo" in text and "make test" in text
