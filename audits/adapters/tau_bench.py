"""tau-bench (sierra-research/tau-bench) exports as interchange records.

Two kinds of file:

- Trajectories (`*.json`): a JSON array of `{task_id, trial, reward, info, traj}`, where `traj` is
  a chat-completions transcript. Each item becomes one conversation (record N = item N).
- The policy (`*wiki*.md`): Markdown whose `## ` sections become KB articles; the text before the
  first `## ` is the article `general` (record 1), then one per section in order.

Conversation mapping (see the project's adapter notes for the reasons):

- conversation_id `tau-{domain}-{task_id}-{trial}`; supplier `tau-bench-{model}`, the model taken
  from the file name (`..._gpt-4o-airline.json` -> `gpt-4o`), or `tau-bench` when the name does
  not say; domain from the policy's title (`# Airline Agent Policy` -> `airline`), else the file name.
- channel chat, handler ai, language en; no customer_id (trials replay one simulated customer):
  `info.task.user_id` goes to metadata.user_id.
- Timestamps are synthetic: tau-bench records none. started_at is the policy's "current time"
  (`2024-05-15 15:00:00 EST` -> `2024-05-15T15:00:00-05:00`); turns carry no `at`;
  metadata.timestamps_synthetic is true.
- outcome `transferred` when the agent called `transfer_to_human_agents`, else `resolved` when the
  reward is 1 and `unresolved` when it is 0; automation.failed is reward < 1 (reason only then);
  escalation {requested_at: started_at, reason: the transfer's `summary`} when transferred.
- journey from the expected write actions (`info.task.actions`), else from the write tools the
  agent called, else `other` (metadata.journey_source says which): book, modify, baggage,
  passengers, cancel, compensation, joined with `+` when several.
- One turn per transcript message after the system message (the policy, loaded as KB instead), so
  turn N is `traj[N]`: user -> customer; assistant -> ai_agent, a tool call shown as
  `[tool] name(arguments)` with `action` = the tool's name (after the message's text when it has
  both) and `kb_article_ids` = the policy section that governs a write tool; tool -> system.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from audits.adapters._common import encode, json_array_with, read_json, read_text, require, slug, type_name
from audits.errors import AdapterError

SOURCE = "tau-bench"
TRANSFER_TOOL = "transfer_to_human_agents"
FAILED_REASON = "tau-bench reward {reward:g}: end state differs from the expected actions"

# When the policy states no current time (the airline policy does): tau-bench's own clock.
DEFAULT_STARTED_AT = "2024-05-15T15:00:00-05:00"
DEFAULT_UPDATED_AT = "2024-05-15T00:00:00-05:00"
_CLOCK = re.compile(r"current time is (\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})\s*([A-Z]{1,4})?")
# Zone abbreviations as fixed offsets, taken literally (the airline policy says EST in May).
_ZONES = {
    "UTC": "+00:00", "GMT": "+00:00", "Z": "+00:00",
    "EST": "-05:00", "EDT": "-04:00", "CST": "-06:00", "CDT": "-05:00",
    "MST": "-07:00", "MDT": "-06:00", "PST": "-08:00", "PDT": "-07:00",
}  # fmt: skip

# The policy section (slug of its `## ` heading) each write tool is governed by; transfers are
# governed by the general rules at the top ("transfer ... if and only if ...").
TOOL_SECTIONS = {
    "book_reservation": "book-flight",
    "update_reservation_flights": "modify-flight",
    "update_reservation_passengers": "modify-flight",
    "update_reservation_baggages": "modify-flight",
    "cancel_reservation": "cancel-flight",
    "send_certificate": "refund",
    TRANSFER_TOOL: "general",
}
# Journey labels of the write tools, in the order a combined journey lists them.
JOURNEYS = {
    "book_reservation": "book",
    "update_reservation_flights": "modify",
    "update_reservation_baggages": "baggage",
    "update_reservation_passengers": "passengers",
    "cancel_reservation": "cancel",
    "send_certificate": "compensation",
}
SPEAKERS = {"user": "customer", "assistant": "ai_agent", "tool": "system"}
EMPTY_TOOL_RESULT = "(empty tool result)"


# ---------------------------------------------------------------------------------------------
# Which files, which kind
# ---------------------------------------------------------------------------------------------


def is_policy(path: Path) -> bool:
    """A tau-bench policy file: Markdown named like tau-bench's `wiki.md` (`airline__wiki.md`)."""
    return path.suffix.lower() == ".md" and "wiki" in path.stem.lower()


