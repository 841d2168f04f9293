"""Every decision leaves its audit log entries, in its supplier's chain, and any edit of them is caught.

Draws, assignments, reviews (submitted, imported from a sheet, replaced, withdrawn), overrides of check
pre-fills, disputes and findings; `append_many`; the supplier chains; an older log without them.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from audits import auditlog
from audits.errors import ConfigError
from audits.sampling import draw
from audits.sampling.draw import sample_digest
from audits.scoring import assign_reviews, export_sheet, import_sheet, submit_review
from audits.scoring.disputes import open_dispute, resolve_dispute
from tests.sampling.conftest import make_plan
from tests.scoring.conftest import FAILING, PASSING, fresh_db, write_cards
from tests.scoring.test_reviews import add_check
from tests.scoring.test_sheets import fill, read, write

T0 = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    con = fresh_db(120)  # suppliers acme, beta, gamma
    yield con
    con.close()


@pytest.fixture
def catalogue(tmp_path: Path) -> Any:
    from audits.scorecards import load_scorecards
    from tests.scoring.conftest import BOT_YAML, PEOPLE_YAML

    return load_scorecards(write_cards(tmp_path / "cards", BOT_YAML, PEOPLE_YAML))


def acts(con: Any, prefix: str) -> list[auditlog.LogEntry]:
    return auditlog.entries(con, action_prefix=prefix)


def single(supplier: str = "acme") -> Any:
    return make_plan(
        population={"from": "2026-11-01", "to": "2026-11-30", "suppliers": [supplier]}, size={"n": 12}
    )


def test_a_draw_logs_one_entry_per_supplier_with_its_own_sample_only(db: Any) -> None:
    result = draw(db, make_plan(), "s1", actor="nightly")
    entries = acts(db, "draw.")
    assert [(e.action, e.subject, e.supplier, e.actor) for e in entries] == [
        ("draw.created", result.draw_id, s, "nightly") for s in ("acme", "beta", "gamma")
    ]
    for e in entries:
        mine = [i for i in result.items if i.supplier == e.supplier]
        assert e.payload == {"draw_id": result.draw_id, "plan_name": "test", "plan_hash": result.plan_hash,
                             "seed": "s1", "items": len(mine), "sample_digest": sample_digest(mine)}  # fmt: skip
        assert e.supplier_seq == 1 and e.supplier_prev_hash == auditlog.GENESIS
        assert not any(
            i.supplier != e.supplier and i.conversation_id in json.dumps(e.payload) for i in result.items
        )
    assert draw(db, make_plan(), "s1").existing and len(acts(db, "draw.")) == 3  # the stored draw: no entry
    assert auditlog.verify(db).ok


def test_a_draw_of_one_supplier_records_its_population(db: Any) -> None:
    result = draw(db, single(), "s1", actor="ann")
    [e] = acts(db, "draw.")
    assert (e.payload["population_count"], e.payload["population_fingerprint"]) == (
        result.population_count, result.population_fingerprint)  # fmt: skip
    assert e.payload["strata"] == {s.stratum: [s.population, s.allocated, s.drawn] for s in result.strata}


def test_sample_digest_is_the_documented_sha256() -> None:
    """Recomputed by hand from the docstring: tab-joined fields, repr numbers, sorted, newline-joined."""
    import hashlib

    from audits.sampling.select import Item

    items = [
        Item("b", "2", "all", "random", 0.5, 2.0, 0.25),
        Item("a", "1", "all", "random", 0.5, 2.0, 0.125),
    ]
    text = "a\t1\tall\trandom\t0.5\t2.0\t0.125\nb\t2\tall\trandom\t0.5\t2.0\t0.25"
    assert sample_digest(items) == hashlib.sha256(text.encode()).hexdigest()


def test_assignments_are_logged_once_per_supplier_with_exactly_the_rows_added(
    db: Any, catalogue: Any
) -> None:
    d = draw(db, make_plan(), "s1").draw_id
    assign_reviews(db, d, ["ann", "bob"], calibration_share=0.2, scorecards=catalogue, actor="lead")
    entries = acts(db, "review.assigned")
    assert {e.supplier for e in entries} == {"acme", "beta", "gamma"} and {e.actor for e in entries} == {
        "lead"
    }
    logged = sorted((e.supplier, *row) for e in entries for row in e.payload["assignments"])
    stored = db.execute("SELECT supplier, conversation_id, reviewer, role, scorecard_id, scorecard_version "
                        "FROM review_assignments ORDER BY ALL").fetchall()  # fmt: skip
    assert logged == sorted(tuple(r) for r in stored)
    assign_reviews(db, d, ["ann", "bob"], calibration_share=0.2, scorecards=catalogue)  # idempotent
    assert len(acts(db, "review.assigned")) == 3
    assign_reviews(db, d, ["ann", "bob", "cy"], calibration_share=0.3, raters_per_calibration_item=3,
                   scorecards=catalogue)  # fmt: skip
    added = acts(db, "review.assigned")[3:]
    assert added and all(row[2] == "calibration" for e in added for row in e.payload["assignments"])
    assert auditlog.verify(db).ok


@pytest.fixture
def queued(db: Any, catalogue: Any) -> tuple[Any, str]:
    d = draw(db, single(), "s1").draw_id
    assign_reviews(db, d, ["ann", "bob"], calibration_share=0.2, scorecards=catalogue)
    return db, d


def primary(con: Any, d: str, card: str = "bot", k: int = 0) -> tuple[str, str, str]:
    return con.execute(
        "SELECT supplier, conversation_id, reviewer FROM review_assignments WHERE draw_id = ? AND role = 'primary' "
        "AND scorecard_id = ? ORDER BY conversation_id LIMIT 1 OFFSET ?", [d, card, k]).fetchall()[0]  # fmt: skip


def test_a_review_its_replacement_and_an_override_are_logged(queued: Any) -> None:
    con, d = queued
    s, c, r = primary(con, d)
    add_check(con, s, c, "pii_echo", "fail")
    first = submit_review(con, draw_id=d, supplier=s, conversation_id=c, reviewer=r, answers=FAILING["bot"])
    [sub] = acts(con, "review.submitted")
    assert (sub.actor, sub.subject, sub.supplier) == (r, d, s)
    assert sub.payload == {"draw_id": d, "source": "submit", "reviews": [{
        "review_id": first.review_id, "conversation_id": c, "role": "primary", "scorecard_id": "bot",
        "scorecard_version": "1", "score": first.score, "passed": False, "counts": True,
        "answers": FAILING["bot"]}]}  # fmt: skip
    assert (
        acts(con, "review.replaced") == [] and acts(con, "prefill.overridden") == []
    )  # the pre-fill was kept
    second = submit_review(con, draw_id=d, supplier=s, conversation_id=c, reviewer=r, answers=PASSING["bot"])
    [replaced] = acts(con, "review.replaced")
    assert replaced.payload["replaced"] == [[first.review_id, second.review_id, c]]
    [override] = acts(con, "prefill.overridden")
    assert override.payload["overrides"] == [
        {
            "review_id": second.review_id,
            "conversation_id": c,
            "item_id": "no_pii",
            "prefilled": "no",
            "value": "yes",
        }
    ]
    assert override.supplier == s and auditlog.verify(con).ok


def test_an_imported_sheet_is_one_entry_with_its_source(queued: Any, tmp_path: Path) -> None:
    con, d = queued
    export_sheet(con, d, "ann", tmp_path / "ann.csv")
    write(tmp_path / "filled.csv", fill(read(tmp_path / "ann.csv")))
    result = import_sheet(con, tmp_path / "filled.csv", "ann")
    entries = acts(con, "review.submitted")
    assert [(e.actor, e.payload["source"]) for e in entries] == [("ann", "sheet:filled.csv")]
    assert sorted(r["review_id"] for r in entries[0].payload["reviews"]) == sorted(
        r[0] for r in con.execute("SELECT review_id FROM reviews").fetchall())  # fmt: skip
    assert result.submitted == len(entries[0].payload["reviews"])


def test_disputes_opened_upheld_and_rejected_are_logged(queued: Any) -> None:
    con, d = queued
    s, c, r = primary(con, d)
    rid = submit_review(
        con, draw_id=d, supplier=s, conversation_id=c, reviewer=r, answers=FAILING["bot"]
    ).review_id
    n = open_dispute(con, rid, "supplier-qa", "masked card")
    [opened] = acts(con, "dispute.opened")
    assert (opened.actor, opened.subject, opened.supplier) == ("supplier-qa", str(n), s)
    assert opened.payload == {"dispute_id": n, "review_id": rid, "draw_id": d, "conversation_id": c,
                              "reason": "masked card"}  # fmt: skip
    result = resolve_dispute(con, n, "lead", "upheld", PASSING["bot"], "agreed")
    [resolved] = acts(con, "dispute.resolved")
    assert resolved.payload == {"dispute_id": n, "outcome": "upheld", "review_id": rid, "draw_id": d,
                                "conversation_id": c, "note": "agreed", "passed_before": False, "passed_after": True}  # fmt: skip
    rescored = acts(con, "review.submitted")[-1]
    assert rescored.seq == resolved.seq - 1 and rescored.payload["source"] == "dispute"
    assert rescored.payload["reviews"][0]["review_id"] == result.new_review_id
    assert rescored.payload["reviews"][0]["dispute_id"] == n
    s2, c2, r2 = primary(con, d, k=1)
    rid2 = submit_review(
        con, draw_id=d, supplier=s2, conversation_id=c2, reviewer=r2, answers=FAILING["bot"]
    ).review_id
    n2 = open_dispute(con, rid2, "supplier-qa", "too harsh")
    resolve_dispute(con, n2, "lead", "rejected", note="echoed")
    last = acts(con, "dispute.resolved")[-1]
    assert (last.payload["outcome"], last.payload["passed_after"], last.subject) == (
        "rejected",
        False,
        str(n2),
    )
    assert auditlog.verify(con).ok


def test_a_dispute_whose_log_entry_fails_is_not_opened(queued: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    con, d = queued
    s, c, r = primary(con, d)
    rid = submit_review(
        con, draw_id=d, supplier=s, conversation_id=c, reviewer=r, answers=FAILING["bot"]
    ).review_id

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConfigError("log is down")

    monkeypatch.setattr(auditlog, "append_many", broken)
    with pytest.raises(ConfigError, match="log is down"):
        open_dispute(con, rid, "supplier-qa", "x")
    assert con.execute("SELECT count(*) FROM disputes").fetchall() == [(0,)]


def test_a_batch_whose_scores_fail_is_withdrawn_in_the_log(
    queued: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    con, d = queued
    s, c, r = primary(con, d)
    estimate_module = importlib.import_module(
        "audits.sampling.estimate"
    )  # the package exports a function so named

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConfigError("scores are down")

    monkeypatch.setattr(estimate_module, "record_scores", broken)
    with pytest.raises(ConfigError, match="scores are down"):
        submit_review(con, draw_id=d, supplier=s, conversation_id=c, reviewer=r, answers=PASSING["bot"])
    submitted, withdrawn = acts(con, "review.submitted"), acts(con, "review.withdrawn")
    assert [w.payload["review_ids"] for w in withdrawn] == [[submitted[0].payload["reviews"][0]["review_id"]]]
    assert con.execute("SELECT count(*) FROM reviews").fetchall() == [(0,)] and auditlog.verify(con).ok


def test_finding_entries_join_the_findings_supplier_chain(db: Any) -> None:
    from audits.trace.findings import open_finding, record_event

    fid = open_finding(db, supplier="beta", conversation_id="c-1", kind="wrong_answer", severity="high",
                       detected_by="reviewer:ann", at=T0)  # fmt: skip
    record_event(db, fid, "reviewed", actor="lead", at=T0 + dt.timedelta(hours=1), verdict="confirmed")
    entries = acts(db, "finding.")
    assert [(e.supplier, e.supplier_seq) for e in entries] == [("beta", 1), ("beta", 2)]
    assert auditlog.head(db, "beta") == (2, entries[-1].supplier_hash) and auditlog.head(db, "acme")[0] == 0


@pytest.fixture
def busy(queued: Any) -> Any:
    """A log with draws, assignments, reviews and a dispute of one supplier, plus entries of no supplier."""
    con, d = queued
    s, c, r = primary(con, d)
    rid = submit_review(
        con, draw_id=d, supplier=s, conversation_id=c, reviewer=r, answers=FAILING["bot"]
    ).review_id
    resolve_dispute(con, open_dispute(con, rid, "qa", "why"), "lead", "rejected")
    auditlog.append(con, actor="ops", action="config.changed", subject="checks", payload={"v": 2}, at=T0)
    draw(con, single("beta"), "s2")
    assert auditlog.verify(con).ok
    return con


EDITS = [
    ("payload", """'{"edited": true}'"""),
    ("actor", "'mallory'"),
    ("subject", "'other'"),
    ('"at"', '"at" + INTERVAL 1 SECOND'),
]


@pytest.mark.parametrize(("column", "value"), EDITS)
def test_editing_any_entry_is_caught_and_named(busy: Any, column: str, value: str) -> None:
    n = len(auditlog.entries(busy))
    for seq in range(1, n + 1):  # every entry, one at a time, on a fresh copy of the log
        busy.execute("CREATE OR REPLACE TEMP TABLE kept AS SELECT * FROM audit_log")
        busy.execute(f"UPDATE audit_log SET {column} = {value} WHERE seq = ?", [seq])
        check = auditlog.verify(busy)
        assert (check.ok, check.first_bad_seq) == (False, seq), (column, seq)
        busy.execute("DELETE FROM audit_log")
        busy.execute("INSERT INTO audit_log SELECT * FROM kept")
    assert auditlog.verify(busy).ok


def test_editing_the_supplier_chain_fields_is_caught(busy: Any) -> None:
    rows = busy.execute("SELECT seq FROM audit_log WHERE supplier IS NOT NULL ORDER BY seq").fetchall()
    seq = rows[len(rows) // 2][0]
    for change in ["supplier_hash = repeat('a', 64)", "supplier = 'gamma'", "supplier = NULL",
                   "salt = 'x'", "supplier_seq = supplier_seq + 5", "supplier_prev_hash = repeat('0', 64)"]:  # fmt: skip
        busy.execute("CREATE OR REPLACE TEMP TABLE kept AS SELECT * FROM audit_log")
        busy.execute(f"UPDATE audit_log SET {change} WHERE seq = ?", [seq])
        check = auditlog.verify(busy)
        assert not check.ok and check.first_bad_seq is not None, change
        busy.execute("DELETE FROM audit_log")
        busy.execute("INSERT INTO audit_log SELECT * FROM kept")
    assert auditlog.verify(busy).ok


def test_a_supplier_chain_rewritten_whole_breaks_the_global_chain(busy: Any) -> None:
    """Moving an entry into another supplier's chain, with a recomputed link, leaves the global hash intact
    but not the other chain's sequence: the next entry of that chain no longer follows."""
    e = next(x for x in auditlog.entries(busy) if x.supplier == "acme" and x.supplier_seq == 1)
    forged = auditlog.supplier_entry_hash("beta", 1, e.seq, e.at, e.actor, e.action, e.subject,
                                          auditlog.payload_digest(e.salt or "", e.payload), auditlog.GENESIS)  # fmt: skip
    busy.execute("UPDATE audit_log SET supplier = 'beta', supplier_hash = ? WHERE seq = ?", [forged, e.seq])
    check = auditlog.verify(busy)
    assert not check.ok and "supplier" in str(check.reason)


