"""`qa-audit`: the command-line skin over the library.

Each command parses its arguments, makes one library call and prints the result, as text for a
person or as JSON (`--json`) for a script. Library errors become a one-line message and exit 1.
Heavy modules (duckdb, pyarrow, Great Expectations, Prefect) are imported inside the commands,
so `qa-audit --help` starts at once.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from audits.cli_common import json_option, warehouse_option
from audits.cli_common import library_errors as _library_errors
from audits.cli_common import print_json as _print_json
from audits.cli_common import table as _table

EXIT_QUARANTINED = 3
BUNDLED_DATA = Path(__file__).resolve().parents[1] / "data" / "demo"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="qa-audit")
def main() -> None:
    """QA sampling and edge-case audit pipeline for customer support.

    Load transcripts into a DuckDB warehouse under a data contract, and (in later releases)
    check, sample, score and estimate. Start with `qa-audit demo`.
    """


# ---------------------------------------------------------------------------------------------


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@warehouse_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "jsonl", "parquet", "csv", "tau-bench", "abcd"]),
    default="auto",
    show_default=True,
    help="Input format. auto: by file name (.jsonl[.gz], NAME.conversations.parquet/.csv, ...).",
)
@click.option(
    "--kind",
    type=click.Choice(["auto", "conversations", "kb_articles"]),
    default="auto",
    show_default=True,
    help="What the records are. auto: KB articles have article_id and no conversation_id.",
)
@click.option(
    "--repeat-window-days",
    type=click.IntRange(min=0),
    default=None,
    help="Repeat-contact window. Default: the warehouse's current setting, else 7.",
)
@click.option(
    "--max-record-bytes",
    type=click.IntRange(min=1),
    default=32 * 1024 * 1024,
    show_default=True,
    help="A record (line) larger than this is quarantined, not loaded.",
)
@click.option(
    "--wait", type=float, default=60.0, show_default=True, help="Seconds to wait for a busy warehouse."
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar (default: large files on a terminal)."
)
@json_option
@_library_errors
def load(
    paths: tuple[str, ...],
    warehouse: str | None,
    fmt: str,
    kind: str,
    repeat_window_days: int | None,
    max_record_bytes: int,
    wait: float,
    progress: bool | None,
    as_json: bool,
) -> None:
    """Load conversation and KB exports into the warehouse.

    PATHS are files or folders. Each file is loaded in one transaction: all of it or none.
    Records that break the data contract go to quarantine with their reasons; the rest load.
    A file loaded before (same bytes) is skipped; a corrected re-export replaces the records
    it contains.

    Exit status: 0 all loaded, 3 some records quarantined, 1 an error (nothing from that file).
    """
    from audits.ingest import format_load_summary, load_paths  # noqa: PLC0415

    results = load_paths(
        paths,
        warehouse_path=warehouse,
        fmt=fmt,
        kind=kind,
        repeat_window_days=repeat_window_days,
        max_record_bytes=max_record_bytes,
        wait=wait,
        progress=progress,
    )
    if as_json:
        _print_json([r.to_dict() for r in results])
    else:
        click.echo(format_load_summary(results))
    if any(r.records_quarantined or r.orphan_turns for r in results):
        sys.exit(EXIT_QUARANTINED)


@main.command()
@warehouse_option
@click.option("--load", "load_id", default=None, help="Only this load (its id or a prefix of it).")
@click.option("--path", "path_like", default=None, help="Only files whose path contains this.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--raw", is_flag=True, help="Include each record as received.")
@json_option
@_library_errors
def quarantine(
    warehouse: str | None, load_id: str | None, path_like: str | None, limit: int, raw: bool, as_json: bool
) -> None:
    """List quarantined records: file, line, record id and every reason."""
    from audits.queries import list_quarantine  # noqa: PLC0415

    rows, total = list_quarantine(warehouse, load_id=load_id, path_like=path_like, limit=limit, raw=raw)
    if as_json:
        _print_json({"total": total, "records": rows})
        return
    if not rows:
        click.echo("quarantine is empty" if total == 0 else f"no records match ({total} in all)")
        return
    for r in rows:
        ident = r["record_id"] or "(unreadable)"
        click.echo(
            f"{r['path']}:{r['line']}  {r['kind']} {ident}" + (f" ({r['supplier']})" if r["supplier"] else "")
        )
        for reason in r["reasons"]:
            click.echo(f"    {reason['field']}: {reason['message']}  [{reason['rule']}]")
        if raw:
            click.echo(f"    raw: {r['raw']}")
    if total > len(rows):
        click.echo(f"... {total - len(rows)} more (raise --limit)")


@main.command()
@warehouse_option
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@json_option
@_library_errors
def loads(warehouse: str | None, limit: int, as_json: bool) -> None:
    """List the files loaded: path, SHA-256, counts, timings, contract verdict."""
    from audits.queries import list_loads  # noqa: PLC0415

    rows = list_loads(warehouse, limit=limit)
    if as_json:
        _print_json(rows)
        return
    for r in rows:
        r["sha256"] = r["sha256"][:12]
        r["seconds"] = f"{r['seconds']:.2f}"
    click.echo(
        _table(
            rows,
            ["finished_at", "path", "sha256", "kind", "records_loaded", "records_quarantined", "seconds"],
        )
    )


@main.command()
@warehouse_option
@json_option
@_library_errors
def status(warehouse: str | None, as_json: bool) -> None:
    """What the warehouse holds: conversations by supplier, channel and handler, KB, quarantine."""
    from audits.queries import warehouse_status  # noqa: PLC0415

    data = warehouse_status(warehouse)
    if as_json:
        _print_json(data)
        return
    click.echo(format_status(data))


def format_status(data: dict[str, Any]) -> str:
    t = data["totals"]
    lines = [
        f"warehouse: {data['warehouse']}",
        f"{t['conversations']} conversations, {t['turns']} turns, {t['kb_articles']} KB article versions, "
        f"{t['quarantined']} quarantined records, {t['loads']} loads",
        "",
        _table(data["by_supplier"], ["supplier", "conversations", "ai", "human", "hybrid", "automation_failed",
                                      "escalated", "repeat_contacts", "median_first_response_s"]),
        "",
        _table(data["by_channel"], ["channel", "conversations", "median_first_response_s", "median_handoff_s"]),
    ]  # fmt: skip
    return "\n".join(lines)


@main.command()
@click.option(
    "--kind", type=click.Choice(["conversations", "kb_articles"]), default="conversations", show_default=True
)
def contract(kind: str) -> None:
    """Print the data contract: the Great Expectations suite every load is checked against."""
    from audits.ingest.contract import SUITES  # noqa: PLC0415

    _print_json(SUITES[kind])


@main.command()
@click.option(
    "--kind", type=click.Choice(["conversations", "kb_articles"]), default="conversations", show_default=True
)
@click.option("--path", "show_path", is_flag=True, help="Print where the schema file is instead.")
def schema(kind: str, show_path: bool) -> None:
    """Print the JSON Schema of the interchange format, to validate exports before sending them."""
    from importlib import resources  # noqa: PLC0415

    ref = resources.files("audits").joinpath(f"schema/{kind.removesuffix('s')}.schema.json")
    click.echo(str(ref) if show_path else ref.read_text(encoding="utf-8").rstrip())


@main.group(invoke_without_command=True)
@click.option(
    "--plan", "plan_path", type=click.Path(exists=True, dir_okay=False), help="Sampling plan (YAML)."
)
@click.option("--seed", default=None, help="The seed (any text; e.g. given by the buyer after the freeze).")
@warehouse_option
@json_option
@click.pass_context
@_library_errors
def sample(
    ctx: click.Context, plan_path: str | None, seed: str | None, warehouse: str | None, as_json: bool
) -> None:
    """Draw a stratified sample: qa-audit sample --plan FILE --seed S.

    Order sampling on a keyed hash: every conversation gets u = SHA-256(seed:supplier:id) in [0, 1)
    and each stratum takes its k smallest u, so anyone with the population and the seed gets the
    same sample. The draw, its plan, seed, population fingerprint and every item's stratum,
    inclusion probability and weight are stored; the same plan and seed on the same population
    return the stored draw. See docs/sampling.md.
    """
    if ctx.invoked_subcommand is not None:
        return
    from audits.errors import ConfigError  # noqa: PLC0415

    if plan_path is None or seed is None:
        raise ConfigError("give --plan FILE and --seed S (or a subcommand: qa-audit sample verify DRAW_ID)")
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.sampling import draw, load_plan  # noqa: PLC0415

    plan = load_plan(plan_path)
    with wh.open_warehouse(warehouse) as con:
        result = draw(con, plan, seed)
    strata = [
        {"stratum": s.stratum, "population": s.population, "allocated": s.allocated, "drawn": s.drawn}
        for s in result.strata
    ]
    if as_json:
        _print_json({"draw_id": result.draw_id, "existing": result.existing, "plan": result.plan_name,
                     "plan_hash": result.plan_hash, "seed": result.seed,
                     "population_count": result.population_count,
                     "population_fingerprint": result.population_fingerprint,
                     "items": len(result.items), "strata": strata})  # fmt: skip
        return
    state = "the stored draw (same plan, seed and population)" if result.existing else "a new draw"
    click.echo(f"draw {result.draw_id}: {state}")
    click.echo(
        f"plan {result.plan_name} ({result.plan_hash[:12]}), seed {result.seed}; population "
        f"{result.population_count} conversations, fingerprint {result.population_fingerprint[:16]}"
    )
    click.echo(_table(strata, ["stratum", "population", "allocated", "drawn"]))
    click.echo(
        f"{len(result.items)} conversations drawn; check it any time with: qa-audit sample verify {result.draw_id}"
    )


@sample.command("export")
@click.argument("draw_id")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Folder to write.")
@warehouse_option
@_library_errors
def sample_export(draw_id: str, out_dir: str, warehouse: str | None) -> None:
    """Write a draw for an auditor: population.csv, draw.json and sample.csv.

    population.csv holds ids, content hashes and the plan's stratum values only (no transcripts).
    Anyone can re-derive the sample from it with `qa-audit sample verify --manifest DIR`, which
    uses no warehouse and no SQL.
    """
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.sampling.manifest import export_draw  # noqa: PLC0415

    with wh.open_warehouse(warehouse, read_only=True) as con:
        exported = export_draw(con, draw_id, out_dir)
    click.echo(
        f"wrote {out_dir}: {exported.population_rows} population rows, {exported.sample_rows} sampled items"
    )
    if not exported.population_matches:
        click.echo("warning: the population has changed since the draw; verify will say how")


@sample.command("verify")
@click.argument("draw_id", required=False)
@click.option(
    "--manifest",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Instead: verify an exported folder (population.csv, draw.json, sample.csv) in plain Python.",
)
@warehouse_option
@json_option
@_library_errors
def sample_verify(draw_id: str | None, manifest: str | None, warehouse: str | None, as_json: bool) -> None:
    """Re-derive a draw and say exactly what differs: DRAW_ID from the warehouse, or --manifest DIR.

    Exit status 0 when the population and the sample are exactly as recorded, 1 otherwise.
    """
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.errors import ConfigError  # noqa: PLC0415
    from audits.sampling import verify  # noqa: PLC0415

    if (draw_id is None) == (manifest is None):
        raise ConfigError("give a DRAW_ID or --manifest DIR")
    if manifest is not None:
        from audits.sampling.manifest import verify_files  # noqa: PLC0415

        files_report = verify_files(manifest)
        lines = files_report.differences()
        if as_json:
            _print_json({"ok": files_report.ok, "differences": lines})
        else:
            click.echo(f"{manifest}: " + ("verified, nothing differs" if files_report.ok else "DIFFERS"))
            for line in lines:
                click.echo(f"  {line}")
        if not files_report.ok:
            sys.exit(1)
        return

    assert draw_id is not None
    with wh.open_warehouse(warehouse, read_only=True) as con:
        report = verify(con, draw_id)
    if as_json:
        _print_json({"draw_id": report.draw_id, "ok": report.ok,
                     "population_count": {"stored": report.population_count[0], "now": report.population_count[1]},
                     "population_fingerprint": {"stored": report.population_fingerprint[0],
                                                "now": report.population_fingerprint[1]},
                     "missing": [list(m) for m in report.missing], "extra": [list(e) for e in report.extra],
                     "changed": [list(c) for c in report.changed],
                     "strata_changed": [list(c) for c in report.strata_changed],
                     "record_problems": list(report.record_problems)})  # fmt: skip
    else:
        click.echo(format_verify(report))
    if not report.ok:
        sys.exit(1)


@sample.command("score")
@click.argument("draw_id")
@click.argument("scores_csv", type=click.Path(exists=True, dir_okay=False))
@click.option("--simulated", is_flag=True, help="Mark these scores as simulated (shown wherever they count).")
@warehouse_option
@_library_errors
def sample_score(draw_id: str, scores_csv: str, simulated: bool, warehouse: str | None) -> None:
    """Record pass/fail scores for a draw's items from a CSV (supplier, conversation_id, passed[, scored_by]).

    A conversation that is not in the draw is refused (nothing is written); scoring an item again
    replaces its earlier score.
    """
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.sampling.estimate import record_scores, scores_from_csv  # noqa: PLC0415

    rows = scores_from_csv(scores_csv)
    with wh.open_warehouse(warehouse) as con:
        n = record_scores(con, draw_id, rows, simulated=simulated)
    click.echo(f"{n} scores recorded for draw {draw_id}" + (" (simulated)" if simulated else ""))


@sample.command("estimate")
@click.argument("draw_id")
@click.option("--confidence", type=float, default=0.95, show_default=True)
@click.option(
    "--floor", "quality_floor", type=float, default=None, help="Contract's minimum pass rate, e.g. 0.85."
)
@click.option(
    "--method", type=click.Choice(["wilson", "clopper-pearson"]), default="wilson", show_default=True
)
@click.option("--bayesian", is_flag=True, help="Also a beta-binomial posterior per stratum.")
@warehouse_option
@json_option
@_library_errors
def sample_estimate(
    draw_id: str, confidence: float, quality_floor: float | None, method: str, bayesian: bool,
    warehouse: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Pass rates from a draw's scores: per stratum, per supplier and overall, design-weighted.

    Edge cases drawn on purpose do not bias the overall rate: each stratum counts by its population.
    With --floor, the verdict against the contract: met, breached or not enough evidence.
    """
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.sampling.estimate import estimate  # noqa: PLC0415

    with wh.open_warehouse(warehouse, read_only=True) as con:
        est = estimate(con, draw_id, confidence=confidence, quality_floor=quality_floor,
                       method=method,  # type: ignore[arg-type]  # click.Choice checked it
                       bayesian=bayesian)  # fmt: skip
    if as_json:
        _print_json(est.to_dict())
        return
    o = est.overall
    click.echo(
        f"draw {draw_id}: {est.scored} of {est.drawn} drawn items scored ({est.failures} failed)"
        + (f", {est.simulated_scores} of them simulated" if est.simulated_scores else "")
    )
    click.echo(
        f"pass rate {o.pass_rate:.1%} [{o.pass_interval.lower:.1%}, {o.pass_interval.upper:.1%}] "
        f"({confidence:.0%} {method}, design-weighted over {est.covered_population} of "
        f"{est.total_population} conversations); unweighted {est.naive_pass_rate:.1%}"
    )
    if est.coverage_gaps:
        click.echo(f"not covered (no scores): {', '.join(est.coverage_gaps)}")
    if est.floor is not None:
        f = est.floor
        click.echo(f"floor {f.floor:.0%}: {f.verdict.upper()} (one-sided pass-rate bounds "
                   f"{f.pass_lower_bound:.1%} to {f.pass_upper_bound:.1%})")  # fmt: skip
    rows = [
        {"stratum": s.stratum, "population": s.population, "scored": s.scored, "failed": s.failures,
         "pass_rate": "" if s.pass_rate is None else f"{s.pass_rate:.1%}",
         "interval": "" if s.pass_interval is None else f"[{s.pass_interval.lower:.1%}, {s.pass_interval.upper:.1%}]"}
        for s in est.strata
    ]  # fmt: skip
    click.echo(_table(rows, ["stratum", "population", "scored", "failed", "pass_rate", "interval"]))
    sup = [
        {"supplier": x.supplier, "pass_rate": f"{x.estimate.pass_rate:.1%}",
         "interval": f"[{x.estimate.pass_interval.lower:.1%}, {x.estimate.pass_interval.upper:.1%}]",
         "scored": x.estimate.scored}
        for x in est.suppliers
    ]  # fmt: skip
    click.echo(_table(sup, ["supplier", "scored", "pass_rate", "interval"]))


