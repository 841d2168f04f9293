"""`qa-audit finding ...` (findings and their lifecycle) and `qa-audit trace` (a finding's dossier)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from audits.cli_common import json_option, library_errors, print_json, table, warehouse_option

actor_option = click.option(
    "--actor", required=True, help="Who records this (a user name, a team, a system)."
)


def _details(pairs: tuple[str, ...]) -> dict[str, Any]:
    """KEY=VALUE pairs; a VALUE that reads as JSON (a number, a list) is taken as JSON, else as text."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r}: expected KEY=VALUE", param_hint="--detail")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


@click.group("finding")
def finding() -> None:
    """Findings: one failed answer or other problem, walked from detection to a verified correction."""


@finding.command("open")
@click.argument("supplier")
@click.argument("conversation_id")
@click.option(
    "--kind",
    required=True,
    help="wrong_answer, missed_escalation, bot_loop, personal_data, compliance, other.",
)
@click.option("--severity", default="high", show_default=True, help="low, medium, high, critical.")
@click.option("--turn", type=int, default=None, help="The turn that shows it.")
@click.option("--summary", default=None, help="What is wrong, in a sentence.")
@click.option("--by", "detected_by", required=True, help="Who found it (a reviewer's name).")
@warehouse_option
@library_errors
def finding_open(supplier: str, conversation_id: str, kind: str, severity: str, turn: int | None,
                 summary: str | None, detected_by: str, warehouse: str | None) -> None:  # fmt: skip
    """Open a finding found by a reviewer; prints its id."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.trace.findings import open_finding  # noqa: PLC0415

    con = wh.connect(warehouse)
    try:
        click.echo(open_finding(con, supplier=supplier, conversation_id=conversation_id, kind=kind,
                                severity=severity, detected_by=detected_by, turn=turn, summary=summary))  # fmt: skip
    finally:
        con.close()


@finding.command("from-check")
@click.argument("supplier")
@click.argument("conversation_id")
@click.argument("check_id")
@click.option("--severity", default="high", show_default=True)
@warehouse_option
@library_errors
def finding_from_check_cmd(supplier: str, conversation_id: str, check_id: str, severity: str,
                           warehouse: str | None) -> None:  # fmt: skip
    """Open a finding from a failed automated check result; prints its id (the same id if it exists)."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.trace.findings import finding_from_check  # noqa: PLC0415

    con = wh.connect(warehouse)
    try:
        click.echo(finding_from_check(con, supplier, conversation_id, check_id, severity=severity))
    finally:
        con.close()


@finding.command("event")
@click.argument("finding_id")
@click.argument("event")
@actor_option
@click.option("--detail", "details", multiple=True, metavar="KEY=VALUE",
              help="A detail of the event (repeatable), e.g. verdict=confirmed, cause=kb_article.")  # fmt: skip
@warehouse_option
@library_errors
def finding_event(
    finding_id: str, event: str, actor: str, details: tuple[str, ...], warehouse: str | None
) -> None:
    """Record a lifecycle event (reviewed, root_cause, corrected, contacted, verified, closed, ...)."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.trace.findings import get_finding, record_event  # noqa: PLC0415

    con = wh.connect(warehouse)
    try:
        record_event(con, finding_id, event, actor=actor, **_details(details))
        click.echo(f"{finding_id}: {get_finding(con, finding_id).state}")
    finally:
        con.close()


@finding.command("blast")
@click.argument("finding_id")
@actor_option
@click.option("--index", "index_dir", type=click.Path(file_okay=False), default=None,
              help="A similarity index folder (`finding index`); without it only cited-version conversations.")  # fmt: skip
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.5, show_default=True)
@json_option
@warehouse_option
@library_errors
def finding_blast(finding_id: str, actor: str, index_dir: str | None, threshold: float, as_json: bool,
                  warehouse: str | None) -> None:  # fmt: skip
    """Search and store the blast radius of a corrected finding; lists the customers to contact."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.trace.similar import load_index  # noqa: PLC0415
    from audits.trace.workflow import search_blast  # noqa: PLC0415

    con = wh.connect(warehouse)
    try:
        radius = search_blast(con, finding_id, actor=actor, threshold=threshold,
                              index=load_index(index_dir) if index_dir else None)  # fmt: skip
    finally:
        con.close()
    data = radius.to_dict()
    if as_json:
        print_json(data)
        return
    lo, hi = radius.interval or (None, None)
    click.echo(f"{len(radius.rows)} conversations ({radius.cited} cited the version, {radius.similar} similar); "
               f"prevalence {radius.prevalence:.2%}" + (f" [{lo:.2%}, {hi:.2%}]" if lo is not None else "")
               + f"; {len(radius.customers)} customers to contact")  # fmt: skip


@finding.command("index")
@click.argument("folder", type=click.Path(file_okay=False))
@warehouse_option
@library_errors
def finding_index(folder: str, warehouse: str | None) -> None:
    """Build the TF-IDF index of agent answers that blast-radius and recurrence searches use."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.trace.similar import build_index  # noqa: PLC0415

    con = wh.connect(warehouse, read_only=True)
    try:
        info = build_index(con, folder)
    finally:
        con.close()
    click.echo(
        f"indexed {info.rows} answers ({info.features} terms) in {info.build_seconds:.1f}s into {folder}"
    )


@finding.command("list")
@click.option("--state", default=None)
@click.option("--conversation", "conversation_id", default=None)
@json_option
@warehouse_option
@library_errors
def finding_list(
    state: str | None, conversation_id: str | None, as_json: bool, warehouse: str | None
) -> None:
    """The findings, with their state."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.trace.findings import find_findings  # noqa: PLC0415

    con = wh.connect(warehouse)
    try:
        found = [f.to_dict() for f in find_findings(con, state=state, conversation_id=conversation_id)]
    finally:
        con.close()
    if as_json:
        print_json(found)
        return
    click.echo(
        table(
            found, ["finding_id", "supplier", "conversation_id", "kind", "severity", "state", "detected_at"]
        )
    )


@click.command("trace")
@click.argument("key")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the dossier as HTML.",
)
@json_option
@warehouse_option
@library_errors
def trace(key: str, html_path: str | None, as_json: bool, warehouse: str | None) -> None:
    """The dossier of a finding (F-...) or of the findings on a conversation: timeline, durations, KB
    diff, blast radius (personal data redacted). `--json`: `findings[].events` (event, at, actor) and
    `findings[].blast_radius` (conversation ids with their reason)."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.trace.workflow import dossier, dossier_html  # noqa: PLC0415

    con = wh.connect(warehouse)
    try:
        data = dossier(con, key)
    finally:
        con.close()
    if html_path:
        Path(html_path).write_text(dossier_html(data), encoding="utf-8")
    if as_json:
        print_json(data)
        return
    for f in data["findings"]:
        click.echo(f"{f['finding_id']}: {f['kind']} ({f['severity']}) on {f['supplier']}/{f['conversation_id']}, "
                   f"{f['state']}")  # fmt: skip
        click.echo(table(f["events"], ["event", "at", "actor"]))
        for name, seconds in f["durations"].items():
            click.echo(f"  {name}: {'not reached' if seconds is None else f'{seconds / 3600:.1f} h'}")
        click.echo(
            f"  blast radius: {len(f['blast_radius'])} conversations, {f['customers_to_contact']} to contact"
        )
    click.echo(
        f"audit log: {data['audit_log']['entries']} entries, {'verifies' if data['audit_log']['ok'] else 'BROKEN'}"
    )
    if html_path:
        click.echo(f"wrote {html_path}")


COMMANDS = [finding, trace]
