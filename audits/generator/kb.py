"""The knowledge base: two articles per journey, some with a second version that changed the figure.

The first article of each journey has a version 2 that went live before the window ("before") or
from its middle ("mid", midnight at +08:00 on day `days // 2`). After a mid-window version 2, planted
contradictions may state version 1's figure (stale_version), except for CLEAN_CORRECTIONS. An agent's answer states the figure
of the version live at the time of the turn, unless a KB contradiction is planted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from audits.generator.clock import stamps
from audits.generator.draws import choice


@dataclass(frozen=True)
class Article:
    """A KB article: its figure per version (`values[0]` is version 1) and when version 2 went live."""

    article_id: str
    journey: str
    title: str
    body: str  # with {v} where the figure goes
    values: tuple[str, ...]
    v2: str | None = None  # "before" the window or "mid" window

    def numbers(self, version: int | None = None) -> set[str]:
        """The numbers an article version states (all versions with None)."""
        vals = self.values if version is None else (self.values[version - 1],)
        return {n for v in vals for n in v.split("-")}


ARTICLES = (
    Article("kb-refund-window", "refund", "Refund eligibility window", "Customers can request a refund within {v} days of delivery. Items must be unused and in their original packaging.", ("14", "30"), "mid"),
    Article("kb-refund-processing", "refund", "Refund processing time", "Approved refunds reach the original payment method within {v} business days.", ("5-10",)),
    Article("kb-delivery-times", "delivery_status", "Standard delivery times", "Standard delivery takes {v} business days from dispatch. Express delivery is offered at checkout.", ("3-5", "5-7"), "before"),
    Article("kb-delivery-tracking", "delivery_status", "Tracking updates", "Tracking information can take up to {v} hours to appear after dispatch.", ("24",)),
    Article("kb-card-block", "card_block", "Blocking a lost or stolen card", "Block the card at once in the app or with an agent. A replacement card arrives within {v} business days.", ("7", "5"), "mid"),
    Article("kb-card-freeze", "card_block", "Freezing a card temporarily", "A card can be frozen and unfrozen in the app; the change takes effect within {v} minutes.", ("10",)),
    Article("kb-reset-link", "password_reset", "Password reset links", "A password reset link is sent to the registered email and stays valid for {v} minutes.", ("30", "15"), "before"),
    Article("kb-account-lockout", "password_reset", "Account lockout", "After too many failed sign-in attempts the account is locked for {v} hours for security.", ("24",)),
    Article("kb-address-change", "change_address", "Changing a delivery address", "The delivery address of an order can be changed up to {v} hours before dispatch.", ("12", "24"), "before"),
    Article("kb-address-billing", "change_address", "Updating a billing address", "A billing address update takes effect within {v} business days.", ("2",)),
    Article("kb-cancel-notice", "cancel_subscription", "Cancelling a subscription", "A subscription can be cancelled at any time with {v} days' notice before the next billing date.", ("30", "14"), "before"),
    Article("kb-cancel-refund", "cancel_subscription", "Refunds after cancellation", "Any unused part of a prepaid period is refunded pro rata within {v} days.", ("10",)),
    Article("kb-dispute-window", "billing_dispute", "Disputing a charge", "A charge can be disputed within {v} days of the statement date.", ("60", "90"), "mid"),
    Article("kb-dispute-resolution", "billing_dispute", "Dispute investigation", "Disputes are investigated and resolved within {v} business days; a provisional credit may apply.", ("45",)),
)  # fmt: skip


def _distractors(article: Article) -> tuple[str, ...]:
    """Figures sharing no number with any version of the article: what a contradiction states."""
    pool = (
        ("1-2", "2-3", "7-10", "10-14")
        if "-" in article.values[0]
        else ("3", "7", "21", "45", "48", "60", "90")
    )
    return tuple(v for v in pool if not set(v.split("-")) & article.numbers())


DISTRACTORS = tuple(_distractors(a) for a in ARTICLES)
# Articles whose correction (version 2) agents picked up at once: no answer states version 1's figure
# after version 2 went live, so a trace of version 1's error can be verified (the demo's trace).
CLEAN_CORRECTIONS = frozenset({"kb-card-block"})


def version2_times(epoch0: int, days: int) -> list[int | None]:
    """When each article's version 2 went live (UTC epoch seconds), or None for a single version."""
    mid = epoch0 + (days // 2) * 86_400 - 8 * 3600  # midnight at +08:00
    return [None if a.v2 is None else (mid if a.v2 == "mid" else epoch0 - 20 * 86_400) for a in ARTICLES]


def kb_lines(epoch0: int, v2_at: list[int | None]) -> list[str]:
    """The KB: every version of every article, as JSON lines (version 1 dates from 240 days before)."""
    lines = []
    for a, v2 in zip(ARTICLES, v2_at, strict=True):
        for version, value in enumerate(a.values, start=1):
            at = epoch0 - 240 * 86_400 + 3600 if version == 1 else v2
            rec = {"article_id": a.article_id, "version": str(version), "title": a.title,
                   "body": a.body.format(v=value), "updated_at": stamps([at], np.array([8 * 3600]))[0]}  # fmt: skip
            lines.append(json.dumps(rec, ensure_ascii=False))
    return lines


def stated_figure(
    a: int, t: int, planted: bool, v2_at: list[int | None], u: Any
) -> tuple[str, dict[str, Any] | None]:
    """The figure an answer from article `a` states at time `t`: the live version's, or a planted
    contradiction (version 1's figure once version 2 is live, or a figure in no version) with its
    ground-truth detail."""
    art = ARTICLES[a]
    v2 = v2_at[a]
    live = 2 if v2 is not None and t >= v2 else 1
    stated, detail = art.values[live - 1], None
    if planted:
        kind = "stale_version" if live == 2 and u() < 0.6 else "wrong_figure"
        if kind == "stale_version" and art.article_id in CLEAN_CORRECTIONS:
            kind, stated = "wrong_figure", DISTRACTORS[a][0]  # no draw: the rest of the data is unchanged
        else:
            stated = art.values[0] if kind == "stale_version" else choice(DISTRACTORS[a], u)
        detail = {"article_id": art.article_id, "version": str(live), "stated": stated,
                  "article_says": art.values[live - 1], "type": kind}  # fmt: skip
    return stated, detail
