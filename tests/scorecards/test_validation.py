"""Scorecard YAML validation: every error names the file and the key path; YAML itself is read strictly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from audits.errors import ConfigError
from audits.scorecards import load_scorecard
from tests.scorecards.conftest import card_dict, write

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def set_path(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set (or, with ..., delete) the value at a key path such as sections[1].items[2].weight."""
    steps: list[str | int] = [m[1] if m[1] is not None else int(m[2]) for m in _STEP.finditer(path)]
    node: Any = data
    for step in steps[:-1]:
        node = node[step]
    if value is ...:
        del node[steps[-1]]
    else:
        node[steps[-1]] = value
    return data


# (key path to change, new value (... deletes), key path the error names, what the message says)
BAD: list[tuple[str, Any, str, str]] = [
    ("sections[1].items[2].weight", -1, "sections[1].items[2].weight", "must be a number > 0, got -1"),
    ("sections[1].items[2].weight", 0, "sections[1].items[2].weight", "must be a number > 0, got 0"),
    ("sections[0].items[0].weight", "heavy", "sections[0].items[0].weight", "must be a number > 0"),
    ("sections[0].items[0].weight", True, "sections[0].items[0].weight", "must be a number > 0, got True"),
    ("sections[0].items[0].colour", "red", "sections[0].items[0].colour", "unknown key"),
    ("owner", "qa-team", "owner", "unknown key"),
    ("scales.grade.colour", "red", "scales.grade.colour", "unknown key"),
    ("applies_to.markets", ["SG"], "applies_to.markets", "unknown key"),
    ("id", ..., "id", "is required"),
    ("pass_mark", ..., "pass_mark", "is required"),
    ("applies_to.handlers", ..., "applies_to.handlers", "is required"),
    ("sections[0].items[1].question", ..., "sections[0].items[1].question", "is required"),
    ("sections[1].items[0].guidance", ..., "sections[1].items[0].guidance", "is required"),
    ("sections[0].items[0].guidance", "  ", "sections[0].items[0].guidance", "must be a non-empty string"),
    ("sections[1].title", ..., "sections[1].title", "is required"),
    ("id", "test card", "id", "must be an id of letters, digits"),
    ("sections[0].items[0].id", 7, "sections[0].items[0].id", "must be an id"),
    ("version", 2026.1, "version", "quote it"),
    ("version", "v2", "version", "dot-separated integers"),
    ("version", True, "version", "dot-separated integers"),
    ("applies_to.channels", ["chat", "fax"], "applies_to.channels[1]", "unknown value 'fax'"),
    ("applies_to.handlers", ["robot"], "applies_to.handlers[0]", "unknown value 'robot'"),
    ("applies_to.channels", [], "applies_to.channels", "non-empty list"),
    ("pass_mark", 1.5, "pass_mark", "0 <= pass_mark <= 1"),
    ("pass_mark", "high", "pass_mark", "0 <= pass_mark <= 1"),
    ("scales.grade.points", [1, 0.5], "scales.grade.points", "needs one number per value (3), got 2"),
    ("scales.grade.points[2]", 2, "scales.grade.points[2]", "0 <= points[2] <= 1"),
    (
        "scales.grade.fail",
        ["terrible"],
        "scales.grade.fail[0]",
        "'terrible' is not one of the scale's values",
    ),
    ("scales.grade.fail", ["good", "ok", "bad"], "scales.grade.fail", "every value fails"),
    ("scales.grade.level", "ratio", "scales.grade.level", "unknown level 'ratio'"),
    ("scales.grade.level", ..., "scales.grade.level", "is required"),
    ("scales.grade.values", ["good", "good", "bad"], "scales.grade.values[1]", "listed twice"),
    ("scales.grade.values", ["good", "Good", "bad"], "scales.grade.values[1]", "listed twice (case aside"),
    ("scales.grade.values", ["good", "NA", "bad"], "scales.grade.values[1]", "reserved for not applicable"),
    ("scales.grade.values", ["good"], "scales.grade.values", "at least two values"),
    (
        "scales.yes_no",
        {"values": ["y", "n"], "points": [1, 0], "fail": ["n"], "level": "nominal"},
        "scales.yes_no",
        "redefines the built-in scale",
    ),
    ("sections[0].items[0].scale", "stars", "sections[0].items[0].scale", "unknown scale 'stars'"),
    (
        "sections[1].items[0].critical",
        True,
        "sections[1].items[0]",
        "may not be both critical and section_fail",
    ),
    ("sections[1].items[0].critical", "yes", "sections[1].items[0].critical", "must be true or false"),
    ("sections[0].items[1].na_allowed", 1, "sections[0].items[1].na_allowed", "must be true or false"),
    ("sections[2].items[0].check", "vibes", "sections[2].items[0].check", "unknown check 'vibes'"),
    ("sections[0].items[1].check", "bot_loop", "sections[0].items[1].scale", "needs a yes/no-like scale"),
    (
        "sections[1].items[2].id",
        "a",
        "sections[1].items[2].id",
        "'a' is already used by sections[0].items[0]",
    ),
    ("sections[2].id", "s1", "sections[2].id", "'s1' is already used by sections[0]"),
    ("sections", [], "sections", "non-empty list of sections"),
    ("sections[0].items", [], "sections[0].items", "non-empty list of items"),
    ("sections[0].items[0]", "a question", "sections[0].items[0]", "must be a mapping"),
]


