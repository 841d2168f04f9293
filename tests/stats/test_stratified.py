"""stratified_estimate and the design-weighted estimator.

Formulas: W. G. Cochran, Sampling Techniques, 3rd ed. (Wiley, 1977), ch. 5, stratified random sampling
for proportions: p_st = sum W_h p_h and v(p_st) = sum W_h^2 (1 - f_h) p_h q_h / (n_h - 1), f_h = n_h / N_h;
ch. 3 for the single-stratum (simple random sample) case v(p) = (1 - f) p q / (n - 1).

I do not rely on a printed textbook example (I cannot recall one's exact numbers with confidence).
The worked example below is constructed for this test and its expected values are computed by hand,
in exact fractions, with the formula written out in the test.
"""

from __future__ import annotations

import math
from fractions import Fraction
from statistics import NormalDist

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.errors import ConfigError
from audits.stats import (
    StratifiedEstimate,
    StratumCounts,
    design_weighted_estimate,
    design_weights,
    stratified_estimate,
)

# Three suppliers: N_h conversations, n_h reviewed, x_h failed. N = 4500.
EXAMPLE = [
    StratumCounts("A", 1000, 50, 5),  # W = 2/9, p = 0.10, weight per item N_h/n_h = 20
    StratumCounts("B", 3000, 100, 6),  # W = 2/3, p = 0.06, weight per item 30
    StratumCounts("C", 500, 50, 10),  # W = 1/9, p = 0.20, weight per item 10
]


def test_worked_example_by_hand():
    """Hand computation (exact fractions):
    p_st = 2/9 * 1/10 + 2/3 * 3/50 + 1/9 * 1/5 = 2/45 + 1/25 = 19/225 = 0.084444...
    v = (2/9)^2 (19/20) (9/100) / 49 + (2/3)^2 (29/30) (0.06 * 0.94) / 99 + (1/9)^2 (9/10) (16/100) / 49
      = 8.6168e-05 + 2.44759e-04 + 3.6281e-05 = 200399/545737500 = 3.67208e-04, SE = 0.0191627
    95% interval: 0.084444 -/+ 1.959964 * 0.0191627 = (0.046886, 0.122003)."""
    p = Fraction(2, 9) * Fraction(1, 10) + Fraction(2, 3) * Fraction(3, 50) + Fraction(1, 9) * Fraction(1, 5)
    assert p == Fraction(19, 225)
    v = (
        Fraction(2, 9) ** 2 * Fraction(19, 20) * Fraction(9, 100) / 49
        + Fraction(2, 3) ** 2 * Fraction(29, 30) * Fraction(6, 100) * Fraction(94, 100) / 99
        + Fraction(1, 9) ** 2 * Fraction(9, 10) * Fraction(16, 100) / 49
    )
    assert v == Fraction(200399, 545737500)
    z = NormalDist().inv_cdf(0.975)

    est = stratified_estimate(EXAMPLE)
    assert isinstance(est, StratifiedEstimate)
    assert est.estimate == pytest.approx(float(p), abs=1e-15)
    assert est.variance == pytest.approx(float(v), rel=1e-12)
    assert est.standard_error == pytest.approx(math.sqrt(v), rel=1e-12)
    assert est.lower == pytest.approx(float(p) - z * math.sqrt(v), abs=1e-12)
    assert est.upper == pytest.approx(float(p) + z * math.sqrt(v), abs=1e-12)
    assert (round(est.lower, 6), round(est.upper, 6)) == (0.046886, 0.122003)
    assert (est.population, est.sampled, est.failures) == (4500, 200, 21)
    assert [s.weight for s in est.strata] == pytest.approx([2 / 9, 2 / 3, 1 / 9])
    assert [s.design_weight for s in est.strata] == [20.0, 30.0, 10.0]


def test_design_weighted_equals_stratified_in_the_example():
    """Each reviewed item carries N_h / n_h: failures count 5 * 20 + 6 * 30 + 10 * 10 = 380 of 4500
    = 19/225, the same as p_st (hand computation)."""
    weights = design_weights(EXAMPLE)
    assert weights == {"A": 20.0, "B": 30.0, "C": 10.0}
    item_w, item_y = expand(EXAMPLE)
    assert sum(item_w) == 4500  # the weights of the sample add up to the population
    assert design_weighted_estimate(item_w, item_y, 4500) == pytest.approx(380 / 4500, abs=1e-15)
    assert design_weighted_estimate(item_w, item_y, 4500) == pytest.approx(
        stratified_estimate(EXAMPLE).estimate
    )


def expand(strata: list[StratumCounts]) -> tuple[list[float], list[bool]]:
    """One (weight, failed) pair per reviewed item."""
    weights: list[float] = []
    failed: list[bool] = []
    for s in strata:
        weights += [s.population / s.sampled] * s.sampled
        failed += [True] * s.failures + [False] * (s.sampled - s.failures)
    return weights, failed


def test_single_stratum_is_a_simple_random_sample():
    """Cochran ch. 3: v(p) = (N - n) / N * p q / (n - 1); 12 of 200 from 5000: (4800/5000)(0.06)(0.94)/199."""
    est = stratified_estimate([StratumCounts("all", 5000, 200, 12)])
    assert est.estimate == pytest.approx(0.06)
    assert est.variance == pytest.approx(0.96 * 0.06 * 0.94 / 199, rel=1e-12)


