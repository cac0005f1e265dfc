"""Relink: memberships meet the Contacts and Leads that appeared in Salesforce after them.

A membership is linked to a Contact and a Lead by email when it is written. People
created in Salesforce later, or whose email changed, would stay unlinked; this job, at
the end of the run, reads the Contacts and Leads modified since it last ran, and links
the memberships of their addresses that miss a link. Leads converted since then hand
their memberships and tracking history to the converted Contact. Memberships written
while the sync user could not read Leads (a platform license, see :mod:`cmsf_core.access`)
are linked to every Lead once Lead is readable again. It runs last so that its bookmark
(the start of its own read) lies after the sync's own updates (opt-out flags), which it
therefore never chases.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.writer import report_failures
from cmsf_core.matching import soql_quote

__all__ = ["RelinkJob"]

MEMBER = "CMSF_List_Member__c"
ACTIVITY = "CMSF_Email_Activity__c"


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
            emails: set[str] = set()
            for row in ctx.sf.query(
                f"SELECT Email FROM Contact WHERE LastModifiedDate >= {bookmark} AND Email != null"
            ):
                emails.add(str(row["Email"]).lower())
            converted: dict[str, str] = {}
            # One read of the Leads changed since: new addresses to link, and conversions.
            for row in ctx.sf.access.rows(
                "Lead",
                "following Lead conversions",
                lambda: ctx.sf.query(
                    "SELECT Id, Email, IsConverted, ConvertedContactId FROM Lead "
                    f"WHERE LastModifiedDate >= {bookmark} AND (Email != null OR IsConverted = true)"
                ),
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
        """Link to Leads the memberships written while the sync user could not see Leads.

        A run whose user cannot read Lead (a platform license) writes memberships without
        their Lead links; once Lead is readable again, every Lead's address is linked once.
        """
        ctx = self.ctx
        access = ctx.sf.access
        if not access.usable("Lead"):
            ctx.journal.set_bookmark(self.name, "lead_gap", True)
            return
        if not ctx.journal.bookmark(self.name, "lead_gap"):
            return
        rows = access.rows(
            "Lead",
            "linking memberships to Leads",
            lambda: ctx.sf.query(
                "SELECT Email FROM Lead WHERE Email != null AND IsConverted = false"
            ),
        )
        if access.usable("Lead"):
            self._link(sorted({str(row["Email"]).lower() for row in rows}))
            ctx.journal.set_bookmark(self.name, "lead_gap", None)

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
        ctx = self.ctx
        for start in range(0, len(emails), 100):
            chunk = emails[start : start + 100]
            listed = ",".join(soql_quote(e) for e in chunk)
            members = list(
                ctx.sf.query(
                    f"SELECT Id, Email__c, Contact__c, Lead__c FROM {MEMBER} "
                    f"WHERE Email__c IN ({listed}) AND (Contact__c = null OR Lead__c = null)"
                )
            )
            if not members:
                continue
            people = ctx.matcher.match(str(m["Email__c"]) for m in members if m.get("Email__c"))
            updates = []
            for member in members:
                person = people.get(str(member.get("Email__c") or "").lower())
                if person is None:
                    continue
                update: dict[str, Any] = {}
                if not member.get("Contact__c") and person.contact_id:
                    update["Contact__c"] = person.contact_id
                if not member.get("Lead__c") and person.lead_id:
                    update["Lead__c"] = person.lead_id
                if update:
                    updates.append({"Id": member["Id"], **update})
            if updates:
                result = ctx.sf.update(MEMBER, updates)
                ctx.stats.wrote(MEMBER, result.ids)
