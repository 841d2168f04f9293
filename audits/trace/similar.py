"""Near-neighbour search over every agent answer in the warehouse: a saved TF-IDF index.

A failed answer's blast radius includes the other answers that say nearly the same thing. Scoring a
query against millions of answers is one sparse matrix-vector product once the answers are
vectorised, so the vectorising is done once, by `build_index`, and saved to a folder:

    matrix.npz       CSR, one L2-normalised row per answer (float32), scipy.sparse.save_npz
    vocabulary.json  the terms, in column order
    idf.npy          their inverse document frequencies
    keys.parquet     per row: supplier, conversation_id, turn_index and the conversation's started_at
    manifest.json    rows, features, settings, build seconds, and the warehouse's turn count and
                     fingerprint at build time, so `Index.stale` tells when a load has changed it

An answer is an agent turn (`ai_agent` or `human_agent`) without an `action` (a tool call or a
button is not an answer) whose text has at least `min_chars` characters. The vectoriser is
scikit-learn's `TfidfVectorizer(max_features, sublinear_tf=True, dtype=float32, lowercase=True)`:
tokens are runs of two or more word characters, tf is 1 + ln(count), idf is smooth
(ln((1 + N) / (1 + df)) + 1), rows are L2-normalised, so a dot product is the cosine similarity.
It cannot be fitted incrementally, but it reads its corpus once from an iterator: the texts stream
from DuckDB in Arrow batches straight into it (never a list of every text), and the keys of each
batch are written to Parquet as it passes. The peak is the vectoriser's count matrix.

`load_index` maps the folder back; `Index.search` vectorises the query with the saved vocabulary and
idf in plain Python and numpy (scikit-learn is imported only to build, never to search; terms
outside the vocabulary are ignored, exactly as `transform` does) and scores every row with one
sparse matrix-vector product, X @ q (q as a dense vector: scipy's CSR mat-vec, about 0.1-0.4 s for
4 million answers; a sparse q would go through a slower sparse-sparse product).
`brute_force_search` is the baseline without an index: it fits a vectoriser over every answer for
each query (the benchmark's baseline and the tests' reference).

The fingerprint is a hash of the count of turns and conversations and an order-free XOR of each
conversation's key and content hash (set by every load): a load of new or changed conversations
changes it; reloading a file already loaded does not.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from audits.errors import ConfigError, InputError
from audits.warehouse import one

FORMAT_VERSION = 1
FILES = ("matrix.npz", "vocabulary.json", "idf.npy", "keys.parquet", "manifest.json")
TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
KEYS = ("supplier", "conversation_id", "turn_index", "started_at")
BATCH_ROWS = 100_000


def answers_sql(min_chars: int) -> str:
    """Every agent answer with its keys and the conversation's start: the index's corpus."""
    if not isinstance(min_chars, int) or isinstance(min_chars, bool) or min_chars < 0:
        raise ConfigError(f"min_chars must be an integer >= 0, got {min_chars!r}")
    return f"""
        SELECT t.supplier, t.conversation_id, t.turn_index, c.started_at, t.text
        FROM turns t JOIN conversations c USING (supplier, conversation_id)
        WHERE t.speaker IN ('ai_agent', 'human_agent') AND t.action IS NULL
          AND length(t.text) >= {min_chars}"""


def fingerprint(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """(turn count, fingerprint) of the warehouse's conversations and turns as they are now."""
    row = one(
        con,
        """SELECT (SELECT count(*) FROM turns), (SELECT count(*) FROM conversations),
                  (SELECT bit_xor(hash(supplier, conversation_id, content_hash)) FROM conversations)""",
    )
    assert row is not None
    return int(row[0]), f"{row[0]}:{row[1]}:{row[2] or 0:016x}"


@dataclass(frozen=True)
class IndexInfo:
    """What an index holds and the warehouse state it was built from (manifest.json)."""

    folder: str
    rows: int
    features: int
    max_features: int
    min_chars: int
    build_seconds: float
    turns: int
    fingerprint: str
    built_at: str
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The manifest's fields, for JSON."""
        return asdict(self)


@dataclass(frozen=True)
class Hit:
    """One answer similar to the query: its turn and the cosine similarity."""

    supplier: str
    conversation_id: str
    turn_index: int
    score: float


