"""Selection over Parquet partitions merged by top-k equals `select` on the whole warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audits import warehouse
from audits.sampling import select
from audits.sampling.allocate import plan_allocation
from audits.sampling.partition import partition_candidates, select_partitioned
from audits.sampling.select import population_summary
from tests.sampling.conftest import make_plan, populate

PLANS: dict[str, dict[str, Any]] = {
    "proportional": {},
    "edge-cases": {
        "edge_cases": [
            {"name": "failed_automation", "take": "all"},
            {"name": "low_csat", "rate": 0.1, "cap": 25},
            {"name": "missed_handoff", "rate": 0.5},
        ],
        "min_per_stratum": 3,
        "max_per_stratum": 12,
    },
    "neyman-handler": {
        "strata": ["handler", "channel"],
        "allocation": {
            "method": "neyman",
            "prior_failure_rate": {"default": 0.1, "handler=ai|channel=chat": 0.3},
        },
        "size": {"n": 45},
        "edge_cases": [{"name": "repeat_contact", "rate": 0.05}],
    },
    "equal-two-suppliers": {
        "population": {"from": "2026-11-03", "to": "2026-11-20", "suppliers": ["acme", "gamma"]},
        "allocation": "equal",
        "size": {"n": 500},
        "max_per_stratum": 40,
    },
    "no-strata": {"strata": [], "size": {"n": 17}},
}


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A warehouse of 3000 conversations (some NULL channels, some outside the dates) and the same
    population as 13 Parquet files: per supplier and 4 buckets of day, plus one empty file."""
    out = tmp_path_factory.mktemp("parts")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    warehouse.ensure_schema(con)
    populate(con, 3000, shuffle=7)
    con.execute("UPDATE conversations SET channel = NULL WHERE conversation_id LIKE '%7'")
    con.execute(
        "UPDATE conversations SET started_at = started_at + INTERVAL 40 DAY WHERE conversation_id LIKE '%3'"
    )
    paths: list[Path] = []
    for supplier in ("acme", "beta", "gamma"):
        for bucket in range(4):
            path = out / f"supplier={supplier}-part{bucket}.parquet"
            con.execute(
                f"COPY (SELECT * FROM conversations WHERE supplier = '{supplier}' "
                f"AND day(started_at) % 4 = {bucket}) TO '{path}' (FORMAT parquet)"
            )
            paths.append(path)
    empty = out / "empty.parquet"
    con.execute(f"COPY (SELECT * FROM conversations LIMIT 0) TO '{empty}' (FORMAT parquet)")
    paths.append(empty)
    total = sum(
        warehouse.scalar(con, f"SELECT count(*) FROM read_parquet('{p}')")  # type: ignore[misc]
        for p in paths
    )
    assert total == 3000
    yield con, paths
    con.close()


@pytest.mark.parametrize("name", sorted(PLANS))
def test_partitioned_equals_whole_for_several_seeds(split: Any, name: str) -> None:
    con, paths = split
    plan = make_plan(**PLANS[name])
    for seed in (0, 1, 2026, "audit-2026-11", 987654321):
        whole = select(con, plan, seed)
        parts = select_partitioned(paths, plan, seed)
        assert parts == whole, (name, seed)
    assert whole.items and whole.population_count > 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.one_of(st.integers(min_value=0, max_value=2**40), st.text(min_size=1, max_size=12)))
def test_partitioned_equals_whole_any_seed(split: Any, seed: Any) -> None:
    con, paths = split
    plan = make_plan(**PLANS["edge-cases"])
    assert select_partitioned(paths, plan, seed) == select(con, plan, seed)


def test_partition_order_and_grouping_do_not_matter(split: Any) -> None:
    con, paths = split
    plan = make_plan(**PLANS["proportional"])
    whole = select(con, plan, 5)
    assert select_partitioned(list(reversed(paths)), plan, 5) == whole
    assert select_partitioned([paths[0]], plan, 5) != whole  # one partition is a different population


def test_each_partition_yields_at_most_k_per_stratum(split: Any) -> None:
    con, paths = split
    plan = make_plan(**PLANS["edge-cases"])
    _, _, sizes = population_summary(con, plan)
    allocation = plan_allocation(plan, sizes)
    for p in paths:
        rows = partition_candidates(con, plan, f"read_parquet('{p}')", "9", allocation)
        per: dict[str, int] = {}
        for stratum, *_ in rows:
            per[stratum] = per.get(stratum, 0) + 1
        assert all(n <= allocation[k] for k, n in per.items())
    assert sum(allocation.values()) < 3000


def test_no_partitions_is_an_empty_population() -> None:
    plan = make_plan()
    got = select_partitioned([], plan, 1)
    assert got.population_count == 0 and got.items == () and got.strata == ()
    con = duckdb.connect()
    warehouse.ensure_schema(con)
    assert select(con, plan, 1) == got
    con.close()
