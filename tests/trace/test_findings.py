"""Findings and their lifecycle, KB versions with validity, and the audit log they write.

The warehouse is built once per session (conversations and KB loaded with the real loader, the real
checks run) and copied for each test, so every test starts from the same data and no findings.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audits import auditlog, warehouse
from audits.errors import ConfigError
from audits.trace import kb
from audits.trace.findings import (
    durations,
    find_findings,
    finding_from_check,
    get_finding,
    open_finding,
    record_event,
)
from audits.trace.lifecycle import LifecycleError, UnknownFinding
from tests.checks.conftest import turn
from tests.conftest import conv, write_jsonl

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # "main" started at 02:00 UTC (10:00 +08:00)
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
SUPPLIER = "acme-bpo"

KB = [
    {"article_id": "kb-refund", "version": "1", "title": "Refund processing",
     "body": "Approved refunds reach the original payment method within 5-7 business days.",
     "updated_at": "2026-01-01T00:00:00+00:00"},
    {"article_id": "kb-refund", "version": "2", "title": "Refund processing",
     "body": "Approved refunds reach the original payment method within 3-5 business days.",
     "updated_at": "2026-11-01T03:00:00+00:00"},
    {"article_id": "kb-refund", "version": "3", "title": "Refund processing times",
     "body": "Approved refunds reach the original payment method within 3-5 business days.\n"
             "Card refunds can take one more day.",
     "updated_at": "2026-11-10T00:00:00+00:00"},
    {"article_id": "kb-tie", "version": "1", "title": "Tie", "body": "First.", "updated_at": "2026-09-01T00:00:00+00:00"},
    {"article_id": "kb-tie", "version": "10", "title": "Tie", "body": "Ten.", "updated_at": "2026-10-01T00:00:00+00:00"},
    {"article_id": "kb-tie", "version": "2", "title": "Tie", "body": "Two.", "updated_at": "2026-10-01T00:00:00+00:00"},
    {"article_id": "kb-tie", "version": "draft", "title": "Tie", "body": "Draft.", "updated_at": "2026-10-01T00:00:00+00:00"},
]  # fmt: skip

CONVERSATIONS = [
    conv(conversation_id="main"),
    # started while v1 was live (02:50 UTC), answered after v2 went live (03:30 UTC) with v1's figures
    conv(conversation_id="stale", customer_id="cust-2", started_at="2026-11-01T10:50:00+08:00",
         ended_at="2026-11-01T11:40:00+08:00",
         turns=[turn("customer", "When will my refund for order 88123 arrive?", "10:50:00"),
                turn("ai_agent", "Approved refunds reach your payment method within 5-7 business days.",
                     "11:30:00", kb_article_ids=["kb-refund"])]),
    conv(conversation_id="email", customer_id="cust-3",
         turns=[turn("ai_agent", "Hi, I'm an AI assistant.", "10:00:00"),
                turn("customer", "Here it is", "10:00:05"),
                turn("ai_agent", "I sent it to alex.lee@example.com.", "10:00:09")]),
    conv(conversation_id="other", supplier="beta-bpo"),
]  # fmt: skip


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with the conversations and KB above loaded and every check run."""
    from audits.checks.run import run_checks
    from audits.ingest.load import load_file

    folder = tmp_path_factory.mktemp("trace")
    path = folder / "warehouse.duckdb"
    with warehouse.open_warehouse(path) as con:
        load_file(con, write_jsonl(folder / "kb.jsonl", KB), kind="kb_articles")
        load_file(con, write_jsonl(folder / "conversations.jsonl", CONVERSATIONS))
        run_checks(con)
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Iterator[Any]:
    """A fresh copy of the template warehouse."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(template, path)
    con = warehouse.connect(path)
    yield con
    con.close()


def new(con: Any, conversation_id: str = "main", at: dt.datetime = T0) -> str:
    return open_finding(
        con, supplier=SUPPLIER, conversation_id=conversation_id, kind="wrong_answer", severity="high",
        detected_by="reviewer:ana", turn=3, summary="quoted a stale refund time", at=at,
    )  # fmt: skip


# The happy path: (event, hours after T0, details); contacted at +48 h, verified at +216 h (9 days).
HAPPY: list[tuple[str, int, dict[str, Any]]] = [
    ("reviewed", 1, {"verdict": "confirmed"}),
    ("root_cause", 2, {"cause": "kb_article", "article_id": "kb-refund", "version": "2"}),
    ("corrected", 24, {"new_version": "3", "approved_by": "kb-lead"}),
    ("blast_radius_searched", 25, {"conversations": 40, "similar": 7}),
    ("customers_listed", 26, {"customers": 12}),
    ("contacted", 48, {"contacted": 12}),
    ("verified", 216, {"recurrences": 0, "checked_through": "2026-11-10T00:00:00+00:00"}),
    ("closed", 217, {}),
]
STEPS = [e for e, _, _ in HAPPY]


def advance(con: Any, fid: str, state: str, *, verdict: str = "confirmed") -> dt.datetime:
    """Walk the finding along the happy path (or the rejected one) to `state`; the last event's time."""
    at = T0
    if state == "detected":
        return at
    path = HAPPY if verdict == "confirmed" else [("reviewed", 1, {"verdict": "rejected"}), ("closed", 2, {})]
    for event, hours, details in path:
        at = T0 + hours * HOUR
        record_event(con, fid, event, actor="qa-lead", at=at, **details)
        if event == state:
            return at
    raise AssertionError(state)


