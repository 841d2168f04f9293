"""Spreading a total sample over strata: proportional, equal, Neyman and fixed allocation with bounds.

The rule (`allocate`), for strata of sizes N_h with weights w_h (proportional: N_h; equal: 1;
Neyman: N_h * sqrt(p_h (1 - p_h))):

1. Each stratum has bounds L_h = min(min_per_stratum, N_h) and U_h = min(max_per_stratum, N_h): a stratum
   never gets more than it holds, and a small stratum is taken whole rather than failing the minimum.
2. The total is n clamped to [sum L_h, sum U_h]: minimums win over n (the total grows to honour them) and
   the strata's capacity caps it (a census when n is larger than the population).
3. Water-filling, in exact rational arithmetic: the real shares x_h = clamp(lambda * w_h, L_h, U_h) with
   lambda chosen so that they sum to the total. A stratum held at a bound keeps it and the remainder
   is re-spread over the others in proportion to their weights.
4. Integers by largest remainder: every stratum gets floor(x_h); the units left go one each to the strata
   with the largest fractional parts (ties: the stratum key, ascending), never above U_h.

The result always sums to the clamped total, and L_h <= n_h <= U_h.

`plan_allocation` applies it to the random strata only: the total n (or the size target, computed on
the random population) does not include edge-case strata, which take all or ceil(rate x N_e) up to
their cap. Fixed allocation takes min(n_h, N_h) per stratum with no redistribution, and a random
stratum missing from `allocation.n` is an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

from audits.errors import ConfigError
from audits.sampling.plan import Plan
from audits.stats import attribute_sample_size, exact_ceil_product, margin_sample_size


def bounded_total(n: int, sizes: Mapping[str, int], low: int, high: int | None) -> int:
    """The total `allocate` hands out: n clamped to [sum of lower bounds, sum of upper bounds]."""
    lows = sum(min(low, s) for s in sizes.values())
    highs = sum(s if high is None else min(high, s) for s in sizes.values())
    return min(max(n, lows), highs)


def allocate(
    n: int, sizes: Mapping[str, int], weights: Mapping[str, float], low: int = 0, high: int | None = None
) -> dict[str, int]:
    """Integer allocation of `n` over strata `sizes` in proportion to `weights` (see the module rule)."""
    keys = sorted(sizes)
    lo = {k: min(low, sizes[k]) for k in keys}
    hi = {k: sizes[k] if high is None else min(high, sizes[k]) for k in keys}
    total = bounded_total(n, sizes, low, high)
    free = [k for k in keys if hi[k] > lo[k]]
    if not free or total == sum(lo.values()):
        return lo
    if total == sum(hi.values()):
        return hi
    w = {k: Fraction(weights[k]) for k in keys}
    if sum(w[k] for k in free) <= 0:
        w = {k: Fraction(sizes[k]) for k in keys}  # all prior weights zero: fall back to proportional
    x = _water_fill(total, w, lo, hi)
    out = {k: math.floor(x[k]) for k in keys}
    left = total - sum(out.values())
    room = [k for k in keys if out[k] < hi[k]]  # a stratum at its size (or max) takes no more
    for k in sorted(room, key=lambda k: (-(x[k] - out[k]), k))[:left]:
        out[k] += 1
    return out


def _water_fill(
    total: int, w: dict[str, Fraction], lo: dict[str, int], hi: dict[str, int]
) -> dict[str, Fraction]:
    """Exact shares clamp(lambda * w_h, lo_h, hi_h) summing to `total` (lo and hi sums bracket it).

    Each round spreads what is left over the unfixed strata in proportion to w; if clamping the
    violators would overshoot, lambda must fall and the strata below their minimum are fixed there,
    otherwise lambda must rise and those above their maximum are fixed. At most one round per stratum.
    """
    fixed: dict[str, Fraction] = {}
    while True:
        free = [k for k in w if k not in fixed]
        rest = total - sum(fixed.values())
        weight = sum(w[k] for k in free)
        if weight <= 0 < rest:
            # the strata still free all weigh nothing (a Neyman prior of 0): share what is left equally
            w = {**w, **{k: Fraction(1) for k in free}}
            weight = Fraction(len(free))
        x = {k: (rest * w[k] / weight if weight > 0 else Fraction(0)) for k in free}
        under = [k for k in free if x[k] < lo[k]]
        over = [k for k in free if x[k] > hi[k]]
        if not under and not over:
            return {**fixed, **x}
        gap = sum(lo[k] - x[k] for k in under) - sum(x[k] - hi[k] for k in over)
        if gap >= 0:
            fixed.update({k: Fraction(lo[k]) for k in under})
        if gap <= 0:
            fixed.update({k: Fraction(hi[k]) for k in over})


def target_size(plan: Plan, population: int) -> int:
    """The plan's total random sample for a random population of `population` conversations."""
    size = plan.size
    if size is None:
        raise ConfigError(f"{plan.source}: size: is required for allocation {plan.allocation.method}")
    if size.n is not None:
        return size.n
    if population == 0:
        return 0
    # parse_plan guarantees a size is a number, a margin with a confidence, or a full target
    assert size.confidence is not None and size.expected is not None
    if size.margin is not None:
        return margin_sample_size(size.margin, size.confidence, expected=size.expected, population=population)
    assert size.tolerable is not None
    try:
        found = attribute_sample_size(
            size.tolerable,
            size.expected,
            size.confidence,
            population=population if size.method == "hypergeometric" else None,
            method=size.method,  # type: ignore[arg-type]
        )
    except ConfigError as exc:
        raise ConfigError(f"{plan.source}: size: {exc}") from exc
    return found.n


