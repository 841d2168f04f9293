"""What both benchmark scripts share: running a measured child process and describing the machine."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def child(code: str, *args: str) -> dict:
    """Run `code` in a fresh Python (so its peak memory is its own); return its last line as JSON."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"benchmark child failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine(*, pandas: bool = False) -> str:
    """Cores, CPU, memory, OS and the versions that matter, for the figures' record."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import duckdb  # noqa: PLC0415

    versions = f"Python {platform.python_version()}, DuckDB {duckdb.__version__}"
    if pandas:
        import pandas as pd  # noqa: PLC0415

        versions += f", pandas {pd.__version__}"
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, {versions}"
