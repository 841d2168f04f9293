"""The nightly audit's steps, each one library call over the warehouse at a path.

    ingest    the night's files under the data contract (a file loaded before is skipped)
    contract  what the night holds and what was quarantined, with reasons (qa-audit quarantine)
    checks    every automated check on the night's conversations, and repeat_contact again on the
              nights inside the repeat window (a later contact changes an earlier conversation's result)
    flags     edge-case counts for the night, per supplier (the checks' fails, the plans' edge cases)
    draw      one seeded draw per nightly plan (the plan's population set to the night)
    assign    review queues for each draw (primary + blind calibration)
    simulate  (demo only) a simulated reviewer scores the queues from the generator's ground truth
    estimate  pass rates with intervals from the scores available so far
    breach    the anytime-valid sequential test per supplier, over every night so far
    report    the night's summary as JSON, and the HTML report (qa-audit report) over the nights so far

Every step is idempotent by night: loads skip files already loaded, checks replace their results for
the same conversations with the same results, a draw with the same plan, seed and population is found
instead of made again, queue assignment adds nothing the second time, and the simulated reviewer only
answers open assignments. So a night re-run after a crash at any step ends with the same warehouse
contents as an uninterrupted run (tests/nightly/test_crash.py), apart from generated run ids and clock
times. Each step returns its counts and the seconds its library call took, and appends both to the
night's row in `nightly_runs`, so the orchestration's own overhead is the flow's time minus their sum.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from audits.errors import ConfigError
from audits.nightly import history
from audits.nightly.plans import load_plans, night_seed, plan_for_night
from audits.period import Period
from audits.warehouse import open_warehouse, scalar, table_exists

DEFAULT_INBOX = Path("data") / "inbox"
ENV_INBOX = "QA_AUDIT_INBOX"


def night_input(input_dir: str | os.PathLike[str] | None, night: dt.date) -> Path:
    """The night's export folder: INPUT/<YYYY-MM-DD> when it exists, else INPUT itself.

    INPUT defaults to $QA_AUDIT_INBOX, else data/inbox. ConfigError when neither folder exists.
    """
    base = Path(input_dir or os.environ.get(ENV_INBOX) or DEFAULT_INBOX)
    dated = base / night.isoformat()
    if dated.is_dir():
        return dated
    if base.is_dir():
        return base
    raise ConfigError(
        f"no input for night {night}: neither {dated} nor {base} is a folder (give --input DIR)"
    )


def _record(
    con: duckdb.DuckDBPyConnection, run_id: str, step: str, seconds: float, counts: dict[str, Any]
) -> dict[str, Any]:
    """Append the finished step to the attempt's row, on the step's own connection."""
    history.record_step(con, run_id, step, seconds, counts)
    return {"step": step, "seconds": seconds, "counts": counts}


def begin(warehouse: str, run_id: str, night: dt.date, parameters: dict[str, Any]) -> int:
    """Record the attempt as running (earlier `running` attempts are marked crashed); returns how many."""
    with open_warehouse(warehouse) as con:
        return history.start_run(con, run_id, night, parameters)


def end(warehouse: str, run_id: str, outcome: str, error: str | None = None) -> None:
    with open_warehouse(warehouse) as con:
        history.finish_run(con, run_id, outcome, error)


def ingest(warehouse: str, run_id: str, files: Sequence[str], progress: bool | None = None) -> dict[str, Any]:
    """Load the night's files (each all or nothing; one loaded before is skipped)."""
    from audits.ingest.load import load_paths  # noqa: PLC0415

    t = time.perf_counter()
    results = load_paths(list(files), warehouse_path=warehouse, progress=progress) if files else []
    seconds = time.perf_counter() - t
    counts = {
        "files": len(results),
        "already_loaded": sum(1 for r in results if r.status == "already loaded"),
        "records_loaded": sum(r.records_loaded for r in results),
        "records_quarantined": sum(r.records_quarantined for r in results),
        "load_ids": [r.load_id for r in results],
    }
    with open_warehouse(warehouse) as con:  # load_paths opened and closed the file itself
        return _record(con, run_id, "ingest", seconds, counts)


