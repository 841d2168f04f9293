"""One partition's audit: skipped when its inputs are unchanged, redone whole after a crash."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from audits.errors import InputError
from audits.scale import audit_partition, discover, prepare_kb, prune_outputs
from audits.scale import partitions as parts_mod
from audits.scale.layout import TABLES, output_file, partition_key
from audits.scale.partitions import marker_path
from tests.conftest import conv, write_jsonl
from tests.scale.conftest import Audited


def _tiny_input(root: Path, suppliers: tuple[str, ...] = ("acme", "beta")) -> Path:
    """Suppliers x two days, two conversations each, and a KB article."""
    for supplier in suppliers:
        for day in ("2026-11-01", "2026-11-02"):
            folder = root / partition_key(supplier, day)
            folder.mkdir(parents=True)
            write_jsonl(
                folder / "part.jsonl",
                [
                    conv(
                        conversation_id=f"{supplier}-{day}-{i}",
                        supplier=supplier,
                        started_at=f"{day}T10:0{i}:00+00:00",
                        ended_at=f"{day}T10:1{i}:00+00:00",
                        turns=[
                            {"speaker": "customer", "text": f"hello {i}", "at": f"{day}T10:0{i}:05+00:00"},
                            {
                                "speaker": "ai_agent",
                                "text": "Refunds take 5-7 business days.",
                                "at": f"{day}T10:0{i}:09+00:00",
                                "kb_article_ids": ["kb-refund"],
                            },
                        ],
                    )
                    for i in (1, 2)
                ],  # fmt: skip
            )
    (root / "kb").mkdir()
    write_jsonl(
        root / "kb" / "kb.jsonl",
        [{"article_id": "kb-refund", "version": "1", "title": "Refunds", "body": "Refunds take 5-7 business days.",
          "updated_at": "2026-01-01T00:00:00+00:00"}],
    )  # fmt: skip
    return root


def _run(root: Path, out: Path, work: Path, **kwargs: Any) -> dict[str, str]:
    layout = discover(root)
    kb = prepare_kb(layout, out, work)
    return {
        p.key: audit_partition(p, input_root=root, out_dir=out, work_dir=work, kb=kb, **kwargs).status
        for p in layout.partitions
    }


def _contents(out: Path, key: str) -> dict[str, list[Any]]:
    """A partition's four parts, read back (run and load ids aside: they are new each run)."""
    volatile = {"conversations": " EXCLUDE (load_id)", "check_results": " EXCLUDE (run_id)",
                "quarantine": " EXCLUDE (load_id)", "turns": ""}  # fmt: skip
    got = {}
    for table in TABLES:
        rows = duckdb.sql(
            f"SELECT *{volatile[table]} FROM read_parquet('{output_file(out, table, key)}')"
        ).fetchall()
        got[table] = sorted(map(repr, rows))
    return got


def test_unchanged_partitions_are_skipped_and_nothing_is_rewritten(audited: Audited) -> None:
    before = {p: p.stat().st_mtime_ns for p in audited.out.rglob("*.parquet")}
    layout = discover(audited.input_dir)
    kb = prepare_kb(layout, audited.out, audited.work)
    assert kb.reused
    statuses = {
        audit_partition(p, input_root=layout.root, out_dir=audited.out, work_dir=audited.work, kb=kb).status
        for p in layout.partitions
    }
    assert statuses == {"skipped"}
    assert {p: p.stat().st_mtime_ns for p in audited.out.rglob("*.parquet")} == before
    assert {r.status for r in audited.results} == {"done"}


def test_a_changed_partition_alone_is_redone(tmp_path: Path) -> None:
    root = _tiny_input(tmp_path / "in", ("beta",))
    first = _run(root, tmp_path / "out", tmp_path / "work")
    assert set(first.values()) == {"done"} and len(first) == 2
    changed = partition_key("beta", "2026-11-02")
    write_jsonl(root / changed / "part.jsonl", [conv(conversation_id="new", supplier="beta",
                started_at="2026-11-02T12:00:00+00:00", ended_at=...)])  # fmt: skip
    again = _run(root, tmp_path / "out", tmp_path / "work")
    assert again == {k: ("done" if k == changed else "skipped") for k in first}
    ids = duckdb.sql(
        f"SELECT conversation_id FROM read_parquet('{output_file(tmp_path / 'out', 'conversations', changed)}')"
    ).fetchall()
    assert ids == [("new",)]
    assert not list((tmp_path / "work" / "partitions").iterdir())  # the partitions' DuckDB files are removed


