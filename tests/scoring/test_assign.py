"""Review queues: one balanced primary per item, blind calibration raters, sticky and idempotent."""

from __future__ import annotations

import math

import pytest

from audits.errors import ConfigError
from audits.sampling import draw
from audits.scorecards import load_scorecards
from audits.scoring import assign_reviews
from tests.sampling.conftest import make_plan
from tests.scoring.conftest import BOT_YAML, assignments, count, fresh_db, write_cards

TEAM = ["ann", "bob", "cy"]


def test_every_item_has_one_primary_and_loads_differ_by_at_most_one(db, draw_id, catalogue):
    result = assign_reviews(db, draw_id, TEAM, calibration_share=0, scorecards=catalogue)
    assert result.primary_added == result.items == 60
    per_item = db.execute(
        "SELECT i.conversation_id, count(a.reviewer) FROM draw_items i LEFT JOIN review_assignments a "
        "ON a.draw_id = i.draw_id AND a.supplier = i.supplier AND a.conversation_id = i.conversation_id "
        "AND a.role = 'primary' WHERE i.draw_id = ? GROUP BY ALL",
        [draw_id],
    ).fetchall()
    assert len(per_item) == 60 and {n for _, n in per_item} == {1}
    loads = [v["primary"] for v in result.per_reviewer.values()]
    assert sorted(result.per_reviewer) == TEAM and max(loads) - min(loads) <= 1


def test_seven_items_over_three_reviewers_are_dealt_3_2_2(catalogue):
    con = fresh_db()
    d = draw(con, make_plan(size={"n": 7}, strata=[]), "s1").draw_id
    result = assign_reviews(con, d, TEAM, calibration_share=0, scorecards=catalogue)
    assert sorted(v["primary"] for v in result.per_reviewer.values()) == [2, 2, 3]


def test_the_same_seed_deals_the_same_queues_whatever_the_reviewer_order(catalogue):
    runs = []
    for team, seed in ((TEAM, "k1"), (list(reversed(TEAM)), "k1"), (TEAM, "k2")):
        con = fresh_db()
        d = draw(con, make_plan(), "s1").draw_id
        assign_reviews(con, d, team, seed=seed, scorecards=catalogue)
        runs.append(assignments(con, d))
        con.close()
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_running_the_same_assignment_again_adds_nothing(db, draw_id, catalogue):
    first = assign_reviews(db, draw_id, TEAM, scorecards=catalogue)
    before = assignments(db, draw_id)
    again = assign_reviews(db, draw_id, TEAM, scorecards=catalogue)
    assert (again.primary_added, again.calibration_added) == (0, 0)
    assert assignments(db, draw_id) == before
    assert first.calibration_added == math.ceil(0.1 * 60)


def test_a_share_of_items_gets_independent_calibration_raters(db, draw_id, catalogue):
    result = assign_reviews(db, draw_id, [*TEAM, "dee"], calibration_share=0.25, raters_per_calibration_item=3,
                            scorecards=catalogue)  # fmt: skip
    rows = db.execute(
        "SELECT supplier, conversation_id, list(reviewer), list(role), count(DISTINCT reviewer), "
        "count(DISTINCT scorecard_id || scorecard_version) FROM review_assignments WHERE draw_id = ? "
        "GROUP BY ALL HAVING count(*) > 1",
        [draw_id],
    ).fetchall()
    assert len(rows) == result.calibration_items == math.ceil(0.25 * 60) == 15
    for *_, reviewers, roles, distinct, cards in rows:
        assert len(reviewers) == distinct == 3  # three raters, never the same reviewer twice
        assert sorted(roles) == ["calibration", "calibration", "primary"]
        assert cards == 1  # calibration raters use the primary's pinned scorecard
    cal = [v["calibration"] for v in result.per_reviewer.values()]
    assert sum(cal) == 30 and max(cal) - min(cal) <= 1


def test_a_reviewer_added_later_gets_only_unassigned_work(db, draw_id, catalogue):
    assign_reviews(db, draw_id, TEAM, scorecards=catalogue)
    before = assignments(db, draw_id)
    later = assign_reviews(db, draw_id, [*TEAM, "dee"], scorecards=catalogue)
    assert (later.primary_added, later.calibration_added) == (0, 0)
    assert assignments(db, draw_id) == before
    assert "dee" not in later.per_reviewer


def test_raising_the_raters_tops_up_calibration_items_only(db, draw_id, catalogue):
    assign_reviews(db, draw_id, TEAM, raters_per_calibration_item=2, scorecards=catalogue)
    before = set(assignments(db, draw_id))
    more = assign_reviews(db, draw_id, TEAM, raters_per_calibration_item=3, scorecards=catalogue)
    after = set(assignments(db, draw_id))
    assert before < after and more.primary_added == 0
    assert more.calibration_added == len(after - before) == 6
    assert {row[3] for row in after - before} == {"calibration"}