@pytest.mark.parametrize(("change", "value", "key", "message"), BAD, ids=[f"{c[0]}={c[1]!r}" for c in BAD])
def test_bad_scorecard_names_file_and_key(
    tmp_path: Path, change: str, value: Any, key: str, message: str
) -> None:
    path = write(tmp_path, "bad.yaml", set_path(card_dict(), change, value))
    with pytest.raises(ConfigError) as err:
        load_scorecard(path)
    text = str(err.value)
    assert text.startswith(f"{path}: {key}: "), text
    assert message in text


def test_the_base_scorecard_is_valid(tmp_path: Path) -> None:
    card = load_scorecard(write(tmp_path, "ok.yaml", card_dict()))
    assert [i.id for i in card.items] == ["a", "b", "c", "d", "f", "e"]
    assert card.item("d").scale.values == ("good", "ok", "bad")
    assert card.source == str(tmp_path / "ok.yaml")


def test_critical_needs_a_scale_that_can_fail(tmp_path: Path) -> None:
    data = set_path(card_dict(), "scales.grade.fail", [])
    set_path(data, "sections[1].items[1].critical", True)
    path = write(tmp_path, "bad.yaml", data)
    with pytest.raises(ConfigError, match=re.escape(f"{path}: sections[1].items[1].critical: needs a scale")):
        load_scorecard(path)


def test_a_built_in_scale_spelled_out_unchanged_is_accepted(tmp_path: Path) -> None:
    data = set_path(
        card_dict(),
        "scales.yes_no",
        {"values": ["yes", "no"], "points": [1, 0], "fail": ["no"], "level": "nominal"},
    )
    assert load_scorecard(write(tmp_path, "ok.yaml", data)).item("a").scale.name == "yes_no"


def test_yaml_that_does_not_parse_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", 'id: x\nversion: "1"\ntitle: [unclosed\npass_mark: 0.8\n')
    with pytest.raises(ConfigError) as err:
        load_scorecard(path)
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: not valid YAML: ", str(err.value)), str(err.value)
    line = int(str(err.value)[len(str(path)) + 1 :].split(":")[0])
    assert 3 <= line <= 5  # the flow sequence opened on line 3 is never closed


def test_a_tab_indent_is_reported_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "tabs.yaml", 'id: x\nversion: "1"\n\ttitle: t\n')
    with pytest.raises(ConfigError, match=re.escape(f"{path}:3:1: not valid YAML")):
        load_scorecard(path)


def test_duplicate_yaml_keys_are_errors_with_their_line(tmp_path: Path) -> None:
    text = 'id: x\nversion: "1"\nid: y\n'
    path = write(tmp_path, "dup.yaml", text)
    with pytest.raises(
        ConfigError,
        match=re.escape(f"{path}:3:1: not valid YAML: while reading a mapping duplicate key 'id'"),
    ):
        load_scorecard(path)


def test_yes_and_no_stay_strings_true_and_false_are_booleans(tmp_path: Path) -> None:
    """YAML 1.2 booleans: `values: [yes, no, off]` are words (YAML 1.1 made them booleans); `critical: yes` is no flag."""
    body = yaml.safe_dump(card_dict(), sort_keys=False).replace(
        "scales:\n",
        "scales:\n  words:\n    values: [yes, no, off]\n    points: [1, 0, 0]\n    fail: [no, off]\n"
        "    level: nominal\n",
        1,
    )
    body = body.replace("scale: grade", "scale: words")
    card = load_scorecard(write(tmp_path, "ok.yaml", body))
    assert card.item("d").scale.values == ("yes", "no", "off")
    assert card.item("d").scale.fail == ("no", "off")
    assert card.item("a").critical is False and card.item("e").critical is True
    bad = write(tmp_path, "bad.yaml", body.replace("critical: true", "critical: yes"))
    with pytest.raises(
        ConfigError,
        match=re.escape(f"{bad}: sections[2].items[0].critical: must be true or false, got 'yes'"),
    ):
        load_scorecard(bad)


@pytest.mark.parametrize("text", ["", "- id: x\n", "just words\n"])
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "odd.yaml", text)
    with pytest.raises(ConfigError, match=re.escape(f"{path}: must be a mapping with id, version")):
        load_scorecard(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ConfigError, match=re.escape(f"{path}: cannot read the scorecard")):
        load_scorecard(path)


def test_integer_scale_values_and_versions_are_read_as_their_digits(tmp_path: Path) -> None:
    data = set_path(card_dict(version=3), "scales.grade.values", [3, 2, 1])
    set_path(data, "scales.grade.fail", [1])
    card = load_scorecard(write(tmp_path, "ok.yaml", data))
    assert card.version == "3"
    assert card.item("d").scale.values == ("3", "2", "1") and card.item("d").scale.fail == ("1",)


def test_a_merge_key_may_be_overridden_without_a_duplicate_key_error(tmp_path: Path) -> None:
    body = yaml.safe_dump(card_dict(), sort_keys=False).replace(
        "  - id: a\n", "  - <<: {weight: 4, question: 'Merged?'}\n    weight: 1.5\n    id: a\n", 1
    )
    body = body.replace("    question: A?\n", "", 1)
    card = load_scorecard(write(tmp_path, "merge.yaml", body))
    assert card.item("a").weight == 1.5 and card.item("a").question == "Merged?"
