"""Removing synced data: a deleted list, a deselected client, or everything for a full sync.

Only the project's own objects are ever deleted here, and only records synced from
Campaign Monitor: never Contacts, Leads or Campaigns, and never what users configured
(subscriber rules, field mappings, smart email mappings, settings, audit log).
Deletions stream page by page so memory stays flat however much is removed, and the
shadow index and bookmarks are forgotten with them so the next run re-imports cleanly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmsf_core.jobs.writer import delete_records

if TYPE_CHECKING:
    from cmsf_core.jobs.context import ClientInfo, JobContext

__all__ = ["delete_where", "purge_client_data", "purge_list"]

MEMBER = "CMSF_List_Member__c"
ACTIVITY = "CMSF_Email_Activity__c"


def delete_where(ctx: JobContext, sobject: str, where: str, *, job: str) -> int:
    """Delete every ``sobject`` record matching the SOQL condition ``where``.

    Returns:
        How many records were removed.
    """
    total = 0
    soql = f"SELECT Id, CM_Id__c FROM {sobject}" + (f" WHERE {where}" if where else "")
    for page in ctx.sf.query_pages(soql):
        rows = [(row.get("CM_Id__c") or row["Id"], row["Id"]) for row in page]
        total += delete_records(ctx, sobject, rows, job=job)
    return total


def purge_list(ctx: JobContext, list_cm_id: str, list_sf_id: str, *, job: str) -> None:
    """Remove a list, its memberships and every bookmark about it."""
    delete_where(ctx, MEMBER, f"List__c = '{list_sf_id}'", job=job)
    ctx.shadow.forget_prefix(MEMBER, f"{list_cm_id}:")
    ctx.journal.clear_bookmarks("subscribers", f"{list_cm_id}:")
    delete_records(ctx, "CMSF_List__c", [(list_cm_id, list_sf_id)], job=job)


def purge_client_data(ctx: JobContext, client: ClientInfo, *, job: str) -> None:
    """Remove everything synced for a client that is no longer selected.

    The client record itself stays (deselected), so the client can be selected again.
    """
    for row in list(
        ctx.sf.query(f"SELECT Id, CM_Id__c FROM CMSF_List__c WHERE Client__c = '{client.sf_id}'")
    ):
        purge_list(ctx, row["CM_Id__c"], row["Id"], job=job)
    for row in list(
        ctx.sf.query(
            f"SELECT Id, CM_Id__c FROM CMSF_Campaign__c WHERE Client__c = '{client.sf_id}'"
        )
    ):
        delete_where(ctx, ACTIVITY, f"Campaign__c = '{row['Id']}'", job=job)
        ctx.shadow.forget_prefix(ACTIVITY, f"{row['CM_Id__c']}:")
        ctx.journal.clear_bookmarks("tracking_history", f"{row['CM_Id__c']}:")
        delete_records(ctx, "CMSF_Campaign__c", [(row["CM_Id__c"], row["Id"])], job=job)
    for row in list(
        ctx.sf.query(
            f"SELECT Id, CM_Id__c FROM CMSF_Smart_Email__c WHERE Client__c = '{client.sf_id}'"
        )
    ):
        delete_where(
            ctx, "CMSF_Smart_Email_Variable__c", f"Smart_Email__c = '{row['Id']}'", job=job
        )
        delete_records(ctx, "CMSF_Smart_Email__c", [(row["CM_Id__c"], row["Id"])], job=job)
    delete_where(ctx, "CMSF_Suppression__c", f"Client__c = '{client.sf_id}'", job=job)
    delete_where(ctx, "CMSF_CM_User__c", f"Client__c = '{client.sf_id}'", job=job)
