"""Population failure rate from a stratified sample (e.g. one stratum per supplier, channel or market).

Each stratum h holds N_h items of which n_h were reviewed at random (without replacement) and x_h
failed. The strata are combined with population weights W_h = N_h / N, so a heavily sampled small
stratum does not dominate the estimate (Cochran, Sampling Techniques, 3rd ed., 1977, ch. 5,
stratified sampling for proportions).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats

from audits.errors import ConfigError
from audits.stats._checks import check_count, check_open_unit, is_int, is_real


@dataclass(frozen=True)
class StratumCounts:
    """One stratum: `population` items (N_h), `sampled` of them reviewed (n_h), `failures` failed (x_h)."""

    name: str
    population: int
    sampled: int
    failures: int


@dataclass(frozen=True)
class StratumResult:
    """A stratum's part of the estimate: W_h, p_h, the design weight N_h / n_h, and W_h^2 var(p_h)."""

    name: str
    weight: float
    rate: float
    design_weight: float
    variance: float


@dataclass(frozen=True)
class StratifiedEstimate:
    """The stratified failure rate, its variance, and a normal-approximation interval in [0, 1]."""

    estimate: float
    variance: float
    standard_error: float
    lower: float
    upper: float
    confidence: float
    population: int
    sampled: int
    failures: int
    strata: tuple[StratumResult, ...]

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (strata as a list of dicts), for JSON reports."""
        out = asdict(self)
        out["strata"] = [asdict(s) for s in self.strata]
        return out


def _validate(strata: Sequence[StratumCounts]) -> None:
    """Raise ConfigError unless every stratum has 1 <= n_h <= N_h and 0 <= x_h <= n_h, names unique."""
    if len(strata) == 0:
        raise ConfigError("strata must contain at least one StratumCounts")
    seen: set[str] = set()
    for s in strata:
        if not isinstance(s, StratumCounts):
            raise ConfigError(f"strata must contain StratumCounts, got {s!r}")
        if s.name in seen:
            raise ConfigError(f"strata names must be unique, {s.name!r} appears twice")
        seen.add(s.name)
        check_count(f"population of stratum {s.name!r}", s.population, 1)
        if not is_int(s.sampled) or not 1 <= s.sampled <= s.population:
            raise ConfigError(
                f"sampled of stratum {s.name!r} must be an integer with 1 <= sampled <= population "
                f"({s.population}), got {s.sampled!r}"
            )
        if not is_int(s.failures) or not 0 <= s.failures <= s.sampled:
            raise ConfigError(
                f"failures of stratum {s.name!r} must be an integer with 0 <= failures <= sampled "
                f"({s.sampled}), got {s.failures!r}"
            )


def _stratum_result(s: StratumCounts, total: int) -> StratumResult:
    """W_h, p_h, N_h / n_h and the variance term W_h^2 (1 - n_h/N_h) p_h (1 - p_h) / (n_h - 1)."""
    weight = s.population / total
    rate = s.failures / s.sampled
    fpc = 1 - s.sampled / s.population
    # A sampled stratum with no failures (or only failures) has p_h (1 - p_h) = 0: taken literally it
    # would claim its rate is known exactly from, say, ten items. Its variance term uses
    # p~ = (x_h + 1/2) / (n_h + 1) instead, and n_h - 1 is at least 1 (a single item).
    spread = rate if 0 < s.failures < s.sampled else (s.failures + 0.5) / (s.sampled + 1)
    variance = weight * weight * fpc * spread * (1 - spread) / max(s.sampled - 1, 1)
    return StratumResult(s.name, weight, rate, s.population / s.sampled, variance)


def stratified_estimate(strata: Sequence[StratumCounts], confidence: float = 0.95) -> StratifiedEstimate:
    """Estimate the population failure rate p = sum_h W_h p_h with W_h = N_h / N and p_h = x_h / n_h.

    The estimated variance is sum_h W_h^2 (1 - n_h / N_h) p_h (1 - p_h) / (n_h - 1): the finite
    population correction (1 - n_h / N_h) makes a fully reviewed stratum contribute nothing. A sampled
    stratum with no failures or only failures (or a single item) uses p~ = (x_h + 1/2) / (n_h + 1) in
    its term instead of p_h, so a few clean items do not claim a certain rate. The interval is p +/- z SE (z the
    two-sided normal quantile) clipped to [0, 1]; it relies on the normal approximation and is poor
    when failures are rare in small strata (prefer per-stratum exact bounds then).
    """
    _validate(strata)
    check_open_unit("confidence", confidence)
    total = sum(s.population for s in strata)
    parts = tuple(_stratum_result(s, total) for s in strata)
    estimate = min(1.0, max(0.0, math.fsum(p.weight * p.rate for p in parts)))
    variance = math.fsum(p.variance for p in parts)
    se = math.sqrt(variance)
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    return StratifiedEstimate(
        estimate=estimate,
        variance=variance,
        standard_error=se,
        lower=max(0.0, estimate - z * se),
        upper=min(1.0, estimate + z * se),
        confidence=confidence,
        population=total,
        sampled=sum(s.sampled for s in strata),
        failures=sum(s.failures for s in strata),
        strata=parts,
    )


def design_weighted_estimate(weights: Sequence[float], failed: Sequence[bool], population: int) -> float:
    """sum_i w_i y_i / N over the reviewed items: w_i the item's design weight, y_i = 1 if it failed.

    With w_i = N_h / n_h for an item of stratum h (see `design_weights`) this equals the stratified
    estimate: each failure in stratum h stands for N_h / n_h items of the population.
    """
    if len(weights) != len(failed):
        raise ConfigError(
            f"weights and failed must have the same length, got {len(weights)} and {len(failed)}"
        )
    check_count("population", population, 1)
    for w in weights:
        if not is_real(w) or w < 1:
            raise ConfigError(f"weights must be finite numbers >= 1 (N_h / n_h), got {w!r}")
    return math.fsum(w for w, y in zip(weights, failed, strict=True) if y) / population


def design_weights(strata: Sequence[StratumCounts]) -> dict[str, float]:
    """The design weight N_h / n_h of a reviewed item in each stratum, by stratum name."""
    _validate(strata)
    return {s.name: s.population / s.sampled for s in strata}
