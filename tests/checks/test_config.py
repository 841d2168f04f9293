"""Check configuration: defaults, overlays, and errors naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from audits.checks.config import load_config
from audits.errors import ConfigError


def test_defaults_load_and_hash_stably() -> None:
    a, b = load_config(), load_config()
    assert a == b and a.config_hash == b.config_hash
    assert a.sla(a.first_response_sla_seconds, "chat") == 60
    assert a.sla(a.handoff_sla_seconds, "voice") == 300  # from `default`


def test_an_overlay_merges_maps_and_replaces_lists(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("first_response_sla_seconds: {chat: 30}\naccount_actions: [wire_money]\n"
                 "human_request_phrases: {en: ['operator']}\nloop: {agent_repeats: 4}\n", encoding="utf-8")  # fmt: skip
    cfg = load_config(f)
    assert cfg.first_response_sla_seconds["chat"] == 30 and cfg.first_response_sla_seconds["voice"] == 20
    assert cfg.account_actions == ("wire_money",)
    assert cfg.human_request_phrases["en"] == ("operator",) and "vi" in cfg.human_request_phrases
    assert cfg.agent_repeats == 4 and cfg.customer_repeats == 2
    assert cfg.config_hash != load_config().config_hash


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("first_response_sla_seconds: {chat: -1}\n", "first_response_sla_seconds.chat: must be a number"),
        ("first_response_sla_seconds: {fax: 10}\n", "first_response_sla_seconds.fax: unknown key"),
        ("loop: {agent_repeats: 1}\n", "loop.agent_repeats: must be an integer >= 2"),
        ("kb_grounding: {min_similarity: 2}\n", "kb_grounding.min_similarity: must be a number"),
        ("disclosure_phrases: {en: ['(unclosed']}\n", "disclosure_phrases.en[0]: is not a valid RE2 regular"),
        # valid in Python's re, not in RE2 (DuckDB): refused here, not by a crash in the middle of a run
        ("disclosure_phrases: {en: ['(?!bot)x']}\n", "disclosure_phrases.en[0]: is not a valid RE2 regular"),
        ("first_response_sla_seconds: {chat: .inf}\n", "first_response_sla_seconds.chat: must be a number"),
        ("nonsense: 1\n", "nonsense: unknown key"),
        ("loop: [\n", "(line 2): not valid YAML"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, where: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(f)
    assert str(e.value).startswith(str(f)) and where in str(e.value), str(e.value)


def test_re2_only_syntax_is_accepted(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("disclosure_phrases: {zh: ['\\p{Han}+助理']}\n", encoding="utf-8")
    assert load_config(f).disclosure_phrases["zh"] == ("\\p{Han}+助理",)
