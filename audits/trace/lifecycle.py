"""The rules of a finding's life: which event may follow which, and what each event must say.

    detected -> reviewed (verdict confirmed) -> root_cause -> corrected -> blast_radius_searched
             -> customers_listed -> contacted -> verified -> closed
    detected -> reviewed (verdict rejected) -> closed

`detected` is the first event, written by open_finding; it cannot be recorded again.
A finding's state is its last event, except for the two side events, which are recorded without
changing the state. They are allowed from corrected, blast_radius_searched, customers_listed and
contacted:
- recurrence_found (count, conversation_ids): the fault came back after the correction;
- recurrence_checked (recurrences: N): a later search for it found N.
`verified` (recurrences: 0, checked_through) is refused while the latest of these two events is a
recurrence_found, or a recurrence_checked with N > 0.

Details per event (every event may also carry a free-text `note`):
    reviewed               verdict: confirmed | rejected
    root_cause             cause: kb_article | script | routing | training | model; for kb_article
                           article_id and version (an existing version); description (optional)
    corrected              approved_by; for kb_article new_version (a later version of the same
                           article in kb_articles) and description (optional); for other causes
                           description (required)
    blast_radius_searched  conversations, similar (counts)
    customers_listed       customers (count)
    contacted              contacted (count, at most the customers listed)
    verified               recurrences (0), checked_through (after the correction, not after the event)
    recurrence_found       count (>= 1), conversation_ids (1..count ids)
    recurrence_checked     recurrences (count), checked_through (optional)
    closed                 nothing but a note

This module checks; audits.trace.findings writes. Errors: `LifecycleError` (a ConfigError) for an
event not allowed now, naming the state, the event and the events allowed; `ConfigError` naming the
finding, event and detail for bad details.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from audits.auditlog import iso_utc, to_utc
from audits.errors import ConfigError
from audits.trace import kb

KINDS = ("wrong_answer", "missed_escalation", "bot_loop", "personal_data", "compliance", "other")
SEVERITIES = ("low", "medium", "high", "critical")
CAUSES = ("kb_article", "script", "routing", "training", "model")
VERDICTS = ("confirmed", "rejected")
STATES = (
    "detected",
    "reviewed",
    "root_cause",
    "corrected",
    "blast_radius_searched",
    "customers_listed",
    "contacted",
    "verified",
    "closed",
)
SIDE_EVENTS = ("recurrence_found", "recurrence_checked")
EVENTS = STATES + SIDE_EVENTS
SIDE_EVENT_STATES = ("corrected", "blast_radius_searched", "customers_listed", "contacted")
NEXT = {
    "detected": ("reviewed",),
    "root_cause": ("corrected",),
    "corrected": ("blast_radius_searched",),
    "blast_radius_searched": ("customers_listed",),
    "customers_listed": ("contacted",),
    "contacted": ("verified",),
    "verified": ("closed",),
    "closed": (),
}


class LifecycleError(ConfigError):
    """An event that the finding's state does not allow now."""

    def __init__(self, finding_id: str, state: str, event: str, allowed: Sequence[str]):
        self.finding_id = finding_id
        self.state = state
        self.event = event
        self.allowed = tuple(allowed)
        now = ", ".join(self.allowed) if self.allowed else "none, the finding is closed"
        super().__init__(f"{finding_id} is {state}: {event!r} is not allowed now (allowed: {now})")


class UnknownFinding(ConfigError):
    """No finding has this id."""

    def __init__(self, finding_id: str):
        self.finding_id = finding_id
        super().__init__(f"no finding {finding_id!r} in the warehouse")


@dataclass(frozen=True)
class FindingEvent:
    """One event of a finding: its number (1 = detected), name, time, actor and details."""

    seq: int
    event: str
    at: dt.datetime
    actor: str
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {**self.__dict__, "at": iso_utc(self.at)}


def state_of(history: Sequence[FindingEvent]) -> str:
    """The state: the last event that is not a side event."""
    return next(e.event for e in reversed(history) if e.event not in SIDE_EVENTS)


def _last(history: Sequence[FindingEvent], event: str) -> FindingEvent | None:
    return next((e for e in reversed(history) if e.event == event), None)


