"""Reading contracts from YAML: one file per buyer-supplier contract, every error naming the file and key.

    contract_id: acme-retail/harbor-cx
    buyer: acme-retail
    supplier: harbor-cx
    title: Acme Retail customer care by Harbor CX
    confidence: 0.95
    sampling_plan: ../plans/nightly/harbor-cx.yaml      # relative to this file
    terms:
      quality_floor: {min_pass_rate: 0.85, alpha: 0.05, min_scored: 30}
      escalation_latency: {percentile: 0.95, limit_seconds: {default: 300, voice: 120}, min_escalations: 20}
      first_response: {percentile: 0.9, limit_seconds: {chat: 30, voice: 20}, min_conversations: 20}
      qa_coverage: {min_share: {ai: 0.02, human: 0.05}, min_conversations: 20}
      containment: {window_days: 3, min_contained_rate: 0.5, min_safe_rate: 0.8, min_conversations: 50}
      compliance_exceptions:
        pii_echo: {max_failures: 0}
        ai_disclosure: {max_rate: 0.05, min_applicable: 30}

docs/report.md documents every key.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from audits.checks import CHECK_IDS
from audits.config import ConfigReader
from audits.contracts.model import (
    ChannelLimits,
    ComplianceLimit,
    Containment,
    Contract,
    QACoverage,
    QualityFloor,
)
from audits.errors import ConfigError
from audits.ingest.fields import CHANNELS, HANDLERS

ENV_CONTRACTS = "QA_AUDIT_CONTRACTS"
DEFAULT_FOLDER = Path("data") / "contracts"

_TOP = ("contract_id", "buyer", "supplier", "title", "confidence", "sampling_plan", "terms")
_TERMS = (
    "quality_floor",
    "escalation_latency",
    "first_response",
    "qa_coverage",
    "containment",
    "compliance_exceptions",
)


def _required(r: ConfigReader, d: dict[str, Any], key: str, prefix: str = "") -> Any:
    if key not in d:
        raise r.fail(f"{prefix}{key}", "is required")
    return d[key]


def _seconds_map(r: ConfigReader, key: str, value: Any) -> dict[str, float]:
    d = r.mapping(key, value, (*CHANNELS, "default"))
    if not d:
        raise r.fail(key, "must name at least one channel (or default)")
    out = {}
    for channel, seconds in d.items():
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds < 1e9:
            raise r.fail(f"{key}.{channel}", f"must be a number of seconds > 0 and < 1e9, got {seconds!r}")
        out[str(channel)] = float(seconds)
    return out


def _channel_limits(
    r: ConfigReader, key: str, value: Any, count_key: str, count_default: int
) -> ChannelLimits:
    d = r.mapping(key, value, ("percentile", "limit_seconds", count_key))
    percentile = r.rate(f"{key}.percentile", _required(r, d, "percentile", f"{key}."))
    limits = _seconds_map(r, f"{key}.limit_seconds", _required(r, d, "limit_seconds", f"{key}."))
    minimum = r.integer(f"{key}.{count_key}", d.get(count_key, count_default), 1)
    return ChannelLimits(percentile, limits, minimum)


def _quality_floor(r: ConfigReader, value: Any) -> QualityFloor:
    key = "terms.quality_floor"
    d = r.mapping(key, value, ("min_pass_rate", "alpha", "min_scored"))
    floor = r.rate(f"{key}.min_pass_rate", _required(r, d, "min_pass_rate", f"{key}."), high_closed=False)
    alpha = r.rate(f"{key}.alpha", d.get("alpha", 0.05))
    min_scored = r.integer(f"{key}.min_scored", d.get("min_scored", 30), 1)
    return QualityFloor(floor, alpha, min_scored)


def _coverage(r: ConfigReader, value: Any) -> QACoverage:
    key = "terms.qa_coverage"
    d = r.mapping(key, value, ("min_share", "min_conversations"))
    shares = r.mapping(f"{key}.min_share", _required(r, d, "min_share", f"{key}."), HANDLERS)
    if not shares:
        raise r.fail(f"{key}.min_share", "must name at least one handler (ai, human, hybrid)")
    out = {
        str(h): r.rate(f"{key}.min_share.{h}", v, low_open=False, high_closed=True) for h, v in shares.items()
    }
    return QACoverage(out, r.integer(f"{key}.min_conversations", d.get("min_conversations", 1), 1))


def _containment(r: ConfigReader, value: Any) -> Containment:
    key = "terms.containment"
    d = r.mapping(key, value, ("window_days", "min_contained_rate", "min_safe_rate", "min_conversations"))
    contained = d.get("min_contained_rate")
    safe = d.get("min_safe_rate")
    if contained is None and safe is None:
        raise r.fail(key, "names no limit: give min_contained_rate, min_safe_rate or both")
    return Containment(
        window_days=r.integer(f"{key}.window_days", d.get("window_days", 7), 1),
        min_contained_rate=None
        if contained is None
        else r.rate(f"{key}.min_contained_rate", contained, high_closed=True),
        min_safe_rate=None if safe is None else r.rate(f"{key}.min_safe_rate", safe, high_closed=True),
        min_conversations=r.integer(f"{key}.min_conversations", d.get("min_conversations", 50), 1),
    )


def _compliance(r: ConfigReader, value: Any) -> tuple[ComplianceLimit, ...]:
    key = "terms.compliance_exceptions"
    d = r.mapping(key, value, CHECK_IDS)
    out = []
    for check_id, limits in d.items():
        k = f"{key}.{check_id}"
        lim = r.mapping(k, limits, ("max_failures", "max_rate", "min_applicable"))
        if "max_failures" not in lim and "max_rate" not in lim:
            raise r.fail(k, "names no limit: give max_failures, max_rate or both")
        out.append(
            ComplianceLimit(
                check_id=str(check_id),
                max_failures=r.integer(f"{k}.max_failures", lim["max_failures"], 0)
                if "max_failures" in lim
                else None,
                max_rate=r.rate(f"{k}.max_rate", lim["max_rate"], low_open=False)
                if "max_rate" in lim
                else None,
                min_applicable=r.integer(f"{k}.min_applicable", lim.get("min_applicable", 30), 1),
            )
        )
    return tuple(out)


def _plan_path(r: ConfigReader, value: Any, source: str, supplier: str) -> Path:
    from audits.sampling.plan import load_plan  # noqa: PLC0415  (a plan pulls in the sampling package)

    text = r.string("sampling_plan", value)
    path = Path(text)
    if not path.is_absolute() and source not in ("", "<contract>"):
        path = Path(os.path.normpath(Path(source).parent / path))
    if not path.is_file():
        raise r.fail("sampling_plan", f"no plan file at {path}")
    try:
        plan = load_plan(path)
    except ConfigError as exc:
        raise r.fail("sampling_plan", str(exc)) from exc
    if tuple(plan.population.suppliers) != (supplier,):
        raise r.fail(
            "sampling_plan",
            f"plan {plan.name!r} ({path}) draws from suppliers {list(plan.population.suppliers)}, "
            f"not only the contract's supplier {supplier!r}",
        )
    return path


def parse_contract(data: Any, source: str = "<contract>") -> Contract:
    """Validate a contract given as a dict (parsed YAML); errors (ConfigError) name `source` and the key."""
    r = ConfigReader(source)
    d = r.mapping("", data if data is not None else {}, _TOP)
    supplier = r.string("supplier", _required(r, d, "supplier"))
    terms = r.mapping("terms", d.get("terms", {}), _TERMS)
    if not terms:
        raise r.fail("terms", f"names no term; expected some of {', '.join(_TERMS)}")
    return Contract(
        contract_id=r.string("contract_id", _required(r, d, "contract_id")),
        buyer=r.string("buyer", _required(r, d, "buyer")),
        supplier=supplier,
        title=r.string("title", d["title"]) if "title" in d else "",
        confidence=r.rate("confidence", d.get("confidence", 0.95)),
        sampling_plan=_plan_path(r, d["sampling_plan"], source, supplier) if "sampling_plan" in d else None,
        quality_floor=_quality_floor(r, terms["quality_floor"]) if "quality_floor" in terms else None,
        escalation_latency=_channel_limits(
            r, "terms.escalation_latency", terms["escalation_latency"], "min_escalations", 20
        )
        if "escalation_latency" in terms
        else None,
        first_response=_channel_limits(
            r, "terms.first_response", terms["first_response"], "min_conversations", 20
        )
        if "first_response" in terms
        else None,
        qa_coverage=_coverage(r, terms["qa_coverage"]) if "qa_coverage" in terms else None,
        containment=_containment(r, terms["containment"]) if "containment" in terms else None,
        compliance=_compliance(r, terms["compliance_exceptions"]) if "compliance_exceptions" in terms else (),
        source=source,
    )


def load_contract(path: str | os.PathLike[str]) -> Contract:
    """Read and validate one contract file; ConfigError names the file (and the key, or the YAML line)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the contract: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8: {exc.reason}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{p}{where}: not valid YAML: {exc}") from exc
    return parse_contract(data, str(p))


