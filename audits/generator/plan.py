"""Plans: a conversation is a list of tokens, trimmed and padded to its length, then rendered.

A token is one turn (PADS, a placeholder, is replaced by follow-up pairs). The plan depends on the
handler and on the planted kinds: a bot loop adds pairs of a customer repeating the request and
the bot repeating its answer, a missed hand-off asks for a human without a transfer, a slow
hand-off has the customer waiting before the human joins.
"""

from __future__ import annotations

from typing import Any

from audits.generator.mix import AI, HYBRID
from audits.generator.plant import F_FAILED, F_LOOP, F_MISSED, F_SLOW

MAX_TURNS = 16
(OPEN, GREET, PII, VERIFIED, ANSWER0, LOOP_C, LOOP_A, ASK, KEEP, NOT_HELPFUL, FAIL, TRANSFER, SYSTEM,
 WAIT, H_INTRO, ANSWER1, FOLLOWUP, PAD, DONE, THANKS, CLOSE, BYE, PADS) = range(23)  # fmt: skip
_OPTIONAL = (WAIT, THANKS, CLOSE, BYE)
CUSTOMER_TOKENS = frozenset((OPEN, PII, LOOP_C, ASK, NOT_HELPFUL, WAIT, FOLLOWUP, THANKS, BYE))
CUSTOMER_KEYS = {ASK: "ask_human", NOT_HELPFUL: "not_helpful", WAIT: "wait", THANKS: "thanks", BYE: "bye"}
AGENT_KEYS = {KEEP: "keep", FAIL: "fail", DONE: "done", CLOSE: "close"}


def plan(handler: int, flags: int, verify: bool, fallback_loop: bool, target: int, u: Any) -> list[int]:
    """The tokens of one conversation; PADS marks where follow-up pairs go to reach `target`."""
    toks = [OPEN, GREET] + ([PII, VERIFIED] if verify else []) + [ANSWER0]
    if flags & F_LOOP:
        toks += [LOOP_C, LOOP_A] * (3 if fallback_loop else 2)
    failed = flags & F_FAILED
    if handler == HYBRID:
        toks += [NOT_HELPFUL if failed else (ASK if u() < 0.4 else FOLLOWUP), TRANSFER, SYSTEM]
        toks += ([WAIT] if flags & F_SLOW else []) + [H_INTRO, ANSWER1, PADS]
        toks += [DONE, THANKS, CLOSE] if failed or u() < 0.92 else [BYE]
    elif handler == AI:
        toks.append(PADS)
        if flags & F_MISSED:
            toks += [ASK, FAIL if failed else KEEP] + ([ASK, KEEP] if u() < 0.5 else [])
            toks += [BYE] if u() < 0.5 else []
        elif failed:
            toks += [NOT_HELPFUL, FAIL, BYE]
        elif flags & F_LOOP:
            toks += [BYE] if u() < 0.5 else []
        else:
            r = u()
            toks += [DONE, THANKS, CLOSE] if r < 0.88 else ([] if r < 0.95 else [BYE])
    else:
        r = u()
        toks += [PADS] + ([DONE, THANKS, CLOSE] if r < 0.9 else ([BYE] if r < 0.96 else []))
    n = len(toks) - 1  # PADS is not a turn
    while n > target:  # drop optional turns, last first, down to the target (and MAX_TURNS)
        optional = [i for i, t in enumerate(toks) if t in _OPTIONAL]
        if not optional:
            break
        del toks[optional[-1]]
        n -= 1
    pads = min(max(0, (target - n) // 2, (5 - n) // 2), (MAX_TURNS - n) // 2)
    at = toks.index(PADS)
    toks[at : at + 1] = [FOLLOWUP, PAD] * pads
    return toks
