"""Cohen's kappa, Fleiss' kappa, Krippendorff's alpha and percent agreement against published values.

References (every expected number below comes from one of these, or is derived in its docstring)
- [WP-Fleiss] Wikipedia, "Fleiss' kappa", section "Worked example": 10 subjects, 14 raters, 5
  categories; P-bar = 0.378, P-bar_e = 0.213, kappa = 0.210. The same table and 0.210 are used by
  statsmodels' test suite (statsmodels/stats/tests/test_inter_rater.py, test_fleiss_kappa).
- [Fleiss71] J. L. Fleiss (1971), "Measuring nominal scale agreement among many raters",
  Psychological Bulletin 76(5):378-382: 30 patients, 6 psychiatrists, 5 diagnoses (the `diagnoses`
  data of the R package irr); irr::kappam.fleiss prints kappa = 0.4302445 (recorded in statsmodels'
  test_fleiss_kappa_irr); the paper reports .430.
- [WP-Cohen] Wikipedia, "Cohen's kappa", first example: 50 grant applications, both readers "yes" 20,
  both "no" 15, A yes / B no 5, A no / B yes 10; p_o = 0.7, p_e = 0.5, kappa = 0.4.
- [SAS] SAS/STAT PROC FREQ (AGREE) printout for the 3 x 3 table [[0, 4, 1], [0, 8, 0], [0, 1, 5]]:
  simple kappa 0.4842, weighted kappa 0.4701 with SAS's default Cicchetti-Allison weights
  1 - |i - j| / (k - 1), i.e. linear weights (recorded in statsmodels' UnweightedCohens and
  TestWeightedCohens, which reproduce it with wt="linear").
- [irr] R package irr, kappa2 on raters 2 and 3 of its `anxiety` data (20 subjects, scores 1-6; irr
  drops the unused level 5 and weights the 5 used levels by position): unweighted -0.006289308,
  weight "equal" (linear) 0.1459075, weight "squared" (quadratic) 0.2520325 (recorded in
  statsmodels' test_cohens_kappa_irr).
- [K2011] K. Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", Annenberg School for
  Communication, University of Pennsylvania: (A) binary data, 2 observers, 10 units, alpha = 0.095;
  (B) nominal data, 2 observers, 12 units, values a-e, alpha = 0.692; (C) 4 observers, 12 units with
  missing values: nominal 0.743, ordinal 0.815, interval 0.849, ratio 0.797. The (C) values are also
  asserted by the `krippendorff` Python package's tests (pln-fing-udelar/fast-krippendorff,
  tests/test_krippendorff.py: ordinal 0.815, ratio 0.797) and by irr/DescTools' kripp.alpha examples.
- [WP-Kripp] Wikipedia, "Krippendorff's alpha", "A computational example": 3 coders, 15 units, missing
  values; nominal alpha 0.691, interval alpha 0.811 (0.691358 and 0.810845 in fast-krippendorff's tests).
- sklearn.metrics.cohen_kappa_score, an independent implementation, for random cross-checks.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.errors import ConfigError
from audits.stats import (
    AgreementError,
    cohen_kappa,
    fleiss_kappa,
    fleiss_table,
    krippendorff_alpha,
    krippendorff_alpha_long,
    percent_agreement,
    percent_agreement_long,
)

N = None

WP_FLEISS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]

# [Fleiss71] diagnoses: one row per patient, the 6 psychiatrists' diagnoses (1-5).
DIAGNOSES = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]  # fmt: skip

# [irr] anxiety scores of raters 2 and 3 for the 20 subjects.
ANXIETY_R2 = [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4]
ANXIETY_R3 = [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2]

# [K2011] example C: 4 observers (rows) x 12 units (columns), None = not coded.
K2011_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]

# [WP-Kripp] 3 coders x 15 units.
WP_KRIPP = [
    [N, N, N, N, N, 3, 4, 1, 2, 1, 1, 3, 3, N, 3],
    [1, N, 2, 1, 3, 3, 4, 3, N, N, N, N, N, N, N],
    [N, N, 2, 1, 3, 4, 4, N, 2, 1, 1, 3, 3, N, 4],
]


def expand(table):
    """Two label lists from a k x k count table (rater A = row category, rater B = column)."""
    a, b = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    return a, b


# ---------------------------------------------------------------- Fleiss' kappa


def test_fleiss_wikipedia_worked_example():
    """[WP-Fleiss]: 10 subjects, 14 raters, 5 categories, kappa = 0.210."""
    assert round(fleiss_kappa(WP_FLEISS), 3) == 0.210


def test_fleiss_1971_diagnoses():
    """[Fleiss71]: 30 patients x 6 psychiatrists; irr::kappam.fleiss = 0.4302445 (paper: .430)."""
    table = fleiss_table(DIAGNOSES)
    assert table.shape == (30, 5)
    assert fleiss_kappa(table) == pytest.approx(0.4302445, abs=5e-8)


def test_fleiss_table_from_labels_rebuilds_the_wikipedia_counts():
    """Labels expanded from [WP-Fleiss]'s counts come back as the same table, and give 0.210."""
    ratings = {
        f"s{i}": [f"c{j}" for j, c in enumerate(row) for _ in range(c)] for i, row in enumerate(WP_FLEISS)
    }
    table = fleiss_table(ratings)
    assert table.tolist() == WP_FLEISS
    assert round(fleiss_kappa(table), 3) == 0.210


