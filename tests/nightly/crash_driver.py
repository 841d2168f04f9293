"""Run the nightly flow in this process and, on request, kill it with SIGKILL at a chosen point.

    python -m tests.nightly.crash_driver WAREHOUSE INPUT NIGHT [ingest|checks]

`ingest`: inside the conversations file's load transaction, after its rows are written and before
COMMIT. `checks`: inside the checks' transaction, after the old results are deleted and the new ones
inserted, before COMMIT. SIGKILL cannot be caught: no finally block, no atexit, nothing is flushed,
as when the machine loses power or the OOM killer strikes.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from typing import Any


def _die() -> None:
    print(f"killing pid {os.getpid()}", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str) -> None:
    if point == "ingest":
        from audits.ingest import load

        original = load._write

        def write_then_die(con: Any, result: Any, *args: Any, **kwargs: Any) -> None:
            original(con, result, *args, **kwargs)
            if result.kind == "conversations":
                _die()

        load._write = write_then_die
    elif point == "checks":
        from audits.checks import run

        original_scalar = run.scalar

        def scalar_or_die(con: Any, sql: str, *args: Any) -> Any:
            if sql == run.KB_FINGERPRINT:  # evaluated inside the results' transaction
                _die()
            return original_scalar(con, sql, *args)

        run.scalar = scalar_or_die
    elif point != "none":
        raise SystemExit(f"unknown crash point {point!r}")


def main() -> None:
    warehouse, input_dir, night = sys.argv[1:4]
    arm(sys.argv[4] if len(sys.argv) > 4 else "none")
    from flows.nightly_audit import nightly_audit

    nightly_audit(
        night=dt.date.fromisoformat(night), input_dir=input_dir, warehouse=warehouse,
        reviewers=["sim-a", "sim-b"], simulate_reviews=os.path.join(input_dir, "_ground_truth.jsonl"),
    )  # fmt: skip
    print("night completed", flush=True)


if __name__ == "__main__":
    main()
