"""Checking a reviewer's answers against the scorecard version a conversation is pinned to.

Values are matched to the item's scale without regard to case or surrounding spaces and stored in
the scale's own spelling; "na" is accepted only where the item allows it. Every scorecard item needs
an answer; the score itself (weights, critical items, section fails, N/A rescaling) is the
scorecard module's `score()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

from audits.errors import ConfigError
from audits.scorecards import NA, get_scorecard, score


def allowed_values(item: Any) -> tuple[str, ...]:
    """The values an item accepts: its scale's values, then "na" when the item allows it."""
    values = tuple(str(v) for v in item.scale.values)
    return values + ((NA,) if item.na_allowed and NA not in values else ())


def normalize_value(item: Any, raw: Any) -> str | None:
    """The scale's spelling of `raw` (case and spaces ignored), or None when the item does not accept it."""
    text = str(raw).strip().lower()
    for value in allowed_values(item):
        if value.lower() == text:
            return value
    return None


def check_answers(
    scorecard: Any, answers: Mapping[str, Any], comments: Mapping[str, Any] | None, where: str
) -> tuple[dict[str, str], dict[str, str], Any]:
    """Normalised answers and comments and the ScoreResult; ConfigError naming `where` and every problem."""
    if not isinstance(answers, Mapping):
        raise ConfigError(f"{where}: answers must be a mapping of item id to value, got {answers!r}")
    items = {i.id: i for i in scorecard.items}
    problems = []
    normal: dict[str, str] = {}
    for key, raw in answers.items():
        item = items.get(key)
        if item is None:
            problems.append(f"item {key!r} is not in scorecard {scorecard.id} v{scorecard.version}")
            continue
        value = normalize_value(item, raw)
        if value is None:
            problems.append(
                f"item {key!r}: {raw!r} is not allowed; expected one of {', '.join(allowed_values(item))}"
            )
        else:
            normal[key] = value
    missing = [k for k in items if k not in answers]
    if missing:
        problems.append(f"no answer for item(s) {', '.join(missing)}")
    notes: dict[str, str] = {}
    for key, text in (comments or {}).items():
        if key not in items:
            problems.append(
                f"comment on item {key!r}, which is not in scorecard {scorecard.id} v{scorecard.version}"
            )
        elif text is not None and str(text).strip():
            notes[key] = str(text).strip()
    if problems:
        raise ConfigError(f"{where}: " + "; ".join(problems))
    ordered = {k: normal[k] for k in items}
    try:
        result = score(scorecard, ordered)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return ordered, notes, result


def pinned_scorecard(
    con: duckdb.DuckDBPyConnection,
    scorecard_id: str,
    version: str,
    cache: dict[tuple[str, str], Any] | None = None,
) -> Any:
    """The registered scorecard version an assignment is pinned to (ConfigError when it is not registered)."""
    key = (scorecard_id, str(version))
    if cache is None:
        return get_scorecard(con, *key)
    if key not in cache:
        cache[key] = get_scorecard(con, *key)
    return cache[key]
