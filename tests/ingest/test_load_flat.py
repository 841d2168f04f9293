"""Loading the flattened shape: NAME.conversations + NAME.turns as Parquet or CSV."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audits import warehouse
from audits.errors import InputError
from audits.ingest.load import expand_paths, load_file

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")


def conversations_table(ids: list[str], **overrides) -> pa.Table:
    n = len(ids)
    cols = {
        "conversation_id": pa.array(ids),
        "supplier": pa.array(["acme"] * n),
        "channel": pa.array(["chat"] * n),
        "handler": pa.array(["ai"] * n),
        "started_at": pa.array([T0] * n, TS),
        "csat": pa.array([4] * n, pa.int32()),
        "agent_ids": pa.array([["a1"]] * n, pa.list_(pa.string())),
        "metadata": pa.array(['{"k": 1}'] * n),
        "vendor_score": pa.array([0.5] * n),  # unknown column: kept in extra
    }
    cols.update(overrides)
    return pa.table(cols)


def turns_table(ids: list[str], per: int = 2, **overrides) -> pa.Table:
    rows = [(cid, i + 1, "customer" if i % 2 == 0 else "ai_agent", f"t{i}", T0 + timedelta(seconds=10 * i))
            for cid in ids for i in range(per)]  # fmt: skip
    cols = {
        "conversation_id": pa.array([r[0] for r in rows]),
        "turn_index": pa.array([r[1] for r in rows], pa.int32()),
        "speaker": pa.array([r[2] for r in rows]),
        "text": pa.array([r[3] for r in rows]),
        "at": pa.array([r[4] for r in rows], TS),
    }
    cols.update(overrides)
    return pa.table(cols)


def write_pair(folder: Path, conv: pa.Table, turns: pa.Table, name: str = "day") -> Path:
    pq.write_table(conv, folder / f"{name}.conversations.parquet")
    pq.write_table(turns, folder / f"{name}.turns.parquet")
    return folder / f"{name}.conversations.parquet"


def test_parquet_pair_loads_with_derived_columns(con, tmp_path):
    path = write_pair(tmp_path, conversations_table(["c1", "c2"]), turns_table(["c1", "c2"], per=3))
    result = load_file(con, path)
    assert (result.format, result.records_loaded, result.turns_loaded, result.records_quarantined) == (
        "parquet",
        2,
        6,
        0,
    )
    row = con.execute(
        "SELECT n_turns, first_response_seconds, agent_ids, metadata, extra FROM conversations WHERE conversation_id = 'c1'"
    ).fetchall()[0]
    assert row[0:3] == (3, 10.0, ["a1"])
    assert json.loads(row[3]) == {"k": 1}
    assert json.loads(row[4]) == {"vendor_score": 0.5}


def test_either_file_of_a_pair_names_the_pair_and_it_loads_once(con, tmp_path):
    write_pair(tmp_path, conversations_table(["c1"]), turns_table(["c1"]))
    assert expand_paths([tmp_path]) == [tmp_path / "day.conversations.parquet"]
    assert load_file(con, tmp_path / "day.turns.parquet").records_loaded == 1
    assert load_file(con, tmp_path / "day.conversations.parquet").status == "already loaded"


def test_changing_the_turns_file_makes_a_new_load(con, tmp_path):
    path = write_pair(tmp_path, conversations_table(["c1"]), turns_table(["c1"], per=2))
    load_file(con, path)
    pq.write_table(turns_table(["c1"], per=4), tmp_path / "day.turns.parquet")
    again = load_file(con, path)
    assert (again.status, again.records_replaced) == ("loaded", 1)
    assert warehouse.scalar(con, "SELECT count(*) FROM turns") == 4


def test_bad_rows_quarantined_with_row_numbers(con, tmp_path):
    conv = conversations_table(
        ["c1", "c2", "c3", "c1"],
        channel=pa.array(["chat", "fax", "chat", "chat"]),
        started_at=pa.array([T0, T0, None, T0], TS),
    )
    turns = turns_table(["c1", "c2", "c3", "c9"])
    result = load_file(con, write_pair(tmp_path, conv, turns))
    assert result.records_loaded == 0  # c1 twice, c2 bad channel, c3 no start
    assert result.records_quarantined == 4
    assert result.orphan_turns == 2  # the turns of c9
    got = {
        (line, r["field"], r["rule"])
        for line, reasons in con.execute(
            "SELECT line, reasons FROM quarantine WHERE kind = 'conversations'"
        ).fetchall()
        for r in reasons
    }
    assert (2, "channel", "allowed_values") in got
    assert (3, "started_at", "required") in got
    assert (1, "conversation_id", "duplicate_id") in got and (4, "conversation_id", "duplicate_id") in got
    orphans = con.execute(
        "SELECT path, line, record_id FROM quarantine WHERE kind = 'turn' ORDER BY line"
    ).fetchall()
    assert orphans == [
        (str(tmp_path / "day.turns.parquet"), 7, "c9"),
        (str(tmp_path / "day.turns.parquet"), 8, "c9"),
    ]
    raw = json.loads(
        warehouse.scalar(con, "SELECT decode(raw) FROM quarantine WHERE line = 2 AND kind = 'conversations'")
    )
    assert raw["record"]["channel"] == "fax" and len(raw["turns"]) == 2


def test_naive_timestamps_break_the_contract(con, tmp_path):
    conv = conversations_table(["c1"], started_at=pa.array([datetime(2026, 11, 1, 10)], pa.timestamp("us")))
    load_file(con, write_pair(tmp_path, conv, turns_table(["c1"])))
    (reasons,) = con.execute("SELECT reasons FROM quarantine").fetchall()[0]
    assert {"field": "started_at", "rule": "format",
            "message": "2026-11-01T10:00:00.000000 is not an RFC 3339 timestamp with a UTC offset"} in reasons  # fmt: skip


def test_repeated_turn_index_and_turn_order(con, tmp_path):
    turns = turns_table(["c1"], per=3, turn_index=pa.array([1, 1, 2], pa.int32()))
    load_file(con, write_pair(tmp_path, conversations_table(["c1"]), turns))
    (reasons,) = con.execute("SELECT reasons FROM quarantine").fetchall()[0]
    assert [r["field"] for r in reasons] == ["turns", "turns"]
    assert reasons[0]["message"] == "turn_index 1 is missing, repeated, or not a whole number from 1 up"


def test_a_missing_required_column_refuses_the_file(con, tmp_path):
    path = write_pair(tmp_path, conversations_table(["c1"]).drop(["handler"]), turns_table(["c1"]))
    with pytest.raises(
        InputError, match=r"day.conversations.parquet \[handler\]: required column is missing"
    ):
        load_file(con, path)
    assert warehouse.scalar(con, "SELECT count(*) FROM loads") == 0


def test_half_a_pair_is_an_error(con, tmp_path):
    pq.write_table(conversations_table(["c1"]), tmp_path / "day.conversations.parquet")
    with pytest.raises(InputError, match="day.turns.parquet: missing"):
        load_file(con, tmp_path / "day.conversations.parquet")


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_csv_pair_with_typed_text(con, tmp_path):
    base = {"conversation_id": "c1", "supplier": "acme", "channel": "voice", "handler": "human",
            "started_at": "2026-11-01T10:00:00+08:00", "csat": "5", "automation_failed": "false",
            "agent_ids": '["h-7"]', "outcome": ""}  # fmt: skip
    bad = dict(base, conversation_id="c2", csat="five", automation_failed="maybe", agent_ids="h-7")
    write_csv(tmp_path / "x.conversations.csv", [base, bad])
    write_csv(
        tmp_path / "x.turns.csv",
        [
            {"conversation_id": "c1", "turn_index": "1", "speaker": "customer", "text": 'he said "hi",\nthen left', "at": ""},
            {"conversation_id": "c2", "turn_index": "1", "speaker": "customer", "text": "x", "at": "2026-11-01T10:00:00+08:00"},
        ],
    )  # fmt: skip
    result = load_file(con, tmp_path / "x.conversations.csv")
    assert (result.format, result.records_loaded, result.records_quarantined) == ("csv", 1, 1)
    assert con.execute(
        "SELECT csat, automation_failed, agent_ids, outcome FROM conversations"
    ).fetchall() == [(5, False, ["h-7"], None)]
    assert warehouse.scalar(con, "SELECT text FROM turns") == 'he said "hi",\nthen left'
    (reasons,) = con.execute("SELECT reasons FROM quarantine").fetchall()[0]
    assert {(r["field"], r["message"]) for r in reasons} == {
        ("csat", "expected an integer, got a string"),
        ("automation.failed", "expected a boolean, got a string"),
        ("agent_ids", "expected an array of strings, got a string"),
    }


def test_kb_articles_parquet(con, tmp_path):
    table = pa.table(
        {
            "article_id": ["kb-1", "kb-1"],
            "version": ["1", "2"],
            "title": ["Refunds", "Refunds"],
            "body": ["14 days", "30 days"],
            "updated_at": pa.array([T0, T0 + timedelta(days=30)], TS),
        }
    )
    pq.write_table(table, tmp_path / "kb.kb_articles.parquet")
    result = load_file(con, tmp_path / "kb.kb_articles.parquet")
    assert (result.kind, result.records_loaded) == ("kb_articles", 2)


def test_a_file_name_with_glob_characters_is_refused(con, tmp_path):
    write_pair(tmp_path, conversations_table(["mine"]), turns_table(["mine"]), name="x[1]")
    write_pair(tmp_path, conversations_table(["other"]), turns_table(["other"]), name="x1")
    with pytest.raises(InputError, match=r"cannot be read safely; rename the file"):
        load_file(con, tmp_path / "x[1].conversations.parquet")
    assert warehouse.scalar(con, "SELECT count(*) FROM conversations") == 0


def test_csv_quotes_late_in_a_large_file_are_honoured(con, tmp_path):
    """DuckDB's sniffer looks at the first rows only: quoting rules are stated, not guessed."""
    n = 25_000
    ids = [f"b{i}" for i in range(n)]
    write_csv(tmp_path / "big.conversations.csv",
              [{"conversation_id": i, "supplier": "acme", "channel": "chat", "handler": "ai",
                "started_at": "2026-11-01T10:00:00Z"} for i in ids])  # fmt: skip
    turns = [{"conversation_id": i, "turn_index": "1", "speaker": "customer", "text": "plain"} for i in ids]
    turns[-1]["text"] = 'say "hi", then go'
    write_csv(tmp_path / "big.turns.csv", turns)
    result = load_file(con, tmp_path / "big.conversations.csv")
    assert (result.records_loaded, result.records_quarantined, result.orphan_turns) == (n, 0, 0)
    assert (
        warehouse.scalar(con, f"SELECT text FROM turns WHERE conversation_id = 'b{n - 1}'")
        == 'say "hi", then go'
    )


