"""Tampering with a pack: verify catches each change, names the check that failed and says what differs.

Each tampered pack re-hashes MANIFEST.json the way a careful forger would, so the deeper checks must
catch it; one test leaves the manifest alone and the file check names the file.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from audits.evidence import verify_pack
from audits.evidence.verify import _items, _Pack
from audits.sampling.estimate import compute_estimate
from tests.evidence.conftest import A, B, World, members, rewrite


def table(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8")))
    return list(reader.fieldnames or []), list(reader)


def to_csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode()


def failed(path: Path, **kw: Any) -> dict[str, list[str]]:
    """The failed checks and their differences."""
    result = verify_pack(path, **kw)
    assert not result.ok
    return {c.name: list(c.differences) for c in result.checks if not c.ok}


def test_a_changed_score_is_caught_by_rescoring_the_estimates_and_the_log(
    pack_a: Path, tmp_path: Path
) -> None:
    header, scores = table(members(pack_a)["scores.csv"])
    row = next(r for r in scores if r["passed"] == "false")
    row["passed"] = "true"
    bad = failed(rewrite(pack_a, tmp_path / "t.zip", {"scores.csv": to_csv(header, scores)}))
    assert set(bad) == {"scores", "estimates", "log vs pack"}
    cid = row["conversation_id"]
    assert any(cid in d and "its answers give false" in d for d in bad["scores"])
    assert any(f"{cid} in draw {row['draw_id']}: scores.csv says passed=true, the audit log's entry" in d
               for d in bad["log vs pack"])  # fmt: skip
    assert any(d.startswith(f"draw {row['draw_id']}.") and "failures" in d for d in bad["estimates"])
    assert any(d.startswith("period.") for d in bad["estimates"])


def test_a_changed_score_with_its_answers_and_estimates_forged_is_still_caught_by_the_log(
    pack_a: Path, tmp_path: Path, world: World
) -> None:
    """The forger flips a score, rewrites its answers to match and recomputes every estimate: the log remains."""
    files = members(pack_a)
    header, scores = table(files["scores.csv"])
    row = next(r for r in scores if r["passed"] == "false" and "dispute" not in r["scored_by"])
    row["passed"], row["score"] = "true", "1.0"
    a_header, answers = table(files["answers.csv"])
    passing = {"bot": {"disclosed": "yes", "no_pii": "yes", "tone": "5", "resolved": "yes"},
               "people": {"greeting": "yes", "resolved": "yes"}}[row["scorecard_id"]]  # fmt: skip
    for a in answers:
        if a["review_id"] == row["review_id"]:
            a["value"] = passing[a["item_id"]]
    tampered = rewrite(pack_a, tmp_path / "t1.zip", {"scores.csv": to_csv(header, scores),
                                                     "answers.csv": to_csv(a_header, answers)})  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:  # the forger recomputes with the verifier's own code
        with zipfile.ZipFile(tampered) as z:
            z.extractall(tmp)
        p = _Pack(Path(tmp))
        est = json.loads(files["estimates.json"])
        d = row["draw_id"]
        strata, items, sim = _items(p, d)
        est["draws"][d] = json.loads(
            json.dumps(compute_estimate(d, strata, items, simulated_scores=sim).to_dict())
        )
    forged = rewrite(tampered, tmp_path / "t2.zip", {"estimates.json": json.dumps(est).encode()})
    bad = failed(forged)
    assert "scores" not in bad and not any(x.startswith(f"draw {d}.") for x in bad.get("estimates", []))
    assert any(
        f"{row['conversation_id']} in draw {d}: scores.csv says passed=true" in x for x in bad["log vs pack"]
    )
    assert any("answers.csv differs from the audit log's entry" in x for x in bad["log vs pack"])


def test_a_changed_file_without_a_new_manifest_is_named(pack_a: Path, tmp_path: Path) -> None:
    header, scores = table(members(pack_a)["scores.csv"])
    scores[0]["passed"] = "true" if scores[0]["passed"] == "false" else "false"
    bad = failed(
        rewrite(pack_a, tmp_path / "t.zip", {"scores.csv": to_csv(header, scores)}, fix_manifest=False)
    )
    assert any(d.startswith("scores.csv: sha256 is ") for d in bad["files"])


def test_a_dropped_sampled_conversation_is_named(pack_a: Path, tmp_path: Path, world: World) -> None:
    d = world.draws[A][0]
    name = f"draws/{d}/sample.csv"
    header, sample = table(members(pack_a)[name])
    dropped = sample.pop(3)
    bad = failed(rewrite(pack_a, tmp_path / "t.zip", {name: to_csv(header, sample)}))
    assert f"missing from sample.csv: {A} {dropped['conversation_id']}" in bad[f"draw {d}"]
    assert any(dropped["conversation_id"] in x and "no draw sampled" in x for x in bad["transcripts"])
    assert any("sample_digest differs" in x for x in bad["log vs pack"])


def test_a_dropped_conversation_with_its_transcript_and_score_is_still_named(
    pack_a: Path, tmp_path: Path, world: World
) -> None:
    files = members(pack_a)
    d = world.draws[A][1]
    name = f"draws/{d}/sample.csv"
    header, sample = table(files[name])
    dropped = sample.pop(0)["conversation_id"]
    s_header, scores = table(files["scores.csv"])
    transcripts = [line for line in files["transcripts.jsonl"].decode().splitlines()
                   if json.loads(line)["conversation_id"] != dropped]  # fmt: skip
    bad = failed(rewrite(pack_a, tmp_path / "t.zip", {
        name: to_csv(header, sample),
        "scores.csv": to_csv(s_header, [r for r in scores if r["conversation_id"] != dropped]),
        "transcripts.jsonl": ("\n".join(transcripts) + "\n").encode()}))  # fmt: skip
    assert f"missing from sample.csv: {A} {dropped}" in bad[f"draw {d}"]
    assert "transcripts" not in bad


def test_a_swapped_seed_is_named(pack_a: Path, tmp_path: Path, world: World) -> None:
    d = world.draws[A][0]
    name = f"draws/{d}/draw.json"
    manifest = json.loads(members(pack_a)[name])
    manifest["seed"] = "a-convenient-seed"
    bad = failed(rewrite(pack_a, tmp_path / "t.zip", {name: json.dumps(manifest).encode()}))
    differences = bad[f"draw {d}"]
    assert any(x.startswith(f"draw_id: draw.json has '{d}', re-derived ") for x in differences)
    assert any(x.startswith("changed ") and " u: " in x for x in differences)
    assert any(f"draw {d} seed: draw.json has 'a-convenient-seed', the audit log recorded 'seed-2026-11-01'" == x
               for x in bad["log vs pack"])  # fmt: skip


def test_an_edited_log_entry_is_named(pack_a: Path, tmp_path: Path) -> None:
    lines = members(pack_a)["audit_log.jsonl"].decode().splitlines()
    k = next(i for i, line in enumerate(lines) if json.loads(line)["action"] == "review.assigned")
    record = json.loads(lines[k])
    record["payload"]["assignments"][0][1] = "mallory"  # who was assigned
    lines[k] = json.dumps(record)
    bad = failed(rewrite(pack_a, tmp_path / "t.zip", {"audit_log.jsonl": ("\n".join(lines) + "\n").encode()}))
    assert bad["audit log"][0].startswith(f"chain broken at entry {record['seq']}:")
    assert "payload does not match its digest" in bad["audit log"][0]


def test_a_removed_log_entry_is_named(pack_a: Path, tmp_path: Path) -> None:
    lines = members(pack_a)["audit_log.jsonl"].decode().splitlines()
    gone = json.loads(lines.pop(4))
    bad = failed(rewrite(pack_a, tmp_path / "t.zip", {"audit_log.jsonl": ("\n".join(lines) + "\n").encode()}))
    assert f"entry {gone['supplier_seq']} missing" in bad["audit log"][0]


def test_a_log_rewritten_whole_is_caught_by_an_anchor(pack_a: Path, tmp_path: Path) -> None:
    """A forger who recomputes every link from the edit on passes the chain check; a head kept elsewhere does not."""
    from audits import auditlog

    lines = [json.loads(x) for x in members(pack_a)["audit_log.jsonl"].decode().splitlines()]
    true_head = (lines[-1]["supplier_seq"], lines[-1]["supplier_hash"])
    lines[2]["actor"] = "mallory"
    prev = lines[1]["supplier_hash"]
    for r in lines[2:]:
        r["supplier_prev_hash"] = prev
        at = auditlog.to_utc(r["at"])
        r["supplier_hash"] = prev = auditlog.supplier_entry_hash(
            r["supplier"], r["supplier_seq"], r["seq"], at, r["actor"], r["action"], r["subject"],
            r["payload_digest"], r["supplier_prev_hash"])  # fmt: skip
    pack = json.loads(members(pack_a)["pack.json"])
    pack["audit_log"]["supplier_head"] = [lines[-1]["supplier_seq"], prev]
    forged = rewrite(pack_a, tmp_path / "t.zip", {
        "audit_log.jsonl": "".join(json.dumps(r) + "\n" for r in lines).encode(),
        "pack.json": json.dumps(pack).encode()})  # fmt: skip
    bad = failed(forged)  # the global hash of the edited entry still gives it away
    assert any(f"entry {lines[2]['seq']}" in x and "global hash" in x for x in bad["audit log"])
    anchored = failed(forged, anchor=true_head)
    assert any("the history before the anchor was rewritten" in x for x in anchored["audit log"])
    assert verify_pack(pack_a, anchor=true_head).ok


def test_an_added_conversation_of_another_supplier_is_named(pack_a: Path, tmp_path: Path) -> None:
    files = members(pack_a)
    header, population = table(files["population.csv"])
    population.append({"supplier": B, "conversation_id": "zen-1-01", "content_hash": "ab" * 32})
    transcript = {"supplier": B, "conversation_id": "zen-1-01", "turns": []}
    bad = failed(rewrite(pack_a, tmp_path / "t.zip", {
        "population.csv": to_csv(header, population),
        "transcripts.jsonl": files["transcripts.jsonl"] + (json.dumps(transcript) + "\n").encode()}))  # fmt: skip
    assert f"population.csv row {len(population)}: supplier '{B}' (zen-1-01)" in bad["supplier"]
    assert any(x.startswith("transcripts.jsonl row ") and B in x for x in bad["supplier"])
    assert any(x == "population.csv has 33 rows, pack.json declares 32" for x in bad["population"])
    assert any("zen-1-01: a transcript of a conversation no draw sampled" in x for x in bad["transcripts"])


def test_a_conversation_moved_into_a_draw_s_population_is_named(
    pack_a: Path, tmp_path: Path, world: World
) -> None:
    d = world.draws[A][0]
    name = f"draws/{d}/population.csv"
    header, population = table(members(pack_a)[name])
    extra = dict(population[0], conversation_id="alp-9-99")
    population.append(extra)
    bad = failed(rewrite(pack_a, tmp_path / "t.zip", {name: to_csv(header, population)}))
    assert any(x.startswith("population_fingerprint: draw.json has") for x in bad[f"draw {d}"])
    assert any("alp-9-99" in x for x in bad["population"])


def test_the_buyer_s_own_population_file_is_compared(pack_a: Path, tmp_path: Path) -> None:
    header, population = table(members(pack_a)["population.csv"])
    same = tmp_path / "same.csv"
    same.write_bytes(
        to_csv(header, population + [{"supplier": B, "conversation_id": "zen-1-01", "content_hash": ""}])
    )
    result = verify_pack(pack_a, population=same)
    assert result.ok and result.checks[-1].name == "population file"
    theirs = tmp_path / "theirs.csv"
    rows = [{"conversation_id": r["conversation_id"]} for r in population[1:]]
    rows.append({"conversation_id": "alp-1-77"})  # a conversation the supplier left out of the frame
    theirs.write_bytes(to_csv(["conversation_id"], rows))
    bad = failed(pack_a, population=theirs)
    assert bad["population file"] == [
        "alp-1-77: in your file, not in the pack's population (left out of the sampling frame)",
        f"{population[0]['conversation_id']}: in the pack's population, not in your file",
    ]


def test_a_file_name_escaping_the_pack_is_refused(pack_a: Path, tmp_path: Path) -> None:
    bad = failed(rewrite(pack_a, tmp_path / "t.zip", {"../evil.txt": b"x"}, fix_manifest=False))
    assert any("../evil.txt: a file name outside the pack" in x for x in bad["files"])
    assert not (tmp_path.parent / "evil.txt").exists()


@pytest.mark.parametrize("name", ["scores.csv", "audit_log.jsonl", "transcripts.jsonl"])
def test_a_missing_file_is_named(pack_a: Path, tmp_path: Path, name: str) -> None:
    bad = failed(rewrite(pack_a, tmp_path / "t.zip", {name: None}, fix_manifest=False))
    assert f"{name}: listed in MANIFEST.json but not in the pack" in bad["files"]
    assert f"{name} is missing" in bad["readable"]


def test_a_manifest_sha256_received_separately_is_compared(pack_a: Path, tmp_path: Path) -> None:
    import hashlib

    good = hashlib.sha256(members(pack_a)["MANIFEST.json"]).hexdigest()
    assert verify_pack(pack_a, manifest_sha256=good).ok
    header, scores = table(members(pack_a)["scores.csv"])
    forged = rewrite(pack_a, tmp_path / "t.zip", {"scores.csv": to_csv(header, scores[1:])})
    bad = failed(forged, manifest_sha256=good)
    assert any(x.startswith("MANIFEST.json: sha256 is ") and x.endswith(f"the value you were given is {good}")
               for x in bad["files"])  # fmt: skip
