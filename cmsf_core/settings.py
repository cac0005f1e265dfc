"""The integration's settings: what the settings guide describes, with defaults and validation.

Settings live in the org (one ``CMSF_Settings__c`` record named ``default``) so that every
runner agrees; this module only knows their shape. :class:`Settings` is immutable;
:meth:`Settings.changed` validates a set of changes given by name (as a CLI or a scenario
gives them) and returns a new value. :func:`to_record` and :func:`from_record` convert to
and from the Salesforce record. Reading and writing the record, and the audit log of
changes, belong to :mod:`cmsf_core.settings_store`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from typing import Any

from cmsf_core.errors import ConfigError
from cmsf_core.jsontext import to_json

__all__ = [
    "ACTIVITY_TYPES",
    "DEFAULT_LIMITS",
    "DEFAULT_STATUS_MAP",
    "FREQUENCIES",
    "INTERNAL_SETTINGS",
    "SECRET_SETTINGS",
    "Settings",
    "StatusMapping",
    "from_record",
    "to_record",
]

SETTINGS_OBJECT = "CMSF_Settings__c"
SETTINGS_NAME = "default"

ACTIVITY_TYPES: tuple[str, ...] = ("Sent", "Open", "Click", "Bounce", "Unsubscribe", "Spam")
"""Email tracking activity types, as stored in ``CMSF_Email_Activity__c.Activity_Type__c``."""

FREQUENCIES: dict[str, timedelta | None] = {
    "Hourly": timedelta(hours=1),
    "Every 2 Hours": timedelta(hours=2),
    "Every 4 Hours": timedelta(hours=4),
    "Every 12 Hours": timedelta(hours=12),
    "Daily": timedelta(days=1),
    "Never": None,
}
"""Primary sync frequencies; ``Never`` turns the sync off."""

INDUSTRIES: tuple[str, ...] = (
    "None",
    "Agriculture",
    "Automotive",
    "Education",
    "Financial Services",
    "Government",
    "Healthcare",
    "Hospitality",
    "Media",
    "Nonprofit",
    "Real Estate",
    "Retail",
    "Technology",
    "Travel",
)

DEFAULT_LIMITS: dict[str, int] = {
    "configuration": 200,
    "suppression": 1000,
    "subscribers": 100_000,
    "list_stats": 50,
    "campaigns": 200,
    "campaign_stats": 50,
    "tracking_history": 100_000,
    "campaign_members": 100_000,
    "email_opt_out": 10000,
    "smart_emails": 50,
    "smart_email_variables": 50,
    "smart_email_tasks": 50,
    "smart_email_sends": 50,
    "smart_email_attempts": 5,
    "tracking_cleanup": 2000,
    "queue_cleanup": 2000,
    "subscription_cleanup": 2000,
    "push": 200,
    "imports": 1000,
    "import_removals": 5000,
    "bulk_threshold": 2000,
    "cm_page_size": 1000,
    "campaign_stats_days": 90,
    "reconcile_hours": 24,
    "bulk_wait_minutes": 30,
    "limit_split_floor": 0,
    "storage_warn_percent": 90,
}
"""Internal governor limits: batch sizes per job and the engine's tuning knobs.

``push`` is the number of Salesforce records the Salesforce -> Campaign Monitor jobs read
and process per atomic batch (and per queue-item write). ``imports`` is the number of
subscribers per Campaign Monitor import request of the import wizard (1-1,000);
``import_removals`` how many subscribers "replace subscribers on list" removes per import
and run (the rest continue next run).
and process per atomic batch (and per queue-item write). ``smart_email_sends`` is the number
of smart email queue items sent per batch (their records read in one request);
``smart_email_attempts`` how often an item's send is tried (rate limits, outages) before
it fails with the reason.

