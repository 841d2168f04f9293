"""How many items to review: attribute (pass/fail) sample sizes and margin-of-error sample sizes.

`attribute_sample_size` answers the auditor's question "how many conversations must I review so that,
if I find no more than the expected number of failures, I can say with the given confidence that the
failure rate is below the tolerable rate?". `margin_sample_size` answers the survey question "how many
items give a +/- margin on an estimated proportion?".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import numpy as np
from scipy import stats

from audits.errors import ConfigError
from audits.stats._checks import check_count, check_open_unit, is_real

Method = Literal["binomial", "hypergeometric"]
METHODS: tuple[str, ...] = ("binomial", "hypergeometric")

# The scan evaluates candidate sample sizes in growing blocks: cheap for the usual n < 500, and
# still bounded (total work <= twice the answer) for large ones.
_FIRST_BLOCK = 256


@dataclass(frozen=True)
class SampleSize:
    """A planned attribute sample: review `n` items; the test passes if at most `k_allowed` fail."""

    n: int
    k_allowed: int
    method: str
    tolerable: float
    expected: float
    confidence: float
    population: int | None

    def to_dict(self) -> dict[str, Any]:
        """A plain dict, for JSON reports."""
        return asdict(self)


def exact_ceil_product(rate: float, count: int) -> int:
    """ceil(rate x count) computed on the decimal the user wrote, not on the binary float.

    `rate` is read through `str()` (so 0.07 is exactly 7/100) and multiplied as a fraction:
    0.07 x 100 is exactly 7, where float arithmetic gives 7.000000000000001 and a ceiling of 8.
    """
    return math.ceil(Fraction(Decimal(str(rate))) * int(count))


def _ceil_products(rate: float, counts: np.ndarray) -> np.ndarray:
    """`exact_ceil_product` for many counts at once, in exact integer arithmetic."""
    num, den = Decimal(str(rate)).as_integer_ratio()
    return np.array([-((-num * int(c)) // den) for c in counts], dtype=np.int64)


def _validate(
    tolerable: float, expected: float, confidence: float, population: int | None, method: str, max_n: int
) -> None:
    """Check the arguments of `attribute_sample_size`."""
    check_open_unit("tolerable", tolerable)
    if not is_real(expected) or not 0 <= expected < tolerable:
        raise ConfigError(
            f"expected must satisfy 0 <= expected < tolerable ({tolerable!r}), got {expected!r}"
        )
    check_open_unit("confidence", confidence)
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if population is not None:
        check_count("population", population, 1)
    elif method == "hypergeometric":
        raise ConfigError("method 'hypergeometric' requires population (an integer >= 1)")
    check_count("max_n", max_n, 1)


def _tail(k: np.ndarray, n: np.ndarray, tolerable: float, population: int | None) -> np.ndarray:
    """P(X <= k) for samples of n when the failure rate is tolerable: binomial without a population,
    hypergeometric with one (M = ceil(tolerable x N) failing items in the population)."""
    if population is None:
        return stats.binom.cdf(k, n, tolerable)
    failing = exact_ceil_product(tolerable, population)
    return stats.hypergeom.cdf(k, population, failing, n)


def attribute_sample_size(
    tolerable: float,
    expected: float,
    confidence: float,
    *,
    population: int | None = None,
    method: Method = "binomial",
    max_n: int = 100_000,
) -> SampleSize:
    """The smallest sample that supports "failure rate <= tolerable" at `confidence`.

    For each candidate n the number of failures allowed is k = ceil(expected x n) (exact decimal
    arithmetic, see `exact_ceil_product`); n is accepted when observing k failures still gives a
    one-sided upper confidence bound <= tolerable, i.e. P(X <= k) <= 1 - confidence when the true
    rate equals tolerable.

    - binomial: X ~ Binomial(n, tolerable), i.e. the Clopper-Pearson one-sided bound; a large
      population (or sampling with replacement). Reproduces the AICPA Audit Sampling Guide tables.
    - hypergeometric: X ~ Hypergeometric(N=population, M=ceil(tolerable x N), n), sampling without
      replacement from a finite population; not larger than the binomial size (provable for
      expected = 0, checked by property tests otherwise) and equal to it for large N.

    When `population` is given, n is never larger than it, for either method (a binomial answer
    larger than the population raises ConfigError; use the hypergeometric method or a census).
    Raises ConfigError on invalid arguments, or when no n <= max_n (and <= population) works,
    e.g. when expected is so close to tolerable that the allowed failures grow as fast as the bound.
    """
    _validate(tolerable, expected, confidence, population, method, max_n)
    limit = max_n if population is None else min(max_n, population)
    start, block = 1, _FIRST_BLOCK
    while start <= limit:
        stop = min(limit, start + block - 1)
        n = np.arange(start, stop + 1, dtype=np.int64)
        k = _ceil_products(expected, n)
        tail = _tail(k, n, tolerable, population if method == "hypergeometric" else None)
        passing = np.flatnonzero(tail <= 1 - confidence)
        if passing.size:
            i = int(passing[0])
            return SampleSize(
                n=int(n[i]),
                k_allowed=int(k[i]),
                method=method,
                tolerable=float(tolerable),
                expected=float(expected),
                confidence=float(confidence),
                population=None if population is None else int(population),
            )
        start, block = stop + 1, block * 2
    where = f"max_n={max_n}" if limit == max_n else f"population={population}"
    hint = "lower expected, raise tolerable or lower confidence"
    if population is not None and method == "binomial":
        hint += "; with a finite population try method='hypergeometric'"
    raise ConfigError(
        f"no sample size up to {where} reaches confidence {confidence} for tolerable={tolerable} "
        f"with expected={expected} ({method}); {hint}"
    )


def margin_sample_size(
    margin: float, confidence: float, *, expected: float = 0.5, population: int | None = None
) -> int:
    """Sample size for estimating a proportion to +/- `margin` at a two-sided `confidence`.

    n0 = z^2 p (1 - p) / margin^2 with z the two-sided normal quantile (Cochran, Sampling Techniques,
    3rd ed., ch. 4); with a population N the finite population correction n = n0 / (1 + (n0 - 1) / N)
    is applied. The result is rounded up; a relative slack of 1e-9 keeps float noise (100.00000000000001)
    from adding an item. expected = 0.5 is the conservative (largest) choice.
    """
    check_open_unit("margin", margin)
    check_open_unit("confidence", confidence)
    check_open_unit("expected", expected)
    if population is not None:
        check_count("population", population, 1)
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    n = z * z * expected * (1 - expected) / (margin * margin)
    if population is not None:
        n = n / (1 + (n - 1) / population)
    return max(1, math.ceil(n * (1 - 1e-9)))