def format_verify(report: Any) -> str:
    """A person's account of a verification: what matches, then every difference."""
    lines = [f"draw {report.draw_id}: " + ("verified, nothing differs" if report.ok else "DIFFERS")]
    (c0, c1), (f0, f1) = report.population_count, report.population_fingerprint
    lines.append(f"  population count: stored {c0}, now {c1}" + ("" if c0 == c1 else "  <- differs"))
    lines.append(
        "  population fingerprint: "
        + ("same" if f0 == f1 else f"stored {f0[:16]}, now {f1[:16]}  <- differs")
    )
    for supplier, cid in report.missing:
        lines.append(f"  missing from a re-draw: {supplier} {cid}")
    for supplier, cid in report.extra:
        lines.append(f"  selected now but not stored: {supplier} {cid}")
    for supplier, cid, fld, stored, now in report.changed:
        lines.append(f"  {supplier} {cid}: {fld} stored {stored}, now {now}")
    for stratum, fld, stored, now in report.strata_changed:
        lines.append(f"  stratum {stratum}: {fld} stored {stored}, now {now}")
    for problem in report.record_problems:
        lines.append(f"  record: {problem}")
    return "\n".join(lines)


@main.group()
def stats() -> None:
    """Sample sizes and intervals: the statistics behind a sample, on their own."""


