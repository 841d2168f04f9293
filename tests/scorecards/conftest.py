"""Helpers for the scorecard tests: a small scorecard as a dict, and files written from text or data."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from audits.scorecards import Scorecard, parse_scorecard

# Weights 1, 2 | 1, 3, 2 | 1 (total 10), so every expected score below is a small fraction.
BASE: dict[str, Any] = {
    "id": "test-card",
    "version": "1",
    "title": "Test card",
    "applies_to": {"channels": ["chat", "voice"], "handlers": ["ai"]},
    "pass_mark": 0.8,
    "scales": {
        "grade": {"values": ["good", "ok", "bad"], "points": [1, 0.5, 0], "fail": ["bad"], "level": "ordinal"}
    },
    "sections": [
        {
            "id": "s1",
            "title": "Section one",
            "items": [
                {"id": "a", "question": "A?", "guidance": "a"},
                {
                    "id": "b",
                    "question": "B?",
                    "scale": "1-5",
                    "weight": 2,
                    "na_allowed": True,
                    "guidance": "b",
                },
            ],
        },
        {
            "id": "s2",
            "title": "Section two",
            "items": [
                {"id": "c", "question": "C?", "section_fail": True, "na_allowed": True, "guidance": "c"},
                {"id": "d", "question": "D?", "scale": "grade", "weight": 3, "guidance": "d"},
                {"id": "f", "question": "F?", "weight": 2, "na_allowed": True, "guidance": "f"},
            ],
        },
        {
            "id": "s3",
            "title": "Section three",
            "items": [
                {
                    "id": "e",
                    "question": "E?",
                    "critical": True,
                    "na_allowed": True,
                    "guidance": "e",
                    "check": "ai_disclosure",
                },
            ],
        },
    ],
}


def card_dict(**changes: Any) -> dict[str, Any]:
    """A deep copy of BASE with top-level `changes` applied (a value of ... deletes the key)."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def make_card(**changes: Any) -> Scorecard:
    """BASE (with `changes`) validated into a Scorecard."""
    return parse_scorecard(card_dict(**changes), "test-card.yaml")


def write(folder: Path, name: str, content: Any) -> Path:
    """Write `content` (YAML text, or data dumped as YAML) to folder/name."""
    path = folder / name
    path.write_text(
        content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False), "utf-8"
    )
    return path
