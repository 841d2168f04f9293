"""KB article versions and when each was live.

`kb_articles` holds one row per (article_id, version) with its `updated_at`. A version is live from
its `updated_at` until the next version's (`valid_to`, NULL while it is current). Versions are
ordered by `updated_at`, then by their number (TRY_CAST(version AS BIGINT), versions that are not
numbers first), then by their text: the rule kb_grounded uses (audits/checks/grounding.py), so a
finding names the version the check judged the answer against. Of two versions sharing an
`updated_at`, the earlier in that order is live for no time at all (valid_from = valid_to).

"Later" (a correction must be a later version of the article) means later in that order (`rank`).
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass

import duckdb

from audits.auditlog import to_utc
from audits.errors import ConfigError
from audits.warehouse import one, scalar, table_exists

KB_VERSIONS_SQL = """
SELECT article_id, version, title, body, updated_at,
       updated_at AS valid_from,
       lead(updated_at) OVER w AS valid_to,
       row_number() OVER w AS rank
FROM kb_articles
WINDOW w AS (PARTITION BY article_id
             ORDER BY updated_at, TRY_CAST(version AS BIGINT) NULLS FIRST, version)
"""


@dataclass(frozen=True)
class KbVersion:
    """One article version, its validity interval and its rank (1 = the article's first version)."""

    article_id: str
    version: str
    title: str
    body: str
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    rank: int


def kb_versions(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """Every article version with valid_from, valid_to (NULL while current) and rank."""
    return con.sql(KB_VERSIONS_SQL if table_exists(con, "kb_articles") else _EMPTY)


_EMPTY = (
    "SELECT NULL::VARCHAR AS article_id, NULL::VARCHAR AS version, NULL::VARCHAR AS title, "
    "NULL::VARCHAR AS body, NULL::TIMESTAMPTZ AS updated_at, NULL::TIMESTAMPTZ AS valid_from, "
    "NULL::TIMESTAMPTZ AS valid_to, NULL::BIGINT AS rank WHERE false"
)


def _require_article(con: duckdb.DuckDBPyConnection, article_id: str) -> None:
    if not table_exists(con, "kb_articles") or not scalar(
        con, "SELECT count(*) FROM kb_articles WHERE article_id = ?", [article_id]
    ):
        raise ConfigError(f"no KB article {article_id!r} in the warehouse")


def get_version(con: duckdb.DuckDBPyConnection, article_id: str, version: str) -> KbVersion:
    """One article version; ConfigError naming the article (and its versions) when it is unknown."""
    _require_article(con, article_id)
    row = one(
        con,
        f"SELECT article_id, version, title, body, valid_from, valid_to, rank FROM ({KB_VERSIONS_SQL}) "
        "WHERE article_id = ? AND version = ?",
        [article_id, str(version)],
    )
    if row is None:
        have = [r[0] for r in con.execute(
            f"SELECT version FROM ({KB_VERSIONS_SQL}) WHERE article_id = ? ORDER BY rank", [article_id]
        ).fetchall()]  # fmt: skip
        raise ConfigError(
            f"KB article {article_id!r} has no version {str(version)!r} (its versions: {', '.join(have)})"
        )
    return KbVersion(str(row[0]), str(row[1]), row[2], row[3], row[4], row[5], int(row[6]))


def live_version(con: duckdb.DuckDBPyConnection, article_id: str, at: dt.datetime | str) -> str | None:
    """The version of the article live at `at` (an aware time); None before its first version."""
    at = to_utc(at, "at")
    _require_article(con, article_id)
    return scalar(
        con,
        f"SELECT version FROM ({KB_VERSIONS_SQL}) WHERE article_id = ? AND valid_from <= ? "
        "AND (valid_to IS NULL OR ? < valid_to)",
        [article_id, at, at],
    )


def _lines(v: KbVersion) -> list[str]:
    return [v.title, "", *v.body.splitlines()]


def kb_diff(con: duckdb.DuckDBPyConnection, article_id: str, old_version: str, new_version: str) -> str:
    """A unified diff of two versions' title and body ('' when they read the same)."""
    old = get_version(con, article_id, old_version)
    new = get_version(con, article_id, new_version)
    return "\n".join(
        difflib.unified_diff(
            _lines(old),
            _lines(new),
            fromfile=f"{article_id} v{old.version}",
            tofile=f"{article_id} v{new.version}",
            lineterm="",
        )
    )