def understands(path: Path) -> bool:
    """Whether a folder's file is a tau-bench export: a policy, or a `.json` array of trajectories
    (items with a `task_id`, judged from the file's start)."""
    if is_policy(path):
        return True
    return path.suffix.lower() == ".json" and json_array_with(path, b'"task_id"')


def lines(path: Path) -> tuple[str, list[bytes]]:
    """(kind, records) for one tau-bench file: `.md` is the policy, anything else trajectories."""
    if path.suffix.lower() == ".md":
        return "kb_articles", policy_lines(path)
    return "conversations", trajectory_lines(path)


# ---------------------------------------------------------------------------------------------
# The policy
# ---------------------------------------------------------------------------------------------


def policy_sections(text: str) -> tuple[str | None, list[tuple[str, str]]]:
    """(the `# ` title or None, [(heading, body)]): the text before the first `## ` first, as
    heading None, then each `## ` section; bodies are stripped, deeper headings stay in them."""
    title = None
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in text.splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif title is None and len(sections) == 1 and line.startswith("# "):
            title = line[2:].strip()
        else:
            sections[-1][1].append(line)
    return title, [(h or "", "\n".join(body).strip()) for h, body in sections]


def policy_domain(text: str) -> str | None:
    """The domain a policy is for, from its title's first word (`# Airline Agent Policy` -> airline)."""
    m = re.search(r"^#\s+(\w+)", text, re.MULTILINE)
    return slug(m.group(1)) if m else None


def policy_clock(text: str) -> tuple[str, str]:
    """(the policy's "current time", the start of that day) as RFC 3339 with an offset."""
    m = _CLOCK.search(text)
    if not m or (m.group(3) and m.group(3) not in _ZONES):
        return DEFAULT_STARTED_AT, DEFAULT_UPDATED_AT
    offset = _ZONES.get(m.group(3) or "UTC", "+00:00")
    return f"{m.group(1)}T{m.group(2)}{offset}", f"{m.group(1)}T00:00:00{offset}"


def section_ids(text: str) -> list[str]:
    """The article ids' last parts for a policy's sections: `general`, then the headings' slugs
    (a repeated slug gets `-2`, `-3`, ... so ids stay unique)."""
    _, sections = policy_sections(text)
    out: list[str] = []
    for heading, _body in sections:
        base = slug(heading) if heading else "general"
        base = base or "section"
        name, n = base, 1
        while name in out:
            n += 1
            name = f"{base}-{n}"
        out.append(name)
    return out


def policy_lines(path: Path) -> list[bytes]:
    """The policy's KB articles: `{domain}-policy/general`, then one per `## ` section."""
    text = read_text(path)
    title, sections = policy_sections(text)
    if len(sections) == 1 and not sections[0][1]:
        raise AdapterError(str(path), "no policy text: expected Markdown with `## ` sections")
    domain = policy_domain(text) or _domain_from_name(path)
    _, updated_at = policy_clock(text)
    out = []
    for (heading, body), section in zip(sections, section_ids(text), strict=True):
        if section == "general" and not body:
            continue  # nothing before the first section
        out.append(
            encode(
                {
                    "article_id": f"{domain}-policy/{section}",
                    "version": "1",
                    "title": heading or title or "General",
                    "body": body,
                    "updated_at": updated_at,
                }
            )
        )
    return out


