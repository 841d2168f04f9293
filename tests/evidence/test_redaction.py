"""Personal data planted in transcripts (each kind, and names where tagged) is in no file of the pack.

The planted values (tests/evidence/conftest.py) are in every one of supplier A's conversations: a card
number passing Luhn, an email, a phone number, the national ids of the markets served (SG NRIC, MY
MyKad, ID NIK, PH PhilSys, TH id), a name tagged on the conversation and one tagged on a turn. They
also reach a review comment, a dispute reason, a finding's summary and a blast radius's evidence.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from audits.checks.pii import find_pii
from audits.evidence.redact import Redactor
from tests.evidence.conftest import NAME_TAGGED, PLANTED, TURN_NAME, members

NEEDLES = [*PLANTED.values(), NAME_TAGGED, "Crystal", "Minh", TURN_NAME, "Budi", "Santoso"]


def test_each_planted_value_is_personal_data_of_its_kind() -> None:
    for kind, value in PLANTED.items():
        assert find_pii(f"said {value} now") == [(kind, value)], kind


@pytest.mark.parametrize("name", ["transcripts.jsonl", "answers.csv", "findings.json", "audit_log.jsonl",
                                  "report.html", "pack.json", "estimates.json", "scores.csv"])  # fmt: skip
def test_no_planted_value_leaves_in_the_file(pack_a: Path, name: str) -> None:
    files = members(pack_a)
    assert name in files, f"{name} is not in the pack"
    text = files[name].decode("utf-8").lower()
    found = [n for n in NEEDLES if n.lower() in text]
    assert not found, f"{name} holds {found}"


def test_no_planted_value_leaves_in_any_file(pack_a: Path) -> None:
    for name, data in members(pack_a).items():
        text = data.decode("utf-8").lower()
        assert not [n for n in NEEDLES if n.lower() in text], name


def test_the_transcripts_keep_their_text_with_each_kind_marked(pack_a: Path) -> None:
    text = members(pack_a)["transcripts.jsonl"].decode()
    for kind in PLANTED:
        assert f"[{kind}]" in text, kind
    assert "I am [name], card [card_number]" in text and "for my husband [name]" in text
    assert "Thanks, [name]. Your refund is on its way." in text  # a part of a tagged name, on its own


def test_the_redactor_takes_names_whole_and_by_part_without_erasing_short_words() -> None:
    r = Redactor(["Crystal Minh", "An Li"])
    assert (
        r("crystal minh called; CRYSTAL again; Minh-Anh stays")
        == "[name] called; [name] again; [name]-Anh stays"
    )
    assert r("an apple, Li said; An Li came") == "an apple, Li said; [name] came"
    assert r("mail crystal.minh@mail.example.com") == "mail [email]"
    assert r(None) is None and Redactor()("4111 1111 1111 1111") == "[card_number]"


@pytest.mark.parametrize(("text", "kind"), [("+62 812-3456-7890", "phone"), ("(021) 5550-1234-567", "phone")])
def test_a_long_phone_number_with_a_prefix_is_redacted(text: str, kind: str) -> None:
    """Phones as the demo data writes them (13+ characters with '+' or parentheses) are redacted, not fatal."""
    assert Redactor()(f"call {text} now") == f"call [{kind}] now"
