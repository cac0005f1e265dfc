"""Errors of the sync engine, grouped by what the caller does next.

Tree::

    CmsfError                       root of every cmsf_core error
    ├── RetriableError              transient: retry with back-off (429, 5xx, timeouts, row locks)
    │   └── RateLimitedError        the platform asked us to slow down (429 / rate headers)
    ├── SkippableRecordError        this record cannot be synced; record the failure, continue
    ├── ConfigError                 settings or local configuration are wrong; a person must fix
    │   └── SafetyError             refusing to write (sandbox to a non-test account, ...)
    ├── FatalError                  the run cannot go on (auth refused, schema missing)
    │   ├── AuthenticationError     credentials refused by a platform
    │   └── NotFoundError           an object the job needs does not exist on the platform
    ├── BudgetExhaustedError        the API budget is spent: stop cleanly, resume next run
    └── PlatformError               a platform refused a request for a reason not above

Platform errors are mapped to these once, in the gateways (`salesforce.py`,
`campaign_monitor.py`); nothing else in cmsf_core sees an HTTP status. Messages never
contain credentials. Every error carries an ``exit_code`` from
:class:`~cmsf_core.exit_codes.ExitCode`, the contract the CLI exits with.
"""

from __future__ import annotations

from cmsf_core.exit_codes import ExitCode

__all__ = [
    "AuthenticationError",
    "BudgetExhaustedError",
    "CmsfError",
    "ConfigError",
    "FatalError",
    "NotFoundError",
    "PlatformError",
    "RateLimitedError",
    "RetriableError",
    "SafetyError",
    "SkippableRecordError",
]


class CmsfError(Exception):
    """Root of every cmsf_core error."""

    exit_code: int = ExitCode.FAILED

    def __init__(
        self,
        message: str,
        *,
        platform: str | None = None,
        status: int | None = None,
        error_code: str | None = None,
        record_id: str | None = None,
        support_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.platform = platform
        self.status = status
        self.error_code = error_code
        self.record_id = record_id
        self.support_code = support_code

    def __str__(self) -> str:
        parts = [self.message]
        if self.error_code is not None and self.error_code not in self.message:
            parts.append(f"[{self.error_code}]")
        return " ".join(parts)


class RetriableError(CmsfError):
    """Transient failure: retry with back-off (429, 5xx, timeouts, UNABLE_TO_LOCK_ROW)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        platform: str | None = None,
        status: int | None = None,
        error_code: str | None = None,
        record_id: str | None = None,
    ) -> None:
        super().__init__(
            message,
            platform=platform,
            status=status,
            error_code=error_code,
            record_id=record_id,
        )
        self.retry_after = retry_after


class RateLimitedError(RetriableError):
    """The platform rate-limited us; ``retry_after`` says when to try again, if known."""

    exit_code = ExitCode.STOPPED


class SkippableRecordError(CmsfError):
    """This record cannot be synced; record the failure and continue."""


class ConfigError(CmsfError):
    """Settings or local configuration are wrong; a person has to fix them."""

    exit_code = ExitCode.USAGE


class SafetyError(ConfigError):
    """A write was refused to protect real data (e.g. a sandbox syncing to a live account)."""

    exit_code = ExitCode.STOPPED


class FatalError(CmsfError):
    """The run cannot continue (credentials refused, required schema missing)."""


class AuthenticationError(FatalError):
    """A platform refused the credentials."""


class NotFoundError(FatalError):
    """Something the job needs does not exist on the platform (list, client, object)."""


class BudgetExhaustedError(CmsfError):
    """The API budget for this run or for the org is spent: stop cleanly and resume later."""

    exit_code = ExitCode.STOPPED


class PlatformError(CmsfError):
    """A platform refused a request for a reason none of the other classes describes."""
