"""One nightly run at a time per warehouse: an exclusive `flock` on `<warehouse>.nightly.lock`.

The operating system releases a `flock` when its process dies, however it dies, so a crashed run
never leaves a stale lock behind. The file's content (night, pid, since) is only there to tell the
second run who holds it; the lock itself is the flock, not the file's existence.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from audits.errors import NightlyBusy


def lock_path(warehouse: str | os.PathLike[str]) -> Path:
    """The lock file that sits next to the warehouse."""
    w = Path(warehouse)
    return w.with_name(w.name + ".nightly.lock")


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "holder unknown"
    return f"night {info.get('night')}, run {info.get('run_id')}, pid {info.get('pid')}, since {info.get('since')}"


@contextmanager
def night_lock(
    warehouse: str | os.PathLike[str], night: dt.date, run_id: str, wait: float = 0.0
) -> Iterator[None]:
    """Hold the warehouse's nightly lock for the `with` block; NightlyBusy after `wait` seconds."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        delay = 0.2
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise NightlyBusy(str(warehouse), _holder(path), wait) from None
                time.sleep(min(delay, max(deadline - time.monotonic(), 0.01)))
                delay = min(delay * 2, 5.0)
        info = {"night": night.isoformat(), "run_id": run_id, "pid": os.getpid(),
                "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}  # fmt: skip
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