@stats.command("sample-size")
@click.option("--tolerable", type=float, default=None, help="Tolerable failure rate (attribute sampling).")
@click.option("--expected", type=float, default=0.0, show_default=True, help="Expected failure rate.")
@click.option("--margin", type=float, default=None, help="Instead: a +/- margin on the rate (Cochran).")
@click.option("--confidence", type=float, default=0.95, show_default=True)
@click.option("--population", type=click.IntRange(min=1), default=None, help="Population size N, if finite.")
@click.option(
    "--method",
    type=click.Choice(["binomial", "hypergeometric"]),
    default="binomial",
    show_default=True,
    help="Attribute sampling model; hypergeometric needs --population.",
)
@json_option
@_library_errors
def sample_size(
    tolerable: float | None,
    expected: float,
    margin: float | None,
    confidence: float,
    population: int | None,
    method: str,
    as_json: bool,
) -> None:
    """How many conversations to review.

    With --tolerable: the smallest n such that finding at most k failures (k = ceil(expected x n),
    in exact decimal arithmetic) puts the one-sided upper confidence bound of the failure rate
    under the tolerable rate. With --margin: n for a +/- margin at the confidence, with the finite
    population correction when --population is given (--expected is then the planning rate;
    0 means the worst case, 0.5).
    """
    from audits.errors import ConfigError  # noqa: PLC0415
    from audits.stats import attribute_sample_size, margin_sample_size  # noqa: PLC0415

    if (tolerable is None) == (margin is None):
        raise ConfigError("give exactly one of --tolerable (attribute sampling) or --margin")
    if margin is not None:
        n = margin_sample_size(margin, confidence, expected=expected or 0.5, population=population)
        data = {"n": n, "margin": margin, "confidence": confidence, "expected": expected or 0.5,
                "population": population, "method": "margin"}  # fmt: skip
    else:
        assert tolerable is not None
        size = attribute_sample_size(
            tolerable, expected, confidence, population=population,
            method=method,  # type: ignore[arg-type]  # click.Choice checked it
        )  # fmt: skip
        data = size.to_dict()
    if as_json:
        _print_json(data)
    elif margin is not None:
        click.echo(f"n = {data['n']} for +/-{margin:g} at {confidence:.0%} confidence")
    else:
        click.echo(
            f"n = {data['n']}: at most {data['k_allowed']} failures keep the {confidence:.0%} upper bound "
            f"under {tolerable:g} ({method})"
        )


