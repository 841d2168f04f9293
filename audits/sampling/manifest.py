"""A draw exported as files, and re-derived from them without the warehouse (in plain Python).

`export_draw(con, draw_id, out_dir)` writes three files:

population.csv   supplier, conversation_id, content_hash (empty when unknown), then the plan's strata
                 columns other than supplier (the value as the stratum key spells it: NULL reads
                 "(none)"), then one true/false column per plan edge case, named after it, saying
                 whether the conversation matches its predicate. Sorted by supplier, conversation_id.
                 Only ids, hashes and stratum values: no text, customer or agent data.
draw.json        draw_id, plan_name, plan (the canonical plan), plan_hash, seed, created_at,
                 population_count, population_fingerprint, the u formula and the stored strata.
sample.csv       supplier, conversation_id, stratum, reason, inclusion_probability, weight, u of every
                 drawn item, sorted by stratum, u, supplier, conversation_id; numbers are Python's
                 shortest round-tripping decimals, so they read back exactly.

`verify_files(out_dir)` reads population.csv and draw.json only and re-derives everything with no
SQL: the fingerprint (sha256 of the sorted "supplier\\tconversation_id\\tcontent_hash" lines), each
conversation's stratum (the first matching edge case in plan order, else "col=value|..." or "all"),
the allocation (`plan_allocation`), u = `order_key(seed, supplier, conversation_id)` (hashlib), and
per stratum the k_h smallest (u, supplier, conversation_id) with pi = k_h / N_h and weight = 1 / pi.
It then compares with sample.csv and draw.json field by field.

population.csv is the population the plan's filter selected when exporting: its dates and supplier
filter are not re-applied (they are in draw.json for the record), but its fingerprint and count are
checked against the ones stored at draw time.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from audits.errors import ConfigError
from audits.sampling.allocate import plan_allocation
from audits.sampling.draw import draw_id_for
from audits.sampling.plan import EDGE_CASES, Plan, parse_plan
from audits.sampling.select import U_DIGITS, order_key, population_summary, population_where
from audits.warehouse import one, table_exists

POPULATION_FILE = "population.csv"
DRAW_FILE = "draw.json"
SAMPLE_FILE = "sample.csv"
MANIFEST_FORMAT = "qa-audit-draw/1"
SAMPLE_COLUMNS = (
    "supplier",
    "conversation_id",
    "stratum",
    "reason",
    "inclusion_probability",
    "weight",
    "u",
)
_ITEM_FIELDS = SAMPLE_COLUMNS[2:]
_BATCH = 50_000


@dataclass(frozen=True)
class Exported:
    """What `export_draw` wrote. `population_matches`: the exported population still has the stored
    count and fingerprint (if not, the warehouse changed since the draw and `verify_files` says so)."""

    draw_id: str
    out_dir: Path
    population_rows: int
    sample_rows: int
    population_matches: bool


@dataclass(frozen=True)
class ManifestReport:
    """What differs between the exported files and their re-derivation; `ok` when nothing does.

    Pairs are (declared in the files, re-derived). `draw_id`: the id in draw.json and the one
    recomputed from the plan, the seed and the declared fingerprint; `plan_hash` likewise.
    `missing`: conversations the re-derivation selects that sample.csv lacks; `extra`: rows of
    sample.csv the re-derivation does not select; `changed`: (supplier, conversation_id, field, in
    sample.csv, re-derived) for rows in both; `strata_changed`: (stratum, field, in draw.json,
    re-derived); `problems`: files that cannot be read as exported (missing columns, bad values,
    duplicate sample rows).
    """

    draw_id: tuple[str, str]
    plan_hash: tuple[str, str]
    population_count: tuple[int, int]
    population_fingerprint: tuple[str, str]
    missing: tuple[tuple[str, str], ...] = ()
    extra: tuple[tuple[str, str], ...] = ()
    changed: tuple[tuple[str, str, str, object, object], ...] = ()
    strata_changed: tuple[tuple[str, str, object, object], ...] = ()
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the files are exactly what the plan and seed give on population.csv."""
        return not self.differences()

    def differences(self) -> list[str]:
        """One line per difference, in the order of the fields."""
        out = list(self.problems)
        for name in ("draw_id", "plan_hash", "population_count", "population_fingerprint"):
            declared, derived = getattr(self, name)
            if declared != derived:
                out.append(f"{name}: draw.json has {declared!r}, re-derived {derived!r}")
        out += [f"missing from sample.csv: {s} {c}" for s, c in self.missing]
        out += [f"extra in sample.csv (not selected): {s} {c}" for s, c in self.extra]
        out += [
            f"changed {s} {c} {f}: sample.csv has {a!r}, re-derived {b!r}" for s, c, f, a, b in self.changed
        ]
        out += [
            f"stratum {k} {f}: draw.json has {a!r}, re-derived {b!r}" for k, f, a, b in self.strata_changed
        ]
        return out