def test_fleiss_table_drops_missing_and_names_the_uneven_unit():
    """None is dropped before counting; a unit left with a different count is named by its key."""
    assert fleiss_table([["a", "b", None], ["a", "a"]], categories=["a", "b", "c"]).tolist() == [
        [1, 1, 0],
        [2, 0, 0],
    ]
    with pytest.raises(AgreementError, match=r"unit 'u1' has 3, unit 'u2' has 2"):
        fleiss_table({"u1": ["a", "b", "a"], "u2": ["a", None, "b"]})


def test_fleiss_bad_tables_raise():
    """Wrong shape, fractional or negative counts, uneven rows and n < 2 are caller errors."""
    with pytest.raises(AgreementError, match="2-D"):
        fleiss_kappa([1, 2, 3])
    with pytest.raises(AgreementError, match="whole, non-negative"):
        fleiss_kappa([[1.5, 0.5], [1, 1]])
    with pytest.raises(AgreementError, match="whole, non-negative"):
        fleiss_kappa([[3, -1], [1, 1]])
    with pytest.raises(AgreementError, match="row 0 sums to 2, row 2 to 3"):
        fleiss_kappa([[1, 1], [2, 0], [2, 1]])
    with pytest.raises(AgreementError, match="at least 2 ratings"):
        fleiss_kappa([[1, 0], [0, 1]])


def test_fleiss_undefined_cases_are_nan():
    """One unit, no units, or every rating in one category: kappa is 0/0, returned as nan."""
    assert math.isnan(fleiss_kappa([[2, 1]]))
    assert math.isnan(fleiss_kappa(np.zeros((0, 3))))
    assert math.isnan(fleiss_kappa([[3, 0], [3, 0]]))


# ---------------------------------------------------------------- Cohen's kappa


def test_cohen_wikipedia_example():
    """[WP-Cohen]: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> kappa 0.4 (p_o 0.7, p_e 0.5)."""
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-12)
    assert percent_agreement([a, b]) == pytest.approx(0.7, abs=1e-12)