def counts(con: Any) -> tuple[int, int]:
    return con.execute(
        "SELECT (SELECT count(*) FROM finding_events), (SELECT count(*) FROM audit_log)"
    ).fetchall()[0]


# --- the happy path ---------------------------------------------------------------------------------


def test_the_whole_happy_path_and_its_durations(db: Any) -> None:
    fid = new(db)
    assert fid == "F-000001" and new(db, "email") == "F-000002"
    for event, hours, details in HAPPY:
        record_event(db, fid, event, actor="qa-lead", at=T0 + hours * HOUR, **details)
        assert get_finding(db, fid).state == event
    f = get_finding(db, fid)
    assert [e.event for e in f.events] == ["detected", *STEPS] and [e.seq for e in f.events] == list(
        range(1, 10)
    )
    assert (f.root_cause, f.article_id, f.article_version, f.corrected_version) == (
        "kb_article",
        "kb-refund",
        "2",
        "3",
    )
    assert (f.journey, f.customer_id, f.turn, f.detected_by) == ("refund", "cust-1", 3, "reviewer:ana")
    assert f.events[-2].details == {"recurrences": 0, "checked_through": "2026-11-10T00:00:00.000000Z"}
    # started 2026-11-01 02:00 UTC; detected 04:00 (2 h); reviewed 05:00 (1 h after detection);
    # corrected +24 h; contacted +48 h; verified +216 h (9 days)
    assert durations(f) == {"time_to_detect": 7200.0, "time_to_review": 3600.0, "time_to_correct": 86400.0,
                            "time_to_contact": 172800.0, "time_to_verify": 777600.0}  # fmt: skip
    assert f.to_dict()["durations"]["time_to_verify"] == 777600.0


def test_durations_are_none_until_reached(db: Any) -> None:
    fid = new(db)
    advance(db, fid, "reviewed")
    assert durations(get_finding(db, fid)) == {"time_to_detect": 7200.0, "time_to_review": 3600.0,
        "time_to_correct": None, "time_to_contact": None, "time_to_verify": None}  # fmt: skip


