"""Queue items (``CMSF_Queue_Item__c``) of record changes: written, read, finished, counted.

The change capture writes one ``Record Change`` item per changed Contact or Lead (as the
product's triggers do); an org's own Flow or Apex may insert items too (``Type__c`` =
``Record Change``, ``Record_Id__c`` = the record; nothing else is needed). Items are
upserted on ``Key__c`` (the record and the run that saw it), so a capture repeated after a
crash writes each item once. The push job reads ``Pending`` items oldest first, in
batches, and marks them ``Done`` or ``Failed`` (with the reason in ``Error__c``); the
queue clean-up job removes finished items older than ``queue_retention_days``.

``Payload__c`` is JSON: ``{"object": "Contact", "changed": [fields], "previous_email":
<token>}``; the token (of the address Campaign Monitor knew, under the connection key)
lets the push find the subscriber to rename without keeping an address anywhere else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cmsf_core.jobs.context import JobContext
    from cmsf_core.salesforce import SalesforceGateway

__all__ = [
    "QUEUE_ITEM",
    "RECORD_CHANGE",
    "QueueItem",
    "QueueView",
    "enqueue",
    "finish_items",
    "pending_items",
    "queue_view",
    "to18",
]

QUEUE_ITEM = "CMSF_Queue_Item__c"
RECORD_CHANGE = "Record Change"
ERROR_LIMIT = 255


@dataclass(frozen=True)
class QueueItem:
    """A pending record-change item.

    Attributes:
        id: Its Salesforce Id.
        record_id: The Contact or Lead (18 characters) it is about.
        payload: Its decoded payload (empty when absent or not JSON).
    """

    id: str
    record_id: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class QueueView:
    """The queue as ``cmsf status`` shows it: pending record changes and the oldest one's
    age, and smart email sends still to go (pending or in doubt)."""

    pending: int
    oldest: str | None
    sends: int = 0


_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def to18(record_id: str) -> str:
    """The 18-character form of a Salesforce Id (15-character Ids get their checksum)."""
    if len(record_id) != 15:
        return record_id
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, c in enumerate(record_id[start : start + 5]) if "A" <= c <= "Z")
        suffix += _CHECKSUM[bits]
    return record_id + suffix


def enqueue(ctx: JobContext, job: str, items: Sequence[Mapping[str, Any]]) -> set[str]:
    """Upsert record-change items ``{key, record_id, payload}``.

    Returns:
        Record Ids whose item Salesforce refused (reported in a maintenance message).
    """
    records = [
        {
            "Key__c": item["key"],
            "Type__c": RECORD_CHANGE,
            "Status__c": "Pending",
            "Record_Id__c": item["record_id"],
            "Payload__c": json.dumps(item["payload"], sort_keys=True),
        }
        for item in items
    ]
    from cmsf_core.jobs.writer import report_failures  # the jobs package imports this module

    refused: set[str] = set()
    size = ctx.batch_size(job)
    for start in range(0, len(records), size):
        chunk = records[start : start + size]
        result = ctx.sf.upsert(QUEUE_ITEM, "Key__c", chunk)
        ctx.stats.wrote(QUEUE_ITEM, result.ids)
        if result.failures:
            refused |= {str(chunk[f.index]["Record_Id__c"]) for f in result.failures}
            ctx.stats.failed[QUEUE_ITEM] += len(result.failures)
            report_failures(ctx, job, QUEUE_ITEM, result.failures)
    return refused


def pending_items(ctx: JobContext, limit: int) -> list[QueueItem]:
    """The oldest pending record-change items (at most ``limit``; Id order breaks ties)."""
    soql = (
        f"SELECT Id, Record_Id__c, Payload__c FROM {QUEUE_ITEM} WHERE Status__c = 'Pending' "
        f"AND Type__c = '{RECORD_CHANGE}' ORDER BY CreatedDate, Id LIMIT {int(limit)}"
    )
    out = []
    for row in ctx.sf.query(soql):
        try:
            payload = json.loads(row.get("Payload__c") or "{}")
        except json.JSONDecodeError:
            payload = {}
        out.append(
            QueueItem(
                id=str(row["Id"]),
                record_id=str(row.get("Record_Id__c") or "").strip(),
                payload=payload if isinstance(payload, dict) else {},
            )
        )
    return out


def finish_items(ctx: JobContext, job: str, done: Iterable[str], failed: Mapping[str, str]) -> None:
    """Mark items ``Done``, or ``Failed`` with their reason (cut to the field's 255 characters)."""
    updates: list[dict[str, Any]] = [
        {"Id": item_id, "Status__c": "Done", "Error__c": None}
        for item_id in done
        if item_id not in failed
    ]
    updates += [
        {"Id": item_id, "Status__c": "Failed", "Error__c": reason[:ERROR_LIMIT]}
        for item_id, reason in failed.items()
    ]
    from cmsf_core.jobs.writer import report_failures  # the jobs package imports this module

    size = ctx.batch_size(job)
    for start in range(0, len(updates), size):
        result = ctx.sf.update(QUEUE_ITEM, updates[start : start + size])
        ctx.stats.wrote(QUEUE_ITEM, result.ids)
        refused = [f for f in result.failures if f.code not in {"ENTITY_IS_DELETED", "NOT_FOUND"}]
        if refused:
            ctx.stats.failed[QUEUE_ITEM] += len(refused)
            report_failures(ctx, job, QUEUE_ITEM, refused)


def queue_view(gateway: SalesforceGateway) -> QueueView:
    """Pending record changes, when the oldest was created, and smart email sends to go
    (one API call)."""
    results = gateway.query_batch(
        [
            (
                f"SELECT COUNT() FROM {QUEUE_ITEM} WHERE Status__c = 'Pending' "
                f"AND Type__c = '{RECORD_CHANGE}'",
                False,
            ),
            (
                f"SELECT CreatedDate FROM {QUEUE_ITEM} WHERE Status__c = 'Pending' "
                f"AND Type__c = '{RECORD_CHANGE}' ORDER BY CreatedDate, Id LIMIT 1",
                False,
            ),
            (
                f"SELECT COUNT() FROM {QUEUE_ITEM} WHERE Type__c = 'Smart Email' "
                "AND Status__c IN ('Pending', 'Sending')",
                False,
            ),
        ]
    )
    oldest = next(results[1].records(), None)
    return QueueView(
        pending=results[0].total,
        oldest=oldest.get("CreatedDate") if oldest else None,
        sends=results[2].total,
    )
