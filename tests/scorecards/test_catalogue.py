"""The catalogue of a folder, keyed (id, version), and the choice of scorecard for a conversation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from audits.errors import ConfigError
from audits.scorecards import Scorecard, load_scorecards, scorecard_for
from tests.scorecards.conftest import card_dict, write


def test_a_folder_loads_yaml_and_yml_keyed_by_id_and_version(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", card_dict(id="alpha"))
    write(tmp_path, "b.yml", card_dict(id="beta", version="2026.11"))
    write(tmp_path, "notes.txt", "not a scorecard")
    catalogue = load_scorecards(tmp_path)
    assert sorted(catalogue) == [("alpha", "1"), ("beta", "2026.11")]
    assert catalogue[("beta", "2026.11")].source == str(tmp_path / "b.yml")


def test_a_list_of_files_loads_each_once(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", card_dict(id="alpha"))
    assert list(load_scorecards([a, str(a)])) == [("alpha", "1")]
    assert load_scorecards([]) == {}


def test_same_id_and_version_in_two_files_names_both(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", card_dict())
    b = write(tmp_path, "b.yaml", card_dict(title="Edited but not bumped"))
    with pytest.raises(ConfigError, match=re.escape(f"test-card@1 is defined twice: in {a} and in {b}")):
        load_scorecards(tmp_path)


def test_one_version_number_spelled_twice_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", card_dict(version="2026.01"))
    write(tmp_path, "b.yaml", card_dict(version="2026.1"))
    with pytest.raises(ConfigError, match="versions '2026.01' .* and '2026.1' .* are the same number"):
        load_scorecards(tmp_path)


def test_a_bad_file_in_the_folder_is_named(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", card_dict(id="alpha"))
    bad = write(tmp_path, "b.yaml", card_dict(pass_mark=2))
    with pytest.raises(ConfigError, match=re.escape(f"{bad}: pass_mark:")):
        load_scorecards(tmp_path)


def test_missing_or_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such scorecard folder"):
        load_scorecards(tmp_path / "absent")
    with pytest.raises(ConfigError, match="no scorecard files"):
        load_scorecards(tmp_path)


def _catalogue(folder: Path, *cards: dict[str, Any]) -> dict[tuple[str, str], Scorecard]:
    folder.mkdir(exist_ok=True)
    for i, card in enumerate(cards):
        write(folder, f"{i}.yaml", card)
    return load_scorecards(folder)


def test_the_one_scorecard_that_applies_is_chosen(tmp_path: Path) -> None:
    catalogue = _catalogue(
        tmp_path,
        card_dict(id="ai-card", applies_to={"channels": ["chat"], "handlers": ["ai"]}),
        card_dict(id="voice-card", applies_to={"channels": ["voice"], "handlers": ["ai", "human"]}),
    )
    assert scorecard_for(catalogue, "chat", "ai").id == "ai-card"
    assert scorecard_for(catalogue, "voice", "human").id == "voice-card"
    assert (
        scorecard_for(list(catalogue.values()), "voice", "ai").id == "voice-card"
    )  # any iterable of scorecards
    with pytest.raises(ConfigError, match="no scorecard applies to channel 'email' and handler 'ai'"):
        scorecard_for(catalogue, "email", "ai")


def test_the_newest_version_is_chosen_numerically(tmp_path: Path) -> None:
    catalogue = _catalogue(tmp_path, card_dict(version="9"), card_dict(version="10"), card_dict(version="2"))
    assert scorecard_for(catalogue, "chat", "ai").version == "10"
    dated = _catalogue(tmp_path / "dated", card_dict(version="2026.2"), card_dict(version="2026.11"))
    assert scorecard_for(dated, "chat", "ai").version == "2026.11"


def test_an_old_version_is_never_chosen_for_new_scoring(tmp_path: Path) -> None:
    """v2 dropped voice: voice conversations are no longer scored on this card, not on v1."""
    catalogue = _catalogue(
        tmp_path,
        card_dict(version="1", applies_to={"channels": ["chat", "voice"], "handlers": ["ai"]}),
        card_dict(version="2", applies_to={"channels": ["chat"], "handlers": ["ai"]}),
    )
    assert scorecard_for(catalogue, "chat", "ai").version == "2"
    with pytest.raises(ConfigError, match="no scorecard applies to channel 'voice'"):
        scorecard_for(catalogue, "voice", "ai")


def test_two_scorecards_that_apply_need_a_name(tmp_path: Path) -> None:
    catalogue = _catalogue(tmp_path, card_dict(id="one"), card_dict(id="two", version="3"))
    with pytest.raises(
        ConfigError, match=r"2 scorecards apply .* \(one@1, two@3\); name one with scorecard_id"
    ):
        scorecard_for(catalogue, "chat", "ai")
    assert scorecard_for(catalogue, "chat", "ai", scorecard_id="two").label == "two@3"


def test_a_named_scorecard_must_exist_and_apply(tmp_path: Path) -> None:
    catalogue = _catalogue(tmp_path, card_dict(id="one"))
    with pytest.raises(ConfigError, match="no scorecard 'nope'; the catalogue has one"):
        scorecard_for(catalogue, "chat", "ai", scorecard_id="nope")
    with pytest.raises(
        ConfigError, match="scorecard one@1 .* does not apply to channel 'chat' and handler 'human'"
    ):
        scorecard_for(catalogue, "chat", "human", scorecard_id="one")


def test_the_default_folder_is_env_then_cwd_then_shipped(tmp_path, monkeypatch):
    from audits.scorecards.load import SHIPPED_FOLDER, default_folder

    monkeypatch.chdir(tmp_path)
    assert default_folder() == SHIPPED_FOLDER and (SHIPPED_FOLDER / "ai-chat.yaml").is_file()
    assert ("ai-chat", "1") in load_scorecards()  # from anywhere, the shipped cards
    (tmp_path / "scorecards").mkdir()
    assert default_folder() == Path("scorecards")
    monkeypatch.setenv("QA_AUDIT_SCORECARDS", str(tmp_path / "elsewhere"))
    assert default_folder() == tmp_path / "elsewhere"
