"""Email opt-out: set HasOptedOutOfEmail on people unsubscribed or deleted in every list.

Runs when the general option "set email opt out when a contact or lead is unsubscribed or
deleted in all lists" is on. It looks only at people whose memberships changed since its
bookmark (``SystemModstamp`` of ``CMSF_List_Member__c``), gathers all memberships of each,
and opts out those whose every membership is Unsubscribed or Deleted. It never opts anyone
back in: consent given in Salesforce is not withdrawn by a resubscribe elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.writer import report_failures

__all__ = ["EmailOptOutJob"]

MEMBER = "CMSF_List_Member__c"
OPTED_OUT_STATES = {"Unsubscribed", "Deleted"}


@register
class EmailOptOutJob(Job):
    """Opt out Contacts and Leads unsubscribed or deleted in all their lists."""

    name = "email_opt_out"
    title = "Email opt-out"
    limit = "email_opt_out"
    follows = ("smart_emails",)

    def enabled(self) -> bool:
        return self.ctx.settings.opt_out_sync

    def start(self) -> Iterable[Scope]:
        return [
            {"key": "Contact", "object": "Contact", "field": "Contact__c"},
            {"key": "Lead", "object": "Lead", "field": "Lead__c"},
        ]

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        sobject, field = str(scope["object"]), str(scope["field"])
        bookmark = ctx.journal.bookmark(self.name, sobject)
        signpost = ctx.signpost.isoformat().replace("+00:00", "Z")
        where = f"{field} != null" + (f" AND SystemModstamp >= {bookmark}" if bookmark else "")
        people: list[str] = []
        seen: set[str] = set()
        for row in ctx.sf.query(f"SELECT {field} FROM {MEMBER} WHERE {where}"):
            person = row.get(field)
            if person and person not in seen:
                seen.add(person)
                people.append(person)
                if len(people) >= self.batch_size:
                    self._decide(sobject, field, people)
                    people = []
        if people:
            self._decide(sobject, field, people)
        ctx.journal.set_bookmark(self.name, sobject, signpost)

    def _decide(self, sobject: str, field: str, people: list[str]) -> None:
        ctx = self.ctx
        listed = ",".join(f"'{p}'" for p in people)
        states: dict[str, set[str]] = {}
        for row in ctx.sf.query(
            f"SELECT {field}, State__c FROM {MEMBER} WHERE {field} IN ({listed})"
        ):
            states.setdefault(row[field], set()).add(str(row.get("State__c")))
        out = [p for p, s in states.items() if s and s <= OPTED_OUT_STATES]
        if not out:
            return
        listed = ",".join(f"'{p}'" for p in out)
        extra = " AND IsConverted = false" if sobject == "Lead" else ""
        pending = [
            row["Id"]
            for row in ctx.sf.query(
                f"SELECT Id FROM {sobject} WHERE Id IN ({listed}) AND HasOptedOutOfEmail = false{extra}"
            )
        ]
        if not pending:
            return
        updates: list[dict[str, Any]] = [{"Id": i, "HasOptedOutOfEmail": True} for i in pending]
        result = ctx.sf.update(sobject, updates)
        ctx.stats.written[sobject] += result.succeeded
        if result.failures:
            ctx.stats.failed[sobject] += len(result.failures)
            report_failures(ctx, self.name, sobject, result.failures)
