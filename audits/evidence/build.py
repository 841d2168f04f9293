"""Building a supplier's evidence pack for a period (the layout is in audits/evidence/__init__.py).

Everything is read from the warehouse (read-only), written into a staging folder, then zipped with
the files in name order. Rows are selected by supplier in SQL, so nothing of another supplier is read
into a file: the draws are those whose plan covers this supplier alone (a draw of several suppliers
cannot be re-derived without the others' populations, so it is listed in `left_out` instead); a
finding's blast radius keeps this supplier's conversations only; an audit log payload naming another
supplier is withheld (audits/evidence/chain.py). Text is redacted (audits/evidence/redact.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from audits import auditlog
from audits.contracts import evaluate_contract
from audits.errors import ConfigError
from audits.evidence import chain
from audits.evidence.redact import Redactor, tagged_names
from audits.period import Period
from audits.report import render_report_html
from audits.sampling.estimate import Method, estimate
from audits.sampling.manifest import export_draw
from audits.warehouse import table_exists

FORMAT = "qa-audit-pack/1"
MANIFEST = "MANIFEST.json"
PACK = "pack.json"
POPULATION = "population.csv"
SCORES = "scores.csv"
ANSWERS = "answers.csv"
SCORECARDS = "scorecards.json"
ESTIMATES = "estimates.json"
FINDINGS = "findings.json"
TRANSCRIPTS = "transcripts.jsonl"
CONTRACT = "contract.json"
REPORT = "report.html"
SCORE_COLUMNS = ("draw_id", "supplier", "conversation_id", "passed", "scored_by", "scored_at", "simulated",
                 "review_id", "scorecard_id", "scorecard_version", "score")  # fmt: skip
ANSWER_COLUMNS = ("review_id", "draw_id", "supplier", "conversation_id", "item_id", "value", "prefilled",
                  "overridden", "comment")  # fmt: skip
CONFIDENCE = 0.95
METHOD: Method = "wilson"


@dataclass(frozen=True)
class PackResult:
    """What `build_pack` wrote: the zip, its files and the notes on what it leaves out."""

    path: Path
    supplier: str
    period: Period
    files: tuple[str, ...]
    draws: tuple[str, ...]
    population: int
    sampled: int
    scores: int
    log_entries: int
    manifest_sha256: str
    left_out: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {**self.__dict__, "path": str(self.path), "period": self.period.to_dict(),
                "files": list(self.files), "draws": list(self.draws), "left_out": list(self.left_out)}  # fmt: skip


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return auditlog.iso_utc(v)
    return v


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_ALL)  # a bare \r in an id survives
        w.writerow(header)
        w.writerows([_cell(v) for v in r] for r in rows)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(
        json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )


def _population(con: duckdb.DuckDBPyConnection, supplier: str, period: Period, path: Path) -> tuple[int, str]:
    """Write the supplier's conversations of the period (id and content hash); (count, fingerprint)."""
    con.execute(
        "SELECT supplier, conversation_id, coalesce(content_hash, '') AS h FROM conversations "
        f"WHERE supplier = ? AND {period.where()} "
        "ORDER BY supplier || chr(9) || conversation_id || chr(9) || coalesce(content_hash, '')",
        [supplier],
    )
    digest, n = hashlib.sha256(), 0
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_ALL)  # a bare \r in an id survives
        w.writerow(["supplier", "conversation_id", "content_hash"])
        while batch := con.fetchmany(50_000):
            w.writerows(batch)
            for s, c, h in batch:  # the lines, in the order DuckDB sorted them (bytewise)
                digest.update(("\n" if n else "").encode() + f"{s}\t{c}\t{h}".encode())
                n += 1
    return n, digest.hexdigest()


def _draws(con: duckdb.DuckDBPyConnection, supplier: str, period: Period) -> tuple[list[str], list[str]]:
    """(draws of this supplier alone within the period, notes on draws of several suppliers left out)."""
    if not table_exists(con, "draws"):
        return [], []
    pop = "json_extract(plan_json, '$.population')"
    within = (f"CAST(json_extract_string({pop}, '$.from') AS DATE) >= $start "
              f"AND CAST(json_extract_string({pop}, '$.to') AS DATE) <= $end")  # fmt: skip
    params = {"s": supplier, "start": period.start, "end": period.end}
    mine = con.execute(
        f"SELECT draw_id FROM draws WHERE json_array_length({pop}, '$.suppliers') = 1 "
        f"AND json_extract_string({pop}, '$.suppliers[0]') = $s AND {within} "
        f"ORDER BY json_extract_string({pop}, '$.from'), created_at, draw_id",
        params,
    ).fetchall()
    shared = con.execute(
        f"SELECT draw_id FROM draws WHERE json_array_length({pop}, '$.suppliers') > 1 "
        f"AND list_contains(CAST(json_extract({pop}, '$.suppliers') AS VARCHAR[]), $s) "
        f"AND CAST(json_extract_string({pop}, '$.from') AS DATE) <= $end "
        f"AND CAST(json_extract_string({pop}, '$.to') AS DATE) >= $start ORDER BY draw_id",
        params,
    ).fetchall()
    notes = [
        f"draw {d}: its plan covers several suppliers, so it cannot be re-derived from this supplier's data alone"
        for (d,) in shared
    ]
    return [d for (d,) in mine], notes