@stats.command()
@click.option("--failures", type=click.IntRange(min=0), required=True)
@click.option("--n", "n", type=click.IntRange(min=1), required=True, help="Items reviewed.")
@click.option("--confidence", type=float, default=0.95, show_default=True)
@click.option(
    "--method",
    type=click.Choice(["wilson", "clopper-pearson", "beta-binomial"]),
    default="wilson",
    show_default=True,
    help="beta-binomial: a credible interval under a uniform Beta(1, 1) prior.",
)
@json_option
@_library_errors
def interval(failures: int, n: int, confidence: float, method: str, as_json: bool) -> None:
    """A two-sided interval for the failure rate from FAILURES out of N reviewed."""
    from audits.stats import beta_binomial_posterior, clopper_pearson, wilson  # noqa: PLC0415

    fns: dict[str, Callable[..., Any]] = {
        "wilson": wilson, "clopper-pearson": clopper_pearson, "beta-binomial": beta_binomial_posterior,
    }  # fmt: skip
    fn = fns[method]
    iv = fn(failures, n, confidence=confidence)
    if as_json:
        _print_json(iv.to_dict())
    else:
        click.echo(
            f"{failures}/{n} = {iv.estimate:.4f}; {confidence:.0%} {method}: [{iv.lower:.4f}, {iv.upper:.4f}]"
        )


