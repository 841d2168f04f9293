"""`qa-audit review`: the review web page (serve it, manage its users, flush queued reviews).

`COMMANDS` holds the `review` group; audits/cli.py adds it to `qa-audit`. FastAPI, uvicorn and
Jinja2 are imported inside the commands so `qa-audit --help` stays fast. docs/review.md.
"""

from __future__ import annotations

import click

from audits.cli_common import json_option, warehouse_option
from audits.cli_common import library_errors as _library_errors
from audits.cli_common import print_json as _print_json
from audits.cli_common import table as _table


@click.group("review")
def review_group() -> None:
    """The review web page for QA teams: queues, scoring, calibration, disputes (docs/review.md)."""


@review_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port.")
@click.option(
    "--retry-seconds",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="How often reviews queued while the warehouse was busy are retried.",
)
@click.option("--secure-cookies", is_flag=True, help="Mark cookies Secure (serve behind HTTPS).")
@warehouse_option
@_library_errors
def serve(host: str, port: int, retry_seconds: float, secure_cookies: bool, warehouse: str | None) -> None:
    """Serve the review page over the warehouse (sign in with a token from `review user add`).

    The warehouse is opened only briefly per request, so the nightly run can still write it;
    reviews submitted while it is busy are kept on disk and written when it is free.
    """
    import uvicorn  # noqa: PLC0415

    from audits import warehouse as wh  # noqa: PLC0415
    from audits.web import create_app  # noqa: PLC0415

    app = create_app(wh.resolve_path(warehouse), retry_seconds=retry_seconds, secure_cookies=secure_cookies)
    click.echo(f"review page on http://{host}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


@review_group.group("user")
def user_group() -> None:
    """Users of the review page: reviewer, qa_lead, buyer_auditor (one supplier, read-only)."""


@user_group.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["reviewer", "qa_lead", "buyer_auditor"]),
    required=True,
    help="The user's role.",
)
@click.option("--supplier", default=None, help="The one supplier a buyer_auditor may see.")
@click.option("--rotate", is_flag=True, help="Give an existing user a new token (ends their sessions).")
@warehouse_option
@_library_errors
def user_add(name: str, role: str, supplier: str | None, rotate: bool, warehouse: str | None) -> None:
    """Add a user and print their sign-in token once (only its scrypt hash is stored).

    NAME is the reviewer name queue assignments use (`qa-audit queue assign -r NAME`).
    """
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.web.auth import add_user  # noqa: PLC0415

    with wh.open_warehouse(warehouse) as con:
        token = add_user(con, name, role, supplier, rotate=rotate)
    click.echo(f"user {name} ({role}{': ' + supplier if supplier else ''}); sign-in token (shown once):")
    click.echo(token)


@user_group.command("list")
@warehouse_option
@json_option
@_library_errors
def user_list(warehouse: str | None, as_json: bool) -> None:
    """List the page's users and roles (never their tokens)."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.web.auth import list_users  # noqa: PLC0415

    with wh.open_warehouse(warehouse, read_only=True) as con:
        rows = list_users(con)
    if as_json:
        _print_json(rows)
        return
    click.echo(_table(rows, ["name", "role", "supplier", "created_at", "disabled"]))


@review_group.command("flush")
@warehouse_option
@json_option
@_library_errors
def flush(warehouse: str | None, as_json: bool) -> None:
    """Write reviews queued while the warehouse was busy (each exactly once); the server does this itself."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.web import spool  # noqa: PLC0415

    target = wh.resolve_path(warehouse)
    result = spool.replay(spool.spool_path(target), target, wait=60.0)
    if as_json:
        _print_json(result.to_dict())
        return
    click.echo(
        f"{len(result.applied)} written, {len(result.already)} already written, "
        f"{len(result.refused)} refused, {result.pending} still queued"
    )
    for sid, error in result.refused:
        click.echo(f"refused {sid}: {error}")


COMMANDS: list[click.Command] = [review_group]
