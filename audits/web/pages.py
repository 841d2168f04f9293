"""What the review page shows, read from the warehouse through the scoring library.

Every function takes the signed-in `User` and applies the access rules before it reads anything
keyed by a supplier: a buyer auditor's queries are limited to their supplier, and an item outside
what the user may see raises `NotFound` (the page answers 404 with no detail, exactly as for an id
that does not exist, so a guessed URL tells nothing).

- reviewer: their own assignments; a conversation only when it is assigned to them, read through
  `reviewer_view` (blind: other reviewers' answers only after their own submission).
- qa_lead: every queue and conversation (read-only unless also assigned), disputes, calibration.
- buyer_auditor: read-only, one supplier; transcripts and evidence with personal data masked.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import duckdb

from audits.checks.pii import redact
from audits.errors import ConfigError
from audits.evidence.redact import Redactor, tagged_names
from audits.scoring import list_disputes, queue, reviewer_view
from audits.scoring.answers import allowed_values, pinned_scorecard
from audits.scoring.prefill import prefills
from audits.scoring.tables import has_scoring_tables, rows_as_dicts
from audits.trace.kb import KB_VERSIONS_SQL
from audits.warehouse import one, table_exists
from audits.web.auth import User


class NotFound(Exception):
    """The item does not exist or the user may not see it (the two are not told apart)."""


class Forbidden(Exception):
    """The user's role may not do this."""


# ------------------------------------------------------------------------------------------- queue


def queue_page(con: duckdb.DuckDBPyConnection, user: User, draw_id: str | None = None) -> dict[str, Any]:
    """Items and progress per reviewer and per draw, as the user may see them."""
    if user.is_buyer:
        report = queue(con, draw_id=draw_id)
        items = [i for i in report.items if i["supplier"] == user.supplier]
        return {"items": items, "by_reviewer": _progress(items, "reviewer"),
                "by_draw": _progress(items, "draw_id"), "scope": f"supplier {user.supplier}"}  # fmt: skip
    report = queue(con, reviewer=None if user.is_lead else user.name, draw_id=draw_id)
    by_draw = report.by_draw
    if not user.is_lead:  # a reviewer's own share of each draw
        by_draw = _progress(report.items, "draw_id")
    return {"items": report.items, "by_reviewer": report.by_reviewer, "by_draw": by_draw,
            "scope": "all reviewers" if user.is_lead else f"reviewer {user.name}"}  # fmt: skip