def test_append_many_chains_like_single_appends_in_one_statement(db: Any) -> None:
    batch = [
        auditlog.NewEntry("a", "x.y", f"s{i}", {"i": i}, "acme" if i % 2 else None, T0) for i in range(5)
    ]
    assert auditlog.append_many(db, batch) == [1, 2, 3, 4, 5]
    assert auditlog.append_many(db, []) == []
    got = auditlog.entries(db)
    assert [e.prev_hash for e in got[1:]] == [e.hash for e in got[:-1]]
    assert [e.supplier_seq for e in got] == [None, 1, None, 2, None]
    assert got[3].supplier_prev_hash == got[1].supplier_hash and auditlog.verify(db).ok
    with pytest.raises(ConfigError, match="subject must be non-empty"):
        auditlog.append_many(
            db, [auditlog.NewEntry("a", "x.y", "s", {}), auditlog.NewEntry("a", "x.y", " ", {})]
        )
    assert len(auditlog.entries(db)) == 5


def test_an_older_log_gains_the_supplier_columns_and_keeps_verifying(db: Any) -> None:
    db.execute(auditlog.SCHEMA.split("supplier VARCHAR")[0].rstrip().rstrip(",") + "\n);")
    old = auditlog.entry_hash(1, T0, "a", "x.y", "s", {}, auditlog.GENESIS)
    db.execute(
        "INSERT INTO audit_log VALUES (1, ?, 'a', 'x.y', 's', '{}', ?, ?)", [T0, auditlog.GENESIS, old]
    )
    assert auditlog.verify(db).ok and auditlog.entries(db, supplier="acme") == []
    auditlog.append(db, actor="a", action="x.y", subject="s", payload={}, supplier="acme", at=T0)
    assert [(e.seq, e.supplier, e.supplier_seq) for e in auditlog.entries(db)] == [
        (1, None, None),
        (2, "acme", 1),
    ]
    assert auditlog.verify(db).ok


