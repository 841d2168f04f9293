"""`qa-audit check` (the automated checks over the warehouse) and `qa-audit calibrate` (agreement)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from audits.cli_common import json_option, library_errors, print_json, table, warehouse_option


@click.command("check")
@warehouse_option
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="YAML laid over the default thresholds and lexicons (see docs/checks.md).")  # fmt: skip
@click.option("--only", "checks", multiple=True, help="Run only this check (repeatable). Default: all.")
@click.option(
    "--supplier", "suppliers", multiple=True, help="Only this supplier's conversations (repeatable)."
)
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only conversations started on or after this UTC day.")  # fmt: skip
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only conversations started on or before this UTC day.")  # fmt: skip
@click.option("--list", "list_only", is_flag=True, help="List the catalogue and exit.")
@click.option("--truth", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A generator ground truth (_ground_truth.jsonl): also print precision and recall.")  # fmt: skip
@json_option
@library_errors
def check(
    warehouse: str | None,
    config_path: str | None,
    checks: tuple[str, ...],
    suppliers: tuple[str, ...],
    date_from: dt.datetime | None,
    date_to: dt.datetime | None,
    list_only: bool,
    truth: str | None,
    as_json: bool,
) -> None:
    """Run the automated checks on every conversation in scope; results go to `check_results`.

    Prints, per check id, its pass, fail and na (not applicable) counts. Re-running replaces the
    earlier results of the same conversations and checks.
    """
    from audits.checks.run import CATALOGUE  # noqa: PLC0415

    if list_only:
        rows = [{"check": c.check_id, "version": c.version, "what it tests": c.title} for c in CATALOGUE]
        print_json(rows) if as_json else click.echo(table(rows, ["check", "version", "what it tests"]))
        return
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.checks.config import load_config  # noqa: PLC0415
    from audits.checks.measure import measure  # noqa: PLC0415
    from audits.checks.run import Scope, run_checks, stale_results  # noqa: PLC0415

    cfg = load_config(config_path)
    scope = Scope(
        tuple(suppliers) or None,
        date_from.date() if date_from else None,
        date_to.date() if date_to else None,
    )
    con = wh.connect(warehouse)
    try:
        run = run_checks(con, cfg, checks=checks or None, scope=scope, progress=not as_json)
        measures = measure(con, truth) if truth else None
        stale = stale_results(con)
    finally:
        con.close()
    data: dict[str, Any] = run.to_dict()
    data["stale_conversations"] = stale
    if measures is not None:
        data["measured"] = {m.check_id: m.to_dict() for m in measures}
    if as_json:
        print_json(data)
        return
    for w in run.warnings:
        click.echo(f"warning: {w}", err=True)
    if stale:
        click.echo(f"warning: {stale} conversations outside this run's scope have results that no longer hold "
                   "(replaced, KB changed, or a later repeat contact); run qa-audit check without a scope", err=True)  # fmt: skip
    rows = []
    for cid, c in data["checks"].items():
        applicable = c["pass"] + c["fail"]
        row = {"check": cid, "v": c["version"], "pass": c["pass"], "fail": c["fail"], "na": c["na"],
               "fail %": f"{100 * c['fail'] / applicable:.1f}" if applicable else "-"}  # fmt: skip
        if measures is not None:
            m = data["measured"][cid]
            row["precision"] = "-" if m["precision"] is None else f"{m['precision']:.3f}"
            row["recall"] = "-" if m["recall"] is None else f"{m['recall']:.3f}"
        rows.append(row)
    cols = ["check", "v", "pass", "fail", "na", "fail %"] + (["precision", "recall"] if measures else [])
    click.echo(table(rows, cols))
    click.echo(f"{run.conversations} conversations checked in {run.seconds:.1f}s (run {run.run_id})")


@click.command("calibrate")
@warehouse_option
@click.option("--draw", "draw_id", default=None, help="Only the reviews of this draw. Default: all.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.67, show_default=True,
              help="Flag items whose agreement (Krippendorff's alpha, else kappa) is below this.")  # fmt: skip
@json_option
@library_errors
def calibrate(warehouse: str | None, draw_id: str | None, threshold: float, as_json: bool) -> None:
    """How well reviewers agree per scorecard item, and each automated check with the reviewers.

    Per item: percent agreement, Cohen's kappa (two reviewers; quadratic weights on ordinal scales),
    Fleiss' kappa (same number of answers per conversation), Krippendorff's alpha at the scale's
    level; items below the threshold are flagged. N/A answers are left out.
    """
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.calibrate import calibrate as run  # noqa: PLC0415

    con = wh.connect(warehouse)
    try:
        data = run(con, draw_id=draw_id, threshold=threshold)
    finally:
        con.close()
    if as_json:
        print_json(data)
        return

    def f(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    rows = [
        {"item": r["item"], "level": r["level"], "units": r["n_units"], "raters": r["n_raters"],
         "agree %": "-" if r["percent_agreement"] is None else f"{100 * r['percent_agreement']:.0f}",
         "kappa": f(r["cohen_kappa"]), "fleiss": f(r["fleiss_kappa"]), "alpha": f(r["krippendorff_alpha"]),
         "flag": "FLAG" if r["flagged"] else ""}
        for r in [*data["items"], data["overall"]]
    ]  # fmt: skip
    click.echo(
        table(rows, ["item", "level", "units", "raters", "agree %", "kappa", "fleiss", "alpha", "flag"])
    )
    if data["checks"]:
        click.echo("")
        rows = [
            {"item": c["item"], "check": c["check"], "pairs": c["n_pairs"], "kappa": f(c["cohen_kappa"]),
             "agree %": "-" if c["percent_agreement"] is None else f"{100 * c['percent_agreement']:.0f}",
             "flag": "FLAG" if c["flagged"] else ""}
            for c in data["checks"]
        ]  # fmt: skip
        click.echo(table(rows, ["item", "check", "pairs", "agree %", "kappa", "flag"]))
    click.echo(f"{data['ratings']['reviewer']} reviewer answers, {data['ratings']['check']} check answers; "
               f"flag threshold {threshold}")  # fmt: skip


COMMANDS = [check, calibrate]
