"""The partitioned-audit flow on a Dask LocalCluster, through prefect-dask's task runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audits import warehouse
from audits.sampling import select
from audits.sampling.plan import load_plan
from audits.scale import open_outputs, split_exports
from flows.partitioned_audit import audit_one, list_partitions, load_kb, partitioned_audit, task_runner
from tests.scale.helpers import CHECK_COLUMNS, build_sources, differences, single_warehouse

PLAN = "data/plans/demo-week.yaml"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two single-threaded workers in this process (the scheduler's address is what the flow gets)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        yield c


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pflow")
    sources = build_sources(root / "src", conversations=240, days=1, seed=5)
    split_exports([sources], root / "input")
    return {
        "root": root,
        "input": root / "input",
        "reference": single_warehouse(sources, root / "one.duckdb"),
    }


def test_tasks_without_prefect(data: dict[str, Path], tmp_path: Path) -> None:
    layout = list_partitions.fn(str(data["input"]))
    kb = load_kb.fn(str(data["input"]), str(tmp_path / "out"), str(tmp_path / "work"))
    assert kb["articles"] == 22 and kb["quarantined"] == 1
    first = next(p for p in layout["partitions"] if p["supplier"])
    result = audit_one.fn(
        first, layout["root"], str(tmp_path / "out"), str(tmp_path / "work"), kb, None, 7, 1
    )
    assert result["status"] == "done" and result["conversations"] > 0


def test_the_runner_goes_to_the_given_cluster_or_a_temporary_one() -> None:
    assert task_runner("tcp://10.0.0.5:8786").address == "tcp://10.0.0.5:8786"
    assert task_runner(None).address is None  # prefect-dask then starts a LocalCluster for the run


def test_flow_on_a_cluster_equals_one_warehouse_and_reruns_skip(
    prefect_harness: None, cluster: Any, data: dict[str, Path]
) -> None:
    out, work = data["root"] / "out", data["root"] / "work"
    report = partitioned_audit(
        str(data["input"]), str(out), str(work), PLAN, "buyer-9", cluster_address=cluster.scheduler_address
    )
    assert len(report["partitions"]) >= 8 and {r["status"] for r in report["partitions"]} == {"done"}
    assert report["merge"]["rewritten"]  # repeat contacts crossed partitions
    con = open_outputs(out)
    con.execute(f"ATTACH '{data['reference']}' AS one (READ_ONLY)")
    assert differences(
        con, f"SELECT {CHECK_COLUMNS} FROM check_results", f"SELECT {CHECK_COLUMNS} FROM one.check_results"
    ) == (0, 0)
    con.close()
    with warehouse.open_warehouse(data["reference"], read_only=True) as one:
        expected = select(one, load_plan(PLAN), "buyer-9")
    assert report["sample"]["population_fingerprint"] == expected.population_fingerprint
    assert report["sample"]["items"] == len(expected.items)
    import json

    drawn = json.loads(Path(report["sample"]["path"]).read_text())
    assert sorted((i["supplier"], i["conversation_id"], i["weight"]) for i in drawn["items"]) == sorted(
        (i.supplier, i.conversation_id, i.weight) for i in expected.items
    )

    before = {p: p.stat().st_mtime_ns for p in (out / "conversations").rglob("*.parquet")}
    again = partitioned_audit(
        str(data["input"]), str(out), str(work), PLAN, "buyer-9", cluster_address=cluster.scheduler_address
    )
    assert {r["status"] for r in again["partitions"]} == {"skipped"}
    assert again["merge"]["rewritten"] == [] and again["sample"] == report["sample"]
    assert {p: p.stat().st_mtime_ns for p in (out / "conversations").rglob("*.parquet")} == before
