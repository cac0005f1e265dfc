"""Per-transaction Apex governor limits, enforced on triggers (scenario automation).

While triggers run, everything they do through the org counts against the limits of
the Apex transaction they run in: SOQL queries (100 sync / 200 async), rows those
queries return (50,000), DML statements (150), DML rows (10,000) and queueable jobs
enqueued (50 sync, 1 async). Going over raises
:class:`LimitException`, which, as on the platform, cannot be caught: the trigger's
records fail with ``CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY`` "<Trigger>: execution of
AfterInsert caused by: System.LimitException: Too many SOQL queries: 101" even if the
trigger swallowed the exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sf_sim.exceptions import SfSimError

__all__ = ["ASYNC_LIMITS", "SYNC_LIMITS", "ApexTransaction", "LimitException"]

SYNC_LIMITS = {"soql": 100, "soql_rows": 50_000, "dml": 150, "dml_rows": 10_000, "queueable": 50}
"""Limits of a synchronous transaction (API calls, triggers they fire, scheduled Apex)."""
ASYNC_LIMITS = {"soql": 200, "soql_rows": 50_000, "dml": 150, "dml_rows": 10_000, "queueable": 1}
"""Limits of an asynchronous transaction (batch, queueable, future)."""

_MESSAGES = {
    "soql": "Too many SOQL queries: {n}",
    "soql_rows": "Too many query rows: {n}",
    "dml": "Too many DML statements: {n}",
    "dml_rows": "Too many DML rows: {n}",
    "queueable": "Too many queueable jobs added to the queue: {n}",
}


class LimitException(SfSimError):
    """``System.LimitException``: a governor limit was passed (uncatchable in Apex)."""


@dataclass
class ApexTransaction:
    """Counters of one Apex transaction.

    Attributes:
        limits: The limits in force (:data:`SYNC_LIMITS` or :data:`ASYNC_LIMITS`).
        used: What the transaction has used so far, by limit name.
        exceeded: The first limit message passed, once one is.
    """

    limits: dict[str, int] = field(default_factory=lambda: dict(SYNC_LIMITS))
    used: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SYNC_LIMITS, 0))
    exceeded: str | None = None

    def count(self, name: str, amount: int = 1) -> None:
        """Add to a counter; raise :class:`LimitException` past its limit.

        Raises:
            LimitException: With the platform's message ("Too many SOQL queries: 101").
        """
        self.used[name] = self.used.get(name, 0) + amount
        if self.used[name] > self.limits[name]:
            message = _MESSAGES[name].format(n=self.used[name])
            self.exceeded = self.exceeded or message
            raise LimitException(message)
