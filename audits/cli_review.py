"""`qa-audit queue | score | dispute`: the command-line skin over human scoring (audits.scoring).

`COMMANDS` holds the three click groups; audits/cli.py adds them to the main `qa-audit` group.
Each command parses its arguments, makes one library call and prints the result as text, or as
JSON with --json. Library errors become a one-line message (or a list, for a sheet) and exit 1.
Only click is imported at module level, so `qa-audit --help` stays fast; the options and output
helpers are shared with the other command modules (audits.cli_common).
"""

from __future__ import annotations

from typing import Any

import click

from audits.cli_common import json_option, warehouse_option
from audits.cli_common import library_errors as _library_errors
from audits.cli_common import print_json as _print_json
from audits.cli_common import table as _table

reviewer_option = click.option("--reviewer", "-r", required=True, help="The reviewer's name.")
answer_option = click.option(
    "--answer",
    "-a",
    "answers",
    multiple=True,
    metavar="ITEM=VALUE",
    help="An item's answer; repeat for every item.",
)
comment_option = click.option(
    "--comment", "comments", multiple=True, metavar="ITEM=TEXT", help="A comment on an item; repeatable."
)


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    """ITEM=VALUE options as a dict; a malformed or repeated item is a usage error."""
    out: dict[str, str] = {}
    for raw in values:
        item, sep, value = raw.partition("=")
        item = item.strip()
        if not sep or not item:
            raise click.BadParameter(f"{raw!r} is not ITEM=VALUE", param_hint=option)
        if item in out:
            raise click.BadParameter(f"item {item!r} is given twice", param_hint=option)
        out[item] = value
    return out


def _printable(text: Any) -> str:
    """Untrusted text for a terminal: control characters (escape sequences) shown as '?'."""
    return "".join(ch if ch.isprintable() or ch in "\n\t" else "?" for ch in str(text or ""))


# ------------------------------------------------------------------------------------------- queue


@click.group("queue")
def queue_group() -> None:
    """Review queues: assign a draw's items to reviewers, follow progress, export a sheet to fill."""


@queue_group.command("assign")
@click.argument("draw_id")
@click.option(
    "--reviewer", "-r", "reviewers", multiple=True, required=True, help="A reviewer; repeat for each."
)
@click.option(
    "--calibration-share",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.1,
    show_default=True,
    help="Share of items also given, blind, to further reviewers.",
)
@click.option(
    "--raters", type=click.IntRange(min=2), default=2, show_default=True, help="Raters per calibration item."
)
@click.option(
    "--seed", default=None, help="Seed of the keyed hash that deals the items. Default: the draw's seed."
)
@click.option(
    "--scorecards",
    "scorecards_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of scorecard YAML files. Default: $QA_AUDIT_SCORECARDS, else ./scorecards, else the shipped ones.",
)
@click.option("--scorecard-id", default=None, help="Use this scorecard for every conversation it applies to.")
@click.option(
    "--skip-uncovered", is_flag=True, help="Leave conversations no scorecard applies to unassigned (listed)."
)
@warehouse_option
@json_option
@_library_errors
def queue_assign(
    draw_id: str, reviewers: tuple[str, ...], calibration_share: float, raters: int, seed: str | None,
    scorecards_dir: str | None, scorecard_id: str | None, skip_uncovered: bool, warehouse: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Give every item of a draw to one primary reviewer, and a share to others for blind calibration.

    Items are dealt in the order of a keyed hash so loads differ by at most one. Assignments are
    sticky: running it again adds nothing, and a reviewer added later gets only unassigned work.
    Each conversation is scored on the scorecard for its channel and handler, pinned by version.
    """
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.scorecards import load_scorecards  # noqa: PLC0415
    from audits.scoring import assign_reviews  # noqa: PLC0415

    catalogue = load_scorecards(scorecards_dir)
    with wh.open_warehouse(warehouse) as con:
        result = assign_reviews(con, draw_id, list(reviewers), calibration_share=calibration_share,
                                raters_per_calibration_item=raters, seed=seed, scorecards=catalogue,
                                scorecard_id=scorecard_id, skip_uncovered=skip_uncovered)  # fmt: skip
    if as_json:
        _print_json(result.to_dict())
        return
    click.echo(
        f"draw {draw_id}: {result.items} items; added {result.primary_added} primary and "
        f"{result.calibration_added} calibration assignments ({result.calibration_items} calibration items)"
    )
    rows = [{"reviewer": r, **counts} for r, counts in result.per_reviewer.items()]
    click.echo(_table(rows, ["reviewer", "primary", "calibration"]))
    for channel, handler, n in result.uncovered:
        click.echo(f"not assigned: {n} conversation(s) on {channel}/{handler} (no scorecard applies)")


@queue_group.command("list")
@click.option("--reviewer", "-r", default=None, help="Only this reviewer's items.")
@click.option("--draw", "draw_id", default=None, help="Only this draw.")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True, help="Items to list.")
@warehouse_option
@json_option
@_library_errors
def queue_list(
    reviewer: str | None, draw_id: str | None, limit: int, warehouse: str | None, as_json: bool
) -> None:
    """Progress per draw and per reviewer, and the assigned items (open first); no scores are shown."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.scoring import queue  # noqa: PLC0415

    with wh.open_warehouse(warehouse, read_only=True) as con:
        report = queue(con, reviewer=reviewer, draw_id=draw_id)
    if as_json:
        _print_json(report.to_dict())
        return
    click.echo(_table(report.by_draw, ["draw_id", "items", "assigned", "primary_submitted", "calibration_items",
                                       "calibration_complete", "open_assignments", "open_disputes", "progress"]))  # fmt: skip
    click.echo("")
    click.echo(_table(report.by_reviewer, ["reviewer", "assigned", "submitted", "open", "primary_open",
                                           "calibration_open", "progress"]))  # fmt: skip
    if limit:
        click.echo("")
        click.echo(_table(report.items[:limit], ["draw_id", "supplier", "conversation_id", "reviewer", "role",
                                                 "status", "review_id"]))  # fmt: skip
        if len(report.items) > limit:
            click.echo(f"... {len(report.items) - limit} more (raise --limit)")


@queue_group.command("export")
@click.argument("draw_id")
@reviewer_option
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True, help="CSV file to write.")
@click.option(
    "--all", "include_submitted", is_flag=True, help="Also submitted items, with the current answers."
)
@warehouse_option
@_library_errors
def queue_export(
    draw_id: str, reviewer: str, out: str, include_submitted: bool, warehouse: str | None
) -> None:
    """Write a reviewer's open items of a draw as a CSV sheet: one row per conversation and scorecard item.

    Fill `value` (one of `allowed`; copy `prefilled` to confirm a check's proposal) and optionally
    `comment`, then `qa-audit score import`. Leave a conversation entirely blank to skip it.
    """
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.scoring import export_sheet  # noqa: PLC0415

    with wh.open_warehouse(warehouse, read_only=True) as con:
        result = export_sheet(con, draw_id, reviewer, out, include_submitted=include_submitted)
    click.echo(f"wrote {result.path}: {result.conversations} conversations, {result.rows} rows")


