"""The period sample's domain estimates: a hand-worked two-stratum example, and agreement with the draw's own estimate."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import astuple

import pytest

from audits.contracts.estimates import period_sample
from audits.period import Period
from audits.sampling.estimate import estimate
from tests.contracts.helpers import add_conversations, db, night_draw

NIGHT = dt.date(2026, 11, 1)
DAY = Period(NIGHT, NIGHT)


def two_strata():  # type: ignore[no-untyped-def]
    """Stratum A: N = 100, 4 scored (chat fail, chat pass, voice fail, voice pass);
    stratum B: N = 50, 5 scored (chat fail, chat pass, chat pass, voice pass, voice pass)."""
    con = db()
    night_draw(con, NIGHT, [
        ("A", 100, [False, True, False, True], ["chat", "chat", "voice", "voice"]),
        ("B", 50, [False, True, True, True, True], ["chat", "chat", "chat", "voice", "voice"]),
    ])  # fmt: skip
    return con


def test_domain_ratio_and_variance_by_hand() -> None:
    """Worked by hand (the linearised ratio variance, audits.contracts.estimates):

    chat: weights 25 (A) and 10 (B); R = (25 + 10) / (2 x 25 + 3 x 10) = 35 / 80 = 0.4375.
    z in A: 0.5625, -0.4375 (chat), 0, 0: sum 0.125, sum of squares 0.5078125, s2 = 0.50390625 / 3.
    z in B: 0.5625, -0.4375, -0.4375, 0, 0: sum -0.3125, sum of squares 0.69921875, s2 = 0.6796875 / 4.
    v = [100^2 (1 - 4/100) s2_A / 4 + 50^2 (1 - 5/50) s2_B / 5] / 80^2 = (403.125 + 76.46484375) / 6400.
    """
    ps = period_sample(two_strata(), "acme", DAY)
    (chat,) = ps.domain("channel", "chat")
    assert (chat.scored, chat.failures) == (5, 2)
    assert chat.estimate.failure_rate == pytest.approx(0.4375)
    assert chat.estimate.pass_rate == pytest.approx(0.5625)
    assert chat.estimate.population == pytest.approx(80)
    assert chat.estimate.standard_error == pytest.approx(math.sqrt((403.125 + 76.46484375) / 6400))
    iv = chat.estimate.pass_interval
    assert iv.lower < chat.estimate.pass_rate < iv.upper
    (voice,) = ps.domain("channel", "voice")
    # voice: A 25 x (1 fail + 1 pass), B 10 x 2 passes: R = 25 / 70
    assert voice.estimate.failure_rate == pytest.approx(25 / 70)
    assert [d.value for d in ps.domain("night")] == ["2026-11-01"]
    assert (ps.drawn, ps.scored, ps.unscored_strata, ps.nights_missing) == (9, 9, (), ())


def test_the_supplier_estimate_is_the_draws_own() -> None:
    con = two_strata()
    ps = period_sample(con, "acme", DAY)
    e = estimate(con, "d-2026-11-01-nightly-acme")
    assert ps.estimate is not None
    assert ps.estimate.overall.pass_rate == pytest.approx(e.overall.pass_rate)
    assert ps.estimate.overall.pass_interval.lower == pytest.approx(e.overall.pass_interval.lower)
    (night,) = ps.domain("night")
    (sup,) = e.suppliers  # a domain over the whole draw is the draw's supplier (ratio) estimate
    assert night.estimate.pass_rate == pytest.approx(sup.estimate.pass_rate)
    assert night.estimate.standard_error == pytest.approx(sup.estimate.standard_error)
    assert night.estimate.pass_interval.upper == pytest.approx(sup.estimate.pass_interval.upper)


def test_two_nights_are_strata_of_one_design_and_gaps_are_listed() -> None:
    con = db()
    night_draw(con, NIGHT, [("all", 10, [True, False], None)])
    night_draw(con, NIGHT + dt.timedelta(days=1), [("all", 30, [True, True, None], None)])
    add_conversations(
        con, [{"conversation_id": "no-draw", "started_at": dt.datetime(2026, 11, 3, 9, tzinfo=dt.UTC)}]
    )
    ps = period_sample(con, "acme", Period(NIGHT, NIGHT + dt.timedelta(days=2)))
    # overall: W = 10/40 and 30/40; p = 0.25 x 0.5 + 0.75 x 0 = 0.125
    assert ps.estimate is not None and ps.estimate.overall.failure_rate == pytest.approx(0.125)
    assert ps.nights_missing == (dt.date(2026, 11, 3),)
    assert (ps.drawn, ps.scored) == (5, 4) and ps.gaps
    assert [d.value for d in ps.domain("night")] == ["2026-11-01", "2026-11-02"]


def test_nothing_drawn() -> None:
    con = db()
    ps = period_sample(con, "acme", DAY)
    assert ps.estimate is None and ps.domains == () and ps.draws == ()


def test_a_zero_variance_domain_uses_the_non_census_rule() -> None:
    """Stratum A all passed, stratum B all failed: the night's variance is exactly zero, so its interval rests on
    the 6 non-census items (as `qa-audit sample estimate` does), not on a rounding residue of the sums."""
    con = db()
    night_draw(con, NIGHT, [("A", 10, [True] * 3, ["chat", "voice", "sms"]),
                            ("B", 30, [False] * 3, ["chat", "voice", "sms"])])  # fmt: skip
    (night,) = period_sample(con, "acme", DAY).domain("night")
    (sup,) = estimate(con, "d-2026-11-01-nightly-acme").suppliers
    assert night.estimate.standard_error == 0 and night.estimate.effective_n == 6
    for got, want in zip(
        astuple(night.estimate.pass_interval), astuple(sup.estimate.pass_interval), strict=True
    ):
        assert got == pytest.approx(want)
    assert night.estimate.pass_rate == pytest.approx(0.25)


def test_the_design_effect_is_truncated_at_one() -> None:
    """A census edge stratum holds the domain's one failure; its passes sit in a large stratum whose other items
    all failed. The linearised variance is ~2e-7 (an effective sample of ~10,000 from 11 items); truncating the
    design effect at 1 (Korn & Graubard 1998) caps the effective sample at the 11 scored items."""
    con = db()
    night_draw(con, NIGHT, [
        ("edge:failed_automation", 1, [False], ["voice"]),
        ("A", 1000, [True] * 10 + [False] * 10, ["voice"] * 10 + ["chat"] * 10),
    ])  # fmt: skip
    (voice,) = period_sample(con, "acme", DAY).domain("channel", "voice")
    assert voice.estimate.failure_rate == pytest.approx(1 / 501)
    assert voice.estimate.effective_n == pytest.approx(11)
    assert voice.estimate.standard_error == pytest.approx(math.sqrt((1 / 501) * (500 / 501) / 11))
    assert voice.estimate.pass_interval.lower < 0.8  # an honest interval for 11 items, not 99.7%-99.9%
