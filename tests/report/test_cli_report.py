"""`qa-audit report` through the real command group."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.report.conftest import FULL_TERMS, contract_text


@pytest.fixture
def main() -> Iterator[Any]:
    """The real `qa-audit` group, with `report` added for the test if audits/cli.py does not register it yet."""
    from audits import cli, cli_report

    added = [c for c in cli_report.COMMANDS if c.name not in cli.main.commands]
    for command in added:
        cli.main.add_command(command)
    yield cli.main
    for command in added:  # leave the group as it was (the CLI reference test compares its help)
        cli.main.commands.pop(str(command.name), None)


def test_report_writes_html_and_exports(main: Any, report_wh: Path, tmp_path: Path) -> None:
    folder = tmp_path / "contracts"
    folder.mkdir()
    plan = str(report_wh.parent / "plans" / "harbor-cx.yaml")
    (folder / "harbor-cx.yaml").write_text(contract_text("harbor-cx", plan, **FULL_TERMS), encoding="utf-8")
    out = tmp_path / "site" / "report.html"
    result = CliRunner().invoke(
        main,
        ["report", "-w", str(report_wh), "--supplier", "harbor-cx", "--period", "2026-11-01..2026-11-03",
         "--contracts", str(folder), "--out", str(out), "--exports", str(tmp_path / "exp"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["out"] == str(out) and out.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert data["period"] == {"from": "2026-11-01", "to": "2026-11-03", "label": "2026-11-01..2026-11-03"}
    (row,) = data["suppliers"]
    assert row["supplier"] == "harbor-cx" and row["open_findings"] == 1
    assert row["met"] + row["breached"] + row["not_enough_evidence"] > 10
    assert len(data["exports"]) == 28 and all(Path(p).exists() for p in data["exports"])

    text = CliRunner().invoke(main, ["report", "-w", str(report_wh), "--contract", str(folder / "harbor-cx.yaml"),
                                     "--out", str(out)])  # fmt: skip
    assert text.exit_code == 0, text.output
    assert f"Report for 2026-10-31..2026-11-03: {out}" in text.output
    assert "harbor-cx" in text.output and "lumen-ai" in text.output  # every supplier, one contract


def test_report_errors_are_clean(main: Any, report_wh: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main, ["report", "-w", str(report_wh), "--supplier", "nobody", "--out", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 1 and "no conversations of supplier 'nobody'" in result.output
    result = runner.invoke(
        main, ["report", "-w", str(report_wh), "--period", "2026-13", "--out", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 1 and "month 13 is not 01-12" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "contract_id: x\nbuyer: b\nsupplier: s\nterms: {quality_floor: {min_pass_rate: 2}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        main, ["report", "-w", str(report_wh), "--contract", str(bad), "--out", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 1 and f"{bad}: terms.quality_floor.min_pass_rate" in result.output
    assert not (tmp_path / "r.html").exists()


def test_default_contracts_folder_from_the_environment(
    main: Any, report_wh: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "env-contracts"
    folder.mkdir()
    (folder / "a.yaml").write_text(contract_text("lumen-ai", None, qa_coverage={"min_share": {"ai": 0.01}}),
                                   encoding="utf-8")  # fmt: skip
    monkeypatch.setenv("QA_AUDIT_CONTRACTS", str(folder))
    result = CliRunner().invoke(main, ["report", "-w", str(report_wh), "--supplier", "lumen-ai", "--json",
                                       "--out", str(tmp_path / "r.html")])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["contracts"] == [f"acme/lumen-ai ({folder / 'a.yaml'})"]
    assert data["suppliers"][0]["met"] == 1
