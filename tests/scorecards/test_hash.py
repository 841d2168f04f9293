"""The content hash: sha256 of the canonical JSON, blind to YAML spelling, sensitive to meaning."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import pytest

from audits.scorecards import load_scorecard, parse_scorecard
from tests.scorecards.conftest import card_dict, make_card, write

BLOCK = """
# every default written out, block style
id: spelled
version: "2"
title: "  Spelling test  "
applies_to:
  channels: [chat, voice]
  handlers: [ai, human]
pass_mark: 0.75
scales:
  grade:
    values: [good, ok, bad]
    points: [1.0, 0.5, 0.0]
    fail: [bad]
    level: ordinal
  unused:
    values: [x, y]
    points: [1, 0]
    fail: [y]
    level: nominal
sections:
  - id: s1
    title: One
    items:
      - id: a
        question: Is it a?
        scale: yes_no
        weight: 1.0
        critical: false
        section_fail: false
        na_allowed: false
        check: null
        guidance: |
          Pass: a.
          Fail: not a.
      - id: d
        question: How good?
        scale: grade
        weight: 2
        critical: true
        na_allowed: true
        guidance: Grade it.
"""

FLOW = """
# defaults left out, keys reordered, flow style, an integer version, an anchor and a merge key
sections:
- {title: One, id: s1, items: [
    {guidance: "Pass: a.\\nFail: not a.", id: a, question: "Is it a?"},
    {<<: &graded {scale: grade, weight: 2.0}, na_allowed: true, critical: true, question: "How good?", id: d,
     guidance: "Grade it.\\n"}]}
scales: {grade: {level: ordinal, fail: [bad], points: [1, 0.5, 0], values: [good, ok, bad]},
         yes_no: {values: [yes, no], points: [1, 0], fail: [no], level: nominal}}
pass_mark: .75
applies_to: {handlers: [human, ai], channels: [voice, chat]}
title: Spelling test
version: 2
id: spelled
"""


def test_same_scorecard_spelled_two_ways_hashes_the_same(tmp_path: Path) -> None:
    one = load_scorecard(write(tmp_path, "block.yaml", BLOCK))
    two = load_scorecard(write(tmp_path, "flow.yaml", FLOW))
    assert one.to_dict() == two.to_dict()
    assert one.content_hash == two.content_hash
    assert one == two  # source is not part of the identity
    assert one.source != two.source


def test_hash_is_sha256_of_the_canonical_json_and_round_trips() -> None:
    card = make_card()
    assert card.content_hash == hashlib.sha256(card.canonical_json().encode()).hexdigest()
    assert card.canonical_json().startswith(
        '{"applies_to":{"channels":["voice","chat"]'
    )  # sorted keys, catalogue order
    again = parse_scorecard(card.to_dict(), "again")
    assert again == card and again.content_hash == card.content_hash


def test_the_body_spells_out_built_in_scales_it_uses() -> None:
    body = make_card().to_dict()
    assert body["scales"]["1-5"] == {
        "values": ["1", "2", "3", "4", "5"],
        "points": [0.0, 0.25, 0.5, 0.75, 1.0],
        "fail": ["1", "2"],
        "level": "ordinal",
    }
    assert set(body["scales"]) == {"yes_no", "1-5", "grade"}


def _edit(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = card_dict()
    node: Any = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return data


MEANINGFUL: list[tuple[tuple[Any, ...], Any]] = [
    (("version",), "2"),
    (("title",), "Another title"),
    (("pass_mark",), 0.85),
    (("applies_to", "handlers"), ["ai", "hybrid"]),
    (("scales", "grade", "points"), [1, 0.6, 0]),
    (("scales", "grade", "fail"), ["ok", "bad"]),
    (("scales", "grade", "level"), "interval"),
    (("sections", 0, "title"), "Renamed"),
    (("sections", 0, "items", 0, "question"), "A, really?"),
    (("sections", 0, "items", 0, "guidance"), "Different guidance"),
    (("sections", 0, "items", 0, "weight"), 1.5),
    (("sections", 0, "items", 0, "na_allowed"), True),
    (("sections", 0, "items", 0, "critical"), True),
    (("sections", 0, "items", 0, "check"), "bot_loop"),
    (("sections", 1, "items", 1, "scale"), "1-5"),
]


@pytest.mark.parametrize(("path", "value"), MEANINGFUL, ids=[".".join(map(str, p)) for p, _ in MEANINGFUL])
def test_a_change_of_meaning_changes_the_hash(path: tuple[Any, ...], value: Any) -> None:
    assert parse_scorecard(_edit(path, value)).content_hash != make_card().content_hash


def test_item_order_is_part_of_the_scorecard() -> None:
    data = card_dict()
    items = data["sections"][1]["items"]
    data["sections"][1]["items"] = [items[1], items[0], items[2]]
    assert parse_scorecard(copy.deepcopy(data)).content_hash != make_card().content_hash
