"""Reviewer calibration: how well reviewers, and automated checks, agree on each scorecard item.

Input is one `Rating` per (conversation, item, rater): the answer a reviewer, or an automated check
(rater "check:<check_id>"), gave to a scorecard item. Answers "na" / "n/a" / "" and None are missing:
an N/A is not a rating on the item's scale, so it is left out of every statistic.

`calibration_report(rows)` gives one `ItemAgreement` per item over the human reviewers:
- n_units: conversations with >= 2 answers (only those can show agreement), n_raters, n_ratings;
- percent agreement: share of agreeing pairs of answers on the same conversation;
- Cohen's kappa when the counted conversations were all rated by the same two reviewers (quadratic
  weights for ordinal and interval items, on the positions of the answers on the scale);
- Fleiss' kappa when every counted conversation has the same number (>= 2) of answers;
- Krippendorff's alpha at the item's level (missing answers and any number of reviewers allowed);
- flagged when alpha (or, if alpha is not computable, kappa) is below `threshold`. The default 0.67
  is the lowest value Krippendorff (2004, Content Analysis, 2nd ed., p. 241) accepts for drawing
  even tentative conclusions; 0.80 is his level for relying on the data. An item whose statistics are
  not computable (fewer than 2 conversations, or every answer identical) is not flagged; `reason`
  says why each missing statistic could not be computed.
- An `overall` row pools every item into one nominal variable: each (item, conversation) is a unit
  and each answer string a category. It answers "do reviewers give the same answers, beyond chance,
  across the scorecard", ignores ordinal distances, and weighs items by how many conversations they
  have; read it as a summary, and act on the per-item rows.

`check_agreement(rows)` compares each automated check with the humans on the items it pre-fills: the
check's answer is paired with every human answer on the same conversation, and Cohen's kappa and
percent agreement are computed over those pairs (a conversation with two reviewers gives two pairs).
Check answers must already be on the item's scale ("yes"/"no", ...), as the pre-fill writes them.

Statistics come from `audits.stats` (agreement, krippendorff); `to_dict()` turns nan into None.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from audits.stats.agreement import AgreementError, cohen_kappa, fleiss_kappa, fleiss_table
from audits.stats.krippendorff import krippendorff_alpha_long, percent_agreement_long

ItemLevel = Literal["nominal", "ordinal", "interval"]
ITEM_LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval")
MISSING_ANSWERS = frozenset({"", "na", "n/a"})
CHECK_PREFIX = "check:"
DEFAULT_THRESHOLD = 0.67
OVERALL = "overall"


@dataclass(frozen=True)
class Rating:
    """One answer: `rater` (a reviewer id, or "check:<id>") answered `item` for conversation `unit`."""

    unit: str
    item: str
    rater: str
    value: str | None
    level: ItemLevel = "nominal"
    order: tuple[str, ...] | None = None
    """The scale's answers from lowest to highest; needed for ordinal items whose answers are not numbers."""

    @property
    def is_check(self) -> bool:
        """True when an automated check gave this answer."""
        return self.rater.startswith(CHECK_PREFIX)


def _json_safe(record: dict[str, Any]) -> dict[str, Any]:
    """The record with nan floats replaced by None."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in record.items()}


@dataclass(frozen=True)
class ItemAgreement:
    """Agreement among reviewers on one item; nan marks a statistic that is not computable."""

    item: str
    level: str
    n_units: int
    n_raters: int
    n_ratings: int
    percent_agreement: float
    cohen_kappa: float
    fleiss_kappa: float
    krippendorff_alpha: float
    flagged: bool
    flag_statistic: str | None
    """Which statistic the flag was decided on ("krippendorff_alpha", ...), None if none computable."""
    reason: str | None
    """Why the statistics that are nan could not be computed, None when all were."""

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-safe dict (nan becomes None)."""
        return _json_safe(asdict(self))


@dataclass(frozen=True)
class CalibrationReport:
    """Per-item agreement (sorted by item id), the pooled `overall` row and the flag threshold."""

    items: tuple[ItemAgreement, ...]
    overall: ItemAgreement
    threshold: float

    def to_dict(self) -> dict[str, Any]:
        """{"threshold", "items": [...], "overall": {...}}, JSON-safe."""
        return {
            "threshold": self.threshold,
            "items": [row.to_dict() for row in self.items],
            "overall": self.overall.to_dict(),
        }


