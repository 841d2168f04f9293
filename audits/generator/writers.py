"""Writers: the conversations as interchange JSONL (plain or gzip) or as flattened Parquet.

Both writers take a chunk at a time. JSONL is one conversation per line, keys in a fixed order,
compact separators, UTF-8; gzip without a file name and with mtime 0. Parquet is the flattened
pair (conversations, turns), one row group per chunk, snappy (zstd with compress).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from audits.generator.clock import stamps
from audits.generator.conversation import Chunk
from audits.generator.mix import JOURNEYS, LANGUAGES, MARKETS, SUPPLIERS
from audits.ingest.fields import CHANNELS, HANDLERS

SPEAKERS = ("customer", "ai_agent", "human_agent", "system")  # conversation.Chunk's speaker codes
_TS = pa.timestamp("us", tz="UTC")
_STRINGS = pa.list_(pa.string())
CONVERSATION_SCHEMA = pa.schema([
    ("conversation_id", pa.string()), ("supplier", pa.string()), ("channel", pa.string()),
    ("handler", pa.string()), ("started_at", _TS), ("ended_at", _TS), ("market", pa.string()),
    ("language", pa.string()), ("journey", pa.string()), ("agent_ids", _STRINGS), ("customer_id", pa.string()),
    ("outcome", pa.string()), ("csat", pa.int32()), ("automation_failed", pa.bool_()),
    ("automation_reason", pa.string()), ("escalation_requested_at", _TS), ("escalation_handed_off_at", _TS),
    ("escalation_reason", pa.string()), ("metadata", pa.string()),
])  # fmt: skip
TURN_SCHEMA = pa.schema([
    ("conversation_id", pa.string()), ("supplier", pa.string()), ("turn_index", pa.int32()),
    ("speaker", pa.string()), ("text", pa.string()), ("at", _TS), ("kb_article_ids", _STRINGS),
    ("action", pa.string()),
])  # fmt: skip
_NAMES = {
    "supplier": np.array(SUPPLIERS, dtype=object), "handler": np.array(HANDLERS, dtype=object),
    "channel": np.array(CHANNELS, dtype=object), "market": np.array(MARKETS, dtype=object),
    "language": np.array(LANGUAGES, dtype=object), "journey": np.array(JOURNEYS, dtype=object),
    "speaker": np.array(SPEAKERS, dtype=object),
}  # fmt: skip


class Columns:
    """A chunk's columns as arrays, shared by both writers."""

    def __init__(self, ch: Chunk, cust_width: int):
        c, t = ch.conv, ch.turn
        self.n = len(c["started"])
        self.ids = [f"c-{g + 1:09d}" for g in range(ch.first, ch.first + self.n)]
        self.names = {k: v[np.asarray(c[k])].tolist() for k, v in _NAMES.items() if k != "speaker"}
        self.speaker = _NAMES["speaker"][np.asarray(t["speaker"], dtype=np.int64)].tolist()
        self.customer = [f"cust-{x:0{cust_width}d}" for x in c["customer"]]
        self.offset = np.asarray(c["offset"], dtype=np.int64)
        self.n_turns = np.asarray(c["n_turns"], dtype=np.int64)
        self.turn_offset = np.repeat(self.offset, self.n_turns)

    def optional_times(self, values: list[int | None]) -> tuple[np.ndarray, np.ndarray]:
        missing = np.array([v is None for v in values], dtype=bool)
        return np.array([0 if v is None else v for v in values], dtype=np.int64), missing


def jsonl_records(ch: Chunk, cols: Columns, metadata: dict[str, Any]) -> bytes:
    c, t = ch.conv, ch.turn
    at = stamps(t["at"], cols.turn_offset)
    started, ended = stamps(c["started"], cols.offset), stamps(c["ended"], cols.offset)
    req, handed = (stamps(cols.optional_times(c[k])[0], cols.offset) for k in ("requested", "handed"))
    names, texts, kbs, actions = cols.names, t["text"], t["kb"], t["action"]
    lines, pos = [], 0
    for i, n_turns in enumerate(cols.n_turns.tolist()):
        turns = []
        for k in range(pos, pos + n_turns):
            turn = {"speaker": cols.speaker[k], "text": texts[k], "at": at[k]}
            if kbs[k] is not None:
                turn["kb_article_ids"] = kbs[k]
            if actions[k] is not None:
                turn["action"] = actions[k]
            turns.append(turn)
        pos += n_turns
        rec: dict[str, Any] = {
            "conversation_id": cols.ids[i], "supplier": names["supplier"][i], "channel": names["channel"][i],
            "handler": names["handler"][i], "started_at": started[i], "ended_at": ended[i],
            "market": names["market"][i], "language": names["language"][i], "journey": names["journey"][i],
            "agent_ids": c["agent_ids"][i], "customer_id": cols.customer[i], "outcome": c["outcome"][i],
        }  # fmt: skip
        if c["csat"][i] is not None:
            rec["csat"] = c["csat"][i]
        if c["automation_failed"][i] is not None:
            rec["automation"] = {"failed": c["automation_failed"][i]}
            if c["automation_reason"][i]:
                rec["automation"]["reason"] = c["automation_reason"][i]
        if c["requested"][i] is not None:
            rec["escalation"] = {"requested_at": req[i]}
            if c["handed"][i] is not None:
                rec["escalation"]["handed_off_at"] = handed[i]
            rec["escalation"]["reason"] = c["escalation_reason"][i]
        rec["metadata"] = metadata
        rec["turns"] = turns
        lines.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode("utf-8")


