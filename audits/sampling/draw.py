"""Recording a draw in the warehouse, and verifying it later from the stored plan and seed.

`draw` writes one row to `draws`, the selected items to `draw_items` and the per-stratum counts to
`draw_strata`, in one transaction. The draw id is deterministic:
sha256(plan_hash + "\\n" + seed + "\\n" + population_fingerprint)[:16], so drawing the same plan and
seed on the same population again returns the stored draw and writes nothing.

A new draw is logged in the same transaction (audits.auditlog, action `draw.created`, subject the
draw id): one entry per supplier of the plan's population, in that supplier's chain, with the plan
hash, the seed, the supplier's item count and `sample_digest` of its items; a draw of one supplier
also records the population count and fingerprint. Nothing of another supplier is in an entry.

`verify` re-derives the population and the selection from the plan JSON and seed stored with the
draw and reports exactly what differs from what was stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from audits import auditlog
from audits.errors import ConfigError
from audits.sampling.plan import Plan, parse_plan
from audits.sampling.select import Item, Selection, StratumDraw, select
from audits.warehouse import one, table_exists

DRAW_SCHEMA = """
CREATE TABLE IF NOT EXISTS draws (
    draw_id VARCHAR PRIMARY KEY,
    plan_name VARCHAR,
    plan_hash VARCHAR,
    plan_json JSON,
    seed VARCHAR,
    created_at TIMESTAMPTZ,
    population_count BIGINT,
    population_fingerprint VARCHAR
);
CREATE TABLE IF NOT EXISTS draw_items (
    draw_id VARCHAR,
    supplier VARCHAR,
    conversation_id VARCHAR,
    stratum VARCHAR,
    reason VARCHAR,              -- 'random' or the edge case's name
    inclusion_probability DOUBLE,
    weight DOUBLE,               -- 1 / inclusion_probability
    u DOUBLE                     -- the order key in [0, 1)
);
CREATE TABLE IF NOT EXISTS draw_strata (
    draw_id VARCHAR,
    stratum VARCHAR,
    population BIGINT,
    allocated BIGINT,
    drawn BIGINT
);
"""

_ITEM_COLUMNS = "supplier, conversation_id, stratum, reason, inclusion_probability, weight, u"


@dataclass(frozen=True)
class DrawResult:
    """A stored draw. `existing` is True when the same draw was already in the warehouse."""

    draw_id: str
    plan_name: str
    plan_hash: str
    seed: str
    created_at: dt.datetime
    population_count: int
    population_fingerprint: str
    strata: tuple[StratumDraw, ...]
    items: tuple[Item, ...]
    existing: bool


@dataclass(frozen=True)
class VerifyReport:
    """What differs between a stored draw and its re-derivation; `ok` when nothing does.

    `missing`: stored items the re-derivation does not select; `extra`: selected now but not stored;
    `changed`: (supplier, conversation_id, field, stored, now) for items in both whose stratum, reason,
    inclusion probability, weight or u differ; `strata_changed`: (stratum, field, stored, now).
    """

    draw_id: str
    population_count: tuple[int, int]
    population_fingerprint: tuple[str, str]
    missing: tuple[tuple[str, str], ...] = ()
    extra: tuple[tuple[str, str], ...] = ()
    changed: tuple[tuple[str, str, str, object, object], ...] = ()
    strata_changed: tuple[tuple[str, str, object, object], ...] = field(default=())
    record_problems: tuple[str, ...] = ()  # the stored draw disagrees with itself (edited records)

    @property
    def ok(self) -> bool:
        """True when the population and the sample are exactly as stored."""
        return (
            self.population_count[0] == self.population_count[1]
            and self.population_fingerprint[0] == self.population_fingerprint[1]
            and not (
                self.missing or self.extra or self.changed or self.strata_changed or self.record_problems
            )
        )


def ensure_draw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create `draws`, `draw_items` and `draw_strata` if they are missing."""
    con.execute(DRAW_SCHEMA)


def draw_id_for(plan_hash: str, seed: str, fingerprint: str) -> str:
    """The deterministic id of drawing a plan with a seed on a population."""
    return hashlib.sha256(f"{plan_hash}\n{seed}\n{fingerprint}".encode()).hexdigest()[:16]


