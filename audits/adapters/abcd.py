"""ABCD (asappresearch/abcd, Action-Based Conversations Dataset) exports as interchange records.

Two kinds of file:

- Conversations (`abcd_sample.json` and the like): a JSON array of
  `{convo_id, scenario{personal, order, product, flow, subflow}, original[[speaker, text]], delexed}`.
  Each item becomes one conversation (record N = item N).
- The agent handbook (`guidelines.json`): `{flow: {description, subflows: {name: {instructions,
  actions}}}}`, one KB article per subflow (record N = the Nth subflow in the file's order). Its
  siblings are read as companions when present: `kb.json` (the required action sequence per
  subflow) and `ontology.json` (the dataset's flow and subflow ids). Neither loads on its own.

Conversation mapping:

- conversation_id `abcd-{convo_id}`, supplier `abcd-human`, channel chat, handler human, language en,
  journey `{flow}/{subflow}` as the scenario names them (FAQ subflows carry the question number:
  `storewide_query/timing_4`), customer_id the scenario's `personal.username` (a pseudonym; absent
  in some scenarios).
- started_at is a fixed placeholder (ABCD records no time) and metadata.timestamps_synthetic true.
- Turns follow `original` one for one: agent -> human_agent, customer -> customer, action -> system
  with `action` = the button's name from `delexed[i].targets[2]` and `kb_article_ids` = the
  handbook article of the conversation's subflow.
- metadata: source, convo_id, flow, subflow, the customer's member level, the scenario's order
  (without the delivery address) and product. Never the customer's name, email, phone or address.

KB mapping: article_id `abcd/{flow}/{subflow}` from the dataset's ids (`abcd/product-defect/return-size`
for "Product Defect" > "Return Due to Size", so conversations' journeys and articles line up; the
handbook's display names are matched to ontology.json's ids by their words, then by order), title
`{flow name} > {subflow name}`, body the instructions with the actions (button, type, text,
subtexts) and, from kb.json, a last line `Required actions: a -> b -> c`.
"""

from __future__ import annotations

import ast
import contextlib
import re
from pathlib import Path
from typing import Any

from audits.adapters._common import encode, json_array_with, read_json, require, slug, type_name
from audits.errors import AdapterError

SOURCE = "abcd"
SUPPLIER = "abcd-human"
PLACEHOLDER_TIME = "2020-01-01T00:00:00+00:00"
SPEAKERS = {"agent": "human_agent", "customer": "customer", "action": "system"}
COMPANIONS = ("kb.json", "ontology.json")
# Order fields that locate the customer: never copied into metadata.
ADDRESS_KEYS = ("street_address", "full_address", "city", "state", "zip_code")
_FAQ_QUESTION = re.compile(r"_\d+$")  # storewide_query/timing_4: question 4 of the timing FAQ


# ---------------------------------------------------------------------------------------------
# Which files, which kind
# ---------------------------------------------------------------------------------------------


def understands(path: Path) -> bool:
    """Whether a folder's file is an ABCD export: a `.json` array of conversations (items with a
    `convo_id`, judged from the file's start) or the handbook (`guidelines*.json`); kb.json and
    ontology.json are the handbook's companions, not loadable on their own."""
    name = path.name.lower()
    if not name.endswith(".json") or name in COMPANIONS:
        return False
    return name.startswith("guidelines") or json_array_with(path, b'"convo_id"')


def lines(path: Path) -> tuple[str, list[bytes]]:
    """(kind, records) for one ABCD file, by its content: an array of conversations, or the handbook."""
    data = read_json(path)
    if isinstance(data, list):
        return "conversations", [
            encode(conversation_record(c, path=path, line=i)) for i, c in enumerate(data, 1)
        ]
    if (
        isinstance(data, dict)
        and data
        and all(isinstance(v, dict) and "subflows" in v for v in data.values())
    ):
        return "kb_articles", guideline_lines(path, data)
    if isinstance(data, dict) and (
        "intents" in data or (data and all(isinstance(v, list) for v in data.values()))
    ):
        raise AdapterError(
            str(path),
            "this is a companion of guidelines.json (kb.json or ontology.json), read with it: "
            "load guidelines.json instead",
        )
    raise AdapterError(
        str(path),
        f"expected a JSON array of ABCD conversations or the guidelines object, got {type_name(data)}",
    )


def article_id(flow: str, subflow: str) -> str:
    """The KB article of a flow's subflow, from the dataset's ids: `abcd/product-defect/return-size`.

    An FAQ subflow's question number is dropped (`timing_4` is governed by the `timing` article).
    """
    return f"{SOURCE}/{slug(flow)}/{slug(_FAQ_QUESTION.sub('', subflow))}"