def _domain_from_name(path: Path) -> str:
    """`airline__wiki.md` -> airline; `airline/wiki.md` -> airline; `x-airline.json` -> airline."""
    stem = path.stem
    if stem.lower() == "wiki":
        return slug(path.parent.name) or "tau"
    if "__" in stem and "wiki" in stem.lower():
        return slug(stem.split("__")[0]) or "tau"
    return slug(stem.rsplit("-", 1)[-1]) or "tau"


def _model_from_name(path: Path, domain: str) -> str | None:
    """The model in a trajectories file name: `historical_trajectories__gpt-4o-airline` -> gpt-4o."""
    stem = path.stem.split("__")[-1]
    suffix = f"-{domain}"
    if stem.lower().endswith(suffix) and len(stem) > len(suffix):
        return stem[: -len(suffix)]
    return None


# ---------------------------------------------------------------------------------------------
# Trajectories
# ---------------------------------------------------------------------------------------------


def trajectory_lines(path: Path) -> list[bytes]:
    """One conversation record per trajectory, in the file's order."""
    data = read_json(path)
    if not isinstance(data, list):
        raise AdapterError(str(path), f"expected a JSON array of trajectories, got {type_name(data)}")
    return [encode(trajectory_record(item, path=path, line=i)) for i, item in enumerate(data, start=1)]


def _tool_calls(message: dict[str, Any], *, path: Path, line: int, where: str) -> list[tuple[str, str]]:
    """[(name, arguments as text)] of an assistant message's tool calls."""
    calls = message.get("tool_calls")
    if calls is None:
        return []
    if not isinstance(calls, list):
        raise AdapterError(str(path), f"expected an array, got {type_name(calls)}", line=line,
                           field=f"{where}.tool_calls")  # fmt: skip
    out = []
    for k, call in enumerate(calls):
        at = f"{where}.tool_calls[{k}]"
        if not isinstance(call, dict):
            raise AdapterError(str(path), f"expected an object, got {type_name(call)}", line=line, field=at)
        fn = require(call, "function", dict, path=path, line=line, field=f"{at}.function", what="an object")
        name = require(fn, "name", str, path=path, line=line, field=f"{at}.function.name", what="a string")
        args = fn.get("arguments")
        text = (
            args
            if isinstance(args, str)
            else json.dumps(args if args is not None else {}, ensure_ascii=False)
        )
        out.append((name, text))
    return out


def _content(message: dict[str, Any], *, path: Path, line: int, where: str) -> str | None:
    value = message.get("content")
    if value is not None and not isinstance(value, str):
        raise AdapterError(str(path), f"expected a string or null, got {type_name(value)}", line=line,
                           field=f"{where}.content")  # fmt: skip
    return value


def _summary(arguments: str) -> str | None:
    """The `summary` argument of a transfer, or the arguments as given when they are not JSON."""
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return arguments or None
    if isinstance(parsed, dict) and isinstance(parsed.get("summary"), str):
        return parsed["summary"]
    return None


def _journey(expected: list[str], called: list[str]) -> tuple[str, str]:
    """(journey, where it came from) from the expected write actions, else the write tools called."""
    for names, source in ((expected, "expected_actions"), (called, "tools_used")):
        labels = [label for tool, label in JOURNEYS.items() if tool in names]
        if labels:
            return "+".join(labels), source
    return "other", "none"


