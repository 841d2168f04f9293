"""The check catalogue: each check is one SQL query over the conversations and turns in scope.

Every query reads two relations the runner defines, `_c` (the conversations in scope) and `_t`
(their turns), and returns one row per conversation of `_c`:
`supplier, conversation_id, outcome ('pass' | 'fail' | 'na'), turn, evidence`. A fail names the first
turn that shows the problem and quotes it (clipped to 300 characters by `chk_clip`); a pass names
the turn that shows it passed where there is one (the disclosure, the human's first turn).

What each check decides (v1):

ai_disclosure            na without an AI turn; pass when the first AI turn matches a disclosure phrase.
pii_echo                 na without agent turns; fail when an agent turn holds personal data (pii.py).
handoff_missed           na for human-handled conversations, when nobody asked for a human, or when a
                         human was already there; fail when the customer asked (a phrase, or the
                         record's escalation.requested_at) and neither a transfer action nor a human
                         turn followed, nor the record says it was handed off.
handoff_sla              na without a completed hand-off of known latency; fail when the record's
                         hand-off latency (or, without it, the time from the transfer turn to the
                         human's first turn) exceeds the channel's SLA.
handoff_abandoned        na without a transfer action; fail when no human came after it, the record
                         does not say it was handed off or transferred out, and the customer had the
                         last word or the outcome is `abandoned`.
bot_loop                 na without agent turns; fail when one agent text repeats `agent_repeats` times
                         or the customer restates an earlier message `customer_repeats` times.
first_response_sla       na without a timed reply to the customer or an SLA for the channel; fail when
                         the first agent reply took longer than the channel's SLA.
identity_before_action   na without an account action; fail unless a verification action came at or
                         before the first account action.
kb_grounded              see grounding.py.
repeat_contact           na without a customer id; fail when the same customer came back on the same
                         journey within the warehouse's repeat window (`followed_by_repeat`).
automation_failed        na for human-handled conversations or when the record does not say; fail when
                         the record says the automation failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from audits.checks.config import CheckConfig
from audits.checks.pii import sql_pii_kinds
from audits.ingest.fieldsql import q

AGENTS = "('ai_agent', 'human_agent')"
NUMBER = r"\d+(?:[.,]\d+)*"  # one figure: 14, 5.5, 1,000
RUN = r"\d+(?:[ .,-]\d+)*"  # a run of figures as written: an order number, a phone number, 5-10

MACROS = rf"""
CREATE OR REPLACE TEMP MACRO chk_text(s) AS nfc_normalize(coalesce(s, ''));
CREATE OR REPLACE TEMP MACRO chk_clip(s) AS
    CASE WHEN length(s) > 300 THEN left(s, 300) || '…' ELSE s END;
CREATE OR REPLACE TEMP MACRO chk_norm(s) AS
    trim(regexp_replace(lower(chk_text(s)), '[^\p{{L}}\p{{N}}]+', ' ', 'g'));
CREATE OR REPLACE TEMP MACRO chk_value(n) AS
    CASE WHEN contains(replace(n, ',', ''), '.')
         THEN rtrim(rtrim(replace(n, ',', ''), '0'), '.') ELSE replace(n, ',', '') END;
CREATE OR REPLACE TEMP MACRO chk_numbers(s) AS
    list_transform(regexp_extract_all(chk_text(s), '{NUMBER}'), lambda n: chk_value(n));
CREATE OR REPLACE TEMP MACRO chk_runs(s) AS regexp_extract_all(chk_text(s), '{RUN}');
CREATE OR REPLACE TEMP MACRO chk_run_key(r) AS regexp_replace(r, '[ .,-]', '', 'g');
CREATE OR REPLACE TEMP MACRO chk_turns(l) AS
    array_to_string(list_transform(l[1:10], lambda i: i::VARCHAR), ', ')
    || CASE WHEN len(l) > 10 THEN ', … (' || len(l) || ' turns)' ELSE '' END;
