"""The terms of a buyer-supplier contract, as typed and documented values.

A `Contract` is built by `audits.contracts.load.parse_contract` from YAML; every field below is a key
of that YAML (docs/report.md lists them with examples). Each term is optional: a contract judges only
what it names. Thresholds are the contract's; the rules that turn figures into met / breached /
not enough evidence are in audits.contracts.evaluate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from audits.sampling.estimate import BREACHED, MET, NOT_ENOUGH  # one set of verdict words

VERDICTS: tuple[str, ...] = (MET, BREACHED, NOT_ENOUGH)


@dataclass(frozen=True)
class QualityFloor:
    """A minimum QA pass rate over the supplier's sampled conversations (the nightly plan's population)."""

    min_pass_rate: float
    """The floor, e.g. 0.85: at least 85% of the conversations must pass their scorecard."""
    alpha: float = 0.05
    """Error rate of the anytime-valid sequential test (false breach alarms, over all nights)."""
    min_scored: int = 30
    """Fewer scored items than this in the period: never "met" (a breach can still be declared)."""


@dataclass(frozen=True)
class ChannelLimits:
    """A percentile of a time per channel and its limit in seconds (escalation latency, first response)."""

    percentile: float
    """Which percentile is limited, in (0, 1): 0.95 is the p95."""
    limit_seconds: dict[str, float]
    """Per channel (voice, chat, ...) the limit; `default` for channels not listed. Unlisted: not judged."""
    min_count: int
    """Fewer events than this on a channel in the period: "not enough evidence" for that channel."""

    def limit(self, channel: str) -> float | None:
        """The limit for `channel` (its `default` when not listed), None when there is none."""
        return self.limit_seconds.get(channel, self.limit_seconds.get("default"))


@dataclass(frozen=True)
class QACoverage:
    """A minimum share of interactions scored by QA, per handler."""

    min_share: dict[str, float]
    """Per handler (ai, human, hybrid): the share of the period's conversations that must be scored."""
    min_conversations: int = 1
    """Fewer conversations of a handler than this in the period: "not enough evidence" for it."""


@dataclass(frozen=True)
class Containment:
    """AI containment with safe hand-off, judged on AI-started conversations (handler ai or hybrid)."""

    window_days: int = 7
    """A contact counts as resolved only if the customer did not come back on the same journey within this."""
    min_contained_rate: float | None = None
    """Minimum share resolved by the AI alone with no repeat contact in the window."""
    min_safe_rate: float | None = None
    """Minimum share contained or safely handed off (a human took it over, no repeat contact in the window)."""
    min_conversations: int = 50
    """Fewer judged conversations than this: "not enough evidence"."""


@dataclass(frozen=True)
class ComplianceLimit:
    """How many failures of one automated check the contract tolerates in a period."""

    check_id: str
    """The check (audits.checks.CHECK_IDS), e.g. pii_echo or ai_disclosure."""
    max_failures: int | None = None
    """At most this many failing conversations (0: none allowed)."""
    max_rate: float | None = None
    """At most this share of the conversations the check applies to (fail / (pass + fail))."""
    min_applicable: int = 30
    """A rate over fewer applicable conversations than this is "not enough evidence" (unless already breached by count)."""


@dataclass(frozen=True)
class Contract:
    """A buyer-supplier contract's terms; `source` is the YAML file it came from."""

    contract_id: str
    """A name for the contract, unique among the contracts a report reads (e.g. acme-retail/harbor-cx)."""
    buyer: str
    """The buyer (the party with audit rights)."""
    supplier: str
    """The supplier as it appears in the warehouse's `supplier` column."""
    title: str = ""
    """A human title for the report."""
    confidence: float = 0.95
    """Confidence of the quality floor's one-sided interval bounds."""
    sampling_plan: Path | None = None
    """The nightly sampling plan (resolved against the contract file's folder), e.g. data/plans/nightly/<supplier>.yaml."""
    quality_floor: QualityFloor | None = None
    """Minimum QA pass rate (see QualityFloor)."""
    escalation_latency: ChannelLimits | None = None
    """Seconds from the customer's request for a human to the hand-off, per channel."""
    first_response: ChannelLimits | None = None
    """Seconds from the customer's first message to the first agent reply, per channel."""
    qa_coverage: QACoverage | None = None
    """Share of AI and of human interactions scored."""
    containment: Containment | None = None
    """AI containment and safe hand-off."""
    compliance: tuple[ComplianceLimit, ...] = ()
    """Compliance exceptions allowed, per automated check."""
    source: str = field(default="<contract>", compare=False)
    """The file the contract was read from (not part of its identity)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for JSON and the evidence pack."""
        out = asdict(self)
        out["sampling_plan"] = str(self.sampling_plan) if self.sampling_plan else None
        out["compliance"] = [asdict(c) for c in self.compliance]
        return out