@dataclass(frozen=True)
class CheckAgreement:
    """Agreement between one automated check and the human reviewers on one item."""

    item: str
    check: str
    n_units: int
    n_pairs: int
    n_humans: int
    percent_agreement: float
    cohen_kappa: float
    flagged: bool
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-safe dict (nan becomes None)."""
        return _json_safe(asdict(self))


@dataclass
class _Item:
    """One item's scale and its present answers, unit -> rater -> value (converted for its level)."""

    level: str
    order: tuple[str, ...] | None
    answers: dict[str, dict[str, Hashable]]


def _where(row: Rating) -> str:
    """ "item 'x', unit 'u', rater 'r'" for error messages."""
    return f"item {row.item!r}, unit {row.unit!r}, rater {row.rater!r}"


def _convert(row: Rating, value: str) -> Hashable:
    """The answer as the item's level needs it: a label, a scale label, or a number."""
    if row.level == "nominal" or (row.level == "ordinal" and row.order is not None):
        if row.level == "ordinal" and value not in row.order:  # type: ignore[operator]
            raise AgreementError(f"{_where(row)}: answer {value!r} is not on the scale {row.order!r}")
        return value
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        hint = " (give the item an order= for non-numeric ordinal answers)" if row.level == "ordinal" else ""
        raise AgreementError(f"{_where(row)}: {row.level} answer {value!r} is not a number{hint}")
    return number


def _collect(rows: Iterable[Rating], *, checks: bool | None) -> dict[str, _Item]:
    """Group present answers by item, checking levels, scales and duplicates.

    `checks`: True keeps only check raters, False only humans, None both.
    """
    items: dict[str, _Item] = {}
    for row in rows:
        if row.level not in ITEM_LEVELS:
            raise AgreementError(
                f"{_where(row)}: level must be one of {', '.join(ITEM_LEVELS)}, got {row.level!r}"
            )
        order = tuple(row.order) if row.order is not None else None
        item = items.setdefault(row.item, _Item(row.level, order, {}))
        if (item.level, item.order) != (row.level, order):
            raise AgreementError(
                f"{_where(row)}: level/order {row.level!r}/{order!r} differs from the item's "
                f"{item.level!r}/{item.order!r} in earlier rows"
            )
        if checks is not None and row.is_check != checks:
            continue
        raters = item.answers.setdefault(row.unit, {})
        if row.rater in raters:
            raise AgreementError(f"{_where(row)}: the rater answered this item twice for this unit")
        if row.value is None or row.value.strip().lower() in MISSING_ANSWERS:
            raters[row.rater] = None
            continue
        raters[row.rater] = _convert(row, row.value)
    for item in items.values():
        item.answers = {
            unit: {r: v for r, v in raters.items() if v is not None} for unit, raters in item.answers.items()
        }
    return items


def _weights(level: str) -> Literal["quadratic"] | None:
    """Quadratic weights for ordered scales, none for nominal."""
    return None if level == "nominal" else "quadratic"


