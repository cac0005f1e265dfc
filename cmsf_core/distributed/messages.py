"""Maintenance messages of a distributed run, folded across every process.

The local runtime folds the messages of a run per job, support code and topic: the
second occurrence raises the count of the first (``Occurrences__c``) instead of storing
another ``CMSF_Maintenance_Message__c``. In a distributed run the same job's message may
be raised by several workers at once; :class:`SharedMaintenanceLog` keeps the fold in
PostgreSQL (``dist_message_folds``, one row per run, job, code and topic, locked while
its Salesforce record is created or updated), so the org ends with the same one record
per job and code, counting every process's occurrences, and the run's report lists the
same messages the local runtime's would.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from cmsf_core.messages import SEVERITIES, MaintenanceLog, Message

if TYPE_CHECKING:
    from cmsf_core.clock import Clock
    from cmsf_core.distributed.pgjournal import PgJournal
    from cmsf_core.salesforce import SalesforceGateway
    from cmsf_core.settings import Settings

__all__ = ["SharedMaintenanceLog", "run_messages"]

EVENTS = logging.getLogger("cmsf.events")
DETAILS_KEPT = 20
"""Details kept per folded message (as the local log keeps)."""


class SharedMaintenanceLog(MaintenanceLog):
    """A :class:`~cmsf_core.messages.MaintenanceLog` whose folds are shared by every process.

    Args:
        gateway: Where messages are stored and notifications sent.
        settings: For the notification email address.
        clock: Timestamps.
        run_id: The run the messages belong to.
        journal: The distributed journal holding the folds.
    """

    def __init__(
        self,
        gateway: SalesforceGateway,
        settings: Settings,
        clock: Clock,
        run_id: str,
        journal: PgJournal,
    ) -> None:
        super().__init__(gateway, settings, clock, run_id)
        self.journal = journal
        self.fold_key = journal.fold_key(run_id)

    def raise_message(
        self,
        severity: str,
        job: str,
        code: str,
        summary: str,
        detail: str = "",
        *,
        topic: str = "",
    ) -> Message:
        """Record a message, folded into the run's earlier one of the same job, code and
        topic whichever process raised that (see the module's docstring)."""
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}")
        with self.journal.message_fold(self.fold_key, job, code, topic) as fold:
            first = not fold
            details = list(fold.get("details") or [])
            if detail and len(details) < DETAILS_KEPT:
                details.append(detail)
            message = Message(
                str(fold.get("severity") or severity),
                job,
                code,
                str(fold.get("summary") or summary)[:255],
                str(fold.get("detail") or detail),
                occurrences=int(fold.get("occurrences") or 0) + 1,
                record_id=fold.get("record_id"),
                details=details,
            )
            self._save(message)
            fold.update(
                severity=message.severity,
                summary=message.summary,
                detail=message.detail,
                occurrences=message.occurrences,
                record_id=message.record_id,
                details=details,
            )
        if first:
            self._announce(message)
        key = (job, code, topic)
        mine = self._by_key.get(key)
        if mine is None:
            self._by_key[key] = message
            self.messages.append(message)
        else:
            mine.occurrences, mine.details, mine.record_id = (
                message.occurrences,
                message.details,
                message.record_id,
            )
        return message


def run_messages(journal: PgJournal, run_id: str) -> list[Message]:
    """Every message of a run's latest invocation, one per job, code and topic, in the
    order first raised."""
    return [
        Message(
            str(fold["severity"]),
            str(fold["job"]),
            str(fold["code"]),
            str(fold["summary"]),
            str(fold.get("detail") or ""),
            occurrences=int(fold["occurrences"]),
            record_id=fold.get("record_id"),
            details=list(fold.get("details") or []),
        )
        for fold in journal.message_folds(journal.fold_key(run_id))
    ]