def test_the_audit_log_holds_every_event_and_verifies(db: Any) -> None:
    fid = new(db)
    advance(db, fid, "closed")
    other = new(db, "email")
    record_event(db, other, "reviewed", actor="ana", at=T0 + HOUR, verdict="rejected", note="not an email")
    log = auditlog.entries(db, subject=fid)
    assert [e.action for e in log] == ["finding.detected"] + [f"finding.{s}" for s in STEPS]
    assert [e.payload for e in log[1:]] == [e.details for e in get_finding(db, fid).events[1:]]
    assert [e.actor for e in log] == ["reviewer:ana"] + ["qa-lead"] * len(STEPS)
    assert [e.at for e in log] == [e.at for e in get_finding(db, fid).events]
    assert log[0].payload == {
        "supplier": SUPPLIER,
        "conversation_id": "main",
        "turn": 3,
        "kind": "wrong_answer",
        "severity": "high",
        "detected_by": "reviewer:ana",
    }  # no summary: it quotes text
    assert len(auditlog.entries(db, action_prefix="finding.")) == 11 and auditlog.verify(db).ok
    db.execute(
        "UPDATE audit_log SET payload = '{\"verdict\": \"rejected\"}' WHERE subject = ? AND action = 'finding.reviewed'",
        [fid],
    )
    assert auditlog.verify(db).first_bad_seq == 2


