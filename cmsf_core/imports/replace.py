"""Replace subscribers on list: remove the list's subscribers that were not in the source.

The product's ``CMBatchRemoveSubscribers``: it runs after an import whose source was read
whole (never after a failed read, a report cut at its first 2,000 rows, or a source with
no rows, so an error can never empty a list) and touches only the import's own list.

It is its own resumable job, bounded per run:

1. **collect**: the list's active and unconfirmed subscribers are read page by page and
   each address the source did not have is written to the journal (token and sealed
   address), so the list is read once however long the removal takes;
2. **remove**: up to the ``import_removals`` governor limit of them per run are deleted
   (``DELETE subscribers/{list}.json?email=``: state ``Deleted``, history kept), each
   recorded as removed; the rest wait for the next run, and ``Removed__c`` and a message
   say how far it got. A crash repeats at most the deletions not yet recorded, which
   Campaign Monitor takes again without harm.

The seeds warn this can take long for a big list: a new list for the import (and deleting
the old one) can be quicker, and the README says so.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from cmsf_core.errors import NotFoundError, PlatformError, SkippableRecordError
from cmsf_core.imports.runner import import_ledger
from cmsf_core.imports.spec import IMPORT_OBJECT

if TYPE_CHECKING:
    from cmsf_core.jobs.context import JobContext

__all__ = ["REMOVE_STATES", "ReplaceProgress", "replace_step"]

REMOVE_STATES = ("Active", "Unconfirmed")
"""Subscribers a replace removes when the source did not have them."""
_MARK_EVERY = 50


class ReplaceProgress:
    """How far an import's replace got: removed so far, and still to remove."""

    def __init__(self, removed: int, pending: int) -> None:
        self.removed = removed
        self.pending = pending

    @property
    def done(self) -> bool:
        """Nothing is left to remove."""
        return self.pending == 0


def replace_step(
    ctx: JobContext, import_id: str, name: str, list_cm_id: str, job: str
) -> ReplaceProgress:
    """Collect (once) and remove (up to the per-run limit) for one import.

    Raises:
        RetriableError: For outages; the next run continues where this one stopped.
    """
    ledger = import_ledger(ctx)
    state = ledger.state(import_id)
    if state is None or state.phase != "replacing":
        return ReplaceProgress(0, 0)
    if not state.facts.get("collected"):
        for status in REMOVE_STATES:
            for page in ctx.cm.subscriber_pages(list_cm_id, status):
                addresses = {
                    ledger.address_token(str(s["EmailAddress"])): str(s["EmailAddress"])
                    for s in page.results
                    if s.get("EmailAddress")
                }
                known = ledger.in_source(import_id, addresses)
                ledger.add_removals(
                    import_id, {t: a for t, a in addresses.items() if t not in known}
                )
        state.facts["collected"] = True
        ledger.save(import_id, state)
    removed_before, pending = ledger.removal_counts(import_id)
    total = removed_before + pending
    limit = ctx.settings.limit("import_removals")
    marked: list[str] = []
    gone: list[str] = []
    for done_now, (token, address) in enumerate(ledger.pending_removals(import_id, limit), 1):
        try:
            ctx.cm.delete_subscriber(list_cm_id, address)
            marked.append(token)
        except (NotFoundError, SkippableRecordError, PlatformError):
            gone.append(token)  # not on the list any more (or refused): nothing to remove
        if len(marked) + len(gone) >= _MARK_EVERY:
            ledger.mark_removed(import_id, marked)
            ledger.mark_removed(import_id, gone, "gone")
            marked, gone = [], []
        if ctx.progress is not None:
            ctx.progress(job, removed_before + done_now, total)
    ledger.mark_removed(import_id, marked)
    ledger.mark_removed(import_id, gone, "gone")
    removed, pending = ledger.removal_counts(import_id)
    progress = ReplaceProgress(removed, pending)
    ctx.stats.imports.setdefault(name, Counter())["removed"] += removed - removed_before
    record: dict[str, Any] = {"Id": import_id, "Removed__c": removed}
    if progress.done:
        state.phase = "done"
        ledger.save(import_id, state)
        record["Last_Status__c"] = state.facts.get("status_after_import") or "Completed"
    else:
        ctx.log.raise_message(
            "Info",
            job,
            "CMSF-IMPORT-REMOVING",
            f"import '{name}': removed {removed:,} of {removed + pending:,} subscribers not in "
            "the source; the next run removes more",
            f"At most {limit:,} are removed per run (internal governor limit import_removals).",
            topic=import_id,
        )
    result = ctx.sf.update(IMPORT_OBJECT, [record])
    if result.failures:
        ledger.forget(import_id)
    return progress
