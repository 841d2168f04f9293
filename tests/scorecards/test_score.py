"""The scoring rule, clause by clause, against scores computed by hand.

The test card (conftest.BASE) has weights a=1, b=2 (1-5, N/A allowed) | c=1 (section_fail),
d=3 (good/ok/bad = 1/0.5/0), f=2 | e=1 (critical): 10 in all; pass_mark 0.8.
"""

from __future__ import annotations

from typing import Any

import pytest

from audits.errors import ConfigError
from audits.scorecards import ScoreResult, prefill, score
from tests.scorecards.conftest import make_card

CARD = make_card()
BEST = {"a": "yes", "b": "5", "c": "yes", "d": "good", "f": "yes", "e": "yes"}


def answers(**changes: Any) -> dict[str, Any]:
    """The all-best answers with `changes` applied (a value of ... drops the item)."""
    out: dict[str, Any] = dict(BEST)
    for key, value in changes.items():
        if value is ...:
            out.pop(key)
        else:
            out[key] = value
    return out


def test_all_best_answers_score_one_and_pass() -> None:
    assert score(CARD, BEST) == ScoreResult(1.0, True, (), (), (), ())


def test_weighted_mean_of_points() -> None:
    """a no (0) b 4 (0.75) c yes d ok (0.5) f yes e yes: (0 + 2*0.75 + 1 + 3*0.5 + 2 + 1) / 10 = 0.7."""
    result = score(CARD, answers(a="no", b="4", d="ok"))
    assert result.score == pytest.approx(0.7, abs=1e-15)
    assert result.passed is False  # 0.7 < 0.8
    assert result.failed_items == ("a",)
    assert result.failed_critical == () and result.failed_sections == () and result.na_items == ()


def test_na_items_leave_both_sums() -> None:
    """b and f N/A: (1 + 1 + 3*0.5 + 1) / (1 + 1 + 3 + 1) = 4.5 / 6 = 0.75 (not 4.5/10 nor 8.5/10)."""
    result = score(CARD, answers(b="na", f="na", d="ok"))
    assert result.score == 0.75
    assert result.na_items == ("b", "f")
    assert result.failed_items == ()


def test_section_fail_zeroes_the_answered_items_of_its_section() -> None:
    """c fails: s2 counts 0 for c and d, f is N/A and stays out: (1 + 2*1 + 0 + 0 + 1) / (1+2+1+3+1) = 0.5."""
    result = score(CARD, answers(c="no", f="na"))
    assert result.score == 0.5
    assert result.failed_sections == ("s2",)
    assert result.failed_items == ("c",)
    assert result.passed is False


def test_section_fail_item_answered_na_zeroes_nothing() -> None:
    """c N/A: (1 + 2 + 3 + 2 + 1) / 9 = 1."""
    result = score(CARD, answers(c="na"))
    assert result.score == 1.0 and result.failed_sections == () and result.passed


def test_a_fail_that_is_not_section_fail_zeroes_only_itself() -> None:
    """d bad (a fail of a plain item): (1 + 2 + 1 + 0 + 2 + 1) / 10 = 0.7, and s2 is not zeroed."""
    result = score(CARD, answers(d="bad"))
    assert result.score == pytest.approx(0.7, abs=1e-15)
    assert result.failed_items == ("d",) and result.failed_sections == ()


def test_critical_fail_zeroes_the_score_and_fails() -> None:
    result = score(CARD, answers(e="no"))
    assert result.score == 0.0
    assert result.passed is False
    assert result.failed_critical == ("e",) and result.failed_items == ("e",)


def test_critical_fail_with_a_section_fail_reports_both() -> None:
    result = score(CARD, answers(e="no", c="no", b="1"))
    assert result.score == 0.0 and not result.passed
    assert result.failed_items == ("b", "c", "e")  # in scorecard order; b = "1" is a fail of 1-5
    assert result.failed_critical == ("e",) and result.failed_sections == ("s2",)


def test_a_score_at_the_pass_mark_passes() -> None:
    """f no: (1 + 2 + 1 + 3 + 0 + 1) / 10 = 0.8 = pass_mark."""
    result = score(CARD, answers(f="no"))
    assert result.score == 0.8 and result.passed is True


