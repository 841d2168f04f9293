"""Nightly monitoring of a supplier's failure rate against the contract ceiling, without false-alarm creep.

The setting. Each night a random sample of the supplier's conversations is scored pass/fail. The contract
sets a floor on the pass rate (say 85%), i.e. a ceiling p0 = 1 - floor on the failure rate (15%). Re-running
a fixed-sample test on the cumulative data every night gives the supplier a fresh chance of a false breach
alarm each night: over 30 nights a nominal 5% test raises far more than 5% false alarms (the test suite
measures this). The two tests below are built for repeated looks.

`sprt` -- Wald's sequential probability ratio test (Wald, Sequential Analysis, 1947; Wald 1945, Ann. Math.
Statist. 16:117-186). You name two rates: p0, the ceiling (compliant), and p1 > p0, a breach rate the
contract cares about. After each night the log likelihood ratio of all data so far,
    LLR = x log(p1/p0) + (n - x) log((1 - p1)/(1 - p0))        (x failures in n items),
is compared with A = log((1 - beta)/alpha) and B = log(beta/(1 - alpha)). The test stops at the first
night with LLR >= A ("breach") or LLR <= B ("compliant"); otherwise "continue".
  What it controls:
  - alpha, the probability of ever declaring "breach" when the true failure rate is p0 (and less for any
    rate below p0, since the probability of "breach" increases with the rate);
  - beta, the probability of declaring "compliant" when the true rate is p1 (and less above p1).
  Wald's bounds are approximate in one direction: strictly, false breach <= alpha / (1 - beta) and missed
  breach <= beta / (1 - alpha), and the two sum to at most alpha + beta. Because the LLR jumps past the
  boundary by a whole night's worth of data, the realised rates are in practice at or below the nominal
  ones (the test suite measures them). For rates strictly between p0 and p1 nothing is promised: either
  verdict may come, and it may take long.
  A verdict ends the test. "compliant" means "the data favour p0 over p1", not "the rate is below p0". To
  keep monitoring after a verdict, start a new test on new nights; each new test spends another alpha.

`anytime_breach` -- an anytime-valid test of the composite null "failure rate <= p0" that needs no p1.
It is a test by betting / e-process (Ramdas, Grunwald, Vovk and Shafer 2023, "Game-theoretic statistics
and safe anytime-valid inference", Statistical Science 38(4):576-601) built from Robbins' mixture
likelihood ratio (Robbins 1970, "Statistical methods related to the law of the iterated logarithm", Ann.
Math. Statist. 41:1397-1409). With a Beta(a, b) prior over the failure rate, the e-value after x failures
in n items is
    E_n = [B(a + x, b + n - x) / B(a, b)] / max_{p <= p0} p^x (1 - p)^(n - x),
and the test declares "breach" at the first night with E_n >= 1/alpha.
  Why the denominator is the best rate under the null, not p0. The numerator is the prior-weighted
  likelihood of every rate in (0, 1). Dividing it by the likelihood at p0 alone gives a martingale when the
  rate is exactly p0, but not when it is lower: for a supplier far better than the contract (say 1% fails)
  the numerator's mass near 1% beats the likelihood at 15% by a factor growing without bound, so
  "breach" would eventually be declared against the best suppliers. With the maximum over p <= p0
  instead, E_n <= M_n(p) for every null rate p, where M_n(p) = numerator / p^x (1 - p)^(n - x) is a
  nonnegative martingale with M_0 = 1 under rate p. Ville's inequality then gives, for every p <= p0,
      P_p(E_n >= 1/alpha for some n) <= P_p(M_n(p) >= 1/alpha for some n) <= alpha,
  so E_n is an e-process for the whole null (Ramdas et al. 2023). The maximum is at
  p = min(x/n, p0): while the observed rate x/n is at or above p0 it is the likelihood at p0; while it is
  below, E_n <= 1 (the mixture cannot beat the best single rate) and no alarm is possible.
  What it controls: the probability of ever declaring "breach", over any number of nights, looked at
  after every night, stopped whenever you like, is at most alpha for every failure rate <= p0. This bound
  is exact (not an approximation), and usually conservative. There is no "compliant" verdict: the test
  only ever says "breach" or "continue", and may run forever. The price is power: it needs more data than
  an SPRT aimed at the right p1, and the prior (default uniform, Beta(1, 1)) sets which breaches it finds
  fastest.

Assumptions of both tests, in QA terms:
  - items are sampled at random and scored independently (no clustering of failures by agent, customer
    or script within a night that the sample ignores);
  - the failure rate is constant over the monitoring period (a supplier who gets worse mid-period is
    tested against a mix; restart the test when the contract period or the process changes);
  - nights are processed in the order they happened, and every night's sample is included: no dropping,
    re-scoring or re-sampling a night because of what it showed. Sample sizes may differ between nights and
    may be chosen from earlier results.
  - the scoring is the same throughout (a change of rubric is a change of the rate).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from scipy.special import betaln, xlogy

from audits.errors import ConfigError
from audits.stats._checks import check_open_unit, is_int, is_real

Verdict = Literal["breach", "compliant", "continue"]


@dataclass(frozen=True)
class SequentialResult:
    """The outcome of a sequential test after processing nights in order.

    `decision_night` is the 0-based index into `failures_by_night` of the night that decided (None while
    "continue"); `nights_used`, `failures` and `n` count the nights and items up to and including it (all of
    them while "continue"). `llr_path` holds, after each night processed, the log likelihood ratio: Wald's
    LLR for `sprt`, the log e-value for `anytime_breach`. The test decides "breach" once it reaches
    `upper_boundary` (A, or log(1/alpha)) and "compliant" once it reaches `lower_boundary` (B; None for
    `anytime_breach`, which never decides "compliant").
    """

    method: str
    verdict: Verdict
    decision_night: int | None
    nights_used: int
    failures: int
    n: int
    llr_path: tuple[float, ...]
    upper_boundary: float
    lower_boundary: float | None
    p0: float
    p1: float | None
    alpha: float
    beta: float | None
    prior: tuple[float, float] | None

    @property
    def statistic(self) -> float:
        """The last log likelihood ratio (0 before any night)."""
        return self.llr_path[-1] if self.llr_path else 0.0

    @property
    def e_value(self) -> float:
        """exp(statistic): the likelihood ratio (sprt) or e-value (anytime_breach) at the last night."""
        return math.exp(self.statistic)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (tuples as lists), for JSON reports."""
        out = asdict(self)
        out["llr_path"] = list(self.llr_path)
        out["prior"] = None if self.prior is None else list(self.prior)
        return out


