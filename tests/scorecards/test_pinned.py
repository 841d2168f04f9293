"""Released scorecard versions keep their content: the YAML files agree with scorecards/versions.lock."""

from __future__ import annotations

from audits.scorecards import load_scorecards
from audits.scorecards.load import SHIPPED_FOLDER


def _lock() -> dict[tuple[str, str], str]:
    lines = (SHIPPED_FOLDER / "versions.lock").read_text(encoding="utf-8").splitlines()
    return {(i, v): h for i, v, h in (line.split() for line in lines if line and not line.startswith("#"))}


def test_every_shipped_card_matches_its_locked_hash() -> None:
    lock = _lock()
    for key, card in load_scorecards(SHIPPED_FOLDER).items():
        assert key in lock, f"{card.source}: {card.label} is not in scorecards/versions.lock; add its line"
        assert card.content_hash == lock[key], (
            f"{card.source}: the content of {card.label} changed; give it a new version (old scores keep "
            "their meaning) and add the new version's line to scorecards/versions.lock"
        )


def test_a_changed_card_is_caught(tmp_path) -> None:
    """Editing a weight without bumping the version changes the hash the lock holds."""
    text = (SHIPPED_FOLDER / "ai-chat.yaml").read_text(encoding="utf-8")
    (tmp_path / "ai-chat.yaml").write_text(text.replace("pass_mark: 0.8", "pass_mark: 0.7"), encoding="utf-8")
    (card,) = load_scorecards(tmp_path).values()
    assert card.content_hash != _lock()[("ai-chat", "1")]
