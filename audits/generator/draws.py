"""Random draws: categorical picks with numpy, and a stream of uniforms for per-turn choices.

Two streams, both seeded from the run's seed: numpy draws whole chunks of conversation attributes
at once, and `Uniforms` hands out one float at a time for the choices made while rendering turns.
Any change in the order of draws changes the output bytes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def pick(u: np.ndarray, probs: Any) -> np.ndarray:
    """Categorical draws from uniforms `u`."""
    cdf = np.cumsum(np.asarray(probs, dtype=np.float64))
    return np.minimum(np.searchsorted(cdf / cdf[-1], u, side="right"), len(cdf) - 1)


def pick_by(u: np.ndarray, cond: np.ndarray, tables: Any) -> np.ndarray:
    """Categorical draws whose probabilities depend on `cond` (a row of `tables` per value)."""
    out = np.zeros(len(u), dtype=np.int64)
    for c, probs in enumerate(tables):
        mask = cond == c
        if mask.any():
            out[mask] = pick(u[mask], probs)
    return out


class Uniforms:
    """Uniform draws for per-turn choices, refilled in blocks from one numpy generator."""

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        self._buf: list[float] = []
        self._i = 0

    def next(self) -> float:
        if self._i == len(self._buf):
            self._buf = self._rng.random(1 << 16).tolist()
            self._i = 0
        self._i += 1
        return self._buf[self._i - 1]


def choice(alts: tuple[str, ...], u: Any) -> str:
    """One of `alts`, from the uniform source `u`."""
    return alts[int(u() * len(alts))]


def prime_at_least(n: int) -> int:
    n = max(n, 2)
    while any(n % p == 0 for p in range(2, math.isqrt(n) + 1)):
        n += 1
    return n
