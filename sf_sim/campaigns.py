"""Campaign rules the platform applies inside DML, and that the sync engine relies on.

- A new Campaign gets two member statuses: ``Sent`` (the default) and ``Responded``
  (``HasResponded``).
- A CampaignMember's ``Status`` must be one of its campaign's statuses (default when
  omitted); ``HasResponded`` follows the status and ``FirstRespondedDate`` is set the
  first time it does; one member per person per campaign ("Already a campaign
  member."); given both ``LeadId`` and ``ContactId`` only ``ContactId`` is kept; the
  member copies the person's name, e-mail and company.
- Status labels are unique per campaign; one status is the default; the default and
  statuses in use cannot be deleted.
- Campaign roll-ups (``NumberOfContacts``, ``NumberOfLeads``, ``NumberOfResponses``,
  ``NumberOfConvertedLeads``) are recomputed after every change to members.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sf_sim.exceptions import RecordError
from sf_sim.schema import ObjectDef
from sf_sim.store import quote
from sf_sim.writes import WriteContext

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["after_delete", "after_save", "before_delete", "before_save", "recompute_rollups"]

DEFAULT_STATUSES = (("Sent", True, False, 1), ("Responded", False, True, 2))
"""(Label, IsDefault, HasResponded, SortOrder) of the statuses a new campaign starts with."""


def _statuses(org: Org, campaign_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {cid: [] for cid in campaign_ids}
    ids = sorted(campaign_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in org.store.select(
            f"SELECT Id, CampaignId, Label, IsDefault, HasResponded, SortOrder FROM CampaignMemberStatus "
            f"WHERE +IsDeleted = 0 AND CampaignId IN ({marks}) ORDER BY SortOrder, Id",
            chunk,
        ):
            found.setdefault(row["CampaignId"], []).append(row)
    return found


def before_save(
    org: Org, definition: ObjectDef, new: dict[int, dict[str, Any]], old: dict[int, dict[str, Any]]
) -> dict[int, RecordError]:
    """Apply campaign rules to records about to be saved; return failures by position."""
    if definition.name == "CampaignMember":
        return _members(org, new, old)
    if definition.name == "CampaignMemberStatus":
        return _status_rows(org, new, old)
    return {}


_PEOPLE = (
    ("Contact", "ContactId", ("FirstName", "LastName", "Email", "AccountId")),
    ("Lead", "LeadId", ("FirstName", "LastName", "Email", "Company")),
)
"""Where a member's person is, and what :func:`_copy_person` copies from it."""


def _members(
    org: Org, new: dict[int, dict[str, Any]], old: dict[int, dict[str, Any]]
) -> dict[int, RecordError]:
    errors: dict[int, RecordError] = {}
    statuses = _statuses(org, {row["CampaignId"] for row in new.values() if row.get("CampaignId")})
    today = org.today().isoformat()
    people: dict[str, dict[str, Any]] = {}
    for table, column, copied in _PEOPLE:
        ids = [row[column] for row in new.values() if row.get(column)]
        for key, row in org.store.get_many(table, ids, copied).items():
            people[key] = row
    accounts = org.store.get_many(
        "Account", [p["AccountId"] for p in people.values() if p.get("AccountId")], ("Name",)
    )
    seen: set[tuple[str, str]] = set()
    inserts = {p: row for p, row in new.items() if p not in old}
    existing = _existing_members(org, inserts)
    for position, row in new.items():
        previous = old.get(position)
        if previous is None:
            if row.get("ContactId") and row.get("LeadId"):
                row["LeadId"] = None
            person = row.get("ContactId") or row.get("LeadId")
            if not person:
                errors[position] = RecordError(
                    "REQUIRED_FIELD_MISSING",
                    "Required fields are missing: [ContactId, LeadId]",
                    fields=["ContactId", "LeadId"],
                )
                continue
            pair = (str(row["CampaignId"]), str(person))
            if pair in seen or pair in existing:
                errors[position] = RecordError("DUPLICATE_VALUE", "Already a campaign member.")
                continue
            seen.add(pair)
            _copy_person(row, people.get(person, {}), accounts)
        choices = statuses.get(row["CampaignId"], [])
        status = row.get("Status")
        if status is None:
            chosen = next((s for s in choices if s["IsDefault"]), choices[0] if choices else None)
        else:
            chosen = next((s for s in choices if s["Label"].lower() == str(status).lower()), None)
        if chosen is None:
            errors[position] = RecordError(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Status: bad value for restricted picklist field: {status}",
                fields=["Status"],
            )
            continue
        row["Status"] = chosen["Label"]
        row["HasResponded"] = bool(chosen["HasResponded"])
        if row["HasResponded"] and not row.get("FirstRespondedDate"):
            row["FirstRespondedDate"] = today
    return errors


