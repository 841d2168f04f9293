"""Evidence packs: one supplier's evidence for a period, in a zip a buyer's auditor verifies alone.

    build       build_pack(con, supplier, period, out): the zip (layout below)
    verify      verify_pack(path[, population=, anchor=]): every check, with what differs
    chain       the supplier's audit log chain in the pack: written, and checked from the file
    redact      personal data and tagged names out of every text

The pack (every file listed with its sha256 in MANIFEST.json):

    pack.json            supplier, period, population count and fingerprint, the draws (and their
                         nights), the audit log's heads, what was left out and why
    population.csv       supplier, conversation_id, content_hash of every conversation of the supplier
                         that started in the period (the fingerprint: sha256 of the sorted
                         "supplier\\tconversation_id\\tcontent_hash" lines, joined by newlines)
    draws/<id>/          draw.json (plan, seed, counts, strata), population.csv (the plan's population
                         with stratum values and edge-case flags), sample.csv (stratum, reason,
                         inclusion probability, weight, u): audits.sampling.manifest
    scores.csv           each scored sampled conversation: passed, by whom, when, simulated, and the
                         review that counts (id, scorecard id and version, score)
    answers.csv          that review's answer per scorecard item, the check's pre-fill, overridden,
                         the comment (redacted)
    scorecards.json      the scorecard versions the reviews are pinned to, as registered
    estimates.json       per draw (audits.sampling.estimate) and for the period's nightly draws
                         together (audits.contracts.estimates), with their parameters
    contract.json        the contracts with this supplier judged over the period (when given)
    findings.json        findings on the supplier detected in the period or still open: timeline,
                         durations, KB correction, blast radius among this supplier's conversations
    audit_log.jsonl      the supplier's chain of the audit log (audits/evidence/chain.py)
    transcripts.jsonl    the sampled conversations, turns redacted; no customer or agent ids
    report.html          the supplier's report (audits.report), when available

What the audit log records (audits.auditlog; subject; each entry in its supplier's chain):

    draw.created         a draw (draw id): plan hash, seed, the supplier's items and their digest,
                         the population count and fingerprint for a draw of one supplier
    review.assigned      assignments (draw id): conversation, reviewer, role, scorecard id and version
    review.submitted     reviews (draw id), submitted or imported from a sheet (`source`): each
                         review's id, conversation, role, scorecard, score, passed, counts, answers
    review.replaced      earlier reviews a re-submission superseded (draw id)
    review.withdrawn     reviews taken back because their scores could not be recorded (draw id)
    prefill.overridden   answers that differ from an automated check's pre-fill (draw id)
    dispute.opened / dispute.resolved     disputes (dispute id): the review, reason, outcome, note
    finding.<event>      a finding's lifecycle, KB corrections included (finding id; audits.trace)

A log shared by suppliers cannot be handed over whole. Each entry about one supplier is also a link
of that supplier's own hash chain, whose hash covers a salted digest of the payload instead of the
payload (audits/auditlog.py): the pack carries the supplier's chain entire, from its first entry,
and none of the other suppliers' entries; a payload that names another supplier is withheld and
its digest keeps the chain whole. docs/audit-rights.md walks an auditor through a verification.
"""

from audits.evidence.build import PackResult, build_pack
from audits.evidence.verify import Check, PackVerification, verify_pack

__all__ = ["Check", "PackResult", "PackVerification", "build_pack", "verify_pack"]
