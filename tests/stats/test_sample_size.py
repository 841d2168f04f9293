"""attribute_sample_size and margin_sample_size against published tables and exact rational arithmetic.

Expected values come from published tables or from independent calculations written here in plain
Python (math.comb and fractions.Fraction, no scipy, no code under test).
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.errors import ConfigError
from audits.stats import (
    SampleSize,
    attribute_sample_size,
    exact_ceil_product,
    margin_sample_size,
    upper_bound,
)

RISK = {0.95: Fraction(1, 20), 0.90: Fraction(1, 10)}


def binom_cdf(k: int, n: int, p: Fraction) -> Fraction:
    """P(X <= k), X ~ Binomial(n, p), as an exact fraction."""
    return sum((math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(min(k, n) + 1)), Fraction(0))


def hypergeom_cdf(k: int, big_n: int, m: int, n: int) -> Fraction:
    """P(X <= k), X the failures in n drawn without replacement from big_n holding m failures."""
    hits = sum(math.comb(m, i) * math.comb(big_n - m, n - i) for i in range(min(k, n, m) + 1))
    return Fraction(hits, math.comb(big_n, n))


def plain_binomial_size(tolerable: str, expected: str, risk: Fraction) -> tuple[int, int]:
    """Smallest n with P(X <= ceil(expected n) | n, tolerable) <= risk, by brute force in fractions."""
    t, e = Fraction(tolerable), Fraction(expected)
    n = 1
    while binom_cdf(math.ceil(e * n), n, t) > risk:
        n += 1
    return n, math.ceil(e * n)


# AICPA, Audit Guide "Audit Sampling" (2012/2014 eds.), Appendix A, Table A-1 "Statistical Sample Sizes
# for Tests of Controls - 5 Percent Risk of Overreliance" and Table A-2 "... 10 Percent Risk of
# Overreliance": sample size (expected number of deviations in parentheses). Each cell below is also
# recomputed in plain fractions by plain_binomial_size; every one agrees with the exact binomial.
AICPA_CELLS = [
    # (confidence, tolerable, expected, n, k)
    (0.95, "0.02", "0", 149, 0),
    (0.95, "0.03", "0", 99, 0),
    (0.95, "0.04", "0", 74, 0),
    (0.95, "0.05", "0", 59, 0),
    (0.95, "0.06", "0", 49, 0),
    (0.95, "0.07", "0", 42, 0),
    (0.95, "0.08", "0", 36, 0),
    (0.95, "0.09", "0", 32, 0),
    (0.95, "0.10", "0", 29, 0),
    (0.95, "0.15", "0", 19, 0),
    (0.95, "0.20", "0", 14, 0),
    (0.95, "0.02", "0.0025", 236, 1),
    (0.95, "0.03", "0.005", 157, 1),
    (0.95, "0.03", "0.0075", 208, 2),
    (0.95, "0.04", "0.01", 156, 2),
    (0.95, "0.05", "0.01", 93, 1),
    (0.95, "0.06", "0.01", 78, 1),
    (0.95, "0.10", "0.01", 46, 1),
    (0.95, "0.05", "0.015", 124, 2),
    (0.95, "0.04", "0.015", 192, 3),
    (0.95, "0.05", "0.02", 181, 4),
    (0.95, "0.06", "0.02", 127, 3),
    (0.95, "0.10", "0.03", 61, 2),
    (0.90, "0.05", "0", 45, 0),
    (0.90, "0.10", "0", 22, 0),
    (0.90, "0.02", "0", 114, 0),
]


@pytest.mark.parametrize(("confidence", "tolerable", "expected", "n", "k"), AICPA_CELLS)
def test_binomial_sizes_match_the_aicpa_tables(confidence, tolerable, expected, n, k):
    """AICPA Audit Sampling Guide, Appendix A, Tables A-1 (95%) and A-2 (90%); cells listed above."""
    assert plain_binomial_size(tolerable, expected, RISK[confidence]) == (n, k)  # table == exact
    got = attribute_sample_size(float(tolerable), float(expected), confidence)
    assert (got.n, got.k_allowed) == (n, k)


def test_zero_expected_failures_has_the_closed_form():
    """With k = 0 the rule is (1 - t)^n <= 1 - c, so n = ceil(ln(1 - c) / ln(1 - t)) (plain algebra)."""
    for t in (0.01, 0.02, 0.05, 0.1, 0.25):
        for c in (0.8, 0.9, 0.95, 0.99):
            assert attribute_sample_size(t, 0.0, c).n == math.ceil(math.log(1 - c) / math.log(1 - t))


def test_exact_decimal_k():
    """In binary floats 0.07 x 100 = 7.000000000000001 and 0.14 x 50 likewise, so a float ceiling
    allows 8 failures where the auditor's expected rate allows 7 (IEEE 754 double arithmetic).
    (0.01 x 300 happens to round to exactly 3.0 in doubles, so it does not show the problem.)"""
    assert math.ceil(0.07 * 100) == 8 and math.ceil(0.14 * 50) == 8
    assert exact_ceil_product(0.07, 100) == 7
    assert exact_ceil_product(0.14, 50) == 7
    assert exact_ceil_product(0.0175, 400) == 7
    assert exact_ceil_product(0.01, 301) == 4
    assert exact_ceil_product(0.0, 1000) == 0


@pytest.mark.parametrize(("tolerable", "expected", "n"), [("0.25", "0.14", 50), ("0.128", "0.07", 100)])
def test_sample_size_uses_the_exact_decimal_k(tolerable, expected, n):
    """At the answer n, expected x n is an integer that floats overshoot; brute force in fractions
    (plain_binomial_size) gives n with k = 7, and a float k = 8 at that n would not pass."""
    assert plain_binomial_size(tolerable, expected, Fraction(1, 20)) == (n, 7)
    assert binom_cdf(8, n, Fraction(tolerable)) > Fraction(1, 20)  # what the float k would test
    got = attribute_sample_size(float(tolerable), float(expected), 0.95)
    assert (got.n, got.k_allowed) == (n, 7)


def test_hypergeometric_population_failures_use_exact_decimal():
    """tolerable 0.07 of N = 100 is M = 7 failing items (a float ceiling says 8). Expected n is the
    smallest n with C(93, n) / C(100, n) <= 1/20, found by brute force in fractions."""
    expected_n = next(n for n in range(1, 101) if hypergeom_cdf(0, 100, 7, n) <= Fraction(1, 20))
    float_m_n = next(n for n in range(1, 101) if hypergeom_cdf(0, 100, 8, n) <= Fraction(1, 20))
    assert expected_n != float_m_n
    got = attribute_sample_size(0.07, 0.0, 0.95, population=100, method="hypergeometric")
    assert got.n == expected_n


@pytest.mark.parametrize(
    ("tolerable", "expected", "population"),
    [
        ("0.05", "0", 100),
        ("0.05", "0", 1000),
        ("0.05", "0.01", 500),
        ("0.1", "0.02", 250),
        ("0.2", "0.05", 40),
    ],
)
def test_hypergeometric_matches_plain_fractions(tolerable, expected, population):
    """Smallest n <= N with P(X <= ceil(e n) | N, M = ceil(t N), n) <= 1/20, brute force in fractions."""
    t, e = Fraction(tolerable), Fraction(expected)
    m = math.ceil(t * population)
    want = next(
        n
        for n in range(1, population + 1)
        if hypergeom_cdf(math.ceil(e * n), population, m, n) <= Fraction(1, 20)
    )
    got = attribute_sample_size(float(t), float(e), 0.95, population=population, method="hypergeometric")
    assert got.n == want
    assert got.k_allowed == math.ceil(e * want)


def test_hypergeometric_approaches_the_binomial():
    """As N grows sampling without replacement looks like sampling with replacement: the sizes climb to
    the AICPA binomial 59 (5%/0%) and 93 (5%/1%) and never pass them."""
    for expected, binomial_n in ((0.0, 59), (0.01, 93)):
        sizes = [
            attribute_sample_size(0.05, expected, 0.95, population=big_n, method="hypergeometric").n
            for big_n in (200, 1_000, 10_000, 1_000_000)
        ]
        assert sizes == sorted(sizes)
        assert all(s <= binomial_n for s in sizes)
        assert sizes[-1] == binomial_n


TOLERABLES = [0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2]


@settings(max_examples=60, deadline=None)
@given(
    tolerable=st.sampled_from(TOLERABLES),
    share=st.sampled_from([0, 0.1, 0.2, 0.3]),
    population=st.integers(min_value=1, max_value=100_000),
)
def test_hypergeometric_never_exceeds_binomial_and_converges(tolerable, share, population):
    """Property: n_hyp <= n_bin for every N; n_hyp >= n_bin - 1 - 2 n_bin^2 / N (converges as N grows);
    and n_hyp exists exactly when k(N) < M, because at n = N the sample is the population."""
    expected = round(tolerable * share, 6)
    binomial = attribute_sample_size(tolerable, expected, 0.95)
    solvable = exact_ceil_product(expected, population) < exact_ceil_product(tolerable, population)
    if not solvable:
        with pytest.raises(ConfigError, match="no sample size"):
            attribute_sample_size(tolerable, expected, 0.95, population=population, method="hypergeometric")
        return
    hyper = attribute_sample_size(tolerable, expected, 0.95, population=population, method="hypergeometric")
    assert hyper.n <= min(binomial.n, population)
    assert hyper.n >= binomial.n - 1 - 2 * binomial.n**2 / population


@settings(max_examples=40, deadline=None)
@given(tolerable=st.sampled_from(TOLERABLES), share=st.sampled_from([0, 0.1, 0.25, 0.4]))
def test_planned_sample_meets_the_clopper_pearson_bound(tolerable, share):
    """Property: at (n, k_allowed) the one-sided Clopper-Pearson bound is <= tolerable, and at n - 1 with
    its own k it is not (the definition of 'smallest n', cross-checked through the interval module)."""
    expected = round(tolerable * share, 6)
    plan = attribute_sample_size(tolerable, expected, 0.95)
    assert upper_bound(plan.k_allowed, plan.n, 0.95) <= tolerable + 1e-12
    if plan.n > 1:
        prev = plan.n - 1
        assert upper_bound(exact_ceil_product(expected, prev), prev, 0.95) > tolerable


def test_population_caps_the_binomial_size():
    """A binomial size larger than the population is refused (n never exceeds N)."""
    assert attribute_sample_size(0.05, 0.0, 0.95, population=59).n == 59
    with pytest.raises(ConfigError, match="population=58.*hypergeometric"):
        attribute_sample_size(0.05, 0.0, 0.95, population=58)


def test_no_feasible_size_raises():
    with pytest.raises(ConfigError, match="max_n=100000"):
        attribute_sample_size(0.02, 0.0199, 0.95)
    with pytest.raises(ConfigError, match="max_n=50"):
        attribute_sample_size(0.05, 0.0, 0.95, max_n=50)
    with pytest.raises(ConfigError, match="population=10"):
        attribute_sample_size(0.05, 0.01, 0.95, population=10, method="hypergeometric")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tolerable": 0.0}, "0 < tolerable < 1"),
        ({"tolerable": 1.0}, "0 < tolerable < 1"),
        ({"tolerable": float("nan")}, "0 < tolerable < 1"),
        ({"expected": -0.01}, "0 <= expected < tolerable"),
        ({"expected": 0.05}, "0 <= expected < tolerable"),
        ({"confidence": 1.0}, "0 < confidence < 1"),
        ({"confidence": 0}, "0 < confidence < 1"),
        ({"population": 0}, "population must be an integer >= 1"),
        ({"population": 10.5}, "population must be an integer >= 1"),
        ({"method": "poisson"}, "method must be one of binomial, hypergeometric"),
        ({"method": "hypergeometric"}, "requires population"),
        ({"max_n": 0}, "max_n must be an integer >= 1"),
    ],
)
def test_attribute_sample_size_validates(kwargs, message):
    args = {"tolerable": 0.05, "expected": 0.0, "confidence": 0.95} | kwargs
    with pytest.raises(ConfigError, match=message):
        attribute_sample_size(**args)


def test_sample_size_to_dict():
    plan = attribute_sample_size(0.05, 0.01, 0.95, population=5000, method="hypergeometric")
    assert isinstance(plan, SampleSize)
    assert plan.to_dict() == {
        "n": plan.n,
        "k_allowed": 1,
        "method": "hypergeometric",
        "tolerable": 0.05,
        "expected": 0.01,
        "confidence": 0.95,
        "population": 5000,
    }
    with pytest.raises(AttributeError):
        plan.n = 1  # type: ignore[misc]


def test_cochran_margin_example():
    """Cochran, Sampling Techniques (3rd ed., 1977), ch. 4, n0 = z^2 p q / d^2: with z = 1.96, p = 0.5,
    d = 0.05, n0 = 384.16 -> 385 (the worked example in G. D. Israel, "Determining Sample Size",
    Univ. of Florida IFAS fact sheet PEOD-6, 1992). With N = 1000 and n = n0 / (1 + (n0 - 1) / N),
    278: Krejcie & Morgan (1970), "Determining sample size for research activities", Educational and
    Psychological Measurement 30:607-610, Table 1 (N = 1000 -> S = 278)."""
    assert margin_sample_size(0.05, 0.95) == 385
    assert margin_sample_size(0.05, 0.95, population=1000) == 278


@pytest.mark.parametrize(
    ("population", "table", "ours"), [(100, 80, 80), (500, 217, 218), (10_000, 370, 370)]
)
def test_krejcie_morgan_table(population, table, ours):
    """Krejcie & Morgan (1970), Table 1. Their formula s = X^2 N P (1-P) / (d^2 (N-1) + X^2 P (1-P))
    with X^2 = 3.841, P = 0.5, d = 0.05 is the same finite population correction, but the table rounds
    to the nearest integer: N = 500 gives 217.47, printed 217, where rounding up gives 218."""
    x2, d, p = 3.841, 0.05, 0.5
    s = x2 * population * p * (1 - p) / (d * d * (population - 1) + x2 * p * (1 - p))
    assert round(s) == table
    assert math.ceil(s) == ours
    assert margin_sample_size(0.05, 0.95, population=population) == ours


def test_margin_sample_size_other_values():
    """Independent arithmetic with the stdlib normal quantile (statistics.NormalDist, not scipy)."""
    from statistics import NormalDist

    z99 = NormalDist().inv_cdf(0.995)  # 2.5758...
    assert margin_sample_size(0.03, 0.99, expected=0.1) == math.ceil(z99**2 * 0.1 * 0.9 / 0.03**2)
    assert margin_sample_size(0.5, 0.5) == 1
    assert margin_sample_size(0.05, 0.95, population=1) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"margin": 0}, "0 < margin < 1"),
        ({"margin": 1.5}, "0 < margin < 1"),
        ({"confidence": 1}, "0 < confidence < 1"),
        ({"expected": 0.0}, "0 < expected < 1"),
        ({"population": 0}, "population must be an integer >= 1"),
    ],
)
def test_margin_sample_size_validates(kwargs, message):
    args = {"margin": 0.05, "confidence": 0.95} | kwargs
    with pytest.raises(ConfigError, match=message):
        margin_sample_size(**args)


@pytest.mark.parametrize(
    ("tolerable", "expected", "method", "population", "n", "k"),
    [
        (0.01, 0.0, "binomial", None, 299, 0),  # jfa test id 6.7
        (0.05, 0.0, "binomial", None, 59, 0),  # id 6.8
        (0.05, 0.025, "binomial", None, 234, 6),  # id 6.9 (expectedSampleError 6)
        (0.01, 0.0, "hypergeometric", 1000, 258, 0),  # id 6.13
        (0.05, 0.0, "hypergeometric", 1000, 57, 0),  # id 6.14
        (0.05, 0.025, "hypergeometric", 1000, 197, 5),  # id 6.15 (expectedSampleError 5)
    ],
)
def test_matches_the_r_package_jfa(tolerable, expected, method, population, n, k):
    """Reference: K. Derks, R package jfa, tests/testthat/test-planning.R ("Validation of function
    planning", jfa 0.1.0 tests 6.7-6.15): planning(materiality, confidence = 0.95, expectedError,
    likelihood, N) gives these sample sizes and expected sample errors."""
    size = attribute_sample_size(tolerable, expected, 0.95, population=population, method=method)
    assert (size.n, size.k_allowed) == (n, k)
