"""`qa-audit partition`: the command-line skin over the splitter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from audits.cli import main
from audits.cli_scale import COMMANDS
from tests.conftest import conv, write_jsonl


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    """audits/cli.py registers cli_scale's commands; until it does, each test adds them the same way
    and takes them away after (the CLI reference test must see the real CLI)."""
    added = [c for c in COMMANDS if c.name not in main.commands]
    for command in added:
        main.add_command(command)
    yield
    for command in added:
        main.commands.pop(str(command.name), None)


def test_partition_splits_and_exits_3_when_lines_are_unplaced(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "x.jsonl", [conv(), conv(conversation_id="c2", supplier="beta"), b"{oops"])
    result = CliRunner().invoke(main, ["partition", str(src), "--out", str(tmp_path / "parts")])
    assert result.exit_code == 3, result.output
    assert "2 placed in 2 partition(s), 1 unplaced" in result.output
    assert "malformed JSON" in result.output
    assert (tmp_path / "parts" / "supplier=acme-bpo" / "day=2026-11-01" / "00001-x.jsonl").exists()
    assert (tmp_path / "parts" / "_unplaced" / "00001-x.jsonl").read_bytes() == b"{oops\n"


def test_partition_json_and_a_clean_split_exits_0(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "x.jsonl", [conv()])
    result = CliRunner().invoke(
        main, ["partition", str(src), "--out", str(tmp_path / "p"), "--json", "--compress"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["records"], data["placed"], data["unplaced"], data["partitions"]) == (1, 1, 0, 1)
    assert (tmp_path / "p" / "supplier=acme-bpo" / "day=2026-11-01" / "00001-x.jsonl.gz").exists()


def test_partition_refuses_a_folder_in_use(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "x.jsonl", [conv()])
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["partition", str(src), "--out", str(tmp_path / "p")])
    assert result.exit_code == 1
    assert "already exists and is not empty" in result.output
