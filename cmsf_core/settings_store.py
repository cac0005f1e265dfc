"""Reading and writing the settings record in the org, with an audit log of changes.

Settings live in one ``CMSF_Settings__c`` record named ``default`` so every runner
agrees. :meth:`SettingsStore.save` writes only what changed and, while the audit log is
enabled, adds one ``CMSF_Audit_Log__c`` entry per changed setting (who, when, old, new).
Operations (full sync, reconnect, reset...) are audited with :meth:`SettingsStore.audit`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cmsf_core.errors import PlatformError
from cmsf_core.jsontext import to_json
from cmsf_core.settings import (
    RECORD_FIELDS,
    SECRET_SETTINGS,
    SETTINGS_NAME,
    SETTINGS_OBJECT,
    Settings,
    from_record,
    to_record,
)

if TYPE_CHECKING:
    from cmsf_core.clock import Clock
    from cmsf_core.salesforce import SalesforceGateway

__all__ = ["SettingsStore"]

EVENTS = logging.getLogger("cmsf.events")
"""Structured run events (see :mod:`cmsf_core.runlog`)."""

AUDIT_OBJECT = "CMSF_Audit_Log__c"
STATUS_FIELDS = ("Last_Sync__c", "Last_Sync_Status__c", "Next_Run__c")


class SettingsStore:
    """The settings record of one org.

    Args:
        gateway: The Salesforce gateway.
        clock: Timestamps for the audit log and run status.
    """

    def __init__(self, gateway: SalesforceGateway, clock: Clock) -> None:
        self.gateway = gateway
        self.clock = clock
        self._record_id: str | None = None

    def record(self) -> dict[str, Any] | None:
        """The raw settings record, or None if the org has none yet."""
        fields = ", ".join(("Id", *RECORD_FIELDS, *STATUS_FIELDS))
        rows = list(
            self.gateway.query(
                f"SELECT {fields} FROM {SETTINGS_OBJECT} WHERE Name = '{SETTINGS_NAME}' "
                "ORDER BY CreatedDate LIMIT 1"
            )
        )
        self._record_id = str(rows[0]["Id"]) if rows else None
        return rows[0] if rows else None

    def load(self) -> Settings:
        """The org's settings (defaults when no record exists).

        Raises:
            ConfigError: If the record holds an invalid value.
        """
        record = self.record()
        return from_record(record) if record else Settings()

    def save(self, settings: Settings, *, changed_by: str) -> list[str]:
        """Store ``settings``; return the names of the settings that changed.

        Args:
            settings: The new settings.
            changed_by: Who made the change (user name or operation), for the audit log.
        """
        record = self.record()
        before = from_record(record) if record else Settings()
        old, new = before.as_dict(secrets=True), settings.as_dict(secrets=True)
        changed = [name for name in new if old[name] != new[name]]
        if record is None:
            result = self.gateway.create(
                SETTINGS_OBJECT, [{"Name": SETTINGS_NAME, **to_record(settings)}]
            )
            self._check(result.failures)
        elif changed:
            result = self.gateway.update(
                SETTINGS_OBJECT, [{"Id": record["Id"], **to_record(settings)}]
            )
            self._check(result.failures)
        if changed and (settings.audit_enabled or before.audit_enabled):
            entries = [
                {
                    "Setting__c": name,
                    "Old_Value__c": _shown(name, old[name]),
                    "New_Value__c": _shown(name, new[name]),
                    "Changed_By__c": changed_by[:255],
                    "Changed_At__c": self.clock.now().isoformat(),
                }
                for name in changed
            ]
            self._audit(entries)
        return changed

    def _audit(self, entries: list[dict[str, Any]]) -> None:
        """Write audit log entries; a full org (STORAGE_LIMIT_EXCEEDED) does not undo a change.

        When the org's data storage is full, Salesforce refuses new records but still takes
        updates, so the settings that free space (retention, activity types) can be changed;
        the refused entries are told to the run log instead (``cmsf.events``).
        """
        failures = self.gateway.create(AUDIT_OBJECT, entries).failures
        if failures and all(f.code == "STORAGE_LIMIT_EXCEEDED" for f in failures):
            EVENTS.warning(
                "the audit log could not record a settings change: the org's data storage is "
                "full (STORAGE_LIMIT_EXCEEDED); the change was made",
                extra={
                    "event": "audit_refused",
                    "reason": "the org's data storage is full (STORAGE_LIMIT_EXCEEDED)",
                    "settings": [str(e.get("Setting__c")) for e in entries],
                },
            )
            return
        self._check(failures)

    def audit(self, operation: str, *, changed_by: str, detail: str = "") -> None:
        """Record an operation (full sync, reconnect, reset...) in the audit log."""
        if not self.load().audit_enabled:
            return
        entry = {
            "Setting__c": operation[:80],
            "New_Value__c": detail,
            "Changed_By__c": changed_by[:255],
            "Changed_At__c": self.clock.now().isoformat(),
        }
        self._audit([entry])

    def record_run(self, *, status: str, settings: Settings) -> None:
        """Write the last sync's time and status and the next scheduled run.

        The record read at the start of the run is written again (not read once more).
        """
        record_id = self._record_id
        if record_id is None:
            record = self.record()
            if record is None:
                return
            record_id = str(record["Id"])
        now = self.clock.now()
        interval: timedelta | None = settings.interval
        update = {
            "Id": record_id,
            "Last_Sync__c": now.isoformat(),
            "Last_Sync_Status__c": status,
            "Next_Run__c": (now + interval).isoformat() if interval else None,
        }
        self._check(self.gateway.update(SETTINGS_OBJECT, [update]).failures)

    @staticmethod
    def _check(failures: list[Any]) -> None:
        if failures:
            first = failures[0]
            raise PlatformError(
                f"Salesforce refused the settings change: {first.code} {first.message}",
                platform="salesforce",
                error_code=first.code,
            )


def _shown(name: str, value: Any) -> str:
    """A setting's value as the audit log shows it (secrets only as set or not)."""
    if name in SECRET_SETTINGS:
        return to_json("(set)" if value else None)
    return to_json(value)