"""


@dataclass(frozen=True)
class Check:
    """A named, versioned check and the SQL that decides it."""

    check_id: str
    version: str
    title: str
    sql: Callable[[CheckConfig], str]


def _in(values: tuple[str, ...]) -> str:
    """A SQL `IN (...)` list, or a list that matches nothing."""
    return "(" + ", ".join(q(v) for v in values) + ")" if values else "(NULL)"


def _per_channel(table: dict[str, float]) -> str:
    """A SQL expression: the SLA of `c.channel` in `table`, NULL when it has none."""
    whens = " ".join(f"WHEN {q(ch)} THEN {sec}" for ch, sec in table.items() if ch != "default")
    default = table.get("default")
    fallback = "NULL::DOUBLE" if default is None else str(default)
    return f"(CASE c.channel {whens} ELSE {fallback} END)" if whens else f"({fallback})"


def ai_disclosure(cfg: CheckConfig) -> str:
    rx = q(cfg.regex(cfg.disclosure_phrases))
    return f"""
    SELECT c.supplier, c.conversation_id,
           CASE WHEN f.turn IS NULL THEN 'na'
                WHEN regexp_matches(f.text, {rx}) THEN 'pass'
                WHEN f.system_turn IS NOT NULL THEN 'pass'
                ELSE 'fail' END AS outcome,
           CASE WHEN f.turn IS NOT NULL AND NOT regexp_matches(f.text, {rx}) AND f.system_turn IS NOT NULL
                THEN f.system_turn ELSE f.turn END AS turn,
           CASE WHEN f.turn IS NOT NULL AND NOT regexp_matches(f.text, {rx}) AND f.system_turn IS NOT NULL
                THEN chk_clip(f.system_text) ELSE chk_clip(f.text) END AS evidence
    FROM _c c LEFT JOIN (
        SELECT a.supplier, a.conversation_id, a.turn, a.text,
               min(s.turn_index) AS system_turn, arg_min(chk_text(s.text), s.turn_index) AS system_text
        FROM (SELECT supplier, conversation_id, min(turn_index) AS turn,
                     arg_min(chk_text(text), turn_index) AS text
              FROM _t WHERE speaker = 'ai_agent' AND NOT starts_with(coalesce(text, ''), '[tool]')
              GROUP BY supplier, conversation_id) a
        LEFT JOIN _t s ON s.supplier = a.supplier AND s.conversation_id = a.conversation_id
             AND s.speaker = 'system' AND s.turn_index < a.turn AND regexp_matches(chk_text(s.text), {rx})
        GROUP BY a.supplier, a.conversation_id, a.turn, a.text
    ) f USING (supplier, conversation_id)"""


def pii_echo(cfg: CheckConfig) -> str:
    return f"""
    WITH kinds AS MATERIALIZED (  -- the patterns run once per distinct agent text with a digit or @
        SELECT text, {sql_pii_kinds("chk_text(text)")} AS kinds
        FROM (SELECT DISTINCT text FROM _t WHERE speaker IN {AGENTS} AND regexp_matches(text, '[0-9@０-９＠]'))
    )
    SELECT c.supplier, c.conversation_id,
           CASE WHEN coalesce(c.n_ai_agent_turns, 0) + coalesce(c.n_human_agent_turns, 0) = 0 THEN 'na'
                WHEN f.turn IS NULL THEN 'pass' ELSE 'fail' END AS outcome,
           f.turn, f.evidence
    FROM _c c LEFT JOIN (
        SELECT supplier, conversation_id, min(turn_index) AS turn,
               arg_min(array_to_string(kinds, ', ') || ': ' || chk_clip(text), turn_index)
                   || CASE WHEN count(*) > 1 THEN ' (and ' || (count(*) - 1) || ' more agent turns)'
                           ELSE '' END AS evidence
        FROM (SELECT t.supplier, t.conversation_id, t.turn_index, t.text, k.kinds
              FROM _t t JOIN kinds k ON k.text = t.text WHERE t.speaker IN {AGENTS})
        WHERE len(kinds) > 0 GROUP BY supplier, conversation_id
    ) f USING (supplier, conversation_id)"""


def handoff_facts(cfg: CheckConfig) -> str:
    """Per conversation: the customer's first ask for a human, the transfers, the human turns."""
    transfer = f"action IN {_in(cfg.transfer_actions)}"
    return f"""
    CREATE OR REPLACE TEMP TABLE _handoff AS
    SELECT supplier, conversation_id,
           min(turn_index) FILTER (WHERE ask) AS ask_turn,
           arg_min(text, turn_index) FILTER (WHERE ask) AS ask_text,
           arg_min(sent_at, turn_index) FILTER (WHERE ask) AS ask_at,
           list(struct_pack(i := turn_index, at := sent_at) ORDER BY turn_index) FILTER (WHERE {transfer})
               AS transfers,
           min(turn_index) FILTER (WHERE {transfer}) AS transfer_turn,
           list(struct_pack(i := turn_index, at := sent_at, text := text) ORDER BY turn_index)
               FILTER (WHERE speaker = 'human_agent') AS humans,
           arg_max(speaker, turn_index) FILTER (WHERE speaker <> 'system') AS last_speaker,
           arg_max(text, turn_index) FILTER (WHERE speaker <> 'system') AS last_text,
           max(turn_index) FILTER (WHERE speaker <> 'system') AS last_turn
    FROM (SELECT supplier, conversation_id, turn_index, speaker, sent_at, action, chk_text(text) AS text,
                 speaker = 'customer'
                 AND regexp_matches(chk_text(text), {q(cfg.regex(cfg.human_request_phrases))}) AS ask
          FROM _t)
    GROUP BY supplier, conversation_id
    """


