"""The synthetic data generator: determinism, the interchange rules, and the planted edge cases.

The checks here are plain Python on the files written, independent of the generator's internals
(its phrase list of requests for a human is the one thing borrowed, to find such requests).
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audits.errors import ConfigError
from audits.generator import (
    ACCOUNT_ACTIONS,
    ASK_HUMAN_PHRASES,
    BOTS,
    DEFAULT_RATES,
    KINDS,
    OBSERVED,
    PHRASES,
    GenerationSummary,
    core,
    generate,
)
from audits.ingest.load import expand_paths

N = 3000
SEED = 20261101
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
OFFSETS = {"SG": {"+08:00"}, "MY": {"+08:00"}, "PH": {"+08:00"}, "ID": {"+07:00"}, "VN": {"+07:00"},
           "TH": {"+07:00"}, "AU": {"+10:00", "+11:00"}}  # fmt: skip
LANGUAGES = {"SG": {"en", "zh"}, "MY": {"ms", "en", "zh"}, "PH": {"fil", "en"}, "ID": {"id", "en"},
             "VN": {"vi", "en"}, "TH": {"th", "en"}, "AU": {"en"}}  # fmt: skip
CHANNELS = {"voice", "chat", "whatsapp", "email", "sms", "social"}
HANDLERS = {"ai", "human", "hybrid"}
OUTCOMES = {"resolved", "unresolved", "escalated", "abandoned", "transferred"}
SPEAKERS = {"customer", "ai_agent", "human_agent", "system"}
AGENTS = {"ai_agent", "human_agent"}
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){15}\d(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
PHONE = re.compile(r"\+\d{2} \d[\d -]{7,}\d")
NATIONAL_ID = re.compile(r"(?<![A-Za-z0-9])(?:[STFG]\d{7}[A-Z]|\d{6}-\d{2}-\d{4})(?![A-Za-z0-9])")


def luhn(digits: str) -> bool:
    """Independent of the generator's own luhn_valid on purpose: a test must not reuse the code it checks."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def pii_in(text: str) -> list[str]:
    """Personal data in a text: Luhn-valid 16-digit card numbers, emails, phones, national ids."""
    cards = [m for m in CARD.findall(text) if luhn(re.sub(r"\D", "", m))]
    return cards + EMAIL.findall(text) + PHONE.findall(text) + NATIONAL_ID.findall(text)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """3000 conversations (JSONL) with their KB and ground truth, read back."""
    out = tmp_path_factory.mktemp("gen")
    summary = generate(out, conversations=N, seed=SEED)
    records = read_jsonl(out / "conversations.jsonl")
    truth = read_jsonl(out / "_ground_truth.jsonl")
    planted: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)  # kind -> id -> detail
    for t in truth:
        planted[t["kind"]][t["conversation_id"]] = t["detail"]
    return {
        "out": out, "summary": summary, "records": records, "by_id": {r["conversation_id"]: r for r in records},
        "truth": truth, "planted": planted, "kb": read_jsonl(out / "kb_articles.jsonl"),
        "gt_summary": json.loads((out / "_ground_truth_summary.json").read_text(encoding="utf-8")),
    }  # fmt: skip


def files_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# ---------------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "compress"), [("jsonl", False), ("jsonl", True), ("parquet", False)])
def test_same_arguments_write_the_same_bytes(tmp_path: Path, fmt: str, compress: bool) -> None:
    a = generate(tmp_path / "a", conversations=400, seed=7, fmt=fmt, compress=compress)
    b = generate(tmp_path / "b", conversations=400, seed=7, fmt=fmt, compress=compress)
    c = generate(tmp_path / "c", conversations=400, seed=8, fmt=fmt, compress=compress)
    first, second, other = (files_bytes(Path(s.out_dir)) for s in (a, b, c))
    assert len(first) == 4 + (fmt == "parquet") and first == second
    conv = "conversations.turns.parquet" if fmt == "parquet" else Path(a.files[0]).name
    assert other[conv] != first[conv]
    assert other["_ground_truth.jsonl"] != first["_ground_truth.jsonl"]
    assert other["kb_articles.jsonl"] == first["kb_articles.jsonl"]  # the KB depends on dates only


