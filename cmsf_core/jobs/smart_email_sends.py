"""The smart email sends of the primary sync: queue items drained in bounded batches.

Every run sends what Flows, Apex, ``cmsf send-smart-email`` or ``cmsf`` bulk requests put
in the queue (``CMSF_Queue_Item__c`` of type ``Smart Email``), right after the smart
emails and their variables were synced (so mappings are checked against fresh variables)
and before ``smart_email_tasks`` (which fills in what was sent). Each scope is one batch of
``smart_email_sends`` items handled by :class:`~cmsf_core.transactional.sender.Sender`; a
run that meets a rate limit or an outage sends no further batch (they wait for the next
run). A last scope recounts process records a pass that died left open. ``cmsf watch``
drains the same queue between runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.transactional.items import SMART_EMAIL, recount_open_processes
from cmsf_core.transactional.sender import Sender, held_up, send_due

__all__ = ["SmartEmailSendsJob"]

HALTED = "smart_email_sends_halted"


@register
class SmartEmailSendsJob(Job):
    """Send the smart emails requested through the queue."""

    name = "smart_email_sends"
    title = "Smart email sends"
    limit = "smart_email_sends"
    follows = ("smart_email_tasks",)

    def start(self) -> Iterable[Scope]:
        from cmsf_core.push.capture import soql_instant
        from cmsf_core.push.queue import QUEUE_ITEM

        now = soql_instant(self.ctx.clock.now())
        due = self.ctx.sf.count(
            f"SELECT COUNT() FROM {QUEUE_ITEM} WHERE Type__c = '{SMART_EMAIL}' "
            f"AND Status__c IN ('Pending', 'Sending') "
            f"AND (Next_Attempt__c = null OR Next_Attempt__c <= {now})"
        )
        batches = math.ceil(due / self.batch_size)
        return [*({"key": f"batch:{n}"} for n in range(1, batches + 1)), {"key": "processes"}]

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        if scope["key"] == "processes":  # recount what a pass that died left open
            done = recount_open_processes(ctx.sf, ctx.clock.now())
            ctx.stats.pushed["send processes done"] += done
            return
        if ctx.extras.get(HALTED):
            return  # a rate limit or an outage: the rest waits for the next run
        sender = Sender(
            sf=ctx.sf,
            cm=ctx.cm,
            settings=ctx.settings,
            clock=ctx.clock,
            log=ctx.log,
            stats=ctx.stats,
            job=self.name,
        )
        if held_up(send_due(sender, self.batch_size)):
            ctx.extras[HALTED] = True
