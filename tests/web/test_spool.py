"""Writes never lost: a review submitted while another process holds the warehouse is queued on disk
and written once the warehouse is free, exactly once."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest

from audits.web import spool
from tests.web.conftest import items, sign_in
from tests.web.test_scoring import _fill, _primary, _url

HOLD = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.readline(); c.close()"


def _count(site, sid):
    con = duckdb.connect(str(site.path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM reviews WHERE source = ?", ["web:" + sid]).fetchall()[0][0]
    finally:
        con.close()


def _wait_until(predicate, seconds=60.0):
    """Poll until predicate() is true; the deadline only stops a hung test (no timing is asserted)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition never became true")
        time.sleep(0.2)


@pytest.fixture
def holder(site):
    """hold(): another process takes the warehouse read-write (as the nightly run does); returns release()."""
    procs = []

    def release(proc):
        if proc.poll() is None:
            proc.stdin.write("\n")
            proc.stdin.flush()
            proc.wait(timeout=30)

    def hold():
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(site.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        assert proc.stdout.readline().strip() == "held"
        return lambda: release(proc)

    yield hold
    for proc in procs:
        release(proc)


def test_review_submitted_while_busy_is_queued_then_written_once(site, app_client, holder):
    sign_in(app_client, site, "ann")
    s, c = _primary(site)
    data = _fill(app_client.get(_url(site, s, c)).text)
    holder_release = holder()  # the page was loaded; now the nightly run takes the warehouse
    r = app_client.post(_url(site, s, c), data=data)
    assert r.status_code == 202 and "queued" in r.text.lower()
    state = spool.read(spool.spool_path(site.path))
    assert [x["id"] for x in state.pending] == [data["submission_id"]]
    assert state.pending[0]["answers"] == {k[5:]: v for k, v in data.items() if k.startswith("item:")}
    assert app_client.get("/").status_code == 503  # pages say busy meanwhile
    r = app_client.post(_url(site, s, c), data=data)  # a second click while busy: still one submission
    assert r.status_code == 202
    assert len(spool.read(spool.spool_path(site.path)).submissions) == 1
    holder_release()
    _wait_until(lambda: not spool.read(spool.spool_path(site.path)).pending)
    assert _count(site, data["submission_id"]) == 1
    page = app_client.get(f"/?submitted={data['submission_id']}").text
    assert "stored: score" in page
    # replaying again, and posting the same form again, write nothing more
    spool.replay(spool.spool_path(site.path), site.path)
    app_client.post(_url(site, s, c), data=data)
    assert _count(site, data["submission_id"]) == 1


def test_replay_after_a_crash_between_write_and_mark_does_not_write_twice(site):
    from audits import warehouse
    from audits.scoring import submit_review

    s, c, reviewer, _ = items(site.path, site.draw_id, role="primary")[0]
    path = spool.spool_path(site.path)
    sid = "f" * 32
    con = warehouse.connect(site.path)
    try:
        from audits.scoring import reviewer_view

        card = reviewer_view(con, site.draw_id, s, c, reviewer).scorecard
        answers = {i.id: ("na" if i.na_allowed else i.scale.values[0]) for i in card.items}
        spool.spool_submission(
            path,
            sid,
            draw_id=site.draw_id,
            supplier=s,
            conversation_id=c,
            reviewer=reviewer,
            answers=answers,
            comments={},
        )
        # the write happened but the process died before the spool's "applied" line
        submit_review(
            con,
            draw_id=site.draw_id,
            supplier=s,
            conversation_id=c,
            reviewer=reviewer,
            answers=answers,
            source=spool.source_of(sid),
        )
    finally:
        con.close()
    result = spool.replay(path, site.path)
    assert result.applied == [] and [x[0] for x in result.already] == [sid] and result.pending == 0
    assert _count(site, sid) == 1


def test_a_refused_queued_review_is_kept_and_reported(site):
    path = spool.spool_path(site.path)
    s, c, reviewer, _ = items(site.path, site.draw_id, role="primary")[0]
    spool.spool_submission(
        path,
        "e" * 32,
        draw_id=site.draw_id,
        supplier=s,
        conversation_id=c,
        reviewer=reviewer,
        answers={"nonsense": "yes"},
        comments={},
    )
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"kind": "submission", "id": "tor')  # a torn last line from a crash mid-append
    result = spool.replay(path, site.path)
    assert [x[0] for x in result.refused] == ["e" * 32] and "nonsense" in result.refused[0][1]
    state = spool.read(path)
    assert state.status("e" * 32) == "refused" and state.torn_lines == [2]
    assert _count(site, "e" * 32) == 0


def test_spool_lines_are_durable_json(tmp_path):
    path = tmp_path / "w.duckdb.review-spool.jsonl"
    spool.spool_submission(
        path,
        "a" * 32,
        draw_id="d",
        supplier="s",
        conversation_id="c",
        reviewer="r",
        answers={"x": "yes"},
        comments={},
    )
    spool.spool_submission(
        path,
        "a" * 32,
        draw_id="d",
        supplier="s",
        conversation_id="c",
        reviewer="r",
        answers={"x": "yes"},
        comments={},
    )
    assert len(path.read_text().splitlines()) == 1
    with pytest.raises(ValueError):
        spool.spool_submission(
            path,
            "../etc",
            draw_id="d",
            supplier="s",
            conversation_id="c",
            reviewer="r",
            answers={},
            comments={},
        )