@queue_group.command("show")
@click.argument("draw_id")
@click.argument("supplier")
@click.argument("conversation_id")
@reviewer_option
@warehouse_option
@json_option
@_library_errors
def queue_show(
    draw_id: str, supplier: str, conversation_id: str, reviewer: str, warehouse: str | None, as_json: bool
) -> None:
    """Show an assigned conversation as its reviewer may see it: transcript, scorecard, check proposals.

    Other reviewers' answers appear only after this reviewer has submitted (blind review).
    """
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.scoring import reviewer_view  # noqa: PLC0415

    with wh.open_warehouse(warehouse, read_only=True) as con:
        view = reviewer_view(con, draw_id, supplier, conversation_id, reviewer)
    if as_json:
        _print_json(view.to_dict())
        return
    c = view.conversation
    click.echo(
        f"{supplier}/{conversation_id} ({c.get('channel')}, {c.get('handler')}) - {view.role}, {view.status}"
    )
    for t in view.turns:
        click.echo(f"  {t['turn_index']:>3} {t['speaker']:<12} {_printable(t['text'])}")
    current = next((r for r in view.own_reviews if r["current"]), None)
    click.echo(f"scorecard {view.scorecard.label}:")
    for item in view.scorecard.items:
        p = view.prefill.get(item.id)
        hint = f"  [check {p.check_id}: {p.outcome} -> {p.value}]" if p else ""
        mine = (
            f"  yours: {current['answers'][item.id]['value']}"
            if current and item.id in current["answers"]
            else ""
        )
        click.echo(f"  {item.id}: {item.question}{hint}{mine}")
    if view.others is None:
        click.echo("other reviewers' answers: hidden until you submit")
    else:
        for r in view.others:
            click.echo(
                f"  {r['reviewer']} ({r['role']}): score {r['score']:.3f}, {'pass' if r['passed'] else 'fail'}"
            )


# ------------------------------------------------------------------------------------------- score


@click.group("score")
def score_group() -> None:
    """Score assigned conversations: one at a time, or a filled review sheet (all or nothing)."""


@score_group.command("import")
@click.argument("sheet", type=click.Path(dir_okay=False))
@reviewer_option
@warehouse_option
@json_option
@_library_errors
def score_import(sheet: str, reviewer: str, warehouse: str | None, as_json: bool) -> None:
    """Import a filled review sheet (from `qa-audit queue export`).

    The whole file is checked first; any problem (listed with line and column) means nothing is
    written. Conversations left entirely blank are skipped and counted.
    """
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.scoring import import_sheet  # noqa: PLC0415

    with wh.open_warehouse(warehouse) as con:
        result = import_sheet(con, sheet, reviewer)
    if as_json:
        _print_json(result.to_dict())
        return
    click.echo(
        f"{sheet}: {result.submitted} conversations submitted, {result.skipped_blank} left blank (skipped), "
        f"{result.unchanged} unchanged; {result.rows} rows read"
    )