def allowed_events(history: Sequence[FindingEvent]) -> tuple[str, ...]:
    """The events that may be recorded next."""
    state = state_of(history)
    if state == "reviewed":
        review = _last(history, "reviewed")
        return ("closed",) if review and review.details.get("verdict") == "rejected" else ("root_cause",)
    return NEXT[state] + (SIDE_EVENTS if state in SIDE_EVENT_STATES else ())


class _Details:
    """Reads one event's details, naming the finding, event and key in every error."""

    def __init__(self, finding_id: str, event: str, details: Mapping[str, Any]):
        self.where = f"{finding_id} {event}"
        self.raw = {k: v for k, v in details.items() if v is not None}
        self.out: dict[str, Any] = {}

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.where}: {key}: {message}")

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self.raw.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be non-empty text, got {value!r}")
        self.out[key] = value.strip()
        return value.strip()

    def choice(self, key: str, options: Sequence[str]) -> str:
        value = self.raw.get(key)
        if value not in options:
            raise self.fail(key, f"must be one of {', '.join(options)}, got {value!r}")
        self.out[key] = value
        return str(value)

    def count(self, key: str, *, minimum: int = 0, required: bool = True) -> int | None:
        value = self.raw.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self.fail(key, f"must be a whole number >= {minimum}, got {value!r}")
        self.out[key] = value
        return value

    def time(self, key: str, *, required: bool = True) -> dt.datetime | None:
        if self.raw.get(key) is None and not required:
            return None
        if self.raw.get(key) is None:
            raise self.fail(key, "is required (a time with a time zone)")
        try:
            value = to_utc(self.raw[key], key)
        except ConfigError as exc:  # its message starts with the key
            raise ConfigError(f"{self.where}: {exc}") from exc
        self.out[key] = iso_utc(value)
        return value

    def ids(self, key: str) -> list[str]:
        value = self.raw.get(key)
        if (
            not isinstance(value, list | tuple)
            or not value
            or not all(isinstance(v, str) and v for v in value)
        ):
            raise self.fail(key, f"must be a non-empty list of conversation ids, got {value!r}")
        self.out[key] = list(value)
        return list(value)


Rule = Callable[[duckdb.DuckDBPyConnection, _Details, Sequence[FindingEvent], dt.datetime], None]


def _reviewed(
    con: duckdb.DuckDBPyConnection, d: _Details, h: Sequence[FindingEvent], at: dt.datetime
) -> None:
    d.choice("verdict", VERDICTS)


def _root_cause(
    con: duckdb.DuckDBPyConnection, d: _Details, h: Sequence[FindingEvent], at: dt.datetime
) -> None:
    if d.choice("cause", CAUSES) == "kb_article":
        article, version = d.text("article_id"), d.raw.get("version")
        if version is None or not str(version).strip():
            raise d.fail("version", "is required when the cause is a KB article")
        d.out["version"] = kb.get_version(con, str(article), str(version).strip()).version
    d.text("description", required=False)


def _corrected(
    con: duckdb.DuckDBPyConnection, d: _Details, h: Sequence[FindingEvent], at: dt.datetime
) -> None:
    d.text("approved_by")
    cause = _last(h, "root_cause")
    assert cause is not None  # corrected only follows root_cause
    if cause.details["cause"] != "kb_article":
        d.text("description")
        return
    d.text("description", required=False)
    article, old = cause.details["article_id"], cause.details["version"]
    new = d.raw.get("new_version")
    if new is None or not str(new).strip():
        raise d.fail("new_version", f"is required: the version of {article} that corrects v{old}")
    was, now = kb.get_version(con, article, old), kb.get_version(con, article, str(new).strip())
    if now.rank <= was.rank:
        raise d.fail("new_version", f"{article} v{now.version} is not a later version than v{was.version}")
    d.out["new_version"] = now.version


def _blast(con: duckdb.DuckDBPyConnection, d: _Details, h: Sequence[FindingEvent], at: dt.datetime) -> None:
    d.count("conversations")
    d.count("similar")


def _customers(
    con: duckdb.DuckDBPyConnection, d: _Details, h: Sequence[FindingEvent], at: dt.datetime
) -> None:
    d.count("customers")


