"""Verifying an evidence pack with the pack alone: no warehouse, no network, plain Python.

`verify_pack(path)` runs every check below and returns each one's verdict with what differs:

files        MANIFEST.json lists every file of the zip with its sha256, and each file matches it (and
             MANIFEST.json matches the sha256 given separately, if one is)
supplier     every row and record of every file belongs to the pack's supplier
population   population.csv has the count and fingerprint pack.json declares; each draw's population
             is part of it, with the same content hashes
draw <id>    the sample re-derived from the draw's population.csv, plan and seed
             (audits.sampling.manifest.verify_files) equals its sample.csv and draw.json
transcripts  there is one transcript for each sampled conversation, and none other
scores       each score is of a sampled conversation, once; re-scored from its answers on the pinned
             scorecard version (scorecards.json) it gives the same score and verdict
estimates    every estimate in estimates.json recomputed from the draws and scores
             (audits.sampling.estimate.compute_estimate; the period's as audits.contracts does)
audit log    the supplier's chain verifies from genesis to the declared head (and holds `anchor`)
log vs pack  each draw's plan, seed, population and sample, and each score and its answers, are
             what the audit log recorded when they were made
population file  (with `population=`) the buyer's own list of the period's conversations equals
             population.csv (ids, and content hashes when the file has them)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from audits import auditlog
from audits.errors import ConfigError, InputError
from audits.evidence import build, chain
from audits.sampling.draw import sample_digest
from audits.sampling.estimate import ScoredItem, compute_estimate
from audits.sampling.manifest import DRAW_FILE, SAMPLE_FILE, verify_files
from audits.sampling.manifest import POPULATION_FILE as DRAW_POPULATION
from audits.sampling.select import Item, StratumDraw

SHOWN = 20


@dataclass(frozen=True)
class Check:
    """One check's verdict: its name, whether it passed, a one-line summary and every difference."""

    name: str
    ok: bool
    summary: str
    differences: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "name": self.name,
            "ok": self.ok,
            "summary": self.summary,
            "differences": list(self.differences),
        }


@dataclass(frozen=True)
class PackVerification:
    """Every check of a pack; `ok` when all passed."""

    path: str
    supplier: str | None
    period: str | None
    checks: tuple[Check, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[str]:
        """The names of the checks that failed."""
        return [c.name for c in self.checks if not c.ok]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"path": self.path, "supplier": self.supplier, "period": self.period, "ok": self.ok,
                "failed": self.failed, "checks": [c.to_dict() for c in self.checks]}  # fmt: skip

    def text(self) -> str:
        """One line per check (PASS/FAIL), its differences indented below (the first 20)."""
        lines = [f"pack {self.path}: supplier {self.supplier}, period {self.period}"]
        for c in self.checks:
            lines.append(f"{'PASS' if c.ok else 'FAIL'}  {c.name}: {c.summary}")
            lines += [f"      {d}" for d in c.differences[:SHOWN]]
            if len(c.differences) > SHOWN:
                lines.append(f"      ... and {len(c.differences) - SHOWN} more")
        lines.append("all checks passed" if self.ok else f"FAILED: {', '.join(self.failed)}")
        return "\n".join(lines)


def _check(name: str, differences: list[str], passed: str, failed: str | None = None) -> Check:
    ok = not differences
    return Check(
        name, ok, passed if ok else (failed or f"{len(differences)} difference(s)"), tuple(differences)
    )


