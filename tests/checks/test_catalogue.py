"""Each check on small conversations built to pass, fail and be not applicable."""

from __future__ import annotations

from typing import Any

from tests.checks.conftest import turn
from tests.conftest import conv

KB = [
    {"article_id": "kb-refund", "version": "1", "title": "Refund processing",
     "body": "Approved refunds reach the original payment method within 5-7 business days.",
     "updated_at": "2026-01-01T00:00:00+00:00"},
    {"article_id": "kb-refund", "version": "2", "title": "Refund processing",
     "body": "Approved refunds reach the original payment method within 3-5 business days.",
     "updated_at": "2026-11-01T03:00:00+00:00"},
]  # fmt: skip


def c(cid: str, turns: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return conv(conversation_id=cid, turns=turns, customer_id=f"cust-{cid}", **kw)


def test_ai_disclosure(check: Any) -> None:
    r = check([
        c("yes", [turn("ai_agent", "Hi, I'm Nora, a virtual assistant.", "10:00:00"), turn("customer", "Hi", "10:00:10")]),
        c("no", [turn("customer", "Hi", "10:00:00"), turn("ai_agent", "Hello! How can I help?", "10:00:02"),
                 turn("ai_agent", "I am an AI assistant.", "10:00:03")]),
        c("zh", [turn("ai_agent", "您好，我是AI智能助理。", "10:00:00")], language="zh"),
        c("human", [turn("human_agent", "Hi, Priya here.", "10:00:00")], handler="human"),
    ], only=["ai_disclosure"])  # fmt: skip
    assert r.outcome("yes", "ai_disclosure") == "pass"
    assert r[("no", "ai_disclosure")] == (
        "fail",
        2,
        "Hello! How can I help?",
    )  # the first AI turn, not a later one
    assert r.outcome("zh", "ai_disclosure") == "pass"
    assert r.outcome("human", "ai_disclosure") == "na"


def test_pii_echo_finds_each_kind_in_agent_turns_only(check: Any) -> None:
    said = {
        "card": "I have verified card 4111 1111 1111 1111.",
        "email": "I sent it to alex.lee@example.com.",
        "phone": "We will call +65 9123 4567 tomorrow.",
        "nric": "Your NRIC S1234567D is on file.",
    }
    records = [
        c(k, [turn("customer", "Here it is", "10:00:00"), turn("ai_agent", text, "10:00:05")])
        for k, text in said.items()
    ]
    records.append(c("customer-only", [turn("customer", "My card is 4111 1111 1111 1111", "10:00:00"),
                                       turn("ai_agent", "Thanks, verified.", "10:00:05")]))  # fmt: skip
    records.append(c("not-luhn", [turn("customer", "Hi", "10:00:00"),
                                  turn("ai_agent", "Order 4111 1111 1111 1112 is on its way.", "10:00:05")]))  # fmt: skip
    r = check(records, only=["pii_echo"])
    for k, kind in (("card", "card_number"), ("email", "email"), ("phone", "phone"), ("nric", "sg_nric")):
        outcome, t, evidence = r[(k, "pii_echo")]
        assert (outcome, t) == ("fail", 2) and evidence.startswith(kind + ": "), (k, evidence)
    assert r.outcome("customer-only", "pii_echo") == "pass"
    assert r.outcome("not-luhn", "pii_echo") == "pass"


def test_handoff_missed_sla_and_abandoned(check: Any) -> None:
    ask = turn("customer", "I want to talk to a real person please", "10:00:10")
    transfer = turn("ai_agent", "Transferring you now.", "10:00:12", action="transfer_to_human")
    records = [
        c("missed", [turn("ai_agent", "Hi, I'm a bot.", "10:00:00"), ask,
                     turn("ai_agent", "I can help you here.", "10:00:12")]),
        c("fast", [turn("ai_agent", "Hi, I'm a bot.", "10:00:00"), ask, transfer,
                   turn("human_agent", "Hi, Sam here.", "10:01:12")], handler="hybrid"),
        c("slow", [turn("ai_agent", "Hi, I'm a bot.", "10:00:00"), ask, transfer,
                   turn("human_agent", "Hi, Sam here.", "10:10:12")], handler="hybrid"),
        c("left", [turn("ai_agent", "Hi, I'm a bot.", "10:00:00"), ask, transfer,
                   turn("customer", "Hello? Anyone?", "10:05:00")], outcome="abandoned"),
        c("asked-nothing", [turn("ai_agent", "Hi, I'm a bot.", "10:00:00"), turn("customer", "Refund?", "10:00:10")]),
        c("requested", [turn("ai_agent", "Hi, I'm a bot.", "10:00:00"), turn("customer", "Refund?", "10:00:10")],
          escalation={"requested_at": "2026-11-01T10:00:11+08:00"}),
    ]  # fmt: skip
    r = check(records, only=["handoff_missed", "handoff_sla", "handoff_abandoned"])
    assert r[("missed", "handoff_missed")][:2] == ("fail", 2)
    assert [r.outcome(x, "handoff_missed") for x in ("fast", "slow", "left")] == ["pass"] * 3
    assert r.outcome("asked-nothing", "handoff_missed") == "na"
    assert r.outcome("requested", "handoff_missed") == "fail"  # the record says a human was requested
    assert r[("fast", "handoff_sla")][:2] == ("pass", 4)
    assert r[("slow", "handoff_sla")] == ("fail", 4, "hand-off took 600 s (SLA 300 s): Hi, Sam here.")
    assert r.outcome("missed", "handoff_sla") == "na"
    assert r[("left", "handoff_abandoned")][:2] == ("fail", 4)
    assert r.outcome("fast", "handoff_abandoned") == "pass"
    assert r.outcome("missed", "handoff_abandoned") == "na"


def test_handoff_sla_per_channel_from_configuration(check: Any, tmp_path: Any) -> None:
    from audits.checks.config import load_config

    (tmp_path / "cfg.yaml").write_text("handoff_sla_seconds: {voice: 30}\n", encoding="utf-8")
    cfg = load_config(tmp_path / "cfg.yaml")
    turns = [turn("ai_agent", "Hi, I'm a bot.", "10:00:00"), turn("customer", "Agent please, I want a human", "10:00:10"),
             turn("ai_agent", "Transferring you.", "10:00:12", action="transfer_to_human"),
             turn("human_agent", "Hi, Sam here.", "10:01:12")]  # fmt: skip
    r = check([c("voice", turns, channel="voice", handler="hybrid"), c("chat", turns, handler="hybrid")],
              only=["handoff_sla"], config=cfg)  # fmt: skip
    assert r.outcome("voice", "handoff_sla") == "fail"  # 60 s > 30 s
    assert r.outcome("chat", "handoff_sla") == "pass"  # the default, 300 s, still applies


def test_bot_loop(check: Any) -> None:
    same = "Sorry, I didn't quite get that. Could you rephrase?"
    r = check([
        c("agent", [turn("customer", "Where is my refund?", "10:00:00")]
          + [turn("ai_agent", same, f"10:00:0{i}") for i in (1, 3, 5)]),
        c("customer", [turn("customer", "Where is my refund for order 12?", "10:00:00"),
                       turn("ai_agent", "Let me check.", "10:00:01"),
                       turn("customer", "Again: where is my refund for order 12?", "10:00:02"),
                       turn("ai_agent", "Checking.", "10:00:03"),
                       turn("customer", "I asked where is my refund for order 12?", "10:00:04")]),
        c("twice", [turn("customer", "Where is my refund?", "10:00:00"), turn("ai_agent", same, "10:00:01"),
                    turn("ai_agent", same, "10:00:03")]),
    ], only=["bot_loop"])  # fmt: skip
    assert r[("agent", "bot_loop")][:2] == ("fail", 2)
    assert "3 times (turns 2, 3, 4)" in r[("agent", "bot_loop")][2]
    outcome, t, evidence = r[("customer", "bot_loop")]
    assert (outcome, t) == ("fail", 1) and evidence.startswith(
        "the customer restated turn 1 2 times (turns 3, 5)"
    )
    assert r.outcome("twice", "bot_loop") == "pass"


def test_first_response_sla(check: Any) -> None:
    r = check([
        c("fast", [turn("customer", "Hi", "10:00:00"), turn("ai_agent", "Hello", "10:00:30")]),
        c("slow", [turn("customer", "Hi", "10:00:00"), turn("human_agent", "Hello", "10:02:00")], handler="human"),
        c("email", [turn("customer", "Hi", "10:00:00"), turn("human_agent", "Hello", "12:00:00")],
          channel="email", handler="human", ended_at="2026-11-01T12:00:00+08:00"),
        c("untimed", [{"speaker": "customer", "text": "Hi"}, {"speaker": "ai_agent", "text": "Hello"}]),
    ], only=["first_response_sla"])  # fmt: skip
    assert r.outcome("fast", "first_response_sla") == "pass"
    assert r[("slow", "first_response_sla")] == ("fail", 2, "first reply after 120 s (SLA 60 s): Hello")
    assert r.outcome("email", "first_response_sla") == "pass"  # 2 hours is within an email's day
    assert r.outcome("untimed", "first_response_sla") == "na"


def test_identity_before_action(check: Any) -> None:
    r = check([
        c("ok", [turn("ai_agent", "Please confirm your email.", "10:00:00", action="verify_identity"),
                 turn("ai_agent", "Refund issued.", "10:00:05", action="issue_refund")]),
        c("bad", [turn("ai_agent", "Refund issued.", "10:00:05", action="issue_refund"),
                  turn("ai_agent", "Please confirm your email.", "10:00:09", action="verify_identity")]),
        c("lookup", [turn("ai_agent", "Your parcel is out for delivery.", "10:00:05", action="track_order")]),
    ], only=["identity_before_action"])  # fmt: skip
    assert r.outcome("ok", "identity_before_action") == "pass"
    assert r[("bad", "identity_before_action")][:2] == ("fail", 1)
    assert r.outcome("lookup", "identity_before_action") == "na"


def test_kb_grounded_judges_against_the_version_live_at_the_turn(check: Any) -> None:
    def answer(cid: str, text: str, at: str, **kw: Any) -> dict[str, Any]:
        return c(cid, [turn("customer", "When will my refund for order 88123 arrive?", at),
                       turn("ai_agent", text, at, kb_article_ids=["kb-refund"])], **kw)  # fmt: skip

    r = check([
        answer("v1-right", "Approved refunds reach your payment method within 5-7 business days.", "10:00:00"),
        answer("v1-stale", "Approved refunds reach your payment method within 5-7 business days.", "12:00:00"),
        answer("v2-right", "Approved refunds reach your payment method within 3-5 business days.", "12:00:00"),
        answer("echo-order", "Refund for order 88123 reaches your payment method in 3-5 business days.", "12:00:00"),
        answer("off-topic", "Our stores open at nine.", "12:00:00"),
        answer("off-topic-thai", "ร้านเปิดแล้ว", "12:00:00", language="th"),
        answer("unknown", "See the article.", "12:00:00"),
        c("no-cite", [turn("ai_agent", "Hello there, 42.", "10:00:00")]),
    ], kb=KB, only=["kb_grounded"])  # fmt: skip
    assert r.outcome("v1-right", "kb_grounded") == "pass"  # 10:00 +08:00 is before v2 went live (11:00)
    outcome, t, evidence = r[("v1-stale", "kb_grounded")]
    assert (outcome, t) == ("fail", 2) and evidence.startswith(
        "states 7, which kb-refund v2 does not contain"
    )
    assert r.outcome("v2-right", "kb_grounded") == "pass"
    assert r.outcome("echo-order", "kb_grounded") == "pass"  # the customer's own order number
    assert r[("off-topic", "kb_grounded")][2].startswith("similarity 0.0 to kb-refund v2 is below 0.1")
    assert r.outcome("off-topic-thai", "kb_grounded") == "pass"  # similarity only in the KB's language
    assert r.outcome("no-cite", "kb_grounded") == "na"


def test_kb_grounded_unknown_article_and_no_kb(check: Any, con: Any) -> None:
    cites = [turn("customer", "Refund?", "10:00:00"),
             turn("ai_agent", "See our policy.", "10:00:05", kb_article_ids=["kb-nothing"])]  # fmt: skip
    r = check([c("x", cites)], only=["kb_grounded"])
    assert r.outcome("x", "kb_grounded") == "na"  # no KB loaded at all
    r = check([c("y", cites)], kb=KB, only=["kb_grounded"])
    assert r[("y", "kb_grounded")][2].startswith("cites kb-nothing, which had no version live then")


def test_repeat_contact_fails_the_contact_that_did_not_resolve(check: Any) -> None:
    first = conv(conversation_id="a", customer_id="cust-9")
    again = conv(conversation_id="b", customer_id="cust-9", started_at="2026-11-03T10:00:00+08:00",
                 ended_at="2026-11-03T10:06:00+08:00",
                 turns=[turn("customer", "Still no refund", "10:00:00")])  # fmt: skip
    anonymous = conv(conversation_id="c", customer_id=...)
    r = check([first, again, anonymous], only=["repeat_contact"])
    outcome, _, evidence = r[("a", "repeat_contact")]
    assert outcome == "fail" and "in acme-bpo/b, 48.0 hours later" in evidence
    assert r.outcome("b", "repeat_contact") == "pass"
    assert r.outcome("c", "repeat_contact") == "na"


def test_automation_failed(check: Any) -> None:
    r = check([
        conv(conversation_id="f", automation={"failed": True, "reason": "backend_timeout"}),
        conv(conversation_id="ok", automation={"failed": False}),
        conv(conversation_id="unsaid"),
        conv(conversation_id="h", handler="human", automation={"failed": True}),
    ], only=["automation_failed"])  # fmt: skip
    assert r[("f", "automation_failed")] == ("fail", None, "automation failed: backend_timeout")
    assert r.outcome("ok", "automation_failed") == "pass"
    assert r.outcome("unsaid", "automation_failed") == "na"
    assert r.outcome("h", "automation_failed") == "na"
