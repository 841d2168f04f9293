"""The partitioned audit gives what one warehouse loaded with all the data gives.

The reference is `load_paths` + `run_checks` on one DuckDB file holding every source file; the
partitioned side is the split, one DuckDB per partition, Parquet parts and the merge pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from audits import warehouse
from audits.sampling import select
from audits.sampling.plan import load_plan, parse_plan
from audits.scale import draw_sample, open_outputs
from tests.scale.conftest import Audited
from tests.scale.helpers import CHECK_COLUMNS, ODD_SUPPLIER, PLAN_EXTRA, differences


@pytest.fixture()
def con(audited: Audited) -> Iterator[duckdb.DuckDBPyConnection]:
    """Views over the Parquet parts, with the reference warehouse attached as `one`."""
    c = open_outputs(audited.out)
    c.execute(f"ATTACH '{audited.reference}' AS one (READ_ONLY)")
    yield c
    c.close()


def test_the_data_has_what_the_comparison_needs(audited: Audited, con: duckdb.DuckDBPyConnection) -> None:
    """Several suppliers and days, re-exports moved across days, repeat contacts crossing partitions,
    and quarantined records of every sort: otherwise equality would prove little."""
    assert len(audited.layout.partitions) >= 12
    assert audited.split.moved == 12
    assert audited.split.unplaced == 5
    crossing = con.execute(
        """SELECT count(*) FROM one.conversations a JOIN one.conversations b
           ON b.customer_id = a.customer_id AND b.journey = a.journey AND b.conversation_id = a.repeat_of
           WHERE a.is_repeat_contact AND (a.supplier <> b.supplier OR a.started_at::DATE <> b.started_at::DATE)"""
    ).fetchall()[0][0]
    assert crossing >= 15
    assert (
        con.execute(f"SELECT count(*) FROM one.conversations WHERE supplier = '{ODD_SUPPLIER}'").fetchall()[
            0
        ][0]
        == 5
    )
    assert con.execute("SELECT count(*) FROM one.quarantine").fetchall()[0][0] >= 9


def test_check_results_equal_the_single_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    """Same outcome, turn and evidence for every conversation and check (repeat_contact included)."""
    cols = CHECK_COLUMNS
    assert differences(con, f"SELECT {cols} FROM check_results", f"SELECT {cols} FROM one.check_results") == (
        0,
        0,
    )
    assert (
        con.execute("SELECT count(*) FROM check_results").fetchall()[0][0]
        == 11 * con.execute("SELECT count(*) FROM one.conversations").fetchall()[0][0]
    )
    fails = dict(
        con.execute(
            "SELECT check_id, count(*) FROM check_results WHERE outcome = 'fail' GROUP BY 1"
        ).fetchall()
    )
    assert fails["repeat_contact"] >= 20  # the comparison covers real cross-partition failures


def test_conversations_and_turns_equal_the_single_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    """Every stored column (the load's bookkeeping aside), the derived repeat columns included;
    the corrected re-exports replaced their originals and the invalid one did not."""
    cols = "* EXCLUDE (load_id, source_line)"
    assert differences(con, f"SELECT {cols} FROM conversations", f"SELECT {cols} FROM one.conversations") == (
        0,
        0,
    )
    assert differences(con, "SELECT * FROM turns", "SELECT * FROM one.turns") == (0, 0)
    corrected = con.execute(
        "SELECT count(*) FROM turns WHERE turn_index = 1 AND text LIKE '%(corrected)'"
    ).fetchall()[0][0]
    assert corrected == 10


def test_quarantine_names_the_source_file_and_line(audited: Audited, con: duckdb.DuckDBPyConnection) -> None:
    """The same records are quarantined for the same reasons; each names its partition file and line,
    and, through the split's map, the source file and line the single warehouse names. (A duplicate's
    message names the line of the first copy in the file it was loaded from: the partition file.)"""
    reasons = "CASE WHEN list_contains(list_transform(reasons, lambda r: r.rule), 'duplicate_id') THEN list_transform(reasons, lambda r: r.field || ': ' || r.rule) ELSE list_transform(reasons, lambda r: r.field || ': ' || r.rule || ': ' || r.message) END"
    ours = f"SELECT kind, supplier, record_id, {reasons}, raw, source_path, source_line FROM quarantine WHERE kind <> 'kb_articles'"
    theirs = f"SELECT kind, supplier, record_id, {reasons}, raw, path, line FROM one.quarantine WHERE kind <> 'kb_articles'"
    assert differences(con, ours, theirs) == (0, 0)
    kb_ours = "SELECT record_id, reasons, raw, line FROM quarantine WHERE kind = 'kb_articles'"
    kb_theirs = "SELECT record_id, reasons, raw, line FROM one.quarantine WHERE kind = 'kb_articles'"
    assert differences(con, kb_ours, kb_theirs) == (0, 0)
    unplaced = con.execute(
        "SELECT count(*), count(DISTINCT path) FROM quarantine WHERE path LIKE '%/_unplaced/%'"
    ).fetchall()[0]
    assert unplaced == (5, 1)
    twice = con.execute(
        "SELECT path, line FROM quarantine WHERE record_id = 'twice-1' ORDER BY line"
    ).fetchall()
    assert len(twice) == 2 and twice[0][0] == twice[1][0] and "/supplier=" in twice[0][0]
    assert (
        con.execute("SELECT count(*) FROM quarantine WHERE source_path IS NULL").fetchall()[0][0] == 1
    )  # the KB's


def test_kb_articles_equal_the_single_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    cols = "article_id, version, title, body, updated_at, extra, content_hash"
    assert differences(con, f"SELECT {cols} FROM kb_articles", f"SELECT {cols} FROM one.kb_articles") == (
        0,
        0,
    )


PLANS: dict[str, dict[str, Any]] = {
    "demo-week": {},
    "strata-and-edges": PLAN_EXTRA,
    "neyman-handler": {
        "strata": ["handler"],
        "allocation": {"method": "neyman", "prior_failure_rate": {"default": 0.1, "handler=ai": 0.3}},
        "size": {"n": 40},
        "edge_cases": [{"name": "repeat_contact", "rate": 0.3}],
    },
}


def _plan(name: str, overrides: dict[str, Any]) -> Any:
    base = load_plan("data/plans/demo-week.yaml").to_dict()
    base["population"]["suppliers"].append(ODD_SUPPLIER)
    base.update(json.loads(json.dumps(overrides)))
    base["name"] = name
    return parse_plan(base, name)


@pytest.mark.parametrize("name", sorted(PLANS))
@pytest.mark.parametrize("seed", ["buyer-42", "7", "nightly-2026-11-03"])
def test_the_sample_merged_from_partitions_equals_the_single_draw(
    audited: Audited, name: str, seed: str
) -> None:
    """Per-partition top-k merged over the Parquet parts = `select` on the one warehouse: count,
    fingerprint, strata and every item with its stratum, probability, weight and u."""
    plan = _plan(name, PLANS[name])
    with warehouse.open_warehouse(audited.reference, read_only=True) as one:
        expected = select(one, plan, seed)
    got = draw_sample(audited.out, plan, seed)
    assert got.population_count == expected.population_count > 600
    assert got.population_fingerprint == expected.population_fingerprint
    assert got.strata == expected.strata
    assert sorted(got.items, key=lambda i: (i.stratum, i.u)) == sorted(
        expected.items, key=lambda i: (i.stratum, i.u)
    )
    assert len(got.items) >= 30
