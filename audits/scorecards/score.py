"""The scoring rule: a reviewer's answers on a scorecard -> a score in 0..1 and a pass or a fail.

Answers map every item id to a value of the item's scale, or to "na" where the item allows it.

1. Weighted mean, N/A rescaled: score = sum(w_i * p_i) / sum(w_i) over the items not answered "na"
   (w_i the item's weight, p_i the points of its answer). N/A items leave both sums.
2. Section fail: a FAIL (an answer among the scale's `fail` values) of a `section_fail` item makes its
   section score 0: every answered item of that section counts with 0 points (its weight stays in
   the denominator; its N/A items stay out).
3. Critical: a FAIL of a `critical` item makes the score 0 and fails the conversation.
4. passed = no critical item failed and score >= the scorecard's pass_mark.
5. Every item must be answered; a missing item, an unknown item id, a value not in the item's scale,
   or "na" on an item without na_allowed is a ConfigError naming the items and values.
6. Every item N/A: the score is undefined and `score` raises ConfigError. A conversation the
   scorecard does not apply to should not be scored on it (nor counted as a pass).

The arithmetic is exact: weights, points and the pass mark are taken as the decimals they print as
(Fraction(repr(x))), so 4 of 5 equal items at pass_mark 0.8 pass, with no float rounding at the mark.
`failed_items` lists every item answered with a fail value, whatever its flags.

`prefill` turns automated check outcomes (pass / fail / na) into answers for items with `check:`:
pass enters the scale's first value, fail its first fail value, na enters "na" where allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from audits.errors import ConfigError
from audits.scorecards.model import NA, Scorecard

CHECK_OUTCOMES: tuple[str, ...] = ("pass", "fail", "na")


@dataclass(frozen=True)
class ScoreResult:
    """A scored conversation: the score (0..1), the verdict and the items behind it (in scorecard order)."""

    score: float
    passed: bool
    failed_items: tuple[str, ...]
    """Items answered with a fail value of their scale."""
    failed_critical: tuple[str, ...]
    """Critical items that failed (any one zeroes the score)."""
    failed_sections: tuple[str, ...]
    """Sections zeroed by a failed section_fail item."""
    na_items: tuple[str, ...]
    """Items answered "na" (left out of the score)."""


def _exact(x: float) -> Fraction:
    return Fraction(repr(float(x)))


def _validated(card: Scorecard, answers: Mapping[str, str]) -> dict[str, str]:
    """The answers as strings, after refusing unknown ids, missing items and values off the scale."""
    known = {item.id for item in card.items}
    unknown = [f"{k!r} (answered {v!r})" for k, v in answers.items() if k not in known]
    if unknown:
        raise ConfigError(f"scorecard {card.label} has no item {', '.join(unknown)}")
    missing = [item.id for item in card.items if item.id not in answers]
    if missing:
        raise ConfigError(f"scorecard {card.label}: items not answered: {', '.join(missing)}")
    out: dict[str, str] = {}
    for item in card.items:
        raw = answers[item.id]
        value = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
        if value == NA and not item.na_allowed:
            raise ConfigError(f"scorecard {card.label}: item {item.id!r} may not be answered 'na'")
        if value != NA and value not in item.scale.values:
            allowed = list(item.scale.values) + ([NA] if item.na_allowed else [])
            raise ConfigError(
                f"scorecard {card.label}: item {item.id!r}: {raw!r} is not a value of scale "
                f"{item.scale.name!r}; expected one of {', '.join(allowed)}"
            )
        out[item.id] = value
    return out


def score(scorecard: Scorecard, answers: Mapping[str, str]) -> ScoreResult:
    """Score one conversation's answers on `scorecard` by the rule in this module's docstring."""
    given = _validated(scorecard, answers)
    failed = [i.id for i in scorecard.items if given[i.id] in i.scale.fail]
    critical = [i.id for i in scorecard.items if i.critical and i.id in failed]
    zeroed = [s.id for s in scorecard.sections if any(i.section_fail and i.id in failed for i in s.items)]
    na_items = [i.id for i in scorecard.items if given[i.id] == NA]
    if len(na_items) == len(scorecard.items):
        raise ConfigError(
            f"scorecard {scorecard.label}: every item is answered 'na', so the score is undefined; "
            "do not score a conversation the scorecard does not apply to"
        )
    earned = total = Fraction(0)
    for section in scorecard.sections:
        for item in section.items:
            value = given[item.id]
            if value == NA:
                continue
            weight = _exact(item.weight)
            total += weight
            if section.id not in zeroed:
                earned += weight * _exact(item.scale.points_of(value))
    result = Fraction(0) if critical else earned / total
    return ScoreResult(
        score=float(result),
        passed=not critical and result >= _exact(scorecard.pass_mark),
        failed_items=tuple(failed),
        failed_critical=tuple(critical),
        failed_sections=tuple(zeroed),
        na_items=tuple(na_items),
    )


def prefill(scorecard: Scorecard, outcomes: Mapping[str, str]) -> dict[str, str]:
    """Answers pre-filled from check outcomes {check id: pass|fail|na} for the items that name a check."""
    answers: dict[str, str] = {}
    for item in scorecard.items:
        if item.check is None or item.check not in outcomes:
            continue
        outcome = outcomes[item.check]
        if outcome not in CHECK_OUTCOMES:
            raise ConfigError(
                f"check {item.check!r}: outcome {outcome!r} is not one of {', '.join(CHECK_OUTCOMES)}"
            )
        if outcome == "pass":
            answers[item.id] = item.scale.values[0]
        elif outcome == "fail":
            answers[item.id] = item.scale.fail[0]
        elif item.na_allowed:
            answers[item.id] = NA
    return answers