def contract(warehouse: str, run_id: str, night: dt.date, load_ids: Sequence[str]) -> dict[str, Any]:
    """What the night holds after the loads, and what the loads quarantined (the data contract's verdict)."""
    t = time.perf_counter()
    with open_warehouse(warehouse) as con:
        by_supplier = dict(
            con.execute(
                f"SELECT supplier, count(*) FROM conversations WHERE {Period(night, night).where()} "
                "GROUP BY ALL ORDER BY ALL"
            ).fetchall()
        )
        quarantined = int(
            scalar(con, "SELECT count(*) FROM quarantine WHERE load_id IN (SELECT unnest(?::VARCHAR[]))",
                   [list(load_ids)]) or 0
        )  # fmt: skip
        counts = {
            "conversations": sum(by_supplier.values()),
            "by_supplier": by_supplier,
            "quarantined_by_these_loads": quarantined,
            "verdict": "no conversations for the night" if not by_supplier else (
                "some records quarantined (qa-audit quarantine)" if quarantined else "all records passed"
            ),
        }  # fmt: skip
        return _record(con, run_id, "contract", time.perf_counter() - t, counts)


def checks(warehouse: str, run_id: str, night: dt.date, config: str | None = None) -> dict[str, Any]:
    """Every check on the night's conversations; repeat_contact again over the repeat window before it."""
    from audits.checks.config import load_config  # noqa: PLC0415
    from audits.checks.run import Scope, run_checks  # noqa: PLC0415
    from audits.ingest.derive import stored_repeat_window  # noqa: PLC0415

    t = time.perf_counter()
    cfg = load_config(config)
    with open_warehouse(warehouse) as con:
        run = run_checks(con, cfg, scope=Scope(date_from=night, date_to=night))
        window = stored_repeat_window(con) or 7
        earlier = run_checks(
            con, cfg, checks=["repeat_contact"],
            scope=Scope(date_from=night - dt.timedelta(days=window), date_to=night - dt.timedelta(days=1)),
        )  # fmt: skip
        counts = {
            "conversations": run.conversations,
            "check_run_id": run.run_id,
            "fails": {cid: c["fail"] for cid, c in run.counts.items()},
            "repeat_window_rechecked": earlier.conversations,
            "warnings": run.warnings,
        }
        return _record(con, run_id, "checks", time.perf_counter() - t, counts)


