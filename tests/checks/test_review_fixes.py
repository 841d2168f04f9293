"""Cases a review of the checks found wrong (each failed before its fix)."""

from __future__ import annotations

import unicodedata
from typing import Any

from tests.checks.conftest import turn
from tests.checks.test_catalogue import KB, c
from tests.conftest import conv


def test_no_handoff_sla_without_a_handoff(check: Any) -> None:
    """A human-handled conversation where the customer asks for someone else has no hand-off to time."""
    r = check([
        c("email", [turn("customer", "I want to speak to a real person about my refund", "10:00:00"),
                    turn("human_agent", "Hello, Sam here.", "18:00:00")], channel="email", handler="human",
          ended_at="2026-11-01T18:00:00+08:00"),
        c("chat", [turn("human_agent", "Hi, Sam here.", "10:00:00"),
                   turn("customer", "Can I talk to a supervisor?", "10:00:10"),
                   turn("human_agent", "Let me see.", "10:07:10")], handler="human"),
    ], only=["handoff_sla", "handoff_missed"])  # fmt: skip
    assert [r.outcome(x, y) for x in ("email", "chat") for y in ("handoff_sla", "handoff_missed")] == [
        "na"
    ] * 4


def test_first_response_follows_turn_order(check: Any, con: Any) -> None:
    r = check([
        c("same-second", [turn("ai_agent", "Hi, I'm a bot.", "10:00:00"), turn("customer", "Refund?", "10:00:00"),
                          turn("ai_agent", "Looking.", "10:05:00")]),
        c("untimed-reply", [turn("customer", "Refund?", "10:00:00"), {"speaker": "ai_agent", "text": "Looking."},
                            turn("customer", "Hello?", "10:09:00"), turn("ai_agent", "Here.", "10:10:00")]),
    ], only=["first_response_sla"])  # fmt: skip
    assert r[("same-second", "first_response_sla")] == (
        "fail",
        3,
        "first reply after 300 s (SLA 60 s): Looking.",
    )
    assert r.outcome("untimed-reply", "first_response_sla") == "na"
    derived = dict(
        con.execute("SELECT conversation_id, first_response_seconds FROM conversations").fetchall()
    )
    assert derived == {"same-second": 300, "untimed-reply": None}  # the ingest's column, the same rule


def test_kb_numbers_compare_as_values_and_customer_runs_are_excused(check: Any) -> None:
    kb = [{"article_id": "kb-fee", "version": "1", "title": "Fees", "body": "The fee is $10 or 1.5% of the amount.",
           "updated_at": "2026-01-01T00:00:00+00:00"}]  # fmt: skip

    def answer(cid: str, customer: str, agent: str) -> dict[str, Any]:
        return c(cid, [turn("customer", customer, "10:00:00"),
                       turn("ai_agent", agent, "10:00:05", kb_article_ids=["kb-fee"])])  # fmt: skip

    r = check([
        answer("values", "What is the fee?", "The fee is $10.00, or 1.50% of the amount."),
        answer("order", "Fee for order ORD-2026-1234?", "For ORD-2026-1234 the fee is $10."),
        answer("phone", "Call me on +84 90 516 6302", "We will call +84 90 516 6302; the fee is $10."),
        answer("wrong", "What is the fee?", "The fee is $12."),
        answer("part-of-phone", "Call me on +84 90 516 6302", "The fee is 90 dollars."),
    ], kb=kb, only=["kb_grounded"])  # fmt: skip
    assert [r.outcome(x, "kb_grounded") for x in ("values", "order", "phone")] == ["pass"] * 3
    assert r[("wrong", "kb_grounded")][2].startswith("states 12, which kb-fee v1 does not contain")
    assert r[("part-of-phone", "kb_grounded")][2].startswith("states 90,")


