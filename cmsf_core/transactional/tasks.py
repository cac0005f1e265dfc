"""Tasks recording smart emails sent from Salesforce (one per message, never two).

A mapping with ``Create_Task__c`` gets a Task on the record for each send: subject
"Email: <smart email>", type Email, status ``In Progress``, ``CMSF_Message_Id__c`` and
``CMSF_Message_Status__c`` ``Received``; ``WhoId`` for Contacts and Leads, ``WhatId``
otherwise. The ``smart_email_tasks`` job later stores the text actually sent and
completes it. A Task already carrying the MessageID (a pass that died after writing it)
is not made again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cmsf_core.matching import soql_quote
from cmsf_core.push.queue import to18

if TYPE_CHECKING:
    from cmsf_core.clock import Clock
    from cmsf_core.jobs.context import RunStats
    from cmsf_core.messages import MaintenanceLog
    from cmsf_core.salesforce import SalesforceGateway
    from cmsf_core.transactional.items import SendItem
    from cmsf_core.transactional.mappings import SmartEmailMapping

__all__ = ["TASK_STATUS", "record_tasks"]

TASK_STATUS = "In Progress"
"""Status of a new Task; ``smart_email_tasks`` completes it once the message is delivered."""
IN_CHUNK = 200


def record_tasks(
    sf: SalesforceGateway,
    clock: Clock,
    stats: RunStats,
    log: MaintenanceLog,
    job: str,
    sends: Sequence[tuple[SendItem, SmartEmailMapping, str]],
) -> dict[str, str]:
    """Make the Tasks of these sends (item, mapping, MessageID) that do not exist yet.

    Returns:
        The Task of each item that has one now, by item Id (refusals are a
        ``CMSF-TX-TASK`` message: the emails went all the same).
    """
    found: dict[str, str] = {}
    if not sends:
        return found
    existing: dict[str, str] = {}
    ids = sorted({message_id for _, _, message_id in sends})
    for start in range(0, len(ids), IN_CHUNK):
        listed = ",".join(soql_quote(i) for i in ids[start : start + IN_CHUNK])
        for row in sf.query(
            f"SELECT Id, CMSF_Message_Id__c FROM Task WHERE CMSF_Message_Id__c IN ({listed})"
        ):
            existing[str(row["CMSF_Message_Id__c"])] = str(row["Id"])
    records, owners = [], []
    today = clock.now().date().isoformat()
    for item, mapping, message_id in sends:
        if message_id in existing:
            found[item.id] = existing[message_id]
            continue
        link = "WhoId" if mapping.root_object in ("Contact", "Lead") else "WhatId"
        records.append({
            "Subject": f"Email: {mapping.smart_email_name or mapping.name}"[:255],
            "Status": TASK_STATUS, "TaskSubtype": "Email", "ActivityDate": today,
            "CMSF_Message_Id__c": message_id, "CMSF_Message_Status__c": "Received",
            "Description": f"Smart email '{mapping.smart_email_name}' sent by mapping '{mapping.name}'.",
            link: to18(item.record_id),
        })  # fmt: skip
        owners.append(item.id)
    refused = []
    for start in range(0, len(records), IN_CHUNK):
        result = sf.create("Task", records[start : start + IN_CHUNK])
        stats.wrote("Task", result.ids)
        for offset, task_id in enumerate(result.ids):
            if task_id:
                found[owners[start + offset]] = task_id
        refused += [f"- {owners[start + f.index]}: {f.code} {f.message}" for f in result.failures]
    if refused:
        log.raise_message(
            "Warning", job, "CMSF-TX-TASK",
            f"Salesforce refused the Task of {len(refused)} smart email send(s)",
            "The emails were sent (their queue items are Done with the MessageID); only the "
            "Tasks recording them are missing:\n" + "\n".join(refused[:20]),
        )  # fmt: skip
    return found