@score_group.command("submit")
@click.argument("draw_id")
@click.argument("supplier")
@click.argument("conversation_id")
@reviewer_option
@answer_option
@comment_option
@warehouse_option
@json_option
@_library_errors
def score_submit(
    draw_id: str, supplier: str, conversation_id: str, reviewer: str, answers: tuple[str, ...],
    comments: tuple[str, ...], warehouse: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Submit a reviewer's answers for one assigned conversation (re-submitting replaces, history kept)."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.scoring import submit_review  # noqa: PLC0415

    given, notes = _pairs(answers, "--answer"), _pairs(comments, "--comment")
    with wh.open_warehouse(warehouse) as con:
        result = submit_review(con, draw_id=draw_id, supplier=supplier, conversation_id=conversation_id,
                               reviewer=reviewer, answers=given, comments=notes)  # fmt: skip
    if as_json:
        _print_json(result.to_dict())
        return
    verdict = "pass" if result.passed else "fail"
    counts = (
        "counts toward the estimates" if result.counts else "calibration: does not count toward the estimates"
    )
    click.echo(f"review {result.review_id}: score {result.score:.3f}, {verdict} ({result.role}; {counts})")


# ----------------------------------------------------------------------------------------- dispute


@click.group("dispute")
def dispute_group() -> None:
    """Disputes: challenge the review that counts for a conversation, and settle the challenge."""


@dispute_group.command("open")
@click.argument("review_id", type=int)
@click.option("--by", "raised_by", required=True, help="Who raises the dispute.")
@click.option("--reason", required=True, help="Why the review is wrong.")
@warehouse_option
@_library_errors
def dispute_open(review_id: int, raised_by: str, reason: str, warehouse: str | None) -> None:
    """Dispute a review (the one that counts for its conversation); its reviewer cannot change it meanwhile."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.scoring import open_dispute  # noqa: PLC0415

    with wh.open_warehouse(warehouse) as con:
        dispute_id = open_dispute(con, review_id, raised_by, reason)
    click.echo(f"dispute {dispute_id} opened on review {review_id}")


@dispute_group.command("resolve")
@click.argument("dispute_id", type=int)
@click.option(
    "--by", "resolved_by", required=True, help="Who resolves it (not the disputed review's reviewer)."
)
@click.option("--outcome", type=click.Choice(["upheld", "rejected"]), required=True)
@answer_option
@comment_option
@click.option("--note", default=None, help="The resolution's rationale.")
@warehouse_option
@json_option
@_library_errors
def dispute_resolve(
    dispute_id: int, resolved_by: str, outcome: str, answers: tuple[str, ...], comments: tuple[str, ...],
    note: str | None, warehouse: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Resolve an open dispute: rejected keeps the review; upheld needs every item's corrected answer.

    An upheld dispute re-scores the conversation and its outcome replaces the one the estimates use.
    """
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.scoring import resolve_dispute  # noqa: PLC0415

    given, notes = _pairs(answers, "--answer"), _pairs(comments, "--comment")
    with wh.open_warehouse(warehouse) as con:
        result = resolve_dispute(con, dispute_id, resolved_by, outcome, given or None, note, comments=notes)
    if as_json:
        _print_json(result.to_dict())
        return
    before = "pass" if result.passed_before else "fail"
    after = "pass" if result.passed_after else "fail"
    extra = f"; review {result.new_review_id} now counts" if result.new_review_id else ""
    click.echo(f"dispute {dispute_id} {result.status}: {before} -> {after}{extra}")


@dispute_group.command("list")
@click.option("--status", type=click.Choice(["open", "upheld", "rejected"]), default=None)
@click.option("--draw", "draw_id", default=None, help="Only this draw.")
@warehouse_option
@json_option
@_library_errors
def dispute_list(status: str | None, draw_id: str | None, warehouse: str | None, as_json: bool) -> None:
    """List disputes, newest first: the disputed review, who raised and resolved it, the outcome."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.scoring import list_disputes  # noqa: PLC0415

    with wh.open_warehouse(warehouse, read_only=True) as con:
        rows = list_disputes(con, status=status, draw_id=draw_id)
    if as_json:
        _print_json(rows)
        return
    click.echo(_table(rows, ["dispute_id", "status", "supplier", "conversation_id", "review_id", "reviewer",
                             "raised_by", "resolved_by", "passed_before", "passed_after"]))  # fmt: skip


COMMANDS: list[click.Command] = [queue_group, score_group, dispute_group]