def test_kb_similarity_reads_the_primary_language_subtag(check: Any) -> None:
    off_topic = [turn("customer", "Refund?", "12:00:00"),
                 turn("ai_agent", "Our stores open at nine.", "12:00:05", kb_article_ids=["kb-refund"])]  # fmt: skip
    r = check([c("sg", off_topic, language="en-SG"), c("upper", off_topic, language="EN"),
               c("none", off_topic, language=...)], kb=KB, only=["kb_grounded"])  # fmt: skip
    assert r.outcome("sg", "kb_grounded") == "fail" and r.outcome("upper", "kb_grounded") == "fail"
    assert r.outcome("none", "kb_grounded") == "pass"  # no language: similarity is not tested


def test_kb_versions_with_the_same_time_resolve_by_version_number(check: Any) -> None:
    kb = [{"article_id": "kb-x", "version": v, "title": "Window", "body": f"Within {d} days.",
           "updated_at": "2026-01-01T00:00:00+00:00"} for v, d in (("2", "30"), ("1", "14"), ("10", "60"))]  # fmt: skip
    r = check([c("x", [turn("customer", "How long?", "10:00:00"),
                       turn("ai_agent", "Within 60 days.", "10:00:05", kb_article_ids=["kb-x"])])],
              kb=kb, only=["kb_grounded"])  # fmt: skip
    assert r.outcome("x", "kb_grounded") == "pass"  # version 10 is the latest, not "2" by text order


def test_repeat_contact_names_the_next_contact_of_the_same_customer_and_journey(check: Any) -> None:
    a = conv(conversation_id="a", customer_id="cust-9")
    b = conv(
        conversation_id="b",
        supplier="beta",
        customer_id="cust-9",
        started_at="2026-11-02T10:00:00+08:00",
        ended_at="2026-11-02T10:06:00+08:00",
    )
    other = conv(
        conversation_id="b",
        customer_id="cust-7",
        journey="card_block",
        started_at="2026-11-01T12:00:00+08:00",
        ended_at="2026-11-01T12:06:00+08:00",
    )
    nojourney = conv(conversation_id="n", customer_id="cust-3", journey=...)
    r = check([a, b, other, nojourney], only=["repeat_contact"])  # fmt: skip
    assert r[("a", "repeat_contact")][2] == "the customer came back on refund in beta/b, 24.0 hours later"
    assert r.outcome("n", "repeat_contact") == "na"


def test_a_later_transfer_answers_the_ask(check: Any) -> None:
    r = check([c("x", [
        turn("ai_agent", "Hi, I'm a bot.", "10:00:00"),
        turn("ai_agent", "Transferring.", "10:00:01", action="transfer_to_human"),
        turn("ai_agent", "No agents are free right now.", "10:00:05"),
        turn("customer", "I want to talk to a real person", "10:00:10"),
        turn("ai_agent", "Transferring again.", "10:00:12", action="transfer_to_human"),
    ])], only=["handoff_missed"])  # fmt: skip
    assert r[("x", "handoff_missed")] == ("pass", None, None)


def test_decomposed_unicode_matches_like_composed(check: Any) -> None:
    nfd = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731
    loop = "Xin lỗi, tôi chưa hiểu câu hỏi của bạn."
    r = check([
        c("disclose", [turn("ai_agent", nfd("Xin chào, tôi là trợ lý ảo."), "10:00:00")], language="vi"),
        c("ask", [turn("ai_agent", "Xin chào, tôi là trợ lý ảo.", "10:00:00"),
                  turn("customer", nfd("Tôi muốn gặp nhân viên"), "10:00:10")], language="vi"),
        c("loop", [turn("customer", "?", "10:00:00"), turn("ai_agent", loop, "10:00:01"),
                   turn("ai_agent", nfd(loop), "10:00:02"), turn("ai_agent", loop, "10:00:03")], language="vi"),
    ], only=["ai_disclosure", "handoff_missed", "bot_loop"])  # fmt: skip
    assert r.outcome("disclose", "ai_disclosure") == "pass"
    assert r.outcome("ask", "handoff_missed") == "fail"
    assert r.outcome("loop", "bot_loop") == "fail"


