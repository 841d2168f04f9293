"""Scores of a drawn sample, and what they say about the population's pass and failure rates.

Recording
    `record_scores` stores one pass/fail outcome per drawn item in `sample_scores` (one transaction).
    A score for a conversation that is not in the draw is refused; scoring an item again replaces
    its earlier score (latest wins, so the table holds at most one score per item and draw).
    `scores_from_csv` reads reviewer exports (supplier, conversation_id, passed[, scored_by]).

Estimating (`estimate`)
    Per stratum h: N_h (population), drawn, scored n_h, failures x_h, the failure rate x_h / n_h
    with a two-sided Wilson or Clopper-Pearson interval, and the pass rate 1 - x_h / n_h with the
    mirrored interval. A stratum reviewed in full (n_h = N_h, e.g. an edge case taken whole) is a
    census: its rate is known exactly and its interval is the point (method "census").
    Drawn but unscored items are treated as missing at random within their stratum (n_h counts
    scored items only).

    Overall: the stratified estimator p = sum_h W_h p_h, W_h = N_h / N_covered, over every stratum
    with at least one score, edge-case strata included as their own strata (`stats.stratified_estimate`).
    Edge cases are oversampled on purpose; weighting by N_h keeps them from biasing the rate.
    Rule for empty strata: a stratum with no scored item is left out of the estimate and listed in
    `coverage_gaps`; the estimate then describes only `covered_population` conversations, not the
    whole `total_population`. A draw with no score at all is refused.

    The overall interval uses the variance of the stratified estimator through an effective sample
    size (Korn & Graubard 1998): n_eff = p (1 - p) / var(p), x_eff = p n_eff, fed to the Wilson or
    Clopper-Pearson formula. When the variance is 0 although some covered stratum is not a census
    (every sampled item passed, say) n_eff is the number of scored items outside census strata, so a
    clean sample still gets an honest bound instead of a zero-width interval; when every covered
    stratum is a census the rate is exact.

    Per supplier: a domain (ratio) estimate over the scored items of that supplier,
    sum_i w_i y_i / sum_i w_i with y_i = 1 for a failure and w_i = N_h / n_h, the design weight of an
    item of stratum h adjusted for unscored items (= 1 / inclusion_probability when every drawn item
    is scored). When supplier is a stratum column this is exactly the stratified estimate over that
    supplier's strata; edge strata, which mix suppliers, contribute each supplier's items with their
    weights. Its variance is the linearisation variance of a ratio under stratified sampling, with the
    same effective-sample-size interval as the overall rate.

    Quality floor: the contract's minimum PASS rate. With one-sided bounds at `confidence`, the floor
    is "met" when the lower bound of the pass rate is at or above it, "breached" when the upper bound
    of the pass rate is below it, and "not enough evidence" when the floor lies between the bounds.

    The naive (unweighted) pass rate, scored passes / scored items, is reported next to the weighted
    one so a reader sees what the weighting changed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb

from audits.errors import ConfigError, InputError
from audits.sampling.select import StratumDraw
from audits.stats import StratumCounts, beta_binomial_posterior, clopper_pearson, stratified_estimate, wilson
from audits.stats._checks import check_open_unit, is_real
from audits.stats.intervals import Interval, tail_bounds
from audits.warehouse import one, table_exists

SCORES_SCHEMA = """
CREATE TABLE IF NOT EXISTS sample_scores (
    draw_id VARCHAR,
    supplier VARCHAR,
    conversation_id VARCHAR,
    passed BOOLEAN,
    scored_by VARCHAR,
    scored_at TIMESTAMPTZ,
    simulated BOOLEAN            -- scores made up by a simulation, never by a reviewer
);
"""

Method = Literal["wilson", "clopper-pearson"]
METHODS: tuple[str, ...] = ("wilson", "clopper-pearson")
MET, BREACHED, NOT_ENOUGH = "met", "breached", "not enough evidence"

_TRUE = {"true", "1", "pass", "passed", "yes", "y", "t"}
_FALSE = {"false", "0", "fail", "failed", "no", "n", "f"}
CSV_COLUMNS: tuple[str, ...] = ("supplier", "conversation_id", "passed")


@dataclass(frozen=True)
class Score:
    """One reviewer outcome for a drawn conversation."""

    supplier: str
    conversation_id: str
    passed: bool
    scored_by: str | None = None


@dataclass(frozen=True)
class ScoredItem:
    """A drawn item with its stratum and its score (`passed` None while unscored)."""

    supplier: str
    conversation_id: str
    stratum: str
    passed: bool | None


# ---------------------------------------------------------------------------------------------- recording


def ensure_scores_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create `sample_scores` if it is missing."""
    con.execute(SCORES_SCHEMA)


