"""Confidence and credible intervals for a failure proportion observed in a sample.

`failures` failed out of `n` reviewed. Wilson is the recommended everyday two-sided interval (close to
nominal coverage on average); Clopper-Pearson is the exact, conservative one (coverage never below
nominal) and the one audit tables use; the beta-binomial posterior is the Bayesian counterpart.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from scipy import stats

from audits.errors import ConfigError
from audits.stats._checks import check_failures, check_open_unit, is_real

BoundMethod = Literal["clopper-pearson", "wilson"]
BOUND_METHODS: tuple[str, ...] = ("clopper-pearson", "wilson")


@dataclass(frozen=True)
class Interval:
    """An interval for a failure proportion: `lower <= estimate <= upper`, all in [0, 1]."""

    lower: float
    upper: float
    estimate: float
    method: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        """{"lower", "upper", "estimate", "method", "confidence"}, for JSON reports."""
        return asdict(self)


def _wilson_bounds(failures: float, n: float, z: float) -> tuple[float, float]:
    """Wilson (1927) score bounds for quantile z; exactly 0 at x = 0 and exactly 1 at x = n."""
    p = failures / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    lower = 0.0 if failures == 0 else max(0.0, centre - half)
    upper = 1.0 if failures == n else min(1.0, centre + half)
    return lower, upper


def wilson(failures: int, n: int, confidence: float = 0.95) -> Interval:
    """Two-sided Wilson score interval for the failure proportion, estimate failures / n."""
    check_failures(failures, n)
    check_open_unit("confidence", confidence)
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    lower, upper = _wilson_bounds(failures, n, z)
    return Interval(lower, upper, failures / n, "wilson", confidence)


def _cp_lower(failures: float, n: float, tail: float) -> float:
    """Clopper-Pearson lower bound with `tail` probability below it; 0 when no failures."""
    return 0.0 if failures == 0 else float(stats.beta.ppf(tail, failures, n - failures + 1))


def _cp_upper(failures: float, n: float, tail: float) -> float:
    """Clopper-Pearson upper bound with `tail` probability above it; 1 when every item failed."""
    return 1.0 if failures == n else float(stats.beta.ppf(1 - tail, failures + 1, n - failures))


def tail_bounds(failures: float, n: float, tail: float, method: BoundMethod) -> tuple[float, float]:
    """(lower, upper), each with `tail` probability beyond it, for a possibly fractional count.

    For an effective sample size (a design-based variance turned into n_eff and x_eff = p n_eff),
    where the counts need not be whole numbers; the beta quantiles and the Wilson formula accept them.
    """
    if method == "wilson":
        return _wilson_bounds(failures, n, float(stats.norm.ppf(1 - tail)))
    x = min(max(failures, 0.0), n)
    return _cp_lower(x, n, tail), _cp_upper(x, n, tail)


def clopper_pearson(failures: int, n: int, confidence: float = 0.95) -> Interval:
    """Two-sided exact (Clopper-Pearson 1934) interval from beta quantiles, estimate failures / n."""
    check_failures(failures, n)
    check_open_unit("confidence", confidence)
    tail = (1 - confidence) / 2
    lower, upper = _cp_lower(failures, n, tail), _cp_upper(failures, n, tail)
    return Interval(lower, upper, failures / n, "clopper-pearson", confidence)


def upper_bound(failures: int, n: int, confidence: float, method: BoundMethod = "clopper-pearson") -> float:
    """One-sided upper confidence bound: the failure rate is below it with probability `confidence`.

    This is the number an auditor compares with the tolerable rate. The Clopper-Pearson bound is the
    one `attribute_sample_size` plans for: at its n and k_allowed it is <= tolerable.
    """
    check_failures(failures, n)
    check_open_unit("confidence", confidence)
    if method == "clopper-pearson":
        return _cp_upper(failures, n, 1 - confidence)
    if method == "wilson":
        return _wilson_bounds(failures, n, float(stats.norm.ppf(confidence)))[1]
    raise ConfigError(f"method must be one of {', '.join(BOUND_METHODS)}, got {method!r}")


def beta_binomial_posterior(
    failures: int, n: int, *, prior_alpha: float = 1.0, prior_beta: float = 1.0, confidence: float = 0.95
) -> Interval:
    """Equal-tailed credible interval of the Beta(prior_alpha + x, prior_beta + n - x) posterior.

    The estimate is the posterior mean (prior_alpha + x) / (prior_alpha + prior_beta + n). The default
    uniform prior Beta(1, 1) gives Laplace's (x + 1) / (n + 2); Beta(0.5, 0.5) is the Jeffreys prior.
    """
    check_failures(failures, n)
    check_open_unit("confidence", confidence)
    for name, value in (("prior_alpha", prior_alpha), ("prior_beta", prior_beta)):
        if not is_real(value) or value <= 0:
            raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")
    a, b = prior_alpha + failures, prior_beta + n - failures
    tail = (1 - confidence) / 2
    lower, upper = (float(v) for v in stats.beta.ppf([tail, 1 - tail], a, b))
    return Interval(lower, upper, a / (a + b), "beta-binomial", confidence)