@main.command("demo-data")
@click.option("--conversations", "-n", type=click.IntRange(min=1), default=3000, show_default=True)
@click.option("--seed", type=int, default=20261101, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Folder to write.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "parquet"]), default="jsonl", show_default=True)
@click.option("--days", type=click.IntRange(min=1), default=7, show_default=True, help="Days the data spans.")
@click.option(
    "--compress", is_flag=True, help="gzip the conversations JSONL (Parquet: zstd instead of snappy)."
)
@json_option
@_library_errors
def demo_data(
    conversations: int, seed: int, out_dir: str, fmt: str, days: int, compress: bool, as_json: bool
) -> None:
    """Generate realistic synthetic conversations with planted edge cases and their ground truth.

    Deterministic: the same arguments write the same bytes.
    """
    from audits.generator import generate  # noqa: PLC0415

    summary = generate(out_dir, conversations=conversations, seed=seed, fmt=fmt, days=days, compress=compress)
    if as_json:
        _print_json(summary.to_dict())
        return
    click.echo(f"wrote {summary.conversations} conversations ({summary.turns} turns) to {out_dir}")
    for kind, n in summary.planted.items():
        click.echo(f"    {n:>7}  planted {kind}")
    for f in summary.files:
        click.echo(f"  {f}")


@main.command()
@warehouse_option
@click.option(
    "--input",
    "input_dir",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Folder to ingest. Default: the bundled sample data (data/demo).",
)
@json_option
@_library_errors
def demo(warehouse: str | None, input_dir: str | None, as_json: bool) -> None:
    """Run the ingest flow (Prefect) on the bundled sample data, check every conversation, summarise."""
    from audits import warehouse as wh  # noqa: PLC0415
    from flows.ingest import ingest_flow  # noqa: PLC0415

    source = Path(input_dir) if input_dir else BUNDLED_DATA
    target = wh.resolve_path(warehouse)
    report = ingest_flow(paths=[str(source)], warehouse=str(target), run_checks=True)
    report["nightly"] = _demo_nights(target, source)
    report["trace"] = _demo_trace(target)
    if as_json:
        _print_json(report)
        return
    click.echo(report["summary_text"])
    click.echo("")
    click.echo(format_status(report["status"]))
    click.echo("")
    click.echo(format_check_counts(report["checks"]))
    click.echo("")
    if report["nightly"]:
        click.echo(format_demo_nights(report["nightly"]))
        click.echo("")
    if report["trace"]:
        t = report["trace"]
        click.echo(f"A failed answer traced (qa-audit trace {t['finding_id']}): {t['summary']}")
        click.echo(f"  {t['state']} after {len(t['events'])} events; blast radius {t['blast_radius']} conversations, "
                   f"{t['customers']} customers to contact; dossier: {t['dossier']}")  # fmt: skip
        click.echo("")
    click.echo(f"The warehouse is at {target.resolve()}")
    click.echo("Explore it with: .venv/bin/qa-audit status (or loads, quarantine), or DuckDB itself.")


