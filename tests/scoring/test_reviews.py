"""Reviews: who may submit, what is stored, which outcome reaches sample_scores, blind views, the queue."""

from __future__ import annotations

import importlib

import pytest

from audits.checks.run import ensure_tables as ensure_check_tables
from audits.errors import ConfigError
from audits.sampling import estimate
from audits.scorecards import load_scorecard
from audits.scoring import assign_reviews, queue, reviewer_view, submit_review
from tests.scoring.conftest import FAILING, PASSING, count, one_item, sample_score


@pytest.fixture
def queued(db, draw_id, catalogue):
    assign_reviews(db, draw_id, ["ann", "bob", "cy"], calibration_share=0.2, scorecards=catalogue)
    return db, draw_id


def calibration_pair(con, draw_id, scorecard="bot"):
    """(supplier, conversation_id, primary reviewer, calibration reviewer) of a calibration item."""
    return con.execute(
        "SELECT p.supplier, p.conversation_id, p.reviewer, c.reviewer FROM review_assignments p "
        "JOIN review_assignments c USING (draw_id, supplier, conversation_id) "
        "WHERE p.draw_id = ? AND p.role = 'primary' AND c.role = 'calibration' AND p.scorecard_id = ? "
        "ORDER BY 1, 2 LIMIT 1",
        [draw_id, scorecard],
    ).fetchall()[0]


def bot_item(con, draw_id):
    """(supplier, conversation_id, reviewer) of a primary item scored on the bot scorecard."""
    return con.execute(
        "SELECT supplier, conversation_id, reviewer FROM review_assignments WHERE draw_id = ? "
        "AND role = 'primary' AND scorecard_id = 'bot' ORDER BY 1, 2 LIMIT 1",
        [draw_id],
    ).fetchall()[0]


def submit(con, draw_id, s, c, r, answers, **kw):
    return submit_review(
        con, draw_id=draw_id, supplier=s, conversation_id=c, reviewer=r, answers=answers, **kw
    )


def test_only_the_assigned_reviewer_may_submit(queued):
    con, d = queued
    s, c, r, card = one_item(con, d)
    stranger = next(x for x in ("ann", "bob", "cy") if x != r)
    if con.execute(
        "SELECT count(*) FROM review_assignments WHERE draw_id = ? AND supplier = ? AND conversation_id = ? "
        "AND reviewer = ?",
        [d, s, c, stranger],
    ).fetchall()[0][0]:
        stranger = "zed"
    with pytest.raises(ConfigError, match=f"not assigned to '{stranger}'; only its assigned reviewers"):
        submit(con, d, s, c, stranger, PASSING[card])
    assert count(con, "reviews") == 0 and count(con, "sample_scores") == 0


def test_the_primary_review_is_the_sample_score_the_estimate_uses(queued):
    con, d = queued
    s, c, r, card = one_item(con, d)
    result = submit(con, d, s, c, r, FAILING[card])
    assert (result.role, result.passed, result.counts) == ("primary", False, True)
    assert sample_score(con, d, s, c) == (False, r)
    est = estimate(con, d)
    assert (est.scored, est.failures) == (1, 1)
    row = con.execute("SELECT status FROM review_assignments WHERE draw_id = ? AND supplier = ? AND "
                      "conversation_id = ? AND reviewer = ?", [d, s, c, r]).fetchall()  # fmt: skip
    assert row == [("submitted",)]


def test_a_calibration_review_is_stored_but_never_reaches_sample_scores(queued):
    con, d = queued
    s, c, _, rater = calibration_pair(con, d)
    result = submit(con, d, s, c, rater, FAILING["bot"])
    assert (result.role, result.counts) == ("calibration", False)
    assert count(con, "reviews") == 1
    assert sample_score(con, d, s, c) is None


