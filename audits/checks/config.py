"""Check configuration: thresholds, action names and phrase lexicons, from YAML, validated.

The defaults ship as `audits/checks/defaults.yaml`; a user file given with `--config` is laid over
them (a scalar or list replaces the default; per-channel maps and phrase maps merge by key). Every
error names the file and the key. `CheckConfig.config_hash` (sha256 of the canonical JSON) is stored
with each run, so a result can be traced to the thresholds it was computed under.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

import duckdb
import yaml

from audits.config import ConfigReader
from audits.errors import ConfigError
from audits.ingest.fields import CHANNELS

_KEYS = (
    "first_response_sla_seconds",
    "handoff_sla_seconds",
    "loop",
    "kb_grounding",
    "account_actions",
    "verification_actions",
    "transfer_actions",
    "disclosure_phrases",
    "human_request_phrases",
)
_MERGED = ("first_response_sla_seconds", "handoff_sla_seconds", "disclosure_phrases", "human_request_phrases")


@dataclass(frozen=True)
class CheckConfig:
    """Thresholds and lexicons of the check catalogue."""

    first_response_sla_seconds: dict[str, float]
    """Per channel: seconds from the customer's first message to the first agent reply."""
    handoff_sla_seconds: dict[str, float]
    """Per channel (and `default`): seconds from the hand-off request to the human's first turn."""
    agent_repeats: int
    """bot_loop: the same agent text this many times."""
    customer_repeats: int
    """bot_loop: the customer restates an earlier message this many times."""
    loop_min_chars: int
    """bot_loop: shorter texts never count as repeats."""
    min_similarity: float
    """kb_grounded: TF-IDF cosine below this to every cited article version fails."""
    kb_languages: tuple[str, ...]
    """kb_grounded: conversation languages the similarity test applies to (the KB's languages)."""
    max_vocabulary: int
    """kb_grounded: the TF-IDF vocabulary keeps this many terms (highest document frequency)."""
    account_actions: tuple[str, ...]
    """identity_before_action: actions that change an account."""
    verification_actions: tuple[str, ...]
    """identity_before_action: actions that verify the customer's identity."""
    transfer_actions: tuple[str, ...]
    """handoff_*: actions that hand the conversation to a human."""
    disclosure_phrases: dict[str, tuple[str, ...]]
    """ai_disclosure: regular expressions per language."""
    human_request_phrases: dict[str, tuple[str, ...]]
    """handoff_missed: regular expressions per language for a customer asking for a human."""

    def sla(self, table: dict[str, float], channel: str) -> float | None:
        """The SLA of `channel` in `table` (its `default` when the channel is not listed)."""
        return table.get(channel, table.get("default"))

    def regex(self, phrases: dict[str, tuple[str, ...]]) -> str:
        """One case-insensitive RE2 expression matching any phrase of any language."""
        return "(?i)(" + "|".join(p for lang in sorted(phrases) for p in phrases[lang]) + ")"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def config_hash(self) -> str:
        text = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _defaults() -> dict[str, Any]:
    text = resources.files("audits.checks").joinpath("defaults.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def load_config(path: str | os.PathLike[str] | None = None) -> CheckConfig:
    """The default configuration, with the YAML file at `path` laid over it."""
    data = _defaults()
    source = "audits/checks/defaults.yaml"
    if path is not None:
        source = str(path)
        try:
            with open(path, encoding="utf-8") as fh:
                user = yaml.safe_load(fh)
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read the check configuration: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise ConfigError(f"{source}{where}: not valid YAML: {exc}") from exc
        ConfigReader(source).mapping("", user if user is not None else {}, _KEYS)
        for key, value in (user or {}).items():
            if (
                key in _MERGED
                and isinstance(value, dict)
                and isinstance(data.get(key), dict)
                or key in ("loop", "kb_grounding")
                and isinstance(value, dict)
            ):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
    return parse_config(data, source)


def parse_config(data: Any, source: str) -> CheckConfig:
    """Validate a configuration mapping; errors name `source` and the key."""
    r = ConfigReader(source)
    d = r.mapping("", data, _KEYS)
    for key in _KEYS:
        if key not in d:
            raise r.fail(key, "is required")
    frt = _seconds(r, "first_response_sla_seconds", d["first_response_sla_seconds"])
    handoff = _seconds(r, "handoff_sla_seconds", d["handoff_sla_seconds"])
    loop = r.mapping("loop", d["loop"], ("agent_repeats", "customer_repeats", "min_chars"))
    kb = r.mapping("kb_grounding", d["kb_grounding"], ("min_similarity", "kb_languages", "max_vocabulary"))
    for k in ("agent_repeats", "customer_repeats", "min_chars"):
        if k not in loop:
            raise r.fail(f"loop.{k}", "is required")
    for k in ("min_similarity", "kb_languages", "max_vocabulary"):
        if k not in kb:
            raise r.fail(f"kb_grounding.{k}", "is required")
    return CheckConfig(
        first_response_sla_seconds=frt,
        handoff_sla_seconds=handoff,
        agent_repeats=r.integer("loop.agent_repeats", loop["agent_repeats"], 2),
        customer_repeats=r.integer("loop.customer_repeats", loop["customer_repeats"], 1),
        loop_min_chars=r.integer("loop.min_chars", loop["min_chars"], 1),
        min_similarity=r.rate("kb_grounding.min_similarity", kb["min_similarity"], low_open=False),
        kb_languages=r.strings("kb_grounding.kb_languages", kb["kb_languages"], empty=True),
        max_vocabulary=r.integer("kb_grounding.max_vocabulary", kb["max_vocabulary"], 1),
        account_actions=r.strings("account_actions", d["account_actions"], empty=True),
        verification_actions=r.strings("verification_actions", d["verification_actions"]),
        transfer_actions=r.strings("transfer_actions", d["transfer_actions"]),
        disclosure_phrases=_phrases(r, "disclosure_phrases", d["disclosure_phrases"]),
        human_request_phrases=_phrases(r, "human_request_phrases", d["human_request_phrases"]),
    )


def _seconds(r: ConfigReader, key: str, value: Any) -> dict[str, float]:
    d = r.mapping(key, value, (*CHANNELS, "default"))
    out = {}
    for channel, seconds in d.items():
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds < 1e9:
            raise r.fail(f"{key}.{channel}", f"must be a number of seconds > 0 and < 1e9, got {seconds!r}")
        out[channel] = float(seconds)
    return out


def _phrases(r: ConfigReader, key: str, value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict) or not value:
        raise r.fail(key, f"must be a non-empty mapping of language to a list of phrases, got {value!r}")
    out = {}
    con = duckdb.connect()  # phrases run in DuckDB's RE2: validate them there, not with Python's re
    try:
        for lang, phrases in value.items():
            items = tuple(unicodedata.normalize("NFC", p) for p in r.strings(f"{key}.{lang}", phrases))
            for i, p in enumerate(items):
                try:
                    con.execute("SELECT regexp_matches('', ?)", [p]).fetchall()
                except duckdb.Error as exc:
                    raise r.fail(
                        f"{key}.{lang}[{i}]", f"is not a valid RE2 regular expression: {exc}"
                    ) from exc
            out[str(lang)] = items
    finally:
        con.close()
    return out
