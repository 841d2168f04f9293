"""Rubric scorecards: YAML files validated into frozen types, versioned in the warehouse, and the scoring rule.

load_scorecard, load_scorecards    read and validate YAML (errors name the file and the key path)
parse_scorecard                    validate a scorecard given as data (parsed YAML or a stored body)
scorecard_for                      the current scorecard for a conversation's channel and handler
score, ScoreResult, prefill        the scoring rule (see audits.scorecards.score) and check pre-fill
register_scorecard, get_scorecard  versions pinned in the warehouse table `scorecards`

Scale, Item, Section, Scorecard are the types (audits.scorecards.model). docs/scorecards.md has the
format, the built-in scales (`yes_no`, `1-5`), the scoring rule with a worked example and versioning.
"""

from audits.scorecards.load import current_versions, load_scorecard, load_scorecards, scorecard_for
from audits.scorecards.model import BUILTIN_SCALES, NA, Item, Scale, Scorecard, Section
from audits.scorecards.parse import parse_scorecard
from audits.scorecards.registry import get_scorecard, register_scorecard, registered_versions
from audits.scorecards.score import ScoreResult, prefill, score

__all__ = [
    "BUILTIN_SCALES",
    "NA",
    "Item",
    "Scale",
    "ScoreResult",
    "Scorecard",
    "Section",
    "current_versions",
    "get_scorecard",
    "load_scorecard",
    "load_scorecards",
    "parse_scorecard",
    "prefill",
    "register_scorecard",
    "registered_versions",
    "score",
    "scorecard_for",
]