def test_resubmitting_replaces_the_review_and_keeps_the_earlier_one_flagged(queued):
    con, d = queued
    s, c, r, card = one_item(con, d)
    first = submit(con, d, s, c, r, PASSING[card])
    second = submit(con, d, s, c, r, FAILING[card])
    rows = con.execute("SELECT review_id, passed, superseded_by FROM reviews ORDER BY review_id").fetchall()
    assert rows[0][:2] == (first.review_id, True) and rows[0][2] == second.review_id
    assert rows[1] == (second.review_id, False, None)
    assert count(con, "review_answers") == 2 * len(PASSING[card])
    assert sample_score(con, d, s, c) == (False, r)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tone": "6"}, r"'6' is not allowed; expected one of 1, 2, 3, 4, 5"),
        ({"tone": "na"}, "'na' is not allowed"),
        ({"nonsense": "yes"}, "item 'nonsense' is not in scorecard bot"),
        ({"resolved": None}, "no answer for item"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_written(queued, change, message):
    con, d = queued
    s, c, r = bot_item(con, d)
    answers = {k: v for k, v in (PASSING["bot"] | change).items() if v is not None}
    with pytest.raises(ConfigError, match=message):
        submit(con, d, s, c, r, answers)
    assert count(con, "reviews") == count(con, "review_answers") == count(con, "sample_scores") == 0


def test_values_are_matched_without_regard_to_case_or_spaces(queued):
    con, d = queued
    s, c, r = bot_item(con, d)
    submit(con, d, s, c, r, {"disclosed": " YES", "no_pii": "Yes", "tone": 4, "resolved": "NA"})
    stored = dict(con.execute("SELECT item_id, value FROM review_answers").fetchall())
    assert stored == {"disclosed": "yes", "no_pii": "yes", "tone": "4", "resolved": "na"}


def test_comments_on_unknown_items_are_refused(queued):
    con, d = queued
    s, c, r = bot_item(con, d)
    with pytest.raises(ConfigError, match="comment on item 'nope'"):
        submit(con, d, s, c, r, PASSING["bot"], comments={"nope": "hi"})


def add_check(con, s, c, check, outcome, *, version="1", turn=2, evidence="the text", content_hash=None):
    ensure_check_tables(con)
    if content_hash is None:
        content_hash = con.execute(
            "SELECT content_hash FROM conversations WHERE supplier = ? AND conversation_id = ?", [s, c]
        ).fetchall()[0][0]
    con.execute(
        "INSERT INTO check_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'run-1')",
        [s, c, check, version, outcome, turn, evidence, content_hash],
    )


def test_checks_prefill_items_and_the_review_stores_proposal_and_override(queued):
    con, d = queued
    s, c, r = bot_item(con, d)
    add_check(con, s, c, "ai_disclosure", "pass")
    add_check(con, s, c, "pii_echo", "fail", evidence="card 4111 1111 1111 1111")
    view = reviewer_view(con, d, s, c, r)
    assert {k: p.value for k, p in view.prefill.items()} == {"disclosed": "yes", "no_pii": "no"}
    assert view.prefill["no_pii"].turn == 2
    result = submit(con, d, s, c, r, PASSING["bot"])  # confirms disclosed, overrides no_pii
    assert result.overridden == ("no_pii",)
    rows = con.execute(
        "SELECT item_id, value, prefilled, overridden FROM review_answers ORDER BY item_id"
    ).fetchall()
    assert rows == [
        ("disclosed", "yes", "yes", False),
        ("no_pii", "yes", "no", True),
        ("resolved", "yes", None, False),
        ("tone", "5", None, False),
    ]


def test_a_not_applicable_outcome_proposes_nothing_on_an_item_without_na(queued):
    con, d = queued
    s, c, r = bot_item(con, d)
    add_check(con, s, c, "ai_disclosure", "na", turn=None, evidence=None)
    proposal = reviewer_view(con, d, s, c, r).prefill["disclosed"]
    assert (proposal.outcome, proposal.value) == ("na", None)
    submit(con, d, s, c, r, PASSING["bot"])
    rows = con.execute(
        "SELECT prefilled, overridden FROM review_answers WHERE item_id = 'disclosed'"
    ).fetchall()
    assert rows == [(None, False)]


def test_without_check_results_there_is_no_prefill(queued):
    con, d = queued
    s, c, r = bot_item(con, d)
    assert reviewer_view(con, d, s, c, r).prefill == {}
    submit(con, d, s, c, r, PASSING["bot"])
    assert con.execute("SELECT count(*) FROM review_answers WHERE prefilled IS NOT NULL").fetchall() == [(0,)]


def test_a_check_result_on_an_older_version_of_the_conversation_proposes_nothing(queued):
    con, d = queued
    s, c, r = bot_item(con, d)
    add_check(con, s, c, "pii_echo", "fail", content_hash="an-earlier-export")
    assert reviewer_view(con, d, s, c, r).prefill == {}


def test_the_highest_check_version_and_its_worst_outcome_win(queued):
    con, d = queued
    s, c, r = bot_item(con, d)
    add_check(con, s, c, "ai_disclosure", "fail", version="9")
    add_check(con, s, c, "ai_disclosure", "pass", version="10", turn=1)
    add_check(con, s, c, "pii_echo", "pass", version="1", turn=1)
    add_check(con, s, c, "pii_echo", "fail", version="1", turn=5)
    prefill = reviewer_view(con, d, s, c, r).prefill
    assert (prefill["disclosed"].check_version, prefill["disclosed"].value) == ("10", "yes")
    assert (prefill["no_pii"].outcome, prefill["no_pii"].turn) == ("fail", 5)


def test_a_scorecard_other_than_the_pinned_version_is_refused(queued, tmp_path):
    from tests.scoring.conftest import BOT_YAML

    con, d = queued
    s, c, r = bot_item(con, d)
    (tmp_path / "v2.yaml").write_text(BOT_YAML.replace('version: "1"', 'version: "2"'))
    with pytest.raises(ConfigError, match="pinned to bot v1"):
        submit(con, d, s, c, r, PASSING["bot"], scorecard=load_scorecard(tmp_path / "v2.yaml"))


def test_a_reviewer_never_sees_another_reviewers_answers_before_submitting(queued):
    con, d = queued
    s, c, primary, rater = calibration_pair(con, d)
    submit(con, d, s, c, primary, FAILING["bot"], comments={"no_pii": "PRIMARY-SECRET-NOTE"})
    before = reviewer_view(con, d, s, c, rater)
    assert before.others is None and before.own_reviews == []
    assert "PRIMARY-SECRET-NOTE" not in repr(before.to_dict())
    assert primary not in repr(before.to_dict())
    submit(con, d, s, c, rater, PASSING["bot"])
    after = reviewer_view(con, d, s, c, rater)
    assert [o["reviewer"] for o in after.others] == [primary]
    assert after.others[0]["answers"]["no_pii"]["comment"] == "PRIMARY-SECRET-NOTE"
    assert [r["current"] for r in after.own_reviews] == [True]


def test_the_view_shows_the_reviewers_own_history_newest_first(queued):
    con, d = queued
    s, c, r = bot_item(con, d)
    submit(con, d, s, c, r, PASSING["bot"])
    submit(con, d, s, c, r, FAILING["bot"])
    view = reviewer_view(con, d, s, c, r)
    assert [(x["passed"], x["current"]) for x in view.own_reviews] == [(False, True), (True, False)]
    assert view.others == []


def test_the_view_is_refused_to_a_reviewer_not_assigned(queued):
    con, d = queued
    s, c, r = bot_item(con, d)
    with pytest.raises(ConfigError, match="not assigned to 'zed'"):
        reviewer_view(con, d, s, c, "zed")


def test_the_queue_shows_statuses_and_progress_but_no_scores(queued):
    con, d = queued
    s, c, r, card = one_item(con, d)
    submit(con, d, s, c, r, PASSING[card])
    report = queue(con, reviewer=r)
    assert {i["reviewer"] for i in report.items} == {r}
    assert report.items[-1]["status"] == "submitted"  # open items first
    assert not any(k in i for i in report.items for k in ("score", "passed", "answers"))
    [mine] = report.by_reviewer
    assert (mine["submitted"], mine["assigned"]) == (1, len(report.items))
    [whole] = queue(con, draw_id=d).by_draw
    assert (whole["items"], whole["assigned"], whole["primary_submitted"], whole["calibration_items"]) == (
        60,
        60,
        1,
        12,
    )
    assert whole["open_assignments"] == 60 + 12 - 1


def test_the_queue_of_an_empty_warehouse_is_empty(db):
    report = queue(db)
    assert (report.items, report.by_reviewer, report.by_draw) == ([], [], [])


def test_a_score_that_cannot_be_recorded_leaves_no_review_behind(queued, monkeypatch):
    est = importlib.import_module("audits.sampling.estimate")  # the package exports a function of that name

    con, d = queued
    s, c, r, card = one_item(con, d)
    first = submit(con, d, s, c, r, PASSING[card])

    def broken(*args, **kwargs):
        raise ConfigError("disk full")

    monkeypatch.setattr(est, "record_scores", broken)
    with pytest.raises(ConfigError, match="disk full"):
        submit(con, d, s, c, r, FAILING[card])
    rows = con.execute("SELECT review_id, superseded_by FROM reviews").fetchall()
    assert rows == [(first.review_id, None)]
    assert count(con, "review_answers") == len(PASSING[card])
    assert sample_score(con, d, s, c) == (True, r)