DEMO_REVIEWERS = ["simulated-ann", "simulated-bob"]


def _demo_nights(target: Path, source: Path) -> list[dict[str, Any]]:
    """The nightly audit (flows/nightly_audit.py) for each night of the data, scored by a simulated reviewer."""
    from audits import warehouse as wh  # noqa: PLC0415
    from flows.nightly_audit import nightly_audit  # noqa: PLC0415

    truth = source / "_ground_truth.jsonl"
    con = wh.connect(target, read_only=True)
    try:
        first, last = wh.one(con, "SELECT min(started_at AT TIME ZONE 'UTC')::DATE, "
                                  "max(started_at AT TIME ZONE 'UTC')::DATE FROM conversations") or (None, None)  # fmt: skip
    finally:
        con.close()
    if first is None or not truth.is_file():
        return []
    nights = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return [
        nightly_audit(night=night, input_dir=str(source), warehouse=str(target), reviewers=DEMO_REVIEWERS,
                      simulate_reviews=str(truth))
        for night in nights  # a week: one flow run per night, as the schedule would
    ]  # fmt: skip


def format_demo_nights(nights: list[dict[str, Any]]) -> str:
    """One line per night: the simulated pass rate per supplier's draw; then the breach tests after the last."""
    lines = ["The nightly audit, night by night (qa-audit nightly; qa-audit runs). Scores are SIMULATED from "
             "the generator's ground truth:"]  # fmt: skip
    for out in nights:
        steps = {s["step"]: s["counts"] for s in out["steps"]}
        rates = []
        for d in steps["draw"]["draws"]:
            est = steps["estimate"]["draws"].get(d["draw_id"], {}).get("overall")
            rate = f"{est['pass_rate']:.0%}" if est else "-"
            rates.append(f"{d['plan'].removeprefix('nightly-')} {rate} of {d['items']}")
        lines.append(
            f"  {out['night']}  {steps['contract']['conversations']:>4} conversations  " + ", ".join(rates)
        )
    breach = {s["step"]: s["counts"] for s in nights[-1]["steps"]}["breach"]["suppliers"]
    lines.append("Sequential breach test (pass-rate floor 85%, anytime-valid over the nights): " + ", ".join(
        f"{s} {v['verdict']}" + (f" on {v['decided_on']}" if v["decided_on"] else "") for s, v in breach.items()))  # fmt: skip
    return "\n".join(lines)


