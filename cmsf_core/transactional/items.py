"""Smart email queue items and the process records that group bulk requests.

A send is requested by inserting a ``CMSF_Queue_Item__c`` with ``Type__c`` ``Smart
Email``, ``Record_Id__c`` (the record to send for) and ``Smart_Email_Mapping__c`` (the
mapping) -- what a Flow, Apex or :func:`request` does. Its life:

``Pending`` -> ``Sending`` (marked with ``Send_Started__c`` just before the send is made)
-> ``Done`` (``Message_Id__c`` set) or ``Failed`` (``Error__c`` says why). A send that met
a rate limit or an outage goes back to ``Pending`` with ``Next_Attempt__c``; an item is
tried at most ``smart_email_attempts`` times. An item found ``Sending`` by a later pass
(the runner died, or the answer was lost) is settled against Campaign Monitor's message
log once ``Next_Attempt__c`` has come, never simply sent again.

Bulk requests -- several items of one mapping requested together by one user (a Flow
over a data load inserts them in one transaction, so they share ``CreatedDate``) -- are
grouped under a ``CMSF_Process__c`` record (the product's hidden process record:
requester, mapping, how many were sent and failed, ``Done`` when none is left to send).
``cmsf delete-process`` removes finished ones.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cmsf_core.clock import parse_instant
from cmsf_core.errors import PlatformError
from cmsf_core.matching import soql_quote
from cmsf_core.push.capture import soql_instant
from cmsf_core.push.queue import QUEUE_ITEM

if TYPE_CHECKING:
    from cmsf_core.salesforce import BatchQuery, SalesforceGateway

__all__ = [
    "OPEN",
    "PROCESS",
    "SMART_EMAIL",
    "SendItem",
    "attach_rest",
    "bulk_groups",
    "create_processes",
    "delete_processes",
    "due_items",
    "hold_back_tail",
    "items_by_id",
    "key_of",
    "pending_sends",
    "process_key",
    "process_query",
    "read_processes",
    "recount_open_processes",
    "refresh_processes",
]

SMART_EMAIL = "Smart Email"
PROCESS = "CMSF_Process__c"
ITEM_FIELDS = (
    "Id, Record_Id__c, Smart_Email_Mapping__c, Process__c, Status__c, Attempts__c, "
    "Send_Started__c, Test__c, Message_Id__c, CreatedById, CreatedDate"
)
OPEN = ("Pending", "Sending")
IN_CHUNK = 200


@dataclass(frozen=True)
class SendItem:
    """A smart email queue item.

    Attributes:
        id: Its Salesforce Id.
        record_id: The record to send for (as given; may be malformed).
        mapping_id: The mapping (empty when none is given).
        process_id: The process record it belongs to, if any.
        status: ``Pending``, ``Sending``, ``Done`` or ``Failed``.
        attempts: Sends tried so far.
        send_started: When it was last marked ``Sending``.
        test: A Run Test send (reported, never recorded as a Task).
        message_id: Campaign Monitor's MessageID once sent.
        created_by: Who requested it.
        created: When it was requested (Salesforce's text).
    """

    id: str
    record_id: str
    mapping_id: str
    process_id: str | None
    status: str
    attempts: int
    send_started: datetime | None
    test: bool
    message_id: str | None
    created_by: str
    created: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SendItem:
        """An item from its row (see ``ITEM_FIELDS``)."""
        started = row.get("Send_Started__c")
        return cls(
            id=str(row["Id"]),
            record_id=str(row.get("Record_Id__c") or "").strip(),
            mapping_id=str(row.get("Smart_Email_Mapping__c") or ""),
            process_id=row.get("Process__c") or None,
            status=str(row.get("Status__c") or "Pending"),
            attempts=int(row.get("Attempts__c") or 0),
            send_started=parse_instant(_iso(str(started))) if started else None,
            test=bool(row.get("Test__c")),
            message_id=row.get("Message_Id__c") or None,
            created_by=str(row.get("CreatedById") or ""),
            created=str(row.get("CreatedDate") or ""),
        )


def _iso(value: str) -> str:
    if len(value) > 5 and value[-5] in "+-" and value[-3] != ":":
        return value[:-2] + ":" + value[-2:]
    return value


def due_items(gateway: SalesforceGateway, now: datetime, limit: int) -> list[SendItem]:
    """Items to work on now, oldest first: pending ones, and sending ones to settle.

    Items whose ``Next_Attempt__c`` is still ahead (deferred, or marked ``Sending`` too
    recently to be looked up) wait.
    """
    soql = (
        f"SELECT {ITEM_FIELDS} FROM {QUEUE_ITEM} WHERE Type__c = '{SMART_EMAIL}' "
        f"AND Status__c IN ('Pending', 'Sending') AND (Next_Attempt__c = null "
        f"OR Next_Attempt__c <= {soql_instant(now)}) ORDER BY CreatedDate, Id LIMIT {int(limit)}"
    )
    return [SendItem.from_row(row) for row in gateway.query(soql)]


def items_by_id(gateway: SalesforceGateway, ids: Sequence[str]) -> list[SendItem]:
    """The smart email items with these Ids (others are left out), in the order given."""
    found: dict[str, SendItem] = {}
    for start in range(0, len(ids), IN_CHUNK):
        listed = ",".join(soql_quote(i) for i in ids[start : start + IN_CHUNK])
        for row in gateway.query(
            f"SELECT {ITEM_FIELDS} FROM {QUEUE_ITEM} WHERE Id IN ({listed}) "
            f"AND Type__c = '{SMART_EMAIL}'"
        ):
            found[str(row["Id"])] = SendItem.from_row(row)
    return [found[i] for i in ids if i in found]


def pending_sends(gateway: SalesforceGateway) -> int:
    """Smart email items still to send (pending or being sent)."""
    return gateway.count(
        f"SELECT COUNT() FROM {QUEUE_ITEM} WHERE Type__c = '{SMART_EMAIL}' "
        "AND Status__c IN ('Pending', 'Sending')"
    )


def process_key(mapping_id: str, user_id: str, created: str) -> str:
    """The key of the process grouping one user's bulk request of one mapping."""
    return f"{mapping_id[:15]}:{user_id[:15]}:{created}"[:255]


def key_of(item: SendItem) -> str | None:
    """The process key of an item that may belong to a bulk request (None: it cannot)."""
    if item.process_id is not None or item.test or not item.mapping_id or not item.created_by:
        return None
    return process_key(item.mapping_id, item.created_by, item.created)


def hold_back_tail(items: list[SendItem]) -> list[SendItem]:
    """A full batch without the request its last item belongs to (it leads the next batch).

    So a bulk request cut by the batch boundary is grouped whole. A request larger than
    the batch keeps the whole batch (its later items find the process by its key).
    """
    key = key_of(items[-1]) if items else None
    if key is None:
        return items
    kept = [item for item in items if key_of(item) != key]
    return kept or items


def process_query(keys: Iterable[str]) -> tuple[str, bool]:
    """The query finding existing processes by key (answer with :func:`read_processes`)."""
    listed = ",".join(soql_quote(k) for k in sorted(set(keys)))
    return (f"SELECT Id, Key__c FROM {PROCESS} WHERE Key__c IN ({listed})", False)


def read_processes(result: BatchQuery) -> dict[str, str]:
    """Process Id by key from the answer to :func:`process_query`."""
    return {str(row["Key__c"]): str(row["Id"]) for row in result.records()}


def bulk_groups(
    items: Iterable[SendItem], existing: Mapping[str, str]
) -> tuple[dict[str, list[SendItem]], dict[str, str]]:
    """Items without a process that were requested together (same mapping, user and time).

    Args:
        items: The batch's items.
        existing: Process Ids by key already in the org (a request begun in an earlier batch).

    Returns:
        Process key -> its items, for new groups of two or more; and the process Id of
        each item whose request already has one.
    """
    groups: dict[str, list[SendItem]] = defaultdict(list)
    for item in items:
        key = key_of(item)
        if key is not None:
            groups[key].append(item)
    joined = {
        item.id: existing[key] for key, group in groups.items() if key in existing for item in group
    }
    return {k: g for k, g in groups.items() if len(g) > 1 and k not in existing}, joined


def create_processes(
    gateway: SalesforceGateway, groups: dict[str, list[SendItem]]
) -> dict[str, str]:
    """Upsert one process record per group; return the process Id of each item.

    Upserting on the key makes a repeat after a crash find the same record.
    """
    if not groups:
        return {}
    records = [
        {
            "Key__c": key,
            "Smart_Email_Mapping__c": items[0].mapping_id,
            "Requested_By__c": items[0].created_by,
            "Status__c": "Processing",
        }
        for key, items in groups.items()
    ]
    result = gateway.upsert(PROCESS, "Key__c", records)
    out: dict[str, str] = {}
    for items, process_id in zip(groups.values(), result.ids, strict=True):
        if process_id:
            out.update({item.id: process_id for item in items})
    return out


def attach_rest(
    gateway: SalesforceGateway, item: SendItem, process_id: str, batch: Iterable[str]
) -> int:
    """Give the rest of a bulk request larger than a batch its process now.

    The items saved with ``item`` (same mapping, user and second) that are not in this
    batch get ``Process__c``, so the process counts the whole request from the start.

    Returns:
        How many items were attached.
    """
    start = parse_instant(_iso(item.created)).replace(microsecond=0)
    seen = set(batch)
    rows = [
        str(row["Id"])
        for row in gateway.query(
            f"SELECT Id FROM {QUEUE_ITEM} WHERE Type__c = '{SMART_EMAIL}' AND Process__c = null "
            f"AND Smart_Email_Mapping__c = {soql_quote(item.mapping_id)} "
            f"AND CreatedById = {soql_quote(item.created_by)} "
            f"AND CreatedDate >= {soql_instant(start)} "
            f"AND CreatedDate < {soql_instant(start + timedelta(seconds=1))}"
        )
        if str(row["Id"]) not in seen
    ]
    for begin in range(0, len(rows), IN_CHUNK):
        gateway.update(
            QUEUE_ITEM,
            [{"Id": i, "Process__c": process_id} for i in rows[begin : begin + IN_CHUNK]],
        )
    return len(rows)


def refresh_processes(
    gateway: SalesforceGateway, process_ids: Iterable[str], now: datetime
) -> list[str]:
    """Recount the items of processes; mark those with nothing left to send ``Done``.

    Counting from the items (one aggregate query) makes the counters right however often
    a batch is repeated.

    Returns:
        The processes that are done.
    """
    ids = sorted({p for p in process_ids if p})
    if not ids:
        return []
    counts: dict[str, Counter[str]] = {p: Counter() for p in ids}
    for start in range(0, len(ids), IN_CHUNK):
        listed = ",".join(soql_quote(i) for i in ids[start : start + IN_CHUNK])
        for row in gateway.query(
            f"SELECT Process__c, Status__c, COUNT(Id) n FROM {QUEUE_ITEM} "
            f"WHERE Process__c IN ({listed}) GROUP BY Process__c, Status__c"
        ):
            counts.setdefault(str(row["Process__c"]), Counter())[str(row.get("Status__c"))] += int(
                row.get("n") or 0
            )
    updates, done = [], []
    for process_id, by_status in counts.items():
        open_ = sum(by_status[s] for s in OPEN)
        finished = open_ == 0
        updates.append(
            {
                "Id": process_id,
                "Total__c": sum(by_status.values()),
                "Sent__c": by_status["Done"],
                "Failed__c": by_status["Failed"],
                "Status__c": "Done" if finished else "Processing",
                "Finished_At__c": now.isoformat() if finished else None,
            }
        )
        if finished:
            done.append(process_id)
    for start in range(0, len(updates), IN_CHUNK):
        gateway.update(PROCESS, updates[start : start + IN_CHUNK])
    return done


def recount_open_processes(gateway: SalesforceGateway, now: datetime, limit: int = 2000) -> int:
    """Recount processes not yet ``Done`` (a pass that died before its recount left them).

    Returns:
        How many are done now.
    """
    rows = gateway.query(
        f"SELECT Id FROM {PROCESS} WHERE Status__c != 'Done' ORDER BY Id LIMIT {int(limit)}"
    )
    return len(refresh_processes(gateway, [str(r["Id"]) for r in rows], now))


def delete_processes(gateway: SalesforceGateway, count: int) -> int:
    """``deleteProcess``: delete up to ``count`` finished process records, oldest first.

    Their queue items stay (the queue clean-up removes them with age); their
    ``Process__c`` is cleared by the lookup's ``SetNull``.

    Returns:
        How many were deleted.

    Raises:
        PlatformError: If Salesforce refused every deletion.
    """
    rows = list(
        gateway.query(
            f"SELECT Id FROM {PROCESS} WHERE Status__c = 'Done' "
            f"ORDER BY Finished_At__c, Id LIMIT {int(count)}"
        )
    )
    deleted = 0
    for start in range(0, len(rows), IN_CHUNK):
        chunk = [str(r["Id"]) for r in rows[start : start + IN_CHUNK]]
        result = gateway.delete(chunk, sobject=PROCESS)
        deleted += result.succeeded
        if result.failures and not result.succeeded:
            failure = result.failures[0]
            raise PlatformError(
                f"Salesforce refused to delete process records: {failure.code} {failure.message}",
                platform="salesforce",
                error_code=failure.code,
            )
    return deleted
