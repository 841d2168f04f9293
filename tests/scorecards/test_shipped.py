"""The scorecards shipped in scorecards/: they validate, name real checks, and carry reviewer guidance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from audits.checks import CHECK_IDS
from audits.errors import ConfigError
from audits.ingest.fields import CHANNELS
from audits.scorecards import Scorecard, load_scorecards, prefill, register_scorecard, score, scorecard_for
from tests.conftest import REPO

SHIPPED = REPO / "scorecards"


@pytest.fixture(scope="module")
def catalogue() -> dict[tuple[str, str], Scorecard]:
    return load_scorecards(SHIPPED)


def test_every_shipped_file_validates(catalogue: dict[tuple[str, str], Scorecard]) -> None:
    files = sorted(p.name for p in SHIPPED.iterdir() if p.suffix in (".yaml", ".yml"))
    assert files == ["ai-chat.yaml", "handoff.yaml", "human-voice.yaml"]
    assert sorted(c.id for c in catalogue.values()) == ["ai-chat", "handoff", "human-voice"]
    assert sorted(Path(c.source).name for c in catalogue.values()) == files


def test_default_folder_is_scorecards_in_the_working_directory(
    catalogue: dict[tuple[str, str], Scorecard], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    assert load_scorecards() == catalogue


def test_every_check_exists_and_sits_on_a_yes_no_like_scale(
    catalogue: dict[tuple[str, str], Scorecard],
) -> None:
    for card in catalogue.values():
        for item in card.items:
            if item.check is not None:
                assert item.check in CHECK_IDS, (card.id, item.id)
                assert item.scale.values[0] not in item.scale.fail and item.scale.fail, (card.id, item.id)


def _flags(card: Scorecard) -> dict[str | None, dict[str, Any]]:
    return {i.check: {"critical": i.critical, "section_fail": i.section_fail} for i in card.items if i.check}


def test_ai_chat_covers_what_contracts_ask_of_ai_agents(catalogue: dict[tuple[str, str], Scorecard]) -> None:
    card = catalogue[("ai-chat", "1")]
    assert card.channels == ("chat", "whatsapp", "sms", "social") and card.handlers == ("ai",)
    checks = _flags(card)
    assert set(checks) == {
        "ai_disclosure",
        "identity_before_action",
        "kb_grounded",
        "pii_echo",
        "handoff_missed",
        "handoff_sla",
        "bot_loop",
    }
    assert {c for c, f in checks.items() if f["critical"]} == {
        "identity_before_action",
        "kb_grounded",
        "pii_echo",
    }
    assert card.item("tone").scale.name == "1-5"
    assert card.item("resolution").scale.fail == ("not_resolved",)


def test_human_voice_covers_identity_compliance_and_empathy(
    catalogue: dict[tuple[str, str], Scorecard],
) -> None:
    card = catalogue[("human-voice", "1")]
    assert card.channels == ("voice",) and card.handlers == ("human",)
    assert (
        card.item("identity_verified").critical
        and card.item("identity_verified").check == "identity_before_action"
    )
    assert card.item("recording_notice").section_fail
    assert card.item("empathy").scale.name == "1-5"
    assert card.item("answered_in_sla").check == "first_response_sla"
    assert {"greeting_name", "correct_information", "hold_etiquette", "ownership", "closing"} <= {
        i.id for i in card.items
    }


def test_handoff_covers_the_hand_off(catalogue: dict[tuple[str, str], Scorecard]) -> None:
    card = catalogue[("handoff", "1")]
    assert card.channels == CHANNELS and card.handlers == ("hybrid",)
    checks = _flags(card)
    assert {"ai_disclosure", "handoff_missed", "handoff_sla", "handoff_abandoned"} <= set(checks)
    assert checks["handoff_missed"]["critical"]
    assert {"context_carried", "human_resolution", "closing"} <= {i.id for i in card.items}


def test_every_item_tells_the_reviewer_what_passes_and_what_fails(
    catalogue: dict[tuple[str, str], Scorecard],
) -> None:
    """yes/no items say Pass: and Fail:; graded items describe every value; N/A items say when N/A applies."""
    for card in catalogue.values():
        for item in card.items:
            where = f"{card.id}/{item.id}"
            if item.scale.name == "yes_no":
                assert "Pass:" in item.guidance and "Fail:" in item.guidance, where
            else:
                for value in item.scale.values:
                    assert f"{value}:" in item.guidance or f"{value} (fail):" in item.guidance, (where, value)
            assert ("N/A:" in item.guidance) == item.na_allowed, where
            assert item.question.endswith("?"), where


def test_each_channel_and_handler_gets_the_right_card(catalogue: dict[tuple[str, str], Scorecard]) -> None:
    for channel in ("chat", "whatsapp", "sms", "social"):
        assert scorecard_for(catalogue, channel, "ai").id == "ai-chat"
    assert scorecard_for(catalogue, "voice", "human").id == "human-voice"
    for channel in CHANNELS:
        assert scorecard_for(catalogue, channel, "hybrid").id == "handoff"
    with pytest.raises(ConfigError, match="no scorecard applies to channel 'email' and handler 'human'"):
        scorecard_for(catalogue, "email", "human")


def test_a_contained_ai_chat_scores_as_computed_by_hand(catalogue: dict[tuple[str, str], Scorecard]) -> None:
    """No account action and no hand-off (4 items N/A), tone 4, all else passes.
    Weights answered: ai_disclosure 2, intent 2, pii 1, kb 1, no_loop 2, tone 1, resolution 3, closing 1 = 13;
    points: 13 - 0.25 (tone 4 = 0.75) = 12.75; score 12.75 / 13 = 51/52."""
    card = catalogue[("ai-chat", "1")]
    answers = prefill(
        card,
        {
            "ai_disclosure": "pass",
            "identity_before_action": "na",
            "kb_grounded": "pass",
            "pii_echo": "pass",
            "handoff_missed": "na",
            "handoff_sla": "na",
            "bot_loop": "pass",
        },
    )
    answers |= {
        "intent_understood": "yes",
        "expectations_set": "na",
        "tone": "4",
        "resolution": "resolved",
        "closing_confirmed": "yes",
    }
    result = score(card, answers)
    assert result.score == 51 / 52 and result.passed
    assert result.na_items == ("identity_verified", "handoff_offered", "handoff_timely", "expectations_set")
    leaked = score(card, answers | {"no_pii_echo": "no"})
    assert leaked.score == 0 and leaked.failed_critical == ("no_pii_echo",)


def test_shipped_scorecards_register(con: Any, catalogue: dict[tuple[str, str], Scorecard]) -> None:
    for card in catalogue.values():
        register_scorecard(con, card)
    assert con.execute("SELECT count(*) FROM scorecards").fetchall() == [(3,)]