# ---------------------------------------------------------------------------------------------
# Conversations
# ---------------------------------------------------------------------------------------------


def _order_metadata(order: object) -> dict[str, Any] | None:
    """The scenario's order without the address; `products` parsed when it is a Python literal."""
    if not isinstance(order, dict):
        return None
    out = {k: v for k, v in order.items() if k not in ADDRESS_KEYS}
    products = out.get("products")
    if isinstance(products, str):  # the dataset writes it as a Python repr: "[{'brand': ...}]"
        with contextlib.suppress(ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            out["products"] = ast.literal_eval(products)
    return out or None


def _action_name(delexed: list[Any] | None, i: int) -> str | None:
    """The button pressed at turn i: `delexed[i].targets[2]` when that entry is the same action."""
    if delexed is None or i >= len(delexed) or not isinstance(delexed[i], dict):
        return None
    entry = delexed[i]
    targets = entry.get("targets")
    if entry.get("speaker") != "action" or not isinstance(targets, list) or len(targets) < 3:
        return None
    return targets[2] if isinstance(targets[2], str) and targets[2] else None


def conversation_record(item: object, *, path: Path, line: int) -> dict[str, Any]:
    """The conversation record of one ABCD conversation (item `line`, 1-based, of `path`)."""
    if not isinstance(item, dict):
        raise AdapterError(str(path), f"expected an object, got {type_name(item)}", line=line)
    kw: dict[str, Any] = {"path": path, "line": line}
    convo_id = require(item, "convo_id", (int, str), field="convo_id", what="an integer or a string", **kw)
    scenario = require(item, "scenario", dict, field="scenario", what="an object", **kw)
    flow = require(scenario, "flow", str, field="scenario.flow", what="a string", **kw)
    subflow = require(scenario, "subflow", str, field="scenario.subflow", what="a string", **kw)
    original = require(item, "original", list, field="original", what="an array of [speaker, text]", **kw)
    delexed = item.get("delexed")
    if delexed is not None and (not isinstance(delexed, list) or len(delexed) != len(original)):
        got = f"{len(delexed)} entries" if isinstance(delexed, list) else type_name(delexed)
        raise AdapterError(str(path), f"expected an array as long as `original` ({len(original)}), got {got}",
                           line=line, field="delexed")  # fmt: skip

    kb_id = article_id(flow, subflow)
    turns: list[dict[str, Any]] = []
    for i, entry in enumerate(original):
        where = f"original[{i}]"
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            raise AdapterError(str(path), "expected [speaker, text]", line=line, field=where)
        speaker, text = entry
        if speaker not in SPEAKERS:
            raise AdapterError(str(path), f"unknown speaker {speaker!r} (expected agent, customer or action)",
                               line=line, field=f"{where}[0]")  # fmt: skip
        turn: dict[str, Any] = {"speaker": SPEAKERS[speaker], "text": text}
        if speaker == "action":
            name = _action_name(delexed, i)
            if name:
                turn["action"] = name
            turn["kb_article_ids"] = [kb_id]
        turns.append(turn)

    record: dict[str, Any] = {
        "conversation_id": f"{SOURCE}-{convo_id}",
        "supplier": SUPPLIER,
        "channel": "chat",
        "handler": "human",
        "started_at": PLACEHOLDER_TIME,
        "language": "en",
        "journey": f"{flow}/{subflow}",
    }
    personal = scenario.get("personal") if isinstance(scenario.get("personal"), dict) else {}
    if isinstance(personal.get("username"), str) and personal["username"]:
        record["customer_id"] = personal["username"]
    metadata: dict[str, Any] = {"source": SOURCE, "convo_id": convo_id, "flow": flow, "subflow": subflow}
    if isinstance(personal.get("member_level"), str):
        metadata["member_level"] = personal["member_level"]
    order = _order_metadata(scenario.get("order"))
    if order:
        metadata["order"] = order
    if isinstance(scenario.get("product"), dict):
        metadata["product"] = scenario["product"]
    metadata["timestamps_synthetic"] = True
    record["metadata"] = metadata
    record["turns"] = turns
    return record


# ---------------------------------------------------------------------------------------------
# The handbook
# ---------------------------------------------------------------------------------------------


def _companion(path: Path, name: str) -> Any:
    """A sibling companion file's JSON, or None when there is none."""
    other = path.with_name(name)
    return read_json(other) if other.is_file() else None


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def subflow_ids(flow_name: str, names: list[str], ontology: object) -> tuple[str, list[str]]:
    """(the flow's id, each subflow's id) for the handbook's display names.

    With ontology.json, a name takes the id all of whose words it contains ("Return Due to Size" ->
    return_size; the most words wins), and names left over take the ids left over in order
    ("Reset Two-Factor Auth" -> reset_2fa). Without it, or for a flow it does not list, the ids are
    the names' own slugs.
    """
    flow_id = slug(flow_name, "_")
    known = None
    if isinstance(ontology, dict):
        subflows = (ontology.get("intents") or {}).get("subflows")
        if isinstance(subflows, dict) and isinstance(subflows.get(flow_id), list):
            known = [s for s in subflows[flow_id] if isinstance(s, str)]
    if known is None:
        return flow_id, [slug(n, "_") for n in names]
    ids: list[str | None] = []
    left = list(known)
    for name in names:
        words = _words(name)
        fits = [s for s in left if set(s.split("_")) <= words]
        best = max((len(s.split("_")) for s in fits), default=0)
        top = [s for s in fits if len(s.split("_")) == best]
        if len(top) == 1:
            ids.append(top[0])
            left.remove(top[0])
        else:
            ids.append(None)
    unmatched = [i for i, s in enumerate(ids) if s is None]
    if len(unmatched) == len(left):
        for i, s in zip(unmatched, left, strict=True):
            ids[i] = s
    return flow_id, [s if s is not None else slug(n, "_") for s, n in zip(ids, names, strict=True)]


def _body(sub: dict[str, Any], required: object, *, path: Path, line: int, where: str) -> str:
    """The article text: first instruction, the numbered actions with their subtexts, the other
    instructions, and the required action sequence."""
    instructions = sub.get("instructions") or []
    actions = sub.get("actions") or []
    if not isinstance(instructions, list) or not all(isinstance(s, str) for s in instructions):
        raise AdapterError(
            str(path), "expected an array of strings", line=line, field=f"{where}.instructions"
        )
    if not isinstance(actions, list):
        raise AdapterError(str(path), f"expected an array, got {type_name(actions)}", line=line,
                           field=f"{where}.actions")  # fmt: skip
    parts: list[str] = instructions[:1]
    for k, action in enumerate(actions, start=1):
        if not isinstance(action, dict):
            raise AdapterError(str(path), f"expected an object, got {type_name(action)}", line=line,
                               field=f"{where}.actions[{k - 1}]")  # fmt: skip
        button, kind, text = action.get("button"), action.get("type"), action.get("text")
        head = f"{k}. [{button}]" if button else f"{k}."
        head += f" ({kind})" if kind else ""
        head += f" {text}" if text else ""
        subtext = action.get("subtext") or []
        lines_ = [head] + [f"   - {s}" for s in subtext if isinstance(s, str)]
        parts.append("\n".join(lines_))
    parts.extend(instructions[1:])
    if isinstance(required, list) and required:
        parts.append("Required actions: " + " -> ".join(str(a) for a in required))
    return "\n\n".join(p.strip() for p in parts if p.strip())


def guideline_lines(path: Path, data: dict[str, Any]) -> list[bytes]:
    """One KB article per subflow of the handbook, in the file's order."""
    kb = _companion(path, "kb.json")
    ontology = _companion(path, "ontology.json")
    out: list[bytes] = []
    for flow_name, flow in data.items():
        subflows = flow["subflows"]
        if not isinstance(subflows, dict):
            raise AdapterError(str(path), f"expected an object, got {type_name(subflows)}",
                               line=len(out) + 1, field=f"{flow_name}.subflows")  # fmt: skip
        flow_id, ids = subflow_ids(flow_name, list(subflows), ontology)
        for (name, sub), sub_id in zip(subflows.items(), ids, strict=True):
            line = len(out) + 1
            where = f"{flow_name}.subflows.{name}"
            if not isinstance(sub, dict):
                raise AdapterError(
                    str(path), f"expected an object, got {type_name(sub)}", line=line, field=where
                )
            required = kb.get(sub_id) if isinstance(kb, dict) else None
            out.append(
                encode(
                    {
                        "article_id": article_id(flow_id, sub_id),
                        "version": "1",
                        "title": f"{flow_name} > {name}",
                        "body": _body(sub, required, path=path, line=line, where=where),
                        "updated_at": PLACEHOLDER_TIME,
                    }
                )
            )
    return out
