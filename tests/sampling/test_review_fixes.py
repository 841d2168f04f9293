"""Regression tests for the defects a second reader found in the sampling code (2026-11-23)."""

from __future__ import annotations

import hashlib

import pytest

from audits.errors import ConfigError
from audits.sampling import draw, verify
from audits.sampling.estimate import Score, record_scores
from audits.sampling.manifest import export_draw, verify_files
from audits.sampling.select import population_summary
from tests.sampling.conftest import make_plan, populate


def add(con, supplier: str, cid: str, content_hash: str | None = None) -> None:
    con.execute(
        "INSERT INTO conversations (supplier, conversation_id, channel, handler, started_at, content_hash) "
        "VALUES (?, ?, 'chat', 'ai', TIMESTAMPTZ '2026-11-02 00:00:00+00', ?)",
        [supplier, cid, content_hash],
    )


def test_fingerprint_sorts_bare_lines_like_the_auditors_python(mem):
    add(mem, "acme", "b")
    add(mem, "acme", "b\t")  # "acme\tb\t" is a prefix of "acme\tb\t\t" followed by a tab
    _, fingerprint, _ = population_summary(mem, make_plan())
    lines = ["acme\tb\t", "acme\tb\t\t"]
    assert fingerprint == hashlib.sha256("\n".join(sorted(lines, key=str.encode)).encode()).hexdigest()


def test_ids_with_carriage_returns_survive_the_export(mem, tmp_path):
    add(mem, "acme", "x\ry", "h1")
    add(mem, "acme", "plain", "h2")
    result = draw(mem, make_plan(size={"n": 2}), "s")
    export_draw(mem, result.draw_id, tmp_path)
    report = verify_files(tmp_path)
    assert report.ok, report.differences()


@pytest.fixture
def drawn(mem):
    populate(mem, 600)
    return mem, draw(mem, make_plan(), "seed-1")


def test_verify_catches_a_duplicated_item(drawn):
    con, result = drawn
    con.execute("INSERT INTO draw_items SELECT * FROM draw_items WHERE draw_id = ? LIMIT 1", [result.draw_id])
    report = verify(con, result.draw_id)
    assert not report.ok and any("more than once" in p for p in report.record_problems)


def test_verify_catches_an_edited_plan_or_seed(drawn):
    con, result = drawn
    con.execute("UPDATE draws SET plan_json = replace(plan_json, '\"n\":60', '\"n\":61')")
    assert any("plan_json hashes to" in p for p in verify(con, result.draw_id).record_problems)
    con.execute("UPDATE draws SET plan_json = replace(plan_json, '\"n\":61', '\"n\":60'), seed = 'other'")
    assert any("the draw id should be" in p for p in verify(con, result.draw_id).record_problems)


def test_a_score_never_deletes_another_items_score(mem):
    add(mem, "a\tb", "c")
    add(mem, "a", "b\tc")
    result = draw(mem, make_plan(population={"from": "2026-11-01", "to": "2026-11-30",
                                             "suppliers": ["a\tb", "a"]}, strata=[], size={"n": 2}), "s")  # fmt: skip
    record_scores(mem, result.draw_id, [Score("a\tb", "c", True)])
    record_scores(mem, result.draw_id, [Score("a", "b\tc", False)])
    assert mem.execute("SELECT count(*) FROM sample_scores").fetchall() == [(2,)]


def test_a_redraw_after_strata_changed_is_refused(drawn):
    con, result = drawn
    plan = make_plan(strata=["supplier"], edge_cases=[{"name": "repeat_contact", "take": "all"}])
    first = draw(con, plan, "s2")
    con.execute(
        "UPDATE conversations SET is_repeat_contact = NOT is_repeat_contact WHERE conversation_id = 'c-1'"
    )
    with pytest.raises(ConfigError, match="strata have changed"):
        draw(con, plan, "s2")
    assert not verify(con, first.draw_id).ok


def test_zero_weights_never_push_a_stratum_over_its_size():
    """Review finding: allocate(99, ...) with two positive weights and four zero weights gave 25 to a
    stratum of 24 and 43 to a stratum of 42."""
    from audits.sampling.allocate import allocate

    sizes = {"k0": 24, "k1": 10, "k2": 10, "k3": 42, "k4": 10, "k5": 10}
    weights = {"k0": 1.0, "k1": 0.0, "k2": 0.0, "k3": 2.0, "k4": 0.0, "k5": 0.0}
    out = allocate(99, sizes, weights, low=1)
    assert sum(out.values()) == 99
    assert all(1 <= out[k] <= sizes[k] for k in sizes), out
