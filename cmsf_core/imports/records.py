"""Imports as an admin sees and makes them: listing, finding one, creating one.

``cmsf import list|show|create`` read and write ``CMSF_Import__c`` records through the
sync user's gateway. Creating one checks everything a run would refuse before the record
exists: the list (a synced list, by Campaign Monitor id or name), the source (a report or
list view Id of the right kind, or a SOQL query), the mappings (a JSON object of text to
text), the schedule, and the owner (an active user, by username or Id; the import runs
as them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cmsf_core.errors import ConfigError
from cmsf_core.imports.ledger import ImportLedger
from cmsf_core.imports.spec import (
    IMPORT_FIELDS,
    IMPORT_OBJECT,
    SCHEDULES,
    SOURCE_TYPES,
    ImportConfigError,
    ImportSpec,
    check_source,
    next_run,
    parse_mappings,
)
from cmsf_core.matching import soql_quote
from cmsf_core.overview import resolve
from cmsf_core.pseudonyms import Pseudonyms
from cmsf_core.salesforce import SalesforceGateway
from cmsf_core.state import Journal

__all__ = ["ImportView", "create_import", "find_import", "list_imports"]


@dataclass
class ImportView:
    """One import as ``cmsf import list`` and ``show`` present it."""

    id: str
    name: str
    owner: str
    list: str
    source_type: str
    source: str
    schedule: str
    resubscribe: bool
    replace: bool
    journeys: bool
    mappings: dict[str, Any] = field(default_factory=dict)
    last_run: str | None = None
    status: str | None = None
    rows_read: int = 0
    imported: int = 0
    updated: int = 0
    failed: int = 0
    removed: int = 0
    salesforce_calls: int = 0
    error: str | None = None
    failures: str | None = None
    next_run: str | None = None
    problem: str | None = None
    in_progress: str | None = None


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def list_imports(gateway: SalesforceGateway, now: datetime, journal: Journal) -> list[ImportView]:
    """Every import with its last outcome, next scheduled run and what keeps it from running."""
    rows = list(gateway.query(f"SELECT {IMPORT_FIELDS} FROM {IMPORT_OBJECT} ORDER BY Name, Id"))
    owners = _names(gateway, "User", "Username", {str(r.get("OwnerId") or "") for r in rows})
    lists = _names(gateway, "CMSF_List__c", "Name", {str(r.get("List__c") or "") for r in rows})
    ledger = ImportLedger(journal, Pseudonyms())
    phases = {i: ledger.state(i) for i in ledger.unfinished()}
    out = []
    for row in rows:
        problem = None
        upcoming = None
        try:
            spec = ImportSpec.from_record(row)
            when = next_run(spec, now)
            upcoming = when.isoformat() if when is not None else None
        except ImportConfigError as exc:
            problem = str(exc)
        try:
            mappings = json.loads(str(row.get("Mappings__c") or "{}"))
        except json.JSONDecodeError:
            mappings = {"(not JSON)": str(row.get("Mappings__c"))[:80]}
        state = phases.get(str(row["Id"]))
        out.append(
            ImportView(
                id=str(row["Id"]),
                name=str(row.get("Name") or ""),
                owner=owners.get(str(row.get("OwnerId") or ""), str(row.get("OwnerId") or "")),
                list=lists.get(str(row.get("List__c") or ""), "(none)"),
                source_type=str(row.get("Source_Type__c") or ""),
                source=str(row.get("Source__c") or ""),
                schedule=str(row.get("Schedule__c") or "None"),
                resubscribe=bool(row.get("Resubscribe__c")),
                replace=bool(row.get("Replace_Subscribers__c")),
                journeys=bool(row.get("Trigger_Journeys__c")),
                mappings=mappings if isinstance(mappings, dict) else {},
                last_run=row.get("Last_Run__c"),
                status=row.get("Last_Status__c"),
                rows_read=_int(row.get("Rows_Read__c")),
                imported=_int(row.get("Imported__c")),
                updated=_int(row.get("Updated__c")),
                failed=_int(row.get("Failed__c")),
                removed=_int(row.get("Removed__c")),
                salesforce_calls=_int(row.get("Salesforce_Calls__c")),
                error=row.get("Last_Error__c"),
                failures=row.get("Failures__c"),
                next_run=upcoming,
                problem=problem,
                in_progress=state.phase if state is not None else None,
            )
        )
    return out


def _names(
    gateway: SalesforceGateway, sobject: str, field_name: str, ids: set[str]
) -> dict[str, str]:
    listed = ",".join(soql_quote(i) for i in sorted(ids) if i.isalnum())
    if not listed:
        return {}
    return {
        str(r["Id"]): str(r.get(field_name) or "")
        for r in gateway.query(f"SELECT Id, {field_name} FROM {sobject} WHERE Id IN ({listed})")
    }


def find_import(views: list[ImportView], ref: str) -> ImportView:
    """The import whose Id (15 or 18 characters) or unique name is ``ref``.

    Raises:
        ConfigError: When none matches or the name is not unique.
    """
    text = ref.strip()
    for view in views:
        if len(text) in (15, 18) and view.id[:15] == text[:15]:
            return view
    chosen = resolve("import", text, [(v.id, v.name) for v in views])
    return next(v for v in views if v.id == chosen)


def create_import(
    gateway: SalesforceGateway,
    *,
    name: str,
    list_ref: str,
    source_type: str,
    source: str,
    mappings: str | None,
    owner: str | None,
    schedule: str = "None",
    resubscribe: bool = False,
    replace: bool = False,
    journeys: bool = False,
) -> str:
    """Create an import after checking everything a run would refuse; return its Id.

    Raises:
        ConfigError: Naming what is wrong.
    """
    name = name.strip()
    if not name or len(name) > 80:
        raise ConfigError("the import's name must be 1 to 80 characters")
    kind = next((t for t in SOURCE_TYPES if t.lower() == source_type.strip().lower()), None)
    if kind is None:
        raise ConfigError(f"source type must be one of {', '.join(SOURCE_TYPES)}")
    when = next((s for s in SCHEDULES if s.lower() == schedule.strip().lower()), None)
    if when is None:
        raise ConfigError(f"schedule must be one of {', '.join(SCHEDULES)}")
    check_source(name, kind, source.strip())
    parsed = parse_mappings(name, mappings)
    lists = [
        (str(r["Id"]), str(r.get("CM_Id__c") or ""), str(r.get("Name") or ""))
        for r in gateway.query("SELECT Id, CM_Id__c, Name FROM CMSF_List__c ORDER BY Name")
    ]
    chosen = resolve("list", list_ref, [(cm_id, list_name) for _, cm_id, list_name in lists])
    list_sf_id = next(sf_id for sf_id, cm_id, _ in lists if cm_id == chosen)
    record: dict[str, Any] = {
        "Name": name,
        "List__c": list_sf_id,
        "Source_Type__c": kind,
        "Source__c": source.strip(),
        "Mappings__c": json.dumps(parsed) if parsed else None,
        "Schedule__c": when,
        "Resubscribe__c": resubscribe,
        "Replace_Subscribers__c": replace,
        "Trigger_Journeys__c": journeys,
    }
    if owner:
        record["OwnerId"] = _user(gateway, owner)
    result = gateway.create(IMPORT_OBJECT, [record])
    if result.failures:
        failure = result.failures[0]
        raise ConfigError(f"Salesforce refused the import: {failure.code} {failure.message}")
    return str(result.ids[0])


def _user(gateway: SalesforceGateway, ref: str) -> str:
    text = ref.strip()
    column = "Id" if text[:3] == "005" and len(text) in (15, 18) else "Username"
    rows = list(gateway.query(f"SELECT Id, IsActive FROM User WHERE {column} = {soql_quote(text)}"))
    if not rows:
        raise ConfigError(f"no user has the {'Id' if column == 'Id' else 'username'} {text!r}")
    if not rows[0].get("IsActive"):
        raise ConfigError(f"user {text} is deactivated; an import runs as an active owner")
    return str(rows[0]["Id"])
