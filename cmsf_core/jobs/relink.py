"""Relink: memberships meet the Contacts and Leads that appeared in Salesforce after them.

A membership is linked to a Contact and a Lead by email when it is written. People
created in Salesforce later, or whose email changed, would stay unlinked; this job, at
the end of the run, reads the Contacts and Leads modified since it last ran, and links
the memberships of their addresses that miss a link. Leads converted since then hand
their memberships and tracking history to the converted Contact. Memberships and tracking
history written while the sync user could not read Leads (a platform license, see
:mod:`cmsf_core.access`) are linked to every Lead once Lead is readable again
(:func:`repair_lead_gap`, called first by the subscribers job). It runs last so that its bookmark
(the start of its own read) lies after the sync's own updates (opt-out flags), which it
therefore never chases.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.writer import report_failures
from cmsf_core.matching import soql_quote

if TYPE_CHECKING:
    from cmsf_core.jobs.context import JobContext

__all__ = ["RelinkJob", "link_people", "repair_lead_gap"]

MEMBER = "CMSF_List_Member__c"
ACTIVITY = "CMSF_Email_Activity__c"
LEAD_GAP = "lead_gap"
"""Bookmark set while a run could not read Lead (its writes miss their Lead links)."""


@register
class RelinkJob(Job):
    """Link memberships to Contacts and Leads created or re-addressed since the last run."""

    name = "relink"
    title = "Link new Contacts and Leads"
    limit = "subscribers"
    follows = ("smart_emails",)

    def start(self) -> Iterable[Scope]:
        return [{"key": "people"}]

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        bookmark = ctx.journal.bookmark(self.name, "people")
        started = ctx.clock.now().isoformat().replace("+00:00", "Z")
        if bookmark:
            # The Contacts and the Leads changed since, in one request: new addresses to
            # link, and conversions (Leads only while the sync user can read them).
            reads = [
                (
                    f"SELECT Email FROM Contact WHERE LastModifiedDate >= {bookmark} "
                    "AND Email != null",
                    False,
                )
            ]
            if ctx.sf.access.usable("Lead"):
                reads.append(
                    (
                        "SELECT Id, Email, IsConverted, ConvertedContactId FROM Lead "
                        f"WHERE LastModifiedDate >= {bookmark} "
                        "AND (Email != null OR IsConverted = true)",
                        False,
                    )
                )
            results = ctx.sf.query_batch(reads)
            emails: set[str] = set()
            for row in results[0].records():
                emails.add(str(row["Email"]).lower())
            converted: dict[str, str] = {}
            for row in ctx.sf.access.rows(
                "Lead", "following Lead conversions", lambda: results[-1].records()
            ):
                if row.get("IsConverted"):
                    if row.get("ConvertedContactId"):
                        converted[row["Id"]] = row["ConvertedContactId"]
                elif row.get("Email"):
                    emails.add(str(row["Email"]).lower())
            self._follow_conversions(converted)
            self._link(sorted(emails))
        ctx.journal.set_bookmark(self.name, "people", started)
        self._lead_gap()

    def _lead_gap(self) -> None:
        """Remember a run the sync user could not read Lead in (see :func:`repair_lead_gap`)."""
        if not self.ctx.sf.access.usable("Lead"):
            self.ctx.journal.set_bookmark(self.name, LEAD_GAP, True)
        else:
            repair_lead_gap(self.ctx)

    def _follow_conversions(self, converted: dict[str, str]) -> None:
        """Move memberships and tracking history of converted Leads to their Contacts.

        Salesforce keeps a converted Lead (``IsConverted``) and does not move custom
        lookups to the new Contact, so the sync does: the records that pointed at the Lead
        now point at its ``ConvertedContactId`` (a Contact link they already had is kept).
        Merges need nothing here: the platform re-parents the losers' related records.

        Args:
            converted: Converted Lead Id -> its Contact Id.
        """
        ctx = self.ctx
        leads = sorted(converted)
        for sobject in (MEMBER, ACTIVITY):
            for start in range(0, len(leads), 100):
                listed = ",".join(f"'{lead}'" for lead in leads[start : start + 100])
                updates = [
                    {
                        "Id": row["Id"],
                        "Lead__c": None,
                        "Contact__c": row.get("Contact__c") or converted[row["Lead__c"]],
                    }
                    for row in ctx.sf.query(
                        f"SELECT Id, Contact__c, Lead__c FROM {sobject} WHERE Lead__c IN ({listed})"
                    )
                ]
                if updates:
                    result = ctx.sf.update(sobject, updates)
                    ctx.stats.wrote(sobject, result.ids)
                    if result.failures:
                        report_failures(ctx, self.name, sobject, result.failures)

    def _link(self, emails: list[str]) -> None:
        link_people(self.ctx, emails, MEMBER, self.name)


def repair_lead_gap(ctx: JobContext) -> None:
    """Link to Leads what was written while the sync user could not read Lead.

    A run whose user cannot read Lead (a platform license, see :mod:`cmsf_core.access`)
    writes memberships and tracking history without their Lead links, and relink marks
    the gap. The first job of a later run that can read Lead links every Lead's address
    once (the subscribers job calls this first, so the campaign members built from the
    tracking history in the same run find their Leads).
    """
    if not ctx.journal.bookmark(RelinkJob.name, LEAD_GAP):
        return
    access = ctx.sf.access
    rows = access.rows(
        "Lead",
        "linking memberships to Leads",
        lambda: ctx.sf.query("SELECT Email FROM Lead WHERE Email != null AND IsConverted = false"),
    )
    if not access.usable("Lead"):
        return
    emails = sorted({str(row["Email"]).lower() for row in rows})
    for sobject in (MEMBER, ACTIVITY):
        link_people(ctx, emails, sobject, RelinkJob.name)
    ctx.journal.set_bookmark(RelinkJob.name, LEAD_GAP, None)


def link_people(ctx: JobContext, emails: list[str], sobject: str, job: str) -> None:
    """Give records of ``sobject`` with these addresses the Contact and Lead links they miss."""
    for start in range(0, len(emails), 100):
        chunk = emails[start : start + 100]
        listed = ",".join(soql_quote(e) for e in chunk)
        found = list(
            ctx.sf.query(
                f"SELECT Id, Email__c, Contact__c, Lead__c FROM {sobject} "
                f"WHERE Email__c IN ({listed}) AND (Contact__c = null OR Lead__c = null)"
            )
        )
        if not found:
            continue
        people = ctx.matcher.match(str(r["Email__c"]) for r in found if r.get("Email__c"))
        updates = []
        for row in found:
            person = people.get(str(row.get("Email__c") or "").lower())
            if person is None:
                continue
            update: dict[str, Any] = {}
            if not row.get("Contact__c") and person.contact_id:
                update["Contact__c"] = person.contact_id
            if not row.get("Lead__c") and person.lead_id:
                update["Lead__c"] = person.lead_id
            if update:
                updates.append({"Id": row["Id"], **update})
        if updates:
            result = ctx.sf.update(sobject, updates)
            ctx.stats.wrote(sobject, result.ids)
