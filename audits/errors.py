"""Exceptions raised by the library. Each carries the context a user needs to act on it.

    AuditError
    ├── ConfigError            a setting or an argument is invalid
    │   ├── AgreementError     bad ratings for an agreement statistic (audits.stats.agreement)
    │   ├── LifecycleError     a finding's event not allowed in its state (audits.trace.lifecycle)
    │   └── UnknownFinding     no finding with that id (audits.trace.lifecycle)
    ├── InputError             a file cannot be read at all (missing, unknown format, bad columns)
    │   ├── AdapterError       a platform export does not have the shape its adapter expects
    │   └── SheetError         a review sheet (CSV) with problems, all listed (audits.scoring.sheets)
    ├── WarehouseError         the DuckDB warehouse cannot be opened or written
    │   ├── WarehouseBusy      another process holds the warehouse past the retry budget
    │   └── NightlyBusy        another nightly run holds the warehouse (audits.nightly.lock)
    └── ContractMismatch       the SQL contract and the Great Expectations run disagree (a bug)

Record-level problems (a bad line in a good file) are not exceptions: they are quarantined with
their reasons and reported in the load's summary.
"""

from __future__ import annotations


class AuditError(Exception):
    """Base class of every error the library raises on purpose."""


class ConfigError(AuditError):
    """A setting or argument is invalid."""


class InputError(AuditError):
    """A file cannot be read at all. `path` names it; `field` names the culprit when known."""

    def __init__(self, path: str, message: str, *, line: int | None = None, field: str | None = None):
        self.path = path
        self.line = line
        self.field = field
        where = path if line is None else f"{path}:{line}"
        if field:
            where += f" [{field}]"
        super().__init__(f"{where}: {message}")


class AdapterError(InputError):
    """A platform export (tau-bench, ABCD) does not have the shape its adapter expects."""


class WarehouseError(AuditError):
    """The warehouse cannot be opened or written. `path` names the DuckDB file."""

    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(f"{path}: {message}")


class WarehouseBusy(WarehouseError):
    """Another process held the warehouse for longer than `waited` seconds."""

    def __init__(self, path: str, waited: float):
        self.waited = waited
        super().__init__(
            path,
            f"another process holds the warehouse (waited {waited:.0f}s); "
            "try again when it has finished, or raise --wait",
        )


class NightlyBusy(WarehouseError):
    """Another nightly run holds the warehouse's nightly lock; `holder` says which run (night, pid, since)."""

    def __init__(self, path: str, holder: str, waited: float):
        self.holder = holder
        self.waited = waited
        super().__init__(
            path,
            f"another nightly run holds this warehouse ({holder}); waited {waited:.0f}s. Only one night runs "
            "at a time per warehouse: wait for it to finish (qa-audit runs), or raise --wait",
        )


class ContractMismatch(AuditError):
    """The SQL enforcement of the contract and Great Expectations counted different failures."""

    def __init__(self, path: str, expectation: str, sql_count: int, gx_count: int):
        self.path = path
        self.expectation = expectation
        self.sql_count = sql_count
        self.gx_count = gx_count
        super().__init__(
            f"{path}: contract check {expectation!r} failed {sql_count} records in SQL but "
            f"{gx_count} in Great Expectations; this is a bug, please report it"
        )
