"""Shared fixtures: tiny conversations, JSONL writers, a fresh warehouse, a clean environment."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

BASE: dict[str, Any] = {
    "conversation_id": "c1",
    "supplier": "acme-bpo",
    "channel": "chat",
    "handler": "ai",
    "started_at": "2026-11-01T10:00:00+08:00",
    "ended_at": "2026-11-01T10:06:00+08:00",
    "market": "SG",
    "language": "en",
    "journey": "refund",
    "customer_id": "cust-1",
    "outcome": "resolved",
    "csat": 4,
    "turns": [
        {"speaker": "ai_agent", "text": "Hi, I'm an AI assistant.", "at": "2026-11-01T10:00:00+08:00"},
        {"speaker": "customer", "text": "Where is my refund?", "at": "2026-11-01T10:00:20+08:00"},
        {
            "speaker": "ai_agent",
            "text": "Refunds take 5-7 business days.",
            "at": "2026-11-01T10:00:26+08:00",
            "kb_article_ids": ["kb-refund"],
        },
    ],
}


def conv(**changes: Any) -> dict[str, Any]:
    """A valid conversation with `changes` applied (a value of ... deletes the key)."""
    record = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is ...:
            record.pop(key, None)
        else:
            record[key] = value
    return record


def write_jsonl(path: Path, records: list[Any]) -> Path:
    """Write records (dicts become JSON; str and bytes are written as they are) one per line."""
    with open(path, "wb") as fh:
        for r in records:
            if isinstance(r, bytes):
                fh.write(r)
            elif isinstance(r, str):
                fh.write(r.encode())
            else:
                fh.write(json.dumps(r, ensure_ascii=False).encode())
            fh.write(b"\n")
    return path


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never see a warehouse (or scorecard folder) set by the developer's shell."""
    monkeypatch.delenv("QA_AUDIT_WAREHOUSE", raising=False)
    monkeypatch.delenv("QA_AUDIT_SCORECARDS", raising=False)
    monkeypatch.delenv("QA_AUDIT_CONTRACTS", raising=False)
    yield


@pytest.fixture
def wh(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def con(wh: Path) -> Iterator[Any]:
    from audits import warehouse

    c = warehouse.connect(wh)
    yield c
    c.close()


@pytest.fixture(scope="session")
def night_data(tmp_path_factory) -> Path:
    """600 synthetic conversations over three days (2026-11-01..03), three suppliers, with ground truth."""
    from audits.generator import generate

    out = tmp_path_factory.mktemp("nights")
    generate(out, conversations=600, seed=11, days=3)
    return out