def test_gzip_holds_the_plain_bytes_with_a_fixed_header(tmp_path: Path) -> None:
    plain = generate(tmp_path / "plain", conversations=200, seed=3)
    packed = generate(tmp_path / "packed", conversations=200, seed=3, compress=True)
    raw = Path(packed.files[0]).read_bytes()
    assert Path(packed.files[0]).name == "conversations.jsonl.gz"
    assert raw[4:8] == b"\0\0\0\0" and not raw[3] & 0x08  # mtime 0, no file name in the header
    assert gzip.decompress(raw) == Path(plain.files[0]).read_bytes()


# ---------------------------------------------------------------------------------------------
# The interchange rules, and a realistic mix
# ---------------------------------------------------------------------------------------------


def test_every_line_follows_the_interchange_rules(data: dict[str, Any]) -> None:
    records, seen = data["records"], set()
    assert len(records) == N
    for r in records:
        cid = r["conversation_id"]
        for key in ("conversation_id", "supplier", "channel", "handler", "started_at", "turns"):
            assert r.get(key) not in (None, "", []), (cid, key)
        assert isinstance(cid, str) and isinstance(r["supplier"], str) and cid not in seen
        seen.add(cid)
        assert r["channel"] in CHANNELS and r["handler"] in HANDLERS and r["outcome"] in OUTCOMES, cid
        assert r["market"] in OFFSETS and r["language"] in LANGUAGES[r["market"]], cid
        stamps = [r["started_at"], r["ended_at"]] + [t["at"] for t in r["turns"]]
        for key in ("requested_at", "handed_off_at"):
            stamps += [r["escalation"][key]] if key in r.get("escalation", {}) else []
        for s in stamps:
            assert RFC3339.match(s) and s[-6:] in OFFSETS[r["market"]], (cid, s)
        assert ts(r["started_at"]) <= ts(r["turns"][0]["at"]) and ts(r["ended_at"]) >= ts(
            r["turns"][-1]["at"]
        )
        assert 4 <= len(r["turns"]) <= 16, cid
        for prev, turn in zip(r["turns"], r["turns"][1:], strict=False):
            assert ts(turn["at"]) >= ts(prev["at"]), (cid, turn)
        for turn in r["turns"]:
            assert turn["speaker"] in SPEAKERS and isinstance(turn["text"], str) and turn["text"].strip(), cid
            assert set(turn) <= {"speaker", "text", "at", "kb_article_ids", "action"}, cid
            kb = turn.get("kb_article_ids")
            assert kb is None or (turn["speaker"] in AGENTS and kb and all(isinstance(k, str) for k in kb))
        assert "csat" not in r or (type(r["csat"]) is int and 1 <= r["csat"] <= 5), cid
        assert all(isinstance(a, str) for a in r["agent_ids"]) and r["customer_id"].startswith("cust-")
        assert r["metadata"] == {"synthetic": True, "generator_seed": SEED}
        if "automation" in r:
            assert isinstance(r["automation"]["failed"], bool) and r["handler"] != "human"
        if "handed_off_at" in r.get("escalation", {}):
            assert ts(r["escalation"]["handed_off_at"]) >= ts(r["escalation"]["requested_at"])
    start = date(2026, 11, 1)  # the default: a fixed date, not today
    assert {ts(r["started_at"]).date() for r in records} <= {start + timedelta(days=d) for d in range(7)}


