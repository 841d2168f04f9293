"""The JSON Schema users validate with agrees with the loader's field declarations and contract."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from audits.ingest.fields import (
    CHANNELS,
    CONVERSATION_FIELDS,
    HANDLERS,
    KB_FIELDS,
    OUTCOMES,
    SPEAKERS,
    TURN_FIELDS,
)
from tests.conftest import conv


def schema(name: str) -> dict:
    return json.loads(resources.files("audits").joinpath(f"schema/{name}.schema.json").read_text())


def validator(name: str) -> jsonschema.Draft202012Validator:
    s = schema(name)
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


def test_conversation_schema_matches_the_declared_fields():
    s = schema("conversation")
    top = {f.path.split(".")[0] for f in CONVERSATION_FIELDS} | {"turns"}
    assert set(s["properties"]) == top
    required = {f.path for f in CONVERSATION_FIELDS if f.required} | {"turns"}
    assert set(s["required"]) == required
    assert s["properties"]["channel"]["enum"] == list(CHANNELS)
    assert s["properties"]["handler"]["enum"] == list(HANDLERS)
    assert s["properties"]["outcome"]["enum"] == [*OUTCOMES, None]
    nested = {f.path for f in CONVERSATION_FIELDS if "." in f.path}
    assert {
        f"{k}.{p}" for k in ("automation", "escalation") for p in s["properties"][k]["properties"]
    } == nested
    turn = s["$defs"]["turn"]
    assert set(turn["properties"]) == {f.path for f in TURN_FIELDS}
    assert set(turn["required"]) == {f.path for f in TURN_FIELDS if f.required}
    assert turn["properties"]["speaker"]["enum"] == list(SPEAKERS)


def test_kb_schema_matches_the_declared_fields():
    s = schema("kb_article")
    assert set(s["properties"]) == {f.path for f in KB_FIELDS}
    assert set(s["required"]) == {f.path for f in KB_FIELDS if f.required}


def test_a_valid_conversation_validates():
    validator("conversation").validate(conv(extra_field={"kept": True}))


@pytest.mark.parametrize(
    "bad",
    [
        conv(channel="fax"),
        conv(handler=...),
        conv(started_at="2026-11-01T10:00:00"),
        conv(csat=6),
        conv(csat="5"),
        conv(turns=[]),
        conv(turns=[{"speaker": "bot", "text": "x"}]),
        conv(turns=[{"speaker": "customer", "text": "   "}]),
        conv(market="sgp"),
    ],
)
def test_records_the_contract_rejects_fail_the_schema(bad, con, tmp_path):
    from audits.ingest.load import load_file
    from tests.conftest import write_jsonl

    assert list(validator("conversation").iter_errors(bad)), "the schema accepted it"
    assert load_file(con, write_jsonl(tmp_path / "a.jsonl", [bad])).records_quarantined == 1