def flags(warehouse: str, run_id: str, night: dt.date) -> dict[str, Any]:
    """Edge-case counts for the night per supplier: each check's fails and each edge-case predicate."""
    from audits.sampling.plan import EDGE_CASES  # noqa: PLC0415

    t = time.perf_counter()
    day = Period(night, night).where("c.started_at")
    with open_warehouse(warehouse) as con:
        check_fails = con.execute(
            "SELECT r.supplier, r.check_id, count(*) FROM check_results r JOIN conversations c "
            f"USING (supplier, conversation_id) WHERE r.outcome = 'fail' AND {day} GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        cases = ", ".join(f"count(*) FILTER (WHERE {sql}) AS {name}" for name, sql in EDGE_CASES.items())
        edge = con.execute(
            f"SELECT supplier, {cases} FROM conversations c WHERE {day} GROUP BY ALL ORDER BY ALL"
        )
        names = [d[0] for d in edge.description][1:]
        by_supplier: dict[str, dict[str, Any]] = {
            supplier: {"check_fails": {}, "edge_cases": dict(zip(names, values, strict=True))}
            for supplier, *values in edge.fetchall()
        }
        for supplier, check_id, n in check_fails:  # every failing conversation started on the night
            by_supplier[supplier]["check_fails"][check_id] = n
        return _record(con, run_id, "flags", time.perf_counter() - t, {"by_supplier": by_supplier})


def draw(
    warehouse: str, run_id: str, night: dt.date, plans: Sequence[str] | None, seed: str | None
) -> dict[str, Any]:
    """One seeded draw per nightly plan over the night's population (found again, not redrawn, on a re-run)."""
    from audits.sampling.draw import draw as draw_sample  # noqa: PLC0415

    t = time.perf_counter()
    loaded = [plan_for_night(p, night) for p in load_plans(plans)]
    made = []
    with open_warehouse(warehouse) as con:
        for plan in loaded:  # one per supplier contract, a handful
            s = night_seed(night, plan, seed)
            result = draw_sample(con, plan, s)
            history.record_draw(con, night, plan, s, result.draw_id)
            made.append({"plan": plan.name, "draw_id": result.draw_id, "seed": s, "items": len(result.items),
                         "population": result.population_count, "existing": result.existing})  # fmt: skip
        return _record(con, run_id, "draw", time.perf_counter() - t, {"draws": made})


def assign(warehouse: str, run_id: str, draw_ids: Sequence[str], reviewers: Sequence[str]) -> dict[str, Any]:
    """Review queues for each draw (idempotent: a second call adds nothing)."""
    from audits.scoring.assign import assign_reviews  # noqa: PLC0415

    t = time.perf_counter()
    with open_warehouse(warehouse) as con:
        out = {d: assign_reviews(con, d, list(reviewers), skip_uncovered=True).to_dict() for d in draw_ids}
        return _record(con, run_id, "assign", time.perf_counter() - t, {"draws": out})


def simulate(warehouse: str, run_id: str, draw_ids: Sequence[str], truth: str) -> dict[str, Any]:
    """The demo's simulated reviewer answers the open assignments from the ground truth (marked simulated)."""
    from audits.nightly.simulate import simulate_reviews  # noqa: PLC0415

    t = time.perf_counter()
    with open_warehouse(warehouse) as con:
        n = simulate_reviews(con, draw_ids, truth)
        return _record(con, run_id, "simulate", time.perf_counter() - t, {"simulated_reviews": n})


def estimate(
    warehouse: str, run_id: str, draw_ids: Sequence[str], floor: float | None, confidence: float = 0.95
) -> dict[str, Any]:
    """Design-weighted pass rates per draw from the scores recorded so far (a draw with none says so)."""
    from audits.sampling.estimate import estimate as estimate_draw  # noqa: PLC0415

    t = time.perf_counter()
    out: dict[str, Any] = {}
    with open_warehouse(warehouse) as con:
        scored = dict(
            con.execute(
                "SELECT draw_id, count(*) FROM sample_scores WHERE draw_id IN (SELECT unnest(?::VARCHAR[])) "
                "GROUP BY ALL",
                [list(draw_ids)],
            ).fetchall()
        ) if table_exists(con, "sample_scores") else {}  # fmt: skip
        for draw_id in draw_ids:  # a handful of draws, one per nightly plan
            if not scored.get(draw_id):
                out[draw_id] = {"scored": 0, "note": "no scores yet: the queue is waiting for reviewers"}
                continue
            est = estimate_draw(con, draw_id, confidence=confidence, quality_floor=floor).to_dict()
            out[draw_id] = {"scored": int(scored[draw_id]), "overall": est["overall"], "floor": est.get("floor"),
                            "simulated_scores": est.get("simulated_scores", 0)}  # fmt: skip
        return _record(con, run_id, "estimate", time.perf_counter() - t, {"draws": out})


def breach(
    warehouse: str, run_id: str, night: dt.date, suppliers: Sequence[str], floor: float, alpha: float = 0.05
) -> dict[str, Any]:
    """The sequential breach test per supplier over every night up to this one."""
    from audits.nightly.breach import sequential_verdict  # noqa: PLC0415

    t = time.perf_counter()
    until = Period(dt.date.min, night)
    with open_warehouse(warehouse) as con:
        tests = {s: sequential_verdict(con, s, floor=floor, alpha=alpha, period=until) for s in suppliers}
        counts = {
            s: {
                "verdict": b.verdict,
                "decided_on": b.decided_on.isoformat() if b.decided_on else None,
                "simulated": any(n.simulated for n in b.nights),
                "nights": len(b.nights),
                "failures": sum(n.failures for n in b.nights),
                "n": sum(n.n for n in b.nights),
            }
            for s, b in tests.items()
        }
        return _record(con, run_id, "breach", time.perf_counter() - t, {"suppliers": counts})


def report(
    warehouse: str, run_id: str, night: dt.date, steps: Sequence[dict[str, Any]],
    contracts: Sequence[str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The night's summary as JSON, and the HTML report over the nights so far, next to the warehouse.

    reports/nightly-<night>.json holds every step's counts; reports/nightly-<night>.html is
    `qa-audit report` from the first nightly night to this one, judged on `contracts` (default:
    $QA_AUDIT_CONTRACTS, else ./data/contracts when it exists; none: no terms judged).
    """
    from audits.contracts.load import contracts_or_default  # noqa: PLC0415
    from audits.report import render_report_html  # noqa: PLC0415

    t = time.perf_counter()
    folder = Path(warehouse).resolve().parent / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"nightly-{night.isoformat()}.json"
    body = {"night": night.isoformat(), "run_id": run_id, "steps": list(steps)}
    _write_atomic(out, json.dumps(body, indent=2, sort_keys=True, default=str))
    judged = contracts_or_default(contracts or [])
    page = folder / f"nightly-{night.isoformat()}.html"
    with open_warehouse(warehouse) as con:
        first = scalar(con, "SELECT min(night) FROM nightly_draws") or night
        html = render_report_html(
            con, supplier=None, period=Period(min(first, night), night), contracts=judged
        )
        _write_atomic(page, html)
        counts = {"path": str(out), "html": str(page), "contracts": len(judged)}
        return _record(con, run_id, "report", time.perf_counter() - t, counts)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
