"""Findings: one failed answer or other problem in a conversation, walked from detection to correction.

    findings         one row per finding: where it is (supplier, conversation, turn), what it is (kind,
                     severity, summary), who found it, its current state, and what the trace learnt
                     (root cause, the KB article version at fault, the version that corrected it)
    finding_events   its life, one row per event (seq 1 is `detected`); audits.trace.lifecycle says
                     which event may follow which and what each must say

The tables are in audits.trace.store. Finding ids are `F-` and six digits, in order of opening.
Every event is written in one transaction with its entry in the audit log (action
`finding.<event>`, subject the finding id, payload the event's details), so the table and the log
never disagree. The `detected` entry names where and what
but not the summary: a check's evidence quotes the transcript, and the log leaves the warehouse.

A finding opened from a check (`finding_from_check`) takes its turn and summary from the check's
evidence and, for kb_grounded, the cited KB article and the version live when the turn was sent
(the version the check judged the answer against). Opening one for a check failure that already has
a finding (same conversation, check and turn) returns the existing id: nightly runs can re-open
every failure without duplicating any. Its detection time defaults to the end of the check run
that stored the failure (the moment it was detected), not the moment the finding was opened.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb

from audits.auditlog import iso_utc, to_utc
from audits.errors import ConfigError
from audits.trace import kb
from audits.trace.lifecycle import (
    KINDS,
    SEVERITIES,
    SIDE_EVENTS,
    STATES,
    FindingEvent,
    UnknownFinding,
    check_event,
)
from audits.trace.store import COLUMNS, NAMES, Transaction, ensure_tables, load_events, write_event
from audits.warehouse import one, scalar, table_exists

CHECK_KINDS = {
    "kb_grounded": "wrong_answer",
    "handoff_missed": "missed_escalation",
    "handoff_sla": "missed_escalation",
    "handoff_abandoned": "missed_escalation",
    "bot_loop": "bot_loop",
    "pii_echo": "personal_data",
    "identity_before_action": "compliance",
}
DURATIONS = {
    "time_to_review": "reviewed",
    "time_to_correct": "corrected",
    "time_to_contact": "contacted",
    "time_to_verify": "verified",
}


@dataclass
class Finding:
    """A finding's columns, its events in order, and its conversation's start (for durations)."""

    finding_id: str
    supplier: str
    conversation_id: str
    turn: int | None
    kind: str
    severity: str
    detected_by: str
    detected_at: dt.datetime
    state: str
    summary: str | None
    journey: str | None
    customer_id: str | None
    article_id: str | None
    article_version: str | None
    root_cause: str | None
    corrected_version: str | None
    events: list[FindingEvent] = field(default_factory=list)
    conversation_started_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, events and durations included."""
        out = {k: v for k, v in self.__dict__.items() if k != "events"}
        for key in ("detected_at", "conversation_started_at"):
            out[key] = iso_utc(out[key]) if out[key] else None
        return {**out, "events": [e.to_dict() for e in self.events], "durations": durations(self)}


