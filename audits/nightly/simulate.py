"""A simulated reviewer for the demo: scores the drawn sample from the generator's ground truth.

The bundled demo data has no human reviewers, yet the nightly audit should end in real estimates.
This reviewer answers every open assignment of the given draws (primary and calibration) by a fixed
rule, and its reviews and scores are marked simulated wherever they show (reviews.source =
'simulated', sample_scores.simulated = true, the estimates' `simulated_scores`):

- an item that names a check fails when the ground truth lists that check's kind for the
  conversation (audits.checks.measure.TRUTH_KIND: what was planted or observed by the generator);
  otherwise it takes the check's own proposal when the check was not applicable ("na") or has no
  kind in the ground truth, else the scale's best passing value (most points);
- an item without a check gets the best passing value, except items about resolution, which fail on a conversation whose
  automation failed (the ground truth's `failed_automation`).

It never reads a real reviewer's answers and never runs on data without a ground truth file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import duckdb

from audits.checks.measure import TRUTH_KIND
from audits.errors import InputError
from audits.ingest.fieldsql import q
from audits.scorecards.model import NA
from audits.scoring.answers import check_answers, pinned_scorecard
from audits.scoring.prefill import prefills
from audits.scoring.reviews import SIMULATED_SOURCE, Submission, store_reviews
from audits.scoring.tables import has_scoring_tables

COMMENT = "simulated reviewer (demo): answered from the generator's ground truth, not by a person"


def _truth(con: duckdb.DuckDBPyConnection, path: str | os.PathLike[str], keys: list[tuple[str, str]]) -> dict:
    if not os.path.isfile(path):
        raise InputError(str(path), "no ground truth file; the simulated reviewer needs the generator's")
    rows = con.execute(
        f"SELECT supplier, conversation_id, list(DISTINCT kind) FROM read_json({q(str(path))}, "
        "format = 'newline_delimited', columns = {supplier: 'VARCHAR', conversation_id: 'VARCHAR', kind: 'VARCHAR'}) "
        "SEMI JOIN (SELECT unnest($s::VARCHAR[]) AS supplier, unnest($c::VARCHAR[]) AS conversation_id) k "
        "USING (supplier, conversation_id) GROUP BY ALL",
        {"s": [k[0] for k in keys], "c": [k[1] for k in keys]},
    ).fetchall()
    return {(s, c): set(kinds) for s, c, kinds in rows}


def _answer(item: Any, kinds: set[str], proposal: Any) -> str:
    scale = item.scale
    fail = scale.fail[0] if scale.fail else scale.values[-1]
    best = max((v for v in scale.values if v not in scale.fail), key=scale.points_of)
    if item.check:
        kind = TRUTH_KIND.get(item.check)
        if kind is not None and kind in kinds:
            return str(fail)
        if proposal is not None and proposal.value is not None and (kind is None or proposal.value == NA):
            return str(proposal.value)
        return str(best)
    if "resolution" in item.id and "failed_automation" in kinds and scale.fail:
        return str(fail)
    return str(best)


def simulate_reviews(
    con: duckdb.DuckDBPyConnection, draw_ids: Sequence[str], truth_path: str | os.PathLike[str]
) -> int:
    """Answer every open assignment of `draw_ids` as the simulated reviewer; returns the reviews written."""
    if not draw_ids or not has_scoring_tables(con):
        return 0
    open_rows = con.execute(
        "SELECT draw_id, supplier, conversation_id, reviewer, role, scorecard_id, scorecard_version "
        "FROM review_assignments WHERE status = 'open' AND draw_id IN (SELECT unnest($d::VARCHAR[])) "
        "ORDER BY draw_id, supplier, conversation_id, reviewer",
        {"d": list(draw_ids)},
    ).fetchall()
    if not open_rows:
        return 0
    truth = _truth(con, truth_path, [(r[1], r[2]) for r in open_rows])
    cache: dict[tuple[str, str], Any] = {}
    cards = {(r[1], r[2], i): pinned_scorecard(con, r[5], r[6], cache) for i, r in enumerate(open_rows)}
    proposals = prefills(con, cards)
    subs = []
    for i, (draw_id, supplier, cid, reviewer, role, _sid, _sv) in enumerate(
        open_rows
    ):  # the sample, not the population
        card = cards[(supplier, cid, i)]
        kinds = truth.get((supplier, cid), set())
        proposed = proposals.get((supplier, cid, i), {})
        answers = {item.id: _answer(item, kinds, proposed.get(item.id)) for item in card.items}
        where = f"draw {draw_id}, {supplier}/{cid}, reviewer {reviewer}"
        normal, notes, result = check_answers(card, answers, {card.items[0].id: COMMENT}, where)
        subs.append(
            Submission(draw_id, supplier, cid, reviewer, role, card, normal, notes, result, SIMULATED_SOURCE)
        )
    return len(store_reviews(con, subs))
