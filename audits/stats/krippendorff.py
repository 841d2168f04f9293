"""Krippendorff's alpha and pairwise percent agreement, for any number of raters and missing ratings.

The method is the coincidence matrix of Krippendorff (2011), "Computing Krippendorff's
Alpha-Reliability" (Annenberg School for Communication, University of Pennsylvania):

- A unit rated by m_u >= 2 raters is pairable; each of its m_u (m_u - 1) ordered pairs of values adds
  1 / (m_u - 1) to the coincidence o_ck of its two values. Units with fewer than 2 values are dropped.
- n_c = sum_k o_ck are the pairable values per category, n = sum_c n_c.
- alpha = 1 - D_o / D_e = 1 - (n - 1) sum o_ck delta2_ck / sum n_c n_k delta2_ck, with the squared
  difference delta2 of the level of measurement:
    nominal   0 if c = k else 1
    ordinal   (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2, which uses how often the values between c and
              k were used, not their numeric distance (the paper's ordinal metric)
    interval  (c - k)^2
    ratio     ((c - k) / (c + k))^2
- nan when fewer than 2 units are pairable or D_e = 0 (no variation in the pairable values).

Everything works on the (unit, value) counts as a sparse units x values matrix, so the cost is linear
in the number of ratings plus a V x V matrix for V distinct values; `krippendorff_alpha_long` takes
ratings in long form (one unit and one value per rating), as a database returns them, and
`krippendorff_alpha` takes Krippendorff's own layout (coders x units, None for missing).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
from scipy import sparse

from audits.stats.agreement import AgreementError, codes, is_missing, label_order, preview

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")


def _is_number(value: object) -> bool:
    """True for finite Python and numpy reals, False for bools and everything else."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _value_order(values: Sequence[Hashable], level: str, order: Sequence[Hashable] | None) -> tuple:
    """The distinct values in the order the level's metric needs, checked against the level."""
    if level not in LEVELS:
        raise AgreementError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if order is not None and level in ("interval", "ratio"):
        raise AgreementError(f"order= applies to ordinal (or nominal) labels, not to {level} numbers")
    if level == "nominal" or (level == "ordinal" and order is not None):
        return label_order(values, order, ordered=level == "ordinal")
    bad = [v for v in dict.fromkeys(values) if not _is_number(v)]
    if bad:
        hint = "; pass order= for ordinal labels" if level == "ordinal" else ""
        raise AgreementError(f"{level} alpha needs numeric values, got {preview(bad)}{hint}")
    distinct = sorted(set(values))  # type: ignore[type-var]
    if level == "ratio" and distinct and distinct[0] < 0:  # type: ignore[operator]
        raise AgreementError(f"ratio alpha needs values >= 0, got {distinct[0]!r}")
    return tuple(distinct)


def _unit_value_counts(
    units: Sequence[Hashable], values: Sequence[Hashable], order: tuple
) -> sparse.csr_matrix:
    """Sparse pairable-units x values matrix of rating counts (units with < 2 ratings removed)."""
    unit_codes = codes(units, tuple(dict.fromkeys(units)))
    n_units = int(unit_codes.max()) + 1 if len(unit_codes) else 0
    ones = np.ones(len(unit_codes))
    counts = sparse.coo_matrix(
        (ones, (unit_codes, codes(values, order))), shape=(n_units, len(order))
    ).tocsr()
    per_unit = np.asarray(counts.sum(axis=1)).ravel()
    return counts[per_unit >= 2]


def _drop_missing(units: Sequence[Hashable], values: Sequence[Hashable | None]) -> tuple[list, list]:
    """The (unit, value) ratings whose value is present, as two parallel lists."""
    if len(units) != len(values):
        raise AgreementError(
            f"units and values must pair up: {len(units)} units against {len(values)} values"
        )
    kept = [(u, v) for u, v in zip(units, values, strict=True) if not is_missing(v)]
    return [u for u, _ in kept], [v for _, v in kept]


