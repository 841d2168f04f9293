"""The merge pass: repeat contacts across partitions, recomputed once over all of them."""

from __future__ import annotations

from pathlib import Path

import duckdb

from audits import warehouse
from audits.scale import audit_partition, merge_partitions, open_outputs, prepare_kb
from audits.scale.layout import output_file, partition_key
from audits.scale.merge import CROSS_PARTITION_CHECKS
from tests.conftest import conv, write_jsonl
from tests.scale.conftest import Audited
from tests.scale.helpers import CHECK_COLUMNS, differences


def test_only_repeat_contact_reads_other_conversations() -> None:
    """Every other check's SQL reads only the conversations and turns in scope (`_c`, `_t`), the
    hand-off facts built from `_t` and the KB (which every partition holds whole); repeat_contact
    reads the whole `conversations` table. If a check starts reading another conversation, this fails
    and the merge pass must take it on."""
    from audits.checks import grounding
    from audits.checks.config import load_config
    from audits.checks.run import CATALOGUE

    cfg = load_config()
    reads_all = set()
    for check in CATALOGUE:
        sql = check.sql(cfg) + ("".join(grounding.prepare(cfg)) if check.check_id == "kb_grounded" else "")
        if "FROM conversations" in sql or "JOIN conversations" in sql:
            reads_all.add(check.check_id)
    assert reads_all == set(CROSS_PARTITION_CHECKS) == {"repeat_contact"}


def test_partition_local_repeat_results_are_provisional(audited: Audited, tmp_path: Path) -> None:
    """One partition alone gets repeat_contact wrong for contacts followed up in another partition;
    the merged parts are right (the first merge had to rewrite partitions)."""
    counts = duckdb.sql(
        f"""SELECT filename, count(*) FILTER (WHERE followed_by_repeat) AS n
            FROM read_parquet('{audited.out}/conversations/**/part-0.parquet', filename = true)
            GROUP BY filename ORDER BY n DESC, filename LIMIT 1"""
    ).fetchall()
    key = Path(counts[0][0]).parent.relative_to(audited.out / "conversations").as_posix()
    assert counts[0][1] >= 3  # contacts whose follow-up is, mostly, on a later day: another partition
    partition = next(p for p in audited.layout.partitions if p.key == key)
    kb = prepare_kb(audited.layout, tmp_path / "out", tmp_path / "work")
    audit_partition(
        partition, input_root=audited.layout.root, out_dir=tmp_path / "out", work_dir=tmp_path / "work", kb=kb
    )
    con = duckdb.connect()
    con.execute(f"ATTACH '{audited.reference}' AS one (READ_ONLY)")
    alone = f"SELECT {CHECK_COLUMNS} FROM read_parquet('{output_file(tmp_path / 'out', 'check_results', key)}') WHERE check_id = 'repeat_contact'"
    merged = f"SELECT {CHECK_COLUMNS} FROM read_parquet('{output_file(audited.out, 'check_results', key)}') WHERE check_id = 'repeat_contact'"
    reference = f"SELECT {CHECK_COLUMNS} FROM one.check_results WHERE check_id = 'repeat_contact' AND (supplier, conversation_id) IN (SELECT (supplier, conversation_id) FROM ({merged}))"
    assert differences(con, alone, reference) != (0, 0)
    assert differences(con, merged, reference) == (0, 0)
    assert key in audited.merge.rewritten and audited.merge.repeat_contacts > 20


def test_a_second_merge_rewrites_nothing(audited: Audited) -> None:
    before = {p: p.stat().st_mtime_ns for p in audited.out.rglob("*.parquet")}
    again = merge_partitions(audited.out, audited.work)
    assert again.rewritten == [] and again.duplicates == 0
    assert again.repeat_contacts == audited.merge.repeat_contacts
    assert {p: p.stat().st_mtime_ns for p in audited.out.rglob("*.parquet")} == before


def test_a_conversation_in_two_partitions_is_reported(tmp_path: Path) -> None:
    """A hand-made layout may hold one conversation twice (the split never does): the merge says so."""
    from audits.scale import discover

    root = tmp_path / "in"
    for day in ("2026-11-01", "2026-11-02"):
        folder = root / partition_key("acme", day)
        folder.mkdir(parents=True)
        write_jsonl(
            folder / "x.jsonl", [conv(supplier="acme", started_at=f"{day}T09:00:00+00:00", ended_at=...)]
        )
    layout = discover(root)
    kb = prepare_kb(layout, tmp_path / "out", tmp_path / "work")
    for p in layout.partitions:
        audit_partition(p, input_root=root, out_dir=tmp_path / "out", work_dir=tmp_path / "work", kb=kb)
    result = merge_partitions(tmp_path / "out", tmp_path / "work")
    assert result.duplicates == 1
    assert result.duplicate_examples == [
        {"supplier": "acme", "conversation_id": "c1", "partitions": [p.key for p in layout.partitions]}
    ]
    con = open_outputs(tmp_path / "out")
    assert con.execute("SELECT count(*) FROM conversations").fetchall() == [(2,)]


def test_the_merged_marker_lists_the_partitions(audited: Audited) -> None:
    import json

    marker = json.loads((audited.out / "_merged.json").read_text())
    assert set(marker["partitions"]) == {p.key for p in audited.layout.partitions}
    assert marker["repeat_window_days"] == 7
    with warehouse.open_warehouse(audited.reference, read_only=True) as one:
        assert marker["result"]["repeat_contacts"] == warehouse.scalar(
            one, "SELECT count(*) FROM conversations WHERE is_repeat_contact"
        )
