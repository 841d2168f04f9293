"""The blast radius: cited versions by their validity windows, similar answers, prevalence, errors, demo data."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from audits import warehouse
from audits.errors import ConfigError
from audits.ingest.load import load_file, load_paths
from audits.stats import wilson
from audits.trace.blast import blast_radius
from audits.trace.similar import build_index, load_index
from tests.conftest import REPO, conv, write_jsonl
from tests.trace.test_similar import FAILED, PARAPHRASE, UNRELATED, at

DEMO = REPO / "data" / "demo"
CHECK_POLICY = "Let me check the refund policy that applies to your order."
KB = [
    {"article_id": "kb-refund", "version": "1", "title": "Refund window", "updated_at": "2026-01-01T00:00:00+00:00",
     "body": "Customers can request a refund within 14 days of delivery."},
    {"article_id": "kb-refund", "version": "2", "title": "Refund window", "updated_at": "2026-11-01T12:00:00+08:00",
     "body": "Customers can request a refund within 30 days of delivery."},
    {"article_id": "kb-tie", "version": "2", "title": "Tie", "body": "Two.", "updated_at": "2026-01-01T00:00:00+00:00"},
    {"article_id": "kb-tie", "version": "10", "title": "Tie", "body": "Ten.", "updated_at": "2026-01-01T00:00:00+00:00"},
]  # fmt: skip


def talk(
    cid: str, text: str, *, start: str = "10:00", sent: str | None = None, day: int = 1,
    cite: list[str] | None = None, **changes: Any,
) -> dict[str, Any]:  # fmt: skip
    """A conversation started at `start`: the customer asks, the AI answers `text` at `sent` (turn 2;
    no time when sent is ""), citing `cite`; then the customer thanks it."""
    answer: dict[str, Any] = {"speaker": "ai_agent", "text": text}
    if sent != "":
        answer["at"] = at(sent or start, day)
    if cite:
        answer["kb_article_ids"] = cite
    turns = [{"speaker": "customer", "text": "Can I still return it?", "at": at(start, day)}, answer,
             {"speaker": "customer", "text": "Thanks.", "at": at(sent or start, day)}]  # fmt: skip
    end = at(max(start, sent or start), day)
    return conv(conversation_id=cid, started_at=at(start, day), ended_at=end, turns=turns, **changes)


REFUND = ["kb-refund"]
CASES = [
    talk("failed", FAILED, cite=REFUND, customer_id="cust-failed"),
    talk("same-v1", "Please see our refund policy article for the details.", start="11:00", cite=REFUND,
         customer_id="cust-2"),
    talk("untimed-v1", CHECK_POLICY, start="11:30", sent="", cite=REFUND, customer_id="cust-2"),
    talk("straddle", CHECK_POLICY, start="11:50", sent="12:10", cite=REFUND, customer_id="cust-3"),
    talk("next-v2", CHECK_POLICY, start="13:00", cite=REFUND, customer_id="cust-4"),
    talk("paraphrase", PARAPHRASE, start="11:00", customer_id=...),
    talk("paraphrase-elsewhere", PARAPHRASE, start="11:00", journey="delivery_status", customer_id="cust-5"),
    talk("paraphrase-later", PARAPHRASE, day=2, customer_id="cust-later"),
    talk("both", "Customers may request a refund within 14 days of delivery when the items are unused.",
         start="11:10", cite=REFUND, customer_id="cust-both"),
    talk("unrelated", UNRELATED, start="11:00", customer_id="cust-6"),
]  # fmt: skip


@pytest.fixture
def cases(con: Any, tmp_path: Path) -> Any:
    """The warehouse of CASES and KB, and its similarity index."""
    load_file(con, write_jsonl(tmp_path / "kb.jsonl", KB), kind="kb_articles")
    load_file(con, write_jsonl(tmp_path / "cases.jsonl", CASES))
    build_index(con, tmp_path / "idx")
    return load_index(tmp_path / "idx")


def radius(con: Any, **kw: Any) -> Any:
    """The blast radius of the failed answer (turn 2 of 'failed')."""
    return blast_radius(con, supplier="acme-bpo", conversation_id="failed", turn=2, **kw)


def test_cited_version_respects_the_validity_windows(con: Any, cases: Any) -> None:
    """v1 is live until 12:00 (+08:00) on 1 November: a citation at a turn's time (or, untimed, at the
    conversation's start) before it is in; one under v2, even in a conversation started earlier, is not."""
    r = radius(con, article_id="kb-refund", article_version="1")
    assert [(x.conversation_id, x.reason, x.turn) for x in r.rows] == [
        ("same-v1", "cited_version", 2), ("both", "cited_version", 2), ("untimed-v1", "cited_version", 2)
    ]  # fmt: skip
    assert r.cited == 3 and r.similar == 0 and all(x.score is None for x in r.rows)
    v2 = radius(con, article_id="kb-refund", article_version="2")
    assert {x.conversation_id for x in v2.rows} == {"straddle", "next-v2"}
    assert str(v2.live_from) == "2026-11-01 04:00:00+00:00" and v2.live_to is None
    assert str(r.live_to) == "2026-11-01 04:00:00+00:00"
    assert radius(con, article_id="kb-refund").article_version == "1"  # live at the failed turn


