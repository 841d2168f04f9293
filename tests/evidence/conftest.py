"""A warehouse with two suppliers, reviewed and disputed, and the evidence pack of one of them (built once).

Supplier A (alpha-bpo) and supplier B (zenith-ai) each have 16 conversations on each of two nights,
drawn nightly by a plan of their own (10 a night), assigned to two reviewers, every primary item
reviewed. A's customers give every kind of personal data and A's conversations tag a name; B's carry
values of their own, so a search of A's pack for any of B's finds a leak.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import write_jsonl
from tests.scoring.conftest import BOT_YAML, FAILING, PASSING, PEOPLE_YAML, write_cards

A, B = "alpha-bpo", "zenith-ai"
NIGHTS = (dt.date(2026, 11, 1), dt.date(2026, 11, 2))
PERIOD = "2026-11-01..2026-11-02"
# one value of each kind of personal data (each found by audits.checks.pii.find_pii, asserted in a test)
PLANTED = {
    "card_number": "4111 1111 1111 1111",
    "email": "crystal.minh@mail.example.com",
    "phone": "+65 9123 4567",
    "sg_nric": "S1234567D",
    "my_mykad": "850101-14-5678",
    "id_nik": "3174011505900001",
    "ph_id": "1234-5678-9012",
    "th_id": "1-1079-01234-56-1",
}
NAME_TAGGED = "Crystal Minh"  # metadata.pii_names of A's conversations
TURN_NAME = "Budi Santoso"  # a turn's pii_names in one of A's conversations
B_SECRETS = ("zed.quill@inbox.example.org", "Zed Quill", "+66 81 555 0199")


def conversation(supplier: str, night: dt.date, i: int) -> dict[str, Any]:
    prefix = "alp" if supplier == A else "zen"
    cid = f"{prefix}-{night.day}-{i:02d}"
    at = dt.datetime.combine(night, dt.time(1 + i, 0), dt.UTC)
    ai = i % 3 != 0
    if supplier == A:
        said = (f"I am {NAME_TAGGED}, card {PLANTED['card_number']}, mail {PLANTED['email']}, "
                f"call {PLANTED['phone']}; ids {PLANTED['sg_nric']} {PLANTED['my_mykad']} {PLANTED['id_nik']} "
                f"{PLANTED['ph_id']} {PLANTED['th_id']}")  # fmt: skip
        tags = {"pii_names": [NAME_TAGGED]}
    else:
        said = f"This is Zed Quill, {B_SECRETS[0]}, {B_SECRETS[2]}"
        tags = {"pii_names": ["Zed Quill"]}
    agent = "ai_agent" if ai else "human_agent"
    turns = [
        {"speaker": agent, "text": "Hi, I'm an AI assistant." if ai else "Hello, Tan here.", "at": at.isoformat()},
        {"speaker": "customer", "text": said, "at": (at + dt.timedelta(seconds=20)).isoformat()},
        {"speaker": agent, "text": "Thanks, Crystal. Your refund is on its way." if supplier == A else "Done, Zed.",
         "at": (at + dt.timedelta(seconds=40)).isoformat()},
    ]  # fmt: skip
    if supplier == A and i == 4:
        turns[1]["pii_names"] = [TURN_NAME]
        turns[1]["text"] += f" (for my husband {TURN_NAME})"
    return {
        "conversation_id": cid, "supplier": supplier, "channel": "chat" if i % 2 else "voice",
        "handler": "ai" if ai else "human", "started_at": at.isoformat(),
        "ended_at": (at + dt.timedelta(minutes=5)).isoformat(), "market": "SG", "language": "en",
        "journey": "refund", "customer_id": f"cust-{prefix}-{i}", "outcome": "resolved", "csat": 4,
        "metadata": tags, "turns": turns,
    }  # fmt: skip


def nightly_plan(supplier: str, night: dt.date, n: int = 10) -> Any:
    from audits.sampling import parse_plan

    return parse_plan({
        "name": f"nightly-{supplier}", "population": {"from": night.isoformat(), "to": night.isoformat(),
                                                      "suppliers": [supplier]},
        "strata": ["channel"], "allocation": "proportional", "size": {"n": n},
    }, "test-nightly.yaml")  # fmt: skip


@dataclass
class World:
    """The warehouse file and what was made in it."""

    path: Path
    draws: dict[str, list[str]]  # supplier -> draw ids, by night
    shared_draw: str
    finding: str
    dispute: int
    cards: Path


def make_world(folder: Path) -> World:
    """Load, draw, assign, review, dispute and trace; returns the closed warehouse's path and ids."""
    from audits import auditlog, warehouse
    from audits.checks.run import ensure_tables as ensure_check_tables
    from audits.ingest import load_paths
    from audits.nightly.history import record_draw
    from audits.sampling import draw, parse_plan
    from audits.scorecards import load_scorecards
    from audits.scoring import assign_reviews, submit_review
    from audits.scoring.disputes import open_dispute, resolve_dispute
    from audits.trace.findings import open_finding, record_event
    from audits.trace.workflow import SCHEMA as BLAST_SCHEMA

    folder.mkdir(parents=True, exist_ok=True)
    records = [conversation(s, night, i) for s in (A, B) for night in NIGHTS for i in range(16)]
    data = write_jsonl(folder / "conversations.jsonl", records)
    path = folder / "warehouse.duckdb"
    load_paths([data], warehouse_path=path, progress=False)
    cards = write_cards(folder / "cards", BOT_YAML, PEOPLE_YAML)
    catalogue = load_scorecards(cards)
    con = warehouse.connect(path)
    try:
        draws: dict[str, list[str]] = {A: [], B: []}
        for s in (A, B):
            for night in NIGHTS:
                plan = nightly_plan(s, night)
                d = draw(con, plan, f"seed-{night}", actor="nightly").draw_id
                record_draw(con, night, plan, f"seed-{night}", d)
                draws[s].append(d)
                assign_reviews(
                    con, d, ["ann", "bob"], calibration_share=0.2, scorecards=catalogue, actor="lead"
                )
        shared = draw(con, parse_plan({
            "name": "both", "population": {"from": "2026-11-01", "to": "2026-11-02", "suppliers": [A, B]},
            "strata": ["supplier"], "allocation": "equal", "size": {"n": 4}}, "both.yaml"), "s").draw_id  # fmt: skip
        ensure_check_tables(con)
        rows = con.execute(
            "SELECT draw_id, supplier, conversation_id, reviewer, scorecard_id, role FROM review_assignments "
            "ORDER BY ALL"
        ).fetchall()
        first_bot = next(r for r in rows if r[1] == A and r[4] == "bot" and r[5] == "primary")
        content = con.execute("SELECT content_hash FROM conversations WHERE supplier = ? AND conversation_id = ?",
                              [A, first_bot[2]]).fetchall()[0][0]  # fmt: skip
        for check in (
            "pii_echo",
            "ai_disclosure",
        ):  # the reviewer overrides at least one of the two pre-fills
            con.execute("INSERT INTO check_results VALUES (?, ?, ?, '1', 'fail', 2, 'echo', ?, 'run-1')",
                        [A, first_bot[2], check, content])  # fmt: skip
        for k, (d, s, c, r, card, _role) in enumerate(rows):  # every assignment reviewed
            answers = dict(FAILING[card] if k % 4 == 0 else PASSING[card])
            comments = (
                {"resolved": f"customer gave {PLANTED['card_number']}, {NAME_TAGGED}"} if k == 1 else None
            )
            submit_review(con, draw_id=d, supplier=s, conversation_id=c, reviewer=r, answers=answers,
                          comments=comments)  # fmt: skip
        review = con.execute(
            "SELECT review_id FROM reviews WHERE supplier = ? AND role = 'primary' AND superseded_by IS NULL "
            "ORDER BY review_id LIMIT 1", [A]).fetchall()[0][0]  # fmt: skip
        reviewer = con.execute("SELECT reviewer FROM reviews WHERE review_id = ?", [review]).fetchall()[0][0]
        card = con.execute("SELECT scorecard_id FROM reviews WHERE review_id = ?", [review]).fetchall()[0][0]
        dispute = open_dispute(con, review, "supplier-qa", f"the customer ({PLANTED['email']}) was helped")
        resolver = "cy" if reviewer != "cy" else "dee"
        resolve_dispute(con, dispute, resolver, "upheld", answers=FAILING[card], note="agreed")
        cid = draws[A] and con.execute(
            "SELECT conversation_id FROM draw_items WHERE draw_id = ? ORDER BY conversation_id LIMIT 1",
            [draws[A][0]]).fetchall()[0][0]  # fmt: skip
        t0 = dt.datetime(2026, 11, 3, 9, tzinfo=dt.UTC)
        finding = open_finding(con, supplier=A, conversation_id=cid, kind="wrong_answer", severity="high",
                               detected_by="reviewer:ann", turn=3, at=t0,
                               summary=f"told {NAME_TAGGED} the wrong refund time; card {PLANTED['card_number']}")  # fmt: skip
        record_event(
            con, finding, "reviewed", actor="qa-lead", at=t0 + dt.timedelta(hours=1), verdict="confirmed"
        )
        con.execute(BLAST_SCHEMA)
        con.execute(
            "INSERT INTO finding_blast VALUES (?, ?, 'alp-2-03', 'similar_answer', 3, 0.8, ?, 'cust-alp-3', ?, ?), "
            "(?, ?, 'zen-2-03', 'similar_answer', 3, 0.7, ?, 'cust-zen-3', ?, ?)",
            [
                finding,
                A,
                f"Thanks, Crystal. {PLANTED['email']}",
                t0,
                t0,
                finding,
                B,
                f"Done, Zed. {B_SECRETS[0]}",
                t0,
                t0,
            ],
        )
        # a recurrence search found another supplier's conversation: the entry is A's, its payload B's
        # (as audits.trace.store.write_event logs it: on the finding's supplier's chain)
        auditlog.append(con, actor="trace-flow", action="finding.recurrence_found", subject=finding, supplier=A,
                        payload={"count": 1, "conversation_ids": [f"{B}/zen-2-05"]}, at=t0 + dt.timedelta(hours=2))  # fmt: skip
    finally:
        con.close()
    return World(path, draws, shared, finding, dispute, cards)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("evidence-world"))


