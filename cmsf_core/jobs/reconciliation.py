"""Subscriber reconciliation: a periodic full read of each list, for what dates cannot show.

Campaign Monitor's date-filtered list endpoints only return subscribers whose *state*
changed since a date. Other changes never show up there: an address renamed in place
keeps its old ``Date`` (the new address is missed and the old one lingers), and edits of
names or custom fields do not move ``Date`` either. Every ``reconcile_hours`` (an internal
governor limit, default 24) this job reads each list whole, writes what differs from the
shadow index (usually little), and removes memberships whose address is no longer in the
list. The first sync of a list reads it whole anyway, so its clock starts then.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from cmsf_core.campaign_monitor import SUBSCRIBER_STATES
from cmsf_core.clock import parse_instant
from cmsf_core.errors import NotFoundError
from cmsf_core.jobs.base import Scope, register
from cmsf_core.jobs.subscribers import MEMBER, SubscribersJob, membership_key
from cmsf_core.jobs.writer import delete_records

__all__ = ["ReconciliationJob"]


@register
class ReconciliationJob(SubscribersJob):
    """Read each list whole every ``reconcile_hours``; fix and remove what drifted."""

    name = "subscriber_reconciliation"
    title = "Subscriber reconciliation"
    limit = "subscribers"
    follows = ("list_stats",)

    def start(self) -> Iterable[Scope]:
        return [{"key": lst.cm_id, "list": lst.cm_id} for lst in self.ctx.directory.lists()]

    def partition(self, scope: Scope, size: int) -> list[Scope]:
        """Never split: a list's whole read marks what it saw, then removes the rest."""
        return []

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        lst = ctx.directory.list_by_id(str(scope["list"]))
        if lst is None:
            return
        now = ctx.clock.now()
        last = ctx.journal.bookmark(self.name, lst.cm_id)
        interval = timedelta(hours=ctx.settings.limit("reconcile_hours"))
        if last is None:
            ctx.journal.set_bookmark(self.name, lst.cm_id, now.isoformat())
            return  # the list's first sync read it whole: reconcile from here on
        if now - parse_instant(str(last)) < interval:
            return
        ctx.journal.execute_script(
            "CREATE TABLE IF NOT EXISTS reconcile_seen (key TEXT PRIMARY KEY)",
            "DELETE FROM reconcile_seen",
        )
        try:
            for state in SUBSCRIBER_STATES:
                buffer: list[dict[str, Any]] = []
                for page in ctx.cm.subscriber_pages(lst.cm_id, state, None):
                    ctx.stats.read["CM subscribers (reconciliation)"] += len(page.results)
                    ctx.journal.executemany(
                        "INSERT OR IGNORE INTO reconcile_seen (key) VALUES (?)",
                        [
                            (ctx.shadow.token(membership_key(lst.cm_id, str(row["EmailAddress"]))),)
                            for row in page.results
                            if row.get("EmailAddress")
                        ],
                    )
                    buffer.extend(page.results)
                    if len(buffer) >= self.batch_size or page.is_last:
                        self._write(lst, state, buffer)
                        buffer = []
        except NotFoundError:
            return  # the list was deleted meanwhile; configuration removes it next run
        gone = ctx.shadow.unseen(MEMBER, lst.cm_id, "reconcile_seen")
        for start in range(0, len(gone), 2000):
            delete_records(
                ctx, MEMBER, [(k, i) for k, i in gone[start : start + 2000]], job=self.name
            )
        # Rewritten memberships wait in the write pool: the list counts as reconciled once
        # they are written.
        ctx.pool.after_writes(
            lambda: ctx.journal.set_bookmark(self.name, lst.cm_id, now.isoformat())
        )