def _scores(con: duckdb.DuckDBPyConnection, supplier: str, draws: list[str]) -> list[tuple[Any, ...]]:
    if not draws or not table_exists(con, "sample_scores"):
        return []
    has_reviews = table_exists(con, "reviews")
    review = (
        "LEFT JOIN (SELECT draw_id, supplier, conversation_id, max(review_id) AS review_id FROM reviews "
        "WHERE role IN ('primary', 'dispute') AND superseded_by IS NULL GROUP BY ALL) k "
        "USING (draw_id, supplier, conversation_id) LEFT JOIN reviews r ON r.review_id = k.review_id"
        if has_reviews
        else "LEFT JOIN (SELECT NULL::BIGINT AS review_id, NULL AS scorecard_id, NULL AS scorecard_version, "
        "NULL::DOUBLE AS score) r ON false"
    )
    return con.execute(
        "SELECT s.draw_id, s.supplier, s.conversation_id, s.passed, s.scored_by, s.scored_at, "
        f"coalesce(s.simulated, false), r.review_id, r.scorecard_id, r.scorecard_version, r.score FROM sample_scores s {review} "
        "WHERE s.supplier = $s AND list_contains($d::VARCHAR[], s.draw_id) ORDER BY s.draw_id, s.conversation_id",
        {"s": supplier, "d": draws},
    ).fetchall()


def _answers(
    con: duckdb.DuckDBPyConnection, review_ids: list[int], redact: Redactor
) -> list[tuple[Any, ...]]:
    if not review_ids or not table_exists(con, "review_answers"):
        return []
    rows = con.execute(
        "SELECT a.review_id, r.draw_id, r.supplier, r.conversation_id, a.item_id, a.value, a.prefilled, "
        "a.overridden, a.comment FROM review_answers a JOIN reviews r USING (review_id) "
        "WHERE list_contains($ids::BIGINT[], a.review_id) ORDER BY a.review_id, a.item_id",
        {"ids": review_ids},
    ).fetchall()
    return [(*r[:8], redact(r[8])) for r in rows]  # the sample's answers


def _scorecards(con: duckdb.DuckDBPyConnection, pins: set[tuple[str, str]]) -> list[dict[str, Any]]:
    if not pins or not table_exists(con, "scorecards"):
        return []
    rows = con.execute(
        "SELECT scorecard_id, version, content_hash, body FROM scorecards "
        "WHERE list_contains($k::VARCHAR[], scorecard_id || chr(9) || version) ORDER BY scorecard_id, version",
        {"k": [f"{i}\t{v}" for i, v in sorted(pins)]},
    ).fetchall()
    return [
        {"scorecard_id": i, "version": v, "content_hash": h, "body": json.loads(b)} for i, v, h, b in rows
    ]


def _estimates(
    con: duckdb.DuckDBPyConnection, supplier: str, period: Period, draws: list[str], confidence: float
) -> dict[str, Any]:
    """Per draw (None without scores) and for the period's nightly draws together (audits.contracts)."""
    from audits.contracts.estimates import period_sample  # noqa: PLC0415

    per_draw: dict[str, Any] = {}
    for d in draws:  # one per night
        try:
            per_draw[d] = estimate(con, d, confidence=confidence, method=METHOD).to_dict()
        except ConfigError:  # no scores yet
            per_draw[d] = None
    sample = period_sample(con, supplier, period, confidence=confidence, method=METHOD)
    return {
        "parameters": {"confidence": confidence, "method": METHOD},
        "draws": per_draw,
        "period": {
            "draws": [[n.isoformat(), d] for n, d in sample.draws],
            "estimate": sample.estimate.to_dict() if sample.estimate is not None else None,
        },
    }


