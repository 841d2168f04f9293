"""`qa-audit partition`: split exports into the partitioned layout (audits.scale.split).

`COMMANDS` holds the command; audits/cli.py adds it to the main `qa-audit` group. The partitioned
audit itself runs as a Prefect flow (flows/partitioned_audit.py); docs/scaling.md explains both.
"""

from __future__ import annotations

import sys

import click

from audits.cli_common import json_option, library_errors, print_json

EXIT_UNPLACED = 3  # as `qa-audit load` exits when it quarantines


@click.command("partition")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="The folder to create: OUT/supplier=<s>/day=<YYYY-MM-DD>/, OUT/kb/, OUT/_unplaced/.",
)
@click.option("--compress", is_flag=True, help="Write the partition files gzipped (.jsonl.gz).")
@json_option
@library_errors
def partition(sources: tuple[str, ...], out_dir: str, compress: bool, as_json: bool) -> None:
    """Split JSON lines exports by supplier and UTC day of started_at.

    SOURCES are files or folders (folders give their .jsonl/.ndjson files, plain or gzipped, in name
    order; names starting with _ are skipped). Every export of one conversation goes to the partition
    of its last export, so a corrected re-export still replaces the earlier one. KB files are copied
    to OUT/kb/. Lines that cannot be placed (not UTF-8, not a JSON object, no supplier, no RFC 3339
    started_at) go to OUT/_unplaced/, where the partitioned audit quarantines them with reasons.
    OUT must not exist yet (or be empty).

    Exit status: 0 everything placed, 3 some lines unplaced, 1 an error (nothing written).
    """
    from audits.scale.split import split_exports  # noqa: PLC0415

    result = split_exports(sources, out_dir, compress=compress)
    if as_json:
        print_json(result.to_dict())
    else:
        click.echo(result.summary())
    if result.unplaced:
        sys.exit(EXIT_UNPLACED)


COMMANDS = [partition]
