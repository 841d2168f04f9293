"""The calibration report over Rating rows: hand-computed small cases and published examples.

Published values (sources cited in tests/stats/test_agreement.py):
- Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C (4 observers, 12 units,
  missing values): nominal 0.743, ordinal 0.815, interval 0.849.
- Wikipedia, "Cohen's kappa": 50 applications (20 yes/yes, 15 no/no, 5 and 10 split): kappa 0.4.
- Wikipedia, "Fleiss' kappa", worked example (10 subjects x 14 raters x 5 categories): kappa 0.210.
The other expected numbers are derived by hand in each test's docstring.
"""

from __future__ import annotations

import json
import math

import pytest

from audits.calibration import (
    OVERALL,
    CalibrationReport,
    Rating,
    calibration_report,
    check_agreement,
)
from audits.errors import ConfigError

K2011_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]

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


def rows_for(item, answers, level="nominal", order=None):
    """Rating rows from {rater: [answer per unit u0, u1, ...]}."""
    return [
        Rating(f"u{i}", item, rater, value, level, order)
        for rater, values in answers.items()
        for i, value in enumerate(values)
    ]


def only(report: CalibrationReport, item: str):
    """The report's row for `item`."""
    (row,) = [r for r in report.items if r.item == item]
    return row


def test_two_reviewers_yes_no_by_hand():
    """A: yes yes no no, B: yes no no no.
    percent = 3/4. Cohen: p_o = 3/4, p_e = 1/2 * 1/4 + 1/2 * 3/4 = 1/2, kappa = 1/2.
    Fleiss: p_yes = 3/8, P_e = 9/64 + 25/64 = 17/32, P-bar = 3/4, kappa = (3/4 - 17/32)/(15/32) = 7/15.
    Alpha: o_yy = 2, o_nn = 4, o_yn = o_ny = 1, n = 8, n_y = 3, n_n = 5:
    1 - 7 * 2 / (2 * 15) = 8/15, below 0.67, so the item is flagged on alpha."""
    report = calibration_report(
        rows_for("q1", {"A": ["yes", "yes", "no", "no"], "B": ["yes", "no", "no", "no"]})
    )
    row = only(report, "q1")
    assert (row.n_units, row.n_raters, row.n_ratings) == (4, 2, 8)
    assert row.percent_agreement == pytest.approx(0.75)
    assert row.cohen_kappa == pytest.approx(0.5)
    assert row.fleiss_kappa == pytest.approx(7 / 15)
    assert row.krippendorff_alpha == pytest.approx(8 / 15)
    assert row.flagged and row.flag_statistic == "krippendorff_alpha"
    assert row.reason is None


def test_na_is_missing_and_units_need_two_answers():
    """The same data plus u4 (A "na", B "yes") and u5 (A "no" only): neither unit counts, so every
    statistic is the same as without them; n_units 4, n_ratings 8."""
    rows = rows_for("q1", {"A": ["yes", "yes", "no", "no", "NA"], "B": ["yes", "no", "no", "no", "yes"]})
    rows.append(Rating("u5", "q1", "A", "no"))
    row = only(calibration_report(rows), "q1")
    assert (row.n_units, row.n_ratings) == (4, 8)
    assert row.krippendorff_alpha == pytest.approx(8 / 15)
    assert row.cohen_kappa == pytest.approx(0.5)


def test_threshold_decides_the_flag():
    """Alpha 8/15 = 0.533 is flagged at 0.5333 + 0.001 and not at 0.5."""
    rows = rows_for("q1", {"A": ["yes", "yes", "no", "no"], "B": ["yes", "no", "no", "no"]})
    assert only(calibration_report(rows, threshold=0.535), "q1").flagged
    assert not only(calibration_report(rows, threshold=0.5), "q1").flagged
    with pytest.raises(ConfigError, match="threshold"):
        calibration_report(rows, threshold=1.5)


