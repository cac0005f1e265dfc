"""Email opt-out: set HasOptedOutOfEmail on people unsubscribed or deleted in every list.

Runs when the general option "set email opt out when a contact or lead is unsubscribed or
deleted in all lists" is on. It looks only at people whose memberships changed since its
bookmark (``SystemModstamp`` of ``CMSF_List_Member__c``) and opts out those whose every
membership is Unsubscribed or Deleted — found by one query with a semi-join (has a changed
membership) and an anti-join (has no membership in another state), so the cost is a page
per 2,000 people to opt out, not a query per batch of people. It never opts anyone back
in: an opt-out recorded in Salesforce is not withdrawn by a resubscribe elsewhere.

With ``scanner_protection`` on, a membership whose unsubscribe looks like a spam filter's
link scanner (``Suspected_Scanner__c``, set by the tracking history job) counts as still
subscribed, so a scanner alone never opts anyone out; a later unsubscribe that looks like
a person clears the flag and opts them out as usual. Turning the setting on or off makes
the next run judge every membership again, not only the changed ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cmsf_core.jobs import pending
from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.scanner_watch import HOLD
from cmsf_core.jobs.writer import report_failures
from cmsf_core.push.capture import note_engine_write

if TYPE_CHECKING:
    from cmsf_core.jobs.context import JobContext
    from cmsf_core.salesforce import BatchQuery

__all__ = ["EmailOptOutJob"]

MEMBER = "CMSF_List_Member__c"
OPTED_OUT_STATES = {"Unsubscribed", "Deleted"}
MAX_HELD = 2000
"""Held memberships a query can name (SOQL's 100,000 characters); beyond, opt-outs wait."""


@register
class EmailOptOutJob(Job):
    """Opt out Contacts and Leads unsubscribed or deleted in all their lists."""

    name = "email_opt_out"
    title = "Email opt-out"
    limit = "email_opt_out"
    follows = ("relink",)

    def __init__(self, ctx: JobContext) -> None:
        super().__init__(ctx)
        self._first: dict[str, BatchQuery] = {}
        """First pages read ahead by :meth:`_prefetch`, by query."""
        self._read_at = ""
        """When :meth:`_prefetch` read them."""

    def enabled(self) -> bool:
        return self.ctx.settings.opt_out_sync

    def start(self) -> Iterable[Scope]:
        ctx = self.ctx
        protection = ctx.settings.scanner_protection
        previous = ctx.journal.bookmark(self.name, "scanner_protection")
        if previous is not None and bool(previous) != protection:
            # memberships kept from opting out (or not) are judged again, changed or not
            for sobject in ("Contact", "Lead"):
                ctx.journal.set_bookmark(self.name, sobject, None)
        ctx.journal.set_bookmark(self.name, "scanner_protection", protection)
        if protection and not ctx.settings.keeps_activity("Unsubscribe"):
            ctx.log.raise_message(
                "Warning",
                self.name,
                "CMSF-SCAN-OFF",
                "Scanner protection is on but unsubscribes are not tracked, so none is scored",
            )
        scopes = [
            {"key": "Contact", "object": "Contact", "field": "Contact__c"},
            {"key": "Lead", "object": "Lead", "field": "Lead__c"},
        ]
        self._prefetch(scopes)
        return scopes

    def _prefetch(self, scopes: list[dict[str, Any]]) -> None:
        """Read who is due among Contacts and Leads in one ``composite/batch`` request.

        A quiet run then costs one call, not two; each scope takes its first page from here
        (further pages follow ``nextRecordsUrl``) and bookmarks the time of this read. With
        scanner protection each scope first settles the held verdicts its read names, so
        it reads on its own.
        """
        ctx = self.ctx
        self._first = {}
        self._read_at = ctx.clock.now().isoformat().replace("+00:00", "Z")
        if ctx.settings.scanner_protection or not ctx.sf.access.usable("Lead"):
            return
        reads = [
            self._due_soql(
                str(s["object"]), self._changed_people(str(s["field"])), str(s["field"]), []
            )
            for s in scopes
        ]
        for soql, result in zip(
            reads, ctx.sf.query_batch([(q, False) for q in reads]), strict=True
        ):
            self._first[soql] = result

    def _changed_people(self, field: str) -> str:
        """People (by ``field``) whose memberships changed since the bookmark."""
        sobject = "Contact" if field == "Contact__c" else "Lead"
        bookmark = self.ctx.journal.bookmark(self.name, sobject)
        changed = f"{field} != null" + (f" AND SystemModstamp >= {bookmark}" if bookmark else "")
        return f"Id IN (SELECT {field} FROM {MEMBER} WHERE {changed})"

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        sobject, field = str(scope["object"]), str(scope["field"])
        if sobject == "Lead":
            ctx.sf.access.guard(
                "Lead", "opting out Leads", lambda: self._execute(sobject, field), None
            )
        else:
            self._execute(sobject, field)

    def _execute(self, sobject: str, field: str) -> None:
        ctx = self.ctx
        people = self._changed_people(field)
        # read in the job's start (see _prefetch) or now
        prefetched = self._due_soql(sobject, people, field, []) in self._first
        started = (
            self._read_at if prefetched else ctx.clock.now().isoformat().replace("+00:00", "Z")
        )
        waiting = [e.locator for e in pending.waiting(ctx, self.name, sobject) if e.locator]
        held = self._held() if ctx.settings.scanner_protection else []
        if len(held) > MAX_HELD:
            ctx.log.raise_message(
                "Warning", self.name, "CMSF-SCAN-HELD",
                f"Opt-outs wait: {len(held):,} scanner verdicts could not be written yet",
                "Salesforce refused the link-scanner flags of these memberships (see the "
                "pending records); opt-outs are judged once they are written.",
            )  # fmt: skip
            return  # the bookmark stays: nothing is judged without its verdict
        self._opt_out(sobject, people, field, held)
        # Memberships changed before this scope started were all read; changes from its
        # start on are read next time (the runtime lets time pass between jobs, so the
        # writes of earlier jobs lie before it). Refused updates wait in the journal and
        # are retried every run (below), so the bookmark moves on regardless.
        ctx.journal.set_bookmark(self.name, sobject, started)
        for start in range(0, len(waiting), 200):
            chunk = waiting[start : start + 200]
            listed = ", ".join(f"'{record_id}'" for record_id in chunk if record_id.isalnum())
            due = self._opt_out(sobject, f"Id IN ({listed})", field, held) if listed else set()
            # Those no longer due (opted out meanwhile, resubscribed, deleted) leave the retry.
            pending.resolved(ctx, self.name, [i for i in chunk if i not in due])

    def _due_soql(self, sobject: str, people: str, field: str, held: list[str]) -> str:
        """The read of the people matching ``people`` who are due to be opted out."""
        ctx = self.ctx
        listed = ", ".join(f"'{state}'" for state in sorted(OPTED_OUT_STATES))
        extra = " AND IsConverted = false" if sobject == "Lead" else ""
        # With scanner protection, a membership a link scanner unsubscribed still counts
        # as subscribed.
        still = f"State__c NOT IN ({listed})"
        if ctx.settings.scanner_protection:
            # ... and so does one whose verdict Salesforce refused to store (still held).
            named = ", ".join(f"'{i}'" for i in held)
            still = (
                f"({still} OR Suspected_Scanner__c = true{f' OR Id IN ({named})' if held else ''})"
            )
        # People not opted out yet, with no membership left that is neither unsubscribed
        # nor deleted: one query, however many memberships.
        return (
            f"SELECT Id FROM {sobject} WHERE HasOptedOutOfEmail = false{extra} "
            f"AND {people} "
            f"AND Id NOT IN (SELECT {field} FROM {MEMBER} WHERE {field} != null AND {still})"
        )

    def _opt_out(self, sobject: str, people: str, field: str, held: list[str]) -> set[str]:
        """Opt out the people matching ``people`` who are due; return the Ids that were due."""
        ctx = self.ctx
        soql = self._due_soql(sobject, people, field, held)
        first = self._first.pop(soql, None)
        due: set[str] = set()
        batch: list[dict[str, Any]] = []
        size = self.batch_size
        for page in first.pages() if first is not None else ctx.sf.query_pages(soql):
            due.update(row["Id"] for row in page)
            batch.extend({"Id": row["Id"], "HasOptedOutOfEmail": True} for row in page)
            while len(batch) >= size:
                self._update(sobject, batch[:size])
                batch = batch[size:]
        self._update(sobject, batch)
        return due

    def _held(self) -> list[str]:
        """Memberships whose scanner verdict waits to be written (gone ones are forgotten)."""
        ids = [
            e.locator for e in pending.waiting(self.ctx, HOLD) if e.locator and e.locator.isalnum()
        ]
        alive: set[str] = set()
        for start in range(0, len(ids), 200):
            listed = ", ".join(f"'{i}'" for i in ids[start : start + 200])
            alive.update(
                r["Id"]
                for r in self.ctx.sf.query(f"SELECT Id FROM {MEMBER} WHERE Id IN ({listed})")
            )
        pending.resolved(self.ctx, HOLD, [i for i in ids if i not in alive])
        return sorted(alive)

    def _update(self, sobject: str, updates: list[dict[str, Any]]) -> None:
        if not updates:
            return
        ctx = self.ctx
        result = ctx.sf.update(sobject, updates)
        ctx.stats.wrote(sobject, result.ids)
        pending.resolved(ctx, self.name, [i for i in result.ids if i])
        # The push must not take the engine's own opt-outs for changes to send back.
        note_engine_write(
            ctx, sobject, {i: {"HasOptedOutOfEmail": True} for i in result.ids if i is not None}
        )
        if result.failures:
            ctx.stats.failed[sobject] += len(result.failures)
            pending.refused(
                ctx,
                self.name,
                [(f.record["Id"], f.record["Id"], "", f.code) for f in result.failures],
                scope=sobject,
            )
            report_failures(ctx, self.name, sobject, result.failures)
