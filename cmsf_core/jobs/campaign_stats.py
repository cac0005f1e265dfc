"""Campaign statistics: each campaign's counters onto its records in Salesforce.

Statistics keep changing for a while after a campaign is sent; the job refreshes
campaigns sent within ``campaign_stats_days`` (an internal governor limit, default 90)
and any campaign that never had statistics. Counters go onto ``CMSF_Campaign__c`` and,
with "update the linked Salesforce campaign" on, onto the linked Campaign's Campaign
Monitor fields. The summaries are kept for the tracking history job, which uses them to
skip activity reads whose counters did not move.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from cmsf_core.errors import NotFoundError
from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.counters import SUMMARY_FIELDS
from cmsf_core.jobs.writer import Desired, update_changed

__all__ = ["CampaignStatsJob", "summaries"]

LINKED_FIELDS: dict[str, str] = {
    "Recipients": "CMSF_Num_Recipients__c",
    "TotalOpened": "CMSF_Num_Opens__c",
    "UniqueOpened": "CMSF_Num_Unique_Opens__c",
    "Clicks": "CMSF_Num_Clicks__c",
    "Unsubscribed": "CMSF_Num_Unsubscribed__c",
    "Bounced": "CMSF_Num_Bounced__c",
    "SpamComplaints": "CMSF_Num_Spam_Complaints__c",
    "Forwards": "CMSF_Num_Forwards__c",
    "Likes": "CMSF_Num_Likes__c",
    "Mentions": "CMSF_Num_Mentions__c",
}
"""Campaign summary counter -> Campaign Monitor field on the linked Salesforce Campaign."""


def summaries(ctx: Any) -> dict[str, dict[str, Any]]:
    """This run's campaign summaries by campaign id (shared with tracking history)."""
    store: dict[str, dict[str, Any]] = ctx.extras.setdefault("campaign_summaries", {})
    return store


@register
class CampaignStatsJob(Job):
    """Refresh campaign statistics and the linked Salesforce Campaigns."""

    name = "campaign_stats"
    title = "Campaign statistics"
    limit = "campaign_stats"
    follows = ("tracking_history",)

    def start(self) -> Iterable[Scope]:
        ctx = self.ctx
        window = ctx.clock.now() - timedelta(days=ctx.settings.limit("campaign_stats_days"))
        never = {
            c.cm_id
            for c in ctx.directory.campaigns()
            if ctx.shadow.sf_id("CMSF_Campaign__c#stats", f"{c.cm_id}:{c.sf_id}") is None
        }
        due = [
            c.cm_id
            for c in ctx.directory.campaigns()
            if c.cm_id in never or (c.sent_date is not None and c.sent_date >= window)
        ]
        size = self.batch_size
        return [
            {"key": f"batch:{i // size}", "campaigns": due[i : i + size]}
            for i in range(0, len(due), size)
        ]

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        own, linked = [], []
        for cid in scope["campaigns"]:
            campaign = ctx.directory.campaign_by_id(cid)
            if campaign is None:
                continue
            try:
                summary = ctx.cm.campaign_summary(cid)
            except NotFoundError:
                continue
            summaries(ctx)[cid] = summary
            counts = {cm: int(summary.get(cm) or 0) for cm in SUMMARY_FIELDS}
            source: dict[str, Any] = {**counts, "Worldview": summary.get("WorldviewURL")}
            own.append(
                Desired(
                    key=f"{cid}:{campaign.sf_id}",
                    source=source,
                    record={
                        "Id": campaign.sf_id,
                        **{SUMMARY_FIELDS[k]: v for k, v in counts.items()},
                        "Worldview_Url__c": summary.get("WorldviewURL") or None,
                    },
                )
            )
            if ctx.settings.update_linked_campaigns and campaign.salesforce_campaign_id:
                linked.append(
                    Desired(
                        key=f"{cid}:{campaign.salesforce_campaign_id}",
                        source={**source, "Web": summary.get("WebVersionURL")},
                        record={
                            "Id": campaign.salesforce_campaign_id,
                            **{LINKED_FIELDS[k]: v for k, v in counts.items()},
                            "NumberSent": counts["Recipients"],
                            "CMSF_Web_Version__c": summary.get("WebVersionURL") or None,
                            "CMSF_Text_Version__c": summary.get("WebVersionTextURL") or None,
                            "CMSF_Worldview__c": summary.get("WorldviewURL") or None,
                            "CMSF_Campaign_Monitor_Id__c": cid,
                        },
                    )
                )
        update_changed(
            ctx, self.name, "CMSF_Campaign__c", own, aspect="stats", stamp_field="Stats_Updated__c"
        )
        if linked:
            ctx.sf.access.guard(
                "Campaign",
                "statistics on linked Salesforce Campaigns",
                lambda: update_changed(ctx, self.name, "Campaign", linked, aspect="cmstats"),
                0,
            )