def test_ordinal_item_with_a_scale_by_hand():
    """Scale poor < fair < good. A: poor fair good, B: poor good good.
    Quadratic Cohen: w = ((i - j)/2)^2; sum w o = 1/4 (fair/good); e = outer([1,1,1], [1,0,2]) / 3,
    sum w e = 2/3 + 1/4 + 1/3 = 5/4; kappa_w = 1 - (1/4)/(5/4) = 0.8.
    Ordinal alpha: n_poor = 2, n_fair = 1, n_good = 3, mid-ranks 1, 2.5, 4.5; delta2 poor-fair 2.25,
    poor-good 12.25, fair-good 4. sum o delta2 = 2 * 4 = 8; sum n_c n_k delta2 = 2 * (2 * 2.25 +
    6 * 12.25 + 3 * 4) = 180; alpha = 1 - 5 * 8 / 180 = 7/9 (not flagged at 0.67).
    Fleiss (nominal): P_e = (4 + 1 + 9)/36, P-bar = 2/3, kappa = 5/11. Percent 2/3."""
    scale = ("poor", "fair", "good")
    rows = rows_for("tone", {"A": ["poor", "fair", "good"], "B": ["poor", "good", "good"]}, "ordinal", scale)
    row = only(calibration_report(rows), "tone")
    assert row.level == "ordinal"
    assert row.cohen_kappa == pytest.approx(0.8)
    assert row.krippendorff_alpha == pytest.approx(7 / 9)
    assert row.fleiss_kappa == pytest.approx(5 / 11)
    assert row.percent_agreement == pytest.approx(2 / 3)
    assert not row.flagged


def test_three_reviewers_uneven_coverage_explains_missing_kappas():
    """A, B, C on u0 (yes yes yes), A, B on u1 (no no), B, C on u2 (yes no): no Cohen (3 raters), no
    Fleiss (2 or 3 answers per unit), alpha by hand: o_yy = 3 + 1... computed as
    u0: o_yy += 6/2 = 3; u1: o_nn += 2; u2: o_yn = o_ny = 1; n_y = 4, n_n = 3, n = 7;
    alpha = 1 - 6 * 2 / (2 * 12) = 0.5. Percent: (3 + 1 + 0) agreeing of (3 + 1 + 1) pairs = 0.8."""
    rows = [
        Rating("u0", "q", "A", "yes"),
        Rating("u0", "q", "B", "yes"),
        Rating("u0", "q", "C", "yes"),
        Rating("u1", "q", "A", "no"),
        Rating("u1", "q", "B", "no"),
        Rating("u2", "q", "B", "yes"),
        Rating("u2", "q", "C", "no"),
    ]
    row = only(calibration_report(rows), "q")
    assert math.isnan(row.cohen_kappa) and math.isnan(row.fleiss_kappa)
    assert row.krippendorff_alpha == pytest.approx(0.5)
    assert row.percent_agreement == pytest.approx(0.8)
    assert "cohen_kappa: needs the same 2 raters on every unit (3 raters)" in row.reason
    assert "fleiss_kappa: needs the same number of answers per unit (2 to 3)" in row.reason
    assert row.flagged


def test_not_computable_items_are_not_flagged_and_say_why():
    """One unit only: every statistic nan, reason "fewer than 2 units"; all "yes": alpha nan with
    "every answer is the same"; neither is flagged."""
    few = only(calibration_report(rows_for("q", {"A": ["yes"], "B": ["no"]})), "q")
    assert math.isnan(few.krippendorff_alpha) and math.isnan(few.cohen_kappa) and math.isnan(few.fleiss_kappa)
    assert not few.flagged and few.flag_statistic is None
    assert "fewer than 2 units" in few.reason
    same = only(calibration_report(rows_for("q", {"A": ["yes"] * 3, "B": ["yes"] * 3})), "q")
    assert math.isnan(same.krippendorff_alpha) and same.percent_agreement == 1.0
    assert not same.flagged
    assert "krippendorff_alpha: every answer is the same" in same.reason