def _stored(con: duckdb.DuckDBPyConnection, draw_id: str) -> DrawResult | None:
    row = one(
        con,
        "SELECT plan_name, plan_hash, seed, created_at, population_count, population_fingerprint "
        "FROM draws WHERE draw_id = ?",
        [draw_id],
    )
    if row is None:
        return None
    items = con.execute(
        f"SELECT {_ITEM_COLUMNS} FROM draw_items WHERE draw_id = ? "
        "ORDER BY stratum, u, supplier, conversation_id",
        [draw_id],
    ).fetchall()
    strata = con.execute(
        "SELECT stratum, population, allocated, drawn FROM draw_strata WHERE draw_id = ? ORDER BY stratum",
        [draw_id],
    ).fetchall()
    return DrawResult(
        draw_id,
        row[0],
        row[1],
        row[2],
        row[3],
        int(row[4]),
        row[5],
        tuple(StratumDraw(*s) for s in strata),
        tuple(Item(*i) for i in items),
        existing=True,
    )


def sample_digest(items: Sequence[Item]) -> str:
    """sha256 over the items' "supplier, conversation_id, stratum, reason, pi, weight, u" lines.

    Fields are joined by tabs, numbers are Python's shortest round-tripping decimals (as sample.csv
    writes them), lines are sorted bytewise (UTF-8) and joined by newlines.
    """
    lines = [
        "\t".join([i.supplier, i.conversation_id, i.stratum, i.reason,
                   repr(float(i.inclusion_probability)), repr(float(i.weight)), repr(float(i.u))])
        for i in items
    ]  # fmt: skip
    return hashlib.sha256("\n".join(sorted(lines, key=str.encode)).encode()).hexdigest()


def draw_log_entries(
    plan: Plan, seed: str, draw_id: str, selection: Selection, actor: str, at: dt.datetime
) -> list[auditlog.NewEntry]:
    """The `draw.created` entries of a new draw: one per supplier of the plan (module docstring)."""
    alone = len(plan.population.suppliers) == 1
    out = []
    for supplier in plan.population.suppliers:
        mine = [i for i in selection.items if i.supplier == supplier]  # over the sample
        payload: dict[str, object] = {
            "draw_id": draw_id, "plan_name": plan.name, "plan_hash": plan.plan_hash, "seed": seed,
            "items": len(mine), "sample_digest": sample_digest(mine),
        }  # fmt: skip
        if alone:
            payload |= {
                "population_count": selection.population_count,
                "population_fingerprint": selection.population_fingerprint,
                "strata": {s.stratum: [s.population, s.allocated, s.drawn] for s in selection.strata},
            }
        out.append(auditlog.NewEntry(actor, "draw.created", draw_id, payload, supplier, at))
    return out


def draw(
    con: duckdb.DuckDBPyConnection, plan: Plan, seed: str | int, *, actor: str | None = None
) -> DrawResult:
    """Draw the plan's sample with `seed` and store it (one transaction); idempotent per population.

    Returns the stored draw (`existing=True`, nothing written) when this plan and seed were already
    drawn on a population with the same fingerprint. `actor` (default `auditlog.default_actor()`)
    is who the audit log says drew it.
    """
    seed = str(seed)
    ensure_draw_tables(con)
    selection = select(con, plan, seed)
    draw_id = draw_id_for(plan.plan_hash, seed, selection.population_fingerprint)
    found = _stored(con, draw_id)
    if found is not None:
        stored_sizes = {st.stratum: st.population for st in found.strata}
        if stored_sizes != {st.stratum: st.population for st in selection.strata}:
            # the fingerprint covers ids and content; a derived column (a repeat-contact flag set by a
            # later load) can still move conversations between strata
            raise ConfigError(
                f"draw {draw_id} was made on the same conversations but their strata have changed since "
                f"(derived columns recomputed by a later load); see qa-audit sample verify {draw_id}"
            )
        return found
    created_at = dt.datetime.now(dt.UTC)
    items = selection.items
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO draws VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                draw_id,
                plan.name,
                plan.plan_hash,
                plan.canonical_json(),
                seed,
                created_at,
                selection.population_count,
                selection.population_fingerprint,
            ],
        )
        if items:
            con.execute(
                f"INSERT INTO draw_items SELECT $draw_id, * FROM (SELECT unnest($s::VARCHAR[]), "
                "unnest($c::VARCHAR[]), unnest($st::VARCHAR[]), unnest($r::VARCHAR[]), "
                f"unnest($p::DOUBLE[]), unnest($w::DOUBLE[]), unnest($u::DOUBLE[])) AS t({_ITEM_COLUMNS})",
                {
                    "draw_id": draw_id,
                    "s": [i.supplier for i in items],
                    "c": [i.conversation_id for i in items],
                    "st": [i.stratum for i in items],
                    "r": [i.reason for i in items],
                    "p": [i.inclusion_probability for i in items],
                    "w": [i.weight for i in items],
                    "u": [i.u for i in items],
                },
            )
        if selection.strata:
            con.execute(
                "INSERT INTO draw_strata SELECT $draw_id, unnest($k::VARCHAR[]), unnest($n::BIGINT[]), "
                "unnest($a::BIGINT[]), unnest($d::BIGINT[])",
                {
                    "draw_id": draw_id,
                    "k": [s.stratum for s in selection.strata],
                    "n": [s.population for s in selection.strata],
                    "a": [s.allocated for s in selection.strata],
                    "d": [s.drawn for s in selection.strata],
                },
            )
        who = actor or auditlog.default_actor()
        auditlog.append_many(con, draw_log_entries(plan, seed, draw_id, selection, who, created_at))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return DrawResult(
        draw_id,
        plan.name,
        plan.plan_hash,
        seed,
        created_at,
        selection.population_count,
        selection.population_fingerprint,
        selection.strata,
        items,
        existing=False,
    )