def _transcripts(
    con: duckdb.DuckDBPyConnection, keys: list[tuple[str, str]], redact: Redactor
) -> list[dict[str, Any]]:
    """The sampled conversations with their turns, text redacted; no customer, agent or free metadata."""
    if not keys:
        return []
    con.register(
        "_pack_sample", pa.table({"supplier": [k[0] for k in keys], "conversation_id": [k[1] for k in keys]})
    )
    try:
        convs = con.execute(
            "SELECT supplier, conversation_id, channel, handler, started_at, ended_at, market, language, journey, "
            "outcome, csat FROM conversations SEMI JOIN _pack_sample USING (supplier, conversation_id) "
            "ORDER BY supplier, conversation_id"
        ).fetchall()
        turns = con.execute(
            "SELECT supplier, conversation_id, turn_index, speaker, text, sent_at, kb_article_ids, action "
            "FROM turns SEMI JOIN _pack_sample USING (supplier, conversation_id) "
            "ORDER BY supplier, conversation_id, turn_index"
        ).fetchall()
    finally:
        con.unregister("_pack_sample")
    by_conv: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for s, c, i, speaker, text, at, kb, action in turns:  # the sample's turns
        by_conv.setdefault((s, c), []).append({
            "turn": i, "speaker": speaker, "text": redact(text), "at": auditlog.iso_utc(at) if at else None,
            "kb_article_ids": kb, "action": action,
        })  # fmt: skip
    names = ("supplier", "conversation_id", "channel", "handler", "started_at", "ended_at", "market", "language",
             "journey", "outcome", "csat")  # fmt: skip
    out = []
    for row in convs:
        record = {
            k: (auditlog.iso_utc(v) if isinstance(v, dt.datetime) else v)
            for k, v in zip(names, row, strict=True)
        }
        record["turns"] = by_conv.get((row[0], row[1]), [])
        out.append(record)
    return out


