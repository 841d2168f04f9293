"""Chance-corrected agreement between raters on categorical labels: Cohen's and Fleiss' kappa.

Both compare the agreement the raters reached with the agreement their label frequencies would give by
chance, kappa = (p_o - p_e) / (1 - p_e):

    cohen_kappa     two raters who rated the same units (Cohen 1960); `weights="linear"|"quadratic"`
                    gives Cohen's (1968) weighted kappa for ordered categories, with disagreement
                    weights |i - j| / (k - 1) or (i - j)^2 / (k - 1)^2 on the category positions.
    fleiss_kappa    any number of raters, the same number n >= 2 on every unit, not necessarily the
                    same people (Fleiss 1971); `fleiss_table` builds its units x categories counts.

Krippendorff's alpha and pairwise percent agreement (missing ratings, any level) live in
`audits.stats.krippendorff`.

Conventions shared by both modules
- A missing rating is None (or a float NaN); it is dropped, never counted as a category.
- Undefined statistics return `math.nan`, never raise: fewer than 2 units to compare, or no variation
  at all (expected disagreement 0, e.g. every rating is "yes"). Callers report "not computable".
- Input a caller got wrong (lengths that differ, a table with rows of different sums, an unknown
  `weights`, a label outside `categories`) raises `AgreementError`, which is both a `ConfigError` (the
  library's "invalid argument") and a `ValueError`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from audits.errors import ConfigError

Weights = Literal["linear", "quadratic"]
WEIGHTS: tuple[str, ...] = ("linear", "quadratic")


class AgreementError(ConfigError, ValueError):
    """Ratings or a count table that no agreement statistic can be computed from, as given."""


def is_missing(value: object) -> bool:
    """True for None and NaN, the two spellings of a missing rating (NaN is the value unequal to itself)."""
    return value is None or value != value


def preview(values: Iterable[object], limit: int = 5) -> str:
    """The first few values, repr'd and comma-separated, for error messages."""
    shown = [repr(v) for v in list(values)[:limit]]
    return ", ".join(shown)


def label_order(labels: Iterable[Hashable], categories: Sequence[Hashable] | None, *, ordered: bool) -> tuple:
    """The categories in order: `categories` as given (checked), else the labels sorted.

    Unsortable labels (mixed types) raise when `ordered`; otherwise they keep first-seen order, which
    nominal statistics do not depend on.
    """
    if categories is not None:
        cats = tuple(categories)
        if len(set(cats)) != len(cats):
            raise AgreementError(f"categories must not repeat a category, got {cats!r}")
        unknown = set(labels) - set(cats)
        if unknown:
            raise AgreementError(f"labels not among the categories {cats!r}: {preview(unknown)}")
        return cats
    distinct = list(dict.fromkeys(labels))
    try:
        return tuple(sorted(distinct))
    except TypeError:
        if ordered:
            raise AgreementError(
                f"labels of different types cannot be put in order ({preview(distinct)}); pass categories="
            ) from None
        return tuple(distinct)


def codes(labels: Sequence[Hashable], order: Sequence[Hashable]) -> np.ndarray:
    """Each label's position in `order`, as an integer array."""
    position = {c: i for i, c in enumerate(order)}
    return np.fromiter((position[x] for x in labels), dtype=np.intp, count=len(labels))


def _disagreement_weights(k: int, weights: Weights | None) -> np.ndarray:
    """k x k disagreement weights: 0 on the diagonal, 1 off it, or |i-j| or (i-j)^2 scaled to [0, 1]."""
    i, j = np.indices((k, k))
    if weights is None:
        return (i != j).astype(float)
    if k < 2:
        return np.zeros((k, k))
    distance = np.abs(i - j) / (k - 1)
    return distance if weights == "linear" else distance**2


