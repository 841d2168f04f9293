"""One generated data set for the scale tests: sources, the reference warehouse, the split, the audit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from audits.scale import Layout, MergeResult, PartitionResult, SplitResult, split_exports
from tests.scale.helpers import audit_all, build_sources, single_warehouse


@dataclass
class Audited:
    sources: Path
    reference: Path  # the single warehouse
    input_dir: Path  # the split
    split: SplitResult
    out: Path
    work: Path
    layout: Layout
    results: list[PartitionResult]
    merge: MergeResult


@pytest.fixture(scope="session")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Audited:
    """600 generated conversations on one local day (two UTC days, three with the corrections, bad
    lines and another supplier), split and audited."""
    root = tmp_path_factory.mktemp("scale")
    sources = build_sources(root / "src")
    reference = single_warehouse(sources, root / "one.duckdb")
    split = split_exports([sources], root / "input")
    layout, results, merge = audit_all(root / "input", root / "out", root / "work")
    return Audited(
        sources, reference, root / "input", split, root / "out", root / "work", layout, results, merge
    )
