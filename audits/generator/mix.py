"""Who, where, what: the mix of suppliers, handlers, channels, markets, languages and journeys.

Shares are per row of the condition (a supplier's handlers, a handler's channels, a supplier's
markets, a market's languages); `draws.pick_by` draws from them. Orders follow the tuples here and
`audits.ingest.fields` (CHANNELS, HANDLERS).
"""

from __future__ import annotations

from audits.ingest.fields import HANDLERS

SUPPLIERS = ("northwind-bpo", "lumen-ai", "harbor-cx")
SUPPLIER_SHARE = (0.35, 0.40, 0.25)
HANDLER_MIX = ((0.0, 0.85, 0.15), (0.70, 0.0, 0.30), (0.35, 0.30, 0.35))  # ai, human, hybrid
AI, HUMAN, HYBRID = (HANDLERS.index(h) for h in ("ai", "human", "hybrid"))
BOTS = (("northwind-bot-v1", "Nora"), ("lumen-assist-v3", "Lumi"), ("harbor-bot-v2", "Harper"))
AGENT_POOL = (("nw", 400), ("lm", 40), ("hb", 150))
# voice, chat, whatsapp, email, sms, social (fields.CHANNELS order), per handler
CHANNEL_MIX = (
    (0.05, 0.42, 0.33, 0.03, 0.07, 0.10),
    (0.30, 0.25, 0.17, 0.18, 0.05, 0.05),
    (0.08, 0.40, 0.32, 0.05, 0.05, 0.10),
)
MARKETS = ("SG", "ID", "MY", "PH", "VN", "TH", "AU")
MARKET_MIX = (
    (0.20, 0.05, 0.15, 0.30, 0.03, 0.02, 0.25),
    (0.15, 0.25, 0.10, 0.05, 0.20, 0.20, 0.05),
    (0.20, 0.15, 0.15, 0.15, 0.10, 0.10, 0.15),
)
UTC_OFFSET_MIN = (480, 420, 480, 480, 420, 420, 600)  # AU: Brisbane; Sydney adds an hour in summer
LANGUAGES = ("en", "zh", "id", "ms", "fil", "vi", "th")
LANGUAGE_MIX = (
    (0.75, 0.25, 0, 0, 0, 0, 0),
    (0.05, 0, 0.95, 0, 0, 0, 0),
    (0.35, 0.10, 0, 0.55, 0, 0, 0),
    (0.35, 0, 0, 0, 0.65, 0, 0),
    (0.07, 0, 0, 0, 0, 0.93, 0),
    (0.07, 0, 0, 0, 0, 0, 0.93),
    (1.0, 0, 0, 0, 0, 0, 0),
)
JOURNEYS = (
    "refund", "delivery_status", "card_block", "password_reset",
    "change_address", "cancel_subscription", "billing_dispute",
)  # fmt: skip
JOURNEY_MIX = (0.18, 0.22, 0.10, 0.14, 0.12, 0.10, 0.14)
VERIFY_P = (0.5, 0.2, 1.0, 0.9, 0.8, 0.6, 0.9)  # how often the agent checks identity, per journey
JOURNEY_ACTION = (
    "issue_refund", "track_order", "block_card", "send_reset_link",
    "update_address", "cancel_subscription", "open_dispute",
)  # fmt: skip
# The journey actions that change an account (tracking an order does not): they need identity verified.
ACCOUNT_ACTIONS = frozenset(JOURNEY_ACTION) - {"track_order"}
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 9, 9, 9, 8, 8, 8, 9, 9, 7, 4, 2)
# Gap before a turn, in seconds (low, high), per channel: customer, AI agent, human agent.
GAPS = (
    ((2, 15), (1, 3), (2, 12)),  # voice
    ((5, 120), (1, 5), (10, 90)),  # chat
    ((10, 600), (1, 6), (15, 180)),  # whatsapp
    ((600, 43_200), (30, 300), (1_800, 86_400)),  # email
    ((20, 900), (2, 10), (30, 300)),  # sms
    ((10, 600), (1, 6), (20, 240)),  # social
)
AUTOMATION_REASONS = ("intent_not_recognised", "backend_timeout", "out_of_scope", "authentication_failed")
HANDOFF_REASONS = ("policy_requires_human", "low_confidence", "high_value_request")
AGENT_NAMES = {
    "SG": ("Wei Ling", "Daniel", "Priya", "Marcus"), "ID": ("Putri", "Budi", "Rina", "Agus"),
    "MY": ("Aisyah", "Farid", "Mei Ling", "Kumar"), "PH": ("Maria", "Jomar", "Angelica", "Paolo"),
    "VN": ("Linh", "Minh", "Thao", "Huy"), "TH": ("Nattaya", "Somchai", "Ploy", "Krit"),
    "AU": ("Chloe", "Liam", "Olivia", "Jack"),
}  # fmt: skip
# CSAT 1..5 (asked in 30% of conversations): resolved, and any other outcome
CSAT = ((0.02, 0.03, 0.10, 0.35, 0.50), (0.45, 0.30, 0.15, 0.07, 0.03))
