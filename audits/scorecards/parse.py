"""Validation of a scorecard given as data (parsed YAML, or a stored `Scorecard.to_dict()`).

Every error is a ConfigError naming the source and the key path, for example
``scorecards/ai-chat.yaml: sections[1].items[2].weight: must be a number > 0, got -1``.
The rules (docs/scorecards.md has the format):

- unknown keys anywhere are errors; id, version, title, applies_to, pass_mark and sections are required;
- ids (scorecard, sections, items, scales) are letters, digits, `_`, `.`, `-`; item ids are unique
  across the scorecard, section ids within it;
- version is a dot-separated integer, "1" or "2026.11" (a bare YAML 2026.10 is the float 2026.1:
  quote it); an integer is read as its digits;
- a scale has >= 2 values distinct regardless of case (strings; integers are read as their digits; "na" is reserved),
  as many points within 0..1, fail values taken from its values (not all of them) and a level;
  a file may not redefine a built-in scale (`yes_no`, `1-5`) except by spelling it out unchanged;
- an item may not be both critical and section_fail, and either needs a scale with a fail value;
- `check:` names one of audits.checks.CHECK_IDS, and the item's scale must be yes/no-like: its first
  value is not a fail (a check pass enters it) and it has a fail value (a check fail enters the first).

The canonical form sorts channels and handlers in catalogue order and strips text, so spelling,
key order, defaults written out or left implicit, and unused scales do not change `content_hash`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, cast

from audits.checks import CHECK_IDS
from audits.config import ConfigReader
from audits.errors import ConfigError
from audits.ingest.fields import CHANNELS, HANDLERS
from audits.scorecards.model import (
    BUILTIN_SCALES,
    LEVELS,
    NA,
    Item,
    Level,
    Scale,
    Scorecard,
    Section,
    content_hash,
)
from audits.stats._checks import is_int, is_real

_TOP_KEYS = ("id", "version", "title", "applies_to", "pass_mark", "scales", "sections")
_REQUIRED = ("id", "version", "title", "applies_to", "pass_mark", "sections")
_SCALE_KEYS = ("values", "points", "fail", "level")
_SECTION_KEYS = ("id", "title", "items")
_ITEM_KEYS = (
    "id",
    "question",
    "scale",
    "weight",
    "critical",
    "section_fail",
    "na_allowed",
    "guidance",
    "check",
)
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_VERSION = re.compile(r"[0-9]+(?:\.[0-9]+)*")
DEFAULT_SCALE = "yes_no"


def _required(r: ConfigReader, key: str, d: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if name not in d:
            raise r.fail(f"{key}.{name}" if key else name, "is required")


def _ident(r: ConfigReader, key: str, value: Any) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise r.fail(key, f"must be an id of letters, digits, '_', '.' or '-', got {value!r}")
    return value


def _text(r: ConfigReader, key: str, value: Any) -> str:
    return r.string(key, value).strip()


def _version(r: ConfigReader, value: Any) -> str:
    if is_int(value) and value >= 0:
        return str(value)
    if isinstance(value, str) and _VERSION.fullmatch(value):
        return value
    hint = " (quote it: YAML reads 2026.10 as the number 2026.1)" if isinstance(value, float) else ""
    raise r.fail(
        "version", f"must be a string of dot-separated integers such as '2026.11'{hint}, got {value!r}"
    )


def _flag(r: ConfigReader, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise r.fail(key, f"must be true or false, got {value!r}")
    return value


def _list(r: ConfigReader, key: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise r.fail(key, f"must be a list, got {value!r}")
    return value


def _value(r: ConfigReader, key: str, value: Any) -> str:
    """A scale value: a non-empty string (stripped) or an integer read as its digits; never "na"."""
    if is_int(value):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise r.fail(key, f"must be a non-empty string, got {value!r}")
    if value.strip().lower() == NA:
        raise r.fail(key, f"{value!r} is reserved for not applicable (set na_allowed on the item instead)")
    return value.strip()


def _scale(r: ConfigReader, name: str, raw: Any) -> Scale:
    key = f"scales.{name}"
    d = r.mapping(key, raw, _SCALE_KEYS)
    _required(r, key, d, _SCALE_KEYS)
    values = tuple(
        _value(r, f"{key}.values[{i}]", v) for i, v in enumerate(_list(r, f"{key}.values", d["values"]))
    )
    if len(values) < 2:
        raise r.fail(f"{key}.values", f"needs at least two values, got {list(values)!r}")
    for i, v in enumerate(values):
        if v.lower() in (x.lower() for x in values[:i]):
            raise r.fail(
                f"{key}.values[{i}]", f"{v!r} is listed twice (case aside: forms match it either way)"
            )
    raw_points = _list(r, f"{key}.points", d["points"])
    if len(raw_points) != len(values):
        raise r.fail(f"{key}.points", f"needs one number per value ({len(values)}), got {len(raw_points)}")
    points = tuple(
        r.rate(f"{key}.points[{i}]", p, low_open=False, high_closed=True) for i, p in enumerate(raw_points)
    )
    fail = tuple(_value(r, f"{key}.fail[{i}]", v) for i, v in enumerate(_list(r, f"{key}.fail", d["fail"])))
    for i, v in enumerate(fail):
        if v not in values:
            raise r.fail(f"{key}.fail[{i}]", f"{v!r} is not one of the scale's values {list(values)!r}")
        if v in fail[:i]:
            raise r.fail(f"{key}.fail[{i}]", f"{v!r} is listed twice")
    if len(fail) == len(values):
        raise r.fail(f"{key}.fail", "every value fails; at least one value must pass")
    if d["level"] not in LEVELS:
        raise r.fail(f"{key}.level", f"unknown level {d['level']!r}; expected one of {', '.join(LEVELS)}")
    return Scale(name, values, points, fail, cast(Level, d["level"]))


def _scales(r: ConfigReader, raw: Any, builtins: dict[str, Scale]) -> dict[str, Scale]:
    if not isinstance(raw, dict):
        raise r.fail("scales", f"must be a mapping of scale name to scale, got {raw!r}")
    scales = dict(builtins)
    for name, body in raw.items():
        scale = _scale(r, _ident(r, f"scales.{name}", name), body)
        if name in builtins and scale != builtins[name]:
            raise r.fail(
                f"scales.{name}", f"redefines the built-in scale {name!r}; give your scale another name"
            )
        scales[name] = scale
    return scales


def _weight(r: ConfigReader, key: str, value: Any) -> float:
    if not is_real(value) or value <= 0:
        raise r.fail(key, f"must be a number > 0, got {value!r}")
    return float(value)


def _item(r: ConfigReader, key: str, raw: Any, scales: dict[str, Scale]) -> Item:
    d = r.mapping(key, raw, _ITEM_KEYS)
    _required(r, key, d, ("id", "question", "guidance"))
    scale_name = d.get("scale", DEFAULT_SCALE)
    if scale_name not in scales:
        raise r.fail(f"{key}.scale", f"unknown scale {scale_name!r}; expected one of {', '.join(scales)}")
    scale = scales[scale_name]
    critical = _flag(r, f"{key}.critical", d.get("critical", False))
    section_fail = _flag(r, f"{key}.section_fail", d.get("section_fail", False))
    if critical and section_fail:
        raise r.fail(key, "an item may not be both critical and section_fail")
    if (critical or section_fail) and not scale.fail:
        flag = "critical" if critical else "section_fail"
        raise r.fail(f"{key}.{flag}", f"needs a scale with fail values; scale {scale.name!r} has none")
    check = d.get("check")
    if check is not None:
        if check not in CHECK_IDS:
            raise r.fail(f"{key}.check", f"unknown check {check!r}; expected one of {', '.join(CHECK_IDS)}")
        if not scale.fail or scale.values[0] in scale.fail:
            raise r.fail(
                f"{key}.scale",
                f"an item with a check needs a yes/no-like scale (first value passes, some value fails); "
                f"{scale.name!r} {list(scale.values)!r} with fail {list(scale.fail)!r} is not",
            )
    return Item(
        id=_ident(r, f"{key}.id", d["id"]),
        question=_text(r, f"{key}.question", d["question"]),
        scale=scale,
        weight=_weight(r, f"{key}.weight", d.get("weight", 1)),
        critical=critical,
        section_fail=section_fail,
        na_allowed=_flag(r, f"{key}.na_allowed", d.get("na_allowed", False)),
        guidance=_text(r, f"{key}.guidance", d["guidance"]),
        check=check,
    )


def _sections(r: ConfigReader, raw: Any, scales: dict[str, Scale]) -> tuple[Section, ...]:
    if not isinstance(raw, list) or not raw:
        raise r.fail("sections", f"must be a non-empty list of sections, got {raw!r}")
    sections: list[Section] = []
    seen_items: dict[str, str] = {}
    seen_sections: dict[str, str] = {}
    for s, raw_section in enumerate(raw):
        key = f"sections[{s}]"
        d = r.mapping(key, raw_section, _SECTION_KEYS)
        _required(r, key, d, _SECTION_KEYS)
        section_id = _ident(r, f"{key}.id", d["id"])
        if section_id in seen_sections:
            raise r.fail(f"{key}.id", f"{section_id!r} is already used by {seen_sections[section_id]}")
        seen_sections[section_id] = key
        raw_items = d["items"]
        if not isinstance(raw_items, list) or not raw_items:
            raise r.fail(f"{key}.items", f"must be a non-empty list of items, got {raw_items!r}")
        items = []
        for i, raw_item in enumerate(raw_items):
            item = _item(r, f"{key}.items[{i}]", raw_item, scales)
            if item.id in seen_items:
                raise r.fail(f"{key}.items[{i}].id", f"{item.id!r} is already used by {seen_items[item.id]}")
            seen_items[item.id] = f"{key}.items[{i}]"
            items.append(item)
        sections.append(Section(section_id, _text(r, f"{key}.title", d["title"]), tuple(items)))
    return tuple(sections)


def _applies_to(r: ConfigReader, raw: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    d = r.mapping("applies_to", raw, ("channels", "handlers"))
    _required(r, "applies_to", d, ("channels", "handlers"))
    channels = set(r.strings("applies_to.channels", d["channels"], allowed=CHANNELS))
    handlers = set(r.strings("applies_to.handlers", d["handlers"], allowed=HANDLERS))
    return tuple(c for c in CHANNELS if c in channels), tuple(h for h in HANDLERS if h in handlers)


def parse_scorecard(
    data: Any, source: str = "<scorecard>", *, builtin_scales: dict[str, Scale] | None = None
) -> Scorecard:
    """Validate a scorecard given as data; `source` names it in errors. Built-ins default to yes_no and 1-5."""
    r = ConfigReader(str(source))
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: must be a mapping with {', '.join(_REQUIRED)}, got {type(data).__name__}"
        )
    d = r.mapping("", data, _TOP_KEYS)
    _required(r, "", d, _REQUIRED)
    channels, handlers = _applies_to(r, d["applies_to"])
    builtins = BUILTIN_SCALES if builtin_scales is None else builtin_scales
    card = Scorecard(
        id=_ident(r, "id", d["id"]),
        version=_version(r, d["version"]),
        title=_text(r, "title", d["title"]),
        channels=channels,
        handlers=handlers,
        pass_mark=r.rate("pass_mark", d["pass_mark"], low_open=False, high_closed=True),
        sections=_sections(r, d["sections"], _scales(r, d.get("scales", {}), builtins)),
        source=str(source),
    )
    return replace(card, content_hash=content_hash(card.to_dict()))
