"""What every `qa-audit` command module shares: the warehouse and JSON options, error handling, output."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

warehouse_option = click.option(
    "--warehouse",
    "-w",
    type=click.Path(dir_okay=False),
    default=None,
    help="DuckDB warehouse file. Default: $QA_AUDIT_WAREHOUSE, else data/warehouse.duckdb.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def contract_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--contract FILE (repeatable) and --contracts DIR: the contracts a command judges against."""
    fn = click.option("--contracts", "contracts_dir", type=click.Path(exists=True, file_okay=False), default=None,
                      help="A folder of contract YAML files. Default (without --contract): $QA_AUDIT_CONTRACTS, "
                      "else ./data/contracts.")(fn)  # fmt: skip
    return click.option("--contract", "contract_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
                        help="A contract YAML file (repeatable).")(fn)  # fmt: skip


def library_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's errors into a clean message and exit status 1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from audits.errors import AuditError  # noqa: PLC0415

        try:
            return fn(*args, **kwargs)
        except AuditError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A plain aligned text table."""
    if not rows:
        return "(none)"
    cells = [[str(r.get(c, "") if r.get(c) is not None else "") for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)
