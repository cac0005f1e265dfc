"""List statistics: each list's Campaign Monitor counters onto its Salesforce list record."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cmsf_core.errors import NotFoundError
from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.writer import Desired, update_changed

__all__ = ["ListStatsJob"]

STAT_FIELDS: dict[str, str] = {
    "TotalActiveSubscribers": "Total_Active__c",
    "NewActiveSubscribersToday": "New_Active_Today__c",
    "NewActiveSubscribersThisWeek": "New_Active_This_Week__c",
    "NewActiveSubscribersThisMonth": "New_Active_This_Month__c",
    "TotalUnsubscribes": "Total_Unsubscribed__c",
    "UnsubscribesThisMonth": "Unsubscribed_This_Month__c",
    "TotalDeleted": "Total_Deleted__c",
    "TotalBounces": "Total_Bounced__c",
    "BouncesThisMonth": "Bounced_This_Month__c",
}
"""Campaign Monitor list counter -> ``CMSF_List__c`` field."""


@register
class ListStatsJob(Job):
    """Copy list statistics (active, new, unsubscribed, deleted, bounced)."""

    name = "list_stats"
    title = "List statistics"
    limit = "list_stats"
    follows = ("campaigns",)

    def start(self) -> Iterable[Scope]:
        lists = self.ctx.directory.lists()
        size = self.batch_size
        return [
            {"key": f"batch:{i // size}", "lists": [entry.cm_id for entry in lists[i : i + size]]}
            for i in range(0, len(lists), size)
        ]

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        desired = []
        for list_id in scope["lists"]:
            lst = ctx.directory.list_by_id(list_id)
            if lst is None:
                continue
            try:
                stats = ctx.cm.list_stats(list_id)
            except NotFoundError:
                continue
            source = {field: int(stats.get(cm_name) or 0) for cm_name, field in STAT_FIELDS.items()}
            record: dict[str, Any] = {"Id": lst.sf_id, **source}
            desired.append(Desired(key=f"{list_id}:{lst.sf_id}", source=source, record=record))
        update_changed(
            ctx, self.name, "CMSF_List__c", desired, aspect="stats", stamp_field="Stats_Updated__c"
        )