def test_overall_pools_items_as_one_nominal_variable():
    """q1: u0 (yes, yes), u1 (no, no) -> alpha 1. q2: u0 (yes, no), u1 (yes, yes) -> alpha 0
    (n = 4, o_yn = o_ny = 1, n_y = 3, n_n = 1: 1 - 3 * 2 / (2 * 3)).
    Pooled: units (q1,u0) (q1,u1) (q2,u0) (q2,u1); o_yy = 4, o_nn = 2, o_yn = o_ny = 1, n_y = 5, n_n = 3,
    alpha = 1 - 7 * 2 / (2 * 15) = 8/15; Cohen: A yes 3/4, B yes 2/4, p_o 3/4, p_e 1/2, kappa 1/2."""
    rows = rows_for("q1", {"A": ["yes", "no"], "B": ["yes", "no"]}) + rows_for(
        "q2", {"A": ["yes", "yes"], "B": ["no", "yes"]}
    )
    report = calibration_report(rows)
    assert only(report, "q1").krippendorff_alpha == pytest.approx(1.0)
    assert only(report, "q2").krippendorff_alpha == pytest.approx(0.0, abs=1e-12)
    overall = report.overall
    assert overall.item == OVERALL and overall.level == "nominal"
    assert overall.n_units == 4
    assert overall.krippendorff_alpha == pytest.approx(8 / 15)
    assert overall.cohen_kappa == pytest.approx(0.5)
    assert overall.percent_agreement == pytest.approx(0.75)


def test_checks_are_left_out_of_reviewer_calibration_unless_asked():
    """A check answering q1 is not a reviewer: n_raters 2, unless include_checks=True (3)."""
    rows = rows_for("q1", {"A": ["yes", "no"], "B": ["yes", "yes"], "check:pii": ["yes", "no"]})
    assert only(calibration_report(rows), "q1").n_raters == 2
    assert only(calibration_report(rows, include_checks=True), "q1").n_raters == 3


def test_check_agreement_by_hand():
    """check: yes yes no; A: yes no no; B: yes yes na. Pairs (check, human): u0 (y,y) (y,y),
    u1 (y,n) (y,y), u2 (n,n): 5 pairs, 4 agree -> 0.8. Cohen over the pairs: check yes 4/5, human
    yes 3/5; p_e = 12/25 + 2/25 = 14/25; kappa = (4/5 - 14/25)/(11/25) = 6/11, flagged below 0.67.
    q2 is answered by humans only and is left out."""
    rows = rows_for(
        "q1",
        {"check:ai_disclosure": ["yes", "yes", "no"], "A": ["yes", "no", "no"], "B": ["yes", "yes", "na"]},
    )
    rows += rows_for("q2", {"A": ["yes", "no"], "B": ["yes", "no"]})
    (result,) = check_agreement(rows)
    assert (result.item, result.check) == ("q1", "check:ai_disclosure")
    assert (result.n_units, result.n_pairs, result.n_humans) == (3, 5, 2)
    assert result.percent_agreement == pytest.approx(0.8)
    assert result.cohen_kappa == pytest.approx(6 / 11)
    assert result.flagged and result.reason is None


def test_check_agreement_not_computable():
    """A check that always agrees on one answer ("yes" everywhere): kappa nan, reason given."""
    rows = rows_for("q1", {"check:x": ["yes", "yes"], "A": ["yes", "yes"]})
    (result,) = check_agreement(rows)
    assert math.isnan(result.cohen_kappa) and result.percent_agreement == 1.0
    assert not result.flagged and result.reason == "every paired answer is the same"