def population_columns(plan: Plan) -> list[str]:
    """The header of population.csv for `plan`."""
    strata = [c for c in plan.strata if c != "supplier"]
    return ["supplier", "conversation_id", "content_hash", *strata, *(e.name for e in plan.edge_cases)]


def _write_csv(path: Path, header: list[str] | tuple[str, ...], con: duckdb.DuckDBPyConnection) -> int:
    """Write the pending result of `con` under `header`, reading it to its end; the row count."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        # every field quoted: an id holding a bare carriage return must survive the round trip
        w = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_ALL)
        w.writerow(header)
        while batch := con.fetchmany(_BATCH):
            w.writerows(batch)
            n += len(batch)
    return n


def _fingerprint(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(lines, key=str.encode)).encode()).hexdigest()


def export_draw(con: duckdb.DuckDBPyConnection, draw_id: str, out_dir: str | os.PathLike[str]) -> Exported:
    """Write population.csv, draw.json and sample.csv of a stored draw into `out_dir` (created)."""
    has_table = table_exists(con, "draws")
    row = (
        one(
            con,
            "SELECT plan_name, plan_hash, plan_json, seed, created_at, population_count, population_fingerprint "
            "FROM draws WHERE draw_id = ?",
            [draw_id],
        )
        if has_table
        else None
    )
    if row is None:
        raise ConfigError(f"no draw {draw_id!r} in the warehouse")
    plan_name, plan_hash, plan_json, seed, created_at, count, fingerprint = row
    plan_dict = json.loads(plan_json)
    plan = parse_plan(plan_dict, f"draw {draw_id} plan_json")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    where, params = population_where(plan)
    strata = [c for c in plan.strata if c != "supplier"]
    cols = [
        "supplier",
        "conversation_id",
        "coalesce(content_hash, '')",
        *(f"coalesce(CAST({c} AS VARCHAR), '(none)')" for c in strata),
        *(f"CASE WHEN {EDGE_CASES[e.name]} THEN 'true' ELSE 'false' END" for e in plan.edge_cases),
    ]
    con.execute(
        f"SELECT {', '.join(cols)} FROM conversations WHERE {where} ORDER BY supplier, conversation_id",
        params,
    )
    pop_rows = _write_csv(out / POPULATION_FILE, population_columns(plan), con)
    now_count, now_fingerprint, _ = population_summary(con, plan)
    con.execute(
        f"SELECT {', '.join(SAMPLE_COLUMNS)} FROM draw_items WHERE draw_id = ? "
        "ORDER BY stratum, u, supplier, conversation_id",
        [draw_id],
    )
    sample_rows = _write_csv(out / SAMPLE_FILE, SAMPLE_COLUMNS, con)
    strata_rows = con.execute(
        "SELECT stratum, population, allocated, drawn FROM draw_strata WHERE draw_id = ? ORDER BY stratum",
        [draw_id],
    ).fetchall()
    manifest = {
        "format": MANIFEST_FORMAT,
        "draw_id": draw_id,
        "plan_name": plan_name,
        "plan_hash": plan_hash,
        "plan": plan_dict,
        "seed": seed,
        "created_at": created_at.isoformat() if created_at is not None else None,
        "population_count": int(count),
        "population_fingerprint": fingerprint,
        "u": f"int(sha256(f'{{seed}}:{{supplier}}:{{conversation_id}}').hexdigest()[:{U_DIGITS}], 16) "
        f"/ 16**{U_DIGITS}",
        "strata": [
            {"stratum": k, "population": int(n), "allocated": int(a), "drawn": int(d)}
            for k, n, a, d in strata_rows
        ],
    }
    (out / DRAW_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    matches = now_count == count and now_fingerprint == fingerprint
    return Exported(draw_id, out, pop_rows, sample_rows, matches)


def _read_csv(path: Path, needed: list[str] | tuple[str, ...], problems: list[str]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        absent = [c for c in needed if c not in header]
        if absent:
            problems.append(f"{path.name}: missing columns {', '.join(absent)}")
            return []
        return list(reader)


def _derive(
    plan: Plan, seed: str, rows: list[dict[str, str]], problems: list[str]
) -> tuple[int, str, dict[str, int], dict[str, int], dict[tuple[str, str], dict[str, Any]]]:
    """(count, fingerprint, sizes, allocation, items by (supplier, conversation_id)) from population rows."""
    lines: list[str] = []
    members: dict[str, list[tuple[str, str]]] = {}
    for i, r in enumerate(rows, start=2):
        supplier, cid = r["supplier"], r["conversation_id"]
        lines.append(f"{supplier}\t{cid}\t{r['content_hash']}")
        stratum = None
        for e in plan.edge_cases:
            flag = r[e.name]
            if flag not in ("true", "false"):
                problems.append(f"{POPULATION_FILE} line {i}: {e.name} must be true or false, got {flag!r}")
            elif flag == "true":
                stratum = f"edge:{e.name}"
                break
        if stratum is None:
            parts = [f"{c}={supplier if c == 'supplier' else r[c]}" for c in plan.strata]
            stratum = "|".join(parts) if parts else "all"
        members.setdefault(stratum, []).append((supplier, cid))
    sizes = {k: len(v) for k, v in members.items()}
    allocation = plan_allocation(plan, sizes)
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for k in sorted(allocation):
        keyed = ((order_key(seed, s, c), s, c) for s, c in members[k])
        pi = allocation[k] / sizes[k]
        reason = k[len("edge:") :] if k.startswith("edge:") else "random"
        for u, s, c in heapq.nsmallest(allocation[k], keyed):
            items[(s, c)] = {
                "stratum": k,
                "reason": reason,
                "inclusion_probability": pi,
                "weight": sizes[k] / allocation[k],
                "u": u,
            }
    return len(rows), _fingerprint(lines), sizes, allocation, items


def verify_files(out_dir: str | os.PathLike[str]) -> ManifestReport:
    """Re-derive the sample from population.csv and draw.json alone and compare it with sample.csv."""
    d = Path(out_dir)
    try:
        manifest = json.loads((d / DRAW_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{d / DRAW_FILE}: cannot read the draw manifest: {exc}") from exc
    plan = parse_plan(manifest["plan"], f"{d / DRAW_FILE} plan")
    seed = str(manifest["seed"])
    declared_fp = str(manifest["population_fingerprint"])
    problems: list[str] = []

    population = _read_csv(d / POPULATION_FILE, population_columns(plan), problems)
    count, fingerprint, sizes, allocation, derived = _derive(plan, seed, population, problems)

    stored: dict[tuple[str, str], dict[str, Any]] = {}
    for i, r in enumerate(_read_csv(d / SAMPLE_FILE, SAMPLE_COLUMNS, problems), start=2):
        key = (r["supplier"], r["conversation_id"])
        if key in stored:
            problems.append(f"{SAMPLE_FILE} line {i}: {key[0]} {key[1]} is listed twice")
            continue
        values: dict[str, Any] = {"stratum": r["stratum"], "reason": r["reason"]}
        for name in ("inclusion_probability", "weight", "u"):
            try:
                values[name] = float(r[name])
            except ValueError:
                problems.append(f"{SAMPLE_FILE} line {i}: {name} is not a number: {r[name]!r}")
                values[name] = r[name]
        stored[key] = values

    changed = []
    for key in sorted(stored.keys() & derived.keys()):
        for name in _ITEM_FIELDS:
            a, b = stored[key][name], derived[key][name]
            if a != b:
                changed.append((key[0], key[1], name, a, b))
    drawn: dict[str, int] = {}
    for it in derived.values():
        drawn[it["stratum"]] = drawn.get(it["stratum"], 0) + 1
    now = {
        k: {"population": sizes[k], "allocated": allocation[k], "drawn": drawn.get(k, 0)} for k in allocation
    }
    declared_strata = {s["stratum"]: s for s in manifest.get("strata", [])}
    strata_changed = []
    for k in sorted(declared_strata.keys() | now.keys()):
        for name in ("population", "allocated", "drawn"):
            a = declared_strata[k].get(name) if k in declared_strata else None
            b = now[k][name] if k in now else None
            if a != b:
                strata_changed.append((k, name, a, b))

    return ManifestReport(
        draw_id=(str(manifest["draw_id"]), draw_id_for(plan.plan_hash, seed, declared_fp)),
        plan_hash=(str(manifest["plan_hash"]), plan.plan_hash),
        population_count=(int(manifest["population_count"]), count),
        population_fingerprint=(declared_fp, fingerprint),
        missing=tuple(sorted(derived.keys() - stored.keys())),
        extra=tuple(sorted(stored.keys() - derived.keys())),
        changed=tuple(changed),
        strata_changed=tuple(strata_changed),
        problems=tuple(problems),
    )
