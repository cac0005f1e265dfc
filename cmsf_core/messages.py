"""Maintenance messages: problems and notices raised by jobs, stored in the org.

Each message is a ``CMSF_Maintenance_Message__c`` record (severity, job, support code,
summary, detail, time). Within one run, repeats of the same job and code (and topic, for
codes that speak of one thing each, such as a scanned domain) are folded into one record
whose ``Occurrences__c`` counts them, so a thousand failing records raise one message,
not a thousand. When the settings name a notification email, each new message
is sent to it through the org's standard email action; each new Error also rings the sync
user's bell: a Salesforce custom notification of the ``CMSF_Maintenance`` type (deployed
with the data model) through the standard ``customNotificationAction``, opening the message.

Writes here are *unbudgeted*: a run that stops because its API budget is spent must still
be able to say so. If Salesforce itself cannot be reached, the message is kept in memory
for the run summary.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cmsf_core.errors import CmsfError
from cmsf_core.support_codes import guidance

if TYPE_CHECKING:
    from cmsf_core.clock import Clock
    from cmsf_core.salesforce import SalesforceGateway
    from cmsf_core.settings import Settings

__all__ = ["MaintenanceLog", "Message"]

EVENTS = logging.getLogger("cmsf.events")
NOTIFICATION_TYPE = "CMSF_Maintenance"
"""DeveloperName of the custom notification type the bell uses."""
OBJECT = "CMSF_Maintenance_Message__c"
SEVERITIES = ("Info", "Warning", "Error")
DETAIL_LIMIT = 30_000


@dataclass
class Message:
    """A maintenance message of this run.

    Attributes:
        severity: ``Info``, ``Warning`` or ``Error``.
        job: The job that raised it.
        code: Support code (:mod:`cmsf_core.support_codes`).
        summary: One line saying what happened.
        detail: Specifics (error codes, examples, counts).
        occurrences: How many times it was raised in this run.
        record_id: Its Salesforce Id once stored.
        notified: A notification email was sent.
    """

    severity: str
    job: str
    code: str
    summary: str
    detail: str = ""
    occurrences: int = 1
    record_id: str | None = None
    notified: bool = False
    details: list[str] = field(default_factory=list)


class MaintenanceLog:
    """Raises maintenance messages for one run.

    Args:
        gateway: Where messages are stored and notifications sent.
        settings: For the notification email address.
        clock: Timestamps.
        run_id: The run the messages belong to.
    """

    def __init__(
        self, gateway: SalesforceGateway, settings: Settings, clock: Clock, run_id: str
    ) -> None:
        self.gateway = gateway
        self.settings = settings
        self.clock = clock
        self.run_id = run_id
        self.messages: list[Message] = []
        self._by_key: dict[tuple[str, str, str], Message] = {}
        self.unsaved: list[Message] = []
        self._bell: tuple[str, str] | bool | None = False

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
        """Record a message (folded into an earlier one of the same job, code and topic).

        Args:
            severity: ``Info``, ``Warning`` or ``Error``.
            job: Name of the job raising it.
            code: Support code.
            summary: One line saying what happened.
            detail: Specifics; guidance for the code is appended automatically.
            topic: What the message is about, when one job and code may raise several
                distinct messages in a run (a campaign and domain); empty folds by code.

        Returns:
            The message (new or the one it was folded into).
        """
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}")
        key = (job, code, topic)
        existing = self._by_key.get(key)
        if existing is not None:
            existing.occurrences += 1
            if detail and len(existing.details) < 20:
                existing.details.append(detail)
            self._save(existing)
            return existing
        message = Message(
            severity, job, code, summary[:255], detail, details=[detail] if detail else []
        )
        self._by_key[key] = message
        self.messages.append(message)
        self._save(message)
        self._announce(message)
        return message

    def _announce(self, message: Message) -> None:
        """Tell of a new message: mail and bell (see :meth:`_notify`) and the run's event log."""
        self._notify(message)
        EVENTS.info(
            "maintenance message",
            extra={
                "event": "message",
                "run_id": self.run_id,
                "severity": message.severity,
                "job": message.job,
                "code": message.code,
                "summary": message.summary,
                "saved": message.record_id is not None,
            },
        )

    def _body(self, message: Message) -> str:
        help_ = guidance(message.code)
        parts = [*message.details, f"{message.code}: {help_.title}. {help_.guidance}"]
        return "\n\n".join(p for p in parts if p)[:DETAIL_LIMIT]

    def _save(self, message: Message) -> None:
        record = {
            "Severity__c": message.severity,
            "Job__c": message.job[:80],
            "Support_Code__c": message.code,
            "Summary__c": message.summary,
            "Detail__c": self._body(message),
            "Occurred__c": self.clock.now().isoformat(),
            "Run_Id__c": self.run_id,
            "Occurrences__c": message.occurrences,
        }
        try:
            with self.gateway.unbudgeted():
                if message.record_id is None:
                    result = self.gateway.create(OBJECT, [record])
                    message.record_id = result.ids[0]
                else:
                    result = self.gateway.update(OBJECT, [{"Id": message.record_id, **record}])
        except CmsfError:
            result = None
        if result is None or result.failures:  # unreachable or refused: keep it for the summary
            if message not in self.unsaved:
                self.unsaved.append(message)
            return
        if message in self.unsaved:
            self.unsaved.remove(message)

    def _bell_target(self) -> tuple[str, str] | None:
        """The notification type Id and the recipient (the sync user), looked up once."""
        if self._bell is False:
            self._bell = None
            try:
                with self.gateway.unbudgeted():
                    rows = list(
                        self.gateway.query(
                            "SELECT Id FROM CustomNotificationType "
                            f"WHERE DeveloperName = '{NOTIFICATION_TYPE}'"
                        )
                    )
                    if rows:
                        user = self.settings.sync_user_id or self.gateway.current_user_id()
                        self._bell = (str(rows[0]["Id"]), user)
            except CmsfError:
                self._bell = None
        return self._bell if isinstance(self._bell, tuple) else None

    def _ring(self, message: Message) -> None:
        """A custom notification (the bell) for a new Error message."""
        if message.severity != "Error" or message.record_id is None:
            return
        target = self._bell_target()
        if target is None:
            return
        try:
            with self.gateway.unbudgeted():
                self.gateway.custom_notification(
                    target[0],
                    [target[1]],
                    f"Campaign Monitor: {message.summary}"[:250],
                    self._body(message)[:750],
                    message.record_id,
                )
        except CmsfError:
            return

    def _notify(self, message: Message) -> None:
        self._ring(message)
        address = self.settings.notification_email
        if not address or message.record_id is None:
            return
        subject = f"Campaign Monitor for Salesforce: {message.severity} - {message.summary}"[:255]
        try:
            with self.gateway.unbudgeted():
                self.gateway.send_email([address], subject, self._body(message))
                self.gateway.update(OBJECT, [{"Id": message.record_id, "Notified__c": True}])
        except CmsfError:
            return
        message.notified = True

    def count(self, severity: str | None = None) -> int:
        """How many distinct messages this run raised (optionally of one severity)."""
        return sum(1 for m in self.messages if severity is None or m.severity == severity)