def _squared_differences(level: str, order: tuple, marginals: np.ndarray) -> np.ndarray:
    """V x V delta^2 of the level of measurement over the ordered values (Krippendorff 2011)."""
    v = len(order)
    if level == "nominal":
        return 1.0 - np.eye(v)
    if level == "ordinal":
        # sum_{g=c..k} n_g - (n_c + n_k)/2 is the difference of the mid-ranks cumsum(n)_g - n_g / 2
        mid = np.cumsum(marginals) - marginals / 2
        return (mid[:, None] - mid[None, :]) ** 2
    x = np.asarray(order, dtype=float)
    diff = x[:, None] - x[None, :]
    if level == "interval":
        return diff**2
    total = x[:, None] + x[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (diff / np.where(total > 0, total, 1)) ** 2, 0.0)


def krippendorff_alpha_long(
    units: Sequence[Hashable],
    values: Sequence[Hashable | None],
    level: Level = "nominal",
    *,
    order: Sequence[Hashable] | None = None,
) -> float:
    """Krippendorff's alpha from ratings in long form: the i-th rating gave `values[i]` to `units[i]`.

    Missing values are dropped and units left with fewer than 2 values are not pairable. Values are
    numbers, or any hashable labels for nominal; ordinal labels that are not numbers need `order=`
    (lowest first). nan when fewer than 2 units are pairable or there is no variation to disagree on.
    """
    units, kept = _drop_missing(units, values)
    order_ = _value_order(kept, level, order)
    counts = _unit_value_counts(units, kept, order_)
    if counts.shape[0] < 2:
        return math.nan
    per_unit = np.asarray(counts.sum(axis=1)).ravel()
    scaled = sparse.diags(1.0 / (per_unit - 1)) @ counts
    coincidences = (counts.T @ scaled).toarray() - np.diag(np.asarray(scaled.sum(axis=0)).ravel())
    marginals = coincidences.sum(axis=1)
    n = marginals.sum()
    delta2 = _squared_differences(level, order_, marginals)
    expected = float((np.outer(marginals, marginals) * delta2).sum())
    if expected <= 0:
        return math.nan
    return float(1.0 - (n - 1) * float((coincidences * delta2).sum()) / expected)


def percent_agreement_long(units: Sequence[Hashable], values: Sequence[Hashable | None]) -> float:
    """Share of agreeing pairs among all pairs of ratings of the same unit, in long form (nan if none).

    Pairs are pooled over units, so a unit with m ratings counts m (m - 1) / 2 pairs; for two raters
    this is the plain share of units they labelled alike. Missing values are dropped first.
    """
    units, kept = _drop_missing(units, values)
    counts = _unit_value_counts(units, kept, label_order(kept, None, ordered=False))
    if counts.shape[0] == 0:
        return math.nan
    per_unit = np.asarray(counts.sum(axis=1)).ravel()
    agreeing = float((counts.data * (counts.data - 1)).sum()) / 2
    return agreeing / float((per_unit * (per_unit - 1)).sum() / 2)


def _long_form(data: Sequence[Sequence[Hashable | None]] | np.ndarray) -> tuple[list, list]:
    """(units, values) of the present ratings in a coders x units layout, rows checked for length."""
    rows = [list(row) for row in data]
    if not rows:
        raise AgreementError("data needs at least one coder row (coders x units)")
    width = len(rows[0])
    for coder, row in enumerate(rows):
        if len(row) != width:
            raise AgreementError(
                f"every coder row must cover the same units: row 0 has {width} values, row {coder} has {len(row)}"
            )
    cells = [
        (unit, value.item() if isinstance(value, np.generic) else value)
        for row in rows
        for unit, value in enumerate(row)
    ]
    return [u for u, _ in cells], [v for _, v in cells]


def krippendorff_alpha(
    data: Sequence[Sequence[Hashable | None]] | np.ndarray,
    level: Level = "nominal",
    *,
    order: Sequence[Hashable] | None = None,
) -> float:
    """Krippendorff's alpha of `data` laid out as coders x units, None (or NaN) for a missing value.

    See `krippendorff_alpha_long` for values, `order=` and the cases that return nan.
    """
    units, values = _long_form(data)
    return krippendorff_alpha_long(units, values, level, order=order)


def percent_agreement(data: Sequence[Sequence[Hashable | None]] | np.ndarray) -> float:
    """Pairwise observed agreement of `data` laid out as coders x units (see `percent_agreement_long`)."""
    units, values = _long_form(data)
    return percent_agreement_long(units, values)