def _name(what: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{what} must be non-empty text, got {value!r}")
    return value.strip()


def _open(
    con: duckdb.DuckDBPyConnection,
    *,
    supplier: str,
    conversation_id: str,
    kind: str,
    severity: str,
    detected_by: str,
    turn: int | None,
    summary: str | None,
    at: dt.datetime | str | None,
    article: tuple[str | None, str | None] = (None, None),
    extra: dict[str, Any] | None = None,
) -> str:
    if kind not in KINDS:
        raise ConfigError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if severity not in SEVERITIES:
        raise ConfigError(f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    detected_by = _name("detected_by", detected_by)
    when = to_utc(at)
    conv = one(
        con,
        "SELECT started_at, n_turns, journey, customer_id FROM conversations WHERE supplier = ? AND conversation_id = ?",
        [supplier, conversation_id],
    )
    if conv is None:
        raise ConfigError(f"no conversation {supplier}/{conversation_id} in the warehouse")
    started, n_turns, journey, customer = conv
    if turn is not None and (
        isinstance(turn, bool) or not isinstance(turn, int) or not 1 <= turn <= (n_turns or 0)
    ):
        raise ConfigError(f"turn {turn!r} is not a turn of {supplier}/{conversation_id} (it has {n_turns})")
    if started is not None and when < started:
        raise ConfigError(
            f"detected at {iso_utc(when)}, before {supplier}/{conversation_id} started ({iso_utc(started)})"
        )
    details = {"supplier": supplier, "conversation_id": conversation_id, "turn": turn, "kind": kind,
               "severity": severity, "detected_by": detected_by, **(extra or {})}  # fmt: skip
    ensure_tables(con)
    with Transaction(con):
        n = scalar(con, "SELECT coalesce(max(CAST(substr(finding_id, 3) AS BIGINT)), 0) + 1 FROM findings")
        finding_id = f"F-{int(n):06d}"
        con.execute(
            f"INSERT INTO findings ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'detected', ?, ?, ?, ?, ?, NULL, NULL)",
            [finding_id, supplier, conversation_id, turn, kind, severity, detected_by, when, summary,
             journey, customer, *article],
        )  # fmt: skip
        write_event(con, finding_id, 1, "detected", when, detected_by, details)
    return finding_id


def open_finding(
    con: duckdb.DuckDBPyConnection,
    *,
    supplier: str,
    conversation_id: str,
    kind: str,
    severity: str,
    detected_by: str,
    turn: int | None = None,
    summary: str | None = None,
    at: dt.datetime | str | None = None,
) -> str:
    """Open a finding on an existing conversation (event `detected`) and return its id."""
    return _open(
        con, supplier=supplier, conversation_id=conversation_id, kind=kind, severity=severity,
        detected_by=detected_by, turn=turn, summary=summary, at=at,
    )  # fmt: skip


def _cited_article(
    con: duckdb.DuckDBPyConnection, supplier: str, conversation_id: str, turn: int | None
) -> tuple[str | None, str | None]:
    """The article a kb_grounded failure is about, and its version live at the turn.

    The first cited article with no live version (the check fails on it), else the first cited."""
    row = one(
        con,
        "SELECT coalesce(t.sent_at, c.started_at), t.kb_article_ids FROM turns t "
        "JOIN conversations c USING (supplier, conversation_id) "
        "WHERE t.supplier = ? AND t.conversation_id = ? AND t.turn_index = ?",
        [supplier, conversation_id, turn],
    )
    if row is None or not row[1]:
        return None, None
    cited: list[tuple[str, str | None]] = []
    for article_id in dict.fromkeys(row[1]):
        try:
            cited.append((article_id, kb.live_version(con, article_id, row[0])))
        except ConfigError:  # not in the KB at all
            cited.append((article_id, None))
    return next((c for c in cited if c[1] is None), cited[0])


def finding_from_check(
    con: duckdb.DuckDBPyConnection,
    supplier: str,
    conversation_id: str,
    check_id: str,
    *,
    severity: str = "high",
    at: dt.datetime | str | None = None,
) -> str:
    """Open (or find) the finding for a failed check result; its kind, turn and summary come from the check."""
    result = (
        one(
            con,
            "SELECT r.outcome, r.check_version, r.turn, r.evidence, k.finished_at FROM check_results r "
            "LEFT JOIN check_runs k USING (run_id) "
            "WHERE r.supplier = ? AND r.conversation_id = ? AND r.check_id = ?",
            [supplier, conversation_id, check_id],
        )
        if table_exists(con, "check_results")
        else None
    )
    if result is None:
        raise ConfigError(
            f"no result of check {check_id!r} for {supplier}/{conversation_id}; run the checks first"
        )
    outcome, version, turn, evidence, checked_at = result
    if outcome != "fail":
        raise ConfigError(
            f"check {check_id} did not fail on {supplier}/{conversation_id} (its outcome is {outcome}); "
            "a finding needs a failure"
        )
    ensure_tables(con)
    existing = scalar(
        con,
        "SELECT finding_id FROM findings WHERE supplier = ? AND conversation_id = ? "
        "AND starts_with(detected_by, ?) AND turn IS NOT DISTINCT FROM ? ORDER BY detected_at, finding_id LIMIT 1",
        [supplier, conversation_id, f"check:{check_id}@", turn],
    )
    if existing is not None:
        return str(existing)
    article = (
        _cited_article(con, supplier, conversation_id, turn) if check_id == "kb_grounded" else (None, None)
    )
    extra: dict[str, Any] = {"check_id": check_id, "check_version": version}
    if check_id == "kb_grounded":
        extra |= {"article_id": article[0], "article_version": article[1]}
    return _open(
        con, supplier=supplier, conversation_id=conversation_id, kind=CHECK_KINDS.get(check_id, "other"),
        severity=severity, detected_by=f"check:{check_id}@{version}", turn=turn, summary=evidence,
        at=at if at is not None else checked_at, article=article, extra=extra,
    )  # fmt: skip


def record_event(
    con: duckdb.DuckDBPyConnection,
    finding_id: str,
    event: str,
    *,
    actor: str,
    at: dt.datetime | str | None = None,
    **details: Any,
) -> None:
    """Record one lifecycle event (checked against the finding's state) and its audit log entry, atomically."""
    actor = _name("actor", actor)
    when = to_utc(at)
    ensure_tables(con)
    with Transaction(con):
        history = load_events(con, [finding_id]).get(finding_id)
        if not history:
            raise UnknownFinding(finding_id)
        clean = check_event(con, finding_id, history, event, when, details)
        write_event(con, finding_id, len(history) + 1, event, when, actor, clean)
        if event not in SIDE_EVENTS:
            con.execute("UPDATE findings SET state = ? WHERE finding_id = ?", [event, finding_id])
        if event == "root_cause" and clean["cause"] == "kb_article":
            con.execute(
                "UPDATE findings SET root_cause = ?, article_id = ?, article_version = ? WHERE finding_id = ?",
                [clean["cause"], clean["article_id"], clean["version"], finding_id],
            )
        elif event == "root_cause":
            con.execute(
                "UPDATE findings SET root_cause = ? WHERE finding_id = ?", [clean["cause"], finding_id]
            )
        if event == "corrected" and "new_version" in clean:
            con.execute(
                "UPDATE findings SET corrected_version = ? WHERE finding_id = ?",
                [clean["new_version"], finding_id],
            )


def _load(con: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> list[Finding]:
    if not table_exists(con, "findings"):
        return []
    cols = ", ".join(f"f.{c}" for c in NAMES)
    rows = con.execute(
        f"SELECT {cols}, c.started_at FROM findings f LEFT JOIN conversations c USING (supplier, conversation_id) "
        f"{where} ORDER BY CAST(substr(f.finding_id, 3) AS BIGINT)",
        params,
    ).fetchall()
    events = load_events(con, [r[0] for r in rows])
    return [
        Finding(
            **dict(zip(NAMES, r[:-1], strict=True)),
            events=events.get(r[0], []),
            conversation_started_at=r[-1],
        )
        for r in rows
    ]


def get_finding(con: duckdb.DuckDBPyConnection, finding_id: str) -> Finding:
    """One finding with its events; UnknownFinding naming the id when there is none."""
    found = _load(con, "WHERE f.finding_id = ?", [finding_id])
    if not found:
        raise UnknownFinding(finding_id)
    return found[0]


def find_findings(
    con: duckdb.DuckDBPyConnection,
    *,
    conversation_id: str | None = None,
    state: str | None = None,
    supplier: str | None = None,
) -> list[Finding]:
    """Findings matching every filter given, in id order, with their events."""
    if state is not None and state not in STATES:
        raise ConfigError(f"unknown state {state!r}; known: {', '.join(STATES)}")
    parts, params = [], []
    for column, value in (("conversation_id", conversation_id), ("state", state), ("supplier", supplier)):
        if value is not None:
            parts.append(f"f.{column} = ?")
            params.append(value)
    return _load(con, "WHERE " + " AND ".join(parts) if parts else "", params)


def durations(finding: Finding) -> dict[str, float | None]:
    """Seconds from the conversation's start to detection, and from detection to each later milestone."""
    first: dict[str, dt.datetime] = {}
    for e in finding.events:
        first.setdefault(e.event, e.at)
    start = finding.conversation_started_at
    out: dict[str, float | None] = {
        "time_to_detect": (finding.detected_at - start).total_seconds() if start else None
    }
    for key, event in DURATIONS.items():
        out[key] = (first[event] - finding.detected_at).total_seconds() if event in first else None
    return out