def test_similar_answers_and_both_sources_merge_per_conversation(con: Any, cases: Any) -> None:
    r = radius(con, article_id="kb-refund", article_version="1", index=cases)
    got = {x.conversation_id: x for x in r.rows}
    assert list(got) == ["paraphrase", "same-v1", "both", "untimed-v1", "paraphrase-later"]  # by start, id
    assert {k: v.reason for k, v in got.items()} == {
        "same-v1": "cited_version", "untimed-v1": "cited_version", "paraphrase": "similar_answer",
        "paraphrase-later": "similar_answer", "both": "both",
    }  # fmt: skip
    assert "failed" not in got and "unrelated" not in got and "paraphrase-elsewhere" not in got
    assert 0.5 <= got["paraphrase"].score < 1 and got["both"].score > got["paraphrase"].score
    assert got["same-v1"].score is None
    assert got["paraphrase"].evidence == PARAPHRASE and got["paraphrase"].turn == 2
    assert (r.cited, r.similar) == (3, 3)
    anywhere = radius(con, article_id="kb-refund", article_version="1", index=cases, same_journey=False)
    assert {x.conversation_id for x in anywhere.rows} == set(got) | {"paraphrase-elsewhere"}
    alone = radius(con, index=cases)  # no article: similarity only
    assert {x.conversation_id for x in alone.rows} == {"paraphrase", "paraphrase-later", "both"}


def test_prevalence_is_rows_over_the_population_with_a_wilson_interval(con: Any, cases: Any) -> None:
    """Scope: the other refund conversations started while v1 was live (same-v1, untimed-v1, straddle,
    paraphrase, both, unrelated: 6), plus rows outside it (paraphrase-later): 7; rows: 5."""
    r = radius(con, article_id="kb-refund", article_version="1", index=cases)
    assert (len(r.rows), r.population, r.prevalence) == (5, 7, 5 / 7)
    w = wilson(5, 7)
    assert r.interval == (w.lower, w.upper)
    anywhere = radius(con, article_id="kb-refund", article_version="1", index=cases, same_journey=False)
    assert (len(anywhere.rows), anywhere.population) == (6, 8)  # + paraphrase-elsewhere, in both
    alone = radius(con)  # no article, no index: the whole warehouse's refund journey, nothing found
    assert (alone.rows, alone.population, alone.prevalence, alone.interval[0]) == ([], 8, 0.0, 0.0)


def test_the_interval_matches_newcombes_published_wilson_example(con: Any, tmp_path: Path) -> None:
    """1 of 29: 95% Wilson 0.0061-0.1718 in R. G. Newcombe (1998), "Two-sided confidence intervals for
    the single proportion: comparison of seven methods", Statistics in Medicine 17:857-872, Table I."""
    load_file(con, write_jsonl(tmp_path / "kb.jsonl", KB), kind="kb_articles")
    load_file(con, write_jsonl(tmp_path / "c.jsonl", [
        talk("failed", FAILED, cite=REFUND), talk("cited", CHECK_POLICY, start="09:00", cite=REFUND),
        *(talk(f"plain-{i}", CHECK_POLICY, start="09:30") for i in range(28)),
        talk("after-v1", CHECK_POLICY, start="12:30"),  # started under v2: not in the population
    ]))  # fmt: skip
    r = radius(con, article_id="kb-refund", article_version="1")
    assert (len(r.rows), r.population) == (1, 29)
    assert r.interval is not None and (round(r.interval[0], 4), round(r.interval[1], 4)) == (0.0061, 0.1718)


def test_a_version_that_never_was_live_has_no_radius(con: Any, tmp_path: Path) -> None:
    """Versions 2 and 10 of kb-tie share an updated_at: 10 is live (by number), 2 never was."""
    load_file(con, write_jsonl(tmp_path / "kb.jsonl", KB), kind="kb_articles")
    load_file(con, write_jsonl(tmp_path / "c.jsonl", [talk("failed", FAILED, cite=["kb-tie"]),
                                                      talk("other", FAILED, start="11:00", cite=["kb-tie"])]))  # fmt: skip
    never = radius(con, article_id="kb-tie", article_version="2")
    assert (never.rows, never.population, never.prevalence, never.interval) == ([], 0, 0.0, None)
    live = radius(con, article_id="kb-tie", article_version="10")
    assert [x.conversation_id for x in live.rows] == ["other"] and live.population == 1


def test_customers_are_the_distinct_known_ids_sorted(con: Any, cases: Any) -> None:
    r = radius(con, article_id="kb-refund", article_version="1", index=cases)
    assert r.customers == ["cust-2", "cust-both", "cust-later"]  # cust-2 twice; paraphrase has none
    out = json.loads(json.dumps(r.to_dict()))
    assert out["customers"] == r.customers and out["interval"] == list(r.interval)
    assert out["rows"][0]["started_at"] == "2026-11-01T03:00:00+00:00"
    assert out["live_from"] == "2026-01-01T00:00:00+00:00" and out["live_to"] == "2026-11-01T04:00:00+00:00"


