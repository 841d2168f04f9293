"""The sampling core: a validated plan, keyed-hash order sampling per stratum, and recorded draws.

load_plan, parse_plan, Plan   a YAML sampling plan, validated (errors name the file and the key)
allocate, plan_allocation     k per stratum: proportional, equal, Neyman or fixed, with min/max
order_key, select             u = H(seed, supplier, conversation_id) and the k smallest u per stratum
draw, verify                  store a draw (idempotent) and re-derive it to say exactly what differs
record_scores, estimate       pass/fail scores of drawn items, and design-weighted rates with intervals
"""

from audits.sampling.allocate import allocate, plan_allocation
from audits.sampling.draw import DrawResult, VerifyReport, draw, verify
from audits.sampling.estimate import Estimate, Score, estimate, record_scores, scores_from_csv
from audits.sampling.plan import Plan, load_plan, parse_plan
from audits.sampling.select import Item, Selection, StratumDraw, order_key, select

__all__ = [
    "DrawResult",
    "Estimate",
    "Item",
    "Plan",
    "Score",
    "Selection",
    "StratumDraw",
    "VerifyReport",
    "allocate",
    "draw",
    "estimate",
    "load_plan",
    "order_key",
    "parse_plan",
    "plan_allocation",
    "record_scores",
    "scores_from_csv",
    "select",
    "verify",
]