def _demo_trace(target: Path) -> dict[str, Any] | None:
    """The demo's trace (audits.trace.demo) through the trace flow; its dossier next to the warehouse."""
    from audits import warehouse as wh  # noqa: PLC0415
    from audits.trace.demo import demo_finding, finish_demo_finding  # noqa: PLC0415
    from audits.trace.workflow import dossier, dossier_html  # noqa: PLC0415
    from flows.trace import trace_flow  # noqa: PLC0415

    con = wh.connect(target)
    try:
        fid = demo_finding(con)
        week_end = wh.scalar(con, "SELECT max(started_at) FROM conversations")
    finally:
        con.close()
    if fid is None:
        return None
    trace_flow(warehouse=str(target), at=week_end + dt.timedelta(hours=1))  # the night after the week
    con = wh.connect(target)
    try:
        finding = finish_demo_finding(con, fid)
        data = dossier(con, fid)
    finally:
        con.close()
    page = target.parent / "trace-demo.html"
    page.write_text(dossier_html(data), encoding="utf-8")
    (d,) = data["findings"]
    return {"finding_id": fid, "state": finding["state"], "summary": d["summary"], "events": d["events"],
            "blast_radius": len(d["blast_radius"]), "customers": d["customers_to_contact"],
            "dossier": str(page.resolve())}  # fmt: skip


def format_check_counts(run: dict[str, Any]) -> str:
    """The automated checks' counts of a run (`CheckRun.to_dict()`), as a table."""
    rows = [
        {"check": cid, "pass": c["pass"], "fail": c["fail"], "na": c["na"]}
        for cid, c in run["checks"].items()
    ]
    head = (
        f"Automated checks on all {run['conversations']} conversations (qa-audit check; table check_results):"
    )
    return head + "\n" + _table(rows, ["check", "pass", "fail", "na"])


def _register() -> None:
    """Add the commands that live in their own modules."""
    from audits import (  # noqa: PLC0415
        cli_checks,
        cli_nightly,
        cli_pack,
        cli_report,
        cli_review,
        cli_scale,
        cli_trace,
        cli_web,
    )  # fmt: skip

    for command in [*cli_checks.COMMANDS, *cli_review.COMMANDS, *cli_trace.COMMANDS, *cli_nightly.COMMANDS,
                    *cli_pack.COMMANDS, *cli_report.COMMANDS, *cli_scale.COMMANDS, *cli_web.COMMANDS]:  # fmt: skip
        main.add_command(command)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
