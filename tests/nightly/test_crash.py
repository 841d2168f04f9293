"""Kill the nightly flow mid-ingest and mid-check: a re-run ends with exactly the warehouse of an uninterrupted run.

Each run is a separate process (tests/nightly/crash_driver.py) running the real Prefect flow; the
crash is a SIGKILL from inside the step's open transaction, the worst moment: rows written, not
committed. "Exactly the same" is every row of every table, except the columns that record when
something happened or generated ids (VOLATILE below): two uninterrupted runs differ in those too.
The run history is compared on its own: it keeps the crashed attempt, marked crashed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys

import duckdb
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

NIGHT = "2026-11-02"
VOLATILE = {
    "loads": {"started_at", "finished_at", "seconds", "timings", "contract_result"},
    "check_results": {"run_id"},
    "check_runs": {"run_id", "started_at", "finished_at", "seconds", "timings"},
    "draws": {"created_at"},
    "review_assignments": {"assigned_at"},
    "reviews": {"submitted_at", "superseded_at"},
    "sample_scores": {"scored_at"},
    "scorecards": {"registered_at"},
    "audit_log": {
        "seq",
        "at",
        "prev_hash",
        "hash",
        "salt",
        "supplier_seq",
        "supplier_prev_hash",
        "supplier_hash",
    },
}
HISTORY = {"nightly_runs"}


def _run(warehouse, data, crash: str = "none") -> subprocess.CompletedProcess:
    """Run the driver in its own process group; afterwards end the group (the killed flow's temporary
    Prefect server is its child and outlives it), reading the output from files, not pipes."""
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    args = [sys.executable, "-m", "tests.nightly.crash_driver", str(warehouse), str(data), NIGHT, crash]
    out, err = warehouse.with_suffix(f".{crash}.out"), warehouse.with_suffix(f".{crash}.err")
    with open(out, "w") as fo, open(err, "w") as fe:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=fo, stderr=fe, start_new_session=True)
        try:
            code = proc.wait(timeout=300)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return subprocess.CompletedProcess(args, code, out.read_text(), err.read_text())


def snapshot(warehouse) -> dict[str, list[tuple]]:
    """Every user table's rows (sorted), without the volatile columns."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = {}
        tables = [
            r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()
        ]
        for t in sorted(set(tables) - HISTORY):
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [t]).fetchall()
                if c not in VOLATILE.get(t, set())]  # fmt: skip
            rows = con.execute(f"SELECT {', '.join(map(json.dumps, cols))} FROM {t}").fetchall()
            out[t] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def uninterrupted(night_data, tmp_path_factory):
    wh = tmp_path_factory.mktemp("clean") / "w.duckdb"
    done = _run(wh, night_data)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return snapshot(wh)


@pytest.mark.parametrize("point", ["ingest", "checks"])
def test_rerun_after_a_kill_equals_an_uninterrupted_run(point, night_data, uninterrupted, tmp_path):
    wh = tmp_path / "w.duckdb"
    killed = _run(wh, night_data, point)
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-2000:] + killed.stderr[-4000:]
    assert "killing pid" in killed.stdout + killed.stderr
    again = _run(wh, night_data)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-4000:]
    after = snapshot(wh)
    assert sorted(after) == sorted(uninterrupted)
    for table in uninterrupted:
        assert after[table] == uninterrupted[table], table
    con = duckdb.connect(str(wh), read_only=True)
    try:
        outcomes = con.execute(
            "SELECT outcome, json_array_length(steps) FROM nightly_runs ORDER BY started_at"
        ).fetchall()
    finally:
        con.close()
    # the killed attempt is marked crashed with the steps it had finished (none before ingest ended)
    assert [o for o, _ in outcomes] == ["crashed", "completed"]
    assert outcomes[0][1] == (0 if point == "ingest" else 2)
