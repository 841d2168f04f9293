"""Disputes: only the counting review, resolved once by someone else; upheld answers replace the outcome."""

from __future__ import annotations

import pytest

from audits.errors import ConfigError
from audits.sampling import estimate
from audits.scoring import assign_reviews, list_disputes, open_dispute, resolve_dispute, submit_review
from tests.scoring.conftest import FAILING, PASSING, count, sample_score
from tests.scoring.test_reviews import calibration_pair


@pytest.fixture
def reviewed(db, draw_id, catalogue):
    """A draw with a calibration item whose primary review failed it."""
    assign_reviews(db, draw_id, ["ann", "bob", "cy"], calibration_share=0.2, scorecards=catalogue)
    s, c, primary, rater = calibration_pair(db, draw_id)
    review = submit_review(db, draw_id=draw_id, supplier=s, conversation_id=c, reviewer=primary,
                           answers=FAILING["bot"])  # fmt: skip
    return db, draw_id, s, c, primary, rater, review.review_id


def test_an_upheld_dispute_rescores_and_replaces_the_outcome_the_estimate_uses(reviewed):
    con, d, s, c, primary, _, rid = reviewed
    assert sample_score(con, d, s, c) == (False, primary)
    dispute = open_dispute(con, rid, "supplier-qa", "the card number was masked")
    result = resolve_dispute(con, dispute, "lead", "upheld", PASSING["bot"], "masked: ****1111")
    assert (result.status, result.passed_before, result.passed_after, result.score_after) == (
        "upheld",
        False,
        True,
        1.0,
    )
    assert sample_score(con, d, s, c) == (True, f"lead (dispute {dispute})")
    assert estimate(con, d).failures == 0
    new = con.execute(
        "SELECT reviewer, role, dispute_id, scorecard_id, scorecard_version FROM reviews WHERE review_id = ?",
        [result.new_review_id],
    ).fetchall()
    assert new == [("lead", "dispute", dispute, "bot", "1")]
    kept = con.execute("SELECT passed, superseded_by FROM reviews WHERE review_id = ?", [rid]).fetchall()
    assert kept == [(False, None)]  # the disputed review stays as its reviewer gave it
    [row] = list_disputes(con)
    assert (row["status"], row["resolved_by"], row["note"], row["passed_before"], row["passed_after"]) == (
        "upheld",
        "lead",
        "masked: ****1111",
        False,
        True,
    )


def test_a_rejected_dispute_keeps_the_outcome(reviewed):
    con, d, s, c, primary, _, rid = reviewed
    dispute = open_dispute(con, rid, "supplier-qa", "too harsh")
    result = resolve_dispute(con, dispute, "lead", "rejected", note="the PII was echoed in turn 3")
    assert (result.status, result.passed_after, result.new_review_id) == ("rejected", False, None)
    assert sample_score(con, d, s, c) == (False, primary)
    assert count(con, "reviews") == 1


def test_the_original_reviewer_cannot_resolve_a_dispute_of_their_review(reviewed):
    con, *_, primary, _, rid = reviewed
    dispute = open_dispute(con, rid, "supplier-qa", "too harsh")
    with pytest.raises(ConfigError, match=f"{primary} wrote review {rid}, the one disputed"):
        resolve_dispute(con, dispute, primary, "rejected")
    assert list_disputes(con)[0]["status"] == "open"


def test_a_closed_dispute_cannot_be_resolved_again(reviewed):
    con, *_, rid = reviewed
    dispute = open_dispute(con, rid, "supplier-qa", "too harsh")
    resolve_dispute(con, dispute, "lead", "rejected")
    with pytest.raises(ConfigError, match=f"dispute {dispute} is closed \\(rejected by lead"):
        resolve_dispute(con, dispute, "other-lead", "upheld", PASSING["bot"])
    assert count(con, "reviews") == 1


