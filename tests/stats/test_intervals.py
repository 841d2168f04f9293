"""Wilson, Clopper-Pearson, one-sided bounds and the beta-binomial posterior against published values.

References
- R. G. Newcombe (1998), "Two-sided confidence intervals for the single proportion: comparison of seven
  methods", Statistics in Medicine 17:857-872, Table I (method 3 = Wilson score, method 5 = exact
  Clopper-Pearson), printed to 4 decimals.
- scipy.stats.binomtest(k, n).proportion_ci(method="wilson" | "exact") (SciPy reference documentation),
  an independent implementation of the same intervals.
- Closed forms written out with plain math where the beta quantile has one (x = 0 or x = n).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from audits.errors import ConfigError
from audits.stats import Interval, beta_binomial_posterior, clopper_pearson, upper_bound, wilson

# Newcombe (1998), Table I: x/n, Wilson score (method 3), exact Clopper-Pearson (method 5); 95%.
NEWCOMBE = [
    (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
    (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
    (0, 20, (0.0000, 0.1611), (0.0000, 0.1684)),
    (1, 29, (0.0061, 0.1718), (0.0009, 0.1776)),
]


def binom_pmf(x: int, n: int, p: float) -> float:
    """Binomial probability with plain math."""
    return math.comb(n, x) * p**x * (1 - p) ** (n - x)


@pytest.mark.parametrize(("x", "n", "wilson_ci", "exact_ci"), NEWCOMBE)
def test_newcombe_table_one(x, n, wilson_ci, exact_ci):
    """Newcombe (1998), Table I, 95% intervals printed to 4 decimal places."""
    w = wilson(x, n)
    cp = clopper_pearson(x, n)
    assert (round(w.lower, 4), round(w.upper, 4)) == wilson_ci
    assert (round(cp.lower, 4), round(cp.upper, 4)) == exact_ci


@pytest.mark.parametrize(("x", "n"), [(81, 263), (15, 148), (0, 20), (1, 29), (7, 7), (3, 1000), (50, 100)])
@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
def test_agrees_with_scipy_binomtest(x, n, confidence):
    """scipy.stats.binomtest(...).proportion_ci, an independent implementation (SciPy docs)."""
    ref = binomtest(x, n)
    w_ref = ref.proportion_ci(confidence_level=confidence, method="wilson")
    cp_ref = ref.proportion_ci(confidence_level=confidence, method="exact")
    w, cp = wilson(x, n, confidence), clopper_pearson(x, n, confidence)
    assert w.lower == pytest.approx(w_ref.low, abs=1e-12)
    assert w.upper == pytest.approx(w_ref.high, abs=1e-12)
    assert cp.lower == pytest.approx(cp_ref.low, abs=1e-10)
    assert cp.upper == pytest.approx(cp_ref.high, abs=1e-10)


def test_clopper_pearson_bounds_are_binomial_tail_quantiles():
    """Clopper & Pearson (1934): the upper limit U solves P(X <= x | n, U) = alpha/2 and the lower
    limit L solves P(X >= x | n, L) = alpha/2; checked with a plain-math binomial sum."""
    x, n = 15, 148
    cp = clopper_pearson(x, n)
    assert sum(binom_pmf(i, n, cp.upper) for i in range(x + 1)) == pytest.approx(0.025, abs=1e-10)
    assert sum(binom_pmf(i, n, cp.lower) for i in range(x, n + 1)) == pytest.approx(0.025, abs=1e-10)


def test_edges_are_exact():
    """x = 0 gives lower 0 and x = n gives upper 1 exactly; with x = 0 the exact upper limit is
    1 - (alpha/2)^(1/n) (plain algebra: (1 - U)^n = alpha/2)."""
    cp0, cpn = clopper_pearson(0, 20), clopper_pearson(20, 20)
    assert cp0.lower == 0.0 and cpn.upper == 1.0
    assert cp0.upper == pytest.approx(1 - 0.025 ** (1 / 20), abs=1e-12)
    assert cpn.lower == pytest.approx(0.025 ** (1 / 20), abs=1e-12)
    w0, wn = wilson(0, 20), wilson(20, 20)
    assert w0.lower == 0.0 and wn.upper == 1.0
    z2 = NormalDist().inv_cdf(0.975) ** 2
    assert w0.upper == pytest.approx(z2 / (20 + z2), abs=1e-12)  # Wilson upper at x = 0: z^2 / (n + z^2)


def test_one_sided_upper_bounds():
    """Clopper-Pearson one-sided at x = 0: 1 - (1 - c)^(1/n) (59 items, no failure: 0.04951, the basis
    of the AICPA 59 for 5% tolerable). Wilson one-sided: the Wilson upper limit with z = Phi^-1(c),
    written out with the stdlib normal quantile."""
    assert upper_bound(0, 59, 0.95) == pytest.approx(1 - 0.05 ** (1 / 59), abs=1e-12)
    assert upper_bound(0, 59, 0.95) < 0.05 < upper_bound(0, 58, 0.95)
    assert upper_bound(1, 93, 0.95) < 0.05 < upper_bound(1, 92, 0.95)  # AICPA Table A-1: 93 (1)
    assert upper_bound(5, 5, 0.9) == 1.0
    x, n, c = 4, 120, 0.9
    z = NormalDist().inv_cdf(c)
    p = x / n
    want = (p + z * z / (2 * n) + z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)
    assert upper_bound(x, n, c, method="wilson") == pytest.approx(want, abs=1e-12)
    # A one-sided bound at c equals the upper end of the two-sided interval at 2c - 1.
    assert upper_bound(x, n, c) == pytest.approx(clopper_pearson(x, n, 2 * c - 1).upper, abs=1e-12)


def test_beta_binomial_posterior_closed_forms():
    """Uniform prior: the posterior of 0 failures in n is Beta(1, n + 1) with CDF 1 - (1 - p)^(n + 1), so
    its quantiles are 1 - (1 - q)^(1 / (n + 1)); all n failing gives Beta(n + 1, 1), quantiles
    q^(1 / (n + 1)). The mean is Laplace's rule of succession (x + 1) / (n + 2)."""
    n = 10
    post = beta_binomial_posterior(0, n)
    assert post.lower == pytest.approx(1 - 0.975 ** (1 / (n + 1)), abs=1e-12)
    assert post.upper == pytest.approx(1 - 0.025 ** (1 / (n + 1)), abs=1e-12)
    assert post.estimate == pytest.approx(1 / 12)
    assert post.method == "beta-binomial"
    full = beta_binomial_posterior(n, n, confidence=0.9)
    assert full.lower == pytest.approx(0.05 ** (1 / (n + 1)), abs=1e-12)
    assert full.upper == pytest.approx(0.95 ** (1 / (n + 1)), abs=1e-12)
    assert full.estimate == pytest.approx(11 / 12)


