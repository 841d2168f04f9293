"""`qa-audit nightly` (one night's audit through the Prefect flow) and `qa-audit runs` (its history)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click

from audits.cli_common import json_option, library_errors, print_json, table, warehouse_option


@click.command("nightly")
@click.option("--date", "night", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The night to audit (a UTC day). Default: yesterday in --timezone.")  # fmt: skip
@click.option(
    "--input",
    "input_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Exports folder; INPUT/<date> is used when it exists. Default: $QA_AUDIT_INBOX, else data/inbox.",
)
@warehouse_option
@click.option("--plan", "plans", multiple=True, type=click.Path(exists=True),
              help="Nightly sampling plan (file or folder; repeatable). Default: data/plans/nightly.")  # fmt: skip
@click.option("--seed", default=None, help="Prepended to each night's seed (e.g. one the buyer gave).")
@click.option("--reviewer", "reviewers", multiple=True, help="Who gets the review queues (repeatable).")
@click.option("--floor", type=float, default=0.85, show_default=True,
              help="The contract's pass-rate floor for the sequential breach test.")  # fmt: skip
@click.option("--check-config", type=click.Path(exists=True, dir_okay=False), default=None,
              help="YAML over the checks' defaults.")  # fmt: skip
@click.option("--simulate-reviews", "truth", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Demo only: a generator ground truth file; a simulated reviewer scores the queues.")  # fmt: skip
@click.option("--wait", type=float, default=0.0, show_default=True,
              help="Seconds to wait while another night holds the warehouse.")  # fmt: skip
@click.option("--timezone", default="UTC", show_default=True, help="Time zone that decides 'yesterday'.")
@click.option("--contracts", "contracts", multiple=True, type=click.Path(exists=True),
              help="Contract YAML (file or folder; repeatable) the HTML report judges. "
                   "Default: $QA_AUDIT_CONTRACTS, else ./data/contracts.")  # fmt: skip
@json_option
@library_errors
def nightly(
    night: dt.datetime | None, input_dir: str | None, warehouse: str | None, plans: tuple[str, ...],
    seed: str | None, reviewers: tuple[str, ...], floor: float, check_config: str | None,
    truth: str | None, wait: float, timezone: str, contracts: tuple[str, ...], as_json: bool,
) -> None:  # fmt: skip
    """Audit one night: ingest, contract, checks, flags, draw, queues, estimates, breach tests, report.

    Runs the Prefect flow `nightly-audit` in this process (Prefect's temporary server: nothing to
    install). Re-running a night is safe: it ends with the same warehouse as one uninterrupted run.
    Each attempt is recorded (qa-audit runs). Exit status 1 when a step failed.
    """
    from flows.nightly_audit import nightly_audit  # noqa: PLC0415

    out = nightly_audit(
        night=night.date() if night else None, input_dir=input_dir, warehouse=warehouse,
        plans=list(plans) or None, seed=seed, reviewers=list(reviewers) or None, floor=floor,
        check_config=check_config, simulate_reviews=truth, wait=wait, timezone=timezone,
        contracts=list(contracts) or None,
    )  # fmt: skip
    if as_json:
        print_json(out)
        return
    click.echo(format_night(out))


def format_night(out: dict[str, Any]) -> str:
    """A night's flow result as a few lines per step."""
    lines = [f"night {out['night']} (run {out['run_id']}) into {out['warehouse']}"]
    for s in out["steps"]:
        lines.append(f"  {s['step']:<9} {s['seconds']:7.2f}s  {_summary(s['step'], s['counts'])}")
    lines.append(
        f"  flow {out['flow_seconds']:.2f}s = library {out['library_seconds']:.2f}s "
        f"+ orchestration {out['overhead_seconds']:.2f}s"
    )
    return "\n".join(lines)


def _summary(step: str, c: dict[str, Any]) -> str:
    if step == "ingest":
        return (f"{c['files']} files ({c['already_loaded']} loaded before), {c['records_loaded']} records loaded, "
                f"{c['records_quarantined']} quarantined")  # fmt: skip
    if step == "contract":
        return f"{c['conversations']} conversations in the night; {c['verdict']}"
    if step == "checks":
        fails = sum(c["fails"].values())
        return f"{c['conversations']} conversations checked, {fails} fails; repeat window {c['repeat_window_rechecked']}"
    if step == "flags":
        return ", ".join(
            f"{s}: {sum(v['check_fails'].values())} check fails" for s, v in c["by_supplier"].items()
        )
    if step == "draw":
        return ", ".join(f"{d['plan']} {d['items']}/{d['population']}" + (" (found)" if d["existing"] else "")
                         for d in c["draws"])  # fmt: skip
    if step == "assign":
        return ", ".join(f"{k}: +{v['primary_added']} primary, +{v['calibration_added']} calibration"
                         for k, v in c["draws"].items())  # fmt: skip
    if step == "simulate":
        return f"{c['simulated_reviews']} reviews by the simulated reviewer (marked simulated)"
    if step == "estimate":
        parts = []
        for k, v in c["draws"].items():
            o = v.get("overall")
            parts.append(f"{k}: pass {o['pass_rate']:.1%} of {v['scored']}" if o else f"{k}: no scores yet")
        return ", ".join(parts)
    if step == "breach":
        return ", ".join(f"{s}: {v['verdict']} ({v['failures']}/{v['n']} over {v['nights']} nights)"
                         for s, v in c["suppliers"].items())  # fmt: skip
    if step == "report":
        return f"{c['html']} (and .json; {c['contracts']} contracts judged)"
    return ""


@click.command("runs")
@warehouse_option
@click.option("--night", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Only attempts at this night.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--steps", "show_steps", is_flag=True, help="Also each step's seconds and counts.")
@json_option
@library_errors
def runs(
    warehouse: str | None, night: dt.datetime | None, limit: int, show_steps: bool, as_json: bool
) -> None:
    """The nightly audit's run history: run id, night, times, outcome, seconds per step.

    Exit status 1 when the latest attempt listed failed or crashed (for a monitoring script).
    """
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.nightly.history import list_runs  # noqa: PLC0415

    with wh.open_warehouse(warehouse, read_only=True) as con:
        rows = list_runs(con, night=night.date() if night else None, limit=limit)
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("no nightly runs yet (qa-audit nightly)")
        return
    view = [{
        "run_id": r["run_id"][:8], "night": r["night"], "started_at": f"{r['started_at']:%Y-%m-%d %H:%M:%S}",
        "seconds": f"{r['seconds']:.1f}" if r["seconds"] is not None else "",
        "outcome": r["outcome"], "steps": " ".join(f"{s['step']}:{s['seconds']:.1f}" for s in r["steps"]),
    } for r in rows]  # fmt: skip
    click.echo(table(view, ["run_id", "night", "started_at", "seconds", "outcome", "steps"]))
    for r in rows:
        if r["error"]:
            click.echo(f"{r['run_id'][:8]}: {r['error']}")
        if show_steps:
            for s in r["steps"]:
                click.echo(
                    f"  {r['run_id'][:8]} {s['step']:<9} {s['seconds']:.2f}s {_summary(s['step'], s['counts'])}"
                )
    if any(r["outcome"] in ("failed", "crashed") for r in rows[:1]):
        sys.exit(1)


COMMANDS = [nightly, runs]