def _csv(root: Path, name: str, problems: list[str]) -> list[dict[str, str]]:
    path = root / name
    if not path.is_file():
        problems.append(f"{name} is missing")
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _json(root: Path, name: str, problems: list[str]) -> Any:
    try:
        return json.loads((root / name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{name} is missing")
    except ValueError as exc:
        problems.append(f"{name} is not JSON: {exc}")
    return None


def _jsonl(root: Path, name: str, problems: list[str]) -> list[dict[str, Any]]:
    path = root / name
    if not path.is_file():
        problems.append(f"{name} is missing")
        return []
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            problems.append(f"{name} line {i}: not JSON: {exc}")
            continue
        if isinstance(record, dict):
            out.append(record)
        else:
            problems.append(f"{name} line {i}: not a JSON object")
    return out


def _extract(path: Path, into: Path) -> tuple[list[str], list[str]]:
    """Unpack the zip (refusing names that escape the folder); (member names, problems)."""
    try:
        z = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(str(path), f"not a readable zip file: {exc}") from exc
    names, problems = [], []
    with z:
        for info in z.infolist():
            if info.is_dir():
                continue
            p = PurePosixPath(info.filename)
            if p.is_absolute() or ".." in p.parts or "\\" in info.filename:
                problems.append(f"{info.filename}: a file name outside the pack; not extracted")
                continue
            target = into / p
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(info))
            names.append(p.as_posix())
    return names, problems


def _files(root: Path, names: list[str], problems: list[str], expected: str | None) -> Check:
    manifest = _json(root, build.MANIFEST, problems)
    diffs = list(problems)
    if expected is not None and (root / build.MANIFEST).is_file():
        got = hashlib.sha256((root / build.MANIFEST).read_bytes()).hexdigest()
        if got != expected.strip().lower():
            diffs.append(f"{build.MANIFEST}: sha256 is {got}, the value you were given is {expected}")
    listed: dict[str, str] = {}
    if isinstance(manifest, dict):
        for entry in manifest.get("files", []):
            listed[str(entry.get("path"))] = str(entry.get("sha256"))
    for name, want in sorted(listed.items()):
        f = root / name
        if not f.is_file():
            diffs.append(f"{name}: listed in {build.MANIFEST} but not in the pack")
            continue
        got = hashlib.sha256(f.read_bytes()).hexdigest()
        if got != want:
            diffs.append(f"{name}: sha256 is {got}, {build.MANIFEST} says {want}")
    for name in sorted(set(names) - set(listed) - {build.MANIFEST}):
        diffs.append(f"{name}: in the pack but not listed in {build.MANIFEST}")
    return _check("files", diffs, f"{len(listed)} files match {build.MANIFEST}")


def _float(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def _passed(text: str | None) -> bool | None:
    return {"true": True, "false": False}.get((text or "").strip().lower())


def _compare(a: Any, b: Any, path: str, out: list[str]) -> None:
    """Differences between a stored and a recomputed JSON value (floats to 1e-9 relative)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            _compare(a.get(k), b.get(k), f"{path}.{k}" if path else k, out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} entries in the pack, {len(b)} recomputed")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            _compare(x, y, f"{path}[{i}]", out)
    elif (
        isinstance(a, bool)
        or isinstance(b, bool)
        or not (isinstance(a, int | float) and isinstance(b, int | float))
    ):
        if a != b:
            out.append(f"{path}: the pack says {a!r}, recomputed {b!r}")
    elif not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
        out.append(f"{path}: the pack says {a!r}, recomputed {b!r}")


class _Pack:
    """The pack's files, read once."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[str] = []
        self.meta = _json(root, build.PACK, self.problems) or {}
        self.supplier = str(self.meta.get("supplier"))
        self.draw_ids = [str(d.get("draw_id")) for d in self.meta.get("draws", []) if isinstance(d, dict)]
        self.draw_json: dict[str, Any] = {}
        self.samples: dict[str, list[dict[str, str]]] = {}
        self.draw_population: dict[str, list[dict[str, str]]] = {}
        for d in self.draw_ids:
            p: list[str] = []
            self.draw_json[d] = _json(root / "draws" / d, DRAW_FILE, p) or {}
            self.samples[d] = _csv(root / "draws" / d, SAMPLE_FILE, p)
            self.draw_population[d] = _csv(root / "draws" / d, DRAW_POPULATION, p)
            self.problems += [f"draws/{d}/{x}" for x in p]
        self.population = _csv(root, build.POPULATION, self.problems)
        self.scores = _csv(root, build.SCORES, self.problems)
        self.answers = _csv(root, build.ANSWERS, self.problems)
        self.scorecards = _json(root, build.SCORECARDS, self.problems) or []
        self.estimates = _json(root, build.ESTIMATES, self.problems) or {}
        self.findings = _json(root, build.FINDINGS, self.problems) or []
        self.transcripts = _jsonl(root, build.TRANSCRIPTS, self.problems)
        self.log = _jsonl(root, chain.LOG_FILE, self.problems)

    def sampled(self) -> dict[tuple[str, str], set[str]]:
        """(supplier, conversation_id) -> the draws that sampled it."""
        out: dict[tuple[str, str], set[str]] = {}
        for d, rows in self.samples.items():
            for r in rows:
                out.setdefault((r.get("supplier", ""), r.get("conversation_id", "")), set()).add(d)
        return out


def _supplier(p: _Pack) -> Check:
    s, diffs = p.supplier, []

    def rows(where: str, items: Iterable[dict[str, Any]], key: str = "supplier") -> None:
        for i, r in enumerate(items, start=1):
            if r.get(key) != s:
                diffs.append(f"{where} row {i}: supplier {r.get(key)!r} ({r.get('conversation_id')})")

    rows(build.POPULATION, p.population)
    for d in p.draw_ids:
        rows(f"draws/{d}/{DRAW_POPULATION}", p.draw_population[d])
        rows(f"draws/{d}/{SAMPLE_FILE}", p.samples[d])
        suppliers = p.draw_json[d].get("plan", {}).get("population", {}).get("suppliers")
        if suppliers != [s]:
            diffs.append(f"draws/{d}/{DRAW_FILE}: the plan covers suppliers {suppliers}, not [{s!r}] alone")
    rows(build.SCORES, p.scores)
    rows(build.ANSWERS, p.answers)
    rows(build.TRANSCRIPTS, p.transcripts)
    rows(chain.LOG_FILE, p.log)
    for f in p.findings if isinstance(p.findings, list) else []:
        if f.get("supplier") != s:
            diffs.append(f"{build.FINDINGS} finding {f.get('finding_id')}: supplier {f.get('supplier')!r}")
        rows(f"{build.FINDINGS} {f.get('finding_id')} blast radius", f.get("blast_radius") or [])
    return _check("supplier", diffs, f"every row is of supplier {s}")


def _fingerprint(rows: list[dict[str, str]]) -> str:
    lines = [f"{r.get('supplier')}\t{r.get('conversation_id')}\t{r.get('content_hash')}" for r in rows]
    return hashlib.sha256("\n".join(sorted(lines, key=str.encode)).encode()).hexdigest()


def _population(p: _Pack) -> Check:
    diffs = []
    declared = p.meta.get("population", {})
    if declared.get("count") != len(p.population):
        diffs.append(
            f"{build.POPULATION} has {len(p.population)} rows, pack.json declares {declared.get('count')}"
        )
    fp = _fingerprint(p.population)
    if declared.get("fingerprint") != fp:
        diffs.append(
            f"{build.POPULATION} fingerprint is {fp}, pack.json declares {declared.get('fingerprint')}"
        )
    hashes: dict[tuple[str, str], str] = {}
    for r in p.population:
        key = (r.get("supplier", ""), r.get("conversation_id", ""))
        if key in hashes:
            diffs.append(f"{build.POPULATION}: {key[1]} is listed twice")
        hashes[key] = r.get("content_hash", "")
    for d in p.draw_ids:
        absent, changed = [], []
        for r in p.draw_population[d]:
            key = (r.get("supplier", ""), r.get("conversation_id", ""))
            if key not in hashes:
                absent.append(key[1])
            elif hashes[key] != r.get("content_hash", ""):
                changed.append(key[1])
        if absent:
            diffs.append(f"draw {d}: {len(absent)} conversation(s) of its population are not in "
                         f"{build.POPULATION}: {', '.join(absent[:5])}")  # fmt: skip
        if changed:
            diffs.append(f"draw {d}: {len(changed)} conversation(s) have another content hash in "
                         f"{build.POPULATION}: {', '.join(changed[:5])}")  # fmt: skip
    return _check("population", diffs, f"{len(p.population)} conversations, fingerprint {fp[:16]}...")


def _draw(p: _Pack, d: str) -> Check:
    try:
        report = verify_files(p.root / "draws" / d)
    except (ConfigError, KeyError, ValueError, OSError) as exc:
        return Check(f"draw {d}", False, "cannot be re-derived", (str(exc),))
    seed = p.draw_json[d].get("seed")
    return _check(f"draw {d}", report.differences(),
                  f"{len(p.samples[d])} items re-derived from {report.population_count[1]} conversations "
                  f"and seed {seed!r}")  # fmt: skip


def _transcripts(p: _Pack) -> Check:
    sampled = set(p.sampled())
    seen: dict[tuple[str, str], int] = {}
    diffs = []
    for t in p.transcripts:
        key = (t.get("supplier", ""), t.get("conversation_id", ""))
        seen[key] = seen.get(key, 0) + 1
    diffs += [f"{c}: {n} transcripts" for (_, c), n in sorted(seen.items()) if n > 1]
    diffs += [f"{c}: sampled, but its transcript is missing" for _, c in sorted(sampled - set(seen))]
    diffs += [
        f"{s}/{c}: a transcript of a conversation no draw sampled" for s, c in sorted(set(seen) - sampled)
    ]
    return _check("transcripts", diffs, f"{len(seen)} transcripts, one per sampled conversation")


def _answers_by_review(p: _Pack) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for r in p.answers:
        out.setdefault(r.get("review_id", ""), {})[r.get("item_id", "")] = r.get("value", "")
    return out


def _scores(p: _Pack) -> Check:
    from audits.scorecards.parse import parse_scorecard  # noqa: PLC0415
    from audits.scorecards.score import score  # noqa: PLC0415

    sampled = p.sampled()
    answers = _answers_by_review(p)
    cards: dict[tuple[str, str], Any] = {}
    diffs: list[str] = []
    for c in p.scorecards if isinstance(p.scorecards, list) else []:
        key = (str(c.get("scorecard_id")), str(c.get("version")))
        try:
            parsed = parse_scorecard(
                c.get("body"), f"{build.SCORECARDS} {key[0]}@{key[1]}", builtin_scales={}
            )
        except ConfigError as exc:
            diffs.append(str(exc))
            continue
        if parsed.content_hash != c.get("content_hash"):
            diffs.append(f"{build.SCORECARDS} {key[0]}@{key[1]}: the body hashes to {parsed.content_hash}, "
                         f"not {c.get('content_hash')}")  # fmt: skip
        cards[key] = parsed
    seen: set[tuple[str, str]] = set()
    rescored = 0
    for i, r in enumerate(p.scores, start=2):
        d, c = r.get("draw_id", ""), r.get("conversation_id", "")
        where = f"{build.SCORES} line {i} ({c} in draw {d})"
        if (d, c) in seen:
            diffs.append(f"{where}: scored twice")
        seen.add((d, c))
        if d not in sampled.get((r.get("supplier", ""), c), set()):
            diffs.append(f"{where}: not in that draw's sample")
        passed = _passed(r.get("passed"))
        if passed is None:
            diffs.append(f"{where}: passed is {r.get('passed')!r}, not true or false")
        if not r.get("review_id"):
            continue
        card = cards.get((r.get("scorecard_id", ""), r.get("scorecard_version", "")))
        given = answers.get(r["review_id"])
        if card is None:
            diffs.append(
                f"{where}: scorecard {r.get('scorecard_id')}@{r.get('scorecard_version')} is not in {build.SCORECARDS}"
            )
            continue
        if not given:
            diffs.append(f"{where}: review {r['review_id']} has no answers in {build.ANSWERS}")
            continue
        try:
            result = score(card, given)
        except ConfigError as exc:
            diffs.append(f"{where}: its answers do not fit scorecard {card.id}@{card.version}: {exc}")
            continue
        rescored += 1
        if result.passed != passed:
            diffs.append(
                f"{where}: passed is {r.get('passed')}, its answers give {str(result.passed).lower()}"
            )
        stored = _float(r.get("score", ""))
        if not isinstance(stored, float) or not math.isclose(
            stored, result.score, rel_tol=1e-12, abs_tol=1e-12
        ):
            diffs.append(f"{where}: score is {r.get('score')}, its answers give {result.score!r}")
    return _check(
        "scores",
        diffs,
        f"{len(p.scores)} scores of sampled conversations, {rescored} re-scored from their answers",
    )


def _items(p: _Pack, d: str, prefix: str = "") -> tuple[list[StratumDraw], list[ScoredItem], int]:
    passed = {(r.get("supplier", ""), r.get("conversation_id", "")): (_passed(r.get("passed")), r.get("simulated") == "true")
              for r in p.scores if r.get("draw_id") == d}  # fmt: skip
    items = []
    simulated = 0
    for r in p.samples[d]:
        key = (r.get("supplier", ""), r.get("conversation_id", ""))
        outcome, sim = passed.get(key, (None, False))
        simulated += outcome is not None and sim
        items.append(ScoredItem(key[0], key[1], prefix + r.get("stratum", ""), outcome))
    strata = [StratumDraw(prefix + s["stratum"], int(s["population"]), int(s["allocated"]), int(s["drawn"]))
              for s in p.draw_json[d].get("strata", [])]  # fmt: skip
    return strata, items, simulated


def _estimates(p: _Pack) -> Check:
    diffs: list[str] = []
    params = p.estimates.get("parameters", {})
    conf, method = params.get("confidence", 0.95), params.get("method", "wilson")
    stored = p.estimates.get("draws", {})
    for d in sorted(set(stored) - set(p.draw_ids)):
        diffs.append(f"estimate of draw {d}, which is not in the pack")
    for d in p.draw_ids:
        strata, items, sim = _items(p, d)
        try:
            now: Any = compute_estimate(
                d, strata, items, confidence=conf, method=method, simulated_scores=sim
            ).to_dict()
        except ConfigError:
            now = None  # no scores
        _compare(stored.get(d), json.loads(json.dumps(now)), f"draw {d}", diffs)
    period = p.estimates.get("period") or {}
    pairs = period.get("draws") or []
    if pairs:
        all_strata: list[StratumDraw] = []
        all_items: list[ScoredItem] = []
        sim = 0
        for night, d in pairs:
            if d not in p.draw_ids:
                diffs.append(f"period: draw {d} (night {night}) is not in the pack")
                continue
            _, its, s = _items(p, d, f"{night} ")
            big_n = {x["stratum"]: int(x["population"]) for x in p.draw_json[d].get("strata", [])}
            counts: dict[str, int] = {}
            for it in its:
                counts[it.stratum] = counts.get(it.stratum, 0) + 1
            all_strata += [StratumDraw(k, big_n[k[len(night) + 1 :]], n, n) for k, n in counts.items()]
            all_items += its
            sim += s
        label = f"{p.supplier} {p.meta.get('period', {}).get('label')}"
        try:
            now = compute_estimate(
                label, all_strata, all_items, confidence=conf, method=method, simulated_scores=sim
            ).to_dict()
        except ConfigError:
            now = None
        _compare(period.get("estimate"), json.loads(json.dumps(now)), "period", diffs)
    return _check(
        "estimates", diffs, f"{len(p.draw_ids)} draw estimate(s) and the period's recomputed from the scores"
    )


def _log(p: _Pack, anchor: tuple[int, str] | None) -> Check:
    declared = p.meta.get("audit_log", {})
    result = chain.check_log(p.log, p.supplier, declared.get("supplier_head"), anchor)
    head = f"head {result.head[0]}:{result.head[1]}"
    summary = f"{result.entries} entries of the supplier's chain verify ({result.withheld} payloads withheld); {head}"
    return _check("audit log", list(result.problems), summary)


def _log_vs_pack(p: _Pack) -> Check:
    diffs: list[str] = []
    created: dict[str, dict[str, Any]] = {}
    said: dict[tuple[str, str], list[tuple[int, int | None, bool, dict[str, str] | None]]] = {}
    withdrawn: set[int] = set()
    for e in p.log:
        payload = e.get("payload")
        if not isinstance(payload, dict):
            continue
        action, seq = e.get("action"), int(e.get("seq", 0))
        if action == "draw.created":
            created[str(payload.get("draw_id"))] = payload
        elif action == "review.submitted":
            for r in payload.get("reviews", []):
                if r.get("counts"):
                    said.setdefault((str(payload.get("draw_id")), str(r.get("conversation_id"))), []).append(
                        (seq, r.get("review_id"), bool(r.get("passed")), r.get("answers"))
                    )
        elif action == "review.withdrawn":
            withdrawn |= {int(x) for x in payload.get("review_ids", [])}
    for d in p.draw_ids:
        entry = created.get(d)
        if entry is None:
            diffs.append(f"draw {d}: no draw.created entry in the audit log")
            continue
        dj = p.draw_json[d]
        for key in ("plan_hash", "seed", "population_count", "population_fingerprint"):
            if key in entry and entry[key] != dj.get(key):
                diffs.append(
                    f"draw {d} {key}: draw.json has {dj.get(key)!r}, the audit log recorded {entry[key]!r}"
                )
        items = [Item(r.get("supplier", ""), r.get("conversation_id", ""), r.get("stratum", ""), r.get("reason", ""),
                      float(r.get("inclusion_probability") or "nan"), float(r.get("weight") or "nan"),
                      float(r.get("u") or "nan")) for r in p.samples[d]]  # fmt: skip
        if entry.get("items") != len(items):
            diffs.append(
                f"draw {d}: sample.csv has {len(items)} items, the audit log recorded {entry.get('items')}"
            )
        if entry.get("sample_digest") != sample_digest(items):
            diffs.append(
                f"draw {d}: sample.csv is not the sample the audit log recorded (sample_digest differs)"
            )
    answers = _answers_by_review(p)
    scored = {(r.get("draw_id", ""), r.get("conversation_id", "")) for r in p.scores}
    for (d, c), history in sorted(said.items()):
        live = [s for s in history if s[1] is None or int(s[1]) not in withdrawn]
        if live and d in p.draw_ids and (d, c) not in scored:
            diffs.append(
                f"{c} in draw {d}: the audit log's entry {live[-1][0]} records its score, scores.csv has none"
            )
    for r in p.scores:
        d, c = r.get("draw_id", ""), r.get("conversation_id", "")
        history = [s for s in said.get((d, c), []) if s[1] is None or int(s[1]) not in withdrawn]
        if not history:
            diffs.append(f"{c} in draw {d}: no audit log entry records its score")
            continue
        seq, review_id, passed, logged = history[-1]
        if passed != _passed(r.get("passed")):
            diffs.append(f"{c} in draw {d}: scores.csv says passed={r.get('passed')}, the audit log's entry {seq} "
                         f"says {str(passed).lower()}")  # fmt: skip
        if review_id is not None and str(review_id) != r.get("review_id"):
            diffs.append(f"{c} in draw {d}: scores.csv gives review {r.get('review_id')}, the audit log's entry "
                         f"{seq} review {review_id}")  # fmt: skip
        if logged is not None and r.get("review_id") and answers.get(r["review_id"], {}) != logged:
            mine = answers.get(r["review_id"], {})
            changed = sorted(k for k in set(mine) | set(logged) if mine.get(k) != logged.get(k))
            diffs.append(f"{c} in draw {d}: answers.csv differs from the audit log's entry {seq} on "
                         f"{', '.join(changed)}")  # fmt: skip
    return _check(
        "log vs pack", diffs, f"{len(p.draw_ids)} draw(s) and {len(p.scores)} score(s) match the audit log"
    )


def _population_file(p: _Pack, path: Path) -> Check:
    """The buyer's list: CSV with conversation_id (and optionally supplier, content_hash, started_at)."""
    period = p.meta.get("period", {})
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    if "conversation_id" not in header:
        raise InputError(str(path), "missing column 'conversation_id'", line=1, field="conversation_id")
    theirs: dict[str, str | None] = {}
    for r in reader:
        if "supplier" in header and (r.get("supplier") or "").strip() != p.supplier:
            continue
        if "started_at" in header and r.get("started_at"):
            try:
                day = auditlog.to_utc(
                    r["started_at"].strip(), f"{path} line {reader.line_num} started_at"
                ).date()
            except ConfigError as exc:
                raise InputError(str(path), str(exc), line=reader.line_num, field="started_at") from exc
            if not period.get("from", "") <= day.isoformat() <= period.get("to", ""):
                continue
        theirs[(r.get("conversation_id") or "").strip()] = (
            (r.get("content_hash") or "").strip() if "content_hash" in header else None
        )
    ours = {r.get("conversation_id", ""): r.get("content_hash", "") for r in p.population}
    diffs = [f"{c}: in your file, not in the pack's population (left out of the sampling frame)"
             for c in sorted(set(theirs) - set(ours))]  # fmt: skip
    diffs += [f"{c}: in the pack's population, not in your file" for c in sorted(set(ours) - set(theirs))]
    diffs += [f"{c}: content hash {theirs[c]} in your file, {ours[c]} in the pack"
              for c in sorted(set(theirs) & set(ours)) if theirs[c] is not None and theirs[c] != ours[c]]  # fmt: skip
    return _check("population file", diffs, f"your {len(theirs)} conversations are the pack's {len(ours)}")


def verify_pack(
    path: str | Path,
    *,
    population: str | Path | None = None,
    anchor: tuple[int, str] | None = None,
    manifest_sha256: str | None = None,
) -> PackVerification:
    """Run every check of the module docstring on the zip at `path`; `manifest_sha256`, received
    separately, is compared with MANIFEST.json's hash (files check)."""
    with tempfile.TemporaryDirectory(prefix="qa-audit-verify-") as tmp:
        root = Path(tmp)
        names, problems = _extract(Path(path), root)
        checks = [_files(root, names, problems, manifest_sha256)]
        p = _Pack(root)
        if p.problems:
            checks.append(Check("readable", False, "files missing or unreadable", tuple(p.problems)))
        checks += [_supplier(p), _population(p)]
        checks += [_draw(p, d) for d in p.draw_ids]
        checks += [_transcripts(p), _scores(p), _estimates(p), _log(p, anchor), _log_vs_pack(p)]
        if population is not None:
            checks.append(_population_file(p, Path(population)))
        period = p.meta.get("period", {}).get("label")
        return PackVerification(str(path), p.supplier, period, tuple(checks))
