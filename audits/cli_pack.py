"""`qa-audit pack` (a supplier's evidence pack), `qa-audit verify` (check one) and `qa-audit log` (the audit log)."""

from __future__ import annotations

import sys
from typing import Any

import click

from audits.cli_common import (
    contract_options,
    json_option,
    library_errors,
    print_json,
    table,
    warehouse_option,
)


def _anchor(value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    seq, sep, digest = value.partition(":")
    if not sep or not seq.strip().isdigit() or len(digest.strip()) != 64:
        raise click.BadParameter(
            f"{value!r}: expected SUPPLIER_SEQ:SHA256 (64 hex digits)", param_hint="--anchor"
        )
    return int(seq), digest.strip().lower()


@click.command("pack")
@click.option("--supplier", required=True, help="The supplier whose evidence goes into the pack.")
@click.option(
    "--period", required=True, help="UTC days: 2026-11-05, 2026-11-01..2026-11-07, 2026-W45 or 2026-11."
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The zip file to write.")
@contract_options
@warehouse_option
@json_option
@library_errors
def pack(supplier: str, period: str, out: str, contract_files: tuple[str, ...], contracts_dir: str | None,
         warehouse: str | None, as_json: bool) -> None:  # fmt: skip
    """Write one supplier's evidence pack for a period: population, draws, scores, estimates, contract
    verdicts, findings, its audit log chain, the report and the sampled transcripts (redacted)."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.contracts.load import contracts_or_default  # noqa: PLC0415
    from audits.evidence import build_pack  # noqa: PLC0415
    from audits.period import parse_period  # noqa: PLC0415

    contracts = contracts_or_default([*contract_files, *([contracts_dir] if contracts_dir else [])])
    when = parse_period(period)
    con = wh.connect(warehouse, read_only=True)
    try:
        result = build_pack(con, supplier, when, out, contracts=contracts)
    finally:
        con.close()
    if as_json:
        print_json(result.to_dict())
        return
    click.echo(f"{result.path}: {supplier}, {when.label}: {result.population} conversations, "
               f"{len(result.draws)} draws, {result.sampled} sampled, {result.scores} scores, "
               f"{result.log_entries} audit log entries; MANIFEST.json sha256 {result.manifest_sha256}")  # fmt: skip
    for note in result.left_out:
        click.echo(f"left out: {note}")


@click.command("verify")
@click.argument("pack_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--population", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Your own list of the period's conversations (CSV with conversation_id; optional supplier, "
              "content_hash, started_at) to compare with the pack's population.")  # fmt: skip
@click.option("--manifest-sha256", default=None, metavar="SHA256",
              help="MANIFEST.json's sha256 as `qa-audit pack` printed it, received separately.")  # fmt: skip
@click.option("--anchor", default=None, metavar="SEQ:SHA256",
              help="A head of the supplier's audit log chain received separately (an earlier pack, a report): "
              "the pack's chain must hold it.")  # fmt: skip
@json_option
@library_errors
def verify(
    pack_file: str, population: str | None, manifest_sha256: str | None, anchor: str | None, as_json: bool
) -> None:
    """Check an evidence pack with the pack alone: file hashes, supplier, population, each draw re-derived
    from population and seed, transcripts, scores, estimates, the audit log chain; exit 1 if any fails."""
    from audits.evidence import verify_pack  # noqa: PLC0415

    result = verify_pack(
        pack_file, population=population, anchor=_anchor(anchor), manifest_sha256=manifest_sha256
    )
    if as_json:
        print_json(result.to_dict())
    else:
        click.echo(result.text())
    if not result.ok:
        sys.exit(1)


@click.group("log")
def log() -> None:
    """The audit log: every draw, assignment, review, override, dispute and finding event, hash-chained."""


@log.command("verify")
@warehouse_option
@json_option
@library_errors
def log_verify(warehouse: str | None, as_json: bool) -> None:
    """Recompute the audit log's chain and every supplier's chain; exit 1 naming the first broken entry."""
    from audits import auditlog  # noqa: PLC0415
    from audits import warehouse as wh  # noqa: PLC0415

    con = wh.connect(warehouse, read_only=True)
    try:
        result = auditlog.verify(con)
        head = auditlog.head(con)
    finally:
        con.close()
    if as_json:
        print_json({**result.to_dict(), "head": {"seq": head[0], "hash": head[1]}})
    elif result.ok:
        click.echo(f"audit log verifies: {result.entries} entries, head {head[0]}:{head[1]}")
    else:
        click.echo(f"audit log BROKEN at entry {result.first_bad_seq}: {result.reason}")
    if not result.ok:
        sys.exit(1)


@log.command("show")
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="The last N entries."
)
@click.option("--supplier", default=None, help="Only this supplier's entries.")
@click.option(
    "--action", "action_prefix", default=None, help="Only actions starting with this, e.g. draw. or review."
)
@click.option(
    "--subject", default=None, help="Only entries about this subject (a draw id, a finding id, ...)."
)
@warehouse_option
@json_option
@library_errors
def log_show(limit: int, supplier: str | None, action_prefix: str | None, subject: str | None,
             warehouse: str | None, as_json: bool) -> None:  # fmt: skip
    """The last entries of the audit log (seq, time, actor, action, subject, supplier)."""
    from audits import auditlog  # noqa: PLC0415
    from audits import warehouse as wh  # noqa: PLC0415

    con = wh.connect(warehouse, read_only=True)
    try:
        found = auditlog.entries(con, subject, action_prefix, supplier=supplier, limit=limit)
    finally:
        con.close()
    if as_json:
        print_json([e.to_dict() for e in found])
        return
    rows: list[dict[str, Any]] = [
        {"seq": e.seq, "at": auditlog.iso_utc(e.at)[:19] + "Z", "actor": e.actor, "action": e.action,
         "subject": e.subject, "supplier": e.supplier or ""}
        for e in found
    ]  # fmt: skip
    click.echo(table(rows, ["seq", "at", "actor", "action", "subject", "supplier"]))


@log.command("head")
@click.option(
    "--supplier", default=None, help="The head of this supplier's chain instead of the whole log's."
)
@warehouse_option
@json_option
@library_errors
def log_head(supplier: str | None, warehouse: str | None, as_json: bool) -> None:
    """The last entry's number and hash (SEQ:SHA256): publish it to detect later truncation or rewriting."""
    from audits import auditlog  # noqa: PLC0415
    from audits import warehouse as wh  # noqa: PLC0415

    con = wh.connect(warehouse, read_only=True)
    try:
        seq, digest = auditlog.head(con, supplier)
    finally:
        con.close()
    if as_json:
        print_json({"supplier": supplier, "seq": seq, "hash": digest})
    else:
        click.echo(f"{seq}:{digest}")


COMMANDS = [pack, verify, log]
