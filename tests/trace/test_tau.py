"""A real failure traced to the policy section it broke: tau-bench airline, task 41, trial 0.

The customer says she booked "10 hours ago" and wants a full refund. The reservation the agent itself
looked up (turn 5) was created on 2024-05-02, is basic economy and has no insurance; the policy's
current time is 2024-05-15. The "Cancel flight" section allows a cancellation within 24 hours of booking,
otherwise for (basic) economy only with insurance. The agent answered "you are eligible" (turn 8) and
called cancel_reservation (turn 10), which the adapter cites as governed by airline-policy/cancel-flight.
tau-bench scores the conversation 0: the expected actions hold no cancellation.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from audits import warehouse
from audits.checks.run import run_checks
from audits.ingest.load import load_file
from audits.trace.blast import blast_radius
from audits.trace.findings import open_finding, record_event
from audits.trace.similar import build_index, load_index
from audits.trace.workflow import dossier, search_blast

TAU = Path(__file__).resolve().parents[3] / "shared" / "data" / "tau-bench-airline"
TRAJECTORIES = TAU / "historical_trajectories__gpt-4o-airline.json"
SECTION = "airline-policy/cancel-flight"
CID = "tau-airline-41-0"


@pytest.fixture(scope="module")
def tau(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("tau")
    con = warehouse.connect(folder / "w.duckdb")
    for path in (TRAJECTORIES, TAU / "airline__wiki.md"):
        load_file(con, path, fmt="tau-bench")
    run_checks(con)
    build_index(con, folder / "index")
    yield con, load_index(folder / "index")
    con.close()


def text(con: Any, turn: int) -> str:
    return con.execute(
        "SELECT text FROM turns WHERE conversation_id = ? AND turn_index = ?", [CID, turn]
    ).fetchall()[0][0]


def test_the_failure_and_the_rule_it_broke_are_in_the_warehouse(tau: Any) -> None:
    con, _ = tau
    looked_up = json.loads(text(con, 5))
    assert (looked_up["created_at"], looked_up["cabin"], looked_up["insurance"]) == (
        "2024-05-02T06:02:56",
        "basic_economy",
        "no",
    )
    assert "10 hours ago" in text(con, 7) and "eligible to cancel" in text(con, 8)
    cited = con.execute(
        "SELECT action, kb_article_ids FROM turns WHERE conversation_id = ? AND turn_index = 10", [CID]
    ).fetchall()
    assert cited == [("cancel_reservation", [SECTION])]
    (body,) = con.execute("SELECT body FROM kb_articles WHERE article_id = ?", [SECTION]).fetchall()[0]
    assert "All reservations can be cancelled within 24 hours of booking" in body
    assert "basic economy or economy flights can be cancelled only if travel insurance is bought" in body
    (general,) = con.execute(
        "SELECT body FROM kb_articles WHERE article_id = 'airline-policy/general'"
    ).fetchall()[0]
    assert "2024-05-15" in general  # "The current time is 2024-05-15 ...": 13 days after the booking
    failed = con.execute(
        "SELECT outcome FROM check_results WHERE conversation_id = ? AND check_id = 'automation_failed'",
        [CID],
    ).fetchall()
    assert failed == [("fail",)]  # reward 0


def test_the_trace_of_the_failure(tau: Any) -> None:
    con, index = tau
    started = con.execute("SELECT started_at FROM conversations WHERE conversation_id = ?", [CID]).fetchall()[
        0
    ][0]
    supplier = con.execute("SELECT supplier FROM conversations WHERE conversation_id = ?", [CID]).fetchall()[
        0
    ][0]
    hour = dt.timedelta(hours=1)
    fid = open_finding(con, supplier=supplier, conversation_id=CID, kind="compliance", severity="high",
                       detected_by="reviewer:auditor", turn=8, at=started + hour,
                       summary=f"Cancelled a basic-economy booking made 13 days earlier, without insurance, on the "
                               f"customer's word; breaks {SECTION}")  # fmt: skip
    record_event(con, fid, "reviewed", actor="qa-lead", at=started + 2 * hour, verdict="confirmed")
    record_event(con, fid, "root_cause", actor="qa-lead", at=started + 3 * hour, cause="model",
                 note=f"the agent took the customer's claim over the reservation's created_at; rule: {SECTION}")  # fmt: skip
    record_event(con, fid, "corrected", actor="ai-team", at=started + 24 * hour, approved_by="head of cx",
                 description="the agent must compare created_at with the current time before cancel_reservation")  # fmt: skip
    radius = search_blast(con, fid, actor="qa", index=index, threshold=0.5, at=started + 25 * hour)
    # near neighbours: the other trials where the agent told a customer the same thing
    similar = {r.conversation_id for r in radius.rows}
    assert "tau-airline-41-2" in similar  # the same task, the same wrong answer, also cancelled
    # and every conversation whose cancellation the same policy section governs
    section = blast_radius(
        con, supplier=supplier, conversation_id=CID, turn=10, article_id=SECTION, article_version="1"
    )
    trajectories = json.loads(TRAJECTORIES.read_text())
    cancelled = {f"tau-airline-{t['task_id']}-{t['trial']}" for t in trajectories
                 if any(c["function"]["name"] == "cancel_reservation" for m in t["traj"] for c in m.get("tool_calls") or [])}  # fmt: skip
    assert {r.conversation_id for r in section.rows} == cancelled - {CID}
    d = dossier(con, fid)["findings"][0]
    assert [e["event"] for e in d["events"]] == ["detected", "reviewed", "root_cause", "corrected",
                                                 "blast_radius_searched", "customers_listed"]  # fmt: skip
    assert SECTION in d["summary"]
