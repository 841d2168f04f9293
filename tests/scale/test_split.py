"""Splitting exports by supplier and UTC day: every line lands once, byte for byte, where it belongs."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.errors import ConfigError, InputError
from audits.ingest.stage import iter_file_lines
from audits.scale import discover, split_exports
from audits.scale.layout import decode_supplier, encode_supplier, partition_key
from audits.scale.split import line_batches
from tests.scale.conftest import Audited
from tests.scale.helpers import ODD_SUPPLIER


def _partition_lines(input_dir: Path) -> dict[tuple[str, int], bytes]:
    """(file relative to the input, line) -> bytes, for every partition file the split wrote."""
    out = {}
    for f in sorted(input_dir.rglob("*.jsonl*")):
        rel = f.relative_to(input_dir).as_posix()
        if rel.startswith("kb/"):
            continue
        for i, line in enumerate(iter_file_lines(f), start=1):
            out[(rel, i)] = line
    return out


def test_every_non_blank_line_is_written_once_byte_for_byte(audited: Audited) -> None:
    """The map `_sources.parquet` pairs each written line with its source line, the bytes are equal,
    and no source line is missing or written twice (the blank ones aside)."""
    written = _partition_lines(audited.input_dir)
    rows = duckdb.sql(
        f"SELECT file, line, source_path, source_line FROM '{audited.input_dir / '_sources.parquet'}'"
    ).fetchall()
    assert len(rows) == len(written)
    source_lines = {}
    for name in ("conversations.jsonl", "corrections.jsonl", "odd.jsonl"):
        path = audited.sources / name
        for i, line in enumerate(iter_file_lines(path), start=1):
            if line.strip():
                source_lines[(str(path), i)] = line
    assert sorted((p, n) for _, _, p, n in rows) == sorted(source_lines)
    for file, line, source_path, source_line in rows:
        assert written[(file, line)] == source_lines[(source_path, source_line)]
    assert audited.split.records == len(source_lines) and audited.split.blank_lines == 2


def test_lines_go_to_their_supplier_and_utc_day_or_with_the_last_export(audited: Audited) -> None:
    """A record's partition is its supplier and the UTC day of its started_at, except that every
    export of one conversation is in the partition of the last one, in source order (so the load
    replaces them in the same order as one warehouse does)."""
    written = _partition_lines(audited.input_dir)
    rows = duckdb.sql(
        f"SELECT file, line, source_line FROM '{audited.input_dir / '_sources.parquet'}'"
    ).fetchall()
    exports: dict[tuple[str, str], list[tuple[tuple[int, int], str, dt.date]]] = defaultdict(list)
    for file, line, source_line in rows:
        folder, name = file.rsplit("/", 1)
        if folder == "_unplaced":
            continue
        record = json.loads(written[(file, line)])
        day = dt.datetime.fromisoformat(record["started_at"]).astimezone(dt.UTC).date()
        key = (record["supplier"], record.get("conversation_id") or file + f":{line}")
        exports[key].append(((int(name[:5]), source_line), folder, day))
    moved = 0
    for (supplier, _cid), places in exports.items():
        places.sort()
        expected = partition_key(supplier, places[-1][2])
        assert {folder for _, folder, _ in places} == {expected}
        moved += sum(1 for _, folder, day in places if folder != partition_key(supplier, day))
    # the originals of the ten corrections and of the invalid one, and the first of the two copies
    assert moved == audited.split.moved == 12
    assert any(p.supplier == ODD_SUPPLIER for p in audited.layout.partitions)
    assert all(p.day is not None for p in audited.layout.partitions if p.supplier)


def test_unplaced_lines_are_kept_with_their_reasons(audited: Audited) -> None:
    assert audited.split.unplaced_reasons == {
        "malformed JSON": 1,
        "not a JSON object": 1,
        "not valid UTF-8": 1,
        "started_at: missing or not an RFC 3339 timestamp with an offset": 1,
        "supplier: missing, empty or not a string": 1,
    }
    (unplaced,) = (audited.input_dir / "_unplaced").iterdir()
    assert unplaced.name == "00005-odd.jsonl"
    assert b"\xff\xfe not utf-8" in unplaced.read_bytes()
    assert "5 unplaced" in audited.split.summary()


def test_kb_files_are_copied_whole(audited: Audited) -> None:
    kb = sorted(p.name for p in (audited.input_dir / "kb").iterdir())
    assert kb == ["00003-kb_articles.jsonl", "00004-kb_more.jsonl"]
    assert (audited.input_dir / "kb" / kb[1]).read_bytes() == (audited.sources / "kb_more.jsonl").read_bytes()
    layout = discover(audited.input_dir)
    assert [Path(f).name for f in layout.kb_files] == kb


def test_the_supplier_folder_encoding_is_duckdbs_and_reversible() -> None:
    """The split names folders with DuckDB's url_encode, `discover` reads them with Python: they agree."""
    for text in (ODD_SUPPLIER, "plain-name_1.x~", "ü/..%2F", "a b+c&d", "中文"):
        assert duckdb.sql("SELECT url_encode(?)", params=[text]).fetchall()[0][0] == encode_supplier(text)
        assert decode_supplier(encode_supplier(text)) == text
        assert "/" not in encode_supplier(text)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=12))