def _check_nights(failures_by_night: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Validate the nights: a sequence of (failures, n) with integers 0 <= failures <= n."""
    if isinstance(failures_by_night, str | bytes) or not isinstance(failures_by_night, Sequence):
        raise ConfigError(
            f"failures_by_night must be a sequence of (failures, n) pairs, got {type(failures_by_night).__name__}"
        )
    nights = []
    for i, night in enumerate(failures_by_night):
        if not isinstance(night, Sequence) or isinstance(night, str | bytes) or len(night) != 2:
            raise ConfigError(f"failures_by_night[{i}] must be a (failures, n) pair, got {night!r}")
        failures, n = night
        if not is_int(n) or n < 0:
            raise ConfigError(f"failures_by_night[{i}]: n must be an integer >= 0, got {n!r}")
        if not is_int(failures) or not 0 <= failures <= n:
            raise ConfigError(
                f"failures_by_night[{i}]: failures must be an integer with 0 <= failures <= n ({n}), "
                f"got {failures!r}"
            )
        nights.append((int(failures), int(n)))
    return nights


def wald_boundaries(alpha: float, beta: float) -> tuple[float, float]:
    """Wald's (1947) SPRT boundaries (A, B) = (log((1 - beta)/alpha), log(beta/(1 - alpha)))."""
    check_open_unit("alpha", alpha)
    check_open_unit("beta", beta)
    if alpha + beta >= 1:
        raise ConfigError(f"alpha + beta must be < 1, got alpha={alpha!r}, beta={beta!r}")
    return math.log((1 - beta) / alpha), math.log(beta / (1 - alpha))


def sprt(
    failures_by_night: Sequence[tuple[int, int]],
    p0: float,
    p1: float,
    alpha: float = 0.05,
    beta: float = 0.2,
) -> SequentialResult:
    """Wald's SPRT of failure rate p0 (at the ceiling) against p1 > p0 (a breach), night by night.

    Processes `failures_by_night` (each night's (failures, n)) in order and stops at the first night whose
    cumulative LLR reaches A ("breach") or B ("compliant"); nights after it are not read. See the module
    docstring for the error rates controlled. Raises ConfigError naming a bad argument.
    """
    check_open_unit("p0", p0)
    check_open_unit("p1", p1)
    if p1 <= p0:
        raise ConfigError(f"p1 must be > p0 (a breach rate above the ceiling), got p0={p0!r}, p1={p1!r}")
    upper, lower = wald_boundaries(alpha, beta)
    nights = _check_nights(failures_by_night)
    step_fail = math.log(p1 / p0)
    step_pass = math.log((1 - p1) / (1 - p0))
    path: list[float] = []
    x = n = 0
    verdict: Verdict = "continue"
    decision = None
    for i, (fails, size) in enumerate(nights):
        x += fails
        n += size
        llr = x * step_fail + (n - x) * step_pass
        path.append(llr)
        if llr >= upper:
            verdict, decision = "breach", i
            break
        if llr <= lower:
            verdict, decision = "compliant", i
            break
    return SequentialResult(
        method="sprt",
        verdict=verdict,
        decision_night=decision,
        nights_used=len(path),
        failures=x,
        n=n,
        llr_path=tuple(path),
        upper_boundary=upper,
        lower_boundary=lower,
        p0=float(p0),
        p1=float(p1),
        alpha=float(alpha),
        beta=float(beta),
        prior=None,
    )


def log_mixture_e_value(failures: int, n: int, p0: float, prior: tuple[float, float] = (1.0, 1.0)) -> float:
    """log E_n: log B(a + x, b + n - x) - log B(a, b) - max_{p <= p0} log p^x (1 - p)^(n - x).

    The maximum is at p = min(x / n, p0) (0 log 0 = 0). Arguments are assumed valid (see anytime_breach).
    """
    a, b = prior
    if n == 0:
        return 0.0
    q = min(failures / n, p0)
    log_null = float(xlogy(failures, q) + xlogy(n - failures, 1 - q))
    return float(betaln(a + failures, b + n - failures) - betaln(a, b)) - log_null


def anytime_breach(
    failures_by_night: Sequence[tuple[int, int]],
    p0: float,
    alpha: float = 0.05,
    prior: tuple[float, float] = (1, 1),
) -> SequentialResult:
    """Anytime-valid test of "failure rate <= p0": "breach" at the first night with e-value >= 1/alpha.

    The e-value is the Beta(prior) mixture likelihood divided by the best likelihood of a rate <= p0 (see
    the module docstring); P(ever "breach") <= alpha for every rate <= p0, however many nights are looked
    at. Otherwise "continue" (there is no "compliant" verdict). Raises ConfigError naming a bad argument.
    """
    check_open_unit("p0", p0)
    check_open_unit("alpha", alpha)
    if (
        isinstance(prior, str | bytes)
        or not isinstance(prior, Sequence)
        or len(prior) != 2
        or not all(is_real(v) and v > 0 for v in prior)
    ):
        raise ConfigError(f"prior must be a pair (a, b) of finite numbers > 0, got {prior!r}")
    a, b = float(prior[0]), float(prior[1])
    nights = _check_nights(failures_by_night)
    upper = math.log(1 / alpha)
    path: list[float] = []
    x = n = 0
    verdict: Verdict = "continue"
    decision = None
    for i, (fails, size) in enumerate(nights):
        x += fails
        n += size
        log_e = log_mixture_e_value(x, n, p0, (a, b))
        path.append(log_e)
        if log_e >= upper:
            verdict, decision = "breach", i
            break
    return SequentialResult(
        method="anytime-beta-binomial-mixture",
        verdict=verdict,
        decision_night=decision,
        nights_used=len(path),
        failures=x,
        n=n,
        llr_path=tuple(path),
        upper_boundary=upper,
        lower_boundary=None,
        p0=float(p0),
        p1=None,
        alpha=float(alpha),
        beta=None,
        prior=(a, b),
    )
