"""Columns derived at load, in SQL: turn counts, first response time, hand-off latency,
content hashes, and repeat contact (which looks across the whole warehouse).
"""

from __future__ import annotations

import duckdb

from audits.errors import ConfigError
from audits.warehouse import one

DEFAULT_REPEAT_WINDOW_DAYS = 7

_CONV_COLUMNS = (
    "supplier, conversation_id, channel, handler, started_at, ended_at, market, language, journey, "
    "agent_ids, customer_id, outcome, csat, automation_failed, automation_reason, "
    "escalation_requested_at, escalation_handed_off_at, escalation_reason, metadata"
)
# The stored record as one JSON document: what content_hash is computed over.
_CONV_STRUCT = "{" + ", ".join(f"'{c}': {c}" for c in _CONV_COLUMNS.split(", ")) + ", 'extra': g._extra}"


def build_new_conversations(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table `new_conv`: the accepted records with the derived columns from `turn_agg`."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE new_conv AS
        SELECT {_CONV_COLUMNS}, g._extra AS extra,
               a.n_turns, a.n_customer_turns, a.n_ai_agent_turns, a.n_human_agent_turns,
               a.n_system_turns, a.first_response_seconds,
               epoch(escalation_handed_off_at - escalation_requested_at) AS handoff_latency_seconds,
               NULL::BOOLEAN AS is_repeat_contact, NULL::VARCHAR AS repeat_of,
               NULL::BOOLEAN AS followed_by_repeat,
               sha256(to_json({_CONV_STRUCT}) || a.turns_hash) AS content_hash,
               NULL::VARCHAR AS load_id, g._line AS source_line
        FROM good g JOIN turn_agg a USING (_line)
        """
    )


TURN_COLUMNS = "supplier, conversation_id, turn_index, speaker, text, sent_at, kb_article_ids, action, extra"


def insert_new_turns(con: duckdb.DuckDBPyConnection) -> int:
    """Insert the turns of the accepted records (read once more from staging); return how many."""
    con.execute(
        f"""
        INSERT INTO turns ({TURN_COLUMNS})
        SELECT g.supplier, g.conversation_id, t.turn_index, t.speaker, t.text, t.sent_at,
               t.kb_article_ids, t.action, t._extra
        FROM stg_turns t JOIN (SELECT _line, supplier, conversation_id FROM good) g USING (_line)
        """
    )
    return int(con.execute("SELECT coalesce(sum(n_turns), 0) FROM new_conv").fetchall()[0][0])


def refresh_repeat_contacts(
    con: duckdb.DuckDBPyConnection, window_days: int, *, customers_from: str | None = "new_conv"
) -> None:
    """Set is_repeat_contact, repeat_of and followed_by_repeat.

    A contact repeats when the same customer contacted about the same journey within
    `window_days` before it (any supplier). Only customers in `customers_from` are recomputed;
    None recomputes the whole warehouse (after the window changes).
    """
    if window_days < 0:
        raise ConfigError(f"the repeat-contact window must be 0 days or more, not {window_days}")
    scope = (
        f"customer_id IN (SELECT DISTINCT customer_id FROM {customers_from} WHERE customer_id IS NOT NULL)"
        if customers_from
        else "customer_id IS NOT NULL"
    )
    window = f"INTERVAL {int(window_days)} DAY"
    con.execute(
        f"""
        UPDATE conversations AS c
        SET is_repeat_contact = w.prev_at IS NOT NULL AND c.started_at - w.prev_at <= {window},
            repeat_of = CASE WHEN w.prev_at IS NOT NULL AND c.started_at - w.prev_at <= {window}
                             THEN w.prev_id END,
            followed_by_repeat = w.next_at IS NOT NULL AND w.next_at - c.started_at <= {window}
        FROM (
            SELECT supplier, conversation_id,
                   lag(started_at) OVER w AS prev_at, lag(conversation_id) OVER w AS prev_id,
                   lead(started_at) OVER w AS next_at
            FROM conversations
            WHERE {scope} AND journey IS NOT NULL
            WINDOW w AS (PARTITION BY customer_id, journey
                         ORDER BY started_at, supplier, conversation_id)
        ) AS w
        WHERE c.supplier = w.supplier AND c.conversation_id = w.conversation_id
        """
    )
    con.execute("DELETE FROM meta WHERE key = 'repeat_window_days'")
    con.execute("INSERT INTO meta VALUES ('repeat_window_days', ?)", [str(int(window_days))])


def stored_repeat_window(con: duckdb.DuckDBPyConnection) -> int | None:
    row = one(con, "SELECT value FROM meta WHERE key = 'repeat_window_days'")
    return int(row[0]) if row else None
