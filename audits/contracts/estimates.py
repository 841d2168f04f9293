"""A supplier's QA pass rate over a period, from its nightly draws, overall and by domain.

The period's sample. Each night the nightly audit draws one sample per supplier plan
(`nightly_draws`); the nights' populations are disjoint (one UTC day each), so the union of the
nights' strata is one stratified design of the period's population: stratum h = (draw, stratum of
that draw), with N_h conversations, n_h of them scored. Every scored item carries the design weight
w = N_h / n_h (edge-case strata included, each as its own stratum, so oversampled edge cases do not
bias the rate).

The supplier as a whole: `audits.sampling.estimate.compute_estimate` over the combined strata (keys
"<night> <stratum>"), the very estimator of `qa-audit sample estimate` (stratified, a small-stratum
variance guard, an effective-sample-size interval, coverage gaps listed).

Domain estimates (a channel, a market, a journey, a handler or a night):
the ratio R_d = sum_i w_i y_i d_i / sum_i w_i d_i, y_i = 1 for a failure, with the linearisation
variance of a ratio under stratified sampling without replacement,
    v(R_d) = sum_h N_h^2 (1 - n_h / N_h) s2_zh / n_h / Nhat_d^2,  z_i = d_i (y_i - R_d),
exactly as `audits.sampling.estimate` does per supplier; the interval comes from the same
effective-sample-size rule (`audits.sampling.estimate.rate_estimate`), so a domain that is a whole
draw's population gives the numbers `qa-audit sample estimate` gives. Everything up to the per-domain
sums is one SQL query over the sample; only the interval of each domain row is computed in Python.

Design effect truncated at 1. A domain's linearised variance can be far below that of a simple random
sample of its n items: a rare failure in a domain spread over large strata whose other items all pass
gives z values near zero, so p (1 - p) / v, the effective sample size, runs into the thousands and the
interval shrinks to a sliver (99.1% pass, 98.7%-99.4%, from 22 items with one failure, on the demo).
Following Korn & Graubard (1998, Survey Methodology 24(2):193-201), the effective sample size is not
allowed to exceed the domain's scored items: v is taken as at least p (1 - p) / n. The supplier-wide
estimate keeps the untruncated estimator of `qa-audit sample estimate`.

Rounding. A domain whose items in every stratum are that whole stratum with one outcome (a night whose
strata all passed or all failed, say) has a variance of exactly zero, and then the interval rests on the
number of non-census items (the rule of `audits.sampling.estimate`). Computed as s2 - s1^2 / n, in a
parallel sum whose order varies, that zero comes out as +-1e-17 on some runs, which would swing the
interval from that rule to a near-zero width. A sum of squares below 1e-9 of s2 is therefore taken
as zero, so the same data always give the same interval.

Coverage gaps: a stratum with drawn items and no score yet, and a day of the period on which the
supplier had conversations but no nightly draw. The estimate then speaks for the scored part only, and
a floor is never called met on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb

from audits.period import Period
from audits.sampling.estimate import (
    Estimate,
    RateEstimate,
    ScoredItem,
    compute_estimate,
    rate_estimate,
    scores_join,
)
from audits.sampling.select import StratumDraw
from audits.warehouse import table_exists

DIMENSIONS: tuple[str, ...] = ("channel", "market", "journey", "handler", "night")
NONE_LABEL = "(none)"


@dataclass(frozen=True)
class DomainEstimate:
    """The pass rate of one domain (dimension = value) of a supplier's period sample."""

    dimension: str
    value: str
    scored: int
    failures: int
    simulated: int
    estimate: RateEstimate

    def row(self) -> dict[str, Any]:
        """A flat row for tables and exports (rates as fractions)."""
        e = self.estimate
        return {
            "dimension": self.dimension,
            "value": self.value,
            "scored": self.scored,
            "failures": self.failures,
            "pass_rate": e.pass_rate,
            "pass_lower": e.pass_interval.lower,
            "pass_upper": e.pass_interval.upper,
            "pass_lower_bound_one_sided": e.pass_lower_bound,
            "population_estimate": e.population,
            "effective_n": e.effective_n,
            "interval_method": e.pass_interval.method,
            "simulated_scores": self.simulated,
        }


