"""Wald's SPRT and the anytime-valid beta-binomial mixture test for nightly breach monitoring.

References
- A. Wald (1947), Sequential Analysis, Wiley (Dover reprint 2004), ch. 3 and 5: the boundaries
  A = log((1 - beta)/alpha), B = log(beta/(1 - alpha)) and the binomial SPRT's acceptance and rejection
  lines x = -h_a + s n, x = h_r + s n.
- NIST/SEMATECH e-Handbook of Statistical Methods, section 6.2.6 "What is a sequential sampling plan?":
  the worked item-by-item plan with p1 = 0.01, alpha = 0.05, p2 = 0.10, beta = 0.10, whose table gives,
  for n = 24, acceptance number 0 and rejection number 3.
- A. Ramdas, P. Grunwald, V. Vovk, G. Shafer (2023), "Game-theoretic statistics and safe anytime-valid
  inference", Statistical Science 38(4): e-processes for composite nulls and Ville's inequality.
- H. Robbins (1970), "Statistical methods related to the law of the iterated logarithm", Ann. Math. Statist.
  41: the mixture likelihood ratio.
- Closed forms written out with plain math (math.comb, math.lgamma) for the hand-computed cases.

The simulations use seeded numpy generators and a fixed design: p0 = 0.15 (an 85% pass-rate floor),
p1 = 0.25, alpha = 0.05, beta = 0.20, 30 nights of 40 items each.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.errors import ConfigError
from audits.stats import upper_bound
from audits.stats.sequential import (
    SequentialResult,
    anytime_breach,
    log_mixture_e_value,
    sprt,
    wald_boundaries,
)

P0, P1, ALPHA, BETA = 0.15, 0.25, 0.05, 0.20
NIGHTS, SIZE = 30, 40


# --- Wald's boundaries and the LLR path, by hand ------------------------------------------------------


def test_wald_boundaries_alpha_05_beta_20():
    upper, lower = wald_boundaries(0.05, 0.20)
    assert upper == pytest.approx(math.log(16), abs=1e-12)  # (1 - 0.2) / 0.05 = 16
    assert lower == pytest.approx(math.log(0.2 / 0.95), abs=1e-12)
    assert upper == pytest.approx(2.7726, abs=5e-5)
    assert lower == pytest.approx(-1.5581, abs=5e-5)
    result = sprt([], P0, P1)
    assert (result.upper_boundary, result.lower_boundary) == (upper, lower)
    assert result.verdict == "continue" and result.decision_night is None and result.llr_path == ()


def test_llr_path_hand_computed_breach():
    # log(p1/p0) = log(5/3) = 0.5108256238; log((1-p1)/(1-p0)) = log(0.75/0.85) = -0.1251631430.
    # after night 0: x=2, n=10:   2(0.5108256238) +  8(-0.1251631430) = 0.0203461
    # after night 1: x=7, n=20:   7(0.5108256238) + 13(-0.1251631430) = 1.9486585
    # after night 2: x=11, n=30: 11(0.5108256238) + 19(-0.1251631430) = 3.2409821 >= log 16 = 2.7726: breach
    nights = [(2, 10), (5, 10), (4, 10), (0, 10)]
    result = sprt(nights, P0, P1, alpha=0.05, beta=0.2)
    assert result.llr_path == pytest.approx((0.0203461, 1.9486585, 3.2409821), abs=1e-7)
    assert result.verdict == "breach"
    assert result.decision_night == 2
    assert (result.nights_used, result.failures, result.n) == (3, 11, 30)  # night 3 is not read


def test_llr_path_hand_computed_compliant():
    # Each clean night of 10 adds 10 log(0.75/0.85) = -1.2516314; two reach -2.5032629 <= log(0.2/0.95).
    result = sprt([(0, 10), (0, 10), (9, 10)], P0, P1)
    assert result.llr_path == pytest.approx((-1.2516314, -2.5032629), abs=1e-7)
    assert result.verdict == "compliant" and result.decision_night == 1
    assert (result.failures, result.n) == (0, 20)


def test_llr_exact_at_boundary_decides():
    # A night that lands exactly on A decides ("LLR >= A"). With p0 = 0.25, p1 = 0.5, each failure adds
    # log 2; with alpha = beta = 0.2, A = log(0.8 / 0.2) = log 4 = 2 log 2, reached by two straight failures.
    result = sprt([(1, 1), (1, 1)], 0.25, 0.5, alpha=0.2, beta=0.2)
    assert result.verdict == "breach" and result.decision_night == 1


@pytest.mark.parametrize(
    ("failures", "verdict"), [(0, "compliant"), (1, "continue"), (2, "continue"), (3, "breach")]
)
def test_nist_sequential_plan_at_n_24(failures, verdict):
    # NIST/SEMATECH e-Handbook 6.2.6: p1 = 0.01, alpha = 0.05, p2 = 0.10, beta = 0.10; at n = 24 the
    # acceptance number is 0 and the rejection number is 3.
    result = sprt([(failures, 24)], 0.01, 0.10, alpha=0.05, beta=0.10)
    assert result.verdict == verdict


def test_nist_plan_lines():
    # Wald's lines in failure counts: reject at x >= h_r + s n, accept at x <= -h_a + s n with
    # g = log(p2 (1 - p1) / (p1 (1 - p2))), h_r = A / g, h_a = -B / g, s = log((1 - p1)/(1 - p2)) / g.
    g = math.log(0.10 * 0.99 / (0.01 * 0.90))
    upper, lower = wald_boundaries(0.05, 0.10)
    h_r, h_a, s = upper / g, -lower / g, math.log(0.99 / 0.90) / g
    assert (h_a, h_r, s) == pytest.approx((0.939, 1.205, 0.0397), abs=5e-4)
    # No acceptance is possible before n = 24 (a clean run of 23 items continues, 24 accepts).
    assert sprt([(0, 1)] * 23, 0.01, 0.10, 0.05, 0.10).verdict == "continue"
    accepted = sprt([(0, 1)] * 30, 0.01, 0.10, 0.05, 0.10)
    assert accepted.verdict == "compliant" and accepted.n == 24


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 30).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))), max_size=12),
    st.floats(0.01, 0.5),
    st.floats(1.2, 3.0),
)
def test_sprt_path_is_cumulative_llr_and_stops_at_first_crossing(nights, p0, ratio):
    p1 = min(p0 * ratio, 0.99)
    result = sprt(nights, p0, p1)
    x = n = 0
    for i, llr in enumerate(result.llr_path):
        x, n = x + nights[i][0], n + nights[i][1]
        expected = x * math.log(p1 / p0) + (n - x) * math.log((1 - p1) / (1 - p0))
        assert llr == pytest.approx(expected, abs=1e-9)
    inside = [result.lower_boundary < v < result.upper_boundary for v in result.llr_path]
    if result.verdict == "continue":
        assert all(inside) and result.nights_used == len(nights)
    else:
        assert all(inside[:-1]) and not inside[-1]
        assert result.decision_night == result.nights_used - 1
        assert (result.verdict == "breach") == (result.llr_path[-1] >= result.upper_boundary)


# --- the mixture e-value --------------------------------------------------------------------------------


def test_e_value_closed_form_uniform_prior_above_ceiling():
    # x = 5 of n = 10, p0 = 0.15: x/n >= p0, so the denominator is the likelihood at p0.
    # B(6, 6) / B(1, 1) = 5! 5! / 11! = 1 / (11 C(10, 5)) = 1 / 2772.
    expected = 1 / (11 * math.comb(10, 5)) / (0.15**5 * 0.85**5)
    assert expected == pytest.approx(10.707, abs=1e-3)
    assert math.exp(log_mixture_e_value(5, 10, 0.15)) == pytest.approx(expected, rel=1e-12)
    result = anytime_breach([(2, 4), (3, 6)], 0.15, alpha=0.05)
    assert result.e_value == pytest.approx(expected, rel=1e-12)
    assert result.verdict == "continue"  # 10.7 < 1 / 0.05 = 20


def test_e_value_closed_form_jeffreys_prior_lgamma():
    def log_beta(a, b):
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)

    x, n, p0 = 3, 8, 0.15
    expected = (
        log_beta(0.5 + x, 0.5 + n - x) - log_beta(0.5, 0.5) - (x * math.log(p0) + (n - x) * math.log(1 - p0))
    )
    assert log_mixture_e_value(x, n, p0, (0.5, 0.5)) == pytest.approx(expected, abs=1e-12)


def test_e_value_below_ceiling_uses_best_null_rate():
    # x = 1 of n = 20 (5% < p0 = 15%): the denominator is the likelihood at 0.05, the best rate <= p0.
    # B(2, 20) = 1! 19! / 21! = 1 / 420.
    expected = (1 / 420) / (0.05 * 0.95**19)
    assert expected == pytest.approx(0.12620, abs=1e-5)
    assert math.exp(log_mixture_e_value(1, 20, 0.15)) == pytest.approx(expected, rel=1e-12)


def test_perfect_supplier_never_alarms():
    # With the likelihood at p0 alone in the denominator, 0 failures in 1000 items would give
    # (1 / 1001) / 0.85^1000, about e^155: a false "breach" against a perfect supplier. The best-null
    # denominator keeps the e-value at (1/1001) / 1 < 1.
    naive_log = -math.log(1001) - 1000 * math.log(0.85)
    assert naive_log > 150
    result = anytime_breach([(0, 100)] * 10, 0.15)
    assert result.verdict == "continue"
    assert result.llr_path[-1] == pytest.approx(-math.log(1001), abs=1e-9)
    assert all(v <= 0 for v in result.llr_path)


def test_anytime_breach_decides_at_first_crossing():
    # log(1/0.05) = 2.9957. 10 of 20 at p0 = 0.15: log E = log(1/(21 C(20,10))) - 10 log 0.15 - 10 log 0.85.
    log_e = -math.log(21 * math.comb(20, 10)) - 10 * math.log(0.15) - 10 * math.log(0.85)
    assert log_e > math.log(20)
    result = anytime_breach([(1, 10), (9, 10), (0, 10)], 0.15, alpha=0.05)
    assert result.verdict == "breach" and result.decision_night == 1
    assert result.llr_path[-1] == pytest.approx(log_e, abs=1e-9)
    assert result.upper_boundary == pytest.approx(math.log(20))
    assert result.lower_boundary is None and result.p1 is None and result.prior == (1.0, 1.0)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))), st.floats(0.01, 0.9))
def test_e_value_at_most_one_when_observed_rate_is_within_ceiling(pair, p0):
    x, n = pair
    if x / n <= p0:
        assert log_mixture_e_value(x, n, p0) <= 1e-12


# --- results --------------------------------------------------------------------------------------------


def test_result_is_frozen_and_serialises():
    result = sprt([(2, 10), (5, 10)], P0, P1)
    assert isinstance(result, SequentialResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.verdict = "breach"
    data = json.loads(json.dumps(result.to_dict()))
    assert data["verdict"] == "continue" and data["decision_night"] is None
    assert data["llr_path"] == list(result.llr_path)
    assert data["upper_boundary"] == result.upper_boundary and data["prior"] is None
    anytime = json.loads(json.dumps(anytime_breach([(2, 10)], P0).to_dict()))
    assert anytime["prior"] == [1.0, 1.0] and anytime["lower_boundary"] is None


# --- simulations ----------------------------------------------------------------------------------------


@functools.cache
def _naive_breach(failures: int, n: int) -> bool:
    """Fixed-sample test: breach when the 95% upper bound on the PASS rate is below the floor 1 - p0.

    Equivalent to the one-sided 95% Clopper-Pearson lower bound on the failure rate exceeding p0.
    """
    return upper_bound(n - failures, n, 0.95) < 1 - P0


def _simulate(rate: float, runs: int, seed: int) -> dict[str, float]:
    """Fractions of `runs` supplier histories (30 nights of 40 items at `rate`) each test calls a breach."""
    failures = np.random.default_rng(seed).binomial(SIZE, rate, size=(runs, NIGHTS))
    counts = {"sprt": 0, "sprt_undecided": 0, "anytime": 0, "naive_any_night": 0, "naive_first_night": 0}
    for row in failures:
        nights = [(int(v), SIZE) for v in row]
        wald = sprt(nights, P0, P1, ALPHA, BETA)
        counts["sprt"] += wald.verdict == "breach"
        counts["sprt_undecided"] += wald.verdict == "continue"
        counts["anytime"] += anytime_breach(nights, P0, ALPHA).verdict == "breach"
        cumulative = np.cumsum(row)
        alarms = [_naive_breach(int(c), SIZE * (i + 1)) for i, c in enumerate(cumulative)]
        counts["naive_any_night"] += any(alarms)
        counts["naive_first_night"] += alarms[0]
    return {k: v / runs for k, v in counts.items()}


def _three_se(rate: float, runs: int) -> float:
    return 3 * math.sqrt(rate * (1 - rate) / runs)


H0_RUNS, H1_RUNS = 4000, 2000


@pytest.fixture(scope="module")
def at_ceiling():
    return _simulate(P0, H0_RUNS, seed=20240601)


@pytest.fixture(scope="module")
def at_breach_rate():
    return _simulate(P1, H1_RUNS, seed=20240602)


def test_sprt_false_breach_rate_at_ceiling(at_ceiling):
    # Measured 0.017 (67 of 4000 runs): below alpha, as Wald's bound with a night's overshoot predicts.
    assert at_ceiling["sprt"] <= ALPHA + _three_se(ALPHA, H0_RUNS)
    assert at_ceiling["sprt_undecided"] <= 0.01  # 1200 items almost always reach a verdict


def test_anytime_false_breach_rate_at_ceiling(at_ceiling):
    # Measured 0.0025 (10 of 4000 runs): Ville's bound is exact and conservative.
    assert at_ceiling["anytime"] <= ALPHA + _three_se(ALPHA, H0_RUNS)


def test_sprt_power_at_breach_rate(at_breach_rate):
    # Measured 0.899 (2000 runs), above 1 - beta = 0.8; the anytime test, with no p1, detects all (1.000).
    assert at_breach_rate["sprt"] >= 1 - BETA - _three_se(1 - BETA, H1_RUNS)
    assert at_breach_rate["anytime"] >= 1 - BETA


def test_naive_nightly_retesting_inflates_false_alarms(at_ceiling):
    # One look is a valid 5% test (measured 0.027 on night 1: Clopper-Pearson is conservative);
    # thirty looks at the cumulative data alarm in 20.3% of compliant histories (4000 runs), four times alpha.
    assert at_ceiling["naive_first_night"] <= ALPHA + _three_se(ALPHA, H0_RUNS)
    assert at_ceiling["naive_any_night"] > 2 * ALPHA
    assert at_ceiling["naive_any_night"] > 3 * at_ceiling["sprt"]


def test_better_than_ceiling_supplier_is_not_flagged():
    # Rate 0.10 < p0: the composite null. Both sequential tests must stay below alpha (measured 0 of 1000 for each).
    rates = _simulate(0.10, 1000, seed=20240603)
    assert rates["sprt"] <= ALPHA and rates["anytime"] <= ALPHA


# --- validation -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"p0": 0.0}, "p0"),
        ({"p0": 1.0}, "p0"),
        ({"p0": float("nan")}, "p0"),
        ({"p1": 0.15}, "p1"),
        ({"p1": 0.10}, "p1"),
        ({"p1": 1.0}, "p1"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": True}, "alpha"),
        ({"beta": 1.0}, "beta"),
        ({"alpha": 0.6, "beta": 0.5}, "alpha \\+ beta"),
    ],
)
def test_sprt_rejects_bad_parameters(kwargs, name):
    args = {"failures_by_night": [(1, 10)], "p0": P0, "p1": P1} | kwargs
    with pytest.raises(ConfigError, match=name):
        sprt(**args)


@pytest.mark.parametrize(
    ("nights", "match"),
    [
        ("1,10", "failures_by_night must be a sequence"),
        (None, "failures_by_night must be a sequence"),
        ({(1, 10)}, "failures_by_night must be a sequence"),
        ([(1, 10, 3)], r"failures_by_night\[0\] must be a \(failures, n\) pair"),
        ([5], r"failures_by_night\[0\] must be a \(failures, n\) pair"),
        ([(1, 10), (11, 10)], r"failures_by_night\[1\]: failures"),
        ([(-1, 10)], r"failures_by_night\[0\]: failures"),
        ([(1.0, 10)], r"failures_by_night\[0\]: failures"),
        ([(1, -1)], r"failures_by_night\[0\]: n"),
        ([(1, 10.5)], r"failures_by_night\[0\]: n"),
        ([(True, 10)], r"failures_by_night\[0\]: failures"),
    ],
)
def test_bad_nights_rejected_by_both_tests(nights, match):
    with pytest.raises(ConfigError, match=match):
        sprt(nights, P0, P1)
    with pytest.raises(ConfigError, match=match):
        anytime_breach(nights, P0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"p0": 1.5}, "p0"),
        ({"alpha": 1.0}, "alpha"),
        ({"prior": (0, 1)}, "prior"),
        ({"prior": (1,)}, "prior"),
        ({"prior": "ab"}, "prior"),
        ({"prior": (float("inf"), 1)}, "prior"),
        ({"prior": (1, -2)}, "prior"),
    ],
)
def test_anytime_rejects_bad_parameters(kwargs, name):
    args = {"failures_by_night": [(1, 10)], "p0": P0} | kwargs
    with pytest.raises(ConfigError, match=name):
        anytime_breach(**args)


def test_numpy_counts_and_empty_nights_accepted():
    nights = [(np.int64(2), np.int64(10)), (0, 0)]
    result = sprt(nights, P0, P1)
    assert result.llr_path[0] == result.llr_path[1] and result.n == 10
    assert anytime_breach(nights, P0).n == 10