def test_to_dict_is_json_safe():
    """nan statistics become None and numbers are plain floats and bools, so
    json.dumps(..., allow_nan=False) accepts the report."""
    report = calibration_report(rows_for("q", {"A": ["yes"], "B": ["no"]}))
    data = report.to_dict()
    assert data["items"][0]["krippendorff_alpha"] is None
    assert data["overall"]["cohen_kappa"] is None
    json.dumps(data, allow_nan=False)
    flagged = calibration_report(
        rows_for("q1", {"A": ["yes", "yes", "no", "no"], "B": ["yes", "no", "no", "no"]})
    )
    row = only(flagged, "q1")
    assert type(row.flagged) is bool and type(row.krippendorff_alpha) is float
    json.dumps(flagged.to_dict(), allow_nan=False)
    checks = check_agreement(rows_for("q", {"check:x": ["yes"], "A": ["no"]}))
    json.dumps([c.to_dict() for c in checks], allow_nan=False)


def test_krippendorff_2011_example_through_rows():
    """Krippendorff (2011) example C as Rating rows ("1".."5" strings, None missing): nominal 0.743,
    ordinal 0.815 (numeric answers, no scale needed), interval 0.849; with the answers renamed and a
    scale given, ordinal is still 0.815."""
    answers = {f"obs{i}": [None if v is None else str(v) for v in row] for i, row in enumerate(K2011_C)}
    for level, expected in (("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)):
        row = only(calibration_report(rows_for("item", answers, level)), "item")
        assert round(row.krippendorff_alpha, 3) == expected
        assert row.n_units == 11 and row.n_raters == 4
    names = {"1": "e", "2": "d", "3": "c", "4": "b", "5": "a"}
    renamed = {r: [None if v is None else names[v] for v in vs] for r, vs in answers.items()}
    row = only(calibration_report(rows_for("item", renamed, "ordinal", ("e", "d", "c", "b", "a"))), "item")
    assert round(row.krippendorff_alpha, 3) == 0.815


def test_cohen_wikipedia_example_through_rows():
    """Wikipedia "Cohen's kappa": 50 applications, kappa 0.4, percent agreement 0.7."""
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    row = only(calibration_report(rows_for("grant", {"A": a, "B": b})), "grant")
    assert row.cohen_kappa == pytest.approx(0.4)
    assert row.percent_agreement == pytest.approx(0.7)


def test_fleiss_wikipedia_example_through_rows():
    """Wikipedia "Fleiss' kappa": 10 subjects, 14 raters each, kappa 0.210; not the same 14 people on
    every subject here (raters r{subject}-{k}), which Fleiss' kappa allows and Cohen's does not."""
    rows = [
        Rating(f"s{i}", "dx", f"r{i}-{k}", f"c{j}")
        for i, counts in enumerate(WP_FLEISS)
        for k, j in enumerate(j for j, c in enumerate(counts) for _ in range(c))
    ]
    row = only(calibration_report(rows), "dx")
    assert round(row.fleiss_kappa, 3) == 0.210
    assert math.isnan(row.cohen_kappa)
    assert row.n_units == 10 and row.n_ratings == 140


def test_bad_rows_raise_with_item_unit_and_rater():
    """Duplicates, conflicting levels, answers off the scale, non-numbers, unknown levels."""
    dup = [Rating("u1", "q", "A", "yes"), Rating("u1", "q", "A", "no")]
    with pytest.raises(
        ConfigError, match="item 'q', unit 'u1', rater 'A': the rater answered this item twice"
    ):
        calibration_report(dup)
    mixed = [Rating("u1", "q", "A", "1", "ordinal"), Rating("u2", "q", "A", "yes", "nominal")]
    with pytest.raises(ConfigError, match="differs from the item's"):
        calibration_report(mixed)
    off = [Rating("u1", "q", "A", "great", "ordinal", ("poor", "good"))]
    with pytest.raises(ConfigError, match="'great' is not on the scale"):
        calibration_report(off)
    text = [Rating("u1", "q", "A", "good", "interval")]
    with pytest.raises(ValueError, match="interval answer 'good' is not a number"):
        calibration_report(text)
    unknown = [Rating("u1", "q", "A", "1", "ratio")]
    with pytest.raises(ConfigError, match="level must be one of nominal, ordinal, interval"):
        check_agreement(unknown)