@pytest.mark.parametrize(
    ("outcome", "answers", "message"),
    [
        ("upheld", None, "needs the corrected answers"),
        ("rejected", PASSING["bot"], "give no answers"),
        ("maybe", None, "outcome must be one of upheld, rejected"),
        ("upheld", {"tone": "5"}, "no answer for item"),
    ],
)
def test_a_resolution_must_be_consistent(reviewed, outcome, answers, message):
    con, *_, rid = reviewed
    dispute = open_dispute(con, rid, "supplier-qa", "too harsh")
    with pytest.raises(ConfigError, match=message):
        resolve_dispute(con, dispute, "lead", outcome, answers)
    assert list_disputes(con)[0]["status"] == "open"


def test_a_calibration_review_cannot_be_disputed(reviewed):
    con, d, s, c, _, rater, _ = reviewed
    cal = submit_review(con, draw_id=d, supplier=s, conversation_id=c, reviewer=rater, answers=PASSING["bot"])
    with pytest.raises(ConfigError, match="is a calibration review"):
        open_dispute(con, cal.review_id, "supplier-qa", "x")


def test_a_replaced_review_cannot_be_disputed(reviewed):
    con, d, s, c, primary, _, rid = reviewed
    newer = submit_review(
        con, draw_id=d, supplier=s, conversation_id=c, reviewer=primary, answers=PASSING["bot"]
    )
    with pytest.raises(ConfigError, match=f"was replaced by review {newer.review_id}"):
        open_dispute(con, rid, "supplier-qa", "x")


def test_one_open_dispute_at_a_time_and_the_primary_is_frozen_meanwhile(reviewed):
    con, d, s, c, primary, _, rid = reviewed
    dispute = open_dispute(con, rid, "supplier-qa", "too harsh")
    with pytest.raises(ConfigError, match=f"dispute {dispute} is already open"):
        open_dispute(con, rid, "someone-else", "me too")
    with pytest.raises(ConfigError, match=f"dispute {dispute} is open on it; resolve it first"):
        submit_review(con, draw_id=d, supplier=s, conversation_id=c, reviewer=primary, answers=PASSING["bot"])
    resolve_dispute(con, dispute, "lead", "upheld", PASSING["bot"])
    with pytest.raises(ConfigError, match=f"settled by upheld dispute {dispute}"):
        submit_review(con, draw_id=d, supplier=s, conversation_id=c, reviewer=primary, answers=PASSING["bot"])
    assert sample_score(con, d, s, c) == (True, f"lead (dispute {dispute})")


def test_after_an_upheld_dispute_only_the_dispute_review_can_be_disputed_and_not_by_its_author(reviewed):
    con, d, s, c, _, _, rid = reviewed
    first = open_dispute(con, rid, "supplier-qa", "too harsh")
    upheld = resolve_dispute(con, first, "lead", "upheld", PASSING["bot"])
    with pytest.raises(ConfigError, match=f"no longer counts: review {upheld.new_review_id} replaced it"):
        open_dispute(con, rid, "buyer", "x")
    second = open_dispute(con, upheld.new_review_id, "buyer", "it did echo the card")
    with pytest.raises(ConfigError, match="lead wrote review"):
        resolve_dispute(con, second, "lead", "rejected")
    final = resolve_dispute(con, second, "head-of-qa", "upheld", FAILING["bot"])
    assert final.passed_after is False
    assert sample_score(con, d, s, c) == (False, f"head-of-qa (dispute {second})")
    assert [x["dispute_id"] for x in list_disputes(con, status="upheld")] == [second, first]


def test_unknown_reviews_and_disputes_are_named(reviewed):
    con, *_ = reviewed
    with pytest.raises(ConfigError, match="no review 999"):
        open_dispute(con, 999, "x", "y")
    with pytest.raises(ConfigError, match="no dispute 999"):
        resolve_dispute(con, 999, "x", "rejected")


def test_a_dispute_needs_a_reason_and_a_name(reviewed):
    con, *_, rid = reviewed
    with pytest.raises(ConfigError, match="the reason must be a non-empty"):
        open_dispute(con, rid, "supplier-qa", "  ")
    with pytest.raises(ConfigError, match="raised_by must be a non-empty"):
        open_dispute(con, rid, "", "why")
