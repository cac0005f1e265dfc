"""Merging duplicates (the SOAP ``merge`` call) and converting leads (``convertLead``).

A master and one or two losers of the same object. In one transaction:

1. *before delete* triggers fire for the losers;
2. their children are re-parented to the master without triggers (campaign members,
   tasks, an account's contacts, custom lookups); a loser's campaign membership in a
   campaign the master already belongs to is removed instead (one member per person);
3. the losers go to the recycle bin with ``MasterRecordId`` = the master (visible to
   ``queryAll``; GET answers ``ENTITY_IS_DELETED``);
4. *after delete* triggers fire (``MasterRecordId`` is set by now), then the master is
   saved (*update* triggers fire, ``LastModifiedDate`` moves).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sf_sim import campaigns
from sf_sim.dml import WriteContext
from sf_sim.exceptions import RecordError, SalesforceApiError
from sf_sim.records import normalise_id
from sf_sim.schema import format_datetime
from sf_sim.store import quote

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["MERGEABLE", "convert_lead", "merge_records"]

MERGEABLE = ("Account", "Contact", "Lead")


def _refuse(code: str, message: str) -> SalesforceApiError:
    return SalesforceApiError(code, message, 400)


def merge_records(org: Org, master_id: str, loser_ids: list[str]) -> dict[str, Any]:
    """Merge ``loser_ids`` into ``master_id``; returns the SOAP ``MergeResult`` fields.

    Raises:
        SalesforceApiError: For an unmergeable object, a bad count, unknown or deleted records.
    """
    master = normalise_id(master_id)
    losers = [normalise_id(item) for item in loser_ids]
    if master is None or any(item is None for item in losers):
        raise _refuse("MALFORMED_ID", "malformed id in merge request")
    if not 1 <= len(losers) <= 2:
        raise _refuse(
            "INVALID_OPERATION", "A merge request takes a master and one or two records to merge"
        )
    if master in losers or len(set(losers)) != len(losers):
        raise _refuse("INVALID_OPERATION", "Cannot merge a record with itself")
    definition = org.schema.by_key_prefix(master[:3])
    if definition is None or definition.name not in MERGEABLE:
        raise _refuse("INVALID_TYPE", "Only leads, contacts and accounts can be merged")
    rows = org.store.get_many(definition.name, [master, *losers])  # type: ignore[list-item]
    for record_id in (master, *losers):
        row = rows.get(record_id or "")
        if row is None or record_id is None or record_id[:3] != definition.key_prefix:
            raise _refuse("INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {record_id}")
        if row.get("IsDeleted"):
            raise _refuse("ENTITY_IS_DELETED", "entity is deleted")
    now = format_datetime(org.clock.now())
    loser_rows = [org.dml.row_to_api(definition, rows[item]) for item in losers if item]
    updated: list[str] = []
    touched_campaigns: set[str] = set()
    with org.store.lock, org.store.transaction():
        failures = org.control.run_triggers(
            definition.name, "before", "delete", [], list(loser_rows)
        )
        if failures:
            error = next(iter(failures.values()))
            raise SalesforceApiError(error.error_code, error.message, 400, error.fields)
        for loser in losers:
            assert loser is not None
            updated += _reparent(org, definition.name, master, loser, now, touched_campaigns)
        org.store.conn.executemany(
            f"UPDATE {quote(definition.name)} SET IsDeleted = 1, MasterRecordId = ?, SystemModstamp = ?, "
            "LastModifiedDate = ? WHERE Id = ?",
            [(master, now, now, loser) for loser in losers],
        )
        org.store.conn.executemany(
            "INSERT OR REPLACE INTO _sf_recycle (Id, object, deleted_date, root_id, purged) VALUES (?, ?, ?, ?, 0)",
            [(loser, definition.name, now, loser) for loser in losers],
        )
        for row in loser_rows:
            row.update(IsDeleted=True, MasterRecordId=master)
        failures = org.control.run_triggers(
            definition.name, "after", "delete", [], list(loser_rows)
        )
        if failures:
            error = next(iter(failures.values()))
            raise SalesforceApiError(error.error_code, error.message, 400, error.fields)
        saved = org.dml.update(definition.name, [{"Id": master}], WriteContext(system=True))[0]
        if not saved.success:
            error = saved.errors[0]
            raise SalesforceApiError(error.error_code, error.message, 400, error.fields)
        campaigns.recompute_rollups(org, touched_campaigns)
    return {
        "id": master,
        "mergedRecordIds": [item for item in losers if item],
        "updatedRelatedIds": sorted(set(updated)),
        "success": True,
        "errors": [],
    }


def _reparent(
    org: Org, object_name: str, master: str, loser: str, now: str, campaigns_seen: set[str]
) -> list[str]:
    """Point the loser's children at the master; returns the Ids of changed children."""
    moved: list[str] = []
    for child in org.schema:
        for item in child.iter_fields():
            if (
                not item.is_reference
                or object_name not in item.reference_to
                or item.name == "MasterRecordId"
            ):
                continue
            if item.name in ("CreatedById", "LastModifiedById", "OwnerId", "LeadOrContactId"):
                continue
            table, column = quote(child.name), quote(item.name)
            ids = [
                r["Id"]
                for r in org.store.select(
                    f"SELECT Id FROM {table} WHERE {column} = ? AND +IsDeleted = 0", (loser,)
                )
            ]
            if not ids:
                continue
            if child.name == "CampaignMember":
                ids = _dedupe_members(org, item.name, master, ids, now, campaigns_seen)
            stamp = ", SystemModstamp = ?" if child.field("SystemModstamp") else ""
            params: tuple[Any, ...] = (now,) if stamp else ()
            org.store.conn.executemany(
                f"UPDATE {table} SET {column} = ?{stamp} WHERE Id = ?",
                [(master, *params, row_id) for row_id in ids],
            )
            if child.name == "CampaignMember":
                org.store.conn.executemany(
                    "UPDATE CampaignMember SET LeadOrContactId = ? WHERE Id = ?",
                    [(master, row_id) for row_id in ids],
                )
            moved += ids
    return moved