Batch sizes of the subscribers, tracking history and campaign members jobs are far above
``bulk_threshold`` on purpose: their records are pooled across scopes
(:mod:`cmsf_core.jobs.pool`) up to a batch, so a large sync writes each object in a few
Bulk API 2.0 jobs (five calls each, whatever their size, up to 100,000 records or 100 MB
of CSV) instead of sObject Collections (one call per 200 records), and memory stays
bounded by the batch, not by the account. ``bulk_threshold`` is the number of records above which
writes go through Bulk API 2.0; ``cm_page_size`` the Campaign Monitor page size (10-1000);
``campaign_stats_days`` how long after sending a campaign's statistics keep refreshing;
``reconcile_hours`` how often each list is read whole to catch renamed addresses and detail
edits that Campaign Monitor's date filter cannot show.

The org's own trouble has three knobs: ``bulk_wait_minutes`` is how long a run waits for
a Bulk API job Salesforce keeps queued or running (then the run ends *waiting* and the
next run collects the job's results); ``limit_split_floor``, when above 0, lets the engine
retry a batch that a trigger failed with a per-transaction Apex limit (``Too many
queueable jobs added to the queue``, SOQL queries, CPU time, heap size) in halves, down to
that many records a call (0, the default, leaves the records to the pending retries and
the admin's batch sizes); ``storage_warn_percent`` is the share of the org's data storage
at which every run warns (``CMSF-STORAGE``).
"""

_LIMIT_RANGES: dict[str, tuple[int, int]] = {
    "imports": (1, 1000),
    "import_removals": (1, 1_000_000),
    "bulk_threshold": (200, 10_000_000),
    "cm_page_size": (10, 1000),
    "campaign_stats_days": (1, 3650),
    "reconcile_hours": (1, 720),
    "subscribers": (1, 100_000),
    "tracking_history": (1, 100_000),
    "campaign_members": (1, 100_000),
    "smart_email_attempts": (1, 50),
    "bulk_wait_minutes": (1, 1440),
    "limit_split_floor": (0, 200),
    "storage_warn_percent": (1, 100),
}


@dataclass(frozen=True)
class StatusMapping:
    """The Salesforce CampaignMember status an activity maps to, and whether it is a response."""

    status: str
    responded: bool


DEFAULT_STATUS_MAP: dict[str, StatusMapping] = {
    "Sent": StatusMapping("Sent", False),
    "Open": StatusMapping("Opened", True),
    "Click": StatusMapping("Clicked", True),
    "Bounce": StatusMapping("Bounced", False),
    "Unsubscribe": StatusMapping("Unsubscribed", False),
    "Spam": StatusMapping("Marked As Spam", False),
}

INTERNAL_SETTINGS: dict[str, str] = {
    "connected": "use 'cmsf connect' or 'cmsf disconnect'",
    "connected_org_id": "it is recorded by 'cmsf connect'",
    "cm_account_name": "it is read from the account by 'cmsf connect'",
    "cm_account_id": "it is read from the account by 'cmsf connect'",
    "cm_test_account": "the account itself says whether it is a test account "
    "('cmsf connect --test-account' where it does not)",
    "connection_key": "it is made by 'cmsf connect'",
    "client_selection": "use 'cmsf reconnect --client ID ...'",
    "sync_user_id": "it is an operation of its own (change the sync user)",
}
"""State the engine keeps in the settings record that ``settings set`` may not change, and why."""

UNSUPPORTED_SETTINGS: dict[str, str] = {
    "industry": "the industry comparison needs Campaign Monitor's industry averages, which its "
    "API does not serve; cmsf does not invent them",
}
"""Settings of the settings guide that cmsf does not implement, refused with the reason."""

SECRET_SETTINGS = frozenset({"connection_key"})
"""Settings never displayed, logged or audited by value."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Settings:
    """Every setting of the settings guide, with the product's defaults.

    Attributes:
        frequency: Primary sync frequency (a key of :data:`FREQUENCIES`).
        sync_user_id: Salesforce user the sync runs as.
        connected: A Campaign Monitor account is connected.
        connected_org_id: The org Id the connection was made from (sandbox safety).
        cm_account_name: Name of the connected Campaign Monitor account.
        cm_test_account: The admin said at connect time that the account is a test account
            (used only where the account itself does not say; see :mod:`cmsf_core.safety`).
        cm_account_id: Fingerprint of the connected Campaign Monitor account (its identity).
        connection_key: Secret made at each connect: the connection's generation, and the
            key that pseudonymises what the runner keeps on its disk. Never displayed.
        client_selection: ``("*",)`` for all clients, else the selected client ids.
        opt_out_sync: Set HasOptedOutOfEmail when unsubscribed or deleted in all lists.
        trigger_journeys: Trigger "joins a list" journeys when adding subscribers.
        account_triggers: Account trigger enabled (subscriber rules on accounts).
        disable_triggers: Disable account, contact and lead triggers.
        disable_bulk_triggers: Only the first record of a bulk transaction is processed.
        sync_suppression_list: Copy the suppression list into Salesforce.
        tracking_retention_days: Days of email tracking history to keep; 0 disables it.
        tracking_activity_types: Activity types stored as tracking history.
        update_linked_campaigns: Update linked Salesforce Campaigns with statistics.
        auto_create_campaigns: Create and link a Salesforce Campaign per sent campaign.
        campaign_start_date: Only campaigns sent on or after this date are synced.
        campaign_tags: Only campaigns with one of these tags are synced (empty = all).
        update_member_status: Update CampaignMember status from activity.
        auto_create_statuses: Create missing CampaignMemberStatus values on linked campaigns.
        status_map: Activity type to CampaignMember status and responded flag.
        industry: Industry for benchmark comparisons.
        sms_enabled: Push mobile numbers and SMS consent.
        sms_country: ISO country used to format mobile numbers as E.164.
        notification_email: Address notified of new maintenance messages.
        audit_enabled: Keep an audit log of setting changes and operations.
        governor_limits: Overrides of :data:`DEFAULT_LIMITS`.
        queue_retention_days: Queue items older than this are removed.
        run_api_share: Share of the org's daily API allocation one run may spend.
        org_api_ceiling: Stop when the org as a whole has used this share of its allocation.
        scanner_protection: A suspected link-scanner unsubscribe does not opt anyone out.
        scanner_threshold: Link-scanner score (1-100) at which an unsubscribe is suspected.
    """

    frequency: str = "Hourly"
    sync_user_id: str | None = None
    connected: bool = False
    connected_org_id: str | None = None
    cm_account_name: str | None = None
    cm_test_account: bool = False
    cm_account_id: str | None = None
    connection_key: str | None = field(default=None, repr=False)
    client_selection: tuple[str, ...] = ("*",)
    opt_out_sync: bool = False
    trigger_journeys: bool = True
    account_triggers: bool = True
    disable_triggers: bool = False
    disable_bulk_triggers: bool = False
    sync_suppression_list: bool = False
    tracking_retention_days: int = 180
    tracking_activity_types: tuple[str, ...] = ACTIVITY_TYPES
    update_linked_campaigns: bool = False
    auto_create_campaigns: bool = False
    campaign_start_date: date | None = None
    campaign_tags: tuple[str, ...] = ()
    update_member_status: bool = False
    auto_create_statuses: bool = False
    status_map: Mapping[str, StatusMapping] = field(default_factory=lambda: DEFAULT_STATUS_MAP)
    industry: str = "None"
    sms_enabled: bool = False
    sms_country: str = "US"
    notification_email: str | None = None
    audit_enabled: bool = True
    governor_limits: Mapping[str, int] = field(default_factory=dict)
    queue_retention_days: int = 2
    run_api_share: float = 0.25
    org_api_ceiling: float = 0.9
    scanner_protection: bool = False
    scanner_threshold: int = 60

    @property
    def interval(self) -> timedelta | None:
        """Time between primary syncs, or None when the sync is off."""
        return FREQUENCIES[self.frequency]

    def limit(self, name: str) -> int:
        """An internal governor limit (batch size or knob), overridden or default.

        Raises:
            ConfigError: If ``name`` is not a known limit.
        """
        if name not in DEFAULT_LIMITS:
            raise ConfigError(f"unknown internal governor limit {name!r}")
        return int(self.governor_limits.get(name, DEFAULT_LIMITS[name]))

    def selects_client(self, client_id: str) -> bool:
        """True if the Campaign Monitor client ``client_id`` is selected for sync."""
        return "*" in self.client_selection or client_id in self.client_selection

    def keeps_activity(self, activity_type: str) -> bool:
        """True if tracking history of ``activity_type`` is stored."""
        return self.tracking_retention_days > 0 and activity_type in self.tracking_activity_types

    def changed(self, **changes: Any) -> Settings:
        """Return a copy with ``changes`` applied, validated and normalised.

        Values may be given as Python values or as text (as a CLI or a YAML scenario
        gives them): ``"true"``, ``"180"``, ``"Open,Click"``, ``"2026-01-01"``.

        Raises:
            ConfigError: If a name is unknown or a value is invalid; the message says
                which setting and what is allowed.
        """
        known = {f.name for f in fields(self)}
        normalised: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ConfigError(
                    f"unknown setting {name!r}; known settings: "
                    f"{', '.join(sorted(known - set(INTERNAL_SETTINGS)))}"
                )
            normalised[name] = _normalise(name, value)
        return replace(self, **normalised)

    def as_dict(self, *, secrets: bool = False) -> dict[str, Any]:
        """Settings as plain JSON-ready values, for display and the audit log.

        Args:
            secrets: Include the connection key (only to store or compare it; never shown).
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in SECRET_SETTINGS and not secrets:
                continue
            out[f.name] = _plain(getattr(self, f.name))
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, StatusMapping):
        return {"status": value.status, "responded": value.responded}
    return value


# ----------------------------------------------------------------------------- validation


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "yes", "on", "1"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "no", "off", "0"}:
        return False
    raise ConfigError(f"setting {name!r} must be true or false, got {value!r}")


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """One of ``choices``, matched without regard to case or surrounding spaces."""
    wanted = " ".join(str(value).split()).casefold()
    for choice in choices:
        if choice.casefold() == wanted:
            return choice
    raise ConfigError(f"{name} must be one of: {', '.join(choices)} (any case)")


def _as_int(name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise ConfigError(f"setting {name!r} must be a whole number from {low} to {high}")
    return number


def _as_share(name: str, value: Any) -> float:
    try:
        text = str(value).strip().rstrip("%")
        number = float(text)
    except ValueError as exc:
        raise ConfigError(f"setting {name!r} must be a share such as 0.25 or 25%") from exc
    if isinstance(value, str) and value.strip().endswith("%"):
        number /= 100
    if not 0 < number <= 1:
        raise ConfigError(f"setting {name!r} must be more than 0 and at most 1 (100%)")
    return number


def _as_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    parts = re.split(r"[;,]", value) if isinstance(value, str) else [str(v) for v in value]
    return tuple(p.strip() for p in parts if p.strip())


def _as_status_map(value: Any) -> dict[str, StatusMapping]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"setting 'status_map' is not valid JSON: {exc.msg}") from exc
    if not isinstance(value, Mapping):
        raise ConfigError("setting 'status_map' must map activity types to statuses")
    result = dict(DEFAULT_STATUS_MAP)
    for activity, target in value.items():
        if activity not in ACTIVITY_TYPES:
            raise ConfigError(
                f"status_map: unknown activity {activity!r}; use one of {', '.join(ACTIVITY_TYPES)}"
            )
        if isinstance(target, StatusMapping):
            mapping = target
        elif isinstance(target, str):
            mapping = StatusMapping(target, DEFAULT_STATUS_MAP[activity].responded)
        elif isinstance(target, Mapping) and isinstance(target.get("status"), str):
            mapping = StatusMapping(target["status"], bool(target.get("responded", False)))
        else:
            raise ConfigError(
                f"status_map: {activity!r} must map to a status name or "
                "{'status': name, 'responded': true|false}"
            )
        if not 0 < len(mapping.status.strip()) <= 40:
            raise ConfigError(f"status_map: status for {activity!r} must be 1 to 40 characters")
        result[activity] = StatusMapping(mapping.status.strip(), mapping.responded)
    return result


def _as_limits(value: Any) -> dict[str, int]:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            raise ConfigError(f"setting 'governor_limits' is not valid JSON: {exc.msg}") from exc
    if not isinstance(value, Mapping):
        raise ConfigError("setting 'governor_limits' must map limit names to numbers")
    out: dict[str, int] = {}
    for name, number in value.items():
        if name not in DEFAULT_LIMITS:
            raise ConfigError(
                f"governor_limits: unknown limit {name!r}; known: {', '.join(DEFAULT_LIMITS)}"
            )
        low, high = _LIMIT_RANGES.get(name, (1, 10_000))
        out[name] = _as_int(f"governor_limits.{name}", number, low, high)
    return out


def _normalise(name: str, value: Any) -> Any:
    boolean = {
        "connected",
        "cm_test_account",
        "opt_out_sync",
        "trigger_journeys",
        "account_triggers",
        "disable_triggers",
        "disable_bulk_triggers",
        "sync_suppression_list",
        "update_linked_campaigns",
        "auto_create_campaigns",
        "update_member_status",
        "auto_create_statuses",
        "sms_enabled",
        "audit_enabled",
        "scanner_protection",
    }
    if name in boolean:
        return _as_bool(name, value)
    if name == "frequency":
        return _choice(name, value, tuple(FREQUENCIES))
    if name == "industry":
        return _choice(name, value, INDUSTRIES)
    if name == "tracking_retention_days":
        return _as_int(name, value, 0, 3650)
    if name == "queue_retention_days":
        return _as_int(name, value, 1, 365)
    if name == "scanner_threshold":
        return _as_int(name, value, 1, 100)
    if name == "tracking_activity_types":
        kinds = _as_list(value)
        unknown = [k for k in kinds if k not in ACTIVITY_TYPES]
        if unknown:
            raise ConfigError(
                f"tracking_activity_types: unknown {', '.join(unknown)}; "
                f"use {', '.join(ACTIVITY_TYPES)}"
            )
        return tuple(k for k in ACTIVITY_TYPES if k in kinds)
    if name == "client_selection":
        selection = _as_list(value)
        return selection or ("*",)
    if name == "campaign_tags":
        return _as_list(value)
    if name == "campaign_start_date":
        if value in (None, ""):
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError as exc:
            raise ConfigError("campaign_start_date must be a date like 2026-01-31") from exc
    if name == "status_map":
        return _as_status_map(value)
    if name == "governor_limits":
        return _as_limits(value)
    if name in {"run_api_share", "org_api_ceiling"}:
        return _as_share(name, value)
    if name == "notification_email":
        if value in (None, ""):
            return None
        if not isinstance(value, str) or len(value) > 80 or not _EMAIL.match(value):
            raise ConfigError(f"notification_email is not a valid email address: {value!r}")
        return value
    if name == "sms_country":
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2}", value):
            raise ConfigError("sms_country must be a two-letter ISO country code such as US")
        return value.upper()
    if name in {"sync_user_id", "connected_org_id", "cm_account_name", "cm_account_id"}:
        return None if value in (None, "") else str(value)
    if name == "connection_key":
        if value in (None, ""):
            return None
        if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
            raise ConfigError("connection_key must be 64 hexadecimal characters")
        return None if value in (None, "") else str(value)
    raise ConfigError(f"setting {name!r} cannot be changed this way")  # pragma: no cover


# ----------------------------------------------------------------------------- record mapping

_RECORD_FIELDS: dict[str, str] = {
    "frequency": "Sync_Frequency__c",
    "sync_user_id": "Sync_User__c",
    "connected": "Connected__c",
    "connected_org_id": "Connected_Org_Id__c",
    "cm_account_name": "CM_Account_Name__c",
    "cm_test_account": "CM_Test_Account__c",
    "cm_account_id": "CM_Account_Id__c",
    "connection_key": "Connection_Key__c",
    "client_selection": "Client_Selection__c",
    "opt_out_sync": "Opt_Out_Sync__c",
    "trigger_journeys": "Trigger_Journeys__c",
    "account_triggers": "Account_Triggers__c",
    "disable_triggers": "Disable_Triggers__c",
    "disable_bulk_triggers": "Disable_Bulk_Triggers__c",
    "sync_suppression_list": "Sync_Suppression_List__c",
    "tracking_retention_days": "Tracking_Retention_Days__c",
    "tracking_activity_types": "Tracking_Activity_Types__c",
    "update_linked_campaigns": "Update_Linked_Campaigns__c",
    "auto_create_campaigns": "Auto_Create_Campaigns__c",
    "campaign_start_date": "Campaign_Start_Date__c",
    "campaign_tags": "Campaign_Tags__c",
    "update_member_status": "Update_Member_Status__c",
    "auto_create_statuses": "Auto_Create_Statuses__c",
    "status_map": "Status_Map__c",
    "industry": "Industry__c",
    "sms_enabled": "SMS_Enabled__c",
    "sms_country": "SMS_Country__c",
    "notification_email": "Notification_Email__c",
    "audit_enabled": "Audit_Enabled__c",
    "governor_limits": "Governor_Limits__c",
    "queue_retention_days": "Queue_Retention_Days__c",
    "run_api_share": "Run_Api_Share__c",
    "org_api_ceiling": "Org_Api_Ceiling__c",
    "scanner_protection": "Scanner_Protection__c",
    "scanner_threshold": "Scanner_Threshold__c",
}
"""Setting attribute -> field of ``CMSF_Settings__c``."""

RECORD_FIELDS: tuple[str, ...] = tuple(_RECORD_FIELDS.values())


def to_record(settings: Settings) -> dict[str, Any]:
    """Render settings as ``CMSF_Settings__c`` field values."""
    plain = settings.as_dict(secrets=True)
    record: dict[str, Any] = {}
    for name, api_name in _RECORD_FIELDS.items():
        value = plain[name]
        if name in {"client_selection", "campaign_tags"}:
            value = ",".join(value)
        elif name == "tracking_activity_types":
            value = ";".join(value) if value else None
        elif name in {"status_map", "governor_limits"}:
            value = to_json(value)
        elif name in {"run_api_share", "org_api_ceiling"}:
            value = round(value * 100, 2)
        record[api_name] = value
    return record


def from_record(record: Mapping[str, Any]) -> Settings:
    """Read settings from a ``CMSF_Settings__c`` record; missing or empty fields keep defaults.

    Raises:
        ConfigError: If a stored value is invalid (someone edited the record by hand).
    """
    changes: dict[str, Any] = {}
    for name, api_name in _RECORD_FIELDS.items():
        value = record.get(api_name)
        if value is None or value == "":
            if name == "tracking_activity_types" and api_name in record:
                changes[name] = ()
            continue
        if name in {"run_api_share", "org_api_ceiling"}:
            value = f"{value}%"
        elif name in {"tracking_retention_days", "queue_retention_days", "scanner_threshold"}:
            value = int(float(value))
        changes[name] = value
    return Settings().changed(**changes)
