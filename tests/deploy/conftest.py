"""A real Prefect server for the deployment tests: `prefect server start` on 127.0.0.1, stopped by its pid.

Every Prefect process the tests start (server, `prefect deploy`, `prefect deployment run`, the worker)
gets the same environment: its own PREFECT_HOME under tmp_path (the server's SQLite database lives
there), PREFECT_API_URL pointing at this server, analytics off. Nothing from the developer's Prefect
profile leaks in: inherited PREFECT_* variables are dropped.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's `prefect` and `qa-audit` scripts
SERVER_START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def stop(proc: subprocess.Popen[bytes], grace: float = 15.0) -> int | None:
    """Stop one process we started, by its pid: SIGTERM, wait, then SIGKILL. Its exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=grace)
    return proc.returncode


def tail(path: Path, lines: int = 60) -> str:
    """The last lines of a log file (for failure messages)."""
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class PrefectServer:
    """A running `prefect server start` and the environment its clients need."""

    port: int
    home: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def cli(self, *args: str, cwd: Path = REPO, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """Run `prefect ARGS` against this server; fail the test with its output if it fails."""
        cmd = [str(BIN / "prefect"), "--no-prompt", *args]
        done = subprocess.run(cmd, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            pytest.fail(
                f"{' '.join(cmd)} exited {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
            )
        return done


def prefect_env(home: Path, api_url: str) -> dict[str, str]:
    """The environment of every Prefect process in these tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=api_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_CLI_PROMPT="false",
        PREFECT_UI_ENABLED="false",
        PREFECT_LOGGING_LEVEL="INFO",
        GX_ANALYTICS_ENABLED="false",
    )
    env.pop("QA_AUDIT_WAREHOUSE", None)
    return env


def wait_healthy(server: PrefectServer, timeout: float = SERVER_START_TIMEOUT) -> None:
    """Poll /api/health until the server answers true; fail with its log if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            pytest.fail(f"prefect server exited {server.proc.returncode}:\n{tail(server.log)}")
        try:
            with urllib.request.urlopen(f"{server.api_url}/health", timeout=2) as r:
                if r.status == 200 and r.read().strip() == b"true":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    pytest.fail(f"prefect server not healthy after {timeout:.0f}s:\n{tail(server.log)}")


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[PrefectServer]:
    """`prefect server start` on a free port of 127.0.0.1 with its own PREFECT_HOME; stopped by pid after."""
    port = free_port()
    home = tmp_path / "prefect-home"
    home.mkdir()
    env = prefect_env(home, f"http://127.0.0.1:{port}/api")
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = PrefectServer(port=port, home=home, env=env, proc=proc, log=log)
    try:
        wait_healthy(server)
        yield server
    finally:
        stop(proc)
    assert not port_open(port), f"port {port} still open after the server (pid {proc.pid}) stopped"
