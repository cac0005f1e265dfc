"""What an import is: a ``CMSF_Import__c`` record read and checked, and when it is due.

An import names a list (``List__c``), a source (``Source_Type__c`` ``Report``,
``ListView`` or ``SOQL``, and ``Source__c``: the report Id, the list view Id or the query),
field mappings (``Mappings__c``: JSON from a source column to a Campaign Monitor field),
options (``Resubscribe__c``, ``Replace_Subscribers__c``, ``Trigger_Journeys__c``), a
schedule (``Schedule__c``: ``None``, ``Hourly``, ``Daily``) and its owner (``OwnerId``,
the user it runs as). Problems a person must fix (no list, a malformed query, mappings
that are not JSON or name nothing Campaign Monitor knows) raise
:class:`ImportConfigError` with the fix.

Schedules run once per period of the clock: an ``Hourly`` import is due when no run
started in the current clock hour (UTC), a ``Daily`` one when none started on the
current UTC day; ``None`` runs only when asked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cmsf_core.clock import parse_instant
from cmsf_core.errors import ConfigError

__all__ = [
    "IMPORT_FIELDS",
    "IMPORT_OBJECT",
    "MAX_MAPPINGS",
    "MAX_SOQL",
    "SCHEDULES",
    "SOURCE_TYPES",
    "STANDARD_TARGETS",
    "ImportConfigError",
    "ImportSpec",
    "due_record",
    "is_due",
    "next_run",
    "parse_mappings",
    "period_start",
]

IMPORT_OBJECT = "CMSF_Import__c"
IMPORT_FIELDS = (
    "Id, Name, OwnerId, List__c, Source_Type__c, Source__c, Mappings__c, Resubscribe__c, "
    "Replace_Subscribers__c, Trigger_Journeys__c, Schedule__c, Last_Run__c, Last_Status__c, "
    "Rows_Read__c, Imported__c, Updated__c, Failed__c, Removed__c, Salesforce_Calls__c, "
    "Last_Error__c, Failures__c"
)
"""Fields of ``CMSF_Import__c`` the engine reads."""
SOURCE_TYPES = ("Report", "ListView", "SOQL")
SCHEDULES = ("None", "Hourly", "Daily")
STANDARD_TARGETS = {
    "emailaddress": "EmailAddress",
    "name": "Name",
    "mobilenumber": "MobileNumber",
    "consenttotrack": "ConsentToTrack",
    "consenttosendsms": "ConsentToSendSms",
}
"""Subscriber fields a mapping may name (by key: lower case, no spaces)."""
MAX_MAPPINGS = 100
"""Mappings one import may have."""
MAX_SOQL = 100_000
"""Longest SOQL statement Salesforce accepts (characters)."""
_ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")


class ImportConfigError(ConfigError):
    """An import cannot run as configured; the message says what to fix."""


@dataclass(frozen=True)
class ImportSpec:
    """One import, as its record says.

    Attributes:
        id: The record's Id.
        name: Its name.
        owner_id: The user it runs as.
        list_sf_id: The ``CMSF_List__c`` it imports into.
        source_type: ``Report``, ``ListView`` or ``SOQL``.
        source: The report Id, list view Id or SOQL query.
        mappings: Source column -> Campaign Monitor field (raw, checked per run).
        resubscribe: Re-add inactive subscribers.
        replace: Remove the list's subscribers that were not in the source.
        journeys: Start journeys and autoresponders for imported subscribers.
        schedule: ``None``, ``Hourly`` or ``Daily``.
        last_run: When the last run started.
        last_status: How it ended.
        record: The record as read.
    """

    id: str
    name: str
    owner_id: str
    list_sf_id: str | None
    source_type: str
    source: str
    mappings: dict[str, str]
    resubscribe: bool
    replace: bool
    journeys: bool
    schedule: str
    last_run: datetime | None = None
    last_status: str | None = None
    record: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_record(cls, row: Mapping[str, Any]) -> ImportSpec:
        """Read an import record (see :data:`IMPORT_FIELDS`).

        Raises:
            ImportConfigError: For a source type, source, schedule or mappings a person
                must fix.
        """
        name = str(row.get("Name") or row.get("Id") or "")
        source_type = str(row.get("Source_Type__c") or "")
        if source_type not in SOURCE_TYPES:
            raise ImportConfigError(
                f"import '{name}': Source_Type__c must be one of {', '.join(SOURCE_TYPES)}, "
                f"not {source_type or 'empty'}"
            )
        source = str(row.get("Source__c") or "").strip()
        check_source(name, source_type, source)
        schedule = str(row.get("Schedule__c") or "None")
        if schedule not in SCHEDULES:
            raise ImportConfigError(
                f"import '{name}': Schedule__c must be one of {', '.join(SCHEDULES)}"
            )
        last_run = row.get("Last_Run__c")
        return cls(
            id=str(row["Id"]),
            name=name,
            owner_id=str(row.get("OwnerId") or ""),
            list_sf_id=str(row["List__c"]) if row.get("List__c") else None,
            source_type=source_type,
            source=source,
            mappings=parse_mappings(name, row.get("Mappings__c")),
            resubscribe=bool(row.get("Resubscribe__c")),
            replace=bool(row.get("Replace_Subscribers__c")),
            journeys=bool(row.get("Trigger_Journeys__c")),
            schedule=schedule,
            last_run=_instant(str(last_run)) if last_run else None,
            last_status=str(row.get("Last_Status__c") or "") or None,
            record=row,
        )


def check_source(name: str, source_type: str, source: str) -> None:
    """Check a source before anything is read.

    Raises:
        ImportConfigError: For an empty, malformed or oversized source.
    """
    if not source:
        raise ImportConfigError(f"import '{name}': Source__c is empty")
    if source_type in ("Report", "ListView"):
        prefix = "00O" if source_type == "Report" else "00B"
        if not _ID.match(source) or not source.startswith(prefix):
            kind = "report" if source_type == "Report" else "list view"
            raise ImportConfigError(
                f"import '{name}': Source__c must be the {kind} Id ({prefix}...), "
                f"not {source[:40]!r}"
            )
        return
    if len(source) > MAX_SOQL:
        raise ImportConfigError(
            f"import '{name}': the query is {len(source):,} characters; Salesforce takes "
            f"{MAX_SOQL:,} at most"
        )
    if not re.match(r"^\s*SELECT\s", source, re.IGNORECASE) or " from " not in (
        " " + re.sub(r"\s+", " ", source.lower()) + " "
    ):
        raise ImportConfigError(
            f"import '{name}': Source__c must be a SOQL query (SELECT ... FROM ...)"
        )


def parse_mappings(name: str, text: Any) -> dict[str, str]:
    """``Mappings__c`` as a column -> target mapping (empty: use the default columns).

    Raises:
        ImportConfigError: For JSON that is not an object of text to text, too many
            mappings, or a Campaign Monitor field named twice.
    """
    if text is None or not str(text).strip():
        return {}
    try:
        value = json.loads(str(text))
    except json.JSONDecodeError as exc:
        raise ImportConfigError(
            f"import '{name}': Mappings__c is not JSON ({exc.msg} at character {exc.pos})"
        ) from None
    if not isinstance(value, dict):
        raise ImportConfigError(
            f"import '{name}': Mappings__c must be a JSON object such as {{\"Email\": "
            '"EmailAddress", "FirstName": "Name"}'
        )
    if len(value) > MAX_MAPPINGS:
        raise ImportConfigError(
            f"import '{name}': {len(value)} mappings; an import takes {MAX_MAPPINGS} at most"
        )
    out: dict[str, str] = {}
    targets: dict[str, str] = {}
    for column, target in value.items():
        if not isinstance(target, str) or not target.strip() or not str(column).strip():
            raise ImportConfigError(
                f"import '{name}': mapping {str(column)[:60]!r} must name a Campaign Monitor "
                "field as text"
            )
        if len(str(column)) > 255 or len(target) > 255:
            raise ImportConfigError(f"import '{name}': a mapping name is over 255 characters")
        key = target_key(target)
        if key in targets:
            raise ImportConfigError(
                f"import '{name}': {target.strip()!r} is mapped from both "
                f"{targets[key]!r} and {str(column).strip()!r}"
            )
        targets[key] = str(column).strip()
        out[str(column).strip()] = target.strip()
    return out


def target_key(name: str) -> str:
    """How a Campaign Monitor field name compares: lower case, no spaces or brackets."""
    return re.sub(r"[\s\[\]]", "", name).lower()


def period_start(schedule: str, now: datetime) -> datetime | None:
    """Start of the schedule's current period (None for ``None``)."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    if schedule == "Hourly":
        return hour
    if schedule == "Daily":
        return hour.replace(hour=0)
    return None


def is_due(spec: ImportSpec, now: datetime) -> bool:
    """True when a scheduled import has not started a run in the current period."""
    start = period_start(spec.schedule, now)
    if start is None:
        return False
    return spec.last_run is None or spec.last_run < start


def due_record(row: Mapping[str, Any], now: datetime) -> bool:
    """:func:`is_due` for a record that may not be valid (a broken import is run when its
    schedule is due, so the run records what is wrong once per period)."""
    schedule = str(row.get("Schedule__c") or "None")
    start = period_start(schedule, now)
    if start is None:
        return False
    last = row.get("Last_Run__c")
    try:
        return not last or _instant(str(last)) < start
    except ValueError:
        return True


def next_run(spec: ImportSpec, now: datetime) -> datetime | None:
    """When a scheduled import is next due (None for ``None``; ``now`` when due)."""
    start = period_start(spec.schedule, now)
    if start is None:
        return None
    if is_due(spec, now):
        return now
    return start + (timedelta(hours=1) if spec.schedule == "Hourly" else timedelta(days=1))


def _instant(value: str) -> datetime:
    if len(value) > 5 and value[-5] in "+-" and value[-3] != ":":
        value = value[:-2] + ":" + value[-2:]
    return parse_instant(value)