def test_the_mix_is_realistic(data: dict[str, Any]) -> None:
    records = data["records"]
    for key, expected in (("channel", CHANNELS), ("handler", HANDLERS), ("market", set(OFFSETS)),
                          ("language", {"en", "zh", "id", "ms", "fil", "vi", "th"})):  # fmt: skip
        assert {r[key] for r in records} == expected, key
    channels = Counter(r["channel"] for r in records)
    assert channels.most_common(2)[0][0] in ("chat", "whatsapp") and channels["chat"] > channels["email"]
    assert Counter(r["channel"] for r in records if r["handler"] == "human").most_common(1)[0][0] == "voice"
    assert len({r["supplier"] for r in records}) >= 3 and len({r["journey"] for r in records}) >= 7
    # hybrid: an AI agent first, then a human after the hand-off
    for r in records:
        speakers = [t["speaker"] for t in r["turns"] if t["speaker"] in AGENTS]
        if r["handler"] == "hybrid":
            assert (
                speakers[0] == "ai_agent"
                and speakers[-1] == "human_agent"
                and "handed_off_at" in r["escalation"]
            )
        else:
            assert set(speakers) == {"ai_agent" if r["handler"] == "ai" else "human_agent"}
    # AI agents say they are AI in their first turn, most of the time
    automated = [r for r in records if r["handler"] != "human"]
    disclosed = sum(
        "AI" in next(t["text"] for t in r["turns"] if t["speaker"] == "ai_agent") for r in automated
    )
    assert 0.8 < disclosed / len(automated) < 1
    # agents cite the KB, and texts are in the conversation's language
    assert sum(any(t.get("kb_article_ids") for t in r["turns"]) for r in records) == len(records)
    scripts = {"th": r"[\u0E00-\u0E7F]", "zh": r"[\u4E00-\u9FFF]", "vi": r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệ]"}
    for r in records:
        if r["language"] in scripts:
            assert re.search(scripts[r["language"]], r["turns"][0]["text"]), r["conversation_id"]
        elif r["language"] == "en":
            assert r["turns"][0]["text"].isascii()
    # customers come back: some on other journeys, and the planted repeats on the same one
    journeys = defaultdict(set)
    for r in records:
        journeys[r["customer_id"]].add(r["journey"])
    assert sum(len(j) > 1 for j in journeys.values()) > 50


def test_the_kb_has_two_articles_per_journey_and_changed_figures(data: dict[str, Any]) -> None:
    kb = data["kb"]
    assert len({(a["article_id"], a["version"]) for a in kb}) == len(kb)
    for a in kb:
        assert all(isinstance(a[k], str) and a[k] for k in ("article_id", "version", "title", "body"))
        assert RFC3339.match(a["updated_at"])
    versions = defaultdict(dict)
    for a in kb:
        versions[a["article_id"]][a["version"]] = set(re.findall(r"\d+", a["body"]))
    assert len(versions) >= 14
    changed = [v for v in versions.values() if "2" in v and v["1"] != v["2"]]
    assert len(changed) >= 5
    cited = {k for r in data["records"] for t in r["turns"] for k in t.get("kb_article_ids", [])}
    assert cited == set(versions)


# ---------------------------------------------------------------------------------------------
# Planted edge cases
# ---------------------------------------------------------------------------------------------


def test_planted_counts_match_the_ground_truth_and_the_rates(data: dict[str, Any]) -> None:
    gt, truth = data["gt_summary"], data["truth"]
    counts = Counter(t["kind"] for t in truth)
    assert gt["planted"] == {k: counts[k] for k in KINDS} == data["summary"].planted
    assert gt["conversations"] == N and gt["seed"] == SEED and gt["rates"] == DEFAULT_RATES
    assert gt["turns"] == sum(len(r["turns"]) for r in data["records"]) == data["summary"].turns
    assert gt["generator_version"]
    assert len({(t["conversation_id"], t["kind"]) for t in truth}) == len(truth)
    for t in truth:
        assert (
            t["supplier"] == data["by_id"][t["conversation_id"]]["supplier"] and t["kind"] in KINDS + OBSERVED
        )
    assert gt["observed"] == {k: counts[k] for k in OBSERVED}
    for kind, rate in DEFAULT_RATES.items():
        # Each conversation carries a kind with probability `rate`: the count is binomial(N, rate);
        # 4 standard deviations leave a chance of about 1 in 15,000 per kind to fail by bad luck.
        sigma = math.sqrt(N * rate * (1 - rate))
        assert abs(counts[kind] - N * rate) <= 4 * sigma, (kind, counts[kind], N * rate)


def live_numbers(kb: list[dict[str, Any]], article_id: str, at: datetime) -> set[str]:
    """The numbers in the version of an article that was live at `at`."""
    live = max((a for a in kb if a["article_id"] == article_id and ts(a["updated_at"]) <= at),
               key=lambda a: ts(a["updated_at"]))  # fmt: skip
    return set(re.findall(r"\d+", live["body"]))