def _progress(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Assigned, submitted and open counts per `key` over a list of queue items."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:  # over the visible queue items
        groups[item[key]].append(item)
    out = []
    for k in sorted(groups):
        rows = groups[k]
        done = sum(1 for r in rows if r["status"] == "submitted")
        out.append({key: k, "assigned": len(rows), "submitted": done, "open": len(rows) - done,
                    "progress": round(done / len(rows), 4)})  # fmt: skip
    return out


# ------------------------------------------------------------------------------------ conversation


def _assigned_role(
    con: duckdb.DuckDBPyConnection, draw_id: str, supplier: str, cid: str, reviewer: str
) -> str | None:
    if not has_scoring_tables(con):
        return None
    row = one(
        con,
        "SELECT role FROM review_assignments WHERE draw_id = ? AND supplier = ? AND conversation_id = ? "
        "AND reviewer = ?",
        [draw_id, supplier, cid, reviewer],
    )
    return None if row is None else str(row[0])


def conversation_page(
    con: duckdb.DuckDBPyConnection, user: User, draw_id: str, supplier: str, cid: str
) -> dict[str, Any]:
    """The transcript, the checks' evidence per turn, the cited KB versions, the form or the reviews."""
    if not user.may_see_supplier(supplier):
        raise NotFound
    role = _assigned_role(con, draw_id, supplier, cid, user.name)
    if role is not None and not user.is_buyer:
        view = reviewer_view(con, draw_id, supplier, cid, user.name)
        data: dict[str, Any] = {
            "mode": "review", "role": view.role, "status": view.status, "scorecard": view.scorecard,
            "conversation": view.conversation, "turns": view.turns, "prefill": view.prefill,
            "own_reviews": view.own_reviews, "others": view.others,
        }  # fmt: skip
    elif user.is_lead or user.is_buyer:
        data = _read_only(con, draw_id, supplier, cid)
    else:
        raise NotFound
    data.update(draw_id=draw_id, supplier=supplier, conversation_id=cid)
    checks = _check_results(con, supplier, cid)
    masked = user.is_buyer
    red = Redactor(tagged_names(con, [(supplier, cid)])) if masked else None
    if (
        red is not None
    ):  # names tagged on the conversation go too, in the transcript and in reviewers' comments
        _mask_for_buyer(data, red)
    data["turns"] = _annotate_turns(data["turns"], checks, masked)
    data["checks"] = [c | {"evidence": _mask(c["evidence"], True)} for c in checks]
    data["kb"] = _kb_cited(con, supplier, cid)
    data["masked"] = masked
    data["disputes"] = [d for d in list_disputes(con, draw_id=draw_id)
                        if d["supplier"] == supplier and d["conversation_id"] == cid]  # fmt: skip
    if red is not None:
        data["disputes"] = [d | {k: red(d.get(k)) for k in ("reason", "note")} for d in data["disputes"]]
    data["counting_review"] = _counting_review(con, draw_id, supplier, cid)
    if data["mode"] == "review" and data["role"] != "primary" and data["others"] is None:
        data["disputes"] = []  # a blind calibration rater learns nothing of the primary review
        data["counting_review"] = None
    if data["scorecard"] is not None:
        data["items"] = _form_items(
            data["scorecard"], data.get("prefill") or {}, data.get("own_reviews") or []
        )
    return data


def _read_only(con: duckdb.DuckDBPyConnection, draw_id: str, supplier: str, cid: str) -> dict[str, Any]:
    """A lead's or buyer's view of a drawn conversation: transcript and current reviews, no form."""
    if (
        not table_exists(con, "draw_items")
        or one(
            con,
            "SELECT 1 FROM draw_items WHERE draw_id = ? AND supplier = ? AND conversation_id = ?",
            [draw_id, supplier, cid],
        )
        is None
    ):
        raise NotFound
    conv = rows_as_dicts(con.execute(
        "SELECT channel, handler, market, language, journey, started_at, ended_at, outcome, csat "
        "FROM conversations WHERE supplier = ? AND conversation_id = ?", [supplier, cid]))  # fmt: skip
    if not conv:
        raise NotFound
    turns = rows_as_dicts(con.execute(
        "SELECT turn_index, speaker, text, sent_at, kb_article_ids, action FROM turns "
        "WHERE supplier = ? AND conversation_id = ? ORDER BY turn_index", [supplier, cid]))  # fmt: skip
    reviews: list[dict[str, Any]] = []
    card = None
    if has_scoring_tables(con):
        reviews = rows_as_dicts(con.execute(
            "SELECT r.review_id, r.reviewer, r.role, r.score, r.passed, r.submitted_at, r.scorecard_id, "
            "r.scorecard_version, list({'item_id': a.item_id, 'value': a.value, 'prefilled': a.prefilled, "
            "'overridden': a.overridden, 'comment': a.comment}) AS answers FROM reviews r "
            "LEFT JOIN review_answers a ON a.review_id = r.review_id WHERE r.draw_id = ? AND r.supplier = ? "
            "AND r.conversation_id = ? AND r.superseded_by IS NULL GROUP BY ALL ORDER BY r.review_id",
            [draw_id, supplier, cid]))  # fmt: skip
        for r in reviews:
            r["answers"] = {a["item_id"]: a for a in r["answers"] if a["item_id"] is not None}
        pin = one(con, "SELECT scorecard_id, scorecard_version FROM review_assignments WHERE draw_id = ? "
                  "AND supplier = ? AND conversation_id = ? ORDER BY role DESC LIMIT 1",
                  [draw_id, supplier, cid])  # fmt: skip
        if pin is not None:
            card = pinned_scorecard(con, pin[0], pin[1])
    pre = prefills(con, {(supplier, cid): card}).get((supplier, cid), {}) if card is not None else {}
    return {"mode": "read", "role": None, "status": None, "scorecard": card, "conversation": conv[0],
            "turns": turns, "prefill": pre, "own_reviews": [], "others": reviews}  # fmt: skip


def _counting_review(con: duckdb.DuckDBPyConnection, draw_id: str, supplier: str, cid: str) -> int | None:
    if not has_scoring_tables(con):
        return None
    row = one(
        con,
        "SELECT max(review_id) FROM reviews WHERE draw_id = ? AND supplier = ? AND conversation_id = ? "
        "AND role IN ('primary', 'dispute') AND superseded_by IS NULL",
        [draw_id, supplier, cid],
    )
    return None if row is None or row[0] is None else int(row[0])


def _check_results(con: duckdb.DuckDBPyConnection, supplier: str, cid: str) -> list[dict[str, Any]]:
    """The latest version of every check's results for the conversation, failures first."""
    if not table_exists(con, "check_results"):
        return []
    return rows_as_dicts(con.execute(
        "SELECT check_id, check_version, outcome, turn, evidence FROM check_results "
        "WHERE supplier = ? AND conversation_id = ? QUALIFY dense_rank() OVER (PARTITION BY check_id "
        "ORDER BY try_cast(check_version AS BIGINT) DESC NULLS LAST, check_version DESC) = 1 "
        "ORDER BY CASE outcome WHEN 'fail' THEN 0 WHEN 'pass' THEN 1 ELSE 2 END, check_id, turn",
        [supplier, cid]))  # fmt: skip


def _mask_for_buyer(data: dict[str, Any], red: Redactor) -> None:
    """Personal data and tagged names out of the turns and of every review comment a buyer would see."""
    data["turns"] = [t | {"text": red(t.get("text"))} for t in data["turns"]]
    for review in data.get("others") or []:  # the conversation's current reviews, a few
        for answer in review.get("answers", {}).values():
            answer["comment"] = red(answer.get("comment"))


def _mask(text: Any, masked: bool) -> Any:
    if text is None or not masked:
        return text
    return redact(str(text))


def _annotate_turns(
    turns: list[dict[str, Any]], checks: list[dict[str, Any]], masked: bool
) -> list[dict[str, Any]]:
    """Each turn with its checks and its text split into (text, highlighted) parts around the evidence.

    The parts are plain strings: the template escapes them, so highlighting never builds HTML.
    """
    by_turn: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for c in checks:  # the conversation's check rows (a dozen)
        if c["turn"] is not None and c["outcome"] in ("fail", "pass"):
            by_turn[int(c["turn"])].append(c)
    out = []
    for t in turns:  # the conversation's turns
        text = _mask(t["text"], masked) or ""
        marks = by_turn.get(int(t["turn_index"]), [])
        spans = []
        for c in marks:
            ev = _mask(c["evidence"], masked)
            if ev:
                pos = text.find(ev)
                if pos < 0 and ": " in ev:  # "first reply after 6 s (SLA 60 s): <quoted text>"
                    ev = ev.split(": ", 1)[1]
                    pos = text.find(ev)
                if pos >= 0 and ev:
                    spans.append((pos, pos + len(ev), c["outcome"]))
        parts = _split(text, spans)
        out.append(t | {"text": text, "parts": parts, "checks": marks,
                        "failed": any(c["outcome"] == "fail" for c in marks)})  # fmt: skip
    return out


def _split(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, str | None]]:
    """(piece, outcome or None) pieces of `text`; overlapping spans merge into the first."""
    parts: list[tuple[str, str | None]] = []
    at = 0
    for start, end, outcome in sorted(spans):
        if start < at:
            continue
        if start > at:
            parts.append((text[at:start], None))
        parts.append((text[start:end], outcome))
        at = end
    if at < len(text):
        parts.append((text[at:], None))
    return parts