def test_evidence_is_the_turn_text_clipped_to_300_characters(con: Any, tmp_path: Path) -> None:
    load_file(con, write_jsonl(tmp_path / "kb.jsonl", KB), kind="kb_articles")
    long = "Refund policy: " + "x" * 400
    load_file(con, write_jsonl(tmp_path / "c.jsonl", [talk("failed", FAILED, cite=REFUND),
                                                      talk("long", long, start="11:00", cite=REFUND)]))  # fmt: skip
    (row,) = radius(con, article_id="kb-refund", article_version="1").rows
    assert row.evidence == long[:300] + "…"


def test_errors_name_the_conversation_turn_and_version(con: Any, cases: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="conversation_id: no conversation 'nope' of supplier 'acme-bpo'"):
        blast_radius(con, supplier="acme-bpo", conversation_id="nope", turn=2)
    with pytest.raises(ConfigError, match=r"turn: conversation 'failed' has no turn 9 \(it has turns 1-3\)"):
        blast_radius(con, supplier="acme-bpo", conversation_id="failed", turn=9)
    with pytest.raises(ConfigError, match="turn: turn 1 of 'failed' is a customer turn, not an agent answer"):
        blast_radius(con, supplier="acme-bpo", conversation_id="failed", turn=1)
    with pytest.raises(
        ConfigError, match="article_version: the KB has no version '7' of article 'kb-refund'"
    ):
        radius(con, article_id="kb-refund", article_version="7")
    with pytest.raises(ConfigError, match="article_version: given without article_id"):
        radius(con, article_version="1")
    with pytest.raises(ConfigError, match="threshold must satisfy"):
        radius(con, index=cases, threshold=0)
    load_file(con, write_jsonl(tmp_path / "more.jsonl", [talk("new", PARAPHRASE, start="11:00")]))
    with pytest.raises(ConfigError, match="index: the similarity index in .*idx was built before"):
        radius(con, index=cases)


# ---------------------------------------------------------------------------------------------
# The bundled demo data: the generator's planted KB contradictions
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("demo") / "w.duckdb"
    load_paths([DEMO], warehouse_path=path, progress=False)
    con = warehouse.connect(path)
    yield con
    con.close()


def test_demo_radius_of_a_stale_version_holds_the_other_planted_contradictions_on_it(demo: Any) -> None:
    """The generator plants wrong figures in answers citing an article; `version` is the one live then.
    The radius of a planted stale_version answer's (article, version) holds every other contradiction
    planted on that version, and no answer planted on the article's other version (outside its window)."""
    planted: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for line in (DEMO / "_ground_truth.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["kind"] == "kb_contradiction":
            planted[(rec["detail"]["article_id"], rec["detail"]["version"])].append(rec)
    # the first stale answer whose article also has contradictions planted under its other version
    failed = next(
        rec for (article, version), recs in planted.items() for rec in recs
        if rec["detail"]["type"] == "stale_version" and len(recs) > 1
        and any(a == article and v != version for a, v in planted)
    )  # fmt: skip
    article, version = failed["detail"]["article_id"], failed["detail"]["version"]
    r = blast_radius(demo, supplier=failed["supplier"], conversation_id=failed["conversation_id"],
                     turn=failed["detail"]["turn"], article_id=article, article_version=version)  # fmt: skip
    found = {(x.supplier, x.conversation_id) for x in r.rows}
    same = {(x["supplier"], x["conversation_id"]) for x in planted[(article, version)]} - {
        (failed["supplier"], failed["conversation_id"])
    }
    other = {(x["supplier"], x["conversation_id"], x["detail"]["turn"]) for (a, v), recs in planted.items()
             if a == article and v != version for x in recs}  # fmt: skip
    assert len(same) >= 1 and len(other) >= 1
    assert same <= found
    # a planted answer under the other version is never the evidence; its conversation is in only when
    # another of its turns cited this version while it was live (checked for every row below)
    assert not {(x.supplier, x.conversation_id, x.turn) for x in r.rows} & other
    assert {(s, c) for s, c, _ in other} - found
    assert (failed["supplier"], failed["conversation_id"]) not in found
    assert r.cited == len(r.rows) and r.population >= len(r.rows) and 0 < r.prevalence <= 1
    # every row's turn cites the article at a time inside the version's live window
    times = demo.execute(
        """SELECT coalesce(t.sent_at, c.started_at), list_contains(t.kb_article_ids, ?)
           FROM turns t JOIN conversations c USING (supplier, conversation_id)
           WHERE list_contains(?::STRUCT(s VARCHAR, c VARCHAR, t INTEGER)[],
                               {'s': t.supplier, 'c': t.conversation_id, 't': t.turn_index})""",
        [article, [{"s": x.supplier, "c": x.conversation_id, "t": x.turn} for x in r.rows]],
    ).fetchall()
    assert len(times) == len(r.rows) and all(cites for _, cites in times)
    assert all(r.live_from <= t and (r.live_to is None or t < r.live_to) for t, _ in times)