def verify(con: duckdb.DuckDBPyConnection, draw_id: str) -> VerifyReport:
    """Re-derive a stored draw from its plan JSON and seed, and report every difference."""
    has_table = table_exists(con, "draws")
    stored = _stored(con, draw_id) if has_table else None
    if stored is None:
        raise ConfigError(f"no draw {draw_id!r} in the warehouse")
    plan_json = one(con, "SELECT plan_json FROM draws WHERE draw_id = ?", [draw_id])[0]  # type: ignore[index]
    plan = parse_plan(json.loads(plan_json), f"draw {draw_id} plan_json")
    now = select(con, plan, stored.seed)
    problems = []
    if plan.plan_hash != stored.plan_hash:
        problems.append(f"plan_json hashes to {plan.plan_hash}, but the draw records {stored.plan_hash}")
    expected_id = draw_id_for(stored.plan_hash, stored.seed, stored.population_fingerprint)
    if expected_id != draw_id:
        problems.append(f"the draw id should be {expected_id} for its plan hash, seed and fingerprint")
    keys = [(i.supplier, i.conversation_id) for i in stored.items]
    if len(keys) != len(set(keys)):
        problems.append(f"{len(keys) - len(set(keys))} item(s) recorded more than once")
    counted: dict[str, int] = {}
    for i in stored.items:  # over the sample, not the population
        counted[i.stratum] = counted.get(i.stratum, 0) + 1
    for s in stored.strata:
        if counted.get(s.stratum, 0) != s.drawn:
            problems.append(
                f"stratum {s.stratum} records {s.drawn} drawn but holds {counted.get(s.stratum, 0)} items"
            )
    old_items = {(i.supplier, i.conversation_id): i for i in stored.items}
    new_items = {(i.supplier, i.conversation_id): i for i in now.items}
    changed = []
    for key in sorted(old_items.keys() & new_items.keys()):  # over the sample, not the population
        for name in ("stratum", "reason", "inclusion_probability", "weight", "u"):
            a, b = getattr(old_items[key], name), getattr(new_items[key], name)
            if a != b:
                changed.append((key[0], key[1], name, a, b))
    old_strata = {s.stratum: s for s in stored.strata}
    new_strata = {s.stratum: s for s in now.strata}
    strata_changed = []
    for k in sorted(old_strata.keys() | new_strata.keys()):
        for name in ("population", "allocated", "drawn"):
            a = getattr(old_strata[k], name) if k in old_strata else None
            b = getattr(new_strata[k], name) if k in new_strata else None
            if a != b:
                strata_changed.append((k, name, a, b))
    return VerifyReport(
        draw_id=draw_id,
        population_count=(stored.population_count, now.population_count),
        population_fingerprint=(stored.population_fingerprint, now.population_fingerprint),
        missing=tuple(sorted(old_items.keys() - new_items.keys())),
        extra=tuple(sorted(new_items.keys() - old_items.keys())),
        changed=tuple(changed),
        strata_changed=tuple(strata_changed),
        record_problems=tuple(problems),
    )