def test_a_score_just_under_the_pass_mark_fails() -> None:
    """b 4 and f no: (1 + 2*0.75 + 1 + 3 + 0 + 1) / 10 = 0.75 < 0.8."""
    assert score(CARD, answers(b="4", f="no")).score == 0.75
    assert score(CARD, answers(b="4", f="no")).passed is False


def test_pass_mark_compared_exactly_not_in_floats() -> None:
    """Weights 0.6 and 0.15, the first yes: 0.6 / 0.75 = 0.8 exactly, although 0.6 / (0.6 + 0.15) is
    0.7999999999999999 in binary floating point; it must pass a pass mark of 0.8."""
    assert 0.6 / (0.6 + 0.15) < 0.8  # the trap this guards against
    card = make_card(
        sections=[
            {
                "id": "s",
                "title": "S",
                "items": [
                    {"id": "x", "question": "X?", "weight": 0.6, "guidance": "x"},
                    {"id": "y", "question": "Y?", "weight": 0.15, "guidance": "y"},
                ],
            }
        ]
    )
    result = score(card, {"x": "yes", "y": "no"})
    assert result.score == 0.8 and result.passed is True


def test_pass_mark_zero_passes_anything_without_a_critical_fail() -> None:
    """Everything failed but e: (0 + 2*0 + 0 + 0 + 0 + 1) / 10 = 0.1, a pass at pass_mark 0."""
    card = make_card(pass_mark=0)
    low = score(card, answers(a="no", b="1", c="no", d="bad", f="no"))
    assert low.score == 0.1 and low.passed is True
    assert score(card, answers(e="no")).passed is False


def test_every_item_na_is_an_error() -> None:
    """The score is undefined (0/0): refused rather than counted as a pass or a fail."""
    card = make_card(
        sections=[
            {
                "id": "s",
                "title": "S",
                "items": [{"id": "x", "question": "X?", "na_allowed": True, "guidance": "x"}],
            }
        ]
    )
    with pytest.raises(ConfigError, match="every item is answered 'na', so the score is undefined"):
        score(card, {"x": "na"})


def test_missing_answers_are_named() -> None:
    with pytest.raises(ConfigError, match="items not answered: b, e"):
        score(CARD, answers(b=..., e=...))


def test_unknown_item_is_named_with_its_value() -> None:
    with pytest.raises(ConfigError, match=r"has no item 'zz' \(answered 'yes'\)"):
        score(CARD, answers(zz="yes"))


def test_value_off_the_scale_is_named_with_its_item() -> None:
    with pytest.raises(
        ConfigError, match=r"item 'd': 'great' is not a value of scale 'grade'; expected one of good, ok, bad"
    ):
        score(CARD, answers(d="great"))
    with pytest.raises(
        ConfigError, match=r"item 'b': '6' is not a value of scale '1-5'; expected one of 1, 2, 3, 4, 5, na"
    ):
        score(CARD, answers(b="6"))


def test_na_where_not_allowed_is_an_error() -> None:
    with pytest.raises(ConfigError, match="item 'a' may not be answered 'na'"):
        score(CARD, answers(a="na"))


def test_integer_answers_are_read_as_their_digits() -> None:
    assert score(CARD, answers(b=4)) == score(CARD, answers(b="4"))


def test_prefill_maps_check_outcomes_to_scale_values() -> None:
    """Pass enters the first value, fail the first fail value, na enters "na" only where allowed."""
    card = make_card()
    assert prefill(card, {"ai_disclosure": "pass"}) == {"e": "yes"}
    assert prefill(card, {"ai_disclosure": "fail"}) == {"e": "no"}
    assert prefill(card, {"ai_disclosure": "na"}) == {"e": "na"}
    assert prefill(card, {"bot_loop": "fail"}) == {}
    strict = make_card(
        sections=[
            {
                "id": "s",
                "title": "S",
                "items": [{"id": "x", "question": "X?", "guidance": "x", "check": "pii_echo"}],
            }
        ]
    )
    assert prefill(strict, {"pii_echo": "na"}) == {}
    with pytest.raises(ConfigError, match="outcome 'maybe'"):
        prefill(card, {"ai_disclosure": "maybe"})
