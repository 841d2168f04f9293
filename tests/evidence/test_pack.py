"""The pack holds one supplier's evidence, all of it, nothing of the other supplier, and verifies as built."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from audits import auditlog, warehouse
from audits.errors import ConfigError
from audits.evidence import build_pack, verify_pack
from audits.period import parse_period
from tests.evidence.conftest import B_SECRETS, PERIOD, A, B, World, members


def rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


@pytest.fixture(scope="module")
def files(pack_a: Path) -> dict[str, bytes]:
    return members(pack_a)


@pytest.fixture(scope="module")
def ro(world: World) -> Any:
    con = warehouse.connect(world.path, read_only=True)
    yield con
    con.close()


def test_the_manifest_lists_every_file_with_its_sha256(files: dict[str, bytes]) -> None:
    manifest = json.loads(files["MANIFEST.json"])
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert set(listed) == set(files) - {"MANIFEST.json"}
    assert all(hashlib.sha256(files[n]).hexdigest() == h for n, h in listed.items())
    assert {"pack.json", "population.csv", "scores.csv", "answers.csv", "scorecards.json", "estimates.json",
            "findings.json", "audit_log.jsonl", "transcripts.jsonl"} <= set(files)  # fmt: skip


def test_the_population_and_draws_are_the_suppliers_own(
    files: dict[str, bytes], world: World, ro: Any
) -> None:
    pack = json.loads(files["pack.json"])
    assert (pack["supplier"], pack["period"]["label"]) == (A, PERIOD)
    population = rows(files["population.csv"])
    assert len(population) == pack["population"]["count"] == 32
    stored = ro.execute("SELECT conversation_id, content_hash FROM conversations WHERE supplier = ? ORDER BY 1",
                        [A]).fetchall()  # fmt: skip
    assert [(r["conversation_id"], r["content_hash"]) for r in population] == stored
    lines = sorted(f"{A}\t{c}\t{h}" for c, h in stored)
    assert pack["population"]["fingerprint"] == hashlib.sha256("\n".join(lines).encode()).hexdigest()
    assert [d["draw_id"] for d in pack["draws"]] == world.draws[A]
    assert [d["night"] for d in pack["draws"]] == ["2026-11-01", "2026-11-02"]
    assert any(
        world.shared_draw in note for note in pack["left_out"]
    )  # two suppliers' draw: not re-derivable here
    for d in world.draws[A]:
        sample = rows(files[f"draws/{d}/sample.csv"])
        assert [(r["conversation_id"], float(r["weight"])) for r in sample] == [
            tuple(x) for x in ro.execute("SELECT conversation_id, weight FROM draw_items WHERE draw_id = ? "
                                         "ORDER BY stratum, u, supplier, conversation_id", [d]).fetchall()]  # fmt: skip
        assert (
            json.loads(files[f"draws/{d}/draw.json"])["seed"]
            == f"seed-{pack['draws'][world.draws[A].index(d)]['night']}"
        )


def test_scores_answers_and_scorecards_are_those_that_count(
    files: dict[str, bytes], world: World, ro: Any
) -> None:
    scores = rows(files["scores.csv"])
    stored = ro.execute("SELECT draw_id, conversation_id, passed, scored_by FROM sample_scores WHERE supplier = ? "
                        "ORDER BY 1, 2", [A]).fetchall()  # fmt: skip
    assert [
        (r["draw_id"], r["conversation_id"], r["passed"] == "true", r["scored_by"]) for r in scores
    ] == stored
    disputed = [r for r in scores if "(dispute" in r["scored_by"]]
    assert len(disputed) == 1  # the upheld dispute's review is the one that counts
    [(new_review,)] = ro.execute(
        "SELECT new_review_id FROM disputes WHERE dispute_id = ?", [world.dispute]
    ).fetchall()
    assert disputed[0]["review_id"] == str(new_review)
    answers = rows(files["answers.csv"])
    assert {a["review_id"] for a in answers} == {r["review_id"] for r in scores}
    cards = json.loads(files["scorecards.json"])
    assert {(c["scorecard_id"], c["version"]) for c in cards} == {
        (r["scorecard_id"], r["scorecard_version"]) for r in scores
    }


def test_estimates_are_the_warehouse_s(files: dict[str, bytes], world: World, ro: Any) -> None:
    from audits.contracts.estimates import period_sample
    from audits.sampling.estimate import estimate

    est = json.loads(files["estimates.json"])
    for d in world.draws[A]:
        assert est["draws"][d] == json.loads(json.dumps(estimate(ro, d).to_dict()))
    period = period_sample(ro, A, parse_period(PERIOD))
    assert est["period"]["estimate"] == json.loads(json.dumps(period.estimate.to_dict(), default=str))
    assert est["period"]["draws"] == [["2026-11-01", world.draws[A][0]], ["2026-11-02", world.draws[A][1]]]


def test_findings_keep_this_supplier_s_blast_radius_only(files: dict[str, bytes], world: World) -> None:
    [finding] = json.loads(files["findings.json"])
    assert finding["finding_id"] == world.finding and "customer_id" not in finding
    assert [r["conversation_id"] for r in finding["blast_radius"]] == ["alp-2-03"]
    assert finding["customers_to_contact"] == 1
    assert [e["event"] for e in finding["events"]] == ["detected", "reviewed"]


def test_the_log_is_the_supplier_s_chain_with_foreign_and_personal_payloads_withheld(
    files: dict[str, bytes], ro: Any
) -> None:
    records = [json.loads(line) for line in files["audit_log.jsonl"].decode().splitlines()]
    chain = auditlog.entries(ro, supplier=A)
    assert [r["seq"] for r in records] == [e.seq for e in chain]
    assert [r["supplier_seq"] for r in records] == list(range(1, len(chain) + 1))
    withheld = {r["action"]: r["withheld"] for r in records if r["payload"] is None}
    assert withheld == {"dispute.opened": "holds personal data",
                        "finding.recurrence_found": "names another supplier or its conversations"}  # fmt: skip
    assert {r["action"] for r in records} >= {"draw.created", "review.assigned", "review.submitted",
                                             "prefill.overridden", "dispute.resolved", "finding.detected"}  # fmt: skip
    pack = json.loads(files["pack.json"])
    assert pack["audit_log"]["supplier_head"] == list(auditlog.head(ro, A))


def test_nothing_of_the_other_supplier_is_in_any_file(files: dict[str, bytes], ro: Any) -> None:
    """Every file of A's pack searched for B's name, B's conversation ids, B's customers and B's secrets."""
    ids = [
        c
        for (c,) in ro.execute("SELECT conversation_id FROM conversations WHERE supplier = ?", [B]).fetchall()
    ]
    customers = [
        c for (c,) in ro.execute("SELECT customer_id FROM conversations WHERE supplier = ?", [B]).fetchall()
    ]
    b_draws = [d for (d,) in ro.execute(  # B's own draws (the draw of both suppliers is A's too)
        "SELECT draw_id FROM draw_items GROUP BY draw_id HAVING bool_and(supplier = ?)", [B]).fetchall()]  # fmt: skip
    assert len(b_draws) == 2
    needles = [B, "zen-", *ids, *customers, *B_SECRETS, "Zed", "Quill", *b_draws]
    assert len(ids) == 32
    for name, data in files.items():
        text = data.decode("utf-8").lower()
        found = [n for n in needles if n.lower() in text]
        assert not found, f"{name} holds {found[:5]}"


