"""Campaigns: sent Campaign Monitor campaigns into Salesforce, optionally as Campaigns too.

For each selected client the job reads the sent campaigns (hidden campaigns are never
returned by Campaign Monitor), applies the campaign filters of the settings (sent on or
after a start date; carrying one of the chosen tags), and upserts one
``CMSF_Campaign__c`` per campaign. Campaigns that are no longer returned — hidden since,
or outside a changed filter — are removed with their tracking history, so Salesforce shows
what the filtered account shows. With "auto-create Salesforce Campaigns" on, each synced
campaign also gets a standard Campaign, linked both ways; a Campaign a user linked by hand
is kept as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from cmsf_core.cm_time import parse_local
from cmsf_core.errors import NotFoundError
from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.context import CampaignInfo, ClientInfo
from cmsf_core.jobs.purge import delete_where
from cmsf_core.jobs.writer import Desired, delete_records, report_failures, write_changed
from cmsf_core.matching import soql_quote

__all__ = ["CampaignsJob", "campaign_selected"]

CAMPAIGN = "CMSF_Campaign__c"
ACTIVITY = "CMSF_Email_Activity__c"


def campaign_selected(
    row: Mapping[str, Any], client: ClientInfo, start: date | None, tags: tuple[str, ...]
) -> bool:
    """Whether a sent campaign passes the settings' start-date and tag filters."""
    if start is not None and row.get("SentDate"):
        sent = parse_local(str(row["SentDate"]), client.zone).astimezone(client.zone).date()
        if sent < start:
            return False
    if tags:
        wanted = {t.lower() for t in tags}
        if not wanted & {str(t).lower() for t in row.get("Tags") or []}:
            return False
    return True