def test_census_adds_no_variance_and_a_one_sided_stratum_is_not_certain():
    """A fully reviewed stratum has FPC 1 - N_h/N_h = 0. A sampled stratum with no failures, or only
    failures, would give p_h (1 - p_h) = 0; its term uses p~ = (x_h + 1/2) / (n_h + 1) and a divisor of
    at least 1 (documented in stratified.py), computed here by hand."""
    census = stratified_estimate([StratumCounts("all", 40, 40, 3)])
    assert census.variance == 0.0 and census.lower == census.upper == pytest.approx(3 / 40)
    one = stratified_estimate([StratumCounts("big", 900, 100, 10), StratumCounts("tiny", 100, 1, 1)])
    tiny = 0.01 * (1 - 1 / 100) * 0.75 * 0.25 / 1  # p~ = 1.5 / 2
    assert one.strata[1].variance == pytest.approx(tiny, rel=1e-12)
    assert one.estimate == pytest.approx(0.9 * 0.1 + 0.1 * 1.0)
    big = 0.81 * (1 - 100 / 900) * 0.1 * 0.9 / 99
    assert one.variance == pytest.approx(big + tiny, rel=1e-12)
    clean = stratified_estimate([StratumCounts("a", 9000, 10, 0)])
    assert clean.variance == pytest.approx((1 - 10 / 9000) * (0.5 / 11) * (10.5 / 11) / 9, rel=1e-12)


def test_interval_is_clipped_to_the_unit_interval():
    low = stratified_estimate([StratumCounts("a", 10_000, 30, 1), StratumCounts("b", 50, 5, 0)])
    assert low.lower == 0.0 < low.estimate
    high = stratified_estimate([StratumCounts("a", 10_000, 30, 29)])
    assert high.upper == 1.0


def test_to_dict():
    d = stratified_estimate(EXAMPLE, confidence=0.9).to_dict()
    assert d["confidence"] == 0.9
    assert d["estimate"] == pytest.approx(19 / 225)
    assert [s["name"] for s in d["strata"]] == ["A", "B", "C"]
    assert set(d["strata"][0]) == {"name", "weight", "rate", "design_weight", "variance"}


@pytest.mark.parametrize(
    ("strata", "message"),
    [
        ([], "at least one"),
        ([StratumCounts("a", 10, 11, 0)], "1 <= sampled <= population"),
        ([StratumCounts("a", 10, 0, 0)], "1 <= sampled <= population"),
        ([StratumCounts("a", 10, 5, 6)], "0 <= failures <= sampled"),
        ([StratumCounts("a", 10, 5, -1)], "0 <= failures <= sampled"),
        ([StratumCounts("a", 0, 0, 0)], "population of stratum 'a' must be an integer >= 1"),
        ([StratumCounts("a", 10, 5, 1), StratumCounts("a", 10, 5, 1)], "unique"),
        ([("a", 10, 5, 1)], "StratumCounts"),
    ],
)
def test_validation(strata, message):
    with pytest.raises(ConfigError, match=message):
        stratified_estimate(strata)


def test_validation_of_confidence_and_weights():
    with pytest.raises(ConfigError, match="0 < confidence < 1"):
        stratified_estimate(EXAMPLE, confidence=1.2)
    with pytest.raises(ConfigError, match="same length"):
        design_weighted_estimate([1.0, 2.0], [True], 10)
    with pytest.raises(ConfigError, match="weights must be finite numbers >= 1"):
        design_weighted_estimate([0.5], [True], 10)
    with pytest.raises(ConfigError, match="population must be an integer >= 1"):
        design_weighted_estimate([1.0], [True], 0)


@st.composite
def strata_lists(draw: st.DrawFn) -> list[StratumCounts]:
    """1-6 strata with 1 <= n_h <= N_h and 0 <= x_h <= n_h."""
    out = []
    for i in range(draw(st.integers(min_value=1, max_value=6))):
        big_n = draw(st.integers(min_value=1, max_value=5000))
        n = draw(st.integers(min_value=1, max_value=min(big_n, 300)))
        out.append(StratumCounts(f"s{i}", big_n, n, draw(st.integers(min_value=0, max_value=n))))
    return out


@settings(max_examples=150, deadline=None)
@given(strata_lists(), st.floats(min_value=0.5, max_value=0.999))
def test_design_weighted_estimate_equals_stratified_estimate(strata, confidence):
    """Property: sum over reviewed items of (N_h / n_h) y_i / N equals sum_h W_h p_h, the interval is
    ordered and inside [0, 1], and the estimate lies between the smallest and largest stratum rate."""
    est = stratified_estimate(strata, confidence)
    weights, failed = expand(strata)
    assert design_weighted_estimate(weights, failed, est.population) == pytest.approx(est.estimate, abs=1e-12)
    assert 0.0 <= est.lower <= est.estimate <= est.upper <= 1.0
    rates = [s.failures / s.sampled for s in strata]
    assert min(rates) - 1e-12 <= est.estimate <= max(rates) + 1e-12
