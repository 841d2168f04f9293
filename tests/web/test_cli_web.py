"""`qa-audit review user add | user list | flush` through the real CLI."""

from __future__ import annotations

from click.testing import CliRunner

from audits.cli import main
from audits.web import spool
from tests.web.conftest import items

if "review" not in main.commands:  # until audits/cli.py registers audits.cli_web (then this is a no-op)
    from audits import cli_web

    main.add_command(cli_web.review_group)


def test_user_add_prints_a_token_once_and_list_never_shows_it(site):
    runner = CliRunner()
    r = runner.invoke(
        main,
        [
            "review",
            "user",
            "add",
            "cy",
            "--role",
            "buyer_auditor",
            "--supplier",
            "beta-bpo",
            "-w",
            str(site.path),
        ],
    )
    assert r.exit_code == 0, r.output
    token = r.output.strip().splitlines()[-1]
    assert len(token) >= 32
    listed = runner.invoke(main, ["review", "user", "list", "-w", str(site.path)])
    assert listed.exit_code == 0 and "cy" in listed.output and "beta-bpo" in listed.output
    assert token not in listed.output
    again = runner.invoke(main, ["review", "user", "add", "cy", "--role", "reviewer", "-w", str(site.path)])
    assert again.exit_code == 1 and "exists" in again.output
    bad = runner.invoke(
        main, ["review", "user", "add", "dee", "--role", "buyer_auditor", "-w", str(site.path)]
    )
    assert bad.exit_code == 1 and "--supplier" in bad.output


def test_flush_writes_queued_reviews(site):
    from audits import warehouse
    from audits.scoring import reviewer_view

    s, c, reviewer, _ = items(site.path, site.draw_id, role="primary")[0]
    with warehouse.open_warehouse(site.path, read_only=True) as con:
        card = reviewer_view(con, site.draw_id, s, c, reviewer).scorecard
    answers = {i.id: ("na" if i.na_allowed else i.scale.values[0]) for i in card.items}
    spool.spool_submission(
        spool.spool_path(site.path),
        "c" * 32,
        draw_id=site.draw_id,
        supplier=s,
        conversation_id=c,
        reviewer=reviewer,
        answers=answers,
        comments={},
    )
    r = CliRunner().invoke(main, ["review", "flush", "-w", str(site.path)])
    assert r.exit_code == 0 and r.output.startswith("1 written, 0 already written, 0 refused, 0 still queued")