def test_url_encoding_agrees_on_any_text(text: str) -> None:
    try:
        text.encode()
    except UnicodeEncodeError:  # lone surrogates cannot be a supplier (the JSON would not be UTF-8)
        return
    assert duckdb.sql("SELECT url_encode(?)", params=[text]).fetchall()[0][0] == encode_supplier(text)


@settings(max_examples=80, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=12).filter(lambda b: b"\n" not in b), max_size=20),
    crlf=st.lists(st.booleans(), min_size=20, max_size=20),
    bom=st.booleans(),
    final_newline=st.booleans(),
    block=st.integers(1, 40),
)
def test_cutting_lines_matches_the_load(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[bytes],
    crlf: list[bool],
    bom: bool,
    final_newline: bool,
    block: int,
) -> None:
    """numpy's cut gives the load's lines (CR before LF dropped, a BOM dropped, a last line without
    newline kept), numbered the same, whatever the block size."""
    ends = [b"\r\n" if c else b"\n" for c in crlf]
    data = b"".join(line + ends[i] for i, line in enumerate(lines))
    if lines and not final_newline:
        data = data[: -len(ends[len(lines) - 1])]
    path = tmp_path_factory.mktemp("cut") / "x.jsonl"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    got = [
        (int(n), bytes(r))
        for t in line_batches(path, block_bytes=block)
        for n, r in zip(t.column("line").to_pylist(), t.column("raw").to_pylist(), strict=True)
    ]
    assert got == list(enumerate(iter_file_lines(path), start=1))


def test_a_compressed_split_holds_the_same_lines(audited: Audited, tmp_path: Path) -> None:
    result = split_exports([audited.sources / "corrections.jsonl"], tmp_path / "gz", compress=True)
    plain = split_exports([audited.sources / "corrections.jsonl"], tmp_path / "plain")
    assert result.to_dict() | {"out_dir": "", "seconds": 0} == plain.to_dict() | {"out_dir": "", "seconds": 0}
    gz = sorted(p.relative_to(tmp_path / "gz").as_posix() for p in (tmp_path / "gz").rglob("*.jsonl.gz"))
    assert gz and len(gz) == result.files_written
    for rel in gz:
        assert (
            gzip.decompress((tmp_path / "gz" / rel).read_bytes())
            == (tmp_path / "plain" / rel[:-3]).read_bytes()
        )


def test_the_split_is_deterministic(audited: Audited, tmp_path: Path) -> None:
    split_exports([audited.sources], tmp_path / "again")
    for f in audited.input_dir.rglob("*.jsonl"):
        assert (tmp_path / "again" / f.relative_to(audited.input_dir)).read_bytes() == f.read_bytes()


def test_refuses_a_folder_that_is_not_empty_and_files_that_are_not_json_lines(tmp_path: Path) -> None:
    src = tmp_path / "src.jsonl"
    src.write_text('{"supplier": "a"}\n')
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("")
    with pytest.raises(ConfigError, match="busy: already exists and is not empty"):
        split_exports([src], tmp_path / "busy")
    flat = tmp_path / "e.conversations.parquet"
    duckdb.sql(f"COPY (SELECT 1 AS a) TO '{flat}'")
    duckdb.sql(f"COPY (SELECT 1 AS a) TO '{tmp_path / 'e.turns.parquet'}'")
    with pytest.raises(InputError, match="e.conversations.parquet: the splitter reads JSON lines"):
        split_exports([flat], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_a_truncated_gzip_is_named_and_nothing_is_left(tmp_path: Path) -> None:
    bad = tmp_path / "cut.jsonl.gz"
    bad.write_bytes(gzip.compress(b'{"a": 1}\n' * 1000)[:60])
    with pytest.raises(InputError, match="cut.jsonl.gz: cannot be read"):
        split_exports([bad], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
