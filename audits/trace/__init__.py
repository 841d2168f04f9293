"""The failed-answer trace: a finding's walk from detection to a verified correction.

    kb          KB article versions, when each was live, and the diff between two
    lifecycle   which event may follow which, and what each event must say
    findings    findings and their events (each also written to the audit log, audits.auditlog)

Nothing is imported here, so `import audits.trace.kb` stays light.
"""
