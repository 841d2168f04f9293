"""Contract terms between a buyer and a supplier, and their verdicts over a period.

    model       the terms as typed dataclasses (one docstring per field)
    load        YAML files -> Contract (errors name the file and the key)
    estimates   the period's pass rate from the nightly draws, overall and by channel, market, journey, ...
    evaluate    each term -> met | breached | not enough evidence, with the figures behind it

docs/report.md documents the YAML and the rules.
"""

from audits.contracts.evaluate import ContractEvaluation, TermResult, data_period, evaluate_contract
from audits.contracts.load import default_folder, load_contract, load_contracts, parse_contract
from audits.contracts.model import (
    BREACHED,
    MET,
    NOT_ENOUGH,
    VERDICTS,
    ChannelLimits,
    ComplianceLimit,
    Containment,
    Contract,
    QACoverage,
    QualityFloor,
)

__all__ = [
    "BREACHED",
    "MET",
    "NOT_ENOUGH",
    "VERDICTS",
    "ChannelLimits",
    "ComplianceLimit",
    "Containment",
    "Contract",
    "ContractEvaluation",
    "QACoverage",
    "QualityFloor",
    "TermResult",
    "data_period",
    "default_folder",
    "evaluate_contract",
    "load_contract",
    "load_contracts",
    "parse_contract",
]