def _item_agreement(name: str, item: _Item, threshold: float) -> ItemAgreement:
    """The statistics for one item's answers (or the pooled overall variable)."""
    counted = {unit: raters for unit, raters in item.answers.items() if len(raters) >= 2}
    raters = sorted({r for answers in counted.values() for r in answers})
    units = [unit for unit, answers in counted.items() for _ in answers]
    values = [v for answers in counted.values() for v in answers.values()]
    order = item.order if item.level == "ordinal" else None
    percent = percent_agreement_long(units, values)
    alpha = krippendorff_alpha_long(units, values, item.level, order=order)  # type: ignore[arg-type]
    sizes = sorted({len(answers) for answers in counted.values()})
    reasons: list[str] = []
    if len(counted) < 2:
        reasons.append(f"fewer than 2 units with 2 or more answers ({len(counted)})")
    no_variation = "every answer is the same"

    cohen = math.nan
    if len(raters) == 2:
        a = [answers[raters[0]] for answers in counted.values()]
        b = [answers[raters[1]] for answers in counted.values()]
        cohen = cohen_kappa(a, b, weights=_weights(item.level), categories=order)
    if math.isnan(cohen) and len(counted) >= 2:
        why = (
            no_variation
            if len(raters) == 2
            else f"needs the same 2 raters on every unit ({len(raters)} raters)"
        )
        reasons.append(f"cohen_kappa: {why}")

    fleiss = math.nan
    if len(sizes) == 1:
        fleiss = fleiss_kappa(fleiss_table([list(answers.values()) for answers in counted.values()]))
    if math.isnan(fleiss) and len(counted) >= 2:
        why = (
            no_variation
            if len(sizes) == 1
            else f"needs the same number of answers per unit ({sizes[0]} to {sizes[-1]})"
        )
        reasons.append(f"fleiss_kappa: {why}")
    if math.isnan(alpha) and len(counted) >= 2:
        reasons.append(f"krippendorff_alpha: {no_variation}")

    basis = next(
        (
            (label, value)
            for label, value in (
                ("krippendorff_alpha", alpha),
                ("cohen_kappa", cohen),
                ("fleiss_kappa", fleiss),
            )
            if not math.isnan(value)
        ),
        None,
    )
    return ItemAgreement(
        item=name,
        level=item.level,
        n_units=len(counted),
        n_raters=len(raters),
        n_ratings=len(values),
        percent_agreement=percent,
        cohen_kappa=cohen,
        fleiss_kappa=fleiss,
        krippendorff_alpha=alpha,
        flagged=bool(basis is not None and basis[1] < threshold),
        flag_statistic=basis[0] if basis else None,
        reason="; ".join(reasons) or None,
    )


def _check_threshold(threshold: float) -> None:
    """Raise unless the threshold is a number in [-1, 1], the range of alpha and kappa."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not -1 <= threshold <= 1:
        raise AgreementError(f"threshold must be a number between -1 and 1, got {threshold!r}")


def calibration_report(
    rows: Iterable[Rating], *, threshold: float = DEFAULT_THRESHOLD, include_checks: bool = False
) -> CalibrationReport:
    """Reviewer agreement per item and overall; automated checks count as raters only if `include_checks`."""
    _check_threshold(threshold)
    items = _collect(rows, checks=None if include_checks else False)
    per_item = tuple(_item_agreement(name, items[name], threshold) for name in sorted(items))
    pooled = _Item("nominal", None, {})
    for name, item in items.items():
        for unit, answers in item.answers.items():
            pooled.answers[f"{name}\x1f{unit}"] = {r: str(v) for r, v in answers.items()}
    return CalibrationReport(per_item, _item_agreement(OVERALL, pooled, threshold), threshold)


def _check_vs_humans(name: str, item: _Item, check: str, threshold: float) -> CheckAgreement:
    """Cohen's kappa and percent agreement over (check answer, human answer) pairs on one item."""
    pairs = [
        (unit, human, answers[check], value)
        for unit, answers in item.answers.items()
        if check in answers
        for human, value in answers.items()
        if not human.startswith(CHECK_PREFIX)
    ]
    left = [p[2] for p in pairs]
    right = [p[3] for p in pairs]
    order = item.order if item.level == "ordinal" else None
    kappa = cohen_kappa(left, right, weights=_weights(item.level), categories=order)
    agree = sum(x == y for x, y in zip(left, right, strict=True)) / len(pairs) if pairs else math.nan
    reason = None
    if math.isnan(kappa):
        reason = "fewer than 2 paired answers" if len(pairs) < 2 else "every paired answer is the same"
    return CheckAgreement(
        item=name,
        check=check,
        n_units=len({p[0] for p in pairs}),
        n_pairs=len(pairs),
        n_humans=len({p[1] for p in pairs}),
        percent_agreement=agree,
        cohen_kappa=kappa,
        flagged=bool(not math.isnan(kappa) and kappa < threshold),
        reason=reason,
    )


def check_agreement(rows: Iterable[Rating], *, threshold: float = DEFAULT_THRESHOLD) -> list[CheckAgreement]:
    """Agreement of each automated check with the human answers on every item it answered.

    Items answered only by humans or only by checks are left out; results are sorted by item, then
    check. `flagged` when kappa < threshold.
    """
    _check_threshold(threshold)
    results = []
    for name, item in sorted(_collect(rows, checks=None).items()):
        raters = {r for answers in item.answers.values() for r in answers}
        checks = sorted(r for r in raters if r.startswith(CHECK_PREFIX))
        if len(checks) < len(raters):
            results += [_check_vs_humans(name, item, check, threshold) for check in checks]
    return results
