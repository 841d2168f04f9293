"""The ingest flow: tasks unit-tested with .fn(), the flow run end to end under Prefect."""

from __future__ import annotations

from flows.ingest import ingest_flow, list_files, load_one
from tests.conftest import conv, write_jsonl


def test_tasks_without_prefect(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [conv()])
    write_jsonl(tmp_path / "b.jsonl", [conv(conversation_id="c2"), "{"])
    (tmp_path / "notes.txt").write_text("not data")
    files = list_files.fn([str(tmp_path)], "auto")
    assert [f.rsplit("/", 1)[1] for f in files] == ["a.jsonl", "b.jsonl"]
    result = load_one.fn(files[1], str(tmp_path / "w.duckdb"), "auto", None)
    assert (result["records_loaded"], result["records_quarantined"]) == (1, 1)


def test_flow_end_to_end_and_rerun_is_idempotent(prefect_harness, tmp_path):
    data = tmp_path / "in"
    data.mkdir()
    write_jsonl(data / "a.jsonl", [conv(), conv(conversation_id="c2", channel="fax")])
    kb = {"article_id": "kb-refund", "version": "1", "title": "Refunds", "body": "5-7 business days",
          "updated_at": "2026-01-01T00:00:00Z"}  # fmt: skip
    write_jsonl(data / "kb.jsonl", [kb])
    wh = str(tmp_path / "w.duckdb")
    report = ingest_flow(paths=[str(data)], warehouse=wh)
    assert [(r["kind"], r["records_loaded"], r["records_quarantined"]) for r in report["loads"]] == [
        ("conversations", 1, 1),
        ("kb_articles", 1, 0),
    ]
    assert report["status"]["totals"]["conversations"] == 1
    assert "total: 2 loaded, 1 quarantined from 2 file(s)" in report["summary_text"]
    again = ingest_flow(paths=[str(data)], warehouse=wh)
    assert [r["status"] for r in again["loads"]] == ["already loaded", "already loaded"]
    assert again["status"]["totals"] == report["status"]["totals"]


def test_only_passing_failures_are_retried():
    from audits.errors import InputError, WarehouseBusy
    from flows.common import worth_retrying

    class Failed:
        def __init__(self, exc):
            self.exc = exc

        def result(self):
            raise self.exc

    assert worth_retrying(None, None, Failed(WarehouseBusy("w.duckdb", 60))) is True
    assert worth_retrying(None, None, Failed(OSError("disk"))) is True
    assert worth_retrying(None, None, Failed(InputError("a.jsonl", "bad"))) is False