_HUMAN_AFTER = "list_filter(coalesce(h.humans, []), lambda x: x.i > {0})[1]"
_TRANSFER_AFTER = "list_filter(coalesce(h.transfers, []), lambda x: x.i >= {0})[1]"
# A hand-off question only arises where an automated agent had the conversation: not for human-handled
# conversations, and not once a human was there before the customer asked.
_HUMAN_BEFORE_ASK = "len(list_filter(coalesce(h.humans, []), lambda x: x.i < h.ask_turn)) > 0"


def handoff_missed(cfg: CheckConfig) -> str:
    human_after_ask = _HUMAN_AFTER.format("coalesce(h.ask_turn, 0)")
    transfer_after_ask = _TRANSFER_AFTER.format("coalesce(h.ask_turn, 0)")
    return f"""
    SELECT supplier, conversation_id, outcome, CASE WHEN outcome = 'fail' THEN turn END AS turn,
           CASE WHEN outcome = 'fail' THEN evidence END AS evidence
    FROM (
        SELECT c.supplier, c.conversation_id,
               CASE WHEN c.handler = 'human' OR (h.ask_turn IS NULL AND c.escalation_requested_at IS NULL)
                         OR coalesce({_HUMAN_BEFORE_ASK}, false) THEN 'na'
                    WHEN {transfer_after_ask} IS NOT NULL OR {human_after_ask} IS NOT NULL
                         OR c.escalation_handed_off_at IS NOT NULL THEN 'pass'
                    ELSE 'fail' END AS outcome,
               h.ask_turn AS turn,
               CASE WHEN h.ask_turn IS NOT NULL THEN chk_clip(h.ask_text)
                    ELSE 'escalation requested at ' || c.escalation_requested_at::VARCHAR
                         || ' but no hand-off followed' END AS evidence
        FROM _c c LEFT JOIN _handoff h USING (supplier, conversation_id)
    )"""


def handoff_sla(cfg: CheckConfig) -> str:
    """Timed from the record (requested -> handed off), else from the transfer turn to the next human."""
    first_human = _HUMAN_AFTER.format("h.transfer_turn")
    return f"""
    SELECT supplier, conversation_id,
           CASE WHEN latency IS NULL OR sla IS NULL THEN 'na' WHEN latency > sla THEN 'fail'
                ELSE 'pass' END AS outcome,
           human.i AS turn,
           CASE WHEN latency IS NOT NULL THEN 'hand-off took ' || round(latency)::BIGINT || ' s (SLA '
                || sla::BIGINT || ' s)' || coalesce(': ' || chk_clip(human.text), '') END AS evidence
    FROM (
        SELECT c.supplier, c.conversation_id, {_per_channel(cfg.handoff_sla_seconds)} AS sla,
               {first_human} AS human,
               coalesce(c.handoff_latency_seconds,
                        epoch(({first_human}).at - h.transfers[1].at)) AS latency
        FROM _c c LEFT JOIN _handoff h USING (supplier, conversation_id)
    )"""