def test_beta_binomial_prior_enters_as_pseudo_counts():
    """Beta(a, b) prior + x of n = Beta(a + x, b + n - x): Beta(3, 40) with 2 of 60 is Beta(5, 98), the
    same posterior as the uniform Beta(1, 1) with 4 of 101; its mean is 5 / 103."""
    a = beta_binomial_posterior(2, 60, prior_alpha=3, prior_beta=40)
    b = beta_binomial_posterior(4, 101)
    assert (a.lower, a.upper, a.estimate) == pytest.approx((b.lower, b.upper, b.estimate), abs=1e-12)
    assert a.estimate == pytest.approx(5 / 103)


def test_to_dict_and_frozen():
    iv = wilson(3, 40, 0.9)
    assert isinstance(iv, Interval)
    assert iv.to_dict() == {
        "lower": iv.lower,
        "upper": iv.upper,
        "estimate": 0.075,
        "method": "wilson",
        "confidence": 0.9,
    }
    assert clopper_pearson(3, 40).to_dict()["method"] == "clopper-pearson"
    with pytest.raises(AttributeError):
        iv.lower = 0.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: wilson(1, 0), "n must be an integer >= 1"),
        (lambda: wilson(-1, 10), "0 <= failures <= n"),
        (lambda: clopper_pearson(11, 10), "0 <= failures <= n"),
        (lambda: clopper_pearson(1.5, 10), "0 <= failures <= n"),
        (lambda: wilson(1, 10, confidence=1.0), "0 < confidence < 1"),
        (lambda: upper_bound(1, 10, 0.95, method="wald"), "method must be one of clopper-pearson, wilson"),
        (lambda: upper_bound(1, 10, 0.0), "0 < confidence < 1"),
        (lambda: beta_binomial_posterior(1, 10, prior_alpha=0), "prior_alpha must be a finite number > 0"),
        (lambda: beta_binomial_posterior(1, 10, prior_beta=-1.0), "prior_beta must be a finite number > 0"),
        (lambda: beta_binomial_posterior(1, True), "n must be an integer >= 1"),
    ],
)
def test_validation(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


counts = st.integers(min_value=1, max_value=5000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)
levels = st.floats(min_value=0.5, max_value=0.999)


@settings(max_examples=200, deadline=None)
@given(counts, levels)
def test_intervals_are_ordered_and_in_the_unit_interval(xn, confidence):
    """Property: 0 <= lower <= estimate <= upper <= 1 for every method (the posterior mean lies inside
    the equal-tailed interval for these priors), and a one-sided upper bound is >= x / n."""
    x, n = xn
    for iv in (
        wilson(x, n, confidence),
        clopper_pearson(x, n, confidence),
        beta_binomial_posterior(x, n, confidence=confidence),
        beta_binomial_posterior(x, n, prior_alpha=0.5, prior_beta=0.5, confidence=confidence),
    ):
        assert 0.0 <= iv.lower <= iv.estimate <= iv.upper <= 1.0
    assert upper_bound(x, n, confidence) >= x / n
    assert upper_bound(x, n, confidence, method="wilson") >= x / n


@settings(max_examples=200, deadline=None)
@given(counts, st.integers(min_value=2, max_value=50))
def test_wilson_width_shrinks_with_n_at_fixed_proportion(xn, factor):
    """Property: m x failures out of m n give a narrower Wilson interval than x out of n (m >= 2)."""
    x, n = xn
    small, large = wilson(x, n), wilson(factor * x, factor * n)
    assert large.upper - large.lower < small.upper - small.lower
