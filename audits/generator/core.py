"""The entry point: `generate` writes the conversations, the KB and the ground truth to a folder.

The ground-truth files start with `_` so that loading the folder skips them (the Hadoop/Spark
convention for files that are not data).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from audits.errors import ConfigError
from audits.generator.conversation import Generator
from audits.generator.kb import kb_lines
from audits.generator.plant import KINDS, OBSERVED, check_rates
from audits.generator.writers import Columns, Sink

GENERATOR_VERSION = "3"  # 3: no stale answers after kb-card-block's correction (kb.CLEAN_CORRECTIONS)
DEFAULT_START = date(2026, 11, 1)
CHUNK = 50_000  # conversations drawn, rendered and written at a time (a Parquet row group each)
TRUTH_FILE = "_ground_truth.jsonl"
TRUTH_SUMMARY_FILE = "_ground_truth_summary.json"


@dataclass
class GenerationSummary:
    """What `generate` wrote: counts, the planted edge cases per kind, and the files (paths)."""

    out_dir: str
    conversations: int
    turns: int
    seed: int
    planted: dict[str, int]
    files: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def generate(
    out_dir: str | Path,
    *,
    conversations: int,
    seed: int,
    fmt: str = "jsonl",
    start: date | None = None,
    days: int = 7,
    rates: dict[str, float] | None = None,
    compress: bool = False,
    progress: bool | None = None,
) -> GenerationSummary:
    """Write `conversations` synthetic conversations, the KB and the ground truth to `out_dir`.

    `fmt` is jsonl (`conversations.jsonl`, gzipped with `compress`) or parquet (the flattened pair
    `conversations.conversations.parquet` and `conversations.turns.parquet`, zstd with `compress`).
    Conversations start on `days` days from `start` (default 2026-11-01), local time. `rates`
    overrides DEFAULT_RATES per kind; each is the chance that a conversation carries that kind.
    `progress` shows a bar on stderr (None: for 100,000 conversations or more, on a terminal).
    """
    if isinstance(conversations, bool) or not isinstance(conversations, int) or conversations < 1:
        raise ConfigError(f"conversations must be a whole number of 1 or more, not {conversations!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a whole number of 0 or more, not {seed!r}")
    if fmt not in ("jsonl", "parquet"):
        raise ConfigError(f"fmt must be jsonl or parquet, not {fmt!r}")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ConfigError(f"days must be a whole number of 1 or more, not {days!r}")
    checked = check_rates(rates)
    start = start or DEFAULT_START
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gen = Generator(conversations, seed, start, days, checked)
    metadata = {"synthetic": True, "generator_seed": seed}
    if fmt == "jsonl":
        names = ["conversations.jsonl.gz" if compress else "conversations.jsonl"]
    else:
        names = ["conversations.conversations.parquet", "conversations.turns.parquet"]
    names += ["kb_articles.jsonl", TRUTH_FILE, TRUTH_SUMMARY_FILE]
    (out / "kb_articles.jsonl").write_text(
        "\n".join(kb_lines(gen.epoch0, gen.v2_at)) + "\n", encoding="utf-8"
    )
    planted = dict.fromkeys(KINDS, 0)
    observed = dict.fromkeys(OBSERVED, 0)
    turns = 0
    bar = _progress_bar(conversations, progress)
    with open(out / TRUTH_FILE, "wb") as truth_file, Sink(out, names, fmt, compress) as sink:
        for first in range(0, conversations, CHUNK):
            ch = gen.chunk(first, min(CHUNK, conversations - first))
            cols = Columns(ch, gen.contacts.width)
            sink.write(ch, cols, metadata)
            turns += len(ch.turn["text"])
            lines = []
            for g, kind, detail in ch.truth:
                (planted if kind in planted else observed)[kind] += 1
                lines.append(json.dumps({"supplier": cols.names["supplier"][g - first], "conversation_id": f"c-{g + 1:09d}",
                                         "kind": kind, "detail": detail}, ensure_ascii=False))  # fmt: skip
            truth_file.write(("\n".join(lines) + "\n").encode("utf-8") if lines else b"")
            if bar is not None:
                bar.update(cols.n)
    if bar is not None:
        bar.close()
    summary = {
        "generator_version": GENERATOR_VERSION, "seed": seed, "conversations": conversations, "turns": turns,
        "start": start.isoformat(), "days": days, "format": fmt, "rates": checked, "planted": planted,
        "observed": observed, "files": names[:-1],
    }  # fmt: skip
    (out / TRUTH_SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return GenerationSummary(str(out), conversations, turns, seed, planted, [str(out / n) for n in names])


def _progress_bar(total: int, enabled: bool | None) -> Any:
    """A tqdm bar over conversations on stderr, or None."""
    if enabled is False or (enabled is None and total < 100_000):
        return None
    from tqdm import tqdm  # noqa: PLC0415

    return tqdm(total=total, unit="conv", desc="generate", disable=None if enabled is None else False)
