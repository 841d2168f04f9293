"""`queue`, `score` and `dispute` commands, run through click on a tiny group that adds COMMANDS."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from audits import warehouse
from audits.cli import main as cli
from audits.cli_review import COMMANDS
from audits.sampling import draw
from tests.conftest import REPO
from tests.sampling.conftest import make_plan, populate
from tests.scoring.conftest import FAILING, PASSING


def test_the_commands_are_on_qa_audit() -> None:
    assert all(cli.get_command(None, c.name) is c for c in COMMANDS)  # type: ignore[arg-type]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.fixture
def wh(tmp_path):
    path = tmp_path / "w.duckdb"
    con = warehouse.connect(path)
    populate(con, 300)
    draw_id = draw(con, make_plan(), "s1").draw_id
    con.close()
    return str(path), draw_id


def assigned(wh_path, reviewer, role="primary"):
    con = warehouse.connect(wh_path, read_only=True)
    try:
        return con.execute(
            "SELECT supplier, conversation_id, scorecard_id FROM review_assignments WHERE reviewer = ? AND role = ? "
            "ORDER BY 1, 2",
            [reviewer, role],
        ).fetchall()
    finally:
        con.close()


def answer_args(answers):
    return [x for k, v in answers.items() for x in ("--answer", f"{k}={v}")]


def test_assign_list_export_import_submit_and_dispute_end_to_end(wh, cards_dir, tmp_path):
    path, d = wh
    code, out = run("queue", "assign", d, "-r", "ann", "-r", "bob", "--scorecards", str(cards_dir), "-w", path,
                    "--json")  # fmt: skip
    assert code == 0, out
    data = json.loads(out)
    assert (data["primary_added"], data["calibration_added"]) == (60, 6)
    code, out = run(
        "queue", "assign", d, "-r", "ann", "-r", "bob", "--scorecards", str(cards_dir), "-w", path
    )
    assert code == 0 and "added 0 primary and 0 calibration" in out

    code, out = run("queue", "list", "--reviewer", "ann", "-w", path, "--json")
    report = json.loads(out)
    assert code == 0 and report["by_reviewer"][0]["submitted"] == 0

    sheet = tmp_path / "ann.csv"
    code, out = run("queue", "export", d, "--reviewer", "ann", "--out", str(sheet), "-w", path)
    assert code == 0 and out.startswith(f"wrote {sheet}:")
    with open(sheet, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["value"] = PASSING[r["scorecard_id"]][r["item_id"]]
    with open(sheet, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, out = run("score", "import", str(sheet), "--reviewer", "ann", "-w", path, "--json")
    assert code == 0, out
    imported = json.loads(out)
    assert (
        imported["submitted"] == len({r["conversation_id"] for r in rows}) and imported["skipped_blank"] == 0
    )

    s, c, card = assigned(path, "bob")[0]
    code, out = run("score", "submit", d, s, c, "--reviewer", "bob", *answer_args(FAILING[card]),
                    "--comment", f"{next(iter(FAILING[card]))}=not as the guidance says", "-w", path)  # fmt: skip
    assert code == 0, out
    assert "fail (primary; counts toward the estimates)" in out
    review_id = out.split()[1].rstrip(":")

    code, out = run("dispute", "open", review_id, "--by", "supplier", "--reason", "it did greet", "-w", path)
    assert code == 0 and out.strip() == f"dispute 1 opened on review {review_id}"
    code, out = run("dispute", "resolve", "1", "--by", "bob", "--outcome", "rejected", "-w", path)
    assert code == 1 and "another person must resolve dispute 1" in out
    code, out = run("dispute", "resolve", "1", "--by", "lead", "--outcome", "upheld", *answer_args(PASSING[card]),
                    "--note", "greeting in turn 1", "-w", path)  # fmt: skip
    assert code == 0 and "dispute 1 upheld: fail -> pass" in out
    code, out = run("dispute", "list", "-w", path, "--json")
    [row] = json.loads(out)
    assert (row["status"], row["resolved_by"], row["passed_after"]) == ("upheld", "lead", True)

    con = warehouse.connect(path, read_only=True)
    scored = con.execute(
        "SELECT scored_by FROM sample_scores WHERE supplier = ? AND conversation_id = ?", [s, c]
    )
    assert scored.fetchall() == [("lead (dispute 1)",)]
    con.close()


def test_a_sheet_with_problems_exits_1_and_lists_them(wh, cards_dir, tmp_path):
    path, d = wh
    run(
        "queue",
        "assign",
        d,
        "-r",
        "ann",
        "--calibration-share",
        "0",
        "--scorecards",
        str(cards_dir),
        "-w",
        path,
    )
    sheet = tmp_path / "ann.csv"
    run("queue", "export", d, "--reviewer", "ann", "--out", str(sheet), "-w", path)
    with open(sheet, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["value"] = "perhaps"
    with open(sheet, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, out = run("score", "import", str(sheet), "--reviewer", "ann", "-w", path)
    assert code == 1
    assert f"{sheet}: {len(rows)} problem(s); nothing was imported" in out
    assert f"{sheet}:2 [value]: 'perhaps' is not allowed" in out


def test_submitting_an_item_not_assigned_exits_1_naming_it(wh, cards_dir):
    path, d = wh
    run(
        "queue",
        "assign",
        d,
        "-r",
        "ann",
        "--calibration-share",
        "0",
        "--scorecards",
        str(cards_dir),
        "-w",
        path,
    )
    s, c, card = assigned(path, "ann")[0]
    code, out = run("score", "submit", d, s, c, "--reviewer", "zed", *answer_args(PASSING[card]), "-w", path)
    assert code == 1 and f"conversation '{c}' of supplier '{s}'" in out and "not assigned to 'zed'" in out


def test_a_malformed_answer_is_a_usage_error(wh, cards_dir):
    path, d = wh
    code, out = run("score", "submit", d, "acme", "c-1", "--reviewer", "ann", "--answer", "tone", "-w", path)
    assert code == 2 and "'tone' is not ITEM=VALUE" in out
    code, out = run("score", "submit", d, "acme", "c-1", "-r", "ann", "-a", "x=1", "-a", "x=2", "-w", path)
    assert code == 2 and "item 'x' is given twice" in out


def test_show_hides_other_reviewers_until_the_reviewer_submits(wh, cards_dir):
    path, d = wh
    run("queue", "assign", d, "-r", "ann", "-r", "bob", "--calibration-share", "0.5", "--scorecards",
        str(cards_dir), "-w", path)  # fmt: skip
    con = warehouse.connect(path, read_only=True)
    s, c, primary, rater, card = con.execute(
        "SELECT p.supplier, p.conversation_id, p.reviewer, k.reviewer, p.scorecard_id FROM review_assignments p "
        "JOIN review_assignments k USING (draw_id, supplier, conversation_id) "
        "WHERE p.role = 'primary' AND k.role = 'calibration' ORDER BY 1, 2 LIMIT 1"
    ).fetchall()[0]
    con.close()
    run("score", "submit", d, s, c, "-r", primary, *answer_args(FAILING[card]), "--comment", "resolved=SECRET-1",
        "-w", path)  # fmt: skip
    code, out = run("queue", "show", d, s, c, "--reviewer", rater, "-w", path)
    assert code == 0, out
    assert "hidden until you submit" in out and "SECRET-1" not in out and primary not in out
    code, out = run("queue", "show", d, s, c, "--reviewer", rater, "-w", path, "--json")
    assert json.loads(out)["others"] is None and "SECRET-1" not in out
    run("score", "submit", d, s, c, "-r", rater, *answer_args(PASSING[card]), "-w", path)
    code, out = run("queue", "show", d, s, c, "--reviewer", rater, "-w", path)
    assert f"{primary} (primary): score" in out


def test_queue_list_prints_progress_tables(wh, cards_dir):
    path, d = wh
    run("queue", "assign", d, "-r", "ann", "-r", "bob", "--scorecards", str(cards_dir), "-w", path)
    code, out = run("queue", "list", "-w", path, "--limit", "3")
    assert code == 0
    assert "calibration_complete" in out and "primary_open" in out
    assert "more (raise --limit)" in out


def test_a_missing_scorecard_folder_is_a_clean_error(wh, tmp_path):
    path, d = wh
    code, out = run("queue", "assign", d, "-r", "ann", "--scorecards", str(tmp_path / "none"), "-w", path)
    assert code == 1 and "no such scorecard folder" in out


def all_commands(group: click.Group, prefix: str = "") -> list[str]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix} {name}".strip()
        out.append(full)
        if isinstance(cmd, click.Group):
            out += all_commands(cmd, full)
    return out


@pytest.mark.parametrize(
    "command", [c for group in COMMANDS for c in all_commands(cli) if c.split()[0] == group.name]
)
def test_every_command_has_help_and_is_in_the_docs(command):
    code, out = run(*command.split(), "--help")
    assert code == 0 and "Usage: " in out
    docs = (REPO / "docs" / "scoring.md").read_text(encoding="utf-8")
    assert f"qa-audit {command}" in docs


def test_importing_the_commands_loads_no_heavy_module():
    code = (
        "import sys, audits.cli_review; "
        "print([m for m in ('duckdb', 'pyarrow', 'yaml', 'audits.scoring') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