def default_folder() -> Path | None:
    """$QA_AUDIT_CONTRACTS, else ./data/contracts when it exists, else None."""
    env = os.environ.get(ENV_CONTRACTS)
    if env:
        return Path(env)
    return DEFAULT_FOLDER if DEFAULT_FOLDER.is_dir() else None


def load_contracts(paths: Sequence[str | os.PathLike[str]]) -> list[Contract]:
    """Contracts from files and folders (a folder gives its *.yaml, sorted); two with one id are refused."""
    files: list[Path] = []
    for item in paths:
        p = Path(item)
        if p.is_dir():
            files.extend(sorted(p.glob("*.yaml")))
        elif p.is_file():
            files.append(p)
        else:
            raise ConfigError(f"contract {p}: no such file or folder")
    contracts = [load_contract(f) for f in files]
    seen: dict[str, str] = {}
    for c in contracts:
        if c.contract_id in seen:
            raise ConfigError(
                f"contracts {seen[c.contract_id]} and {c.source} have the same contract_id {c.contract_id!r}"
            )
        seen[c.contract_id] = c.source
    return contracts


def contracts_or_default(paths: Sequence[str | os.PathLike[str]] = ()) -> list[Contract]:
    """The contracts in `paths`; none given: those of `default_folder()`; no such folder: none."""
    sources = list(paths) or ([folder] if (folder := default_folder()) is not None else [])
    return load_contracts(sources) if sources else []