def _contacted(
    con: duckdb.DuckDBPyConnection, d: _Details, h: Sequence[FindingEvent], at: dt.datetime
) -> None:
    listed = _last(h, "customers_listed")
    customers = int(listed.details["customers"]) if listed else 0
    if (d.count("contacted") or 0) > customers:
        raise d.fail("contacted", f"{d.raw['contacted']} is more than the {customers} customers listed")


def _verified(
    con: duckdb.DuckDBPyConnection, d: _Details, h: Sequence[FindingEvent], at: dt.datetime
) -> None:
    last = next((e for e in reversed(h) if e.event in SIDE_EVENTS), None)
    if last is not None and (last.event == "recurrence_found" or last.details["recurrences"] > 0):
        seen = last.details["count"] if last.event == "recurrence_found" else last.details["recurrences"]
        raise d.fail(
            "recurrences",
            f"the latest recurrence search ({last.event} at {iso_utc(last.at)}) found {seen}; "
            "record a recurrence_checked with recurrences 0 first",
        )
    if d.count("recurrences") != 0:
        raise d.fail("recurrences", f"must be 0 to verify, got {d.raw['recurrences']}")
    through = d.time("checked_through")
    corrected = _last(h, "corrected")
    assert corrected is not None and through is not None
    if not corrected.at < through <= at:
        raise d.fail(
            "checked_through",
            f"{iso_utc(through)} must be after the correction ({iso_utc(corrected.at)}) "
            f"and not after the event ({iso_utc(at)})",
        )


def _found(con: duckdb.DuckDBPyConnection, d: _Details, h: Sequence[FindingEvent], at: dt.datetime) -> None:
    count = d.count("count", minimum=1) or 0
    if len(d.ids("conversation_ids")) > count:
        raise d.fail("conversation_ids", f"lists more conversations than the count ({count})")


def _checked(con: duckdb.DuckDBPyConnection, d: _Details, h: Sequence[FindingEvent], at: dt.datetime) -> None:
    d.count("recurrences")
    d.time("checked_through", required=False)


def _nothing(con: duckdb.DuckDBPyConnection, d: _Details, h: Sequence[FindingEvent], at: dt.datetime) -> None:
    return None


KEYS = {
    "reviewed": ("verdict",),
    "root_cause": ("cause", "article_id", "version", "description"),
    "corrected": ("approved_by", "new_version", "description"),
    "blast_radius_searched": ("conversations", "similar"),
    "customers_listed": ("customers",),
    "contacted": ("contacted",),
    "verified": ("recurrences", "checked_through"),
    "recurrence_found": ("count", "conversation_ids"),
    "recurrence_checked": ("recurrences", "checked_through"),
    "closed": (),
}
RULES: dict[str, Rule] = {
    "reviewed": _reviewed,
    "root_cause": _root_cause,
    "corrected": _corrected,
    "blast_radius_searched": _blast,
    "customers_listed": _customers,
    "contacted": _contacted,
    "verified": _verified,
    "recurrence_found": _found,
    "recurrence_checked": _checked,
    "closed": _nothing,
}


def check_event(
    con: duckdb.DuckDBPyConnection,
    finding_id: str,
    history: Sequence[FindingEvent],
    event: str,
    at: dt.datetime,
    details: Mapping[str, Any],
) -> dict[str, Any]:
    """The event's details, checked and normalised; raises when the event may not be recorded now."""
    if event not in EVENTS:
        raise ConfigError(f"{finding_id}: unknown event {event!r}; known: {', '.join(EVENTS)}")
    allowed = allowed_events(history)
    if event not in allowed:
        raise LifecycleError(finding_id, state_of(history), event, allowed)
    last = history[-1]
    if at < last.at:
        raise ConfigError(
            f"{finding_id} {event}: at {iso_utc(at)} is before the finding's last event "
            f"({last.event} at {iso_utc(last.at)}); times may not go backwards"
        )
    d = _Details(finding_id, event, details)
    RULES[event](con, d, history, at)
    d.text("note", required=False)
    unknown = sorted(set(d.raw) - set(d.out))
    if unknown:
        takes = ", ".join((*KEYS[event], "note"))
        raise d.fail(unknown[0], f"is not a detail of {event} with these details (it takes: {takes})")
    return d.out
