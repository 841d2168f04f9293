"""The similarity index: what it holds, what it finds, that it equals brute force, and when it is stale."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from audits.errors import ConfigError, InputError
from audits.ingest.load import load_file
from audits.trace.similar import brute_force_search, build_index, load_index
from tests.conftest import REPO, conv, write_jsonl

FAILED = "Customers can request a refund within 14 days of delivery if the items are unused."
PARAPHRASE = "You can request a refund within 30 days of delivery, provided the items are unused."
UNRELATED = "A replacement card arrives within 5 business days after you block the card."
OTHERS = [
    "Standard delivery takes 3-5 business days from dispatch; express is offered at checkout.",
    "A password reset link is sent to your email and stays valid for 15 minutes.",
    "After too many failed sign-in attempts the account is locked for 24 hours.",
    "A billing address update takes effect within 2 business days.",
    "Approved refunds reach the original payment method within 5-10 business days.",
    "A charge can be disputed within 60 days of the statement date.",
]


def at(hhmm: str, day: int = 1) -> str:
    """A time on 2026-11-<day> at +08:00."""
    return f"2026-11-{day:02d}T{hhmm}:00+08:00"


def answer(cid: str, text: str, *, start: str = "10:00", day: int = 1, **changes: Any) -> dict[str, Any]:
    """A conversation: the customer asks, the AI answers `text` (turn 2), the customer thanks it."""
    turns = [
        {"speaker": "customer", "text": "I have a question about my order.", "at": at(start, day)},
        {"speaker": "ai_agent", "text": text, "at": at(start, day)},
        {"speaker": "customer", "text": "Thanks.", "at": at(start, day)},
    ]
    return conv(
        conversation_id=cid, started_at=at(start, day), ended_at=at(start, day), turns=turns, **changes
    )


@pytest.fixture
def load(con: Any, tmp_path: Path) -> Any:
    """load(records) -> LoadResult: writes them to a fresh JSONL file and loads it into `con`."""
    counter = iter(range(1_000_000))

    def run(records: list[dict[str, Any]]) -> Any:
        return load_file(con, write_jsonl(tmp_path / f"c{next(counter)}.jsonl", records))

    return run


CORPUS = [answer("failed", FAILED), answer("paraphrase", PARAPHRASE), answer("unrelated", UNRELATED)] + [
    answer(f"other-{i}", t, start=f"1{i}:00") for i, t in enumerate(OTHERS)
]


def test_the_index_holds_every_agent_answer_and_nothing_else(con: Any, load: Any, tmp_path: Path) -> None:
    """Agent turns (AI or human) without an action and of min_chars or more; customers, actions, short
    greetings are left out; the manifest records the warehouse it was built from."""
    record = answer("mixed", FAILED)
    record["turns"] += [
        {"speaker": "human_agent", "text": "Hello, Sam from the refunds team here.", "at": at("10:01")},
        {"speaker": "ai_agent", "text": "Issuing the refund for your order now.", "action": "issue_refund"},
        {"speaker": "ai_agent", "text": "Anything else?"},  # 14 characters
        {"speaker": "system", "text": "The conversation was transferred to a person."},
    ]
    load([record])
    info = build_index(con, tmp_path / "idx")
    idx = load_index(tmp_path / "idx")
    keys = idx.keys.select(["conversation_id", "turn_index"]).to_pylist()
    assert sorted((k["conversation_id"], k["turn_index"]) for k in keys) == [("mixed", 2), ("mixed", 4)]
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["rows"] == info.rows == 2 and manifest["turns"] == 7
    assert manifest["features"] == idx.matrix.shape[1] == len(idx.columns) and manifest["min_chars"] == 20
    assert idx.keys["started_at"][0].as_py() == datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    assert sorted(p.name for p in (tmp_path / "idx").iterdir()) == sorted(
        ["idf.npy", "keys.parquet", "manifest.json", "matrix.npz", "vocabulary.json"]
    )


def test_a_paraphrase_with_another_figure_is_found_and_an_unrelated_answer_is_not(
    con: Any, load: Any, tmp_path: Path
) -> None:
    load(CORPUS)
    build_index(con, tmp_path / "idx")
    hits = load_index(tmp_path / "idx").search(FAILED, threshold=0.5)
    found = {h.conversation_id: h.score for h in hits}
    assert set(found) == {"failed", "paraphrase"}
    assert found["failed"] == pytest.approx(1.0, abs=1e-6)  # the answer itself
    assert 0.5 <= found["paraphrase"] < 1.0
    assert [h.conversation_id for h in hits] == ["failed", "paraphrase"]  # best first
    assert all(h.turn_index == 2 for h in hits)


def test_indexed_search_gives_the_same_hits_as_brute_force(con: Any, load: Any, tmp_path: Path) -> None:
    """The saved vocabulary and idf vectorise a query exactly as a vectoriser fitted on the fly does."""
    load(CORPUS + [answer("upper", FAILED.upper() + " ÉTÉ été", start="09:00")])
    build_index(con, tmp_path / "idx")
    idx = load_index(tmp_path / "idx")
    queries = [
        FAILED,
        PARAPHRASE,
        UNRELATED,
        OTHERS[0],
        "refund within 30 DAYS été",
        "delivery days business",
    ]
    for query in queries:
        for threshold in (0.05, 0.2, 0.5):
            ours = idx.search(query, threshold=threshold)
            base = brute_force_search(con, query, threshold)
            assert [(h.conversation_id, h.turn_index) for h in ours] == [
                (h.conversation_id, h.turn_index) for h in base
            ]
            assert [h.score for h in ours] == pytest.approx([h.score for h in base], abs=1e-6)
    assert {h.conversation_id for h in idx.search("refund within 30 DAYS été", threshold=0.05)} >= {"upper"}


def test_exclude_window_and_limit(con: Any, load: Any, tmp_path: Path) -> None:
    load([answer("a", FAILED, start="09:00"), answer("b", FAILED, start="10:00"), answer("c", FAILED, day=2)])
    build_index(con, tmp_path / "idx")
    idx = load_index(tmp_path / "idx")

    def ids(**kw: Any) -> list[str]:
        return [h.conversation_id for h in idx.search(FAILED, **kw)]

    assert ids() == ["a", "b", "c"]  # equal scores: by supplier, conversation, turn
    assert ids(exclude=[("acme-bpo", "b")]) == ["a", "c"]
    assert ids(exclude=[("other-supplier", "b")]) == ["a", "b", "c"]
    assert ids(after=datetime(2026, 11, 1, 2, 0, tzinfo=UTC)) == ["b", "c"]  # inclusive
    assert ids(before=datetime(2026, 11, 1, 2, 0)) == ["a"]  # exclusive; naive is UTC
    assert ids(limit=2) == ["a", "b"]
    assert ids(threshold=1.0 - 1e-6, limit=0) == []


def test_a_load_makes_the_index_stale_and_a_repeated_file_does_not(
    con: Any, load: Any, tmp_path: Path
) -> None:
    first = write_jsonl(tmp_path / "first.jsonl", CORPUS)
    load_file(con, first)
    build_index(con, tmp_path / "idx")
    idx = load_index(tmp_path / "idx")
    assert not idx.stale(con)
    load_file(con, first)  # already loaded: nothing changed
    assert not idx.stale(con)
    load([answer("failed", FAILED + " Ask us anytime.")])  # a changed conversation, same turn count
    assert idx.stale(con)
    build_index(con, tmp_path / "idx")  # rebuilt in place
    assert not load_index(tmp_path / "idx").stale(con)
    load([answer("new", PARAPHRASE)])
    assert load_index(tmp_path / "idx").stale(con)


def test_bad_arguments_and_folders_are_named(con: Any, load: Any, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nowhere: not a similarity index \(missing matrix.npz"):
        load_index(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="no agent answers of 20"):
        build_index(con, tmp_path / "idx")  # an empty warehouse
    assert not (tmp_path / "idx").exists() and not (tmp_path / "idx.building").exists()
    load(CORPUS)
    build_index(con, tmp_path / "idx")
    idx = load_index(tmp_path / "idx")
    for bad in (0, 1.5, -0.1, True):
        with pytest.raises(ConfigError, match="threshold must satisfy 0 < threshold <= 1"):
            idx.search(FAILED, threshold=bad)
    with pytest.raises(ConfigError, match="max_features must be an integer >= 1"):
        build_index(con, tmp_path / "idx2", max_features=0)
    manifest = tmp_path / "idx" / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format_version": 99}))
    with pytest.raises(InputError, match=r"manifest.json \[format_version\]: index format 99"):
        load_index(tmp_path / "idx")


def test_searching_never_imports_scikit_learn(con: Any, load: Any, tmp_path: Path) -> None:
    """The heavy import is paid by the build only: importing the module and searching stay light."""
    load(CORPUS)
    build_index(con, tmp_path / "idx")
    code = (
        "import sys; from audits.trace.similar import load_index; "
        f"hits = load_index({str(tmp_path / 'idx')!r}).search({FAILED!r}); "
        "print(len(hits), 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.split() == ["2", "False"]