def test_an_event_whose_log_entry_fails_is_not_recorded(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fid = new(db)
    before = counts(db)

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(auditlog, "append", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        record_event(db, fid, "reviewed", actor="ana", at=T0 + HOUR, verdict="confirmed")
    assert counts(db) == before and get_finding(db, fid).state == "detected"
    with pytest.raises(RuntimeError, match="disk full"):
        new(db, "email")
    assert find_findings(db, conversation_id="email") == []


# --- illegal transitions, table-driven ---------------------------------------------------------------

VALID = {
    "detected": {},
    "reviewed": {"verdict": "confirmed"},
    "root_cause": {"cause": "kb_article", "article_id": "kb-refund", "version": "2"},
    "corrected": {"new_version": "3", "approved_by": "kb-lead"},
    "blast_radius_searched": {"conversations": 1, "similar": 0},
    "customers_listed": {"customers": 1},
    "contacted": {"contacted": 0},
    "verified": {"recurrences": 0, "checked_through": "2026-11-30T00:00:00+00:00"},
    "closed": {},
    "recurrence_found": {"count": 1, "conversation_ids": ["x"]},
    "recurrence_checked": {"recurrences": 0},
}
SIDE = ("recurrence_found", "recurrence_checked")
# (state reached, verdict of the review, the events allowed from there): written out from the spec
ALLOWED = [
    ("detected", "confirmed", ("reviewed",)),
    ("reviewed", "confirmed", ("root_cause",)),
    ("reviewed", "rejected", ("closed",)),
    ("root_cause", "confirmed", ("corrected",)),
    ("corrected", "confirmed", ("blast_radius_searched", *SIDE)),
    ("blast_radius_searched", "confirmed", ("customers_listed", *SIDE)),
    ("customers_listed", "confirmed", ("contacted", *SIDE)),
    ("contacted", "confirmed", ("verified", *SIDE)),
    ("verified", "confirmed", ("closed",)),
    ("closed", "confirmed", ()),
    ("closed", "rejected", ()),
]


@pytest.mark.parametrize(("state", "verdict", "allowed"), ALLOWED)
def test_every_event_not_allowed_from_a_state_is_refused(
    db: Any, state: str, verdict: str, allowed: tuple[str, ...]
) -> None:
    fid = new(db)
    last = advance(db, fid, state, verdict=verdict)
    before = counts(db)
    refused = [e for e in VALID if e not in allowed]
    assert len(refused) == len(VALID) - len(allowed)
    for event in refused:
        with pytest.raises(LifecycleError) as info:
            record_event(
                db, fid, event, actor="qa-lead", at=dt.datetime(2026, 12, 1, tzinfo=UTC), **VALID[event]
            )
        err = info.value
        assert (err.finding_id, err.state, err.event, err.allowed) == (fid, state, event, allowed)
        assert f"{fid} is {state}: {event!r} is not allowed now (allowed: " in str(err)
        assert all(a in str(err) for a in allowed) and (allowed or "closed" in str(err))
    assert counts(db) == before and get_finding(db, fid).events[-1].at == last


@pytest.mark.parametrize(("state", "verdict", "event"), [(s, v, e) for s, v, a in ALLOWED for e in a])
def test_every_event_allowed_from_a_state_is_accepted(db: Any, state: str, verdict: str, event: str) -> None:
    fid = new(db)
    advance(db, fid, state, verdict=verdict)
    details = VALID[event] | ({"verdict": verdict} if event == "reviewed" else {})
    record_event(db, fid, event, actor="qa-lead", at=dt.datetime(2026, 12, 1, tzinfo=UTC), **details)
    f = get_finding(db, fid)
    assert f.events[-1].event == event and f.state == (state if event in SIDE else event)


def test_the_rejected_path_goes_straight_to_closed(db: Any) -> None:
    fid = new(db)
    record_event(db, fid, "reviewed", actor="ana", at=T0 + HOUR, verdict="rejected")
    with pytest.raises(
        LifecycleError, match="is reviewed: 'root_cause' is not allowed now \\(allowed: closed\\)"
    ):
        record_event(db, fid, "root_cause", actor="ana", at=T0 + 2 * HOUR, **VALID["root_cause"])
    record_event(db, fid, "closed", actor="ana", at=T0 + 2 * HOUR, note="agent was right")
    f = get_finding(db, fid)
    assert f.state == "closed" and [e.event for e in f.events] == ["detected", "reviewed", "closed"]
    assert durations(f)["time_to_correct"] is None and f.events[-1].details == {"note": "agent was right"}


# --- recurrences -------------------------------------------------------------------------------------


def test_a_recurrence_blocks_verification_until_a_later_check_finds_none(db: Any) -> None:
    fid = new(db)
    advance(db, fid, "corrected")
    record_event(db, fid, "recurrence_found", actor="nightly", at=T0 + 24 * HOUR, count=2,
                 conversation_ids=["c-7", "c-9"])  # fmt: skip
    assert get_finding(db, fid).state == "corrected"  # recorded, the state stays
    for event, hours, details in HAPPY[3:6]:
        record_event(db, fid, event, actor="qa-lead", at=T0 + hours * HOUR, **details)
    verify = {"recurrences": 0, "checked_through": "2026-11-09T00:00:00+00:00"}
    with pytest.raises(ConfigError, match="latest recurrence search \\(recurrence_found .*\\) found 2"):
        record_event(db, fid, "verified", actor="qa-lead", at=T0 + 200 * HOUR, **verify)
    record_event(db, fid, "recurrence_checked", actor="nightly", at=T0 + 100 * HOUR, recurrences=1)
    with pytest.raises(ConfigError, match="found 1; record a recurrence_checked with recurrences 0 first"):
        record_event(db, fid, "verified", actor="qa-lead", at=T0 + 200 * HOUR, **verify)
    record_event(db, fid, "recurrence_checked", actor="nightly", at=T0 + 150 * HOUR, recurrences=0,
                 checked_through="2026-11-07T00:00:00+00:00")  # fmt: skip
    with pytest.raises(ConfigError, match="recurrences: must be 0 to verify, got 3"):
        record_event(db, fid, "verified", actor="qa-lead", at=T0 + 200 * HOUR, recurrences=3,
                     checked_through="2026-11-09T00:00:00+00:00")  # fmt: skip
    record_event(db, fid, "verified", actor="qa-lead", at=T0 + 200 * HOUR, **verify)
    f = get_finding(db, fid)
    assert f.state == "verified"
    assert [e.event for e in f.events][3:] == ["corrected", "recurrence_found", "blast_radius_searched",
        "customers_listed", "contacted", "recurrence_checked", "recurrence_checked", "verified"]  # fmt: skip


def test_verification_must_check_after_the_correction_and_not_beyond_now(db: Any) -> None:
    fid = new(db)
    at = advance(db, fid, "contacted")
    corrected = T0 + 24 * HOUR
    for through in (corrected, corrected - HOUR, at + 2 * HOUR):
        with pytest.raises(ConfigError, match="checked_through: .* must be after the correction"):
            record_event(
                db, fid, "verified", actor="qa", at=at + HOUR, recurrences=0, checked_through=through
            )
    with pytest.raises(
        ConfigError, match=f"^{fid} verified: checked_through: 2026-11-05T00:00:00 has no time zone"
    ):
        record_event(
            db,
            fid,
            "verified",
            actor="qa",
            at=at + HOUR,
            recurrences=0,
            checked_through="2026-11-05T00:00:00",
        )
    with pytest.raises(ConfigError, match="checked_through: is required"):
        record_event(db, fid, "verified", actor="qa", at=at + HOUR, recurrences=0)
    record_event(db, fid, "verified", actor="qa", at=at + HOUR, recurrences=0, checked_through=at + HOUR)


# --- details -----------------------------------------------------------------------------------------


def test_bad_details_are_refused_with_the_finding_event_and_key(db: Any) -> None:
    fid = new(db)
    cases = [
        ("reviewed", {"verdict": "maybe"}, f"{fid} reviewed: verdict: must be one of confirmed, rejected"),
        ("reviewed", {"verdict": "confirmed", "colour": "red"}, "colour: is not a detail of reviewed"),
    ]
    for event, details, message in cases:
        with pytest.raises(ConfigError, match=message):
            record_event(db, fid, event, actor="qa", at=T0 + HOUR, **details)
    advance(db, fid, "reviewed")
    for details, message in [
        ({"cause": "weather"}, "cause: must be one of kb_article, script, routing, training, model"),
        ({"cause": "kb_article", "article_id": "kb-nothing", "version": "1"}, "no KB article 'kb-nothing'"),
        ({"cause": "kb_article", "article_id": "kb-refund", "version": "9"},
         "KB article 'kb-refund' has no version '9' \\(its versions: 1, 2, 3\\)"),
        ({"cause": "kb_article", "article_id": "kb-refund"}, "version: is required"),
        ({"cause": "script", "article_id": "kb-refund"}, "article_id: is not a detail of root_cause"),
    ]:  # fmt: skip
        with pytest.raises(ConfigError, match=message):
            record_event(db, fid, "root_cause", actor="qa", at=T0 + 2 * HOUR, **details)
    record_event(db, fid, "root_cause", actor="qa", at=T0 + 2 * HOUR, **VALID["root_cause"])
    for details, message in [
        (
            {"new_version": "1", "approved_by": "lead"},
            "new_version: kb-refund v1 is not a later version than v2",
        ),
        ({"new_version": "2", "approved_by": "lead"}, "kb-refund v2 is not a later version than v2"),
        ({"new_version": "4", "approved_by": "lead"}, "has no version '4'"),
        ({"new_version": "3"}, "approved_by: must be non-empty text"),
        ({"approved_by": "lead"}, "new_version: is required: the version of kb-refund that corrects v2"),
    ]:
        with pytest.raises(ConfigError, match=message):
            record_event(db, fid, "corrected", actor="qa", at=T0 + 3 * HOUR, **details)
    assert get_finding(db, fid).state == "root_cause"


def test_a_cause_other_than_the_kb_needs_a_description_of_its_correction(db: Any) -> None:
    fid = new(db)
    advance(db, fid, "reviewed")
    record_event(db, fid, "root_cause", actor="qa", at=T0 + 2 * HOUR, cause="routing")
    with pytest.raises(ConfigError, match="description: must be non-empty text"):
        record_event(db, fid, "corrected", actor="qa", at=T0 + 3 * HOUR, approved_by="lead")
    with pytest.raises(ConfigError, match="new_version: is not a detail of corrected"):
        record_event(db, fid, "corrected", actor="qa", at=T0 + 3 * HOUR, approved_by="lead", new_version="3",
                     description="queue fixed")  # fmt: skip
    record_event(
        db, fid, "corrected", actor="qa", at=T0 + 3 * HOUR, approved_by="lead", description="queue fixed"
    )
    f = get_finding(db, fid)
    assert (f.root_cause, f.article_id, f.corrected_version) == ("routing", None, None)


def test_counts_must_be_whole_and_contacts_within_the_customers_listed(db: Any) -> None:
    fid = new(db)
    advance(db, fid, "corrected")
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ConfigError, match="conversations: must be a whole number >= 0"):
            record_event(
                db, fid, "blast_radius_searched", actor="qa", at=T0 + 30 * HOUR, conversations=bad, similar=0
            )
    with pytest.raises(ConfigError, match="count: must be a whole number >= 1"):
        record_event(
            db, fid, "recurrence_found", actor="qa", at=T0 + 30 * HOUR, count=0, conversation_ids=["a"]
        )
    with pytest.raises(
        ConfigError, match="conversation_ids: lists more conversations than the count \\(1\\)"
    ):
        record_event(
            db, fid, "recurrence_found", actor="qa", at=T0 + 30 * HOUR, count=1, conversation_ids=["a", "b"]
        )
    record_event(db, fid, "blast_radius_searched", actor="qa", at=T0 + 30 * HOUR, conversations=5, similar=2)
    record_event(db, fid, "customers_listed", actor="qa", at=T0 + 31 * HOUR, customers=3)
    with pytest.raises(ConfigError, match="contacted: 4 is more than the 3 customers listed"):
        record_event(db, fid, "contacted", actor="qa", at=T0 + 32 * HOUR, contacted=4)


# --- times, actors and unknown ids -------------------------------------------------------------------


def test_event_times_may_not_go_backwards(db: Any) -> None:
    fid = new(db)
    record_event(db, fid, "reviewed", actor="ana", at=T0 + HOUR, verdict="confirmed")
    before = counts(db)
    with pytest.raises(
        ConfigError, match="before the finding's last event \\(reviewed at 2026-11-01T05:00:00.000000Z\\)"
    ):
        record_event(db, fid, "root_cause", actor="ana", at=T0 + 30 * dt.timedelta(minutes=1), cause="script")
    assert counts(db) == before
    record_event(db, fid, "root_cause", actor="ana", at=T0 + HOUR, cause="script")  # the same time is fine
    with pytest.raises(ConfigError, match="has no time zone"):
        record_event(
            db, fid, "corrected", actor="ana", at=dt.datetime(2026, 11, 2), approved_by="x", description="y"
        )


def test_a_finding_cannot_be_detected_before_its_conversation_started(db: Any) -> None:
    with pytest.raises(ConfigError, match="before acme-bpo/main started \\(2026-11-01T02:00:00.000000Z\\)"):
        new(db, at=dt.datetime(2026, 11, 1, 1, 59, tzinfo=UTC))


def test_unknown_ids_are_named(db: Any) -> None:
    with pytest.raises(UnknownFinding, match="no finding 'F-999999' in the warehouse"):
        record_event(db, "F-999999", "reviewed", actor="ana", verdict="confirmed")
    with pytest.raises(UnknownFinding, match="'F-000001'"):
        get_finding(db, "F-000001")
    with pytest.raises(ConfigError, match="no conversation acme-bpo/nope in the warehouse"):
        new(db, "nope")
    with pytest.raises(ConfigError, match="no conversation acme-bpo/other"):  # it is beta-bpo's
        new(db, "other")
    fid = new(db)
    with pytest.raises(ConfigError, match=f"{fid}: unknown event 'fixed'; known: detected, reviewed"):
        record_event(db, fid, "fixed", actor="ana")
    with pytest.raises(ConfigError, match="actor must be non-empty text"):
        record_event(db, fid, "reviewed", actor=" ", verdict="confirmed")


def test_open_finding_checks_its_arguments(db: Any) -> None:
    ok: dict[str, Any] = {"supplier": SUPPLIER, "conversation_id": "main", "kind": "bot_loop", "severity": "low",
                          "detected_by": "reviewer:ana", "at": T0}  # fmt: skip
    for change, message in [
        ({"kind": "typo"}, "kind must be one of wrong_answer, missed_escalation"),
        ({"severity": "urgent"}, "severity must be one of low, medium, high, critical"),
        ({"detected_by": ""}, "detected_by must be non-empty"),
        ({"turn": 4}, "turn 4 is not a turn of acme-bpo/main \\(it has 3\\)"),
        ({"turn": 0}, "turn 0 is not a turn"),
    ]:
        with pytest.raises(ConfigError, match=message):
            open_finding(db, **(ok | change))
    assert find_findings(db) == [] and auditlog.entries(db) == []
    fid = open_finding(db, **ok)
    assert get_finding(db, fid).turn is None and get_finding(db, fid).state == "detected"


def test_find_findings_filters(db: Any) -> None:
    a, b = new(db), new(db, "email")
    c = open_finding(db, supplier="beta-bpo", conversation_id="other", kind="other", severity="low",
                     detected_by="reviewer:ana", at=T0)  # fmt: skip
    advance(db, a, "reviewed")
    assert [f.finding_id for f in find_findings(db)] == [a, b, c]
    assert [f.finding_id for f in find_findings(db, state="detected")] == [b, c]
    assert [f.finding_id for f in find_findings(db, supplier=SUPPLIER, state="detected")] == [b]
    assert [f.finding_id for f in find_findings(db, conversation_id="main")] == [a]
    assert [len(f.events) for f in find_findings(db)] == [2, 1, 1]
    with pytest.raises(ConfigError, match="unknown state 'open'"):
        find_findings(db, state="open")


# --- findings from checks ----------------------------------------------------------------------------


def test_a_kb_grounded_failure_names_the_article_version_live_at_the_turn(db: Any) -> None:
    outcome, turn_no, evidence = db.execute(
        "SELECT outcome, turn, evidence FROM check_results WHERE conversation_id = 'stale' AND check_id = 'kb_grounded'"
    ).fetchall()[0]
    assert (outcome, turn_no) == ("fail", 2) and evidence.startswith(
        "states 7, which kb-refund v2 does not contain"
    )
    fid = finding_from_check(db, SUPPLIER, "stale", "kb_grounded")
    f = get_finding(db, fid)
    # the conversation started under v1 (02:50 UTC) but the answer was sent under v2 (03:30 UTC);
    # v3 is the version live today
    assert (f.article_id, f.article_version) == ("kb-refund", "2")
    assert (f.kind, f.severity, f.turn, f.summary) == ("wrong_answer", "high", 2, evidence)
    assert (f.detected_by, f.customer_id, f.state) == ("check:kb_grounded@1", "cust-2", "detected")
    finished = db.execute("SELECT max(finished_at) FROM check_runs").fetchall()[0][0]
    assert f.detected_at == finished  # detected when the check run stored the failure
    assert f.events[0].details == {"supplier": SUPPLIER, "conversation_id": "stale", "turn": 2,
        "kind": "wrong_answer", "severity": "high", "detected_by": "check:kb_grounded@1",
        "check_id": "kb_grounded", "check_version": "1", "article_id": "kb-refund", "article_version": "2"}  # fmt: skip
    assert finding_from_check(db, SUPPLIER, "stale", "kb_grounded") == fid  # opened once
    assert len(find_findings(db)) == 1 and len(auditlog.entries(db)) == 1


def test_kinds_follow_the_check(db: Any) -> None:
    personal = finding_from_check(db, SUPPLIER, "email", "pii_echo", severity="critical", at=T0)
    disclosure = finding_from_check(db, SUPPLIER, "stale", "ai_disclosure", at=T0)
    p, d = get_finding(db, personal), get_finding(db, disclosure)
    assert (p.kind, p.severity, p.turn, p.article_id) == ("personal_data", "critical", 3, None)
    assert (d.kind, d.detected_by, d.turn) == ("other", "check:ai_disclosure@1", 2)


def test_a_finding_needs_a_failed_check_result(db: Any) -> None:
    with pytest.raises(
        ConfigError, match="check kb_grounded did not fail on acme-bpo/email \\(its outcome is na\\)"
    ):
        finding_from_check(db, SUPPLIER, "email", "kb_grounded")
    with pytest.raises(
        ConfigError, match="check pii_echo did not fail on acme-bpo/main \\(its outcome is pass\\)"
    ):
        finding_from_check(db, SUPPLIER, "main", "pii_echo")
    with pytest.raises(
        ConfigError, match="no result of check 'kb_grounding' for acme-bpo/stale; run the checks"
    ):
        finding_from_check(db, SUPPLIER, "stale", "kb_grounding")
    assert find_findings(db) == []


# --- KB versions -------------------------------------------------------------------------------------


def test_kb_versions_have_validity_intervals(db: Any) -> None:
    rows = kb.kb_versions(db).filter("article_id = 'kb-refund'").order("rank").fetchall()
    day = dt.datetime
    assert [(r[1], r[5], r[6], r[7]) for r in rows] == [
        ("1", day(2026, 1, 1, tzinfo=UTC), day(2026, 11, 1, 3, tzinfo=UTC), 1),
        ("2", day(2026, 11, 1, 3, tzinfo=UTC), day(2026, 11, 10, tzinfo=UTC), 2),
        ("3", day(2026, 11, 10, tzinfo=UTC), None, 3),
    ]


def test_ties_are_ordered_by_version_number_then_text(db: Any) -> None:
    """As grounding.py orders them: at one updated_at, 'draft' (not a number) < '2' < '10'."""
    rows = kb.kb_versions(db).filter("article_id = 'kb-tie'").order("rank").fetchall()
    assert [r[1] for r in rows] == ["1", "draft", "2", "10"]
    assert kb.live_version(db, "kb-tie", "2026-10-01T00:00:00+00:00") == "10"
    assert kb.live_version(db, "kb-tie", "2026-09-30T23:59:59.999999+00:00") == "1"


def test_live_version_at_the_edges(db: Any) -> None:
    v2_from = dt.datetime(2026, 11, 1, 3, tzinfo=UTC)
    assert kb.live_version(db, "kb-refund", v2_from) == "2"
    assert kb.live_version(db, "kb-refund", v2_from - dt.timedelta(microseconds=1)) == "1"
    assert kb.live_version(db, "kb-refund", "2026-11-01T11:00:00+08:00") == "2"  # 03:00 UTC
    assert kb.live_version(db, "kb-refund", "2025-12-31T23:59:59+00:00") is None
    assert kb.live_version(db, "kb-refund", "2030-01-01T00:00:00+00:00") == "3"
    with pytest.raises(ConfigError, match="no KB article 'kb-nothing' in the warehouse"):
        kb.live_version(db, "kb-nothing", v2_from)


def test_kb_diff_shows_what_changed(db: Any) -> None:
    assert kb.kb_diff(db, "kb-refund", "2", "3") == "\n".join([
        "--- kb-refund v2",
        "+++ kb-refund v3",
        "@@ -1,3 +1,4 @@",
        "-Refund processing",
        "+Refund processing times",
        " ",
        " Approved refunds reach the original payment method within 3-5 business days.",
        "+Card refunds can take one more day.",
    ])  # fmt: skip
    assert kb.kb_diff(db, "kb-refund", "2", "2") == ""
    with pytest.raises(
        ConfigError, match="KB article 'kb-refund' has no version '7' \\(its versions: 1, 2, 3\\)"
    ):
        kb.kb_diff(db, "kb-refund", "2", "7")
    with pytest.raises(ConfigError, match="no KB article 'kb-none'"):
        kb.kb_diff(db, "kb-none", "1", "2")