@register
class CampaignsJob(Job):
    """Copy sent campaigns (filtered) and auto-create linked Salesforce Campaigns."""

    name = "campaigns"
    title = "Campaigns"
    limit = "campaigns"
    follows = ("campaign_stats",)
    _written = 0

    def start(self) -> Iterable[Scope]:
        return [
            {"key": f"client:{c.cm_id}", "client": c.cm_id} for c in self.ctx.directory.clients()
        ]

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        client = ctx.directory.client_by_id(str(scope["client"]))
        if client is None:
            return
        settings = ctx.settings
        seen: set[str] = set()
        self._written = 0
        try:
            pages = ctx.cm.campaign_pages(
                client.cm_id, sent_from=settings.campaign_start_date, tags=settings.campaign_tags
            )
            for page in pages:
                ctx.stats.read["CM campaigns"] += len(page.results)
                rows = [
                    row
                    for row in page.results
                    if campaign_selected(
                        row, client, settings.campaign_start_date, settings.campaign_tags
                    )
                ]
                seen.update(str(row["CampaignID"]) for row in rows)
                self._write(client, rows)
        except NotFoundError:
            return
        if self._remove_unseen(client, seen) or self._written:
            ctx.directory.refresh(clients=False, lists=False)
        ctx.sf.access.guard(
            "Campaign",
            "linking synced campaigns to Salesforce Campaigns",
            lambda: self._link(client),
            None,
        )

    def _write(self, client: ClientInfo, rows: list[dict[str, Any]]) -> None:
        desired = []
        for row in rows:
            tags = sorted(str(t) for t in row.get("Tags") or [])
            source: dict[str, Any] = {
                "Name": row.get("Name"),
                "Subject": row.get("Subject"),
                "FromName": row.get("FromName"),
                "FromEmail": row.get("FromEmail"),
                "ReplyTo": row.get("ReplyTo"),
                "SentDate": row.get("SentDate"),
                "Tags": tags,
                "Web": row.get("WebVersionURL"),
                "WebText": row.get("WebVersionTextURL"),
                "Client": client.sf_id,
            }
            record: dict[str, Any] = {
                "CM_Id__c": row["CampaignID"],
                "Name": str(row.get("Name") or row["CampaignID"])[:80],
                "Client__c": client.sf_id,
                "Subject__c": (row.get("Subject") or "")[:255] or None,
                "From_Name__c": (row.get("FromName") or "")[:255] or None,
                "From_Email__c": row.get("FromEmail") or None,
                "Reply_To__c": row.get("ReplyTo") or None,
                "Sent_Date__c": parse_local(str(row["SentDate"]), client.zone).isoformat()
                if row.get("SentDate")
                else None,
                "Tags__c": ", ".join(tags)[:255] or None,
                "Web_Version_Url__c": row.get("WebVersionURL") or None,
                "Web_Version_Text_Url__c": row.get("WebVersionTextURL") or None,
            }
            if client.owner_id:
                record["OwnerId"] = client.owner_id
            desired.append(Desired(key=str(row["CampaignID"]), source=source, record=record))
        self._written += write_changed(self.ctx, self.name, CAMPAIGN, desired).written

    def _remove_unseen(self, client: ClientInfo, seen: set[str]) -> int:
        """Remove campaigns Campaign Monitor no longer returns; return how many."""
        ctx = self.ctx
        gone = [
            c
            for c in ctx.directory.campaigns()
            if c.client.cm_id == client.cm_id and c.cm_id not in seen
        ]
        for campaign in gone:
            delete_where(ctx, ACTIVITY, f"Campaign__c = '{campaign.sf_id}'", job=self.name)
            ctx.shadow.forget_prefix(ACTIVITY, f"{campaign.cm_id}:")
            ctx.journal.clear_bookmarks("tracking_history", f"{campaign.cm_id}:")
            ctx.journal.clear_bookmarks("campaign_members", campaign.cm_id)
            delete_records(ctx, CAMPAIGN, [(campaign.cm_id, campaign.sf_id)], job=self.name)
        return len(gone)

    def _link(self, client: ClientInfo) -> None:
        """Keep synced campaigns and Salesforce Campaigns linked both ways.

        A campaign whose record was re-created (its client deselected and selected again,
        a full sync) finds its Salesforce Campaign again by ``CMSF_Campaign_Monitor_Id__c``,
        which every link stamps; a Campaign whose back link was cleared (its campaign record
        deleted: the lookup is ``SetNull``) gets it back. With auto-create on, campaigns
        without one get a new Salesforce Campaign.
        """
        ctx = self.ctx
        mine = [c for c in ctx.directory.campaigns() if c.client.cm_id == client.cm_id]
        fixes: list[dict[str, Any]] = []
        linked = [c for c in mine if c.salesforce_campaign_id]
        for start in range(0, len(linked), 100):
            chunk = linked[start : start + 100]
            listed = ",".join(soql_quote(str(c.salesforce_campaign_id)) for c in chunk)
            current = {
                row["Id"]: row
                for row in ctx.sf.query(
                    "SELECT Id, CMSF_Campaign__c, CMSF_Campaign_Monitor_Id__c FROM Campaign "
                    f"WHERE Id IN ({listed})"
                )
            }
            for c in chunk:
                row = current.get(str(c.salesforce_campaign_id))
                if row is not None and (
                    row.get("CMSF_Campaign__c") != c.sf_id
                    or row.get("CMSF_Campaign_Monitor_Id__c") != c.cm_id
                ):
                    fixes.append(_back_link(str(c.salesforce_campaign_id), c))
        unlinked = [c for c in mine if not c.salesforce_campaign_id]
        links: list[dict[str, Any]] = []
        for start in range(0, len(unlinked), 100):
            chunk = unlinked[start : start + 100]
            listed = ",".join(soql_quote(c.cm_id) for c in chunk)
            existing = {
                str(row["CMSF_Campaign_Monitor_Id__c"]): row
                for row in ctx.sf.query(
                    "SELECT Id, CMSF_Campaign__c, CMSF_Campaign_Monitor_Id__c FROM Campaign "
                    f"WHERE CMSF_Campaign_Monitor_Id__c IN ({listed})"
                )
            }
            for c in chunk:
                row = existing.get(c.cm_id)
                if row is not None and row.get("CMSF_Campaign__c") != c.sf_id:
                    fixes.append(_back_link(row["Id"], c))
            created: dict[str, str] = {}
            if ctx.settings.auto_create_campaigns:
                created = self._create_campaigns(
                    client, [c for c in chunk if c.cm_id not in existing]
                )
            links.extend(
                {"Id": c.sf_id, "Salesforce_Campaign__c": existing[c.cm_id]["Id"]}
                for c in chunk
                if c.cm_id in existing
            )
            links.extend(
                {"Id": c.sf_id, "Salesforce_Campaign__c": created[c.cm_id]}
                for c in chunk
                if c.cm_id in created
            )
        for sobject, records in (("Campaign", fixes), (CAMPAIGN, links)):
            if records:
                result = ctx.sf.update(sobject, records)
                ctx.stats.wrote(sobject, result.ids)
                if result.failures:
                    report_failures(ctx, self.name, sobject, result.failures)
        if links:
            ctx.directory.refresh(clients=False, lists=False)

    def _create_campaigns(
        self, client: ClientInfo, campaigns: list[CampaignInfo]
    ) -> dict[str, str]:
        """Create a Salesforce Campaign for each campaign; return their Ids by campaign id."""
        ctx = self.ctx
        records = []
        for campaign in campaigns:
            record: dict[str, Any] = {
                "Name": campaign.name[:80] or campaign.cm_id,
                "Type": "Email",
                "Status": "Completed",
                "IsActive": True,
                "CMSF_Campaign_Monitor_Id__c": campaign.cm_id,
                "CMSF_Campaign__c": campaign.sf_id,
            }
            if campaign.sent_date is not None:
                record["StartDate"] = campaign.sent_date.astimezone(client.zone).date().isoformat()
            if client.owner_id:
                record["OwnerId"] = client.owner_id
            records.append(record)
        if not records:
            return {}
        result = ctx.sf.create("Campaign", records)
        ctx.stats.wrote("Campaign", result.ids)
        if result.failures:
            report_failures(ctx, self.name, "Campaign", result.failures)
        return {c.cm_id: sf_id for c, sf_id in zip(campaigns, result.ids, strict=True) if sf_id}


def _back_link(campaign_id: str, campaign: CampaignInfo) -> dict[str, Any]:
    """The fields that link a Salesforce Campaign back to its synced campaign."""
    return {
        "Id": campaign_id,
        "CMSF_Campaign__c": campaign.sf_id,
        "CMSF_Campaign_Monitor_Id__c": campaign.cm_id,
    }
