"""The interchange format's fields, declared once.

Staging SQL (`stage.py`), the contract (`contract.py`), the flattened Parquet/CSV shape and the
JSON Schema in docs/ all follow these declarations; tests check the schema file agrees with them.
"""

from __future__ import annotations

from dataclasses import dataclass

CHANNELS = ("voice", "chat", "whatsapp", "email", "sms", "social")
HANDLERS = ("ai", "human", "hybrid")
OUTCOMES = ("resolved", "unresolved", "escalated", "abandoned", "transferred")
SPEAKERS = ("customer", "ai_agent", "human_agent", "system")
AGENT_SPEAKERS = ("ai_agent", "human_agent")

# RFC 3339 date-time with a UTC offset (T or space between date and time, as RFC 3339 allows).
# Written for both regex engines: [0-9] (Python's \d also takes other scripts' digits) and a final
# `$`, which the contract turns into `\Z` for Great Expectations (Python's `$` also matches before
# a trailing newline; RE2's, in DuckDB, only at the end).
RFC3339 = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
ISO_COUNTRY = r"^[A-Z]{2}$"
BCP47 = r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$"


@dataclass(frozen=True)
class Field:
    """One field of a record.

    `path` is the JSON path in the nested shape (`automation.failed`); `column` the flat name used
    in the warehouse and in Parquet/CSV (`automation_failed`). `kind` is one of string,
    string_or_integer (stored as text), integer, boolean, timestamp, string_list, object.
    """

    path: str
    kind: str
    required: bool = False
    column_name: str | None = None  # when the flat name is not the path with _ for .

    @property
    def column(self) -> str:
        return self.column_name or self.path.replace(".", "_")

    @property
    def json_path(self) -> str:
        return "$." + self.path


CONVERSATION_FIELDS: tuple[Field, ...] = (
    Field("conversation_id", "string", required=True),
    Field("supplier", "string", required=True),
    Field("channel", "string", required=True),
    Field("handler", "string", required=True),
    Field("started_at", "timestamp", required=True),
    Field("ended_at", "timestamp"),
    Field("market", "string"),
    Field("language", "string"),
    Field("journey", "string"),
    Field("agent_ids", "string_list"),
    Field("customer_id", "string"),
    Field("outcome", "string"),
    Field("csat", "integer"),
    Field("automation.failed", "boolean"),
    Field("automation.reason", "string"),
    Field("escalation.requested_at", "timestamp"),
    Field("escalation.handed_off_at", "timestamp"),
    Field("escalation.reason", "string"),
    Field("metadata", "object"),
)

TURN_FIELDS: tuple[Field, ...] = (
    Field("speaker", "string", required=True),
    Field("text", "string", required=True),
    # `at` is a reserved word in DuckDB's SQL: the warehouse calls it sent_at.
    Field("at", "timestamp", column_name="sent_at"),
    Field("kb_article_ids", "string_list"),
    Field("action", "string"),
)

KB_FIELDS: tuple[Field, ...] = (
    Field("article_id", "string", required=True),
    Field("version", "string_or_integer", required=True),
    Field("title", "string", required=True),
    Field("body", "string", required=True),
    Field("updated_at", "timestamp", required=True),
)

# Top-level JSON keys the nested shape knows; anything else goes to `extra`.
CONVERSATION_KEYS = ("turns", "automation", "escalation") + tuple(
    f.path for f in CONVERSATION_FIELDS if "." not in f.path
)
NESTED_OBJECTS = {
    "automation": ("failed", "reason"),
    "escalation": ("requested_at", "handed_off_at", "reason"),
}
TURN_KEYS = tuple(f.path for f in TURN_FIELDS)
KB_KEYS = tuple(f.path for f in KB_FIELDS)

# Flattened turns (Parquet/CSV): these columns link a turn row to its conversation.
TURN_LINK_COLUMNS = ("conversation_id", "turn_index")

KIND_SQL_TYPE = {
    "string": "VARCHAR",
    "string_or_integer": "VARCHAR",
    "integer": "INTEGER",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
    "string_list": "VARCHAR[]",
    "object": "JSON",
}