def tables(ch: Chunk, cols: Columns, metadata: dict[str, Any]) -> tuple[pa.Table, pa.Table]:
    c, t = ch.conv, ch.turn

    def ts(values: Any, missing: np.ndarray | None = None) -> pa.Array:
        return pa.array(np.asarray(values, dtype=np.int64) * 1_000_000, type=_TS, mask=missing)

    ids = pa.array(cols.ids, pa.string())
    conversations = pa.table([
        ids, pa.array(cols.names["supplier"], pa.string()), pa.array(cols.names["channel"], pa.string()),
        pa.array(cols.names["handler"], pa.string()), ts(c["started"]), ts(c["ended"]),
        pa.array(cols.names["market"], pa.string()), pa.array(cols.names["language"], pa.string()),
        pa.array(cols.names["journey"], pa.string()), pa.array(c["agent_ids"], _STRINGS),
        pa.array(cols.customer, pa.string()), pa.array(c["outcome"], pa.string()),
        pa.array(c["csat"], pa.int32()), pa.array(c["automation_failed"], pa.bool_()),
        pa.array(c["automation_reason"], pa.string()), ts(*cols.optional_times(c["requested"])),
        ts(*cols.optional_times(c["handed"])), pa.array(c["escalation_reason"], pa.string()),
        pa.array([json.dumps(metadata, separators=(",", ":"))] * cols.n, pa.string()),
    ], schema=CONVERSATION_SCHEMA)  # fmt: skip
    owner = np.repeat(np.arange(cols.n), cols.n_turns)
    starts = np.concatenate(([0], np.cumsum(cols.n_turns)[:-1]))
    index = np.arange(len(owner)) - starts[owner] + 1
    turns = pa.table([
        ids.take(pa.array(owner)), pa.array(cols.names["supplier"], pa.string()).take(pa.array(owner)),
        pa.array(index, pa.int32()), pa.array(cols.speaker, pa.string()), pa.array(t["text"], pa.string()),
        ts(t["at"]), pa.array(t["kb"], _STRINGS), pa.array(t["action"], pa.string()),
    ], schema=TURN_SCHEMA)  # fmt: skip
    return conversations, turns


class Sink:
    """The conversations file(s) of one format, written chunk by chunk."""

    def __init__(self, out: Path, names: list[str], fmt: str, compress: bool):
        self.out, self.names, self.fmt, self.compress = out, names, fmt, compress

    def __enter__(self) -> Sink:
        if self.fmt == "jsonl":
            self.raw: BinaryIO = open(self.out / self.names[0], "wb")  # noqa: SIM115
            # mtime=0 and no file name in the header: the same data gives the same bytes
            self.fh: BinaryIO | gzip.GzipFile = self.raw
            if self.compress:
                self.fh = gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, mtime=0)
        else:
            codec = "zstd" if self.compress else "snappy"
            self.writers = [
                pq.ParquetWriter(self.out / name, schema, compression=codec)
                for name, schema in zip(self.names[:2], (CONVERSATION_SCHEMA, TURN_SCHEMA), strict=True)
            ]
        return self

    def write(self, ch: Chunk, cols: Columns, metadata: dict[str, Any]) -> None:
        if self.fmt == "jsonl":
            self.fh.write(jsonl_records(ch, cols, metadata))
        else:
            for writer, table in zip(self.writers, tables(ch, cols, metadata), strict=True):
                writer.write_table(table, row_group_size=max(table.num_rows, 1))

    def __exit__(self, *exc: object) -> None:
        if self.fmt == "jsonl":
            if self.fh is not self.raw:
                self.fh.close()
            self.raw.close()
        else:
            for writer in self.writers:
                writer.close()
