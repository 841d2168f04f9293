"""Local time: Sydney's daylight saving, and RFC 3339 stamps with the local UTC offset."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np

_OFFSET_TEXT = np.array([f"+{h:02d}:00" for h in range(7, 12)])


def sydney_summer(day: date) -> bool:
    """Whether New South Wales keeps daylight saving (UTC+11) on `day`."""

    def first_sunday(month: int) -> date:
        first = date(day.year, month, 1)
        return first + timedelta(days=(6 - first.weekday()) % 7)

    return day >= first_sunday(10) or day < first_sunday(4)


def stamps(epochs: Any, offsets: np.ndarray) -> list[str]:
    """RFC 3339 strings with the local UTC offset (whole hours from +07:00 to +11:00)."""
    local = (np.asarray(epochs, dtype=np.int64) + offsets).astype("datetime64[s]")
    return np.strings.add(np.datetime_as_string(local, unit="s"), _OFFSET_TEXT[offsets // 3600 - 7]).tolist()
