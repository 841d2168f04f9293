"""Argument checks shared by the stats modules; each raises ConfigError naming the argument and range."""

from __future__ import annotations

import math
import numbers

from audits.errors import ConfigError


def is_int(value: object) -> bool:
    """True for Python and numpy integers, False for bools and everything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: object) -> bool:
    """True for finite Python and numpy reals, False for bools, NaN and infinities."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def check_open_unit(name: str, value: float) -> None:
    """Raise ConfigError unless 0 < value < 1."""
    if not is_real(value) or not 0 < value < 1:
        raise ConfigError(f"{name} must satisfy 0 < {name} < 1, got {value!r}")


def check_count(name: str, value: int, minimum: int) -> None:
    """Raise ConfigError unless value is an integer >= minimum."""
    if not is_int(value) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_failures(failures: int, n: int) -> None:
    """Raise ConfigError unless n >= 1 and 0 <= failures <= n, both integers."""
    check_count("n", n, 1)
    if not is_int(failures) or not 0 <= failures <= n:
        raise ConfigError(f"failures must be an integer with 0 <= failures <= n ({n}), got {failures!r}")