def scores_join(con: duckdb.DuckDBPyConnection) -> str:
    """SQL joining draw items `i` to their scores as `s` (passed, simulated); all NULL while no score exists."""
    if table_exists(con, "sample_scores"):
        return (
            "LEFT JOIN sample_scores s ON s.draw_id = i.draw_id AND s.supplier = i.supplier "
            "AND s.conversation_id = i.conversation_id"
        )
    return "LEFT JOIN (SELECT NULL::BOOLEAN AS passed, NULL::BOOLEAN AS simulated) s ON false"


def _check_draw(con: duckdb.DuckDBPyConnection, draw_id: str) -> None:
    if not table_exists(con, "draws") or one(con, "SELECT 1 FROM draws WHERE draw_id = ?", [draw_id]) is None:
        raise ConfigError(f"no draw {draw_id!r} in the warehouse")


def record_scores(
    con: duckdb.DuckDBPyConnection,
    draw_id: str,
    rows: Iterable[Score],
    *,
    simulated: bool = False,
    scored_at: dt.datetime | None = None,
) -> int:
    """Store pass/fail outcomes for items of `draw_id` in one transaction; returns the rows written.

    Refuses (ConfigError naming it) a conversation that is not in the draw, and writes nothing then.
    A later score of the same item replaces the earlier one, within the batch and across calls.
    """
    _check_draw(con, draw_id)
    ensure_scores_table(con)
    latest: dict[tuple[str, str], Score] = {}
    for row in rows:
        if not isinstance(row, Score):
            raise ConfigError(f"scores must be Score records, got {row!r}")
        if not isinstance(row.passed, bool):
            raise ConfigError(
                f"passed of {row.supplier}/{row.conversation_id} must be True or False, got {row.passed!r}"
            )
        latest[(row.supplier, row.conversation_id)] = row
    if not latest:
        return 0
    in_draw = set(
        con.execute(
            "SELECT supplier, conversation_id FROM draw_items WHERE draw_id = ?", [draw_id]
        ).fetchall()
    )
    for key in latest:  # over the scores, not the population
        if key not in in_draw:
            raise ConfigError(f"conversation {key[1]!r} of supplier {key[0]!r} is not in draw {draw_id!r}")
    when = scored_at or dt.datetime.now(dt.UTC)
    scores = list(latest.values())
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "DELETE FROM sample_scores t USING (SELECT unnest($s::VARCHAR[]) AS supplier, "
            "unnest($c::VARCHAR[]) AS conversation_id) k "
            "WHERE t.draw_id = $d AND t.supplier = k.supplier AND t.conversation_id = k.conversation_id",
            {"d": draw_id, "s": [s for s, _ in latest], "c": [c for _, c in latest]},
        )
        con.execute(
            "INSERT INTO sample_scores SELECT $d, unnest($s::VARCHAR[]), unnest($c::VARCHAR[]), "
            "unnest($p::BOOLEAN[]), unnest($b::VARCHAR[]), $at, $sim",
            {
                "d": draw_id,
                "s": [r.supplier for r in scores],
                "c": [r.conversation_id for r in scores],
                "p": [r.passed for r in scores],
                "b": [r.scored_by for r in scores],
                "at": when,
                "sim": simulated,
            },
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(scores)


def parse_passed(text: str) -> bool | None:
    """True/False for true/false, 1/0, pass/fail (and passed/failed, yes/no), any case; else None."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


def scores_from_csv(path: str | os.PathLike[str]) -> list[Score]:
    """Read scores from a CSV with a header: supplier, conversation_id, passed and optional scored_by.

    Other columns are ignored. Errors (InputError) name the file, the line and the column.
    """
    name = str(path)
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            text = handle.read()
    except OSError as exc:
        raise InputError(name, f"cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(name, f"not UTF-8: {exc.reason}") from exc
    out: list[Score] = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames
        if not header:
            raise InputError(name, "empty file; expected a header with " + ", ".join(CSV_COLUMNS), line=1)
        header = [h.strip() for h in header]
        reader.fieldnames = header
        for column in CSV_COLUMNS:
            if column not in header:
                raise InputError(name, f"missing column {column!r}", line=1, field=column)
        for record in reader:
            line = reader.line_num
            if None in record:
                raise InputError(name, "more fields than the header has", line=line)
            values = {k: (v or "").strip() for k, v in record.items() if k is not None}
            if not any(values.values()):
                continue  # a blank line
            for column in ("supplier", "conversation_id"):
                if not values[column]:
                    raise InputError(name, "empty value", line=line, field=column)
            passed = parse_passed(values["passed"])
            if passed is None:
                raise InputError(
                    name,
                    f"expected true/false, 1/0 or pass/fail, got {values['passed']!r}",
                    line=line,
                    field="passed",
                )
            out.append(
                Score(values["supplier"], values["conversation_id"], passed, values.get("scored_by") or None)
            )
    except csv.Error as exc:
        raise InputError(name, f"malformed CSV: {exc}", line=reader.line_num) from exc
    return out


# ---------------------------------------------------------------------------------------------- results


def _pass_interval(fail: Interval) -> Interval:
    """The pass-rate interval mirroring a failure-rate interval."""
    return Interval(1 - fail.upper, 1 - fail.lower, 1 - fail.estimate, fail.method, fail.confidence)


@dataclass(frozen=True)
class StratumEstimate:
    """One stratum: N_h, drawn, scored n_h, failures x_h and the rates with their intervals.

    Rates and intervals are None when nothing in the stratum was scored (a coverage gap).
    """

    stratum: str
    population: int
    allocated: int
    drawn: int
    scored: int
    failures: int
    failure_rate: float | None
    pass_rate: float | None
    failure_interval: Interval | None
    pass_interval: Interval | None
    posterior: Interval | None = None  # Beta(1, 1) prior, failure rate; only with bayesian=True

    @property
    def census(self) -> bool:
        """True when every conversation of the stratum was scored."""
        return self.scored == self.population


@dataclass(frozen=True)
class RateEstimate:
    """A weighted failure rate with its pass-rate mirror, for the whole covered population or a supplier.

    `population` is N_covered for the overall rate and the estimated number of the supplier's
    conversations (sum of its items' weights) for a supplier. `effective_n` is the sample size
    behind the interval (see the module docstring).
    """

    scored: int
    failures: int
    population: float
    failure_rate: float
    pass_rate: float
    standard_error: float
    effective_n: float
    failure_interval: Interval
    pass_interval: Interval
    failure_upper_bound: float  # one-sided, at the confidence
    pass_lower_bound: float  # = 1 - failure_upper_bound
    pass_upper_bound: float  # one-sided, at the confidence


@dataclass(frozen=True)
class SupplierEstimate:
    """A supplier's domain estimate."""

    supplier: str
    estimate: RateEstimate


@dataclass(frozen=True)
class FloorVerdict:
    """The pass rate against the contract's floor: met, breached or not enough evidence."""

    floor: float
    verdict: str
    pass_lower_bound: float
    pass_upper_bound: float
    confidence: float


@dataclass(frozen=True)
class Estimate:
    """Everything `estimate` found for one draw; `to_dict` gives plain JSON-able values."""

    draw_id: str
    method: str
    confidence: float
    total_population: int
    covered_population: int
    coverage_gaps: tuple[str, ...]
    drawn: int
    scored: int
    failures: int
    simulated_scores: int
    overall: RateEstimate
    naive_failure_rate: float
    naive_pass_rate: float
    strata: tuple[StratumEstimate, ...]
    suppliers: tuple[SupplierEstimate, ...]
    floor: FloorVerdict | None

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of lists, numbers, strings and None, for JSON reports."""
        out = asdict(self)
        out["coverage_gaps"] = list(self.coverage_gaps)
        for s, d in zip(self.strata, out["strata"], strict=True):
            d["census"] = s.census
        return out


# ---------------------------------------------------------------------------------------------- maths


def _binomial_interval(failures: int, n: int, confidence: float, method: str) -> Interval:
    return wilson(failures, n, confidence) if method == "wilson" else clopper_pearson(failures, n, confidence)


def rate_estimate(
    p: float,
    variance: float,
    scored: int,
    failures: int,
    population: float,
    fallback_n: int,
    confidence: float,
    method: str,
) -> RateEstimate:
    """Intervals from a design-based rate and variance through the effective sample size.

    n_eff = p(1-p)/var when 0 < var and 0 < p < 1; else `fallback_n` items (0 means the rate is exact).
    """
    se = math.sqrt(variance)
    n_eff = p * (1 - p) / variance if variance > 0 and 0 < p < 1 else float(fallback_n)
    if n_eff <= 0:
        two = (p, p)
        one_sided = (p, p)
        label = "census"
    else:
        two = tail_bounds(p * n_eff, n_eff, (1 - confidence) / 2, method)  # type: ignore[arg-type]
        one_sided = tail_bounds(p * n_eff, n_eff, 1 - confidence, method)  # type: ignore[arg-type]
        label = method
    # the bounds always contain the estimate (guards against rounding at p = 0 or 1)
    lo, hi = min(two[0], p), max(two[1], p)
    fail = Interval(lo, hi, p, label, confidence)
    upper_one, lower_one = max(one_sided[1], p), min(one_sided[0], p)
    return RateEstimate(
        scored=scored,
        failures=failures,
        population=population,
        failure_rate=p,
        pass_rate=1 - p,
        standard_error=se,
        effective_n=n_eff,
        failure_interval=fail,
        pass_interval=_pass_interval(fail),
        failure_upper_bound=upper_one,
        pass_lower_bound=1 - upper_one,
        pass_upper_bound=1 - lower_one,
    )


def floor_verdict(
    pass_lower: float, pass_upper: float, floor: float, confidence: float, *, gaps: bool = False
) -> FloorVerdict:
    """Met when pass_lower >= floor, breached when pass_upper < floor, else not enough evidence.

    With coverage gaps (strata with no score) the bounds speak for part of the population only: a
    floor on the whole cannot be called met, only breached (if the scored part alone breaches it).
    """
    if pass_lower >= floor and not gaps:
        verdict = MET
    elif pass_upper < floor:
        verdict = BREACHED
    else:
        verdict = NOT_ENOUGH
    return FloorVerdict(floor, verdict, pass_lower, pass_upper, confidence)


def _check_options(confidence: float, quality_floor: float | None, method: str) -> None:
    check_open_unit("confidence", confidence)
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if quality_floor is not None and (not is_real(quality_floor) or not 0 < quality_floor <= 1):
        raise ConfigError(f"quality_floor must be a minimum pass rate in (0, 1], got {quality_floor!r}")


def compute_estimate(
    draw_id: str,
    strata: Sequence[StratumDraw],
    items: Sequence[ScoredItem],
    *,
    confidence: float = 0.95,
    quality_floor: float | None = None,
    method: Method = "wilson",
    bayesian: bool = False,
    simulated_scores: int = 0,
) -> Estimate:
    """The estimate from a draw's strata and its items with their scores (what `estimate` reads)."""
    _check_options(confidence, quality_floor, method)
    by_stratum = {s.stratum: s for s in strata}
    scored_n: dict[str, int] = dict.fromkeys(by_stratum, 0)
    failed_n: dict[str, int] = dict.fromkeys(by_stratum, 0)
    for it in items:  # over the sample, not the population
        if it.stratum not in by_stratum:
            raise ConfigError(f"item {it.supplier}/{it.conversation_id} has unknown stratum {it.stratum!r}")
        if it.passed is not None:
            scored_n[it.stratum] += 1
            failed_n[it.stratum] += not it.passed
    total_scored = sum(scored_n.values())
    if total_scored == 0:
        raise ConfigError(f"draw {draw_id!r} has no scores yet; record some with record_scores")

    rows: list[StratumEstimate] = []
    counts: list[StratumCounts] = []
    for key in sorted(by_stratum):
        s, n, x = by_stratum[key], scored_n[key], failed_n[key]
        if n == 0:
            rows.append(
                StratumEstimate(key, s.population, s.allocated, s.drawn, 0, 0, None, None, None, None)
            )
            continue
        counts.append(StratumCounts(key, s.population, n, x))
        if n == s.population:
            fail = Interval(x / n, x / n, x / n, "census", confidence)
        else:
            fail = _binomial_interval(x, n, confidence, method)
        post = beta_binomial_posterior(x, n, confidence=confidence) if bayesian else None
        rows.append(
            StratumEstimate(
                key,
                s.population,
                s.allocated,
                s.drawn,
                n,
                x,
                x / n,
                1 - x / n,
                fail,
                _pass_interval(fail),
                post,
            )
        )

    strat = stratified_estimate(counts, confidence)
    non_census_n = sum(c.sampled for c in counts if c.sampled < c.population)
    overall = rate_estimate(
        strat.estimate,
        strat.variance,
        strat.sampled,
        strat.failures,
        float(strat.population),
        non_census_n,
        confidence,
        method,
    )
    suppliers = _supplier_estimates(by_stratum, scored_n, items, confidence, method)
    total_failures = sum(failed_n.values())
    naive_fail = total_failures / total_scored
    floor = (
        floor_verdict(
            overall.pass_lower_bound,
            overall.pass_upper_bound,
            quality_floor,
            confidence,
            gaps=any(r.scored == 0 for r in rows),
        )  # fmt: skip
        if quality_floor is not None
        else None
    )
    return Estimate(
        draw_id=draw_id,
        method=method,
        confidence=confidence,
        total_population=sum(s.population for s in strata),
        covered_population=strat.population,
        coverage_gaps=tuple(r.stratum for r in rows if r.scored == 0),
        drawn=sum(s.drawn for s in strata),
        scored=total_scored,
        failures=total_failures,
        simulated_scores=simulated_scores,
        overall=overall,
        naive_failure_rate=naive_fail,
        naive_pass_rate=1 - naive_fail,
        strata=tuple(rows),
        suppliers=suppliers,
        floor=floor,
    )


def _supplier_estimates(
    by_stratum: dict[str, StratumDraw],
    scored_n: dict[str, int],
    items: Sequence[ScoredItem],
    confidence: float,
    method: str,
) -> tuple[SupplierEstimate, ...]:
    """Ratio (domain) estimates R_d = sum w_i y_i / sum w_i per supplier, w_i = N_h / n_h.

    Variance (Taylor linearisation, stratified SRS without replacement):
    v(R_d) = sum_h N_h^2 (1 - n_h/N_h) s^2_{z,h} / n_h / Nhat_d^2, with z_i = d_i (y_i - R_d) over all
    scored items of stratum h (d_i = 1 for the supplier's items, 0 otherwise).
    """
    scored = [it for it in items if it.passed is not None]
    by_h: dict[str, list[ScoredItem]] = {}
    for it in scored:  # over the sample, not the population
        by_h.setdefault(it.stratum, []).append(it)
    w = {h: by_stratum[h].population / scored_n[h] for h in by_h}
    out = []
    for supplier in sorted({it.supplier for it in scored}):
        mine = [it for it in scored if it.supplier == supplier]
        n_hat = math.fsum(w[it.stratum] for it in mine)
        fails = [it for it in mine if not it.passed]
        r = math.fsum(w[it.stratum] for it in fails) / n_hat
        variance = 0.0
        for h, members in by_h.items():
            n_h, big_n = len(members), by_stratum[h].population
            if n_h < 2:
                continue  # no within-stratum variance estimate from one item (as stratified_estimate)
            z = [((0.0 if it.passed else 1.0) - r) if it.supplier == supplier else 0.0 for it in members]
            mean = math.fsum(z) / n_h
            s2 = math.fsum((v - mean) ** 2 for v in z) / (n_h - 1)
            variance += big_n * big_n * (1 - n_h / big_n) * s2 / n_h
        variance /= n_hat * n_hat
        non_census = sum(1 for it in mine if scored_n[it.stratum] < by_stratum[it.stratum].population)
        est = rate_estimate(r, variance, len(mine), len(fails), n_hat, non_census, confidence, method)
        out.append(SupplierEstimate(supplier, est))
    return tuple(out)


def estimate(
    con: duckdb.DuckDBPyConnection,
    draw_id: str,
    *,
    confidence: float = 0.95,
    quality_floor: float | None = None,
    method: Method = "wilson",
    bayesian: bool = False,
) -> Estimate:
    """Estimate pass and failure rates of the draw's population from its recorded scores (read-only)."""
    _check_options(confidence, quality_floor, method)
    _check_draw(con, draw_id)
    strata = [
        StratumDraw(k, int(n), int(a), int(d))
        for k, n, a, d in con.execute(
            "SELECT stratum, population, allocated, drawn FROM draw_strata WHERE draw_id = ? ORDER BY stratum",
            [draw_id],
        ).fetchall()
    ]
    if table_exists(con, "sample_scores"):
        rows = con.execute(
            """SELECT i.supplier, i.conversation_id, i.stratum, s.passed, coalesce(s.simulated, false)
               FROM draw_items i LEFT JOIN sample_scores s
                 ON s.draw_id = i.draw_id AND s.supplier = i.supplier AND s.conversation_id = i.conversation_id
               WHERE i.draw_id = ? ORDER BY i.stratum, i.u, i.supplier, i.conversation_id""",
            [draw_id],
        ).fetchall()
    else:
        rows = con.execute(
            "SELECT supplier, conversation_id, stratum, NULL, false FROM draw_items WHERE draw_id = ?",
            [draw_id],
        ).fetchall()
    items = [ScoredItem(r[0], r[1], r[2], r[3]) for r in rows]
    return compute_estimate(
        draw_id,
        strata,
        items,
        confidence=confidence,
        quality_floor=quality_floor,
        method=method,
        bayesian=bayesian,
        simulated_scores=sum(1 for r in rows if r[3] is not None and r[4]),
    )
