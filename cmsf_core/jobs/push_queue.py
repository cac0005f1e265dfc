"""The push: pending record-change queue items sent to Campaign Monitor in batches.

The product's ``ProcessAsyncRecordsBatch``: pending ``Record Change`` items (from the
change capture, or inserted by an org's own Flow or Apex) are processed oldest first in
atomic batches of the ``push`` governor limit. For each batch the processor
(:mod:`cmsf_core.push.processor`) decides what Campaign Monitor should see and sends only
that; the journal then records the batch's work as done, and the items are marked
``Done`` (or ``Failed`` with the reason) in the org. A crash anywhere resumes without
sending anything twice: writes left in flight are checked against Campaign Monitor first
(:func:`~cmsf_core.push.processor.settle_in_doubt`), work already done is not redone, and
items already done are just marked.

An item may name a Contact, a Lead or an Account (then its Contacts are processed);
anything else fails with a reason. ``disable_triggers`` stops the push too: items wait,
pending, until triggers are enabled again.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.push_capture import PENDING_KEY
from cmsf_core.matching import soql_quote
from cmsf_core.push.capture import capture_config, ledger_for
from cmsf_core.push.processor import Processor, Work
from cmsf_core.push.queue import (
    QUEUE_ITEM,
    RECORD_CHANGE,
    QueueItem,
    finish_items,
    pending_items,
    to18,
)

__all__ = ["PushJob"]

PREFIXES = {"003": "Contact", "00Q": "Lead", "001": "Account"}


@register
class PushJob(Job):
    """Send pending record changes to Campaign Monitor."""

    name = "push"
    title = "Salesforce to Campaign Monitor"
    limit = "push"
    follows = ("subscribers",)

    def enabled(self) -> bool:
        return not self.ctx.settings.disable_triggers

    def start(self) -> Iterable[Scope]:
        ctx = self.ctx
        pending = ctx.extras.get(PENDING_KEY)
        if pending is None:  # resumed after the capture finished: count again
            pending = ctx.sf.count(
                f"SELECT COUNT() FROM {QUEUE_ITEM} WHERE Status__c = 'Pending' "
                f"AND Type__c = '{RECORD_CHANGE}'"
            )
        batches = math.ceil(int(pending) / self.batch_size)
        return [*({"key": f"batch:{n}"} for n in range(1, batches + 1)), {"key": "report"}]

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        ledger = ledger_for(ctx)
        if scope["key"] == "report":
            capture_config(ctx).report_problems(ctx, self.name)
            return
        items = pending_items(ctx, self.batch_size)
        if not items:
            return
        ids = [item.id for item in items]
        done_before = ledger.processed(ids)
        fresh = [item for item in items if item.id not in done_before]
        failed, keys = self._process(fresh) if fresh else ({}, [])
        ledger.mark_processed(ids)
        finish_items(ctx, self.name, ids, failed)
        ledger.forget_actions(keys)
        ledger.forget_items(ids)
        ctx.stats.pushed["queue items done"] += len(ids) - len(failed)
        if failed:
            ctx.stats.pushed["queue items failed"] += len(failed)

    def _process(self, items: list[QueueItem]) -> tuple[dict[str, str], list[str]]:
        """Process fresh items.

        Returns:
            Reasons of the items that failed by item Id, and the keys of the actions sent.
        """
        ctx = self.ctx
        config = capture_config(ctx)
        processor = Processor(ctx, config, ledger_for(ctx), self.name)
        failed: dict[str, str] = {}
        keys: list[str] = []
        works: dict[str, list[Work]] = defaultdict(list)
        accounts: dict[str, list[QueueItem]] = defaultdict(list)
        for item in items:
            sobject = PREFIXES.get(item.record_id[:3]) if len(item.record_id) in (15, 18) else None
            if sobject is None:
                failed[item.id] = "Record_Id__c is not the Id of a Contact, Lead or Account"
                continue
            if sobject == "Account":
                accounts[to18(item.record_id)].append(item)
                continue
            works[sobject].append(
                Work(
                    to18(item.record_id),
                    item.id,
                    [item.id],
                    _previous(item),
                    _fields(item),
                )
            )
        if accounts:
            listed = ",".join(soql_quote(i) for i in accounts)
            for row in ctx.sf.query(
                f"SELECT Id, AccountId FROM Contact WHERE AccountId IN ({listed})"
            ):
                for item in accounts.get(str(row["AccountId"]), []):
                    works["Contact"].append(Work(str(row["Id"]), item.id, [item.id], set()))
        for sobject, batch in works.items():
            outcome = processor.process(sobject, batch)
            failed.update(outcome.failed)
            keys += outcome.keys
        return failed, keys


def _previous(item: QueueItem) -> set[str] | None:
    """Tokens of the address Campaign Monitor knew (None: the item does not say)."""
    if "previous_email" not in item.payload:
        return None
    previous = item.payload.get("previous_email")
    return {str(previous)} if previous else set()


def _fields(item: QueueItem) -> set[str] | None:
    """The fields an item says changed (None: all, for new records and Flow items)."""
    changed = item.payload.get("changed")
    if not isinstance(changed, list) or "(new)" in changed:
        return None
    return {str(f) for f in changed if not str(f).startswith("(")}
