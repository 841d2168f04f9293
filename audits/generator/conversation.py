"""Conversations: per-chunk attributes drawn with numpy, turns rendered from plans and phrases.

`Generator` holds the state that spans chunks (the seeded generators, every conversation's
attributes, the customers and the repeat-contact pool). `Generator.chunk` draws the attributes of
a chunk column by column, then renders each conversation's turns in its language and records what
was planted in it: the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from audits.generator.clock import sydney_summer
from audits.generator.draws import Uniforms, choice, pick, pick_by
from audits.generator.kb import ARTICLES, stated_figure, version2_times
from audits.generator.mix import (
    ACCOUNT_ACTIONS,
    AGENT_NAMES,
    AGENT_POOL,
    AI,
    AUTOMATION_REASONS,
    BOTS,
    CHANNEL_MIX,
    CSAT,
    GAPS,
    HANDLER_MIX,
    HANDOFF_REASONS,
    HOUR_WEIGHTS,
    HUMAN,
    HYBRID,
    JOURNEY_ACTION,
    JOURNEY_MIX,
    JOURNEYS,
    LANGUAGE_MIX,
    LANGUAGES,
    MARKET_MIX,
    MARKETS,
    SUPPLIER_SHARE,
    UTC_OFFSET_MIN,
    VERIFY_P,
)
from audits.generator.phrases import PHRASES, SYSTEM_TRANSFER_TEXT
from audits.generator.pii import personal_data
from audits.generator.plan import (
    AGENT_KEYS,
    ANSWER0,
    ANSWER1,
    ASK,
    BYE,
    CUSTOMER_KEYS,
    CUSTOMER_TOKENS,
    DONE,
    FOLLOWUP,
    GREET,
    H_INTRO,
    KEEP,
    LOOP_A,
    LOOP_C,
    MAX_TURNS,
    OPEN,
    PAD,
    PII,
    SYSTEM,
    TRANSFER,
    VERIFIED,
    WAIT,
    plan,
)
from audits.generator.plant import (
    F_FAILED,
    F_KB,
    F_LOOP,
    F_MISSED,
    F_PII,
    F_REPEAT,
    F_SLOW,
    HANDLERS_ALLOWED,
    KINDS,
    OBSERVED,
    Contacts,
    draw_flags,
)
from audits.ingest.fields import CHANNELS


@dataclass
class Chunk:
    """One chunk of conversations, column by column (times are UTC epoch seconds)."""

    first: int
    conv: dict[str, list[Any]] = field(default_factory=dict)
    turn: dict[str, list[Any]] = field(default_factory=dict)
    truth: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)


CONV_COLS = ("supplier", "handler", "channel", "market", "language", "journey", "customer", "agent_ids",
             "outcome", "csat", "automation_failed", "automation_reason", "requested", "handed",
             "escalation_reason", "started", "ended", "offset", "n_turns")  # fmt: skip
TURN_COLS = ("speaker", "text", "at", "kb", "action")


class Generator:
    """The state that spans chunks: seeded generators, every conversation's attributes, the customers
    and the repeat-contact pool."""

    def __init__(self, n: int, seed: int, start: date, days: int, rates: dict[str, float]):
        plan_seed, text_seed = np.random.SeedSequence(seed).spawn(2)
        self.rng = np.random.default_rng(plan_seed)
        self.u = Uniforms(np.random.default_rng(text_seed)).next
        self.rates, self.days = rates, days
        self.epoch0 = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
        self.summer = np.array([sydney_summer(start + timedelta(days=d)) for d in range(-1, days + 17)])
        self.start = np.zeros(n, np.int64)
        self.offset = np.zeros(n, np.int64)
        self.market = np.zeros(n, np.int64)
        self.language = np.zeros(n, np.int64)
        self.journey = np.zeros(n, np.int64)
        self.sydney = np.zeros(n, bool)
        self.contacts = Contacts(n)
        joint = np.array([[s * h for h in mix] for s, mix in zip(SUPPLIER_SHARE, HANDLER_MIX, strict=True)])
        self.joint = [(joint * np.array(a)).ravel() for a in HANDLERS_ALLOWED]
        self.v2_at = version2_times(self.epoch0, days)
        self.kb_ids = [[a.article_id] for a in ARTICLES]
        self.answers = {
            lang: tuple(p["ans." + a.article_id] for a in ARTICLES) for lang, p in PHRASES.items()
        }

    def offset_at(self, market: np.ndarray, sydney: np.ndarray, epoch: np.ndarray) -> np.ndarray:
        """The UTC offset in seconds of conversations in `market` at `epoch` (Sydney in summer: +11)."""
        day = np.clip((epoch + 10 * 3600 - self.epoch0) // 86_400 + 1, 0, len(self.summer) - 1)
        return np.array(UTC_OFFSET_MIN)[market] * 60 + (sydney & self.summer[day]) * 3600

    def chunk(self, first: int, n: int) -> Chunk:
        """Draw the attributes of conversations first..first+n-1 and render their turns."""
        rng, sl = self.rng, slice(first, first + n)
        r = rng.random((n, 12))
        flags, group = draw_flags(r, self.rates)
        pair = pick_by(r[:, 6], group, self.joint)
        supplier, handler = pair // 3, pair % 3
        channel = pick_by(r[:, 7], handler, CHANNEL_MIX)
        self.market[sl] = pick_by(r[:, 8], supplier, MARKET_MIX)
        self.language[sl] = pick_by(r[:, 9], self.market[sl], LANGUAGE_MIX)
        self.journey[sl] = pick(r[:, 10], JOURNEY_MIX)
        self.sydney[sl] = (self.market[sl] == MARKETS.index("AU")) & (r[:, 11] < 0.7)
        day = rng.integers(0, self.days, n)
        second = pick(rng.random(n), HOUR_WEIGHTS) * 3600 + rng.integers(0, 3600, n)
        target = 4 + rng.binomial(MAX_TURNS - 4, 0.5, n)
        local = self.epoch0 + day * 86_400 + second
        self.offset[sl] = self.offset_at(self.market[sl], self.sydney[sl], local - 10 * 3600)
        self.start[sl] = local - self.offset[sl]
        draws = rng.random((int((flags & F_REPEAT > 0).sum()), 10))
        repeat_of = self.contacts.plant_repeats(self, first, n, flags, draws)
        self.contacts.number(self, first, n, flags, repeat_of)
        ch = Chunk(first, {c: [] for c in CONV_COLS}, {c: [] for c in TURN_COLS})
        cols = (supplier, handler, channel, self.market[sl], self.language[sl], self.journey[sl],
                self.start[sl], target, flags)  # fmt: skip
        for i, row in enumerate(zip(*(c.tolist() for c in cols), strict=True)):
            self._render(ch, first + i, *row, repeat_of.get(i))  # type: ignore[call-arg]  # row: 9 columns
        return ch

    def _answer(
        self, lang: str, a: int, t: int, planted: bool
    ) -> tuple[str, list[str], dict[str, Any] | None]:
        """An agent's answer from article `a` at time `t`, its KB citation, and the detail of a
        planted contradiction (see kb.stated_figure)."""
        stated, detail = stated_figure(a, t, planted, self.v2_at, self.u)
        return choice(self.answers[lang][a], self.u).format(v=stated), self.kb_ids[a], detail

    def _render(
        self, ch: Chunk, g: int, sup: int, hnd: int, chn: int, mkt: int, lng: int, jrn: int,
        t0: int, target: int, flags: int, repeat: tuple[int, int] | None,
    ) -> None:  # fmt: skip
        """Plan and write the turns of conversation `g`, and what was planted in it."""
        u, lang = self.u, LANGUAGES[lng]
        P, sep = PHRASES[lang], "" if lang == "zh" else " "  # Chinese runs sentences together
        failed, loop, pii_planted = flags & F_FAILED, flags & F_LOOP, flags & F_PII
        verify = bool(pii_planted) or u() < VERIFY_P[jrn]
        fallback_loop = bool(loop) and hnd == AI and u() < 0.5
        toks = plan(hnd, flags, verify, fallback_loop, target, u)
        # the answer that may loop must read the same at every turn: an article with one version
        a0 = 2 * jrn + (1 if (loop and not fallback_loop) or u() >= 0.6 else 0)
        a1 = a0 ^ 1
        bot_id, bot_name = BOTS[sup]
        code, pool = AGENT_POOL[sup]
        num = 1 + int(u() * pool)
        human_id, human_name = f"{code}-{MARKETS[mkt].lower()}-{num:03d}", AGENT_NAMES[MARKETS[mkt]][num % 4]
        agent_ids = [bot_id] if hnd == AI else ([human_id] if hnd == HUMAN else [bot_id, human_id])
        opening = choice(P["open." + JOURNEYS[jrn]], u).format(order=f"#{1_000_000 + int(u() * 9e6)}")
        pii_kind, pii_value = personal_data(u, mkt) if verify else ("", "")
        gaps = GAPS[chn]
        agent = 2 if hnd == HUMAN else 1
        truth: dict[str, dict[str, Any]] = {}
        seen: dict[str, int] = {}
        t, prev, latency = t0, -1, 0
        requested: int | None = None
        handed: int | None = None
        reason: str | None = None
        loop_text, loop_kb, loop_turns, first_ask = None, None, [], 0
        speakers, texts, ats, kbs, actions = (ch.turn[c] for c in TURN_COLS)

        def fresh(options: list[tuple[str, list[str] | None]]) -> tuple[str, list[str] | None]:
            """The option said least so far (the first of those): nothing is said 3 times unless planted."""
            return min(options, key=lambda o: seen.get(o[0], 0))

        def said(key: str) -> str:
            alts = P[key]
            k = int(u() * len(alts))
            return fresh([(a, None) for a in alts[k:] + alts[:k]])[0]

        for idx, tok in enumerate(toks, start=1):
            sp = 0 if tok in CUSTOMER_TOKENS else (3 if tok == SYSTEM else (2 if tok == H_INTRO else agent))
            if tok == H_INTRO:
                assert handed is not None  # the plan puts the transfer before the human's intro
                t = handed
            elif tok == SYSTEM:
                t += 1 + int(u() * 3)
            elif tok == WAIT:
                assert requested is not None  # a wait only follows a transfer request
                t = max(t + 1, requested + int(latency * (0.3 + 0.5 * u())))
            elif idx > 1:
                lo, hi = gaps[sp] if sp != prev or sp == 0 else (1, 8)
                x = u()
                t += lo + int((hi - lo) * x * x)
            prev = sp
            kb = action = None
            if tok == OPEN:
                text = opening
            elif tok == GREET:
                if agent == 1:
                    disclosed = u() < 0.9
                    text = (
                        choice(P["disclose"], u).format(bot=bot_name) + sep if disclosed else ""
                    ) + choice(P["hello"], u)
                    if not disclosed:
                        truth["no_ai_disclosure"] = {"turn": idx}
                else:
                    text = choice(P["intro"], u).format(name=human_name) + sep + choice(P["hello"], u)
                if verify:
                    text, action = text + sep + choice(P["verify"], u), "verify_identity"
            elif tok == PII:
                text = choice(P["pii"], u).format(v=pii_value)
            elif tok == VERIFIED:
                text = choice(P["echo" if pii_planted else "verified"], u).format(v=pii_value)
                if pii_planted:
                    truth["pii_echo"] = {"turn": idx, "pii_type": pii_kind}
            elif tok == ANSWER0:
                text, kb, contradiction = self._answer(lang, a0, t, bool(flags & F_KB))
                if contradiction:
                    truth["kb_contradiction"] = {"turn": idx, **contradiction}
                if loop and not fallback_loop:
                    loop_text, loop_kb = text, kb
                    loop_turns.append(idx)
            elif tok == LOOP_C:
                text = choice(P["loop"], u) + sep + opening
            elif tok == LOOP_A:
                if loop_text is None:
                    loop_text = choice(P["fallback"], u)
                text, kb = loop_text, loop_kb
                loop_turns.append(idx)
            elif tok == TRANSFER:
                text = (choice(P["fail"], u) + sep if failed else "") + choice(P["transfer"], u)
                action, requested = "transfer_to_human", t
                latency = 301 + int(u() * 1500) if flags & F_SLOW else 15 + int(u() * 106)
                handed = t + latency
                reason = (
                    "automation_failure"
                    if failed
                    else ("customer_request" if first_ask else choice(HANDOFF_REASONS, u))
                )
                if flags & F_SLOW:
                    truth["slow_handoff"] = {"turn": idx, "latency_seconds": latency}
            elif tok == SYSTEM:
                text = SYSTEM_TRANSFER_TEXT
            elif tok == H_INTRO:
                agent = 2
                text = choice(P["intro"], u).format(name=human_name) + sep + choice(P["hello"], u)
            elif tok == ANSWER1:
                text, kb, _ = self._answer(lang, a1, t, False)
            elif tok == FOLLOWUP:
                text = said("followup")
            elif tok == PAD:  # another answer from the KB, or a general remark
                answers = [self._answer(lang, a, t, False)[:2] for a in (a1, a0)]
                text, kb = fresh(answers + [(a, None) for a in P["info"]])
            elif tok == DONE:
                text, action = choice(P["done"], u), JOURNEY_ACTION[jrn]
                if not verify and action in ACCOUNT_ACTIONS:
                    truth["unverified_action"] = {"turn": idx, "action": action}
            else:
                key = CUSTOMER_KEYS.get(tok) or AGENT_KEYS[tok]
                text = said(key) if tok in (ASK, KEEP) else choice(P[key], u)
                if tok == ASK and not first_ask:
                    first_ask = idx
                    if flags & F_MISSED and u() < 0.5:
                        requested, reason = t, "customer_request"
            seen[text] = seen.get(text, 0) + 1
            speakers.append(sp)
            texts.append(text)
            ats.append(t)
            kbs.append(kb)
            actions.append(action)
        if failed:
            outcome = "escalated" if hnd == HYBRID else "unresolved"
            truth["failed_automation"] = {"reason": choice(AUTOMATION_REASONS, u)}
        else:
            outcome = "resolved" if DONE in toks else ("unresolved" if BYE in toks else "abandoned")
        if loop:
            truth["bot_loop"] = {"turns": loop_turns, "repeats": len(loop_turns)}
        if flags & F_MISSED:
            truth["missed_handoff"] = {"turn": first_ask, "escalation_requested": requested is not None}
        if repeat is not None:
            truth["repeat_contact"] = {
                "previous_conversation_id": f"c-{repeat[0] + 1:09d}",
                "days_after": round(repeat[1] / 86_400, 2),
            }
        ch.truth.extend((g, kind, truth[kind]) for kind in KINDS + OBSERVED if kind in truth)
        csat = None
        if u() < 0.3:
            weights = CSAT[0] if outcome == "resolved" else CSAT[1]
            x, csat = u(), 1
            while csat < 5 and x >= weights[csat - 1]:
                x -= weights[csat - 1]
                csat += 1
        c = ch.conv
        for name, value in (
            ("supplier", sup), ("handler", hnd), ("channel", chn), ("market", mkt), ("language", lng),
            ("journey", jrn), ("customer", int(self.contacts.customer[g])), ("agent_ids", agent_ids), ("outcome", outcome),
            ("csat", csat), ("automation_failed", None if hnd == HUMAN else bool(failed)),
            ("automation_reason", truth["failed_automation"]["reason"] if failed else None),
            ("requested", requested), ("handed", handed), ("escalation_reason", reason), ("started", t0),
            ("ended", t + (0 if CHANNELS[chn] == "email" else int(u() * 20))), ("offset", int(self.offset[g])),
            ("n_turns", len(toks)),
        ):  # fmt: skip
            c[name].append(value)
