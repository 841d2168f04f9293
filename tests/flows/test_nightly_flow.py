"""`qa-audit nightly` and `qa-audit runs` through the real Prefect flow (the session's test harness)."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from audits.cli import main
from tests.nightly.test_lock import HOLD


def _nightly(wh, data, night="2026-11-02", *extra):
    args = ["nightly", "--date", night, "--input", str(data), "--warehouse", wh,
            "--reviewer", "sim-a", "--reviewer", "sim-b", "--simulate-reviews", str(data / "_ground_truth.jsonl"), *extra]  # fmt: skip
    return CliRunner().invoke(main, args)


def test_nightly_runs_every_step_and_records_the_run(prefect_harness, night_data, tmp_path):
    wh = str(tmp_path / "w.duckdb")
    first = _nightly(wh, night_data)
    assert first.exit_code == 0, first.output
    for step in (
        "ingest",
        "contract",
        "checks",
        "flags",
        "draw",
        "assign",
        "simulate",
        "estimate",
        "breach",
        "report",
    ):
        assert f"  {step} " in first.output, step
    assert "reviews by the simulated reviewer (marked simulated)" in first.output
    assert (tmp_path / "reports" / "nightly-2026-11-02.json").is_file()
    page = (tmp_path / "reports" / "nightly-2026-11-02.html").read_text()
    assert "<svg" in page and "lumen-ai" in page and "2026-11-02" in page
    again = _nightly(wh, night_data, "2026-11-02", "--json")
    assert again.exit_code == 0, again.output
    out = json.loads(again.output)
    by_step = {s["step"]: s["counts"] for s in out["steps"]}
    assert all(d["existing"] for d in by_step["draw"]["draws"])  # the same draws, found again
    assert by_step["simulate"]["simulated_reviews"] == 0
    assert out["flow_seconds"] >= out["library_seconds"] > 0
    runs = CliRunner().invoke(main, ["runs", "--warehouse", wh, "--json"])
    assert runs.exit_code == 0, runs.output
    history = json.loads(runs.output)
    assert [r["outcome"] for r in history] == ["completed", "completed"]
    assert history[0]["run_id"] == out["run_id"] and history[0]["night"] == "2026-11-02"
    text = CliRunner().invoke(main, ["runs", "--warehouse", wh, "--steps"])
    assert text.exit_code == 0 and "completed" in text.output and "draw" in text.output


def test_a_failed_step_is_recorded_and_exits_1(prefect_harness, night_data, tmp_path):
    wh = str(tmp_path / "w.duckdb")
    bad = tmp_path / "checks.yaml"
    bad.write_text("first_response_sla_seconds: {chat: -5}\n")
    result = _nightly(wh, night_data, "2026-11-01", "--check-config", str(bad))
    assert result.exit_code == 1
    assert str(bad) in result.output
    runs = CliRunner().invoke(main, ["runs", "--warehouse", wh])
    assert runs.exit_code == 1  # the latest attempt failed
    assert "failed" in runs.output and str(bad) in runs.output


def test_a_second_night_on_a_busy_warehouse_fails_clearly(prefect_harness, night_data, tmp_path):
    wh = tmp_path / "w.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(wh)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = _nightly(str(wh), night_data, "2026-11-03", "--wait", "1")
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert "another nightly run holds this warehouse (night 2026-11-02, run holder-run" in result.output
    assert not wh.exists()  # it never touched the warehouse
    assert _nightly(str(wh), night_data, "2026-11-03").exit_code == 0  # free again once the holder is gone
