"""Edge-case planting: which conversations carry which kind, and the repeat contacts.

Each kind is drawn per conversation at its rate (missed and slow hand-offs exclude each other).
A kind restricts who handles the conversation: a missed hand-off needs an AI-only conversation, a
slow hand-off a hybrid one, a failed automation or a bot loop an automated one (AI or hybrid).
A repeat contact follows an earlier conversation of another customer by 1 to 6 days and takes
over its customer, journey, market and language. The turns that show a kind are written in
conversation.py; without its flag a conversation never shows the kind's symptom.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from audits.errors import ConfigError
from audits.generator.draws import prime_at_least
from audits.generator.mix import JOURNEYS, MARKETS

if TYPE_CHECKING:
    from audits.generator.conversation import Generator

DEFAULT_RATES: dict[str, float] = {
    "failed_automation": 0.06,
    "bot_loop": 0.03,
    "missed_handoff": 0.02,
    "slow_handoff": 0.03,
    "pii_echo": 0.02,
    "kb_contradiction": 0.04,
    "repeat_contact": 0.05,
}
KINDS = tuple(DEFAULT_RATES)
# Kinds not planted at a rate but recorded where they happen: an AI greeting without the disclosure
# (10% of AI greetings) and an account action without identity verification (per journey, VERIFY_P).
OBSERVED = ("no_ai_disclosure", "unverified_action")
F_FAILED, F_LOOP, F_MISSED, F_SLOW, F_PII, F_KB, F_REPEAT = (1 << i for i in range(7))
# The (ai, human, hybrid) handlers a conversation may have: any, ai only, hybrid only, automated
HANDLERS_ALLOWED = ((1, 1, 1), (1, 0, 0), (0, 0, 1), (1, 0, 1))


def check_rates(rates: dict[str, float] | None) -> dict[str, float]:
    """DEFAULT_RATES with `rates` laid over them, checked."""
    unknown = sorted(set(rates or {}) - set(KINDS))
    if unknown:
        raise ConfigError(f"unknown edge-case kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}")
    merged = {**DEFAULT_RATES, **(rates or {})}
    for kind, rate in merged.items():
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ConfigError(f"the rate of {kind} must be a number from 0 to 1, not {rate!r}")
    if merged["missed_handoff"] + merged["slow_handoff"] > 1:
        raise ConfigError(
            "missed_handoff and slow_handoff exclude each other: their rates must sum to 1 or less"
        )
    return {k: float(v) for k, v in merged.items()}


def draw_flags(r: np.ndarray, rates: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """The planted kinds per conversation (F_* bits) from uniforms `r` (columns 0-5), and the row
    of HANDLERS_ALLOWED each conversation's handler is drawn from."""
    missed, slow = rates["missed_handoff"], rates["missed_handoff"] + rates["slow_handoff"]
    flags = (
        (r[:, 0] < rates["failed_automation"]) * F_FAILED
        | (r[:, 1] < rates["bot_loop"]) * F_LOOP
        | (r[:, 2] < missed) * F_MISSED
        | ((r[:, 2] >= missed) & (r[:, 2] < slow)) * F_SLOW
        | (r[:, 3] < rates["pii_echo"]) * F_PII
        | (r[:, 4] < rates["kb_contradiction"]) * F_KB
        | (r[:, 5] < rates["repeat_contact"]) * F_REPEAT
    )
    group = np.select(
        [flags & F_MISSED > 0, flags & F_SLOW > 0, flags & (F_FAILED | F_LOOP) > 0], [1, 2, 3], 0
    )
    return flags, group


class Contacts:
    """Customer numbers, and the earlier conversations a planted repeat contact may follow.

    Customer numbers: the k-th contact of a (market, journey) gets slot (a*k + b) mod M of its
    market's block, so a customer has at most one contact per journey unless one is planted.
    """

    def __init__(self, n: int):
        self.customer = np.zeros(n, np.int64)
        self.pool = np.zeros(n, np.int64)  # earlier conversations a repeat contact may follow
        self.pool_len = 0
        self.mod = prime_at_least(n // 3 + 50)
        self.block = self.mod * (n // self.mod + 1)
        self.counters = np.zeros(len(MARKETS) * len(JOURNEYS), np.int64)
        self.width = max(5, len(str(len(MARKETS) * self.block)))  # digits of a customer id
        self.mult = [max(1, (7919 * (j + 3) * 104_729) % self.mod) for j in range(len(JOURNEYS))]

    def plant_repeats(
        self, gen: Generator, first: int, n: int, flags: np.ndarray, draws: np.ndarray
    ) -> dict[int, tuple[int, int]]:
        """Plant repeat contacts: each flagged conversation follows an earlier one of another customer
        by 1-6 days, taking over its customer, journey, market and language. Returns, per planted
        conversation (index in the chunk), the conversation it follows and the gap in seconds."""
        taken = np.zeros(n, bool)
        out: dict[int, tuple[int, int]] = {}
        cursor = first
        end = gen.epoch0 + gen.days * 86_400
        for k, i in enumerate(np.flatnonzero(flags & F_REPEAT).tolist()):
            self._pool_add(cursor, first + i, first, taken)
            cursor = first + i
            if self.pool_len == 0:  # nothing earlier left to follow (the first conversation, say)
                flags[i] &= ~F_REPEAT
                continue
            for attempt in range(8):  # prefer an earlier contact that leaves a day inside the window
                j = int(draws[k, attempt] * self.pool_len)
                e = int(self.pool[j])
                room = end - int(gen.offset[e]) - int(gen.start[e]) - 60
                if room >= 86_400 + 60:
                    break
            self.pool_len -= 1
            self.pool[j] = self.pool[self.pool_len]
            days = 1 + int(draws[k, 8] * max(1, min(6, room // 86_400)))
            delta = max(86_460, min(days * 86_400 + int((draws[k, 9] - 0.5) * 7200), 6 * 86_400 - 60))
            if room >= 86_460:
                delta = min(delta, room)
            g = first + i
            for arr in (gen.market, gen.language, gen.journey, gen.sydney):
                arr[g] = arr[e]
            gen.start[g] = gen.start[e] + delta
            gen.offset[g] = gen.offset_at(gen.market[g : g + 1], gen.sydney[g : g + 1], gen.start[g : g + 1])[
                0
            ]
            taken[i] = True
            out[i] = (e, delta)
        self._pool_add(cursor, first + n, first, taken)
        return out

    def _pool_add(self, lo: int, hi: int, first: int, taken: np.ndarray) -> None:
        idx = np.arange(lo, hi)
        idx = idx[~taken[idx - first]]
        self.pool[self.pool_len : self.pool_len + len(idx)] = idx
        self.pool_len += len(idx)

    def number(
        self, gen: Generator, first: int, n: int, flags: np.ndarray, repeat_of: dict[int, tuple[int, int]]
    ) -> None:
        """Give conversations first..first+n-1 their customer numbers."""
        sl = slice(first, first + n)
        fresh = flags & F_REPEAT == 0
        key = gen.market[sl] * len(JOURNEYS) + gen.journey[sl]
        for k in np.unique(key[fresh]).tolist():
            pos = np.flatnonzero(fresh & (key == k))
            seq = self.counters[k] + np.arange(len(pos))
            self.counters[k] += len(pos)
            m, j = divmod(k, len(JOURNEYS))
            slot = (self.mult[j] * seq + 104_723 * j) % self.mod + self.mod * (seq // self.mod)
            self.customer[first + pos] = m * self.block + slot
        for i, (e, _) in repeat_of.items():  # a repeat is the customer of the contact it follows
            self.customer[first + i] = self.customer[e]
