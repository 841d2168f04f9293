"""The CLI reference (docs/cli.md), generated from the commands themselves.

`python -m audits.cli_reference > docs/cli.md` (or `make docs`) writes it; a test fails when the
file and the commands differ, so the reference cannot drift.
"""

from __future__ import annotations

import click

from audits.cli import main


def _commands(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name in sorted(group.commands):
        cmd = group.commands[name]
        full = f"{prefix} {name}"
        out.append((full, cmd))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, full)
    return out


def render() -> str:
    parts = [
        "# qa-audit command reference",
        "",
        "Generated from the commands by `make docs` (`python -m audits.cli_reference`); "
        "a test fails when it is out of date.",
        "",
        "```",
        _help(main, "qa-audit"),
        "```",
    ]
    for full, cmd in _commands(main, "qa-audit"):
        parts += ["", f"## `{full}`", "", "```", _help(cmd, full), "```"]
    return "\n".join(parts) + "\n"


def _help(cmd: click.Command, name: str) -> str:
    ctx = click.Context(
        cmd, info_name=name, help_option_names=["-h", "--help"], max_content_width=100, terminal_width=100
    )
    return cmd.get_help(ctx).rstrip()


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