def test_reserved_column_names_are_refused(con, tmp_path):
    conv = conversations_table(["c1"]).append_column("_line", pa.array([100]))
    with pytest.raises(InputError, match=r"\[_line\]: this column name is reserved"):
        load_file(con, write_pair(tmp_path, conv, turns_table(["c1"])))


def test_turns_without_supplier_cannot_link_an_id_shared_by_two_suppliers(con, tmp_path):
    conv = conversations_table(["same", "same"], supplier=pa.array(["acme", "beta"]))
    with pytest.raises(InputError, match=r"same belongs to several suppliers"):
        load_file(con, write_pair(tmp_path, conv, turns_table(["same"])))
    turns = turns_table(["same", "same"]).append_column(
        "supplier", pa.array(["acme", "acme", "beta", "beta"])
    )
    result = load_file(con, write_pair(tmp_path, conv, turns, name="fixed"))
    assert (result.records_loaded, result.turns_loaded) == (2, 4)


@pytest.mark.parametrize("bad_index", [1.4, 0.0, -1.0])
def test_turn_index_must_be_a_whole_number_from_1(con, tmp_path, bad_index):
    turns = turns_table(["c1"], per=2, turn_index=pa.array([bad_index, 2.0]))
    result = load_file(con, write_pair(tmp_path, conversations_table(["c1"]), turns))
    assert result.records_quarantined == 1
    (reasons,) = con.execute("SELECT reasons FROM quarantine").fetchall()[0]
    assert (
        reasons[0]["message"] == "turn_index (missing) is missing, repeated, or not a whole number from 1 up"
    )