@dataclass(frozen=True)
class PeriodSample:
    """What the period's nightly draws hold for a supplier, and the domain estimates drawn from them."""

    supplier: str
    period: Period
    draws: tuple[tuple[dt.date, str], ...]
    drawn: int
    scored: int
    unscored_strata: tuple[str, ...]
    nights_missing: tuple[dt.date, ...]
    domains: tuple[DomainEstimate, ...]
    estimate: Estimate | None
    """The supplier-wide estimate (None when nothing is scored)."""

    @property
    def gaps(self) -> bool:
        """True when part of the period's population is not covered by scores."""
        return bool(self.unscored_strata or self.nights_missing)

    def domain(self, dimension: str, value: str | None = None) -> list[DomainEstimate]:
        """The estimates of one dimension (or one value of it)."""
        return [d for d in self.domains if d.dimension == dimension and (value is None or d.value == value)]

    @property
    def simulated(self) -> int:
        """Scores made by a simulated reviewer (the demo's), not by a person."""
        return self.estimate.simulated_scores if self.estimate else 0


_ITEMS = """
SELECT nd.night, i.draw_id, i.stratum, i.supplier, i.conversation_id, ds.population AS big_n,
       s.passed, coalesce(s.simulated, false) AS simulated,
       coalesce(c.channel, '{none}') AS channel, coalesce(c.market, '{none}') AS market,
       coalesce(c.journey, '{none}') AS journey, coalesce(c.handler, '{none}') AS handler
FROM nightly_draws nd
JOIN draw_items i ON i.draw_id = nd.draw_id AND i.supplier = nd.supplier
JOIN draw_strata ds ON ds.draw_id = i.draw_id AND ds.stratum = i.stratum
{scores}
LEFT JOIN conversations c ON c.supplier = i.supplier AND c.conversation_id = i.conversation_id
WHERE nd.supplier = $supplier AND nd.night BETWEEN $start AND $end {plan}
"""

_DOMAINS = """
WITH items AS ({items}),
scored AS (
    SELECT *, CASE WHEN passed THEN 0.0 ELSE 1.0 END AS y,
           count(*) OVER (PARTITION BY draw_id, stratum) AS n_h
    FROM items WHERE passed IS NOT NULL
),
long AS (
    SELECT draw_id, stratum, big_n, n_h, y, simulated, dim, val
    FROM (UNPIVOT (SELECT draw_id, stratum, big_n, n_h, y, simulated, channel, market, journey,
                          handler, night::VARCHAR AS night FROM scored)
          ON channel, market, journey, handler, night INTO NAME dim VALUE val)
),
ratio AS (
    SELECT dim, val, sum(big_n / n_h * y) / sum(big_n / n_h) AS r, sum(big_n / n_h) AS nhat,
           count(*) AS scored, sum(y)::BIGINT AS failures, count(*) FILTER (WHERE simulated) AS simulated,
           count(*) FILTER (WHERE n_h < big_n) AS non_census
    FROM long GROUP BY dim, val
),
per_h AS (
    SELECT l.dim, l.val, l.draw_id, l.stratum, any_value(l.big_n) AS big_n, any_value(l.n_h) AS n_h,
           sum(l.y - r.r) AS s1, sum((l.y - r.r) * (l.y - r.r)) AS s2
    FROM long l JOIN ratio r USING (dim, val) GROUP BY ALL
),
var AS (  -- a within-stratum sum of squares that is zero but for rounding counts as zero (see below)
    SELECT dim, val,
           sum(CASE WHEN n_h >= 2 AND s2 - s1 * s1 / n_h > 1e-9 * s2
                    THEN big_n * big_n * (1 - n_h / big_n) * (s2 - s1 * s1 / n_h) / (n_h - 1) / n_h
                    ELSE 0 END) AS v
    FROM per_h GROUP BY ALL
)
SELECT r.dim, r.val, r.r, coalesce(v.v, 0) / (r.nhat * r.nhat) AS variance, r.nhat, r.scored, r.failures,
       r.simulated, r.non_census
FROM ratio r LEFT JOIN var v USING (dim, val)
ORDER BY r.dim, r.val
"""


