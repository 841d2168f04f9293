"""`qa-audit sample` and `qa-audit sample verify` on the bundled demo data."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from audits import warehouse
from audits.cli import BUNDLED_DATA, main
from audits.ingest import load_paths
from tests.conftest import REPO

PLAN = str(REPO / "data" / "plans" / "demo-week.yaml")


@pytest.fixture(scope="module")
def demo_wh(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "w.duckdb"
    load_paths([BUNDLED_DATA], warehouse_path=path)
    return str(path)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_sample_draws_and_redraws_the_same(demo_wh):
    code, out = run("sample", "--plan", PLAN, "--seed", "buyer-42", "-w", demo_wh, "--json")
    assert code == 0, out
    first = json.loads(out)
    strata = {s["stratum"]: s for s in first["strata"]}
    # every failed automation is taken; the random strata share the attribute size of 93
    # (AICPA table, 5% tolerable, 1% expected, 95%), at least 5 each
    assert strata["edge:failed_automation"]["drawn"] == strata["edge:failed_automation"]["population"]
    random = [s for k, s in strata.items() if not k.startswith("edge:")]
    assert sum(s["drawn"] for s in random) == 93 and min(s["drawn"] for s in random) >= 5
    code, out = run("sample", "--plan", PLAN, "--seed", "buyer-42", "-w", demo_wh, "--json")
    again = json.loads(out)
    assert (again["draw_id"], again["existing"]) == (first["draw_id"], True)
    code, out = run("sample", "--plan", PLAN, "--seed", "buyer-43", "-w", demo_wh, "--json")
    assert json.loads(out)["draw_id"] != first["draw_id"]


def test_verify_passes_then_names_what_was_changed(demo_wh, tmp_path):
    import shutil

    wh = str(tmp_path / "copy.duckdb")
    shutil.copy(demo_wh, wh)
    draw_id = json.loads(run("sample", "--plan", PLAN, "--seed", "s1", "-w", wh, "--json")[1])["draw_id"]
    code, out = run("sample", "verify", draw_id, "-w", wh)
    assert code == 0 and "verified, nothing differs" in out
    con = warehouse.connect(wh)
    con.execute("UPDATE conversations SET content_hash = 'x' WHERE conversation_id = 'c-000000007'")
    con.close()
    code, out = run("sample", "verify", draw_id, "-w", wh, "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    assert report["population_count"]["stored"] == report["population_count"]["now"]
    assert report["population_fingerprint"]["stored"] != report["population_fingerprint"]["now"]


def test_sample_needs_a_plan_and_a_seed(demo_wh):
    code, out = run("sample", "-w", demo_wh)
    assert code == 1 and "give --plan FILE and --seed S" in out


def test_score_and_estimate_from_the_cli(demo_wh, tmp_path):
    import csv
    import shutil

    wh = str(tmp_path / "scored.duckdb")
    shutil.copy(demo_wh, wh)
    draw_id = json.loads(run("sample", "--plan", PLAN, "--seed", "s2", "-w", wh, "--json")[1])["draw_id"]
    con = warehouse.connect(wh)
    items = con.execute(
        "SELECT i.supplier, i.conversation_id, coalesce(c.automation_failed, false) "
        "FROM draw_items i JOIN conversations c USING (supplier, conversation_id) WHERE i.draw_id = ?",
        [draw_id],
    ).fetchall()
    con.close()
    path = tmp_path / "scores.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["supplier", "conversation_id", "passed"])
        for supplier, cid, failed in items:  # a simulated reviewer: an automation that failed fails QA
            w.writerow([supplier, cid, "fail" if failed else "pass"])
    code, out = run("sample", "score", draw_id, str(path), "--simulated", "-w", wh)
    assert code == 0 and f"{len(items)} scores recorded" in out
    code, out = run("sample", "estimate", draw_id, "--floor", "0.85", "-w", wh, "--json")
    assert code == 0, out
    est = json.loads(out)
    failed = sum(1 for *_, f in items if f)
    assert (est["scored"], est["failures"], est["simulated_scores"]) == (len(items), failed, len(items))
    # failed automations are all drawn (edge stratum) and all fail: the weighted failure rate is
    # their population share, far below the unweighted share in the sample
    pop = warehouse.connect(wh)
    share = warehouse.scalar(pop, "SELECT avg(coalesce(automation_failed, false)::INT) FROM conversations")
    pop.close()
    assert abs(est["overall"]["failure_rate"] - share) < 1e-9
    assert est["naive_failure_rate"] > 3 * est["overall"]["failure_rate"]
    assert est["floor"]["verdict"] == "met"
    code, out = run("sample", "estimate", draw_id, "-w", wh)
    assert code == 0 and "design-weighted" in out


def test_export_and_verify_the_manifest_without_a_warehouse(demo_wh, tmp_path):
    draw_id = json.loads(run("sample", "--plan", PLAN, "--seed", "s3", "-w", demo_wh, "--json")[1])["draw_id"]
    out = tmp_path / "pack"
    code, text = run("sample", "export", draw_id, "--out", str(out), "-w", demo_wh)
    assert code == 0 and "3000 population rows" in text
    code, text = run("sample", "verify", "--manifest", str(out))
    assert code == 0 and "verified, nothing differs" in text
    lines = (out / "sample.csv").read_text().splitlines()
    (out / "sample.csv").write_text("\n".join(lines[:-1]) + "\n")  # drop one sampled conversation
    code, text = run("sample", "verify", "--manifest", str(out), "--json")
    report = json.loads(text)
    assert code == 1 and report["ok"] is False
    assert [d for d in report["differences"] if d.startswith("missing from sample.csv")]
