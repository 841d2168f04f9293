"""Exported draws: re-derived from population.csv and draw.json alone, and every tampering named."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from audits.errors import ConfigError
from audits.sampling import draw
from audits.sampling.manifest import export_draw, population_columns, verify_files
from tests.sampling.conftest import make_plan, populate

PLANS: dict[str, dict[str, Any]] = {
    "proportional": {},
    "edge-neyman": {
        "strata": ["channel", "handler"],
        "allocation": {
            "method": "neyman",
            "prior_failure_rate": {"default": 0.08, "channel=voice|handler=ai": 0.2},
        },
        "size": {"n": 50},
        "min_per_stratum": 4,
        "edge_cases": [
            {"name": "failed_automation", "take": "all"},
            {"name": "low_csat", "rate": 0.05, "cap": 9},
            {"name": "missed_handoff", "rate": 0.5},
        ],
    },
    "no-strata": {"strata": [], "size": {"n": 13}, "edge_cases": [{"name": "repeat_contact", "rate": 0.1}]},
}


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def exported(mem: Any, tmp_path: Path, name: str = "edge-neyman", seed: int = 2026) -> tuple[Any, Path]:
    populate(mem, 1500, shuffle=3)
    mem.execute(
        "UPDATE conversations SET channel = NULL, content_hash = NULL WHERE conversation_id LIKE '%9'"
    )
    mem.execute(
        "UPDATE conversations SET started_at = started_at + INTERVAL 60 DAY WHERE conversation_id LIKE '%4'"
    )
    d = draw(mem, make_plan(**PLANS[name]), seed)
    out = tmp_path / "export"
    result = export_draw(mem, d.draw_id, out)
    assert result.population_matches and result.sample_rows == len(d.items)
    assert result.population_rows == d.population_count
    return d, out


@pytest.mark.parametrize("name", sorted(PLANS))
def test_round_trip_is_ok(mem: Any, tmp_path: Path, name: str) -> None:
    d, out = exported(mem, tmp_path, name)
    report = verify_files(out)
    assert report.ok, report.differences()
    assert report.population_count == (d.population_count, d.population_count)
    assert report.draw_id == (d.draw_id, d.draw_id)
    manifest = json.loads((out / "draw.json").read_text())
    assert manifest["seed"] == "2026" and manifest["population_fingerprint"] == d.population_fingerprint
    assert len(manifest["strata"]) == len(d.strata)


def test_population_csv_holds_ids_hashes_and_strata_only(mem: Any, tmp_path: Path) -> None:
    d, out = exported(mem, tmp_path)
    header, rows = read_rows(out / "population.csv")
    assert header == [
        "supplier",
        "conversation_id",
        "content_hash",
        "channel",
        "handler",
        "failed_automation",
        "low_csat",
        "missed_handoff",
    ]
    assert header == population_columns(make_plan(**PLANS["edge-neyman"]))
    assert rows == sorted(rows, key=lambda r: (r[0], r[1])) and len(rows) == d.population_count
    assert any(r[3] == "(none)" and r[2] == "" for r in rows)
    assert {r[5] for r in rows} == {"true", "false"}
    sample_header, sample = read_rows(out / "sample.csv")
    assert sample_header[-3:] == ["inclusion_probability", "weight", "u"] and len(sample) == len(d.items)


def test_dropped_sample_row_is_missing(mem: Any, tmp_path: Path) -> None:
    _, out = exported(mem, tmp_path)
    header, rows = read_rows(out / "sample.csv")
    dropped = rows.pop(7)
    write_rows(out / "sample.csv", header, rows)
    report = verify_files(out)
    assert not report.ok
    assert report.missing == ((dropped[0], dropped[1]),)
    assert (
        report.extra == ()
        and report.changed == ()
        and report.population_fingerprint[0] == report.population_fingerprint[1]
    )
    assert report.differences() == [f"missing from sample.csv: {dropped[0]} {dropped[1]}"]


def test_changed_weight_is_named(mem: Any, tmp_path: Path) -> None:
    _, out = exported(mem, tmp_path)
    header, rows = read_rows(out / "sample.csv")
    w = header.index("weight")
    true_weight = float(rows[3][w])
    rows[3][w] = repr(true_weight * 1.5)
    write_rows(out / "sample.csv", header, rows)
    report = verify_files(out)
    assert report.changed == ((rows[3][0], rows[3][1], "weight", true_weight * 1.5, true_weight),)
    assert report.missing == report.extra == () and not report.ok
    assert len(report.differences()) == 1 and "weight" in report.differences()[0]


def test_changed_seed_is_named(mem: Any, tmp_path: Path) -> None:
    d, out = exported(mem, tmp_path)
    manifest = json.loads((out / "draw.json").read_text())
    manifest["seed"] = "2027"
    (out / "draw.json").write_text(json.dumps(manifest))
    report = verify_files(out)
    assert report.draw_id[0] == d.draw_id and report.draw_id[1] != d.draw_id
    assert report.missing and report.extra  # another seed selects other conversations
    assert report.population_fingerprint[0] == report.population_fingerprint[1]
    assert any(line.startswith("draw_id:") for line in report.differences())


def test_added_population_row_is_named(mem: Any, tmp_path: Path) -> None:
    d, out = exported(mem, tmp_path)
    header, rows = read_rows(out / "population.csv")
    extra = list(rows[0])
    extra[1] = "c-added"
    rows.append(extra)
    write_rows(out / "population.csv", header, rows)
    report = verify_files(out)
    assert report.population_count == (d.population_count, d.population_count + 1)
    assert report.population_fingerprint[0] != report.population_fingerprint[1]
    assert report.draw_id[0] == report.draw_id[1]  # plan and seed untouched
    lines = report.differences()
    assert any(line.startswith("population_count:") for line in lines)
    assert any(line.startswith("population_fingerprint:") for line in lines)
    assert any(k == "population" for _, k, _, _ in report.strata_changed)


def test_plan_tampering_and_bad_files_are_named(mem: Any, tmp_path: Path) -> None:
    d, out = exported(mem, tmp_path)
    manifest = json.loads((out / "draw.json").read_text())
    manifest["plan"]["size"] = {"n": 51}
    (out / "draw.json").write_text(json.dumps(manifest))
    report = verify_files(out)
    assert report.plan_hash[0] != report.plan_hash[1] and report.draw_id[0] != report.draw_id[1]
    header, rows = read_rows(out / "sample.csv")
    rows.append(rows[0])
    rows[1][header.index("u")] = "zero"
    write_rows(out / "sample.csv", header, rows)
    problems = verify_files(out).problems
    assert any("listed twice" in p for p in problems) and any("u is not a number" in p for p in problems)


def test_export_of_an_unknown_draw_fails(mem: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no draw"):
        export_draw(mem, "0123456789abcdef", tmp_path)
    populate(mem, 50)
    draw(mem, make_plan(), 1)
    with pytest.raises(ConfigError, match="no draw"):
        export_draw(mem, "0123456789abcdef", tmp_path)


def test_export_notices_a_changed_warehouse(mem: Any, tmp_path: Path) -> None:
    d, _ = exported(mem, tmp_path)
    mem.execute("DELETE FROM conversations WHERE conversation_id = 'c-10'")
    again = export_draw(mem, d.draw_id, tmp_path / "later")
    assert not again.population_matches
    report = verify_files(tmp_path / "later")
    assert report.population_count == (d.population_count, d.population_count - 1)