def test_a_crash_between_renames_redoes_the_partition_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the first part was renamed into place: no marker, so the re-run redoes it and
    ends with exactly what an uninterrupted run writes."""
    root = _tiny_input(tmp_path / "in", ("acme",))
    _run(root, tmp_path / "clean", tmp_path / "w0")
    key = partition_key("acme", "2026-11-01")
    write_jsonl(root / key / "part.jsonl", [conv(conversation_id="v2", supplier="acme",
                started_at="2026-11-01T12:00:00+00:00", ended_at=...)])  # fmt: skip
    out = tmp_path / "out"
    shutil.copytree(tmp_path / "clean", out)  # the state before the change
    real, calls = parts_mod._replace_into, []

    def crash_on_second(staged: Path, target: Path) -> None:
        calls.append(target)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        real(staged, target)

    monkeypatch.setattr(parts_mod, "_replace_into", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        _run(root, out, tmp_path / "w1")
    monkeypatch.undo()
    part = next(p for p in discover(root).partitions if p.key == key)
    assert not marker_path(out, part).exists()
    assert not list((out / "_staging").iterdir())
    torn = _contents(out, key)
    assert "'v2'" in "".join(torn["conversations"]) and "'v2'" not in "".join(
        torn["turns"]
    )  # half new, half old

    assert _run(root, out, tmp_path / "w1")[key] == "done"
    _run(root, tmp_path / "clean", tmp_path / "w0")  # the uninterrupted run of the new input
    assert _contents(out, key) == _contents(tmp_path / "clean", key)


def test_a_crash_during_the_load_leaves_the_old_outputs_and_no_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tiny_input(tmp_path / "in", ("beta",))
    out, work = tmp_path / "out", tmp_path / "work"
    _run(root, out, work)
    key = partition_key("beta", "2026-11-01")
    before = _contents(out, key)
    write_jsonl(root / key / "more.jsonl", [conv(conversation_id="late", supplier="beta",
                started_at="2026-11-01T12:00:00+00:00", ended_at=...)])  # fmt: skip

    def dies(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk went away")

    monkeypatch.setattr(parts_mod, "load_paths", dies)
    with pytest.raises(OSError, match="disk went away"):
        _run(root, out, work)
    monkeypatch.undo()
    assert _contents(out, key) == before
    assert not any((out / "_partitions").glob("supplier=beta--day=2026-11-01*"))
    assert not list((out / "_staging").iterdir())
    assert _run(root, out, work)[key] == "done"
    assert "'late'" in "".join(_contents(out, key)["conversations"])


def test_the_database_is_kept_on_request_and_threads_can_be_capped(tmp_path: Path) -> None:
    root = _tiny_input(tmp_path / "in", ("acme",))
    layout = discover(root)
    kb = prepare_kb(layout, tmp_path / "out", tmp_path / "work")
    part = layout.partitions[0]
    result = audit_partition(part, input_root=root, out_dir=tmp_path / "out", work_dir=tmp_path / "work", kb=kb,
                             threads=1, keep_database=True)  # fmt: skip
    assert result.status == "done" and result.conversations == 2 and result.turns == 4
    db = tmp_path / "work" / "partitions" / f"{part.marker_name}.duckdb"
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM kb_articles").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM check_results").fetchall() == [(22,)]
    finally:
        con.close()


def test_partitions_gone_from_the_input_are_pruned(tmp_path: Path) -> None:
    root = _tiny_input(tmp_path / "in", ("acme",))
    out = tmp_path / "out"
    _run(root, out, tmp_path / "work")
    gone = partition_key("acme", "2026-11-02")
    shutil.rmtree(root / gone)
    assert prune_outputs(out, discover(root).keys()) == [gone]
    assert not any(output_file(out, t, gone).exists() for t in TABLES)
    assert not (out / "_partitions" / f"{gone.replace('/', '--')}.json").exists()
    assert output_file(out, "quarantine", "_kb").exists()
    assert prune_outputs(out, discover(root).keys()) == []


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        ("supplier=acme/nope", "nope: expected day=<YYYY-MM-DD> here"),
        ("supplier=acme/day=2026-13-01", "day=2026-13-01: not a real day"),
        ("elsewhere", "elsewhere: expected supplier=<s>, kb or _unplaced here"),
    ],
)
def test_a_layout_that_breaks_the_scheme_is_named(tmp_path: Path, folder: str, message: str) -> None:
    (tmp_path / folder).mkdir(parents=True)
    with pytest.raises(InputError, match=message):
        discover(tmp_path)


def test_an_empty_input_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "kb").mkdir()
    with pytest.raises(InputError, match="no partition with files"):
        discover(tmp_path)
