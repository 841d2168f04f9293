"""Automated checks on 100% of conversations (catalogue, configuration, set-based runner).

Each check is a named, versioned unit that gives every conversation an outcome, pass, fail or na
(not applicable), with evidence: the turn number and the text that triggered it.
"""

from __future__ import annotations

# The catalogue's check ids, in report order. A scorecard item's `check:` names one of these.
CHECK_IDS: tuple[str, ...] = (
    "ai_disclosure",  # an AI agent says it is an AI before or in its first turn
    "pii_echo",  # an agent turn repeats personal data (cards with Luhn, emails, phones, national ids)
    "handoff_missed",  # the customer asked for a human and no hand-off followed
    "handoff_sla",  # the hand-off to a human took longer than the SLA
    "bot_loop",  # the agent repeats itself / the customer repeats the request
    "first_response_sla",  # first agent response slower than the channel's SLA
    "identity_before_action",  # an account action without identity verification before it
    "kb_grounded",  # an answer citing a KB article matches that article's version (TF-IDF, numbers)
    "handoff_abandoned",  # the customer left while waiting for a human
    "repeat_contact",  # the same customer came back on the same journey within the window
    "automation_failed",  # the supplier's own record says the automation failed
)
