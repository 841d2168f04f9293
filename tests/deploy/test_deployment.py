"""The scheduled deployment in prefect.yaml, for real: a Prefect server, `prefect deploy`, a worker, a run.

The slow test does what docs/operations.md tells an operator to do, against `prefect server start`
on 127.0.0.1 (conftest.py): create the `process` work pool, `prefect deploy --all` from the repository
root, check through the API that the deployment carries the cron schedule in its named time zone and
that the server schedules runs at that local time, trigger a run with `prefect deployment run
--param ...` on a tiny generated night, let `prefect worker start --run-once` (started outside the
repository, so only the pull step can find the flow) pick it up, and poll the API until the run is
COMPLETED; then the warehouse must hold the night's load and its row in `nightly_runs`, keyed by the
Prefect flow run id. The server and the worker are stopped by process id.
"""

from __future__ import annotations

import datetime as dt
import inspect
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.deploy.conftest import BIN, REPO, PrefectServer, stop, tail

PREFECT_YAML = REPO / "prefect.yaml"
DEPLOYMENT = "nightly"
FLOW_NAME = "nightly-audit"
ENTRYPOINT = "flows/nightly_audit.py:nightly_audit"
POOL = "qa-audit"
NIGHT = dt.date(2026, 11, 1)  # `qa-audit demo-data` starts its conversations on 2026-11-01
CONVERSATIONS = 200


def deployment_spec() -> dict[str, Any]:
    """The `nightly` entry of prefect.yaml."""
    config = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    (spec,) = [d for d in config["deployments"] if d["name"] == DEPLOYMENT]
    return dict(spec)


def test_prefect_yaml_describes_the_nightly_deployment() -> None:
    """prefect.yaml names the nightly flow, a valid cron in a real time zone, the pool and the pull step."""
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.flows import load_flow_from_entrypoint

    config = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    spec = deployment_spec()
    assert spec["entrypoint"] == ENTRYPOINT
    flow: Any = load_flow_from_entrypoint(str(REPO / ENTRYPOINT))
    assert flow.name == FLOW_NAME
    accepted = set(inspect.signature(flow.fn).parameters)
    assert set(spec["parameters"]) <= accepted, f"unknown parameters: {set(spec['parameters']) - accepted}"
    (schedule,) = spec["schedules"]
    CronSchedule(cron=schedule["cron"], timezone=schedule["timezone"])  # raises on a bad cron or zone
    assert ZoneInfo(schedule["timezone"]).key == schedule["timezone"]
    assert spec["parameters"]["timezone"] == schedule["timezone"], "last night must be the schedule's night"
    assert spec["work_pool"]["name"] == POOL
    pull_steps = [next(iter(step)) for step in config["pull"]]
    assert pull_steps == ["prefect.deployments.steps.set_working_directory"]