def _kb_cited(con: duckdb.DuckDBPyConnection, supplier: str, cid: str) -> list[dict[str, Any]]:
    """Each KB article a turn cited, with the version live when the turn was sent, and later versions."""
    if not table_exists(con, "kb_articles"):
        return []
    return rows_as_dicts(con.execute(
        f"""
        WITH cited AS (
            SELECT t.turn_index, unnest(t.kb_article_ids) AS article_id,
                   coalesce(t.sent_at, c.started_at) AS at
            FROM turns t JOIN conversations c USING (supplier, conversation_id)
            WHERE t.supplier = ? AND t.conversation_id = ? AND len(t.kb_article_ids) > 0
        ), v AS ({KB_VERSIONS_SQL})
        SELECT cited.turn_index, cited.article_id, v.version, v.title, v.body, v.valid_from, v.valid_to,
               (SELECT count(*) FROM v AS later WHERE later.article_id = cited.article_id
                AND later.rank > v.rank) AS later_versions
        FROM cited LEFT JOIN v ON v.article_id = cited.article_id AND v.valid_from <= cited.at
             AND (v.valid_to IS NULL OR cited.at < v.valid_to)
        ORDER BY cited.turn_index, cited.article_id
        """,
        [supplier, cid]))  # fmt: skip


def _form_items(card: Any, prefill: dict[str, Any], own: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scorecard items with their allowed values, the check's proposal and the current answer."""
    current = next((r for r in own if r.get("current")), None)
    out = []
    for section in card.sections:
        for item in section.items:
            p = prefill.get(item.id)
            mine = current["answers"].get(item.id) if current else None
            chosen = mine["value"] if mine else (p.value if p is not None else None)
            out.append({"section": section.title, "item": item, "values": allowed_values(item),
                        "prefill": p, "chosen": chosen, "comment": (mine or {}).get("comment") or ""})  # fmt: skip
    return out


def parse_form(card: Any, form: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """answers and comments from the posted form fields `item:<id>` and `comment:<id>`."""
    answers = {i.id: form[f"item:{i.id}"] for i in card.items if form.get(f"item:{i.id}")}
    comments = {
        i.id: form[f"comment:{i.id}"] for i in card.items if (form.get(f"comment:{i.id}") or "").strip()
    }
    return answers, comments


# ---------------------------------------------------------------------------------------- disputes


def disputes_page(con: duckdb.DuckDBPyConnection, user: User, status: str | None) -> list[dict[str, Any]]:
    """Disputes the user may see: a buyer's supplier only; a reviewer not on items they still hold blind."""
    rows = list_disputes(con, status=status or None)
    if user.is_buyer:
        return [d for d in rows if d["supplier"] == user.supplier]
    if user.is_lead:
        return rows
    blind = set()
    if has_scoring_tables(con):
        blind = {tuple(r) for r in con.execute(
            "SELECT draw_id, supplier, conversation_id FROM review_assignments WHERE reviewer = ? AND status = 'open'",
            [user.name]).fetchall()}  # fmt: skip
    return [d for d in rows if (d["draw_id"], d["supplier"], d["conversation_id"]) not in blind]


def dispute_detail(con: duckdb.DuckDBPyConnection, user: User, dispute_id: int) -> dict[str, Any]:
    """One dispute with the disputed review's answers and its scorecard (for the resolve form)."""
    found = [d for d in disputes_page(con, user, None) if d["dispute_id"] == dispute_id]
    if not found:
        raise NotFound
    d = found[0]
    review = rows_as_dicts(con.execute(
        "SELECT scorecard_id, scorecard_version FROM reviews WHERE review_id = ?", [d["review_id"]]))[0]  # fmt: skip
    card = pinned_scorecard(con, review["scorecard_id"], review["scorecard_version"])
    answers = dict(con.execute(
        "SELECT item_id, value FROM review_answers WHERE review_id = ?", [d["review_id"]]).fetchall())  # fmt: skip
    items = [{"item": i, "values": allowed_values(i), "chosen": answers.get(i.id)} for i in card.items]
    return {"dispute": d, "scorecard": card, "items": items, "answers": answers}


# ------------------------------------------------------------------------------------- calibration


def calibration_page(con: duckdb.DuckDBPyConnection, user: User, draw_id: str | None) -> dict[str, Any]:
    """Agreement per item (audits.calibrate) and each calibration item's answers side by side."""
    from audits.calibrate import calibrate  # noqa: PLC0415

    if not user.is_lead:
        raise Forbidden
    draws = []
    if has_scoring_tables(con):
        draws = [r[0] for r in con.execute(
            "SELECT DISTINCT draw_id FROM review_assignments ORDER BY 1").fetchall()]  # fmt: skip
    try:
        stats: dict[str, Any] | None = calibrate(con, draw_id=draw_id or None)
        error = None
    except ConfigError as exc:
        stats, error = None, str(exc)
    side: list[dict[str, Any]] = []
    if has_scoring_tables(con):
        rows = con.execute(
            "WITH multi AS (SELECT draw_id, supplier, conversation_id FROM reviews WHERE superseded_by IS NULL "
            "AND role IN ('primary', 'calibration') AND ($d::VARCHAR IS NULL OR draw_id = $d::VARCHAR) "
            "GROUP BY ALL HAVING count(DISTINCT reviewer) >= 2) "
            "SELECT r.draw_id, r.supplier, r.conversation_id, r.reviewer, r.role, r.scorecard_id, "
            "r.scorecard_version, a.item_id, a.value, a.comment FROM reviews r SEMI JOIN multi USING "
            "(draw_id, supplier, conversation_id) JOIN review_answers a USING (review_id) "
            "WHERE r.superseded_by IS NULL AND r.role IN ('primary', 'calibration') ORDER BY ALL",
            {"d": draw_id or None},
        ).fetchall()
        grouped: dict[tuple[str, str, str], dict[str, Any]] = {}
        for d, s, c, reviewer, role, sid, sv, item, value, comment in rows:  # calibration answers
            g = grouped.setdefault((d, s, c), {"draw_id": d, "supplier": s, "conversation_id": c,
                                               "scorecard": f"{sid}@{sv}", "reviewers": [], "items": {}})  # fmt: skip
            label = f"{reviewer} ({role})"
            if label not in g["reviewers"]:
                g["reviewers"].append(label)
            g["items"].setdefault(item, {})[label] = (value, comment)
        for g in grouped.values():
            g["rows"] = [{"item": k, "answers": [v.get(r) for r in g["reviewers"]],
                          "differ": len({a[0] for a in v.values()}) > 1 or len(v) < len(g["reviewers"])}
                         for k, v in g["items"].items()]  # fmt: skip
            g["disagreements"] = sum(1 for r in g["rows"] if r["differ"])
        side = sorted(
            grouped.values(), key=lambda g: (-g["disagreements"], g["supplier"], g["conversation_id"])
        )
    return {"stats": stats, "error": error, "side": side, "draws": draws, "draw_id": draw_id}