@pytest.fixture(scope="session")
def pack_a(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A's pack for the two nights (built from a copy, so the world stays as made)."""
    from audits import warehouse
    from audits.evidence import build_pack
    from audits.period import parse_period

    out = tmp_path_factory.mktemp("packs") / "alpha.zip"
    con = warehouse.connect(world.path, read_only=True)
    try:
        build_pack(con, A, parse_period(PERIOD), out, now=dt.datetime(2026, 11, 4, tzinfo=dt.UTC))
    finally:
        con.close()
    return out


@pytest.fixture
def db(world: World, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writable copy of the world's warehouse."""
    from audits import warehouse

    copy = tmp_path / "copy.duckdb"
    shutil.copy(world.path, copy)
    con = warehouse.connect(copy)
    yield con
    con.close()


def members(path: Path) -> dict[str, bytes]:
    """The zip's files by name."""
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def rewrite(path: Path, out: Path, change: dict[str, bytes | None], *, fix_manifest: bool = True) -> Path:
    """A copy of the pack with files replaced (None: removed); MANIFEST.json re-hashed like a forger would."""
    import hashlib

    files = members(path)
    for name, data in change.items():
        if data is None:
            files.pop(name, None)
        else:
            files[name] = data
    if fix_manifest:
        manifest = json.loads(files["MANIFEST.json"])
        manifest["files"] = [{"path": n, "sha256": hashlib.sha256(files[n]).hexdigest(), "bytes": len(files[n])}
                             for n in sorted(files) if n != "MANIFEST.json"]  # fmt: skip
        files["MANIFEST.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(out, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
    return out