def test_a_withheld_payload_still_verifies_by_its_digest_and_an_edited_one_does_not(db: Any) -> None:
    for i in range(3):
        auditlog.append(db, actor="a", action="x.y", subject="s", payload={"i": i}, supplier="acme", at=T0)
    links = [auditlog.ChainLink(e.seq, e.at, e.actor, e.action, e.subject, e.payload,
                                auditlog.payload_digest(e.salt or "", e.payload), e.salt, "acme",
                                e.supplier_seq or 0, e.supplier_prev_hash or "", e.supplier_hash or "")
             for e in auditlog.entries(db)]  # fmt: skip
    hidden = [
        *links[:1],
        auditlog.ChainLink(**{**links[1].__dict__, "payload": None, "salt": None}),
        *links[2:],
    ]
    assert auditlog.check_links(hidden, 3).ok
    edited = [*links[:1], auditlog.ChainLink(**{**links[1].__dict__, "payload": {"i": 9}}), *links[2:]]
    bad = auditlog.check_links(edited, 3)
    assert (bad.ok, bad.first_bad_seq) == (False, 2) and "payload does not match its digest" in str(
        bad.reason
    )
    guessed = [
        *links[:1],
        auditlog.ChainLink(**{**links[1].__dict__, "payload": None, "digest": "0" * 64}),
        *links[2:],
    ]
    assert auditlog.check_links(guessed, 3).first_bad_seq == 2


def test_entries_show_the_last_ones_of_a_supplier(db: Any) -> None:
    for i in range(6):
        auditlog.append(db, actor="a", action="x.y", subject="s", payload={"i": i},
                        supplier="acme" if i % 2 else "beta", at=T0)  # fmt: skip
    assert [e.payload["i"] for e in auditlog.entries(db, supplier="acme", limit=2)] == [3, 5]
    assert [e.payload["i"] for e in auditlog.entries(db, limit=3)] == [3, 4, 5]
    assert auditlog.entries(db, supplier="nobody", limit=3) == []


def test_the_default_actor_is_the_environment_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_AUDIT_ACTOR", "nightly-bot")
    assert auditlog.default_actor() == "nightly-bot"
    monkeypatch.delenv("QA_AUDIT_ACTOR")
    assert auditlog.default_actor().startswith(("user:", "qa-audit"))
