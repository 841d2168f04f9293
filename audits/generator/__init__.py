"""Synthetic customer-support conversations with planted edge cases, and their ground truth.

    generate(out_dir, conversations=3000, seed=7)  -> GenerationSummary

Writes, in `out_dir`, conversations in the interchange format (`conversations.jsonl[.gz]`, or the
flattened pair `conversations.conversations.parquet` + `conversations.turns.parquet`), the KB
(`kb_articles.jsonl`), one ground-truth line per planted (conversation, kind)
(`_ground_truth.jsonl`) and the counts (`_ground_truth_summary.json`); loading the folder skips
the files whose names start with `_`.

Deterministic: the same arguments write the same bytes (numpy generators seeded from `seed`, no
clock). Conversations are made in chunks of 50,000: per-chunk attributes are drawn with numpy, the
turns of each conversation come from a short plan of tokens rendered from phrase tables in the
conversation's language. Each planted kind is drawn per conversation at its rate; a conversation
without a kind never shows that kind's symptom (no accidental loops, echoes, stale figures or
repeat contacts), so the ground truth is exact in both directions. Two kinds are not planted at a
rate but recorded wherever they happen (`OBSERVED`): an AI greeting without the AI disclosure and
an account action without identity verification; the summary counts them under `observed`.

Modules: mix (who, where, what), phrases (the phrase tables), kb (articles and versions), pii
(personal data), plant (edge-case flags, repeat contacts, customers), plan (a conversation's
turns as tokens), conversation (drawing and rendering a chunk), writers (JSONL, gzip, Parquet),
core (`generate`), with clock and draws as helpers.
"""

from __future__ import annotations

from audits.generator.core import DEFAULT_START, GENERATOR_VERSION, GenerationSummary, generate
from audits.generator.kb import ARTICLES
from audits.generator.mix import ACCOUNT_ACTIONS, BOTS
from audits.generator.phrases import ASK_HUMAN_PHRASES, PHRASES
from audits.generator.pii import luhn_valid, nric_checksum
from audits.generator.plant import DEFAULT_RATES, KINDS, OBSERVED
from audits.generator.writers import CONVERSATION_SCHEMA, TURN_SCHEMA

__all__ = [
    "ACCOUNT_ACTIONS",
    "BOTS",
    "ARTICLES",
    "ASK_HUMAN_PHRASES",
    "CONVERSATION_SCHEMA",
    "DEFAULT_RATES",
    "DEFAULT_START",
    "GENERATOR_VERSION",
    "KINDS",
    "OBSERVED",
    "PHRASES",
    "TURN_SCHEMA",
    "GenerationSummary",
    "generate",
    "luhn_valid",
    "nric_checksum",
]