def _findings(
    con: duckdb.DuckDBPyConnection, supplier: str, period: Period, redact: Redactor
) -> list[dict[str, Any]]:
    """Findings on the supplier detected in the period or still open, with this supplier's blast radius only."""
    from audits.trace.findings import find_findings  # noqa: PLC0415
    from audits.trace.kb import kb_diff  # noqa: PLC0415

    found = [
        f for f in find_findings(con, supplier=supplier)
        if period.contains(f.detected_at.astimezone(dt.UTC).date()) or f.state != "closed"
    ]  # fmt: skip
    if not found:
        return []
    blast: dict[str, list[tuple[Any, ...]]] = {}
    if table_exists(con, "finding_blast"):
        for row in con.execute(
            "SELECT finding_id, conversation_id, reason, turn, score, evidence, started_at, customer_id "
            "FROM finding_blast WHERE supplier = $s AND list_contains($f::VARCHAR[], finding_id) "
            "ORDER BY finding_id, started_at, conversation_id",
            {"s": supplier, "f": [f.finding_id for f in found]},
        ).fetchall():
            blast.setdefault(row[0], []).append(row[1:])
    check = chain.screen(con, supplier, [e.details for f in found for e in f.events], redact)
    out = []
    for f in found:
        d = f.to_dict()
        d.pop("customer_id", None)
        d["summary"] = redact(d["summary"])
        d["events"] = []
        for e in f.events:
            why = check.reason(e.details)
            d["events"].append({"seq": e.seq, "event": e.event, "at": auditlog.iso_utc(e.at), "actor": e.actor,
                                "details": None if why else e.details, "withheld": why})  # fmt: skip
        d["kb_diff"] = (
            redact(kb_diff(con, f.article_id, f.article_version, f.corrected_version))
            if f.article_id and f.article_version and f.corrected_version else None
        )  # fmt: skip
        rows = blast.get(f.finding_id, [])
        d["blast_radius"] = [
            {"supplier": supplier, "conversation_id": c, "reason": r, "turn": t, "score": sc, "evidence": redact(ev),
             "started_at": auditlog.iso_utc(at) if at else None}
            for c, r, t, sc, ev, at, _ in rows
        ]  # fmt: skip
        d["customers_to_contact"] = len({r[6] for r in rows if r[6] is not None})
        d["blast_radius_scope"] = "this supplier's conversations only"
        out.append(d)
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def build_pack(
    con: duckdb.DuckDBPyConnection,
    supplier: str,
    period: Period,
    out: str | os.PathLike[str],
    *,
    contracts: Sequence[Any] = (),
    now: dt.datetime | None = None,
) -> PackResult:
    """Write the evidence pack of `supplier` for `period` to the zip file `out` (replaced if present)."""
    if (
        not table_exists(con, "conversations")
        or not con.execute("SELECT 1 FROM conversations WHERE supplier = ? LIMIT 1", [supplier]).fetchall()
    ):
        raise ConfigError(f"no conversations of supplier {supplier!r} in the warehouse")
    now = now or dt.datetime.now(dt.UTC)
    target = Path(out)
    left_out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="qa-audit-pack-") as tmp:
        root = Path(tmp)
        count, fingerprint = _population(con, supplier, period, root / POPULATION)
        draws, notes = _draws(con, supplier, period)
        left_out += notes
        nights: dict[str, str] = {}
        if table_exists(con, "nightly_draws"):
            nights = {d: n.isoformat() for d, n in con.execute(
                "SELECT draw_id, night FROM nightly_draws WHERE supplier = ?", [supplier]).fetchall()}  # fmt: skip
        draw_meta = []
        for d in draws:  # one per night
            exported = export_draw(con, d, root / "draws" / d)
            if not exported.population_matches:
                left_out.append(f"draw {d}: the warehouse's population changed since the draw; its population.csv "
                                "is today's, so its re-derivation will differ")  # fmt: skip
            draw_meta.append({"draw_id": d, "dir": f"draws/{d}", "night": nights.get(d)})
        keys = []
        if draws:
            keys = [tuple(k) for k in con.execute(
                "SELECT DISTINCT supplier, conversation_id FROM draw_items WHERE supplier = $s "
                "AND list_contains($d::VARCHAR[], draw_id) ORDER BY 1, 2", {"s": supplier, "d": draws}).fetchall()]  # fmt: skip
        finding_keys: list[tuple[str, str]] = []
        if table_exists(con, "findings"):
            finding_keys = [tuple(k) for k in con.execute(
                "SELECT supplier, conversation_id FROM findings WHERE supplier = ?", [supplier]).fetchall()]  # fmt: skip
        names = frozenset(tagged_names(con, [*keys, *finding_keys]))
        redact = Redactor(names)
        score_rows = _scores(con, supplier, draws)
        _write_csv(root / SCORES, SCORE_COLUMNS, score_rows)
        review_ids = sorted({int(r[7]) for r in score_rows if r[7] is not None})
        _write_csv(root / ANSWERS, ANSWER_COLUMNS, _answers(con, review_ids, redact))
        _write_json(
            root / SCORECARDS, _scorecards(con, {(r[8], r[9]) for r in score_rows if r[8] is not None})
        )
        mine = [c for c in contracts if c.supplier == supplier]
        floor_conf = mine[0].confidence if mine else CONFIDENCE
        _write_json(root / ESTIMATES, _estimates(con, supplier, period, draws, floor_conf))
        with (root / TRANSCRIPTS).open("w", encoding="utf-8") as f:
            for record in _transcripts(con, keys, redact):
                f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        _write_json(root / FINDINGS, _findings(con, supplier, period, redact))
        log_records, log_notes = chain.export_log(con, supplier, redact)
        left_out += log_notes
        with (root / chain.LOG_FILE).open("w", encoding="utf-8") as f:
            for record in log_records:
                f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        if mine:
            _write_json(root / CONTRACT, [evaluate_contract(con, c, period).to_dict() for c in mine])
        else:
            left_out.append("contract.json: no contract with this supplier was given")
        html = render_report_html(con, supplier=supplier, period=period, contracts=mine)
        (root / REPORT).write_text(redact.names_only(html), encoding="utf-8")  # names the pack's tags too
        head = auditlog.head(con, supplier)
        global_head = auditlog.head(con)
        pack = {
            "format": FORMAT,
            "supplier": supplier,
            "period": period.to_dict(),
            "created_at": auditlog.iso_utc(now),
            "population": {"file": POPULATION, "count": count, "fingerprint": fingerprint},
            "draws": draw_meta,
            "sampled": len(keys),
            "scores": len(score_rows),
            "audit_log": {
                "file": chain.LOG_FILE,
                "entries": len(log_records),
                "supplier_head": list(head),
                "global_head": list(global_head),
                "withheld": sum(1 for r in log_records if r["payload"] is None),
            },  # fmt: skip
            "contract": CONTRACT if mine else None,
            "report": REPORT if html is not None else None,
            "redaction": {"patterns": "audits.checks.pii", "tagged_names": len(names)},
            "left_out": left_out,
        }
        _write_json(root / PACK, pack)
        files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        manifest = {"format": FORMAT, "supplier": supplier, "period": period.label,
                    "files": [{"path": f, "sha256": _sha256(root / f), "bytes": (root / f).stat().st_size}
                              for f in files]}  # fmt: skip
        _write_json(root / MANIFEST, manifest)
        target.parent.mkdir(parents=True, exist_ok=True)
        stamp = now.astimezone(dt.UTC).timetuple()[:6]
        partial = target.with_name(target.name + ".partial")
        try:
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as z:
                for name in [MANIFEST, *files]:
                    info = zipfile.ZipInfo(name, date_time=stamp)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    z.writestr(info, (root / name).read_bytes())
            partial.replace(target)  # the zip appears whole or not at all
        finally:
            partial.unlink(missing_ok=True)
        manifest_sha = _sha256(root / MANIFEST)
    return PackResult(target, supplier, period, tuple([MANIFEST, *files]), tuple(draws), count, len(keys),
                      len(score_rows), len(log_records), manifest_sha, tuple(left_out))  # fmt: skip