def _dedupe_members(
    org: Org, column: str, master: str, ids: list[str], now: str, campaigns_seen: set[str]
) -> list[str]:
    """Remove loser memberships in campaigns the master is already in; return the rest."""
    keep: list[str] = []
    quoted = quote(column)
    for row in org.store.get_many("CampaignMember", ids).values():
        campaigns_seen.add(row["CampaignId"])
        clash = org.store.scalar(
            f"SELECT Id FROM CampaignMember WHERE CampaignId = ? AND {quoted} = ? AND +IsDeleted = 0",
            (row["CampaignId"], master),
        )
        if clash:
            org.store.conn.execute(
                "UPDATE CampaignMember SET IsDeleted = 1, SystemModstamp = ? WHERE Id = ?",
                (now, row["Id"]),
            )
            org.store.conn.execute(
                "INSERT OR REPLACE INTO _sf_recycle (Id, object, deleted_date, root_id, purged) VALUES (?, ?, ?, ?, 0)",
                (row["Id"], "CampaignMember", now, row["Id"]),
            )
        else:
            keep.append(row["Id"])
    return keep


def convert_lead(
    org: Org,
    lead_id: str,
    *,
    account_id: str | None = None,
    contact_id: str | None = None,
    status: str = "Closed - Converted",
) -> dict[str, str]:
    """Convert a lead: create (or use) an account and contact, mark the lead converted.

    The lead keeps its Id with ``IsConverted``, ``ConvertedDate`` and the converted Ids;
    its campaign memberships gain the contact and its tasks move to the contact.

    Returns:
        ``{"accountId": …, "contactId": …}``.

    Raises:
        RecordError: If the lead does not exist or is already converted.
    """
    with org.store.lock, org.store.transaction():
        lead = org.get("Lead", lead_id)
        if lead["IsConverted"]:
            raise RecordError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
        account = account_id or org.create(
            "Account", {"Name": lead["Company"], "OwnerId": lead["OwnerId"]}
        )
        contact = contact_id or org.create(
            "Contact",
            {
                "FirstName": lead["FirstName"],
                "LastName": lead["LastName"],
                "Email": lead["Email"],
                "AccountId": account,
                "HasOptedOutOfEmail": lead["HasOptedOutOfEmail"],
            },
        )
        org.update(
            "Lead",
            lead["Id"],
            {
                "Status": status,
                "IsConverted": True,
                "ConvertedDate": org.today().isoformat(),
                "ConvertedAccountId": account,
                "ConvertedContactId": contact,
            },
            system=True,
        )
        org.store.conn.execute(
            "UPDATE CampaignMember SET ContactId = ? WHERE LeadId = ? AND ContactId IS NULL",
            (contact, lead["Id"]),
        )
        org.store.conn.execute("UPDATE Task SET WhoId = ? WHERE WhoId = ?", (contact, lead["Id"]))
    return {"accountId": account, "contactId": contact}
