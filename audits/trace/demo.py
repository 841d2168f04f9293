"""The demo's trace on the bundled data: a stale KB article found, corrected, its siblings found, verified.

The story, on `data/demo`: version 1 of `kb-card-block` told customers a replacement card arrives in
7 business days; the card supplier had moved to 5, and version 2 (mid-week) says so. A reviewer finds
the first answer that quoted version 1 (detected an hour after the conversation started), a QA lead
confirms it and names the root cause, the KB owner's version 2 is the correction, the blast radius
lists every conversation that cited version 1 while it was live and the customers to contact, and the
recurrence search over the rest of the week finds no answer stating 7 days again, so the finding is
verified and closed. People's steps are recorded with `demo:` actors at times set by the story; the
searches are the real library calls (run by the trace flow in `make demo`). Running it again finds
the finding already there and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from audits.trace.findings import find_findings, get_finding, open_finding, record_event

ARTICLE = "kb-card-block"
HOUR = dt.timedelta(hours=1)


def demo_finding(con: duckdb.DuckDBPyConnection) -> str | None:
    """Open and correct the demo's finding (or find it from an earlier run); None without the demo data."""
    row = con.execute(
        """SELECT k.updated_at, c.supplier, c.conversation_id, t.turn_index, c.started_at
           FROM kb_articles k JOIN turns t ON list_contains(t.kb_article_ids, k.article_id) AND t.sent_at < k.updated_at
           JOIN conversations c USING (supplier, conversation_id)
           WHERE k.article_id = ? AND k.version = '2' AND t.speaker IN ('ai_agent', 'human_agent')
           ORDER BY t.sent_at, c.supplier, c.conversation_id LIMIT 1""",
        [ARTICLE],
    ).fetchall()
    if not row:
        return None
    v2_at, supplier, cid, turn, started = row[0]
    existing = [f for f in find_findings(con, conversation_id=cid) if f.detected_by == "demo:reviewer"]
    if existing:
        return existing[0].finding_id
    fid = open_finding(con, supplier=supplier, conversation_id=cid, kind="wrong_answer", severity="medium",
                       detected_by="demo:reviewer", turn=turn, at=started + HOUR,
                       summary="Told the customer a replacement card takes 7 business days; it takes 5.")  # fmt: skip
    record_event(con, fid, "reviewed", actor="demo:qa-lead", at=started + 2 * HOUR, verdict="confirmed")
    record_event(con, fid, "root_cause", actor="demo:qa-lead", at=started + 2 * HOUR, cause="kb_article",
                 article_id=ARTICLE, version="1", note="version 1 still had the old supplier's delivery time")  # fmt: skip
    record_event(con, fid, "corrected", actor="demo:kb-owner", at=v2_at, new_version="2",
                 approved_by="demo:card-operations-lead")  # fmt: skip
    return fid


def finish_demo_finding(con: duckdb.DuckDBPyConnection, finding_id: str) -> dict[str, Any]:
    """After the flow's searches: the customers contacted (simulated), verified and closed."""
    f = get_finding(con, finding_id)
    if f.state == "customers_listed":
        listed = next(e.details["customers"] for e in reversed(f.events) if e.event == "customers_listed")
        record_event(con, finding_id, "contacted", actor="demo:cx-team (simulated)", at=f.events[-1].at + HOUR,
                     contacted=listed)  # fmt: skip
        f = get_finding(con, finding_id)
    checks = [e for e in f.events if e.event == "recurrence_checked"]
    if f.state == "contacted" and checks and checks[-1].details["recurrences"] == 0:
        at = f.events[-1].at + HOUR
        record_event(con, finding_id, "verified", actor="demo:qa-lead", at=at, recurrences=0,
                     checked_through=checks[-1].details["checked_through"])  # fmt: skip
        record_event(con, finding_id, "closed", actor="demo:qa-lead", at=at + HOUR)
    return get_finding(con, finding_id).to_dict()
