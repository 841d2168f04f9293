"""A reporting period: whole UTC days, inclusive at both ends.

parse_period("2026-11-05")              one day
parse_period("2026-11-01..2026-11-07")  a range of days
parse_period("2026-W45")                an ISO week (Monday to Sunday)
parse_period("2026-11")                 a calendar month
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from audits.errors import ConfigError

_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class Period:
    """Days `start` to `end` (UTC), both included."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ConfigError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def label(self) -> str:
        """`2026-11-05`, or `2026-11-01..2026-11-07`."""
        return str(self.start) if self.start == self.end else f"{self.start}..{self.end}"

    @property
    def days(self) -> list[dt.date]:
        """Every day of the period, in order."""
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def where(self, column: str = "started_at") -> str:
        """SQL: `column` (a TIMESTAMPTZ) falls within the period's UTC days."""
        after = self.end + dt.timedelta(days=1)
        return f"({column} >= TIMESTAMPTZ '{self.start} 00:00:00+00' AND {column} < TIMESTAMPTZ '{after} 00:00:00+00')"

    def to_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "label": self.label}


def _date(text: str, whole: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"period {whole!r}: {text!r} is not a date (YYYY-MM-DD); use a day, FROM..TO, YYYY-Www or YYYY-MM"
        ) from None


def parse_period(text: str) -> Period:
    """A period from its text form (see the module docstring); ConfigError naming the text otherwise."""
    s = text.strip()
    if ".." in s:
        a, _, b = s.partition("..")
        return Period(_date(a.strip(), text), _date(b.strip(), text))
    if m := _WEEK.fullmatch(s):
        year, week = int(m.group(1)), int(m.group(2))
        try:
            monday = dt.date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ConfigError(f"period {text!r}: {year} has no ISO week {week}") from None
        return Period(monday, monday + dt.timedelta(days=6))
    if m := _MONTH.fullmatch(s):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise ConfigError(f"period {text!r}: month {month} is not 01-12")
        first = dt.date(year, month, 1)
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        return Period(first, nxt - dt.timedelta(days=1))
    day = _date(s, text)
    return Period(day, day)
