"""The org's own Apex in the way of the sync's writes: what broke, and what the admin can do.

Every write the sync makes fires the org's triggers on that object, in the transaction of
the API call (a collections call, or a chunk of 200 records of a Bulk API batch). A
customer's trigger that starts async work per record, queries per record or holds a lot
of memory breaks a per-transaction governor limit there, and Salesforce refuses every
record of that transaction with ``CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY`` "<Trigger>:
execution of AfterInsert caused by: System.LimitException: Too many queueable jobs added
to the queue: 51". A trigger that starts a batch job when the org's flex queue already
holds 100 is refused with ``System.AsyncException``.

:func:`diagnose` reads such a refusal; :func:`advice` words what the product's FAQ says to
do about it (guard the trigger with ``System.isFuture()``/``System.isBatch()`` or
``Limits``, fewer records per transaction through the internal governor limits, the flex
queue page), with numbers for this sync: the limit that applies to an API transaction and
how many records a call it would take to stay under it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["API_LIMITS", "ApexTrouble", "advice", "diagnose", "splittable"]

API_LIMITS: dict[str, int] = {"queueable": 50, "soql": 100, "dml": 150, "dml_rows": 10_000}
"""Per-transaction limits of an API call (synchronous; a Bulk API chunk's are not lower)."""

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("queueable", re.compile(r"Too many queueable jobs added to the queue: (\d+)")),
    ("soql", re.compile(r"Too many SOQL queries: (\d+)")),
    ("soql_rows", re.compile(r"Too many query rows: (\d+)")),
    ("dml", re.compile(r"Too many DML statements: (\d+)")),
    ("dml_rows", re.compile(r"Too many DML rows: (\d+)")),
    ("cpu", re.compile(r"Apex CPU time limit exceeded()")),
    ("heap", re.compile(r"Apex heap size too large: (\d+)")),
    ("flex_queue", re.compile(r"exceeded the limit of (\d+) jobs in the flex queue")),
)
_TRIGGER = re.compile(r"^\s*([\w.]+): execution of (\w+) caused by: ")
_GROWS_WITH_RECORDS = frozenset(
    {"queueable", "soql", "soql_rows", "dml", "dml_rows", "cpu", "heap"}
)


@dataclass(frozen=True)
class ApexTrouble:
    """A write refused because the org's Apex broke a platform limit.

    Attributes:
        kind: ``queueable``, ``soql``, ``soql_rows``, ``dml``, ``dml_rows``, ``cpu``,
            ``heap`` or ``flex_queue``.
        trigger: The trigger's name as the platform gives it (may be empty).
        cause: The platform's own words ("Too many queueable jobs added to the queue: 51").
        count: The number in them (51), when there is one.
    """

    kind: str
    trigger: str
    cause: str
    count: int | None

    @property
    def code(self) -> str:
        """The support code of the maintenance message."""
        return "CMSF-APEX-QUEUE" if self.kind == "flex_queue" else "CMSF-APEX-LIMIT"


def diagnose(message: str) -> ApexTrouble | None:
    """The Apex limit behind a refusal message, or None if it is another kind of error."""
    if "System.LimitException" not in message and "System.AsyncException" not in message:
        return None
    for kind, pattern in _PATTERNS:
        found = pattern.search(message)
        if found is None:
            continue
        trigger = _TRIGGER.match(message)
        start = found.start()
        sentence = message[start:].split(". ")[0].rstrip(".")
        if kind == "flex_queue":
            sentence = "You've " + sentence if not sentence.startswith("You") else sentence
        return ApexTrouble(
            kind=kind,
            trigger=trigger.group(1) if trigger else "",
            cause=sentence,
            count=int(found.group(1)) if found.group(1) else None,
        )
    return None


def splittable(trouble: ApexTrouble | None) -> bool:
    """Whether fewer records per call can avoid it (a full flex queue is not such a case)."""
    return trouble is not None and trouble.kind in _GROWS_WITH_RECORDS


def records_per_call(trouble: ApexTrouble, per_call: int) -> int | None:
    """How many records a call would likely stay under the limit.

    The platform stops a transaction at the first job or query past the limit, so its
    count (51) says where it stopped, not how many the trigger wanted. A call bigger than
    the limit most likely met a trigger doing one per record: the limit itself (50
    queueables, 100 queries) is the answer. A call that failed with fewer records than
    the limit, or on CPU time or heap, needs at least half as many.
    """
    if per_call <= 1:
        return None
    limit = API_LIMITS.get(trouble.kind)
    if limit is not None and per_call > limit:
        return limit
    return per_call // 2


def advice(trouble: ApexTrouble, *, sobject: str, limit_name: str, per_call: int) -> str:
    """What to do, for the message's detail (the FAQ's remedies with this sync's numbers)."""
    who = f"The trigger {trouble.trigger}" if trouble.trigger else "A trigger"
    if trouble.kind == "flex_queue":
        return (
            f"{who} on {sobject} starts a batch job (Database.executeBatch) each time the sync "
            "writes, and the org's Apex flex queue already holds 100 jobs waiting behind five "
            "running ones, so Salesforce refuses the write. Open Setup > Apex Flex Queue and "
            "Setup > Apex Jobs: abort or let finish the jobs that are piling up (jobs Holding "
            "for days need Salesforce Support, with their job Ids), and change the trigger so it "
            "starts one job for many records, or none from an integration user. The refused "
            "records are retried on every run until they are written."
        )
    size = records_per_call(trouble, per_call)
    fewer = (
        f"lower the '{limit_name}' governor limit to {size} or fewer records a call "
        f"(now {per_call} a call)"
        if size is not None
        else f"lower the '{limit_name}' governor limit (now {per_call} records a call)"
    )
    guard = (
        "guard it so it does not enqueue from integration writes or from async code "
        "(if(!System.isFuture() && !System.isBatch()), or check Limits.getQueueableJobs() "
        "against Limits.getLimitQueueableJobs()) and enqueue one job for all records"
        if trouble.kind == "queueable"
        else "make it work in bulk (one query or DML for all records, less held in memory)"
    )
    return (
        f"{who} on {sobject} runs in the transaction of the sync's write and broke a "
        f"per-transaction Apex limit ({trouble.cause}), so Salesforce refused every record of "
        f"that call. Review the custom code, flows and processes that run when the sync "
        f"writes {sobject}: {guard}. Until then, {fewer}, or let the engine retry such calls "
        "in smaller ones ('limit_split_floor'). The refused records are retried on every run "
        "until they are written."
    )
