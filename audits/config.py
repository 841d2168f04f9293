"""Validation of configuration read from YAML: every error names the file and the key.

Used by sampling plans, scorecards and check configuration::

    r = ConfigReader("plans/week.yaml")
    d = r.mapping("", data, ("name", "size"))
    n = r.integer("size.n", d["size"]["n"], 1)   # ConfigError "plans/week.yaml: size.n: must be ..."
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from audits.errors import ConfigError
from audits.stats._checks import is_int, is_real


class ConfigReader:
    """Validation helpers that raise ConfigError naming the file and the key."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {message}")

    def mapping(self, key: str, value: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a mapping, got {type(value).__name__}")
        for k in value:
            if k not in allowed:
                raise self.fail(
                    f"{key}.{k}" if key else str(k), f"unknown key; expected one of {', '.join(allowed)}"
                )
        return value

    def string(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, got {value!r}")
        return value

    def strings(
        self, key: str, value: Any, *, allowed: tuple[str, ...] | None = None, empty: bool = False
    ) -> tuple[str, ...]:
        if not isinstance(value, list) or (not value and not empty):
            raise self.fail(key, f"must be a {'' if empty else 'non-empty '}list of strings, got {value!r}")
        out = tuple(self.string(f"{key}[{i}]", v) for i, v in enumerate(value))
        for i, v in enumerate(out):
            if allowed is not None and v not in allowed:
                raise self.fail(f"{key}[{i}]", f"unknown value {v!r}; expected one of {', '.join(allowed)}")
            if v in out[:i]:
                raise self.fail(f"{key}[{i}]", f"{v!r} is listed twice")
        return out

    def integer(self, key: str, value: Any, minimum: int) -> int:
        if not is_int(value) or value < minimum:
            raise self.fail(key, f"must be an integer >= {minimum}, got {value!r}")
        return int(value)

    def rate(self, key: str, value: Any, *, low_open: bool = True, high_closed: bool = False) -> float:
        ok = (
            is_real(value)
            and (value > 0 if low_open else value >= 0)
            and (value <= 1 if high_closed else value < 1)
        )
        if not ok:
            rng = (
                f"{'0 <' if low_open else '0 <='} {key.rsplit('.', 1)[-1]} {'<= 1' if high_closed else '< 1'}"
            )
            raise self.fail(key, f"must be a number with {rng}, got {value!r}")
        return float(value)

    def date(self, key: str, value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            raise self.fail(key, f"must be a date (YYYY-MM-DD), got a timestamp {value!r}")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(key, f"must be a date (YYYY-MM-DD), got {value!r}")
