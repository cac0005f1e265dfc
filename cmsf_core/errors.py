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
    ├── StorageFullError            the org's data storage is full: stop cleanly, free space
    ├── WaitingError                a Bulk API job is still running: the next run collects it
    └── PlatformError               a platform refused a request for a reason not above
        └── AccessError             the sync user cannot see an object or a field it reads

Platform errors are mapped to these once, in the gateways (`salesforce.py`,
`campaign_monitor.py`); nothing else in cmsf_core sees an HTTP status. Messages never
contain credentials. Every error carries an ``exit_code`` from
:class:`~cmsf_core.exit_codes.ExitCode`, the contract the CLI exits with.
"""

from __future__ import annotations

from cmsf_core.exit_codes import ExitCode

__all__ = [
    "AccessError",
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
    "StorageFullError",
    "WaitingError",
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


class AccessError(PlatformError):
    """The sync user cannot see an object (``INVALID_TYPE``) or a field (``INVALID_FIELD``).

    Attributes:
        object_name: The object named by the platform.
        field_name: The field, when a field is hidden (None for a whole object).
    """

    def __init__(
        self,
        message: str,
        *,
        object_name: str,
        field_name: str | None = None,
        platform: str | None = None,
        status: int | None = None,
        error_code: str | None = None,
    ) -> None:
        super().__init__(message, platform=platform, status=status, error_code=error_code)
        self.object_name = object_name
        self.field_name = field_name


class StorageFullError(CmsfError):
    """The org's data storage is full (``STORAGE_LIMIT_EXCEEDED``): stop cleanly, free space."""

    exit_code = ExitCode.STOPPED


class WaitingError(CmsfError):
    """Salesforce is still processing a Bulk API job; the next run collects its results.

    Attributes:
        job_id: The job's Id.
        state: Its state when the run stopped waiting (``UploadComplete``, ``InProgress``).
    """

    exit_code = ExitCode.WAITING

    def __init__(self, message: str, *, job_id: str, state: str, sobject: str = "") -> None:
        super().__init__(message, platform="salesforce", error_code=state)
        self.job_id = job_id
        self.state = state
        self.sobject = sobject
