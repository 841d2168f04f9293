"""The audit log: the chain verifies, tampering is named, and appends follow the caller's transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pytest

from audits import auditlog
from audits.errors import ConfigError

T0 = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)


def fill(con: Any, n: int = 5) -> None:
    for i in range(1, n + 1):
        auditlog.append(
            con, actor=f"user{i % 2}", action="finding.reviewed" if i % 2 else "draw.created",
            subject=f"S-{i % 3}", payload={"i": i, "note": "é \u000b \"q\" /"},
            at=T0 + dt.timedelta(minutes=i),
        )  # fmt: skip


def test_chain_verifies_and_starts_from_64_zeros(con: Any) -> None:
    fill(con)
    check = auditlog.verify(con)
    assert (check.ok, check.entries, check.first_bad_seq, check.reason) == (True, 5, None, None)
    first, second = auditlog.entries(con)[:2]
    assert (first.seq, first.prev_hash) == (1, "0" * 64)
    assert second.prev_hash == first.hash
    assert auditlog.head(con) == (5, auditlog.entries(con)[-1].hash)


def test_hash_is_sha256_of_the_documented_canonical_json(con: Any) -> None:
    """Recomputed here by hand from the module docstring's definition, without the module's helpers."""
    seq = auditlog.append(
        con, actor="ana", action="draw.created", subject="D-1", payload={"b": 2, "a": ["é", 1.5]},
        at=dt.datetime(2026, 11, 1, 10, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    )  # fmt: skip
    text = (
        '[1,"2026-11-01T02:00:00.123456Z","ana","draw.created","D-1",{"a":["é",1.5],"b":2},"'
        + "0" * 64
        + '"]'
    )
    (entry,) = auditlog.entries(con)
    assert seq == 1 and entry.hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert json.loads(con.execute("SELECT payload FROM audit_log").fetchall()[0][0]) == {
        "a": ["é", 1.5],
        "b": 2,
    }


def test_an_edited_payload_is_named(con: Any) -> None:
    fill(con)
    con.execute("""UPDATE audit_log SET payload = '{"i": 99}' WHERE seq = 3""")
    check = auditlog.verify(con)
    assert (check.ok, check.entries, check.first_bad_seq) == (False, 5, 3)
    assert "entry 3's hash does not match its content" in str(check.reason)


def test_an_edited_actor_time_or_action_is_named(con: Any) -> None:
    auditlog.ensure_table(con)
    for i, change in enumerate(
        ["actor = 'mallory'", '"at" = "at" + INTERVAL 1 SECOND', "action = 'draw.deleted'"], start=2
    ):
        con.execute("DELETE FROM audit_log")
        fill(con)
        con.execute(f"UPDATE audit_log SET {change} WHERE seq = {i}")
        assert auditlog.verify(con).first_bad_seq == i, change


def test_a_deleted_entry_is_named_as_a_gap(con: Any) -> None:
    fill(con)
    con.execute("DELETE FROM audit_log WHERE seq = 2")
    check = auditlog.verify(con)
    assert (check.ok, check.entries, check.first_bad_seq) == (False, 4, 2)
    assert check.reason == "entry 2 missing: the log goes from 1 to 3"


def test_a_deleted_first_entry_is_named(con: Any) -> None:
    fill(con)
    con.execute("DELETE FROM audit_log WHERE seq IN (1, 2)")
    check = auditlog.verify(con)
    assert (check.first_bad_seq, check.reason) == (1, "entries 1 to 2 missing: the log goes from 0 to 3")


def test_two_swapped_entries_are_named(con: Any) -> None:
    fill(con)
    con.execute("""
        UPDATE audit_log SET "at" = o."at", actor = o.actor, action = o.action, subject = o.subject,
               payload = o.payload, prev_hash = o.prev_hash, hash = o.hash
        FROM (SELECT * FROM audit_log WHERE seq IN (2, 4)) o
        WHERE audit_log.seq IN (2, 4) AND o.seq = 6 - audit_log.seq
    """)
    assert [e.payload["i"] for e in auditlog.entries(con)] == [1, 4, 3, 2, 5]
    check = auditlog.verify(con)
    assert (check.ok, check.first_bad_seq) == (False, 2)


def test_a_changed_hash_is_named_and_a_rehashed_edit_breaks_the_next_link(con: Any) -> None:
    fill(con)
    con.execute("UPDATE audit_log SET hash = repeat('a', 64) WHERE seq = 4")
    assert auditlog.verify(con).first_bad_seq == 4
    con.execute("DELETE FROM audit_log")
    fill(con)
    # a careful forger edits entry 2 and recomputes its hash: entry 3 no longer links to it
    e = auditlog.entries(con)[1]
    forged = auditlog.entry_hash(e.seq, e.at, e.actor, e.action, e.subject, {"i": 0}, e.prev_hash)
    con.execute("""UPDATE audit_log SET payload = '{"i": 0}', hash = ? WHERE seq = 2""", [forged])
    check = auditlog.verify(con)
    assert check.first_bad_seq == 3 and "prev_hash is not entry 2's hash" in str(check.reason)


def test_truncation_leaves_a_valid_chain_but_moves_the_head(con: Any) -> None:
    fill(con)
    kept = auditlog.head(con)
    con.execute("DELETE FROM audit_log WHERE seq = 5")
    assert auditlog.verify(con).ok  # a chain cannot see its own end cut off ...
    assert auditlog.head(con) != kept  # ... which is why the head is kept elsewhere


def test_a_rolled_back_transaction_leaves_no_entry_and_a_committed_one_keeps_it(con: Any) -> None:
    auditlog.append(con, actor="a", action="x.first", subject="s", payload={}, at=T0)
    con.execute("BEGIN TRANSACTION")
    con.execute("CREATE TABLE thing (v INTEGER)")
    con.execute("INSERT INTO thing VALUES (1)")
    assert auditlog.append(con, actor="a", action="x.made", subject="thing", payload={"v": 1}, at=T0) == 2
    con.execute("ROLLBACK")
    assert [e.action for e in auditlog.entries(con)] == ["x.first"]
    con.execute("BEGIN TRANSACTION")
    assert auditlog.append(con, actor="a", action="x.made", subject="thing", payload={"v": 1}, at=T0) == 2
    con.execute("COMMIT")
    assert [e.action for e in auditlog.entries(con)] == ["x.first", "x.made"] and auditlog.verify(con).ok


def test_two_writers_cannot_fork_the_chain(con: Any) -> None:
    auditlog.append(con, actor="a", action="x.y", subject="s", payload={}, at=T0)
    other = con.cursor()
    con.execute("BEGIN TRANSACTION")
    other.execute("BEGIN TRANSACTION")
    auditlog.append(con, actor="a", action="x.y", subject="s", payload={"by": "con"}, at=T0)
    auditlog.append(other, actor="b", action="x.y", subject="s", payload={"by": "other"}, at=T0)
    con.execute("COMMIT")
    with pytest.raises(Exception, match="(?i)conflict|duplicate|constraint"):
        other.execute("COMMIT")
    check = auditlog.verify(con)
    assert check.ok and check.entries == 2 and auditlog.entries(con)[1].payload == {"by": "con"}


def test_entries_filter_by_subject_and_a_literal_action_prefix(con: Any) -> None:
    fill(con)
    auditlog.append(con, actor="a", action="findingXreviewed", subject="S-1", payload={}, at=T0)
    assert [e.seq for e in auditlog.entries(con, subject="S-1")] == [1, 4, 6]
    assert [e.seq for e in auditlog.entries(con, action_prefix="finding.")] == [1, 3, 5]
    assert [e.seq for e in auditlog.entries(con, subject="S-1", action_prefix="finding.")] == [1]
    assert auditlog.entries(con, action_prefix="finding_") == []  # '_' is not a wildcard


def test_bad_arguments_are_refused(con: Any) -> None:
    ok: dict[str, Any] = {"actor": "a", "action": "x.y", "subject": "s", "payload": {}, "at": T0}
    for change, message in [
        ({"actor": " "}, "actor must be non-empty"),
        ({"action": ""}, "action must be non-empty"),
        ({"payload": [1]}, "payload must be a mapping"),
        ({"payload": {"when": T0}}, "not plain JSON"),
        ({"payload": {"x": float("nan")}}, "not plain JSON"),
        ({"at": dt.datetime(2026, 11, 1)}, "has no time zone"),
        ({"at": "yesterday"}, "not an ISO 8601 time"),
    ]:
        with pytest.raises(ConfigError, match=message):
            auditlog.append(con, **(ok | change))
    assert auditlog.entries(con) == []


def test_an_empty_or_missing_log_verifies(con: Any) -> None:
    assert auditlog.verify(con) == auditlog.LogVerification(True, 0)
    assert auditlog.entries(con) == [] and auditlog.head(con) == (0, "0" * 64)


def test_verify_stopping_early_leaves_the_connection_usable(
    con: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auditlog, "BATCH", 2)
    fill(con, 7)
    assert auditlog.verify(con).ok  # read across four batches
    con.execute("UPDATE audit_log SET actor = 'x' WHERE seq = 1")
    assert auditlog.verify(con).first_bad_seq == 1
    assert con.execute("SELECT count(*) FROM audit_log").fetchall() == [(7,)]