def handoff_abandoned(cfg: CheckConfig) -> str:
    human_after = _HUMAN_AFTER.format("h.transfer_turn")
    return f"""
    SELECT c.supplier, c.conversation_id,
           CASE WHEN h.transfer_turn IS NULL THEN 'na'
                WHEN {human_after} IS NULL AND c.escalation_handed_off_at IS NULL
                     AND coalesce(c.outcome, '') NOT IN ('transferred', 'escalated')
                     AND (c.outcome = 'abandoned' OR h.last_speaker = 'customer') THEN 'fail'
                ELSE 'pass' END AS outcome,
           CASE WHEN h.transfer_turn IS NOT NULL THEN h.last_turn END AS turn,
           CASE WHEN h.transfer_turn IS NOT NULL
                THEN 'transfer at turn ' || h.transfer_turn || '; last turn (' || h.last_speaker || '): '
                     || chk_clip(h.last_text) END AS evidence
    FROM _c c LEFT JOIN _handoff h USING (supplier, conversation_id)"""


def bot_loop(cfg: CheckConfig) -> str:
    """The agent saying one text `agent_repeats` times, or the customer restating one earlier message
    (as a whole phrase inside a later one) `customer_repeats` times; the earliest loop is reported."""
    return f"""
    WITH said AS MATERIALIZED (  -- agents repeat templates: normalise each distinct text once
        SELECT text, chk_norm(text) AS norm
        FROM (SELECT DISTINCT text FROM _t WHERE speaker IN ('ai_agent', 'human_agent'))
    ), agent AS (
        SELECT t.supplier, t.conversation_id, count(*) AS n, list(t.turn_index ORDER BY t.turn_index) AS turns,
               chk_text(any_value(t.text)) AS text
        FROM _t t JOIN said s ON s.text = t.text
        WHERE t.speaker IN ('ai_agent', 'human_agent') AND length(s.norm) >= {cfg.loop_min_chars}
        GROUP BY t.supplier, t.conversation_id, t.speaker, s.norm HAVING count(*) >= {cfg.agent_repeats}
    ), nt AS (
        SELECT supplier, conversation_id, turn_index, speaker, chk_text(text) AS text, chk_norm(text) AS norm
        FROM _t WHERE speaker = 'customer'
    ), cust AS (
        SELECT a.supplier, a.conversation_id, a.turn_index AS first, count(*) AS n,
               list(b.turn_index ORDER BY b.turn_index) AS turns, any_value(a.text) AS text
        FROM nt a JOIN nt b ON a.supplier = b.supplier AND a.conversation_id = b.conversation_id
             AND b.turn_index > a.turn_index AND contains(' ' || b.norm || ' ', ' ' || a.norm || ' ')
        WHERE a.speaker = 'customer' AND b.speaker = 'customer' AND length(a.norm) >= {cfg.loop_min_chars}
        GROUP BY a.supplier, a.conversation_id, a.turn_index HAVING count(*) >= {cfg.customer_repeats}
    ), found AS (
        SELECT supplier, conversation_id, turns[1] AS turn,
               'the agent said the same thing ' || n || ' times (turns ' || chk_turns(turns) || '): '
               || chk_clip(text) AS evidence
        FROM agent
        UNION ALL
        SELECT supplier, conversation_id, first,
               'the customer restated turn ' || first || ' ' || n || ' times (turns ' || chk_turns(turns)
               || '): ' || chk_clip(text)
        FROM cust
    )
    SELECT c.supplier, c.conversation_id,
           CASE WHEN coalesce(c.n_ai_agent_turns, 0) + coalesce(c.n_human_agent_turns, 0) = 0 THEN 'na'
                WHEN f.turn IS NULL THEN 'pass' ELSE 'fail' END AS outcome,
           f.turn, f.evidence
    FROM _c c LEFT JOIN (
        SELECT supplier, conversation_id, min(turn) AS turn, arg_min(evidence, turn) AS evidence
        FROM found GROUP BY supplier, conversation_id
    ) f USING (supplier, conversation_id)"""


