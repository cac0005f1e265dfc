"""Clean-up jobs at the end of the primary sync: tracking history and queue items.

- ``tracking_cleanup`` keeps the email tracking history within its settings: events older
  than the retention window go, and so does the history of campaigns sent before it (they
  are no longer read, so it could only be partial); every event goes when retention is 0,
  and events of types no longer kept go (their bookmarks too, so turning a type back on
  fetches it again).
- ``queue_cleanup`` removes queue items older than ``queue_retention_days`` (default 2);
  items removed before they were processed are counted in a maintenance message. A smart
  email item left ``Sending`` (its send in doubt) stays until the sends settle it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.purge import delete_where
from cmsf_core.jobs.tracking_history import watch_horizon
from cmsf_core.jobs.writer import delete_records
from cmsf_core.settings import ACTIVITY_TYPES

__all__ = ["QueueCleanupJob", "TrackingCleanupJob"]

ACTIVITY = "CMSF_Email_Activity__c"
QUEUE_ITEM = "CMSF_Queue_Item__c"


def _soql_datetime(value: object) -> str:
    return value.isoformat().replace("+00:00", "Z") if hasattr(value, "isoformat") else str(value)


@register
class TrackingCleanupJob(Job):
    """Delete tracking history outside the retention window or of excluded types."""

    name = "tracking_cleanup"
    title = "Tracking history clean-up"
    limit = "tracking_cleanup"
    follows = ("queue_cleanup",)

    def start(self) -> Iterable[Scope]:
        return [{"key": "retention"}, {"key": "types"}]

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        settings = ctx.settings
        if scope["key"] == "retention":
            if settings.tracking_retention_days == 0:
                delete_where(ctx, ACTIVITY, "", job=self.name)
                ctx.journal.clear_bookmarks("tracking_history")
                return
            horizon = _soql_datetime(
                ctx.clock.now() - timedelta(days=settings.tracking_retention_days)
            )
            delete_where(ctx, ACTIVITY, f"Activity_Date__c < {horizon}", job=self.name)
            # Campaigns sent before the window are no longer read (tracking_history only
            # reads campaigns sent inside it), so what is left of their history would stay
            # partial, missing every later event: remove it with them.
            watched = _soql_datetime(watch_horizon(ctx.clock.now(), settings))
            delete_where(ctx, ACTIVITY, f"Campaign__r.Sent_Date__c < {watched}", job=self.name)
            return
        excluded = [t for t in ACTIVITY_TYPES if t not in settings.tracking_activity_types]
        if not excluded:
            return
        listed = ",".join(f"'{t}'" for t in excluded)
        delete_where(ctx, ACTIVITY, f"Activity_Type__c IN ({listed})", job=self.name)
        for key in ctx.journal.bookmarks("tracking_history"):
            if key.rsplit(":", 1)[-1] in excluded:
                ctx.journal.clear_bookmarks("tracking_history", key)


@register
class QueueCleanupJob(Job):
    """Delete queue items older than the queue retention."""

    name = "queue_cleanup"
    title = "Queue item clean-up"
    limit = "queue_cleanup"
    follows = ()

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        days = ctx.settings.queue_retention_days
        horizon = ctx.clock.now() - timedelta(days=days)
        soql = (
            f"SELECT Id, Status__c, Type__c FROM {QUEUE_ITEM} "
            f"WHERE CreatedDate < {_soql_datetime(horizon)} AND Status__c != 'Sending'"
        )
        unsent = 0
        for page in ctx.sf.query_pages(soql):
            unsent += sum(1 for r in page if r.get("Status__c") in ("Pending", "Processing", None))
            delete_records(ctx, QUEUE_ITEM, [(row["Id"], row["Id"]) for row in page], job=self.name)
        if unsent:
            ctx.log.raise_message(
                "Warning",
                self.name,
                "CMSF-QUEUE-EXPIRED",
                f"{unsent} queue item(s) older than {days} day(s) were removed unprocessed",
                "They waited longer than queue_retention_days (triggers disabled, or the push "
                "failing for that long). The changes they stood for were not sent.",
            )
