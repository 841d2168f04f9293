"""Sequential breach tests across nights: is a supplier's failure rate above what the contract allows?

Each night's draw scores a fresh sample; testing the cumulative evidence again every night with a
fixed-n test would raise false breach alarms (the more nights looked at, the likelier one crosses by
chance). `audits.stats.sequential.anytime_breach` keeps P(ever "breach" | rate <= 1 - floor) <= alpha
however many nights are looked at.

Which items count: the scored items of the random strata of the supplier's nightly draws. Edge-case
strata (failed automations, missed hand-offs, ...) are drawn on purpose at other rates, so pooling
their items with the rest would overstate the failure rate; within the random strata of a
proportional plan every conversation of the night had nearly the same chance, so failures / n
estimates the night's rate of the routine traffic (the conversations outside the edge-case strata).
So the test is about routine traffic: its "breach" says that even the conversations that are not
edge cases fail more often than the floor allows, which, as edge cases fail at least as often, means
the whole population does too; it is slower to alarm than a test of the whole population would be.
The contract's quality-floor term (audits.contracts) pairs it with the design-weighted interval of
the whole population. A night with no
scores yet adds nothing (n = 0). Simulated scores (the demo's) count and are reported as such.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb

from audits.period import Period
from audits.sampling.estimate import scores_join
from audits.stats.sequential import SequentialResult, anytime_breach
from audits.warehouse import table_exists


@dataclass(frozen=True)
class NightCount:
    """One night's scored random-strata items of a supplier: failures of n (simulated: any simulated score)."""

    night: dt.date
    draw_id: str
    failures: int
    n: int
    simulated: bool


@dataclass(frozen=True)
class BreachTest:
    """The anytime-valid test of "failure rate <= 1 - floor" over a supplier's nights."""

    supplier: str
    floor: float
    alpha: float
    verdict: str  # breach | continue | no data
    nights: tuple[NightCount, ...] = ()
    result: SequentialResult | None = field(default=None)

    @property
    def decided_on(self) -> dt.date | None:
        """The night whose evidence crossed the breach boundary."""
        if self.result is None or self.result.decision_night is None:
            return None
        return self.nights[self.result.decision_night].night

    def to_dict(self) -> dict[str, Any]:
        return {
            "supplier": self.supplier,
            "floor": self.floor,
            "alpha": self.alpha,
            "verdict": self.verdict,
            "decided_on": self.decided_on.isoformat() if self.decided_on else None,
            "simulated": any(n.simulated for n in self.nights),
            "nights": [
                {
                    "night": n.night.isoformat(),
                    "draw_id": n.draw_id,
                    "failures": n.failures,
                    "n": n.n,
                    "simulated": n.simulated,
                }
                for n in self.nights
            ],  # fmt: skip
            "test": self.result.to_dict() if self.result else None,
        }


def night_counts(
    con: duckdb.DuckDBPyConnection, supplier: str, period: Period | None = None
) -> list[NightCount]:
    """Per night (in order) the supplier's scored random-strata items of its nightly draws."""
    if not table_exists(con, "nightly_draws"):
        return []
    params: list[Any] = [supplier]
    where = "nd.supplier = ?"
    if period is not None:
        where += " AND nd.night BETWEEN ? AND ?"
        params += [period.start, period.end]
    rows = con.execute(
        f"""
        SELECT nd.night, nd.draw_id,
               count(*) FILTER (WHERE s.passed = false) AS failures,
               count(s.passed) AS n,
               coalesce(bool_or(s.simulated), false) AS simulated
        FROM nightly_draws nd
        LEFT JOIN draw_items i ON i.draw_id = nd.draw_id AND i.reason = 'random' AND i.supplier = nd.supplier
        {scores_join(con)}
        WHERE {where}
        GROUP BY ALL ORDER BY nd.night, nd.draw_id
        """,
        params,
    ).fetchall()
    return [NightCount(night, draw_id, int(f), int(n), bool(sim)) for night, draw_id, f, n, sim in rows]


def sequential_verdict(
    con: duckdb.DuckDBPyConnection,
    supplier: str,
    *,
    floor: float,
    alpha: float = 0.05,
    period: Period | None = None,
) -> BreachTest:
    """The anytime-valid breach test for `supplier` (pass-rate `floor`, e.g. 0.85) over its nights."""
    nights = night_counts(con, supplier, period)
    if not any(n.n for n in nights):
        return BreachTest(supplier, floor, alpha, "no data", tuple(nights), None)
    result = anytime_breach([(n.failures, n.n) for n in nights], p0=1 - floor, alpha=alpha)
    return BreachTest(supplier, floor, alpha, result.verdict, tuple(nights), result)