def test_cohen_sas_simple_and_linear_weighted():
    """[SAS]: simple kappa 0.4842 and Cicchetti-Allison (linear) weighted kappa 0.4701."""
    a, b = expand([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert round(cohen_kappa(a, b), 4) == 0.4842
    assert round(cohen_kappa(a, b, weights="linear"), 4) == 0.4701


def test_cohen_irr_anxiety_weighted():
    """[irr]: kappa2(anxiety[, 2:3]) unweighted -0.006289308, "equal" 0.1459075, "squared" 0.2520325."""
    assert cohen_kappa(ANXIETY_R2, ANXIETY_R3) == pytest.approx(-0.006289308, abs=5e-10)
    assert cohen_kappa(ANXIETY_R2, ANXIETY_R3, weights="linear") == pytest.approx(0.1459075, abs=5e-8)
    assert cohen_kappa(ANXIETY_R2, ANXIETY_R3, weights="quadratic") == pytest.approx(0.2520325, abs=5e-8)


def test_cohen_categories_set_the_distances():
    """With categories 1..6 the unused 5 counts as a step, so the quadratic kappa changes: by hand it
    is 1 - sum(w o) / sum(w e) with w = ((i - j) / 5)^2 on positions 1..6, checked with numpy."""
    cats = [1, 2, 3, 4, 5, 6]
    o = np.zeros((6, 6))
    for x, y in zip(ANXIETY_R2, ANXIETY_R3, strict=True):
        o[x - 1, y - 1] += 1
    e = np.outer(o.sum(1), o.sum(0)) / o.sum()
    w = (np.subtract.outer(np.arange(6), np.arange(6)) / 5) ** 2
    expected = 1 - (w * o).sum() / (w * e).sum()
    got = cohen_kappa(ANXIETY_R2, ANXIETY_R3, weights="quadratic", categories=cats)
    assert got == pytest.approx(expected, abs=1e-12)
    assert got != pytest.approx(0.2520325, abs=1e-4)


def test_cohen_drops_units_with_a_missing_label():
    """A None on either side removes the unit: [WP-Cohen] plus 3 half-missing units is still 0.4."""
    a = ["yes"] * 25 + ["no"] * 25 + [None, "yes", None]
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15 + ["no", None, None]
    assert cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-12)


def test_cohen_undefined_cases_are_nan():
    """Fewer than 2 units, or both raters using one and the same category: nan."""
    assert math.isnan(cohen_kappa(["a"], ["b"]))
    assert math.isnan(cohen_kappa([None, "a"], ["a", None]))
    assert math.isnan(cohen_kappa(["a", "a", "a"], ["a", "a", "a"], weights="quadratic"))


def test_cohen_bad_input_raises():
    """Mismatched lengths, unknown weights, labels outside categories, unsortable ordered labels."""
    with pytest.raises(AgreementError, match="3 labels against 2"):
        cohen_kappa(["a", "b", "a"], ["a", "b"])
    with pytest.raises(AgreementError, match="weights must be"):
        cohen_kappa(["a", "b"], ["a", "b"], weights="cubic")
    with pytest.raises(AgreementError, match="not among the categories"):
        cohen_kappa(["a", "b"], ["a", "z"], categories=["a", "b"])
    with pytest.raises(AgreementError, match="pass categories="):
        cohen_kappa([1, "b"], [1, "b"], weights="linear")
    assert cohen_kappa([1, "b"], [1, "b"]) == 1.0  # unweighted kappa does not need an order


def test_agreement_error_is_both_config_and_value_error():
    """Callers may catch the library's ConfigError or the standard ValueError."""
    with pytest.raises(ConfigError):
        cohen_kappa(["a"], [])
    with pytest.raises(ValueError):
        cohen_kappa(["a"], [])


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=40))
@settings(max_examples=150, deadline=None)
def test_cohen_matches_sklearn(pairs):
    """sklearn.metrics.cohen_kappa_score, all three weightings, where it is defined."""
    from sklearn.metrics import cohen_kappa_score

    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    for weights in (None, "linear", "quadratic"):
        ours = cohen_kappa(a, b, weights=weights)
        if math.isnan(ours):
            assert len(set(a) | set(b)) == 1
            continue
        assert ours == pytest.approx(cohen_kappa_score(a, b, weights=weights), abs=1e-9)


# ---------------------------------------------------------------- Krippendorff's alpha


def test_alpha_krippendorff_2011_example_c_all_levels():
    """[K2011] (C): nominal 0.743, ordinal 0.815, interval 0.849, ratio 0.797."""
    assert round(krippendorff_alpha(K2011_C, "nominal"), 3) == 0.743
    assert round(krippendorff_alpha(K2011_C, "ordinal"), 3) == 0.815
    assert round(krippendorff_alpha(K2011_C, "interval"), 3) == 0.849
    assert round(krippendorff_alpha(K2011_C, "ratio"), 3) == 0.797


def test_alpha_krippendorff_2011_binary_two_observers():
    """[K2011] (A): observers A 0100000010, B 1110010000 -> alpha 0.095 (= 1 - 19 * 4 / (14 * 6))."""
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert round(krippendorff_alpha([a, b]), 3) == 0.095
    assert krippendorff_alpha([a, b]) == pytest.approx(1 - 19 * 4 / (14 * 6), abs=1e-12)


def test_alpha_krippendorff_2011_nominal_two_observers():
    """[K2011] (B): observer A "a a b b d c c c e d d a", B "b a b b b c c c e d d d": alpha 0.692."""
    a = ["a", "a", "b", "b", "d", "c", "c", "c", "e", "d", "d", "a"]
    b = ["b", "a", "b", "b", "b", "c", "c", "c", "e", "d", "d", "d"]
    assert round(krippendorff_alpha([a, b]), 3) == 0.692


def test_alpha_wikipedia_computational_example():
    """[WP-Kripp]: nominal 0.691, interval 0.811."""
    assert round(krippendorff_alpha(WP_KRIPP, "nominal"), 3) == 0.691
    assert round(krippendorff_alpha(WP_KRIPP, "interval"), 3) == 0.811