def cohen_kappa(
    a: Sequence[Hashable | None],
    b: Sequence[Hashable | None],
    *,
    weights: Weights | None = None,
    categories: Sequence[Hashable] | None = None,
) -> float:
    """Cohen's kappa, or weighted kappa, of two raters' labels for the same units (nan if undefined).

    kappa_w = 1 - sum(w_ij o_ij) / sum(w_ij e_ij), where o is the observed k x k table, e the table
    the two raters' own label frequencies give by chance, and w the disagreement weights; without
    weights this is (p_o - p_e) / (1 - p_e). Units where either label is missing are dropped. For
    weighted kappa the categories are ordered: `categories` gives the order (and may hold categories
    nobody used, which widens the distances), else the labels are sorted. nan when fewer than 2
    units remain or the chance disagreement is 0 (both raters used one and the same category).
    """
    if weights is not None and weights not in WEIGHTS:
        raise AgreementError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")
    if len(a) != len(b):
        raise AgreementError(f"the two raters must rate the same units: {len(a)} labels against {len(b)}")
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if not is_missing(x) and not is_missing(y)]
    left = [x for x, _ in pairs]
    right = [y for _, y in pairs]
    order = label_order(left + right, categories, ordered=weights is not None)
    if len(pairs) < 2:
        return math.nan
    k = len(order)
    cells = codes(left, order) * k + codes(right, order)
    observed = np.bincount(cells, minlength=k * k).reshape(k, k).astype(float)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / len(pairs)
    w = _disagreement_weights(k, weights)
    chance = float((w * expected).sum())
    if chance <= 0:
        return math.nan
    return 1.0 - float((w * observed).sum()) / chance


def fleiss_kappa(table: Sequence[Sequence[float]] | np.ndarray) -> float:
    """Fleiss' kappa from an N units x k categories table of counts (nan if undefined).

    Every row must sum to the same number of ratings n >= 2. P_i = (sum_j n_ij^2 - n) / (n (n - 1))
    is unit i's pairwise agreement, p_j the share of all ratings in category j, and
    kappa = (mean P_i - sum p_j^2) / (1 - sum p_j^2). nan with fewer than 2 units or when every
    rating fell in one category.
    """
    counts = np.asarray(table, dtype=float)
    if counts.ndim != 2:
        raise AgreementError(f"table must be 2-D (units x categories), got {counts.ndim} dimension(s)")
    if counts.size and (not np.all(np.isfinite(counts)) or counts.min() < 0 or np.any(counts % 1)):
        raise AgreementError("table must hold whole, non-negative counts")
    if counts.shape[0] == 0:
        return math.nan
    sums = counts.sum(axis=1)
    n = sums[0]
    uneven = np.flatnonzero(sums != n)
    if uneven.size:
        row = int(uneven[0])
        raise AgreementError(
            f"every unit needs the same number of ratings: row 0 sums to {n:g}, row {row} to {sums[row]:g}"
        )
    if n < 2:
        raise AgreementError(f"Fleiss' kappa needs at least 2 ratings per unit, got {n:g}")
    if counts.shape[0] < 2:
        return math.nan
    p_j = counts.sum(axis=0) / counts.sum()
    p_i = ((counts**2).sum(axis=1) - n) / (n * (n - 1))
    p_e = float((p_j**2).sum())
    if p_e >= 1:
        return math.nan
    return (float(p_i.mean()) - p_e) / (1 - p_e)


def fleiss_table(
    ratings: Sequence[Sequence[Hashable | None]] | Mapping[Any, Sequence[Hashable | None]],
    categories: Sequence[Hashable] | None = None,
) -> np.ndarray:
    """Units x categories counts for `fleiss_kappa` from each unit's labels (missing ones dropped).

    `ratings` is a list of per-unit label lists, or a mapping unit -> labels (errors then name the
    unit by its key). Columns follow `categories`, else the sorted labels (first-seen order if they
    cannot be sorted). Every unit must keep the same number of labels; the error names the first
    unit that does not.
    """
    units = list(ratings.items()) if isinstance(ratings, Mapping) else list(enumerate(ratings))
    kept = [(unit, [x for x in labels if not is_missing(x)]) for unit, labels in units]
    size = len(kept[0][1]) if kept else 0
    for unit, labels in kept:
        if len(labels) != size:
            raise AgreementError(
                f"every unit needs the same number of ratings: unit {kept[0][0]!r} has {size}, "
                f"unit {unit!r} has {len(labels)}"
            )
    flat = [x for _, labels in kept for x in labels]
    order = label_order(flat, categories, ordered=False)
    k = len(order)
    rows = np.repeat(np.arange(len(kept)), size)
    cells = np.bincount(rows * k + codes(flat, order), minlength=len(kept) * k)
    return cells.reshape(len(kept), k).astype(np.int64)