def stratum_weights(plan: Plan, sizes: Mapping[str, int]) -> dict[str, float]:
    """Allocation weights per stratum for proportional, equal and Neyman allocation."""
    method = plan.allocation.method
    if method == "equal":
        return {k: 1.0 for k in sizes}
    if method == "proportional":
        return {k: float(v) for k, v in sizes.items()}
    out = {}
    for k, v in sizes.items():
        p = plan.allocation.prior_failure_rate.get(k, plan.allocation.default_failure_rate)
        if p is None:
            raise ConfigError(
                f"{plan.source}: allocation.prior_failure_rate: no rate for stratum {k!r} and no default"
            )
        out[k] = v * math.sqrt(p * (1 - p))
    return out


def edge_take(take_all: bool, rate: float | None, cap: int | None, size: int) -> int:
    """How many of an edge stratum's `size` conversations to take: all, or ceil(rate x size) up to cap."""
    if take_all:
        return size
    assert rate is not None  # parse_plan: an edge case is `take: all` or has a rate
    k = min(size, exact_ceil_product(rate, size))
    return k if cap is None else min(k, cap)


def plan_allocation(plan: Plan, sizes: Mapping[str, int]) -> dict[str, int]:
    """k per stratum (edge strata "edge:NAME" and random strata) for stratum sizes from the population."""
    out: dict[str, int] = {}
    random_sizes = {k: v for k, v in sizes.items() if not k.startswith("edge:")}
    for e in plan.edge_cases:
        key = f"edge:{e.name}"
        if key in sizes:
            out[key] = edge_take(e.take_all, e.rate, e.cap, sizes[key])
    if plan.allocation.method == "fixed":
        for k, v in random_sizes.items():
            if k not in plan.allocation.fixed:
                raise ConfigError(
                    f"{plan.source}: allocation.n: stratum {k!r} is in the population but has no count"
                )
            out[k] = min(plan.allocation.fixed[k], v)
        return out
    n = target_size(plan, sum(random_sizes.values()))
    weights = stratum_weights(plan, random_sizes)
    out.update(allocate(n, random_sizes, weights, plan.min_per_stratum, plan.max_per_stratum))
    return out