def test_the_pack_verifies_as_built(pack_a: Path, world: World) -> None:
    result = verify_pack(pack_a)
    assert result.ok, result.text()
    names = [c.name for c in result.checks]
    assert names == ["files", "supplier", "population", *(f"draw {d}" for d in world.draws[A]), "transcripts",
                     "scores", "estimates", "audit log", "log vs pack"]  # fmt: skip
    assert "all checks passed" in result.text()


def test_an_unknown_supplier_is_refused(world: World, tmp_path: Path) -> None:
    con = warehouse.connect(world.path, read_only=True)
    try:
        with pytest.raises(ConfigError, match="no conversations of supplier 'nobody'"):
            build_pack(con, "nobody", parse_period(PERIOD), tmp_path / "x.zip")
    finally:
        con.close()
    assert not (tmp_path / "x.zip").exists()


def test_a_period_without_draws_still_packs_and_verifies(world: World, tmp_path: Path) -> None:
    con = warehouse.connect(world.path, read_only=True)
    try:
        result = build_pack(con, A, parse_period("2026-11-03"), tmp_path / "empty.zip",
                            now=dt.datetime(2026, 11, 4, tzinfo=dt.UTC))  # fmt: skip
    finally:
        con.close()
    assert (result.population, result.draws, result.scores) == (0, (), 0)
    check = verify_pack(tmp_path / "empty.zip")
    assert check.ok, check.text()


def test_a_contract_with_the_supplier_goes_in_judged(world: World, tmp_path: Path) -> None:
    from audits.contracts import parse_contract

    contract = parse_contract({"contract_id": "buyer/alpha", "buyer": "buyer", "supplier": A,
                               "terms": {"quality_floor": {"min_pass_rate": 0.5}}}, "c.yaml")  # fmt: skip
    other = parse_contract({"contract_id": "buyer/zen", "buyer": "buyer", "supplier": B,
                            "terms": {"quality_floor": {"min_pass_rate": 0.5}}}, "z.yaml")  # fmt: skip
    con = warehouse.connect(world.path, read_only=True)
    try:
        build_pack(con, A, parse_period(PERIOD), tmp_path / "c.zip", contracts=[contract, other])
    finally:
        con.close()
    files = members(tmp_path / "c.zip")
    [judged] = json.loads(files["contract.json"])
    assert judged["contract"]["contract_id"] == "buyer/alpha"
    assert [t["term"] for t in judged["terms"]] == ["quality_floor"]
    assert (
        B.encode() not in files["contract.json"]
        and json.loads(files["pack.json"])["contract"] == "contract.json"
    )
    assert verify_pack(tmp_path / "c.zip").ok