def test_alpha_ordinal_labels_with_an_order():
    """[K2011] (C) with the values 1..5 renamed to labels gives the same ordinal 0.815 given order=."""
    names = {1: "very low", 2: "low", 3: "mid", 4: "high", 5: "very high"}
    labelled = [[names.get(v) for v in row] for row in K2011_C]
    order = ["very low", "low", "mid", "high", "very high"]
    assert round(krippendorff_alpha(labelled, "ordinal", order=order), 3) == 0.815
    assert round(krippendorff_alpha(labelled, "nominal"), 3) == 0.743
    with pytest.raises(AgreementError, match="pass order="):
        krippendorff_alpha(labelled, "ordinal")


def test_alpha_accepts_nan_for_missing_in_arrays():
    """A float64 or float32 array with NaN for missing gives the same alpha as the None layout."""
    for dtype in (np.float64, np.float32):
        arr = np.array([[np.nan if v is None else v for v in row] for row in K2011_C], dtype=dtype)
        for level in ("nominal", "ordinal", "interval", "ratio"):
            expected = krippendorff_alpha(K2011_C, level)
            assert krippendorff_alpha(arr, level) == pytest.approx(expected, abs=1e-12)


def test_alpha_long_form_matches_the_matrix_form():
    """The same ratings as (unit, value) pairs in shuffled order give the same alpha."""
    cells = [(u, v) for row in K2011_C for u, v in enumerate(row)]
    cells.reverse()
    units, values = [f"u{u}" for u, _ in cells], [v for _, v in cells]
    assert krippendorff_alpha_long(units, values, "ordinal") == pytest.approx(0.8153875, abs=1e-6)
    assert percent_agreement_long(units, values) == pytest.approx(percent_agreement(K2011_C), abs=1e-12)


def test_alpha_undefined_cases_are_nan():
    """Fewer than 2 pairable units, or all pairable values equal: nan."""
    assert math.isnan(krippendorff_alpha([[1, 2, N], [1, N, 3]]))  # one pairable unit
    assert math.isnan(krippendorff_alpha([[1, N], [N, 2]]))  # none
    assert math.isnan(krippendorff_alpha([[3, 3, 3, 9], [3, 3, 3, N]], "interval"))  # 9 is not pairable


def test_alpha_bad_input_raises():
    """Ragged rows, no rows, unknown level, non-numeric interval, negative ratio, order for interval."""
    with pytest.raises(AgreementError, match="row 0 has 3 values, row 1 has 2"):
        krippendorff_alpha([[1, 2, 3], [1, 2]])
    with pytest.raises(AgreementError, match="at least one coder"):
        krippendorff_alpha([])
    with pytest.raises(AgreementError, match="level must be one of"):
        krippendorff_alpha([[1, 2], [1, 2]], "circular")
    with pytest.raises(AgreementError, match="numeric values"):
        krippendorff_alpha([["a", "b"], ["a", "b"]], "interval")
    with pytest.raises(AgreementError, match=">= 0"):
        krippendorff_alpha([[-1, 2], [1, 2]], "ratio")
    with pytest.raises(AgreementError, match="not to interval"):
        krippendorff_alpha([[1, 2], [1, 2]], "interval", order=[1, 2])
    with pytest.raises(AgreementError, match="2 units against 1"):
        krippendorff_alpha_long(["u1", "u2"], ["a"])


def test_percent_agreement_pools_pairs():
    """Units (a,a,a) and (a,b) have 3 + 0 agreeing pairs out of 3 + 1: 0.75; no pairs: nan."""
    assert percent_agreement([["a", "a"], ["a", "b"], ["a", N]]) == pytest.approx(0.75)
    assert math.isnan(percent_agreement([["a", N], [N, "b"]]))


# ---------------------------------------------------------------- an independent slow alpha


def slow_alpha(data, level):
    """Krippendorff (2011) written out with loops: coincidences from every ordered pair of values in
    a unit, each weighted 1 / (m_u - 1); delta^2 per level; alpha = 1 - (n - 1) Do' / De'."""
    columns = [[row[u] for row in data if row[u] is not None] for u in range(len(data[0]))]
    columns = [c for c in columns if len(c) >= 2]
    values = sorted({v for c in columns for v in c})
    o = {(c, k): 0.0 for c in values for k in values}
    for col in columns:
        for i, j in itertools.permutations(range(len(col)), 2):
            o[col[i], col[j]] += 1 / (len(col) - 1)
    n_c = {c: sum(o[c, k] for k in values) for c in values}
    n = sum(n_c.values())

    def d2(c, k):
        if level == "nominal":
            return float(c != k)
        if level == "interval":
            return (c - k) ** 2
        if level == "ratio":
            return 0.0 if c + k == 0 else ((c - k) / (c + k)) ** 2
        lo, hi = min(c, k), max(c, k)
        return (sum(n_c[g] for g in values if lo <= g <= hi) - (n_c[c] + n_c[k]) / 2) ** 2

    do = sum(o[c, k] * d2(c, k) for c in values for k in values)
    de = sum(n_c[c] * n_c[k] * d2(c, k) for c in values for k in values)
    if len(columns) < 2 or de == 0:
        return math.nan
    return 1 - (n - 1) * do / de


