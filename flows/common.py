"""What the flows share: which failures are worth a retry."""

from __future__ import annotations

from typing import Any

from audits.errors import WarehouseBusy


def worth_retrying(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a busy warehouse or a passing I/O error; a bad file or bad SQL fails the same way every time."""
    try:
        state.result()
    except (WarehouseBusy, OSError):
        return True
    except Exception:  # noqa: BLE001 - anything else is final
        return False
    return False
