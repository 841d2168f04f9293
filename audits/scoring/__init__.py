"""Human scoring of a drawn sample: review queues, blind calibration, reviews, the CSV sheet, disputes.

assign_reviews              every drawn item to one primary reviewer (balanced, keyed hash), a share
                            also to further reviewers, blind, for calibration; sticky and idempotent
submit_review               the assigned reviewer's answers, checked and scored on the pinned
                            scorecard; the primary's pass/fail goes to `sample_scores`
reviewer_view, queue        what a reviewer may see of an item (never others' answers before their
                            own submission); assignments and progress per reviewer and per draw
export_sheet, import_sheet  the queue as an RFC 4180 CSV to fill, imported all or nothing
open_dispute, resolve_dispute, list_disputes
                            challenge the counting review; an upheld dispute re-scores it

Tables: review_assignments, reviews, review_answers, disputes (audits.scoring.tables).
docs/scoring.md explains which score counts and why.
"""

from audits.scoring.assign import AssignResult, assign_reviews
from audits.scoring.disputes import DisputeResult, list_disputes, open_dispute, resolve_dispute
from audits.scoring.prefill import Prefill
from audits.scoring.reviews import ReviewResult, submit_review
from audits.scoring.sheets import ExportResult, ImportResult, SheetError, export_sheet, import_sheet
from audits.scoring.tables import ensure_scoring_tables
from audits.scoring.views import QueueReport, ReviewerView, queue, reviewer_view

__all__ = [
    "AssignResult",
    "DisputeResult",
    "ExportResult",
    "ImportResult",
    "Prefill",
    "QueueReport",
    "ReviewResult",
    "ReviewerView",
    "SheetError",
    "assign_reviews",
    "ensure_scoring_tables",
    "export_sheet",
    "import_sheet",
    "list_disputes",
    "open_dispute",
    "queue",
    "resolve_dispute",
    "reviewer_view",
    "submit_review",
]
