"""Allocation: bounds, stratum sizes and totals hold for any stratum sizes; the remainder rule."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from audits.sampling.allocate import allocate, bounded_total, edge_take


@settings(max_examples=300, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 500), min_size=1, max_size=8),
    n=st.integers(0, 2500),
    low=st.integers(0, 20),
    extra=st.one_of(st.none(), st.integers(0, 200)),
    method=st.sampled_from(["proportional", "equal", "neyman"]),
    rates=st.lists(st.floats(0.001, 0.999), min_size=8, max_size=8),
)
def test_allocation_respects_bounds_and_sums(
    sizes: list[int], n: int, low: int, extra: int | None, method: str, rates: list[float]
) -> None:
    high = None if extra is None else max(1, low + extra)
    strata = {f"s{i}": s for i, s in enumerate(sizes)}
    if method == "proportional":
        weights = {k: float(v) for k, v in strata.items()}
    elif method == "equal":
        weights = dict.fromkeys(strata, 1.0)
    else:
        weights = {k: v * math.sqrt(rates[i] * (1 - rates[i])) for i, (k, v) in enumerate(strata.items())}
    out = allocate(n, strata, weights, low, high)
    assert set(out) == set(strata)
    for k, size in strata.items():
        assert min(low, size) <= out[k] <= min(size, high if high is not None else size)
    lows = sum(min(low, s) for s in sizes)
    highs = sum(min(s, high) if high is not None else s for s in sizes)
    assert sum(out.values()) == bounded_total(n, strata, low, high) == min(max(n, lows), highs)
    if lows <= n <= highs:
        assert sum(out.values()) == n


def test_proportional_exact_and_largest_remainder() -> None:
    assert allocate(40, {"a": 100, "b": 300}, {"a": 100.0, "b": 300.0}) == {"a": 10, "b": 30}
    # 10 over three equal strata: 3.33 each, the extra unit goes to the first key on a tie
    assert allocate(10, {"a": 50, "b": 50, "c": 50}, dict.fromkeys("abc", 1.0)) == {"a": 4, "b": 3, "c": 3}


def test_cap_redistributes_remainder_in_proportion() -> None:
    sizes = {"big": 1000, "mid": 300, "small": 100}
    out = allocate(100, sizes, {k: float(v) for k, v in sizes.items()}, 0, 50)
    # big would get 71 but is capped at 50; the other 50 go 3:1 to mid and small
    assert out == {"big": 50, "mid": 38, "small": 12}
    assert sum(out.values()) == 100


def test_minimum_and_small_strata() -> None:
    sizes = {"a": 1000, "b": 3, "c": 20}
    out = allocate(30, sizes, {k: float(v) for k, v in sizes.items()}, 10, None)
    assert out["b"] == 3 and out["c"] == 10 and out["a"] == 17  # b is taken whole, below the minimum
    # minimums win over n: the total grows to honour them
    assert sum(allocate(5, sizes, dict.fromkeys(sizes, 1.0), 10, None).values()) == 23
    # capacity caps the total: a census
    assert allocate(10_000, sizes, dict.fromkeys(sizes, 1.0)) == sizes


def test_neyman_favours_uncertain_strata() -> None:
    sizes = {"calm": 500, "noisy": 500}
    w = {"calm": 500 * math.sqrt(0.01 * 0.99), "noisy": 500 * math.sqrt(0.5 * 0.5)}
    out = allocate(60, sizes, w)
    assert out["noisy"] > 3 * out["calm"] and sum(out.values()) == 60


def test_edge_take() -> None:
    assert edge_take(True, None, None, 37) == 37
    assert edge_take(False, 0.07, None, 100) == 7  # exact decimal: not 8
    assert edge_take(False, 0.5, 10, 100) == 10
    assert edge_take(False, 0.5, None, 0) == 0
