"""One nightly run per warehouse: the flock, the holder named, and release when the holder dies."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest

from audits.errors import NightlyBusy
from audits.nightly.lock import lock_path, night_lock

NIGHT = dt.date(2026, 11, 3)
HOLD = """
import datetime as dt, sys, time
from audits.nightly.lock import night_lock
with night_lock(sys.argv[1], dt.date(2026, 11, 2), "holder-run"):
    print("held", flush=True)
    time.sleep(120)
"""


def _holder(warehouse) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_night_fails_naming_the_holder(tmp_path):
    wh = tmp_path / "w.duckdb"
    proc = _holder(wh)
    try:
        t = time.monotonic()
        with pytest.raises(NightlyBusy) as err, night_lock(wh, NIGHT, "second", wait=0.5):
            pass
        assert time.monotonic() - t >= 0.5
        message = str(err.value)
        assert "night 2026-11-02" in message and "holder-run" in message and f"pid {proc.pid}" in message
        assert str(wh) in message
    finally:
        proc.kill()
        proc.wait()


def test_lock_is_released_when_the_holder_is_killed(tmp_path):
    wh = tmp_path / "w.duckdb"
    proc = _holder(wh)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with night_lock(wh, NIGHT, "after-crash", wait=0):
        assert "after-crash" in lock_path(wh).read_text()
    assert lock_path(wh).read_text() == ""  # emptied on release


def test_waiting_night_goes_on_when_the_holder_finishes(tmp_path):
    wh = tmp_path / "w.duckdb"
    proc = _holder(wh)
    killer = subprocess.Popen(
        [sys.executable, "-c", f"import os,time,signal; time.sleep(1); os.kill({proc.pid}, signal.SIGTERM)"]
    )
    try:
        with night_lock(wh, NIGHT, "patient", wait=30):
            assert proc.poll() is not None  # we got the lock only once the holder had gone
    finally:
        killer.wait()
        proc.kill()
        proc.wait()
