"""Full sync reset: clear what was loaded from Campaign Monitor before re-importing it.

The first job of a full sync (the product's "Full Campaign Monitor Sync"). It removes
list memberships (the subscription cleanup), email tracking history and suppressions,
then forgets every bookmark and the shadow index, so the jobs that follow re-import
everything and rewrite clients, lists, campaigns and smart emails in place (same records,
so user configuration that points at them — rules, field mappings, manual campaign links —
survives). Contacts, Leads and Campaigns are never touched.
"""

from __future__ import annotations

from collections.abc import Iterable

from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.purge import delete_where

__all__ = ["FullSyncResetJob"]

CLEARED = ("CMSF_List_Member__c", "CMSF_Email_Activity__c", "CMSF_Suppression__c")


@register
class FullSyncResetJob(Job):
    """Clear synced records, bookmarks and the shadow before a full re-import."""

    name = "full_sync_reset"
    title = "Full sync: clear synced data"
    limit = "subscription_cleanup"
    follows = ("configuration",)

    def start(self) -> Iterable[Scope]:
        return [*({"key": f"clear:{o}", "object": o} for o in CLEARED), {"key": "forget"}]

    def execute(self, scope: Scope) -> None:
        if scope["key"] == "forget":
            self.ctx.shadow.clear()
            self.ctx.journal.clear_bookmarks()
            self.ctx.directory.refresh()
            return
        delete_where(self.ctx, str(scope["object"]), "", job=self.name)
