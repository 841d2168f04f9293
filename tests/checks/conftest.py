"""Load a few conversations (and KB articles), run the checks, read back their results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_jsonl


class Results(dict[tuple[str, str], tuple[str, int | None, str | None]]):
    """(conversation_id, check_id) -> (outcome, turn, evidence)."""

    def outcome(self, conversation_id: str, check_id: str) -> str:
        return self[(conversation_id, check_id)][0]


@pytest.fixture
def check(con: Any, tmp_path: Path) -> Any:
    """check(records, kb=None, only=None, config=None) -> Results, after loading them into `con`."""
    from audits.checks.run import run_checks
    from audits.ingest.load import load_file

    counter = iter(range(1_000_000))

    def run(
        records: list[dict[str, Any]], kb: list[dict[str, Any]] | None = None,
        only: list[str] | None = None, config: Any = None,
    ) -> Results:  # fmt: skip
        n = next(counter)
        if kb:
            load_file(con, write_jsonl(tmp_path / f"kb{n}.jsonl", kb), kind="kb_articles")
        load_file(con, write_jsonl(tmp_path / f"c{n}.jsonl", records))
        run_checks(con, config, checks=only)
        rows = con.execute(
            "SELECT conversation_id, check_id, outcome, turn, evidence FROM check_results"
        ).fetchall()
        return Results({(r[0], r[1]): (r[2], r[3], r[4]) for r in rows})

    return run


def turn(speaker: str, text: str, at: str, **extra: Any) -> dict[str, Any]:
    """One turn; `at` is a time on 2026-11-01 at +08:00, e.g. "10:00:20"."""
    return {"speaker": speaker, "text": text, "at": f"2026-11-01T{at}+08:00", **extra}