def test_each_conversation_is_pinned_to_the_scorecard_for_its_channel_and_handler(db, draw_id, catalogue):
    result = assign_reviews(db, draw_id, TEAM, scorecards=catalogue)
    wrong = db.execute(
        "SELECT count(*) FROM review_assignments a JOIN conversations c USING (supplier, conversation_id) "
        "WHERE a.draw_id = ? AND (a.scorecard_id, a.scorecard_version) <> "
        "CASE c.handler WHEN 'ai' THEN ('bot', '1') ELSE ('people', '2') END",
        [draw_id],
    ).fetchall()
    assert wrong == [(0,)]
    assert {(i, v) for _, _, i, v, _ in result.scorecards} == {("bot", "1"), ("people", "2")}
    registered = db.execute("SELECT scorecard_id, version FROM scorecards ORDER BY 1").fetchall()
    assert registered == [("bot", "1"), ("people", "2")]


def test_a_conversation_no_scorecard_applies_to_is_refused_with_its_channel_and_handler(
    db, draw_id, tmp_path
):
    only_bot = load_scorecards(write_cards(tmp_path / "bot", BOT_YAML))
    with pytest.raises(ConfigError, match=r"channel 'chat', handler 'human'") as err:
        assign_reviews(db, draw_id, TEAM, scorecards=only_bot)
    assert "channel 'voice', handler 'human'" in str(err.value)
    assert count(db, "review_assignments") == 0


def test_skipping_uncovered_conversations_leaves_them_for_a_later_call(db, draw_id, tmp_path, catalogue):
    only_bot = load_scorecards(write_cards(tmp_path / "bot", BOT_YAML))
    first = assign_reviews(db, draw_id, TEAM, scorecards=only_bot, skip_uncovered=True)
    human = db.execute(
        "SELECT count(*) FROM draw_items i JOIN conversations c USING (supplier, conversation_id) "
        "WHERE i.draw_id = ? AND c.handler = 'human'",
        [draw_id],
    ).fetchall()[0][0]
    assert sorted((c, h) for c, h, _ in first.uncovered) == [("chat", "human"), ("voice", "human")]
    assert sum(n for *_, n in first.uncovered) == human > 0
    assert first.primary_added == 60 - human
    before = set(assignments(db, draw_id))
    later = assign_reviews(db, draw_id, TEAM, scorecards=catalogue)
    assert later.primary_added == human and later.uncovered == ()
    after = set(assignments(db, draw_id))
    assert before < after and {row[4] for row in after - before if row[3] == "primary"} == {"people"}


@pytest.mark.parametrize(
    ("reviewers", "options", "message"),
    [
        (["ann"], {}, "needs 2 independent raters"),
        (["ann", "bob"], {"raters_per_calibration_item": 3}, "needs 3 independent raters"),
        (["ann", "ann"], {}, "listed twice"),
        ([], {}, "at least one reviewer"),
        (["ann", " "], {}, "non-empty name"),
        (TEAM, {"calibration_share": 1.0}, r"in \[0, 1\)"),
        (TEAM, {"raters_per_calibration_item": 1}, ">= 2"),
    ],
)
def test_bad_options_are_refused_before_anything_is_written(
    db, draw_id, catalogue, reviewers, options, message
):
    with pytest.raises(ConfigError, match=message):
        assign_reviews(db, draw_id, reviewers, scorecards=catalogue, **options)
    assert count(db, "review_assignments") == 0


def test_one_reviewer_without_calibration_takes_everything(db, draw_id, catalogue):
    result = assign_reviews(db, draw_id, ["solo"], calibration_share=0, scorecards=catalogue)
    assert result.per_reviewer == {"solo": {"primary": 60, "calibration": 0}}


def test_an_unknown_draw_is_named(db, catalogue):
    with pytest.raises(ConfigError, match="no draw 'nope'"):
        assign_reviews(db, "nope", TEAM, scorecards=catalogue)


def test_thousands_of_items_are_dealt_in_set_based_sql(catalogue):
    con = fresh_db(20_000)
    d = draw(con, make_plan(size={"n": 3000}), "big").draw_id
    result = assign_reviews(con, d, [f"r{i:02d}" for i in range(7)], scorecards=catalogue)
    loads = [v["primary"] for v in result.per_reviewer.values()]
    assert result.items == sum(loads) == 3000 and max(loads) - min(loads) <= 1
    cal = [v["calibration"] for v in result.per_reviewer.values()]
    assert sum(cal) == math.ceil(0.1 * result.items) and max(cal) - min(cal) <= 1


@pytest.mark.parametrize(("team", "raters"), [(3, 2), (4, 2), (4, 3), (5, 2), (5, 4)])
@pytest.mark.parametrize("seed", ["a", "b"])
def test_calibration_loads_differ_by_at_most_one_when_fewer_raters_than_reviewers(
    catalogue, team, raters, seed
):
    con = fresh_db()
    d = draw(con, make_plan(), "s1").draw_id
    result = assign_reviews(con, d, [f"r{i}" for i in range(team)], calibration_share=0.25,
                            raters_per_calibration_item=raters, seed=seed, scorecards=catalogue)  # fmt: skip
    cal = [v["calibration"] for v in result.per_reviewer.values()]
    assert len(cal) == team and sum(cal) == 15 * (raters - 1) and max(cal) - min(cal) <= 1