def _truncated(p: float, variance: float, n: int) -> float:
    """The variance with the design effect truncated at 1: never below p (1 - p) / n (Korn & Graubard 1998)."""
    return max(variance, p * (1 - p) / n) if variance > 0 and n > 0 else variance


def _empty(supplier: str, period: Period, nights_missing: tuple[dt.date, ...] = ()) -> PeriodSample:
    return PeriodSample(supplier, period, (), 0, 0, (), nights_missing, (), None)


def _nights_missing(
    con: duckdb.DuckDBPyConnection, supplier: str, period: Period, drawn: set[dt.date]
) -> tuple[dt.date, ...]:
    days = con.execute(
        f"SELECT DISTINCT started_at::DATE FROM conversations WHERE supplier = ? AND {period.where()} ORDER BY 1",
        [supplier],
    ).fetchall()
    return tuple(d for (d,) in days if d not in drawn)


def period_sample(
    con: duckdb.DuckDBPyConnection,
    supplier: str,
    period: Period,
    *,
    confidence: float = 0.95,
    method: str = "wilson",
    plan_name: str | None = None,
) -> PeriodSample:
    """The supplier's nightly draws in `period` (of `plan_name` only, when given) and their domain estimates."""
    if not table_exists(con, "nightly_draws") or not table_exists(con, "draw_items"):
        return _empty(supplier, period, _nights_missing(con, supplier, period, set()))
    params: dict[str, Any] = {"supplier": supplier, "start": period.start, "end": period.end}
    plan = ""
    if plan_name is not None:
        plan = "AND nd.plan_name = $plan"
        params["plan"] = plan_name
    draws = con.execute(
        f"SELECT night, draw_id FROM nightly_draws nd WHERE supplier = $supplier "
        f"AND night BETWEEN $start AND $end {plan} ORDER BY night, draw_id",
        params,
    ).fetchall()
    missing = _nights_missing(con, supplier, period, {n for n, _ in draws})
    items = _ITEMS.format(none=NONE_LABEL, scores=scores_join(con), plan=plan)
    drawn, scored = con.execute(f"SELECT count(*), count(passed) FROM ({items})", params).fetchall()[0]
    unscored = con.execute(
        f"SELECT night::VARCHAR || ' ' || stratum FROM ({items}) GROUP BY night, draw_id, stratum "
        "HAVING count(passed) = 0 ORDER BY 1",
        params,
    ).fetchall()
    rows = con.execute(_DOMAINS.format(items=items), params).fetchall() if scored else []
    domains = []
    for dim, val, r, variance, nhat, n, x, sim, non_census in rows:  # one row per domain, not per item
        est = rate_estimate(
            float(r), _truncated(float(r), float(variance), int(n)), int(n), int(x), float(nhat), int(non_census),
            confidence, method,
        )  # fmt: skip
        domains.append(DomainEstimate(dim, val, int(n), int(x), int(sim), est))
    overall = None
    if scored:
        strata = [
            StratumDraw(key, int(big_n), int(k), int(k))
            for key, big_n, k in con.execute(
                f"SELECT night::VARCHAR || ' ' || stratum, any_value(big_n), count(*) FROM ({items}) "
                "GROUP BY night, draw_id, stratum ORDER BY 1",
                params,
            ).fetchall()
        ]
        sample = con.execute(
            f"SELECT supplier, conversation_id, night::VARCHAR || ' ' || stratum, passed, simulated FROM ({items})",
            params,
        ).fetchall()
        overall = compute_estimate(
            f"{supplier} {period.label}",
            strata,
            [ScoredItem(s, c, h, p) for s, c, h, p, _ in sample],  # the sample, not the population
            confidence=confidence,
            method=method,  # type: ignore[arg-type]
            simulated_scores=sum(1 for *_, p, sim in sample if p is not None and sim),
        )
    order = {d: i for i, d in enumerate(DIMENSIONS)}
    domains.sort(key=lambda d: (order.get(d.dimension, 99), d.value))
    return PeriodSample(
        supplier=supplier,
        period=period,
        draws=tuple((n, d) for n, d in draws),
        drawn=int(drawn),
        scored=int(scored),
        unscored_strata=tuple(u for (u,) in unscored),
        nights_missing=missing,
        domains=tuple(domains),
        estimate=overall,
    )