def first_response_sla(cfg: CheckConfig) -> str:
    """The first agent turn after the customer's first turn, in turn order (`first_response_seconds`,
    derived at load the same way); na when either turn has no time."""
    return f"""
    WITH reply AS (
        SELECT supplier, conversation_id,
               list_sort(list(struct_pack(i := turn_index, text := text))
                   FILTER (WHERE speaker IN {AGENTS} AND turn_index > first_customer))[1] AS r
        FROM (SELECT *, min(turn_index) FILTER (WHERE speaker = 'customer')
                            OVER (PARTITION BY supplier, conversation_id) AS first_customer FROM _t)
        GROUP BY supplier, conversation_id
    )
    SELECT supplier, conversation_id,
           CASE WHEN seconds IS NULL OR sla IS NULL THEN 'na' WHEN seconds > sla THEN 'fail'
                ELSE 'pass' END AS outcome,
           r.i AS turn,
           CASE WHEN seconds IS NOT NULL THEN 'first reply after ' || round(seconds)::BIGINT || ' s'
                || coalesce(' (SLA ' || sla::BIGINT || ' s)', '') || coalesce(': ' || chk_clip(r.text), '')
                END AS evidence
    FROM (SELECT c.supplier, c.conversation_id, c.first_response_seconds AS seconds,
                 {_per_channel(cfg.first_response_sla_seconds)} AS sla, r.r
          FROM _c c LEFT JOIN reply r USING (supplier, conversation_id))"""


def identity_before_action(cfg: CheckConfig) -> str:
    acts, verifs = _in(cfg.account_actions), _in(cfg.verification_actions)
    return f"""
    SELECT c.supplier, c.conversation_id,
           CASE WHEN f.act_turn IS NULL THEN 'na'
                WHEN f.verify_turn <= f.act_turn THEN 'pass' ELSE 'fail' END AS outcome,
           f.act_turn AS turn,
           CASE WHEN f.act_turn IS NOT NULL THEN f.act || CASE WHEN f.verify_turn <= f.act_turn
                THEN ' after verification at turn ' || f.verify_turn
                ELSE ' without identity verification before it' END || ': ' || chk_clip(f.text) END
                AS evidence
    FROM _c c LEFT JOIN (
        SELECT supplier, conversation_id,
               min(turn_index) FILTER (WHERE action IN {acts}) AS act_turn,
               arg_min(action, turn_index) FILTER (WHERE action IN {acts}) AS act,
               arg_min(chk_text(text), turn_index) FILTER (WHERE action IN {acts}) AS text,
               min(turn_index) FILTER (WHERE action IN {verifs}) AS verify_turn
        FROM _t WHERE action IS NOT NULL GROUP BY supplier, conversation_id
    ) f USING (supplier, conversation_id)"""


def repeat_contact(cfg: CheckConfig) -> str:
    """Fails the contact the customer came back after (`followed_by_repeat`, derived at load with the
    warehouse's window); the evidence names the next contact of the same customer and journey."""
    return """
    SELECT c.supplier, c.conversation_id,
           CASE WHEN c.customer_id IS NULL OR c.journey IS NULL OR c.followed_by_repeat IS NULL THEN 'na'
                WHEN c.followed_by_repeat THEN 'fail' ELSE 'pass' END AS outcome,
           NULL::INTEGER AS turn,
           CASE WHEN c.followed_by_repeat THEN 'the customer came back on ' || c.journey
                || coalesce(' in ' || n.next_supplier || '/' || n.next_id || ', '
                || round(epoch(n.next_at - c.started_at) / 3600, 1) || ' hours later', '') END AS evidence
    FROM _c c LEFT JOIN (
        SELECT supplier, conversation_id,
               lead(supplier) OVER w AS next_supplier, lead(conversation_id) OVER w AS next_id,
               lead(started_at) OVER w AS next_at
        FROM conversations WHERE customer_id IS NOT NULL AND journey IS NOT NULL
        WINDOW w AS (PARTITION BY customer_id, journey ORDER BY started_at, supplier, conversation_id)
    ) n USING (supplier, conversation_id)"""


def automation_failed(cfg: CheckConfig) -> str:
    return """
    SELECT supplier, conversation_id,
           CASE WHEN handler = 'human' OR automation_failed IS NULL THEN 'na'
                WHEN automation_failed THEN 'fail' ELSE 'pass' END AS outcome,
           NULL::INTEGER AS turn,
           CASE WHEN automation_failed THEN 'automation failed: ' || coalesce(automation_reason, 'no reason given')
                END AS evidence
    FROM _c"""
