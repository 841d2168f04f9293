"""The sampling core: a validated plan, keyed-hash order sampling per stratum, and recorded draws.

load_plan, parse_plan, Plan   a YAML sampling plan, validated (errors name the file and the key)
allocate, plan_allocation     k per stratum: proportional, equal, Neyman or fixed, with min/max
order_key, select             u = H(seed, supplier, conversation_id) and the k smallest u per stratum
draw, verify                  store a draw (idempotent) and re-derive it to say exactly what differs
"""

from audits.sampling.allocate import allocate, plan_allocation
from audits.sampling.draw import DrawResult, VerifyReport, draw, verify
from audits.sampling.plan import Plan, load_plan, parse_plan
from audits.sampling.select import Item, Selection, StratumDraw, order_key, select

__all__ = [
    "DrawResult",
    "Item",
    "Plan",
    "Selection",
    "StratumDraw",
    "VerifyReport",
    "allocate",
    "draw",
    "load_plan",
    "order_key",
    "parse_plan",
    "plan_allocation",
    "select",
    "verify",
]