def _existing_members(org: Org, inserts: dict[int, dict[str, Any]]) -> set[tuple[str, str]]:
    """The ``(CampaignId, person)`` pairs of ``inserts`` that are members already.

    Only the people being inserted are looked up (by the Contact and Lead indexes), not
    every member of their campaigns: a chunk's cost does not grow with the campaign.
    """
    wanted = {
        (str(row["CampaignId"]), str(person))
        for row in inserts.values()
        if row.get("CampaignId")
        for person in (row.get("ContactId"), row.get("LeadId"))
        if person
    }
    people = sorted({person for _, person in wanted})
    found: set[tuple[str, str]] = set()
    for start in range(0, len(people), 400):
        chunk = people[start : start + 400]
        marks = ", ".join("?" for _ in chunk)
        for row in org.store.select(
            "SELECT CampaignId, ContactId, LeadId FROM CampaignMember WHERE +IsDeleted = 0 "
            f"AND (ContactId IN ({marks}) OR LeadId IN ({marks}))",
            [*chunk, *chunk],
        ):
            for person in (row["ContactId"], row["LeadId"]):
                if person and (row["CampaignId"], person) in wanted:
                    found.add((row["CampaignId"], person))
    return found


def _copy_person(
    row: dict[str, Any], person: dict[str, Any], accounts: dict[str, dict[str, Any]]
) -> None:
    is_contact = bool(row.get("ContactId"))
    row["Type"] = "Contact" if is_contact else "Lead"
    row["LeadOrContactId"] = row.get("ContactId") or row.get("LeadId")
    for name in ("FirstName", "LastName", "Email"):
        row[name] = person.get(name)
    row["Name"] = (
        " ".join(str(part) for part in (person.get("FirstName"), person.get("LastName")) if part)
        or None
    )
    if is_contact:
        account = accounts.get(person.get("AccountId") or "")
        row["CompanyOrAccount"] = account.get("Name") if account else None
    else:
        row["CompanyOrAccount"] = person.get("Company")


def _status_rows(
    org: Org, new: dict[int, dict[str, Any]], old: dict[int, dict[str, Any]]
) -> dict[int, RecordError]:
    errors: dict[int, RecordError] = {}
    statuses = _statuses(org, {row["CampaignId"] for row in new.values() if row.get("CampaignId")})
    seen: dict[tuple[str, str], str] = {}
    for position, row in new.items():
        campaign = row["CampaignId"]
        label = str(row.get("Label") or "")
        key = (campaign, label.lower())
        clash = next(
            (
                s["Id"]
                for s in statuses.get(campaign, [])
                if s["Label"].lower() == label.lower() and s["Id"] != row["Id"]
            ),
            seen.get(key),
        )
        if clash is not None:
            errors[position] = RecordError(
                "DUPLICATE_VALUE",
                f"duplicate value found: Label duplicates value on record with id: {clash}",
                fields=["Label"],
            )
            continue
        seen[key] = row["Id"]
        if row.get("SortOrder") is None:
            orders = [s["SortOrder"] or 0 for s in statuses.get(campaign, [])]
            row["SortOrder"] = (
                max(orders, default=0) + 1 + len([k for k in seen if k[0] == campaign]) - 1
            )
        previous = old.get(position)
        if previous is not None and previous.get("IsDefault") and not row.get("IsDefault"):
            others = [
                s for s in statuses.get(campaign, []) if s["Id"] != row["Id"] and s["IsDefault"]
            ]
            if not others:
                errors[position] = RecordError(
                    "FIELD_INTEGRITY_EXCEPTION",
                    "A campaign must have one default member status.",
                    fields=["IsDefault"],
                )
    return errors


