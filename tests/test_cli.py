"""The command line: help everywhere, a reference that cannot drift, exit codes, JSON output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from audits.cli import main
from audits.cli_reference import _commands, render
from tests.conftest import REPO, conv, write_jsonl

COMMANDS = [name for name, _ in _commands(main, "qa-audit")]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    args = command.split()[1:]
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    doc = main.get_command(None, args[0]).help  # type: ignore[union-attr]
    assert doc and len(doc.strip()) > 20


def test_the_cli_reference_is_up_to_date():
    assert (REPO / "docs" / "cli.md").read_text() == render(), "run `make docs` and commit docs/cli.md"


def test_start_up_does_not_import_heavy_modules():
    code = (
        "import sys, audits.cli; "
        "print([m for m in ('duckdb', 'pyarrow', 'great_expectations', 'prefect', 'sklearn', 'pandas') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_load_exit_codes_and_summary(tmp_path):
    wh = str(tmp_path / "w.duckdb")
    good = write_jsonl(tmp_path / "good.jsonl", [conv()])
    code, out = run("load", str(good), "--warehouse", wh)
    assert code == 0, out
    assert "1 conversations loaded (1 new, 0 replaced), 0 quarantined, 3 turns" in out

    mixed = write_jsonl(
        tmp_path / "mixed.jsonl", [conv(conversation_id="c2"), conv(conversation_id="c3", channel="fax"), "{"]
    )
    code, out = run("load", str(mixed), "--warehouse", wh)
    assert code == 3, out
    assert "1 conversations loaded" in out and "2 quarantined" in out
    assert "channel: allowed_values" in out and "(record): parse" in out

    code, out = run("load", str(tmp_path / "missing.jsonl"), "--warehouse", wh)
    assert code == 2  # click: the path does not exist

    code, out = run("load", str(good), "--warehouse", wh)
    assert code == 0 and "already loaded" in out


def test_load_json_and_quarantine_json(tmp_path):
    wh = str(tmp_path / "w.duckdb")
    path = write_jsonl(tmp_path / "a.jsonl", [conv(), conv(conversation_id="c2", csat=9)])
    code, out = run("load", str(path), "-w", wh, "--json")
    assert code == 3
    (loaded,) = json.loads(out)
    assert loaded["records_loaded"] == 1 and loaded["reasons"] == {"csat: range": 1}
    code, out = run("quarantine", "-w", wh, "--json", "--raw")
    assert code == 0
    data = json.loads(out)
    assert data["total"] == 1
    (rec,) = data["records"]
    assert (rec["line"], rec["record_id"], rec["superseded"]) == (2, "c2", False)
    assert rec["reasons"] == [{"field": "csat", "rule": "range", "message": "9 is not between 1 and 5"}]
    assert json.loads(rec["raw"])["csat"] == 9
    # a corrected re-export supersedes the quarantined copy
    run("load", str(write_jsonl(tmp_path / "b.jsonl", [conv(conversation_id="c2", csat=2)])), "-w", wh)
    assert json.loads(run("quarantine", "-w", wh, "--json")[1])["records"][0]["superseded"] is True


def test_status_and_loads(tmp_path):
    wh = str(tmp_path / "w.duckdb")
    run("load", str(write_jsonl(tmp_path / "a.jsonl", [conv()])), "-w", wh)
    code, out = run("status", "-w", wh, "--json")
    assert code == 0
    assert json.loads(out)["totals"]["conversations"] == 1
    code, out = run("loads", "-w", wh, "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert row["path"].endswith("a.jsonl") and len(row["sha256"]) == 64 and row["contract_success"] is True
    assert {"hash", "stage", "contract_sql", "contract_gx", "write"} <= set(row["timings"])


def test_reading_a_missing_warehouse_is_a_clear_error(tmp_path):
    code, out = run("status", "-w", str(tmp_path / "none.duckdb"))
    assert code == 1
    assert "no warehouse here yet" in out


def test_the_warehouse_env_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_AUDIT_WAREHOUSE", str(tmp_path / "env.duckdb"))
    code, _ = run("load", str(write_jsonl(tmp_path / "a.jsonl", [conv()])))
    assert code == 0
    assert (tmp_path / "env.duckdb").exists()


def test_contract_and_schema_print_json():
    code, out = run("contract")
    assert code == 0 and json.loads(out)["name"] == "conversation_contract"
    code, out = run("schema", "--kind", "kb_articles")
    assert code == 0 and json.loads(out)["title"].startswith("Knowledge-base")


def test_a_quarantined_record_is_not_superseded_by_an_older_good_copy(tmp_path):
    wh = str(tmp_path / "w.duckdb")
    run("load", str(write_jsonl(tmp_path / "good.jsonl", [conv()])), "-w", wh)
    run("load", str(write_jsonl(tmp_path / "bad-fix.jsonl", [conv(channel="fax")])), "-w", wh)
    (rec,) = json.loads(run("quarantine", "-w", wh, "--json")[1])["records"]
    assert rec["superseded"] is False
