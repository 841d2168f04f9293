"""How well the checks find what the generator planted: precision and recall per check.

`measure(con, truth_path)` compares the stored `check_results` with the generator's ground truth
(`_ground_truth.jsonl`): a check's fail is a positive; a conversation the ground truth lists under the
check's kind is a true case. Repeat contacts are listed on the later conversation and checked on the
earlier one (the contact that did not resolve), so the truth maps through `previous_conversation_id`
(whose supplier is looked up: the generator's ids are unique across suppliers).
Checks with no kind in the ground truth report their fail count only.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import duckdb

from audits.checks import CHECK_IDS
from audits.ingest.fieldsql import q

# check id -> the ground truth's kind
TRUTH_KIND: dict[str, str] = {
    "ai_disclosure": "no_ai_disclosure",
    "pii_echo": "pii_echo",
    "handoff_missed": "missed_handoff",
    "handoff_sla": "slow_handoff",
    "bot_loop": "bot_loop",
    "identity_before_action": "unverified_action",
    "kb_grounded": "kb_contradiction",
    "repeat_contact": "repeat_contact",
    "automation_failed": "failed_automation",
}


@dataclass(frozen=True)
class Measure:
    """One check against the ground truth (precision and recall are None without a denominator)."""

    check_id: str
    truth_kind: str | None
    true_positives: int
    false_positives: int
    false_negatives: int
    fails: int
    precision: float | None
    recall: float | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def measure(con: duckdb.DuckDBPyConnection, truth_path: str | os.PathLike[str]) -> list[Measure]:
    """Precision and recall of each check's fails against the ground truth file."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _truth AS "
        "SELECT coalesce(p.supplier, g.supplier) AS supplier, "
        "coalesce(g.detail.previous_conversation_id, g.conversation_id) AS conversation_id, g.kind "
        f"FROM read_json({q(str(truth_path))}, format = 'newline_delimited', "
        "columns = {supplier: 'VARCHAR', conversation_id: 'VARCHAR', kind: 'VARCHAR', "
        "detail: 'STRUCT(previous_conversation_id VARCHAR)'}) g "
        # the earlier contact may be another supplier's (the generator's ids are unique across suppliers)
        "LEFT JOIN conversations p ON g.kind = 'repeat_contact' "
        "AND p.conversation_id = g.detail.previous_conversation_id"
    )
    out = []
    for check_id in CHECK_IDS:
        kind = TRUTH_KIND.get(check_id)
        fails = con.execute(
            "SELECT count(*) FROM check_results WHERE check_id = ? AND outcome = 'fail'", [check_id]
        ).fetchall()[0][0]
        if kind is None:
            out.append(Measure(check_id, None, 0, 0, 0, int(fails), None, None))
            continue
        tp, fp, fn = con.execute(
            """
            WITH p AS (SELECT supplier, conversation_id FROM check_results WHERE check_id = $c AND outcome = 'fail'),
                 t AS (SELECT DISTINCT supplier, conversation_id FROM _truth WHERE kind = $k)
            SELECT (SELECT count(*) FROM p SEMI JOIN t USING (supplier, conversation_id)),
                   (SELECT count(*) FROM p ANTI JOIN t USING (supplier, conversation_id)),
                   (SELECT count(*) FROM t ANTI JOIN p USING (supplier, conversation_id))
            """,
            {"c": check_id, "k": kind},
        ).fetchall()[0]
        out.append(
            Measure(
                check_id,
                kind,
                int(tp),
                int(fp),
                int(fn),
                int(fails),
                tp / (tp + fp) if tp + fp else None,
                tp / (tp + fn) if tp + fn else None,
            )  # fmt: skip
        )
    con.execute("DROP TABLE _truth")
    return out