ratings_matrix = st.integers(2, 4).flatmap(
    lambda coders: st.integers(2, 12).flatmap(
        lambda units: st.lists(
            st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=units, max_size=units),
            min_size=coders,
            max_size=coders,
        )
    )
)


@given(ratings_matrix, st.sampled_from(["nominal", "ordinal", "interval", "ratio"]))
@settings(max_examples=200, deadline=None)
def test_alpha_matches_the_slow_definition(data, level):
    """The vectorised coincidence matrix equals the loop-by-loop definition of [K2011]."""
    expected = slow_alpha(data, level)
    got = krippendorff_alpha(data, level)
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, abs=1e-9)


# ---------------------------------------------------------------- invariants


@given(ratings_matrix, st.sampled_from(["nominal", "ordinal", "interval"]), st.randoms(use_true_random=False))
@settings(max_examples=150, deadline=None)
def test_alpha_invariant_to_coder_and_unit_order(data, level, rnd):
    """Swapping coders (rows) or reordering units (columns) leaves alpha unchanged."""
    rows = [list(r) for r in data]
    rnd.shuffle(rows)
    columns = list(range(len(data[0])))
    rnd.shuffle(columns)
    shuffled = [[row[c] for c in columns] for row in rows]
    a, b = krippendorff_alpha(data, level), krippendorff_alpha(shuffled, level)
    assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-12)


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=2, max_size=30))
@settings(max_examples=150, deadline=None)
def test_cohen_symmetric_in_the_raters(pairs):
    """kappa(a, b) = kappa(b, a) for every weighting."""
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    for weights in (None, "linear", "quadratic"):
        x, y = cohen_kappa(a, b, weights=weights), cohen_kappa(b, a, weights=weights)
        assert (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, abs=1e-12)


@given(
    st.lists(st.sampled_from(["lo", "mid", "hi"]), min_size=2, max_size=30).filter(
        lambda xs: len(set(xs)) > 1
    )
)
@settings(max_examples=100, deadline=None)
def test_identical_ratings_with_variation_give_one(labels):
    """Raters who agree on every unit, with at least two categories in use, score exactly 1."""
    order = ["lo", "mid", "hi"]
    for weights in (None, "linear", "quadratic"):
        assert cohen_kappa(labels, labels, weights=weights, categories=order) == pytest.approx(1.0)
    assert fleiss_kappa(fleiss_table([[x, x, x] for x in labels])) == pytest.approx(1.0)
    for level in ("nominal", "ordinal"):
        assert krippendorff_alpha([labels, labels, labels], level, order=order) == pytest.approx(1.0)
    numbers = [order.index(x) + 1 for x in labels]
    for level in ("interval", "ratio"):
        assert krippendorff_alpha([numbers, numbers], level) == pytest.approx(1.0)


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=2, max_size=30))
@settings(max_examples=100, deadline=None)
def test_weighted_kappa_with_two_categories_is_unweighted(pairs):
    """With two categories every disagreement has the same distance, so all weightings coincide."""
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    plain = cohen_kappa(a, b, categories=[False, True])
    for weights in ("linear", "quadratic"):
        w = cohen_kappa(a, b, weights=weights, categories=[False, True])
        assert (math.isnan(plain) and math.isnan(w)) or w == pytest.approx(plain, abs=1e-12)


@given(
    st.integers(2, 5).flatmap(
        lambda m: st.lists(st.lists(st.integers(0, 3), min_size=m, max_size=m), min_size=2, max_size=15)
    )
)
@settings(max_examples=150, deadline=None)
def test_alpha_and_fleiss_agree_on_complete_data(units):
    """With no missing values, nominal alpha = 1 - (1 - kappa_Fleiss)(n - 1)/n for n values in all:
    D_o = 1 - P-bar and D_e = n / (n - 1) (1 - P_e) (algebra on the two definitions)."""
    kappa = fleiss_kappa(fleiss_table(units))
    coders = [list(col) for col in zip(*units, strict=True)]
    alpha = krippendorff_alpha(coders)
    n = sum(len(u) for u in units)
    if math.isnan(kappa):
        assert math.isnan(alpha)
    else:
        assert alpha == pytest.approx(1 - (1 - kappa) * (n - 1) / n, abs=1e-9)
