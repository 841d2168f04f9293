"""Order sampling: u agrees in SQL and Python, the sample ignores row order and threads, edge strata."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pytest

from audits import warehouse
from audits.errors import ConfigError
from audits.ingest.load import load_file
from audits.sampling import order_key, select
from audits.sampling.select import U_SQL
from audits.stats import attribute_sample_size, margin_sample_size
from tests.conftest import conv, write_jsonl
from tests.sampling.conftest import make_plan, populate


def test_u_in_unit_interval_and_sql_equals_python() -> None:
    con = duckdb.connect()
    ids = con.execute(
        f"""SELECT supplier, conversation_id, {U_SQL} FROM (
                SELECT ['acme', 'béta', 'x:y'][i % 3 + 1] AS supplier,
                       CASE WHEN i % 7 = 0 THEN 'id:' || i || ':ü' ELSE 'c-' || i END AS conversation_id
                FROM range(5000) t(i))""",
        {"seed": "buyer-seed-2026"},
    ).fetchall()
    us = [u for _, _, u in ids]
    assert all(0 <= u < 1 for u in us)
    assert [order_key("buyer-seed-2026", s, c) for s, c, _ in ids] == us
    assert len(set(us)) == len(us)
    assert order_key(42, "a", "b") == order_key("42", "a", "b")


def test_items_carry_python_u_and_weights(mem: Any) -> None:
    populate(mem, 2000)
    plan = make_plan(edge_cases=[{"name": "low_csat", "rate": 0.1, "cap": 15}])
    sel = select(mem, plan, "s")
    sizes = {s.stratum: s for s in sel.strata}
    assert len(sel.items) == sum(s.allocated for s in sel.strata) == sum(s.drawn for s in sel.strata)
    for it in sel.items:
        assert it.u == order_key("s", it.supplier, it.conversation_id)
        s = sizes[it.stratum]
        assert it.inclusion_probability == s.allocated / s.population
        # weight = N_h / k_h exactly (the docs' formula), which is 1 / pi up to the last bit
        assert it.weight == s.population / s.allocated
        assert it.weight == pytest.approx(1 / it.inclusion_probability, rel=1e-15)
        assert it.reason == ("low_csat" if it.stratum == "edge:low_csat" else "random")
    # each stratum holds exactly its k smallest u: re-derive in Python from the population list
    pop = mem.execute("SELECT supplier, conversation_id, csat, channel FROM conversations").fetchall()
    for stratum, s in sizes.items():
        members = [
            (order_key("s", sup, cid), sup, cid)
            for sup, cid, csat, channel in pop
            if ("edge:low_csat" if csat <= 2 else f"supplier={sup}|channel={channel}") == stratum
        ]
        assert len(members) == s.population
        in_stratum = {(i.supplier, i.conversation_id) for i in sel.items if i.stratum == stratum}
        assert {(sup, cid) for _, sup, cid in sorted(members)[: s.allocated]} == in_stratum


def test_fingerprint_rederived_in_python(mem: Any) -> None:
    populate(mem, 1500)
    mem.execute("UPDATE conversations SET conversation_id = 'ü-' || conversation_id WHERE csat = 3")
    mem.execute("UPDATE conversations SET content_hash = NULL WHERE csat = 4")
    rows = mem.execute("SELECT supplier, conversation_id, content_hash FROM conversations").fetchall()
    lines = sorted((f"{s}\t{c}\t{h or ''}" for s, c, h in rows), key=lambda line: line.encode())
    expected = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    assert select(mem, make_plan(), "f").population_fingerprint == expected


def test_same_seed_same_sample_regardless_of_insertion_order(tmp_path: Path) -> None:
    plan = make_plan(edge_cases=[{"name": "escalation", "rate": 0.3}])
    samples = []
    for shuffle in (None, 7, 12345):
        con = warehouse.connect(tmp_path / f"w{shuffle}.duckdb")
        populate(con, 3000, shuffle=shuffle)
        samples.append(select(con, plan, "seed-1"))
        con.close()
    assert samples[0] == samples[1] == samples[2]


def test_different_seeds_differ(mem: Any) -> None:
    populate(mem, 3000)
    plan = make_plan()
    a, b = select(mem, plan, "one"), select(mem, plan, "two")
    ids_a = {(i.supplier, i.conversation_id) for i in a.items}
    ids_b = {(i.supplier, i.conversation_id) for i in b.items}
    assert len(ids_a) == len(ids_b) == 60 and ids_a != ids_b
    assert a.strata == b.strata and a.population_fingerprint == b.population_fingerprint


def test_threads_do_not_change_the_sample(mem: Any) -> None:
    populate(mem, 50_000, shuffle=3)
    plan = make_plan(size={"n": 500}, edge_cases=[{"name": "missed_handoff", "rate": 0.5, "cap": 100}])
    mem.execute("SET threads = 1")
    one = select(mem, plan, "t")
    mem.execute("SET threads = 2")
    two = select(mem, plan, "t")
    mem.execute("SET threads = 4")
    assert one == two == select(mem, plan, "t")


def test_edge_take_all_includes_every_match_and_leaves_random_strata(mem: Any) -> None:
    populate(mem, 3000)
    plan = make_plan(
        edge_cases=[{"name": "failed_automation", "take": "all"}, {"name": "low_csat", "rate": 0.1}]
    )
    sel = select(mem, plan, "e")
    failed = set(
        mem.execute("SELECT supplier, conversation_id FROM conversations WHERE automation_failed").fetchall()
    )
    edge = {(i.supplier, i.conversation_id) for i in sel.items if i.reason == "failed_automation"}
    assert edge == failed and len(failed) == 177
    assert all(
        i.inclusion_probability == 1.0 and i.weight == 1.0
        for i in sel.items
        if i.reason == "failed_automation"
    )
    low = next(s for s in sel.strata if s.stratum == "edge:low_csat")
    # low_csat excludes the failed automations (first edge case wins) and takes ceil(10%)
    assert (
        low.population
        == mem.execute(
            "SELECT count(*) FROM conversations WHERE csat <= 2 AND NOT automation_failed"
        ).fetchall()[0][0]
    )
    assert low.allocated == low.drawn == -(-low.population // 10)
    random_ids = {(i.supplier, i.conversation_id) for i in sel.items if i.reason == "random"}
    assert not random_ids & failed
    assert sum(s.population for s in sel.strata) == sel.population_count == 3000


def test_population_filter(mem: Any) -> None:
    populate(mem, 3000)
    plan = make_plan(
        population={"from": "2026-11-02", "to": "2026-11-03", "suppliers": ["acme"], "channels": ["chat"]},
        strata=[],
    )
    sel = select(mem, plan, "f")
    expected = mem.execute(
        "SELECT count(*) FROM conversations WHERE supplier = 'acme' AND channel = 'chat' "
        "AND started_at >= '2026-11-02 00:00:00+00' AND started_at < '2026-11-04 00:00:00+00'"
    ).fetchall()[0][0]
    assert sel.population_count == expected > 0
    assert [s.stratum for s in sel.strata] == ["all"]


def test_attribute_target_gives_stats_n(mem: Any) -> None:
    populate(mem, 3000)
    plan = make_plan(strata=[], size={"tolerable": 0.05, "expected": 0.0, "confidence": 0.95})
    sel = select(mem, plan, "a")
    assert len(sel.items) == attribute_sample_size(0.05, 0.0, 0.95).n == 59
    hyper = make_plan(
        strata=[], size={"tolerable": 0.05, "expected": 0.0, "confidence": 0.95, "method": "hypergeometric"}
    )
    assert (
        len(select(mem, hyper, "a").items)
        == attribute_sample_size(0.05, 0.0, 0.95, population=3000, method="hypergeometric").n
    )
    margin = make_plan(size={"margin": 0.05, "confidence": 0.95})
    sel = select(mem, margin, "m")
    assert len(sel.items) == margin_sample_size(0.05, 0.95, population=3000)


def test_fixed_and_neyman_need_every_stratum(mem: Any) -> None:
    populate(mem, 300)
    fixed = make_plan(strata=["channel"], allocation={"method": "fixed", "n": {"channel=chat": 5}}, size=None)
    with pytest.raises(ConfigError, match=r"allocation\.n: stratum 'channel=voice'"):
        select(mem, fixed, "x")
    both = make_plan(
        strata=["channel"],
        allocation={"method": "fixed", "n": {"channel=chat": 5, "channel=voice": 999}},
        size=None,
    )
    assert {s.stratum: s.allocated for s in select(mem, both, "x").strata} == {
        "channel=chat": 5,
        "channel=voice": 150,
    }
    neyman = make_plan(
        strata=["channel"], allocation={"method": "neyman", "prior_failure_rate": {"channel=chat": 0.1}}
    )
    with pytest.raises(ConfigError, match=r"prior_failure_rate: no rate for stratum 'channel=voice'"):
        select(mem, neyman, "x")


def test_loaded_jsonl_warehouse(con: Any, tmp_path: Path) -> None:
    records = [
        conv(conversation_id=f"c{i}", channel="chat" if i % 2 else "email", csat=1 if i < 3 else 5)
        for i in range(12)
    ]
    load_file(con, write_jsonl(tmp_path / "convs.jsonl", records))
    plan = make_plan(
        population={"from": "2026-11-01", "to": "2026-11-01", "suppliers": ["acme-bpo"]},
        strata=["channel"],
        size={"n": 4},
        edge_cases=[{"name": "low_csat", "take": "all"}],
    )
    sel = select(con, plan, "j")
    assert sel.population_count == 12
    assert {i.conversation_id for i in sel.items if i.reason == "low_csat"} == {"c0", "c1", "c2"}
    assert {s.stratum: (s.population, s.allocated) for s in sel.strata} == {
        "edge:low_csat": (3, 3),
        "channel=chat": (5, 2),
        "channel=email": (4, 2),
    }