def build_index(
    con: duckdb.DuckDBPyConnection,
    folder: str | Path,
    *,
    max_features: int = 50_000,
    min_chars: int = 20,
    batch_rows: int = BATCH_ROWS,
) -> IndexInfo:
    """Vectorise every agent answer in the warehouse and save the index to `folder` (replaced whole)."""
    from scipy import sparse  # noqa: PLC0415 - heavy imports stay out of CLI start-up

    if not isinstance(max_features, int) or isinstance(max_features, bool) or max_features < 1:
        raise ConfigError(f"max_features must be an integer >= 1, got {max_features!r}")
    t0 = time.perf_counter()
    folder = Path(folder)
    turns, print_ = fingerprint(con)
    work = folder.with_name(folder.name + ".building")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        vec, matrix = _fit(con, work, max_features, min_chars, batch_rows)
        sparse.save_npz(work / "matrix.npz", matrix, compressed=False)
        terms = vec.get_feature_names_out().tolist()
        (work / "vocabulary.json").write_text(json.dumps(terms, ensure_ascii=False))
        np.save(work / "idf.npy", vec.idf_.astype(np.float64))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    info = IndexInfo(
        folder=str(folder), rows=matrix.shape[0], features=matrix.shape[1], max_features=max_features,
        min_chars=min_chars, build_seconds=round(time.perf_counter() - t0, 3), turns=turns,
        fingerprint=print_, built_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )  # fmt: skip
    (work / "manifest.json").write_text(json.dumps(info.to_dict(), indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    work.rename(folder)
    return info


def _fit(
    con: duckdb.DuckDBPyConnection, work: Path, max_features: int, min_chars: int, batch_rows: int
) -> tuple[Any, Any]:
    """Stream the answers into a fitted TfidfVectorizer and its CSR matrix; write their keys on the way."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415

    reader = con.sql(answers_sql(min_chars)).to_arrow_reader(batch_rows)
    schema = pa.schema([reader.schema.field(k) for k in KEYS])
    with pq.ParquetWriter(work / "keys.parquet", schema) as keys:

        def texts() -> Iterator[str]:
            for batch in reader:
                keys.write_batch(batch.select(list(KEYS)))
                yield from batch.column("text").to_pylist()

        vec = TfidfVectorizer(max_features=max_features, sublinear_tf=True, dtype=np.float32, lowercase=True)
        try:
            matrix = vec.fit_transform(texts())
        except ValueError as exc:  # an empty vocabulary: no answers, or none with a word in them
            raise ConfigError(
                f"no agent answers of {min_chars}+ characters with words to index ({exc})"
            ) from exc
    return vec, matrix.tocsr()


class Index:
    """A loaded index: the matrix, the vocabulary and idf, and the row keys."""

    def __init__(self, info: IndexInfo, matrix: Any, terms: list[str], idf: np.ndarray, keys: pa.Table):
        self.info = info
        self.matrix = matrix
        self.columns = {t: i for i, t in enumerate(terms)}
        self.idf = idf
        self.keys = keys

    def vector(self, text: str) -> np.ndarray:
        """The query's TF-IDF vector as `TfidfVectorizer.transform` makes it (dense, L2-normalised)."""
        q = np.zeros(len(self.columns), dtype=np.float64)
        counts = Counter(
            c for c in (self.columns.get(t) for t in TOKEN.findall(text.lower())) if c is not None
        )
        for col, n in counts.items():
            q[col] = (1.0 + math.log(n)) * self.idf[col]
        norm = float(np.sqrt(q @ q))
        return q / norm if norm > 0 else q

    def search_table(
        self,
        text: str,
        *,
        threshold: float = 0.5,
        limit: int | None = None,
        exclude: Iterable[tuple[str, str]] | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
    ) -> pa.Table:
        """The hits as an Arrow table (the keys and `score`), best first: see `search`."""
        check_threshold(threshold)
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise ConfigError(f"limit must be an integer >= 0, got {limit!r}")
        scores = self.matrix @ self.vector(text).astype(np.float32)
        rows = np.flatnonzero(scores >= threshold)
        hits = self.keys.take(pa.array(rows, pa.int64())).append_column(
            "score", pa.array(scores[rows].astype(np.float64))
        )
        keep = pa.array(np.ones(len(hits), dtype=bool))
        for supplier, conversation_id in exclude or ():
            same = pc.and_(
                pc.equal(hits["supplier"], supplier), pc.equal(hits["conversation_id"], conversation_id)
            )
            keep = pc.and_(keep, pc.invert(same))
        if after is not None:
            keep = pc.and_(
                keep, pc.greater_equal(hits["started_at"], pa.scalar(utc(after), hits["started_at"].type))
            )
        if before is not None:
            keep = pc.and_(keep, pc.less(hits["started_at"], pa.scalar(utc(before), hits["started_at"].type)))
        hits = hits.filter(pc.fill_null(keep, False)).sort_by(
            [("score", "descending"), ("supplier", "ascending"), ("conversation_id", "ascending"),
             ("turn_index", "ascending")]
        )  # fmt: skip
        return hits if limit is None else hits.slice(0, limit)

    def search(
        self,
        text: str,
        *,
        threshold: float = 0.5,
        limit: int | None = None,
        exclude: Iterable[tuple[str, str]] | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
    ) -> list[Hit]:
        """Answers with cosine similarity >= threshold to `text`, best first.

        `exclude` leaves out whole conversations given as (supplier, conversation_id); `after`
        (inclusive) and `before` (exclusive) bound the conversation's started_at (naive times are UTC).
        """
        table = self.search_table(
            text, threshold=threshold, limit=limit, exclude=exclude, after=after, before=before
        )
        return [
            Hit(r["supplier"], r["conversation_id"], r["turn_index"], r["score"])
            for r in table.select(["supplier", "conversation_id", "turn_index", "score"]).to_pylist()
        ]

    def stale(self, con: duckdb.DuckDBPyConnection) -> bool:
        """True when the warehouse's conversations or turns changed since the index was built."""
        turns, print_ = fingerprint(con)
        return turns != self.info.turns or print_ != self.info.fingerprint


def check_threshold(threshold: float) -> None:
    """Raise ConfigError unless 0 < threshold <= 1 (0 would return every answer)."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold <= 1:
        raise ConfigError(f"threshold must satisfy 0 < threshold <= 1, got {threshold!r}")


def utc(moment: datetime) -> datetime:
    """An aware datetime; a naive one is taken as UTC (the warehouse's time zone)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def load_index(folder: str | Path) -> Index:
    """Open an index saved by `build_index`; InputError names the folder and what is missing or wrong."""
    from scipy import sparse  # noqa: PLC0415

    folder = Path(folder)
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing:
        raise InputError(
            str(folder), f"not a similarity index (missing {', '.join(missing)}); build one first"
        )
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        info = IndexInfo(**manifest)
    except (ValueError, TypeError) as exc:
        raise InputError(str(folder / "manifest.json"), f"unreadable manifest: {exc}") from exc
    if info.format_version != FORMAT_VERSION:
        raise InputError(
            str(folder / "manifest.json"),
            f"index format {info.format_version} is not {FORMAT_VERSION}; rebuild it",
            field="format_version",
        )
    matrix = sparse.load_npz(folder / "matrix.npz").tocsr()
    terms = json.loads((folder / "vocabulary.json").read_text())
    idf = np.load(folder / "idf.npy")
    keys = pq.read_table(folder / "keys.parquet")
    if matrix.shape != (info.rows, info.features) or len(terms) != info.features or len(idf) != info.features:
        raise InputError(
            str(folder), f"files disagree with the manifest ({info.rows} x {info.features}); rebuild it"
        )
    if keys.num_rows != info.rows:
        raise InputError(
            str(folder / "keys.parquet"), f"{keys.num_rows} keys for {info.rows} rows; rebuild it"
        )
    return Index(info, matrix, terms, idf, keys)


def brute_force_search(
    con: duckdb.DuckDBPyConnection,
    text: str,
    threshold: float = 0.5,
    *,
    max_features: int = 50_000,
    min_chars: int = 20,
) -> list[Hit]:
    """The baseline without an index: fit a vectoriser over every answer now, score them all."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415

    check_threshold(threshold)
    table = con.sql(answers_sql(min_chars)).to_arrow_table()
    vec = TfidfVectorizer(max_features=max_features, sublinear_tf=True, dtype=np.float32, lowercase=True)
    matrix = vec.fit_transform(table.column("text").to_pylist())
    scores = (matrix @ vec.transform([text]).T).toarray().ravel()
    rows = np.flatnonzero(scores >= threshold)
    picked = table.select(["supplier", "conversation_id", "turn_index"]).take(pa.array(rows, pa.int64()))
    hits = [
        Hit(r["supplier"], r["conversation_id"], r["turn_index"], float(s))
        for r, s in zip(picked.to_pylist(), scores[rows], strict=True)
    ]
    return sorted(hits, key=lambda h: (-h.score, h.supplier, h.conversation_id, h.turn_index))
