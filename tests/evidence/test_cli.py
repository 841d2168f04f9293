"""`qa-audit pack`, `qa-audit verify` and `qa-audit log verify|show|head` through the real command group."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from audits import auditlog, warehouse
from audits.cli import main
from tests.evidence.conftest import PERIOD, A, World, rewrite


def run(*args: str) -> tuple[int, str]:
    out = CliRunner().invoke(main, list(args))
    return out.exit_code, out.output


def test_the_commands_are_listed() -> None:
    code, text = run("--help")
    assert code == 0 and all(f"  {c} " in text for c in ("pack", "verify", "log"))
    code, text = run("log", "--help")
    assert code == 0 and all(c in text for c in ("verify", "show", "head"))


def test_pack_then_verify(world: World, tmp_path: Path) -> None:
    out = tmp_path / "alpha.zip"
    code, text = run("pack", "--supplier", A, "--period", PERIOD, "--out", str(out), "-w", str(world.path))
    assert code == 0, text
    assert f"{out}: {A}, {PERIOD}: 32 conversations, 2 draws, 20 sampled, 20 scores" in text
    assert "left out: draw " in text and out.is_file()
    sha = text.split("MANIFEST.json sha256 ")[1].split()[0]
    code, text = run("verify", str(out), "--manifest-sha256", sha)
    assert code == 0, text
    assert (
        "PASS  files: " in text
        and "PASS  audit log: " in text
        and text.rstrip().endswith("all checks passed")
    )
    code, text = run("verify", str(out), "--json")
    data = json.loads(text)
    assert code == 0 and data["ok"] and data["supplier"] == A and data["failed"] == []


def test_pack_json_and_a_bad_period(world: World, tmp_path: Path) -> None:
    code, text = run("pack", "--supplier", A, "--period", "2026-W45", "--out", str(tmp_path / "w.zip"),
                     "-w", str(world.path), "--json")  # fmt: skip
    assert code == 0, text
    assert json.loads(text)["period"] == {
        "from": "2026-11-02",
        "to": "2026-11-08",
        "label": "2026-11-02..2026-11-08",
    }
    code, text = run("pack", "--supplier", A, "--period", "November", "--out", str(tmp_path / "x.zip"),
                     "-w", str(world.path))  # fmt: skip
    assert code == 1 and "period 'November'" in text


def test_verify_fails_with_exit_1_naming_the_check(pack_a: Path, tmp_path: Path) -> None:
    bad = rewrite(pack_a, tmp_path / "t.zip", {"scores.csv": b"draw_id,supplier,conversation_id,passed\n"})
    code, text = run("verify", str(bad))
    assert code == 1
    assert "FAIL  log vs pack: 20 difference(s)" in text and "scores.csv has none" in text
    assert text.rstrip().splitlines()[-1] == "FAILED: estimates, log vs pack"
    code, text = run("verify", str(pack_a), "--anchor", "12:abc")
    assert code == 2 and "expected SUPPLIER_SEQ:SHA256" in text


def test_log_verify_show_and_head(world: World, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(world.path, copy)
    w = ["-w", str(copy)]
    code, text = run("log", "verify", *w)
    assert code == 0 and text.startswith("audit log verifies: ")
    code, text = run("log", "head", "--supplier", A, *w)
    con = warehouse.connect(copy, read_only=True)
    try:
        head = auditlog.head(con, A)
        last = auditlog.entries(con, supplier=A, limit=3)
    finally:
        con.close()
    assert code == 0 and text.strip() == f"{head[0]}:{head[1]}"
    code, text = run("log", "show", "--supplier", A, "--limit", "3", *w)
    assert code == 0 and [line.split()[0] for line in text.splitlines()[2:]] == [str(e.seq) for e in last]
    code, text = run("log", "show", "--limit", "2", "--json", *w)
    assert code == 0 and len(json.loads(text)) == 2
    con = warehouse.connect(copy)
    try:
        con.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 7")
    finally:
        con.close()
    code, text = run("log", "verify", *w)
    assert code == 1 and "audit log BROKEN at entry 7: entry 7's hash does not match its content" in text
    code, text = run("log", "verify", "--json", *w)
    assert code == 1 and json.loads(text)["first_bad_seq"] == 7