def after_save(
    org: Org, definition: ObjectDef, new: list[dict[str, Any]], old: list[dict[str, Any]]
) -> None:
    """Follow-up writes after a save: default statuses, single default, roll-ups."""
    if definition.name == "Campaign":
        old_ids = {row["Id"] for row in old}
        created = [row["Id"] for row in new if row["Id"] not in old_ids]
        if created:
            rows = [
                {
                    "CampaignId": cid,
                    "Label": label,
                    "IsDefault": default,
                    "HasResponded": responded,
                    "SortOrder": order,
                }
                for cid in created
                for label, default, responded, order in DEFAULT_STATUSES
            ]
            org.dml.insert("CampaignMemberStatus", rows, WriteContext(system=True, triggers=False))
    elif definition.name == "CampaignMember":
        recompute_rollups(org, {row["CampaignId"] for row in new})
    elif definition.name == "CampaignMemberStatus":
        previous = {row["Id"]: row for row in old}
        for row in new:
            if row.get("IsDefault"):
                org.store.conn.execute(
                    "UPDATE CampaignMemberStatus SET IsDefault = 0 WHERE CampaignId = ? AND Id != ?",
                    (row["CampaignId"], row["Id"]),
                )
            before = previous.get(row["Id"])
            if before is not None and (
                bool(before.get("HasResponded")) != bool(row.get("HasResponded"))
                or before.get("Label") != row.get("Label")
            ):
                org.store.conn.execute(
                    "UPDATE CampaignMember SET HasResponded = ?, Status = ? WHERE CampaignId = ? AND Status = ? AND +IsDeleted = 0",
                    (
                        1 if row.get("HasResponded") else 0,
                        row["Label"],
                        row["CampaignId"],
                        before.get("Label"),
                    ),
                )
        recompute_rollups(org, {row["CampaignId"] for row in new})


def before_delete(
    org: Org, definition: ObjectDef, rows: dict[int, dict[str, Any]]
) -> dict[int, RecordError]:
    """Refuse to delete a campaign's default status or a status members still hold."""
    errors: dict[int, RecordError] = {}
    if definition.name != "CampaignMemberStatus":
        return errors
    for position, row in rows.items():
        if row.get("IsDefault"):
            errors[position] = RecordError(
                "FIELD_INTEGRITY_EXCEPTION", "You can't delete the default member status."
            )
            continue
        used = org.store.scalar(
            "SELECT COUNT(*) FROM CampaignMember WHERE CampaignId = ? AND Status = ? AND +IsDeleted = 0",
            (row["CampaignId"], row["Label"]),
        )
        if used:
            errors[position] = RecordError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"The member status {row['Label']} is in use by campaign members.",
            )
    return errors


def after_delete(org: Org, definition: ObjectDef, rows: list[dict[str, Any]]) -> None:
    """Recompute roll-ups after members (or their people) leave the recycle bin or enter it."""
    if definition.name in ("CampaignMember", "CampaignMemberStatus"):
        recompute_rollups(org, {row["CampaignId"] for row in rows if row.get("CampaignId")})


def recompute_rollups(org: Org, campaign_ids: set[str]) -> None:
    """Recount members, leads, contacts and responses of the given campaigns.

    One pass over each campaign's members counts all four figures (not one pass each).
    Inside a Bulk API batch (:meth:`sf_sim.store.Store.grouped`) the recount runs once, when
    the batch ends, not after each of its 200-record chunks: a chunk costs a pass over its
    whole campaign, so 50,000 members in chunks of 200 made 250 passes of a growing
    campaign. The stored figures are the same when the batch commits; only an Apex trigger
    of a later chunk of the same batch would read the counts as they were at its start.
    """
    if not org.store.defer("campaign_rollups", campaign_ids, lambda ids: _recount(org, ids)):
        _recount(org, campaign_ids)


def _recount(org: Org, campaign_ids: set[str]) -> None:
    ids = sorted(i for i in campaign_ids if i)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        counts = {
            row[0]: row[1:]
            for row in org.store.conn.execute(
                "SELECT m.CampaignId, "
                "COALESCE(SUM(m.ContactId IS NOT NULL), 0), "
                "COALESCE(SUM(m.LeadId IS NOT NULL AND m.ContactId IS NULL), 0), "
                "COALESCE(SUM(m.HasResponded = 1), 0), "
                "COALESCE(SUM(m.LeadId IN (SELECT Id FROM Lead WHERE IsConverted = 1)), 0) "
                f"FROM CampaignMember m WHERE m.CampaignId IN ({marks}) AND +m.IsDeleted = 0 "
                "GROUP BY m.CampaignId",
                chunk,
            )
        }
        org.store.conn.executemany(
            f"UPDATE {quote('Campaign')} SET NumberOfContacts = ?, NumberOfLeads = ?, "
            "NumberOfResponses = ?, NumberOfConvertedLeads = ? WHERE Id = ?",
            [(*counts.get(cid, (0, 0, 0, 0)), cid) for cid in chunk],
        )
