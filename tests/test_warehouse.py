"""Opening the warehouse: one writer at a time, retry with back-off, a clear error when busy."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from audits import warehouse
from audits.errors import WarehouseBusy, WarehouseError


def hold(path: Path, seconds: float) -> subprocess.Popen:
    """Another process that opens the warehouse read-write and keeps it for `seconds`."""
    code = (
        "import sys, time, duckdb; c = duckdb.connect(sys.argv[1]); "
        "print('held', flush=True); time.sleep(float(sys.argv[2])); c.close()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_busy_warehouse_raises_after_the_wait(wh):
    warehouse.connect(wh).close()
    proc = hold(wh, 30)
    try:
        t0 = time.monotonic()
        with pytest.raises(WarehouseBusy, match="another process holds the warehouse"):
            warehouse.connect(wh, wait=1.0)
        assert time.monotonic() - t0 >= 1.0
    finally:
        proc.kill()
        proc.wait()


def test_a_writer_waits_for_the_other_to_finish(wh):
    warehouse.connect(wh).close()
    proc = hold(wh, 1.5)
    try:
        con = warehouse.connect(wh, wait=30)
        assert warehouse.scalar(con, "SELECT value FROM meta WHERE key = 'schema_version'") == "1"
        con.close()
    finally:
        proc.wait()


def test_default_and_env_paths(monkeypatch, tmp_path):
    assert warehouse.resolve_path() == Path("data/warehouse.duckdb")
    monkeypatch.setenv("QA_AUDIT_WAREHOUSE", str(tmp_path / "x.duckdb"))
    assert warehouse.resolve_path() == tmp_path / "x.duckdb"
    assert warehouse.resolve_path(tmp_path / "y.duckdb") == tmp_path / "y.duckdb"


def test_a_file_that_is_not_a_warehouse(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"this is not a database" * 1000)
    with pytest.raises(WarehouseError, match="bad.duckdb"):
        warehouse.connect(bad)


def test_a_newer_schema_is_refused(wh):
    con = warehouse.connect(wh)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(WarehouseError, match="schema version 99 is newer"):
        warehouse.connect(wh)


def test_memory_limit_from_the_environment(wh, monkeypatch):
    monkeypatch.setenv("QA_AUDIT_MEMORY_LIMIT", "512MB")
    con = warehouse.connect(wh)
    try:
        limit = warehouse.scalar(con, "SELECT current_setting('memory_limit')")
        assert limit == "488.2 MiB"  # 512 MB (10^6 bytes) shown in MiB
    finally:
        con.close()
    monkeypatch.setenv("QA_AUDIT_MEMORY_LIMIT", "lots")
    with pytest.raises(WarehouseError, match="QA_AUDIT_MEMORY_LIMIT='lots' is not a memory size"):
        warehouse.connect(wh)
