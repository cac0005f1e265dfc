"""Per-transaction Apex governor limits, enforced on triggers (scenario automation).

While triggers run, everything they do through the org counts against the limits of
the Apex transaction they run in: SOQL queries (100 sync / 200 async), rows those
queries return (50,000), DML statements (150), DML rows (10,000), queueable jobs
enqueued (50 sync, 1 async), CPU time (10,000 ms sync / 60,000 ms async) and heap
(6 MB sync / 12 MB async). CPU and heap are what trigger code declares it uses (a cost
per record given when the trigger is added, or ``ctx.use_cpu``/``ctx.use_heap`` from
its body): Python's own time and memory say nothing about Apex, and a wall-clock
measure would make scenarios depend on the machine.

A Bulk API transaction (each chunk of 200 records of a Bulk API batch is one) gets
the higher of the two sets (:data:`BULK_LIMITS`: 200 queries, 50 queueables, 60 s of
CPU, 12 MB of heap), as the Bulk API limits page says.

Going over raises :class:`LimitException`, which, as on the platform, cannot be
caught: the trigger's records fail with ``CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY``
"<Trigger>: execution of AfterInsert caused by: System.LimitException: Too many SOQL
queries: 101" even if the trigger swallowed the exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sf_sim.exceptions import SfSimError

__all__ = [
    "ASYNC_LIMITS",
    "BULK_LIMITS",
    "SYNC_LIMITS",
    "ApexTransaction",
    "LimitException",
    "apex_exception_name",
]

SYNC_LIMITS = {
    "soql": 100,
    "soql_rows": 50_000,
    "dml": 150,
    "dml_rows": 10_000,
    "queueable": 50,
    "cpu_ms": 10_000,
    "heap": 6 * 1024 * 1024,
}
"""Limits of a synchronous transaction (API calls, triggers they fire, scheduled Apex)."""
ASYNC_LIMITS = {
    "soql": 200,
    "soql_rows": 50_000,
    "dml": 150,
    "dml_rows": 10_000,
    "queueable": 1,
    "cpu_ms": 60_000,
    "heap": 12 * 1024 * 1024,
}
"""Limits of an asynchronous transaction (batch, queueable, future)."""
BULK_LIMITS = {name: max(SYNC_LIMITS[name], ASYNC_LIMITS[name]) for name in SYNC_LIMITS}
"""Limits of a Bulk API transaction: the higher of the synchronous and asynchronous ones."""

_MESSAGES = {
    "soql": "Too many SOQL queries: {n}",
    "soql_rows": "Too many query rows: {n}",
    "dml": "Too many DML statements: {n}",
    "dml_rows": "Too many DML rows: {n}",
    "queueable": "Too many queueable jobs added to the queue: {n}",
    "cpu_ms": "Apex CPU time limit exceeded",
    "heap": "Apex heap size too large: {n}",
}


class LimitException(SfSimError):
    """``System.LimitException``: a governor limit was passed (uncatchable in Apex)."""

    apex_name = "System.LimitException"


def apex_exception_name(exc: BaseException) -> str:
    """How Apex names an exception in an error message (``System.LimitException``)."""
    return str(getattr(exc, "apex_name", type(exc).__name__))


@dataclass
class ApexTransaction:
    """Counters of one Apex transaction.

    Attributes:
        limits: The limits in force (:data:`SYNC_LIMITS`, :data:`ASYNC_LIMITS` or
            :data:`BULK_LIMITS`).
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
