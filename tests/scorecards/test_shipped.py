"""The scorecards shipped in scorecards/: they validate, name real checks, and carry reviewer guidance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from audits.checks import CHECK_IDS
from audits.errors import ConfigError
from audits.ingest.fields import CHANNELS, HANDLERS
from audits.scorecards import (
    Scorecard,
    current_versions,
    load_scorecards,
    prefill,
    register_scorecard,
    score,
    scorecard_for,
)
from tests.conftest import REPO

SHIPPED = REPO / "scorecards"


@pytest.fixture(scope="module")
def catalogue() -> dict[tuple[str, str], Scorecard]:
    return load_scorecards(SHIPPED)


def test_every_shipped_file_validates(catalogue: dict[tuple[str, str], Scorecard]) -> None:
    files = sorted(p.name for p in SHIPPED.iterdir() if p.suffix in (".yaml", ".yml"))
    assert files == [
        "ai-chat.yaml",
        "ai-voice-email.yaml",
        "handoff.yaml",
        "human-digital.yaml",
        "human-voice.yaml",
    ]
    assert sorted(c.id for c in catalogue.values()) == [
        "ai-chat",
        "ai-voice-email",
        "handoff",
        "human-digital",
        "human-voice",
    ]
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


def test_ai_voice_email_covers_what_contracts_ask_of_ai_agents(
    catalogue: dict[tuple[str, str], Scorecard],
) -> None:
    card = catalogue[("ai-voice-email", "1")]
    assert card.channels == ("voice", "email") and card.handlers == ("ai",)
    checks = _flags(card)
    assert set(checks) == {
        "ai_disclosure",
        "first_response_sla",
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
    assert {c for c, f in checks.items() if f["section_fail"]} == {"handoff_missed"}
    assert card.item("tone").scale.name == "1-5"
    assert card.item("resolution").scale.fail == ("not_resolved",)
    assert card.item("recording_notice").na_allowed  # email has no recording
    assert {"intent_understood", "expectations_set", "closing_confirmed"} <= {i.id for i in card.items}


def test_human_digital_covers_identity_accuracy_and_written_tone(
    catalogue: dict[tuple[str, str], Scorecard],
) -> None:
    card = catalogue[("human-digital", "1")]
    assert card.channels == ("chat", "whatsapp", "email", "sms", "social") and card.handlers == ("human",)
    checks = _flags(card)
    assert set(checks) == {"first_response_sla", "identity_before_action", "kb_grounded", "pii_echo"}
    assert {c for c, f in checks.items() if f["critical"]} == {
        "identity_before_action",
        "kb_grounded",
        "pii_echo",
    }
    assert card.item("identity_verified").check == "identity_before_action"
    assert card.item("correct_information").check == "kb_grounded"
    assert card.item("written_clarity").scale.name == "1-5"
    assert card.item("kept_private").na_allowed  # only public social posts
    assert {"greeting_name", "ownership", "resolution_confirmed", "closing"} <= {i.id for i in card.items}


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
    for channel in ("voice", "email"):
        assert scorecard_for(catalogue, channel, "ai").id == "ai-voice-email"
    assert scorecard_for(catalogue, "voice", "human").id == "human-voice"
    for channel in ("chat", "whatsapp", "email", "sms", "social"):
        assert scorecard_for(catalogue, channel, "human").id == "human-digital"
    for channel in CHANNELS:
        assert scorecard_for(catalogue, channel, "hybrid").id == "handoff"
    without = {key: card for key, card in catalogue.items() if card.id != "human-digital"}
    with pytest.raises(ConfigError, match="no scorecard applies to channel 'email' and handler 'human'"):
        scorecard_for(without, "email", "human")


def test_every_channel_and_handler_has_exactly_one_shipped_card(
    catalogue: dict[tuple[str, str], Scorecard],
) -> None:
    """Every channel x handler of the interchange format: one current card applies, and it is the one chosen."""
    current = current_versions(catalogue)
    for channel in CHANNELS:
        for handler in HANDLERS:
            fits = [
                card.id for card in current.values() if channel in card.channels and handler in card.handlers
            ]
            assert len(fits) == 1, (channel, handler, fits)
            assert scorecard_for(catalogue, channel, handler).id == fits[0], (channel, handler)


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


def test_an_email_answered_by_ai_scores_as_computed_by_hand(
    catalogue: dict[tuple[str, str], Scorecard],
) -> None:
    """Email (no recording), verified refund, no hand-off: 4 items N/A, tone 4, all else passes.
    Weights answered: ai_disclosure 2, first_response 1, intent 2, identity 1, pii 1, kb 1, no_loop 2, tone 1,
    resolution 3, closing 1 = 15; points 15 - 0.25 (tone 4 = 0.75) = 14.75; score 14.75 / 15 = 59/60.
    A call where the bot deflected the request for a human (a section fail) and left it unresolved, notice
    given: weights 15 + recording 1 + handoff_offered 2 = 18; points 14.75 + 1 + 0 - 3 = 12.75; 12.75/18 = 17/24."""
    card = catalogue[("ai-voice-email", "1")]
    answers = prefill(
        card,
        {
            "ai_disclosure": "pass",
            "first_response_sla": "pass",
            "identity_before_action": "pass",
            "kb_grounded": "pass",
            "pii_echo": "pass",
            "handoff_missed": "na",
            "handoff_sla": "na",
            "bot_loop": "pass",
        },
    )
    answers |= {
        "intent_understood": "yes",
        "recording_notice": "na",
        "expectations_set": "na",
        "tone": "4",
        "resolution": "resolved",
        "closing_confirmed": "yes",
    }
    result = score(card, answers)
    assert result.score == 59 / 60 and result.passed
    assert result.na_items == ("recording_notice", "handoff_offered", "handoff_timely", "expectations_set")
    deflected = score(
        card, answers | {"recording_notice": "yes", "handoff_offered": "no", "resolution": "not_resolved"}
    )
    assert deflected.score == 17 / 24 and not deflected.passed
    assert deflected.failed_sections == ("escalation",)
    assert deflected.failed_items == ("handoff_offered", "resolution") and deflected.failed_critical == ()
    unverified = score(card, answers | {"identity_verified": "no"})
    assert unverified.score == 0 and unverified.failed_critical == ("identity_verified",)


def test_a_human_email_scores_as_computed_by_hand(catalogue: dict[tuple[str, str], Scorecard]) -> None:
    """No account action, private channel, no pause (3 items N/A), writing 3, all else passes.
    Weights answered: first_response 1, greeting 1, pii 1, correct_information 2, written_clarity 2, ownership 2,
    resolution_confirmed 2, closing 1 = 12; points 12 - 2 x 0.5 (writing 3 = 0.5) = 11; score 11/12.
    Outcome left unclear and the customer sent elsewhere: 11 - 2 - 2 = 7; 7/12, below the 0.8 pass mark."""
    card = catalogue[("human-digital", "1")]
    answers = prefill(
        card,
        {
            "first_response_sla": "pass",
            "identity_before_action": "na",
            "kb_grounded": "pass",
            "pii_echo": "pass",
        },
    )
    answers |= {
        "greeting_name": "yes",
        "kept_private": "na",
        "written_clarity": "3",
        "kept_informed": "na",
        "ownership": "yes",
        "resolution_confirmed": "yes",
        "closing": "yes",
    }
    result = score(card, answers)
    assert result.score == 11 / 12 and result.passed
    assert result.na_items == ("identity_verified", "kept_private", "kept_informed")
    passed_on = score(card, answers | {"ownership": "no", "resolution_confirmed": "no"})
    assert passed_on.score == 7 / 12 and not passed_on.passed
    assert passed_on.failed_items == ("ownership", "resolution_confirmed")
    wrong = score(card, answers | {"correct_information": "no"})
    assert wrong.score == 0 and wrong.failed_critical == ("correct_information",)


def test_shipped_scorecards_register(con: Any, catalogue: dict[tuple[str, str], Scorecard]) -> None:
    for card in catalogue.values():
        register_scorecard(con, card)
    assert con.execute("SELECT scorecard_id, version FROM scorecards ORDER BY 1").fetchall() == [
        ("ai-chat", "1"),
        ("ai-voice-email", "1"),
        ("handoff", "1"),
        ("human-digital", "1"),
        ("human-voice", "1"),
    ]