def trajectory_record(item: object, *, path: Path, line: int) -> dict[str, Any]:
    """The conversation record of one tau-bench trajectory (item `line`, 1-based, of `path`)."""
    if not isinstance(item, dict):
        raise AdapterError(str(path), f"expected an object, got {type_name(item)}", line=line)
    kw: dict[str, Any] = {"path": path, "line": line}
    task_id = require(item, "task_id", (int, str), field="task_id", what="an integer or a string", **kw)
    trial = require(item, "trial", (int, str), field="trial", what="an integer or a string", **kw)
    reward = require(item, "reward", (int, float), field="reward", what="a number", **kw)
    traj = require(item, "traj", list, field="traj", what="an array of messages", **kw)
    info = item.get("info") or {}
    if not isinstance(info, dict):
        raise AdapterError(str(path), f"expected an object, got {type_name(info)}", line=line, field="info")
    task = info.get("task") or {}
    if not isinstance(task, dict):
        raise AdapterError(
            str(path), f"expected an object, got {type_name(task)}", line=line, field="info.task"
        )
    expected = [
        a["name"] for a in task.get("actions") or [] if isinstance(a, dict) and isinstance(a.get("name"), str)
    ]

    policy = ""
    turns: list[dict[str, Any]] = []
    called: list[str] = []
    transfer_summary: str | None = None
    transferred = False
    for i, message in enumerate(traj):
        where = f"traj[{i}]"
        if not isinstance(message, dict):
            raise AdapterError(
                str(path), f"expected an object, got {type_name(message)}", line=line, field=where
            )
        role = require(message, "role", str, field=f"{where}.role", what="a string", **kw)
        content = _content(message, where=where, **kw)
        if role == "system":
            policy += content or ""
            continue
        if role not in SPEAKERS:
            raise AdapterError(str(path), f"unknown role {role!r} (expected system, user, assistant or tool)",
                               line=line, field=f"{where}.role")  # fmt: skip
        if role == "tool":
            turns.append(
                {"speaker": "system", "text": content if (content or "").strip() else EMPTY_TOOL_RESULT}
            )
            continue
        calls = _tool_calls(message, where=where, **kw) if role == "assistant" else []
        if not calls:
            turns.append({"speaker": SPEAKERS[role], "text": content})
            continue
        # One turn per call; the message's own text goes with the first (one call each in practice).
        for k, (name, arguments) in enumerate(calls):
            called.append(name)
            text = f"[tool] {name}({arguments})"
            if k == 0 and content and content.strip():
                text = f"{content}\n{text}"
            turn: dict[str, Any] = {"speaker": "ai_agent", "text": text, "action": name}
            if name in TOOL_SECTIONS:
                turn["kb_article_ids"] = [TOOL_SECTIONS[name]]  # made full ids below
            turns.append(turn)
            if name == TRANSFER_TOOL and not transferred:
                transferred = True
                transfer_summary = _summary(arguments)

    domain = policy_domain(policy) or _domain_from_name(path)
    model = _model_from_name(path, domain)
    started_at, _ = policy_clock(policy)
    sections = set(section_ids(policy)) if policy else set(TOOL_SECTIONS.values())
    for turn in turns:
        ids = [f"{domain}-policy/{s}" for s in turn.pop("kb_article_ids", []) if s in sections]
        if ids:
            turn["kb_article_ids"] = ids

    failed = reward < 1  # tau-bench rewards are 0 or 1
    journey, journey_source = _journey(expected, [c for c in called if c != TRANSFER_TOOL])
    record: dict[str, Any] = {
        "conversation_id": f"tau-{domain}-{task_id}-{trial}",
        "supplier": f"{SOURCE}-{model}" if model else SOURCE,
        "channel": "chat",
        "handler": "ai",
        "started_at": started_at,
        "language": "en",
        "journey": journey,
    }
    # No customer_id: the trials of a task are replays of one simulated customer at one synthetic
    # time, not repeat contacts; as customer_id they would all count as repeats. Kept in metadata.
    user_id = task.get("user_id") if isinstance(task.get("user_id"), str) and task["user_id"] else None
    record["outcome"] = "transferred" if transferred else ("unresolved" if failed else "resolved")
    record["automation"] = {"failed": failed}
    if failed:
        record["automation"]["reason"] = FAILED_REASON.format(reward=reward)
    if transferred:
        record["escalation"] = {"requested_at": started_at}
        if transfer_summary:
            record["escalation"]["reason"] = transfer_summary
    record["metadata"] = {
        "source": SOURCE,
        "user_id": user_id,
        "task_id": task_id,
        "trial": trial,
        "reward": reward,
        "instruction": task.get("instruction"),
        "expected_actions": expected,
        "journey_source": journey_source,
        "timestamps_synthetic": True,
    }
    record["turns"] = turns
    return record