@contextmanager
def api(server: PrefectServer) -> Iterator[Any]:
    """A synchronous Prefect client for this server (not whatever the test process's settings say)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings(updates={PREFECT_API_URL: server.api_url}),
        get_client(sync_client=True) as client,
    ):
        yield client


def runs_of(client: Any, deployment_id: Any) -> list[Any]:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    return list(
        client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])))
    )


def run_logs(client: Any, flow_run_id: Any) -> str:
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])), limit=200)
    return "\n".join(f"{log.timestamp:%H:%M:%S} {log.name}: {log.message}" for log in logs)


def daily_time(cron: str) -> tuple[int, int]:
    """(hour, minute) of a cron that fires at one fixed time of day."""
    minute, hour, *_ = cron.split()
    assert minute.isdigit() and hour.isdigit(), f"this test expects a fixed time of day, not {cron!r}"
    return int(hour), int(minute)


@pytest.mark.slow
def test_deploy_schedule_and_run_on_a_worker(prefect_server: PrefectServer, tmp_path: Path) -> None:
    t0 = time.monotonic()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        timings[name] = round(time.monotonic() - t0, 1)

    spec = deployment_spec()
    (schedule,) = spec["schedules"]

    # A tiny night of exports (the generator's data; its ground truth drives the simulated reviewer).
    inbox = tmp_path / "inbox"
    gen = subprocess.run(
        [str(BIN / "qa-audit"), "demo-data", "-n", str(CONVERSATIONS), "--days", "2", "--out", str(inbox)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert gen.returncode == 0, gen.stderr
    warehouse = tmp_path / "warehouse.duckdb"

    prefect_server.cli("work-pool", "create", POOL, "--type", "process")
    prefect_server.cli("deploy", "--all", cwd=REPO)
    lap("deployed")

    with api(prefect_server) as client:
        deployment = client.read_deployment_by_name(f"{FLOW_NAME}/{DEPLOYMENT}")
        assert deployment.entrypoint == ENTRYPOINT
        assert deployment.work_pool_name == POOL
        assert deployment.pull_steps == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(REPO)}}
        ]
        assert deployment.parameters == spec["parameters"]
        (deployed,) = deployment.schedules
        assert deployed.active
        assert deployed.schedule.cron == schedule["cron"]
        assert deployed.schedule.timezone == schedule["timezone"]

        # The server's scheduler turns the schedule into runs at that local time in that zone.
        zone = ZoneInfo(schedule["timezone"])
        deadline = time.monotonic() + 30
        scheduled: list[Any] = []
        while not scheduled and time.monotonic() < deadline:
            scheduled = [r for r in runs_of(client, deployment.id) if r.auto_scheduled]
            if not scheduled:
                time.sleep(0.5)
        assert scheduled, "the server scheduled no runs of the deployment within 30 s"
        local = sorted(r.expected_start_time.astimezone(zone) for r in scheduled)
        assert {(t.hour, t.minute) for t in local} == {daily_time(schedule["cron"])}
        assert local[0] > dt.datetime.now(zone)
        gaps = {(b.date() - a.date()).days for a, b in zip(local, local[1:], strict=False)}
        assert gaps <= {1}, f"one run a night, not {local}"
        lap("schedule checked")

    # A run now, with this night's parameters, as an operator would trigger one.
    prefect_server.cli(
        "deployment", "run", f"{FLOW_NAME}/{DEPLOYMENT}",
        "--param", f"night={NIGHT.isoformat()}",
        "--param", f"input_dir={inbox}",
        "--param", f"warehouse={warehouse}",
        "--param", 'reviewers=["ana", "ben"]',
        "--param", f"simulate_reviews={inbox / '_ground_truth.jsonl'}",
    )  # fmt: skip
    with api(prefect_server) as client:
        (run,) = [r for r in runs_of(client, deployment.id) if not r.auto_scheduled]

    # The worker runs outside the repository; a run that ignored its parameters would touch these instead.
    stray_warehouse, stray_inbox = tmp_path / "stray.duckdb", tmp_path / "stray-inbox"
    worker_env = dict(
        prefect_server.env, QA_AUDIT_WAREHOUSE=str(stray_warehouse), QA_AUDIT_INBOX=str(stray_inbox)
    )
    worker_log = tmp_path / "worker.log"
    workdir = tmp_path / "worker"
    workdir.mkdir()
    with open(worker_log, "wb") as out:
        worker = subprocess.Popen(
            [str(BIN / "prefect"), "--no-prompt", "worker", "start", "--pool", POOL, "--run-once",
             "--prefetch-seconds", "0", "--install-policy", "never"],
            cwd=workdir, env=worker_env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        with suppress(subprocess.TimeoutExpired):
            worker.wait(timeout=90)  # --run-once: it exits when the run is over
    finally:
        code = stop(worker)
    lap("worker done")

    with api(prefect_server) as client:
        deadline = time.monotonic() + 20
        run = client.read_flow_run(run.id)
        while not (run.state and run.state.is_final()) and time.monotonic() < deadline:
            time.sleep(0.5)
            run = client.read_flow_run(run.id)
        state = run.state
        if state is None or not state.is_completed():
            pytest.fail(
                f"flow run {run.name} ({run.id}) ended {state!r}; worker exit {code}\n"
                f"--- flow run logs\n{run_logs(client, run.id)}\n--- worker log\n{tail(worker_log)}"
            )
        assert run.parameters["night"] == NIGHT.isoformat()
        assert run.work_pool_name == POOL
    assert code == 0, tail(worker_log)

    from audits.warehouse import connect

    con = connect(warehouse, read_only=True)
    try:
        loaded = con.execute("SELECT count(*) FROM conversations").fetchall()
        nights = con.execute("SELECT run_id, night, outcome, error FROM nightly_runs").fetchall()
    finally:
        con.close()
    assert loaded == [(CONVERSATIONS,)]
    assert nights == [(str(run.id), NIGHT, "completed", None)]
    assert not stray_warehouse.exists() and not stray_inbox.exists()
    lap("effects checked")
    print(f"deployment test timings (s since start): {timings}")
