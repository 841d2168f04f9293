"""The scorecard's types: scales, items, sections and the scorecard, frozen and validated on the way in.

A `Scorecard` is built only by `parse_scorecard` (audits.scorecards.parse), which checks every rule
the YAML format states; the types here hold the result and give its canonical form:

    Scorecard.to_dict()       the scorecard as plain data, accepted back by `parse_scorecard`; every
                              scale an item uses is spelled out (built-ins too), so a stored body
                              rebuilds the same scorecard even if a built-in scale changes later
    Scorecard.content_hash    sha256 of the canonical JSON (sorted keys, no whitespace) of `to_dict()`;
                              `source` (the file) is not part of a scorecard's identity

Versions are dot-separated integers ("1", "2026.11"); `version_key` orders them numerically.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from audits.errors import ConfigError

Level = Literal["nominal", "ordinal", "interval"]
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval")
NA = "na"  # the answer for "not applicable"; never a scale value


@dataclass(frozen=True)
class Scale:
    """What a reviewer may enter for an item, the points (0..1) each value earns, and which values fail."""

    name: str
    values: tuple[str, ...]
    """The answers, in the order a form shows them; for a check item the first is what a check pass enters."""
    points: tuple[float, ...]
    """Points per value, same length as `values`, each within 0..1."""
    fail: tuple[str, ...]
    """Values that count as a FAIL of the item (what `critical` and `section_fail` react to)."""
    level: Level
    """Measurement level for agreement statistics: nominal, ordinal or interval."""

    def points_of(self, value: str) -> float:
        """The points `value` earns (it must be one of `values`)."""
        return self.points[self.values.index(value)]

    def to_dict(self) -> dict[str, Any]:
        """The canonical form of the scale (its name is the key it is stored under)."""
        return {
            "values": list(self.values),
            "points": list(self.points),
            "fail": list(self.fail),
            "level": self.level,
        }


BUILTIN_SCALES: dict[str, Scale] = {
    "yes_no": Scale("yes_no", ("yes", "no"), (1.0, 0.0), ("no",), "nominal"),
    "1-5": Scale("1-5", ("1", "2", "3", "4", "5"), (0.0, 0.25, 0.5, 0.75, 1.0), ("1", "2"), "ordinal"),
}


@dataclass(frozen=True)
class Item:
    """One question a reviewer answers."""

    id: str
    question: str
    scale: Scale
    weight: float = 1.0
    """Relative weight (> 0) in the score's weighted mean."""
    critical: bool = False
    """A FAIL zeroes the conversation's score and fails it."""
    section_fail: bool = False
    """A FAIL zeroes every answered item of the item's section."""
    na_allowed: bool = False
    """The reviewer may answer "na" (not applicable); N/A items leave the score (rescale)."""
    guidance: str = ""
    """What a pass looks like, what a fail looks like, and when N/A applies."""
    check: str | None = None
    """An automated check (audits.checks.CHECK_IDS) whose outcome pre-fills the answer."""

    def to_dict(self) -> dict[str, Any]:
        """The canonical form of the item (the scale by name)."""
        return {
            "id": self.id,
            "question": self.question,
            "scale": self.scale.name,
            "weight": self.weight,
            "critical": self.critical,
            "section_fail": self.section_fail,
            "na_allowed": self.na_allowed,
            "guidance": self.guidance,
            "check": self.check,
        }


@dataclass(frozen=True)
class Section:
    """A titled group of items; `section_fail` items act on their section."""

    id: str
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Scorecard:
    """A validated, versioned rubric. Build it with `parse_scorecard` or `load_scorecard`."""

    id: str
    version: str
    title: str
    channels: tuple[str, ...]
    handlers: tuple[str, ...]
    pass_mark: float
    sections: tuple[Section, ...]
    content_hash: str = ""
    source: str = field(default="<scorecard>", compare=False)

    @property
    def items(self) -> tuple[Item, ...]:
        """Every item, section by section, in order."""
        return tuple(item for section in self.sections for item in section.items)

    @property
    def label(self) -> str:
        """`id@version`, as messages name a scorecard."""
        return f"{self.id}@{self.version}"

    def item(self, item_id: str) -> Item:
        """The item called `item_id`; ConfigError when the scorecard has none."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise ConfigError(f"scorecard {self.label} ({self.source}) has no item {item_id!r}")

    def applies(self, channel: str, handler: str) -> bool:
        """True when the scorecard is meant for conversations on `channel` run by `handler`."""
        return channel in self.channels and handler in self.handlers

    def to_dict(self) -> dict[str, Any]:
        """The canonical form, accepted back by `parse_scorecard`."""
        scales: dict[str, Any] = {}
        for item in self.items:
            scales.setdefault(item.scale.name, item.scale.to_dict())
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "applies_to": {"channels": list(self.channels), "handlers": list(self.handlers)},
            "pass_mark": self.pass_mark,
            "scales": scales,
            "sections": [
                {"id": s.id, "title": s.title, "items": [i.to_dict() for i in s.items]} for s in self.sections
            ],
        }

    def canonical_json(self) -> str:
        """Sorted keys, no whitespace: the bytes `content_hash` is taken over."""
        return canonical_json(self.to_dict())


def canonical_json(data: dict[str, Any]) -> str:
    """JSON with sorted keys and no whitespace."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(data: dict[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of `data`."""
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def version_key(version: str) -> tuple[int, ...]:
    """Numeric order of a dot-separated version: "2026.2" < "2026.11" < "2027"."""
    return tuple(int(part) for part in version.split("."))