def symptoms(
    r: dict[str, Any], kb: list[dict[str, Any]], earlier: dict[tuple[str, str], list[datetime]]
) -> set[str]:
    """The edge cases a conversation shows, judged from its data alone."""
    found = set()
    turns = r["turns"]
    if r.get("automation", {}).get("failed"):
        found.add("failed_automation")
    ai_texts = Counter(t["text"] for t in turns if t["speaker"] == "ai_agent")
    if ai_texts and max(ai_texts.values()) >= 3:
        found.add("bot_loop")
    asked = any(t["speaker"] == "customer" and t["text"] in ASK_HUMAN_PHRASES for t in turns)
    if asked and "handed_off_at" not in r.get("escalation", {}):
        found.add("missed_handoff")
    esc = r.get("escalation", {})
    if "handed_off_at" in esc and (ts(esc["handed_off_at"]) - ts(esc["requested_at"])).total_seconds() > 300:
        found.add("slow_handoff")
    if any(t["speaker"] in AGENTS and pii_in(t["text"]) for t in turns):
        found.add("pii_echo")
    for t in turns:
        for article in t.get("kb_article_ids", []):
            if not set(re.findall(r"\d+", t["text"])) <= live_numbers(kb, article, ts(t["at"])):
                found.add("kb_contradiction")
    first_ai = next((t["text"] for t in turns if t["speaker"] == "ai_agent"), None)
    disclosures = [d.format(bot=name) for d in PHRASES[r["language"]]["disclose"] for _, name in BOTS]
    if first_ai is not None and not any(first_ai.startswith(d) for d in disclosures):
        found.add("no_ai_disclosure")
    verified = False
    for t in turns:
        verified = verified or t.get("action") == "verify_identity"
        if t.get("action") in ACCOUNT_ACTIONS and not verified:
            found.add("unverified_action")
    start = ts(r["started_at"])
    if any(timedelta(0) < start - e <= timedelta(days=7) for e in earlier[(r["customer_id"], r["journey"])]):
        found.add("repeat_contact")
    return found


def assert_truth_is_exact(
    records: list[dict[str, Any]], truth: list[dict[str, Any]], kb: list[dict[str, Any]]
) -> None:
    """Every conversation shows exactly the kinds the ground truth lists for it."""
    earlier = defaultdict(list)
    for r in records:
        earlier[(r["customer_id"], r["journey"])].append(ts(r["started_at"]))
    listed = defaultdict(set)
    for t in truth:
        listed[t["conversation_id"]].add(t["kind"])
    for r in records:
        assert symptoms(r, kb, earlier) == listed[r["conversation_id"]], r["conversation_id"]


def test_each_planted_kind_shows_in_the_data_and_nowhere_else(data: dict[str, Any]) -> None:
    assert_truth_is_exact(data["records"], data["truth"], data["kb"])
    assert all(data["planted"][kind] for kind in KINDS)
    assert all(data["gt_summary"]["observed"][kind] for kind in OBSERVED)


