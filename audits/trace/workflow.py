"""The trace's steps that search the warehouse, and the dossier of a finding.

search_blast      the blast radius of a corrected finding (blast.py), stored in `finding_blast`
                  (replacing an earlier search of the same finding), then the events
                  blast_radius_searched and customers_listed.
check_recurrence  after the correction, up to `through`, conversations that repeat the error. For a
                  KB article corrected by a new version: an agent turn citing the article that states a
                  figure of the faulty version which the correction no longer states (the old figure,
                  given again). Without such figures: a kb_grounded failure whose failing turn cites the
                  article, on the finding's journey. Otherwise, with an index: answers similar to the
                  failed one, on its journey.
                  Records recurrence_checked (and recurrence_found when there are any).
dossier           everything a contract's walk-through asks for: the finding, its timeline, the
                  durations, the KB diff of the correction, the stored blast radius, and whether the
                  audit log verifies. Text leaving the warehouse is redacted (audits.checks.pii).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from typing import Any

import duckdb

from audits import auditlog
from audits.checks.catalogue import AGENTS, MACROS, NUMBER
from audits.checks.pii import redact
from audits.errors import ConfigError
from audits.trace.blast import BlastRadius, blast_radius
from audits.trace.findings import Finding, find_findings, get_finding, record_event
from audits.trace.kb import get_version, kb_diff
from audits.trace.similar import Index
from audits.warehouse import table_exists

_FIGURE = re.compile(NUMBER)

SCHEMA = """
CREATE TABLE IF NOT EXISTS finding_blast (
    finding_id VARCHAR,
    supplier VARCHAR,
    conversation_id VARCHAR,
    reason VARCHAR,              -- cited_version | similar_answer | both
    turn INTEGER,
    score DOUBLE,                -- similarity (similar answers)
    evidence VARCHAR,            -- the turn's text, clipped
    customer_id VARCHAR,
    started_at TIMESTAMPTZ,
    searched_at TIMESTAMPTZ
);
"""


def _event_at(finding: Finding, event: str) -> dt.datetime | None:
    times = [e.at for e in finding.events if e.event == event]
    return times[-1] if times else None


def search_blast(
    con: duckdb.DuckDBPyConnection,
    finding_id: str,
    *,
    actor: str,
    index: Index | None = None,
    threshold: float = 0.5,
    at: dt.datetime | None = None,
) -> BlastRadius:
    """Search and store the blast radius of a corrected finding; record the two events."""
    finding = get_finding(con, finding_id)
    if finding.state != "corrected":
        raise ConfigError(
            f"finding {finding_id} is {finding.state}: the blast radius is searched once it is corrected"
        )
    if finding.turn is None:
        raise ConfigError(f"finding {finding_id} names no turn: the blast radius starts from the failed turn")
    radius = blast_radius(
        con, supplier=finding.supplier, conversation_id=finding.conversation_id, turn=finding.turn,
        article_id=finding.article_id, article_version=finding.article_version, index=index, threshold=threshold,
    )  # fmt: skip
    when = at or dt.datetime.now(dt.UTC)
    con.execute(SCHEMA)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM finding_blast WHERE finding_id = ?", [finding_id])
        if radius.rows:
            con.executemany(
                "INSERT INTO finding_blast VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[finding_id, r.supplier, r.conversation_id, r.reason, r.turn, r.score, r.evidence, r.customer_id,
                  r.started_at, when] for r in radius.rows],
            )  # fmt: skip
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    record_event(con, finding_id, "blast_radius_searched", actor=actor, at=when,
                 conversations=len(radius.rows), similar=radius.similar)  # fmt: skip
    record_event(con, finding_id, "customers_listed", actor=actor, at=when, customers=len(radius.customers))
    return radius


@dataclass(frozen=True)
class Recurrence:
    """What a recurrence search found after the correction."""

    finding_id: str
    since: dt.datetime
    through: dt.datetime
    conversations: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"finding_id": self.finding_id, "since": auditlog.iso_utc(self.since),
                "through": auditlog.iso_utc(self.through),
                "conversations": [list(c) for c in self.conversations]}  # fmt: skip


def _stale_figures(con: duckdb.DuckDBPyConnection, finding: Finding) -> list[str]:
    """The figures of the faulty KB version that its correction no longer states (empty without one)."""
    if not (finding.article_id and finding.article_version and finding.corrected_version):
        return []
    old, new = (
        get_version(con, finding.article_id, v) for v in (finding.article_version, finding.corrected_version)
    )
    figures = {m.group(0).replace(",", "") for m in _FIGURE.finditer(f"{old.title} {old.body}")}
    kept = {m.group(0).replace(",", "") for m in _FIGURE.finditer(f"{new.title} {new.body}")}
    return sorted(figures - kept)


def check_recurrence(
    con: duckdb.DuckDBPyConnection,
    finding_id: str,
    *,
    actor: str,
    through: dt.datetime | None = None,
    index: Index | None = None,
    threshold: float = 0.5,
    at: dt.datetime | None = None,
) -> Recurrence:
    """Search the conversations after the correction for the same error; record what was found."""
    finding = get_finding(con, finding_id)
    since = _event_at(finding, "corrected")
    if since is None:
        raise ConfigError(
            f"finding {finding_id} is {finding.state}: recurrences are searched after the correction"
        )
    when = at or dt.datetime.now(dt.UTC)
    through = through or when
    found: set[tuple[str, str]] = set()
    stale = _stale_figures(con, finding)
    if stale:  # the error repeated: an answer citing the article states a figure the correction removed
        for stmt in MACROS.split(";"):
            if stmt.strip():
                con.execute(stmt)
        rows = con.execute(
            f"""
            SELECT DISTINCT c.supplier, c.conversation_id
            FROM turns t JOIN conversations c USING (supplier, conversation_id)
            WHERE t.speaker IN {AGENTS} AND list_contains(t.kb_article_ids, ?)
              AND coalesce(t.sent_at, c.started_at) > ? AND coalesce(t.sent_at, c.started_at) <= ?
              AND list_has_any(chk_numbers(t.text), ?::VARCHAR[])
              AND NOT (c.supplier = ? AND c.conversation_id = ?)
            """,
            [finding.article_id, since, through, stale, finding.supplier, finding.conversation_id],
        ).fetchall()
        found |= {(s, c) for s, c in rows}
    elif finding.article_id and table_exists(con, "check_results"):
        rows = con.execute(
            """
            SELECT DISTINCT c.supplier, c.conversation_id
            FROM conversations c
            JOIN check_results r USING (supplier, conversation_id)
            JOIN turns t ON t.supplier = r.supplier AND t.conversation_id = r.conversation_id
                 AND t.turn_index = r.turn
            WHERE r.check_id = 'kb_grounded' AND r.outcome = 'fail'
              AND c.started_at > ? AND c.started_at <= ? AND c.journey IS NOT DISTINCT FROM ?
              AND list_contains(t.kb_article_ids, ?)
              AND NOT (c.supplier = ? AND c.conversation_id = ?)
            """,
            [since, through, finding.journey, finding.article_id, finding.supplier, finding.conversation_id],
        ).fetchall()
        found |= {(s, c) for s, c in rows}
    if index is not None and finding.turn is not None and not finding.article_id:
        (text,) = con.execute(
            "SELECT text FROM turns WHERE supplier = ? AND conversation_id = ? AND turn_index = ?",
            [finding.supplier, finding.conversation_id, finding.turn],
        ).fetchall()[0]
        hits = index.search_table(text, threshold=threshold, after=since, before=through,
                                  exclude=[(finding.supplier, finding.conversation_id)])  # fmt: skip
        con.register("_similar_hits", hits)
        try:  # the hits on the finding's journey, joined in DuckDB
            rows = con.execute(
                "SELECT DISTINCT h.supplier, h.conversation_id FROM _similar_hits h JOIN conversations c "
                "USING (supplier, conversation_id) WHERE c.journey IS NOT DISTINCT FROM ?",
                [finding.journey],
            ).fetchall()
        finally:
            con.unregister("_similar_hits")
        found |= {(s, c) for s, c in rows}
    ordered = tuple(sorted(found))
    if ordered:
        record_event(con, finding_id, "recurrence_found", actor=actor, at=when, count=len(ordered),
                     conversation_ids=[f"{s}/{c}" for s, c in ordered])  # fmt: skip
    record_event(con, finding_id, "recurrence_checked", actor=actor, at=when, recurrences=len(ordered),
                 checked_through=through)  # fmt: skip
    return Recurrence(finding_id, since, through, ordered)


def dossier(con: duckdb.DuckDBPyConnection, key: str) -> dict[str, Any]:
    """The dossier of a finding (`F-...`) or of every finding on a conversation id."""
    findings = [get_finding(con, key)] if key.startswith("F-") else find_findings(con, conversation_id=key)
    if not findings:
        raise ConfigError(f"no finding with id or conversation id {key!r}")
    log = auditlog.verify(con)
    out = []
    for f in findings:
        d = f.to_dict()
        d["summary"] = redact(d["summary"]) if d["summary"] else None
        d["events"] = [{"event": e["event"], "at": e["at"], "actor": e["actor"], "details": e["details"]}
                       for e in d["events"]]  # fmt: skip
        d["kb_diff"] = (
            kb_diff(con, f.article_id, f.article_version, f.corrected_version)
            if f.article_id and f.article_version and f.corrected_version else None
        )  # fmt: skip
        rows = []
        if table_exists(con, "finding_blast"):
            rows = con.execute(
                "SELECT supplier, conversation_id, reason, turn, score, evidence, started_at, customer_id FROM finding_blast "
                "WHERE finding_id = ? ORDER BY started_at, supplier, conversation_id",
                [f.finding_id],
            ).fetchall()
        d["blast_radius"] = [
            {"supplier": s, "conversation_id": c, "reason": r, "turn": t, "score": sc,
             "evidence": redact(ev) if ev else None, "started_at": auditlog.iso_utc(at) if at else None}
            for s, c, r, t, sc, ev, at, _ in rows
        ]  # fmt: skip
        d["customers_to_contact"] = len({r[7] for r in rows if r[7] is not None})
        out.append(d)
    return {"findings": out, "audit_log": {"ok": log.ok, "entries": log.entries, "first_bad_seq": log.first_bad_seq,
                                            "reason": log.reason}}  # fmt: skip


def dossier_html(data: dict[str, Any]) -> str:
    """The dossier as one self-contained HTML page (every value escaped)."""
    e = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Trace dossier</title><style>"
             "body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}"
             "pre{background:#f6f6f6;padding:.5rem;white-space:pre-wrap}</style></head><body>"]  # fmt: skip
    for f in data["findings"]:
        parts.append(
            f"<h1>Finding {e(f['finding_id'])}: {e(f['kind'])} ({e(f['severity'])}), {e(f['state'])}</h1>"
        )
        parts.append(f"<p>Conversation {e(f['supplier'])}/{e(f['conversation_id'])}, turn {e(str(f['turn']))}; "
                     f"detected by {e(f['detected_by'])}.</p>")  # fmt: skip
        if f["summary"]:
            parts.append(f"<pre>{e(f['summary'])}</pre>")
        parts.append(
            "<h2>Timeline</h2><table><tr><th>event</th><th>at</th><th>actor</th><th>details</th></tr>"
        )
        for ev in f["events"]:
            parts.append(f"<tr><td>{e(ev['event'])}</td><td>{e(ev['at'])}</td><td>{e(ev['actor'])}</td>"
                         f"<td>{e(str(ev['details']))}</td></tr>")  # fmt: skip
        parts.append("</table><h2>Durations</h2><table>")
        for name, seconds in f["durations"].items():
            shown = "not reached" if seconds is None else f"{seconds / 3600:.1f} h"
            parts.append(f"<tr><td>{e(name)}</td><td>{e(shown)}</td></tr>")
        parts.append("</table>")
        if f["kb_diff"]:
            parts.append(f"<h2>KB correction</h2><pre>{e(f['kb_diff'])}</pre>")
        parts.append(f"<h2>Blast radius: {len(f['blast_radius'])} conversations, "
                     f"{f['customers_to_contact']} to contact</h2><table><tr><th>conversation</th><th>reason</th>"
                     "<th>turn</th><th>score</th><th>evidence</th></tr>")  # fmt: skip
        for r in f["blast_radius"]:
            score = "" if r["score"] is None else f"{r['score']:.2f}"
            parts.append(f"<tr><td>{e(r['supplier'])}/{e(r['conversation_id'])}</td><td>{e(r['reason'])}</td>"
                         f"<td>{e(str(r['turn']))}</td><td>{score}</td><td>{e(r['evidence'] or '')}</td></tr>")  # fmt: skip
        parts.append("</table>")
    log = data["audit_log"]
    verdict = "verifies" if log["ok"] else f"BROKEN at entry {log['first_bad_seq']}: {log['reason']}"
    parts.append(f"<p>Audit log: {log['entries']} entries, {e(verdict)}.</p></body></html>")
    return "".join(parts)