def test_lexicon_false_matches(check: Any) -> None:
    bot = turn("ai_agent", "Hi, I'm a virtual assistant.", "10:00:00")
    r = check([
        c("vi-who", [turn("ai_agent", "Bạn muốn gặp ai ạ?", "10:00:00")], language="vi"),
        c("zh-ai", [bot, turn("customer", "人工智能能帮我退款吗？", "10:00:10")], language="zh"),
        c("th-courier", [bot, turn("customer", "พนักงานส่งของยังไม่มา", "10:00:10")], language="th"),
        c("en-steps", [bot, turn("customer", "Please put me through the steps to reset my password", "10:00:10")]),
        c("en-me", [bot, turn("customer", "I'm a real person, not a bot!", "10:00:10")]),
        c("en-ask", [bot, turn("customer", "Please connect me to a human", "10:00:10")]),
    ], only=["ai_disclosure", "handoff_missed"])  # fmt: skip
    assert r.outcome("vi-who", "ai_disclosure") == "fail"
    assert [r.outcome(x, "handoff_missed") for x in ("zh-ai", "th-courier", "en-steps", "en-me")] == [
        "na"
    ] * 4
    assert r.outcome("en-ask", "handoff_missed") == "fail"


def test_bot_loop_counts_restatements_of_one_message_as_whole_phrases(check: Any) -> None:
    r = check([
        c("thanks", [turn("customer", "Thank you so much", "10:00:00"), turn("ai_agent", "Welcome.", "10:00:01"),
                     turn("customer", "No, thank you so much for your help", "10:00:02"),
                     turn("ai_agent", "Anytime.", "10:00:03"),
                     turn("customer", "Thank you so much, bye!", "10:00:04")]),
        c("two-messages", [turn("customer", "Where is my parcel now", "10:00:00"),
                           turn("customer", "Can I change the address", "10:00:01"),
                           turn("ai_agent", "Checking.", "10:00:02"),
                           turn("customer", "Again: where is my parcel now", "10:00:03"),
                           turn("customer", "And can I change the address", "10:00:04")]),
        c("earliest", [turn("customer", "?", "10:00:00")]
          + [turn("ai_agent", "Text B is repeated here.", f"10:00:0{i}") for i in (1, 2, 3)]
          + [turn("ai_agent", "Text A is repeated here.", f"10:00:0{i}") for i in (4, 5, 6, 7)]),
    ], only=["bot_loop"])  # fmt: skip
    assert r.outcome("thanks", "bot_loop") == "fail"  # "thank you so much" restated twice, as a phrase
    assert r.outcome("two-messages", "bot_loop") == "pass"  # each restated once
    assert r[("earliest", "bot_loop")][1] == 2


def test_disclosure_skips_tool_calls_and_counts_a_system_notice(check: Any) -> None:
    r = check([
        c("tool", [turn("ai_agent", "[tool] get_user_details({})", "10:00:00", action="get_user_details"),
                   turn("ai_agent", "Hi, I'm an AI assistant.", "10:00:01")]),
        c("system", [turn("system", "You are chatting with our virtual assistant.", "10:00:00"),
                     turn("ai_agent", "Hello! How can I help?", "10:00:01")]),
    ], only=["ai_disclosure"])  # fmt: skip
    assert r[("tool", "ai_disclosure")][:2] == ("pass", 2)
    assert r[("system", "ai_disclosure")][:2] == ("pass", 1)


def test_abandonment_ignores_a_closing_system_turn(check: Any) -> None:
    r = check([c("x", [
        turn("ai_agent", "Hi, I'm a bot.", "10:00:00"),
        turn("ai_agent", "Transferring.", "10:00:01", action="transfer_to_human"),
        turn("customer", "Hello? anyone?", "10:05:00"),
        turn("system", "Customer left the chat.", "10:06:00"),
    ])], only=["handoff_abandoned"])  # fmt: skip
    assert r[("x", "handoff_abandoned")][:2] == ("fail", 3)