def test_chunks_join_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Repeat contacts and customers span chunks; Parquet gets a row group per chunk."""
    monkeypatch.setattr(core, "CHUNK", 400)
    s = generate(tmp_path / "j", conversations=2000, seed=5, progress=True)
    assert "2000/2000" in capsys.readouterr().err  # the progress bar
    records, truth = read_jsonl(Path(s.files[0])), read_jsonl(Path(s.files[2]))
    assert_truth_is_exact(records, truth, read_jsonl(Path(s.files[1])))
    chunk = {r["conversation_id"]: i // 400 for i, r in enumerate(records)}
    repeats = [t for t in truth if t["kind"] == "repeat_contact"]
    assert any(chunk[t["detail"]["previous_conversation_id"]] < chunk[t["conversation_id"]] for t in repeats)
    p = generate(tmp_path / "p", conversations=2000, seed=5, fmt="parquet")
    assert (
        pq.ParquetFile(p.files[0]).metadata.num_row_groups
        == pq.ParquetFile(p.files[1]).metadata.num_row_groups
        == 5
    )
    assert pq.read_table(p.files[0]).column("conversation_id").to_pylist() == list(chunk)


def test_ground_truth_details_point_at_the_symptom(data: dict[str, Any]) -> None:
    by_id, planted, kb = data["by_id"], data["planted"], data["kb"]
    for cid, d in planted["failed_automation"].items():
        r = by_id[cid]
        assert r["handler"] in ("ai", "hybrid") and r["outcome"] in ("unresolved", "escalated")
        assert r["automation"] == {"failed": True, "reason": d["reason"]}
    for cid, d in planted["bot_loop"].items():
        turns = by_id[cid]["turns"]
        repeated = {turns[i - 1]["text"] for i in d["turns"]}
        assert len(d["turns"]) >= 3 and len(repeated) == 1
        assert all(turns[i - 1]["speaker"] == "ai_agent" for i in d["turns"])
        customer = [t["text"] for t in turns if t["speaker"] == "customer"]
        assert sum(customer[0] in c for c in customer[1:]) >= 2  # the customer repeats the request
    for cid, d in planted["missed_handoff"].items():
        r = by_id[cid]
        assert r["turns"][d["turn"] - 1]["text"] in ASK_HUMAN_PHRASES and r["handler"] == "ai"
        assert ("escalation" in r) == d["escalation_requested"] and "human_agent" not in {
            t["speaker"] for t in r["turns"]
        }
    for cid, d in planted["slow_handoff"].items():
        esc = by_id[cid]["escalation"]
        assert (
            (ts(esc["handed_off_at"]) - ts(esc["requested_at"])).total_seconds() == d["latency_seconds"] > 300
        )
    for cid, d in planted["pii_echo"].items():
        turns = by_id[cid]["turns"]
        echoed = pii_in(turns[d["turn"] - 1]["text"])
        assert turns[d["turn"] - 1]["speaker"] in AGENTS and echoed
        assert any(echoed[0] in t["text"] for t in turns[: d["turn"] - 1] if t["speaker"] == "customer")
    assert {d["pii_type"] for d in planted["pii_echo"].values()} >= {"card_number", "email", "phone"}
    for cid, d in planted["kb_contradiction"].items():
        turn = by_id[cid]["turns"][d["turn"] - 1]
        assert turn["kb_article_ids"] == [d["article_id"]] and d["stated"] in turn["text"]
        assert not set(d["stated"].split("-")) <= live_numbers(kb, d["article_id"], ts(turn["at"]))
    assert {d["type"] for d in planted["kb_contradiction"].values()} == {"stale_version", "wrong_figure"}
    for cid, d in planted["repeat_contact"].items():
        r, prev = by_id[cid], by_id[d["previous_conversation_id"]]
        gap = ts(r["started_at"]) - ts(prev["started_at"])
        assert (r["customer_id"], r["journey"]) == (prev["customer_id"], prev["journey"])
        assert timedelta(days=1) <= gap <= timedelta(days=6) and prev["conversation_id"] < cid


def test_requests_for_a_human_are_written_in_every_language() -> None:
    for phrase in ("I want to talk to a human agent", "Saya mau bicara dengan agen manusia",
                   "Saya nak bercakap dengan ejen manusia", "Gusto kong makausap ang tao",
                   "Tôi muốn nói chuyện với nhân viên", "ขอคุยกับพนักงานหน่อย", "我要转人工"):  # fmt: skip
        assert any(p.startswith(phrase) for p in ASK_HUMAN_PHRASES), phrase


def test_rates_can_be_changed_and_are_checked(tmp_path: Path) -> None:
    none = generate(tmp_path / "none", conversations=300, seed=1, rates=dict.fromkeys(KINDS, 0.0))
    assert sum(none.planted.values()) == 0
    # only the observed kinds (not planted at a rate) remain in the ground truth
    assert {t["kind"] for t in read_jsonl(Path(none.files[-2]))} == set(OBSERVED)
    loops = generate(
        tmp_path / "loops", conversations=300, seed=1, rates={"bot_loop": 1.0, "slow_handoff": 0.0}
    )
    assert loops.planted["bot_loop"] == 300 and loops.planted["slow_handoff"] == 0
    assert loops.planted["failed_automation"] > 0  # the kinds not named keep their default rates
    for bad in ({"bot_loop": 1.5}, {"bot_loop": -0.1}, {"nonsense": 0.1}, {"bot_loop": "0.1"},
                {"missed_handoff": 0.6, "slow_handoff": 0.6}):  # fmt: skip
        with pytest.raises(ConfigError):
            generate(tmp_path / "bad", conversations=10, seed=1, rates=bad)
    for kwargs in ({"fmt": "csv"}, {"days": 0}, {"seed": -1}, {"conversations": 0}):
        with pytest.raises(ConfigError):
            generate(tmp_path / "bad", **{"conversations": 10, "seed": 1, **kwargs})


def test_start_and_days_place_the_conversations(tmp_path: Path) -> None:
    s = generate(tmp_path, conversations=300, seed=2, start=date(2027, 3, 1), days=2)
    dates = {ts(r["started_at"]).date() for r in read_jsonl(Path(s.files[0]))}
    assert dates == {date(2027, 3, 1), date(2027, 3, 2)}


def test_summary_names_the_files(data: dict[str, Any]) -> None:
    summary: GenerationSummary = data["summary"]
    d = summary.to_dict()
    assert set(d) == {"out_dir", "conversations", "turns", "seed", "planted", "files"}
    assert [Path(f).name for f in d["files"]] == ["conversations.jsonl", "kb_articles.jsonl",
                                                 "_ground_truth.jsonl", "_ground_truth_summary.json"]  # fmt: skip
    assert all(Path(f).is_file() for f in d["files"]) and d["conversations"] == N


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_loading_the_folder_skips_the_ground_truth(tmp_path: Path, fmt: str) -> None:
    """The ground-truth files start with `_`, so a folder expands to the conversations and the KB only."""
    s = generate(tmp_path, conversations=50, seed=1, fmt=fmt)
    truth = [Path(f) for f in s.files if Path(f).name.startswith("_")]
    assert [f.name for f in truth] == ["_ground_truth.jsonl", "_ground_truth_summary.json"]
    assert all(f.is_file() for f in truth)
    assert not {f.name for f in expand_paths([tmp_path])} & {f.name for f in truth}


# ---------------------------------------------------------------------------------------------
# Parquet
# ---------------------------------------------------------------------------------------------

TS = pa.timestamp("us", tz="UTC")
CONVERSATION_COLUMNS = [
    ("conversation_id", pa.string()), ("supplier", pa.string()), ("channel", pa.string()),
    ("handler", pa.string()), ("started_at", TS), ("ended_at", TS), ("market", pa.string()),
    ("language", pa.string()), ("journey", pa.string()), ("agent_ids", pa.list_(pa.string())),
    ("customer_id", pa.string()), ("outcome", pa.string()), ("csat", pa.int32()),
    ("automation_failed", pa.bool_()), ("automation_reason", pa.string()), ("escalation_requested_at", TS),
    ("escalation_handed_off_at", TS), ("escalation_reason", pa.string()), ("metadata", pa.string()),
]  # fmt: skip
TURN_COLUMNS = [
    ("conversation_id", pa.string()), ("supplier", pa.string()), ("turn_index", pa.int32()),
    ("speaker", pa.string()), ("text", pa.string()), ("at", TS), ("kb_article_ids", pa.list_(pa.string())),
    ("action", pa.string()),
]  # fmt: skip


def test_parquet_has_the_flat_columns_and_the_same_conversations(
    tmp_path: Path, data: dict[str, Any]
) -> None:
    s = generate(tmp_path, conversations=N, seed=SEED, fmt="parquet")
    assert [Path(f).name for f in s.files[:2]] == [
        "conversations.conversations.parquet",
        "conversations.turns.parquet",
    ]
    conv, turns = pq.read_table(s.files[0]), pq.read_table(s.files[1])
    assert [(f.name, f.type) for f in conv.schema] == CONVERSATION_COLUMNS
    assert [(f.name, f.type) for f in turns.schema] == TURN_COLUMNS
    assert (tmp_path / "_ground_truth.jsonl").read_bytes() == (
        data["out"] / "_ground_truth.jsonl"
    ).read_bytes()
    records = data["records"]
    assert conv.column("conversation_id").to_pylist() == [r["conversation_id"] for r in records]
    counts = Counter(turns.column("conversation_id").to_pylist())
    assert [counts[r["conversation_id"]] for r in records] == [len(r["turns"]) for r in records]
    assert turns.column("text").to_pylist() == [t["text"] for r in records for t in r["turns"]]
    index = turns.column("turn_index").to_pylist()
    assert index == [i for r in records for i in range(1, len(r["turns"]) + 1)]
    rows = conv.to_pylist()
    for row, r in zip(rows, records, strict=True):
        assert row["started_at"] == ts(r["started_at"]) and row["csat"] == r.get("csat")
        assert row["automation_failed"] == r.get("automation", {}).get("failed")
        assert row["escalation_handed_off_at"] == (
            ts(r["escalation"]["handed_off_at"]) if "handed_off_at" in r.get("escalation", {}) else None
        )
        assert json.loads(row["metadata"]) == r["metadata"]
    assert pq.ParquetFile(s.files[1]).metadata.num_row_groups == 1  # one row group per 50,000 conversations
