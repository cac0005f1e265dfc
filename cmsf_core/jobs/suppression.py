"""Suppression list: each selected client's suppressed addresses into Salesforce.

Runs beside the rest of the primary sync (it has no downstream jobs) when the
"sync suppression list" option is on. Campaign Monitor's suppression list has no date
filter, so each run reads it whole, page by page; new addresses become
``CMSF_Suppression__c`` records and addresses no longer suppressed are removed. The
addresses seen are kept in the journal, not in memory, so a million-row list costs no
more memory than a short one.
"""

from __future__ import annotations

from collections.abc import Iterable

from cmsf_core.cm_time import parse_local
from cmsf_core.errors import NotFoundError
from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.writer import Desired, delete_records, write_changed

__all__ = ["SuppressionJob"]

SUPPRESSION = "CMSF_Suppression__c"


@register
class SuppressionJob(Job):
    """Mirror each selected client's suppression list."""

    name = "suppression"
    title = "Suppression list"
    limit = "suppression"
    follows = ()

    def enabled(self) -> bool:
        return self.ctx.settings.sync_suppression_list

    def start(self) -> Iterable[Scope]:
        return [
            {"key": f"client:{c.cm_id}", "client": c.cm_id} for c in self.ctx.directory.clients()
        ]

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        client = ctx.directory.client_by_id(str(scope["client"]))
        if client is None:
            return
        ctx.journal.execute_script(
            "CREATE TABLE IF NOT EXISTS suppression_seen (key TEXT PRIMARY KEY)",
            "DELETE FROM suppression_seen",
        )
        prefix = f"{client.cm_id}:"
        try:
            for page in ctx.cm.suppression_pages(client.cm_id):
                ctx.stats.read["CM suppressions"] += len(page.results)
                desired = []
                for row in page.results:
                    email = str(row.get("EmailAddress") or "").strip()
                    if not email:
                        continue
                    key = prefix + email.lower()
                    source = {
                        "Email": email,
                        "Reason": row.get("SuppressionReason"),
                        "Date": row.get("Date"),
                    }
                    desired.append(
                        Desired(
                            key=key,
                            source=source,
                            record={
                                "CM_Id__c": key,
                                "Name": email[:80],
                                "Client__c": client.sf_id,
                                "Email__c": email,
                                "Reason__c": (source["Reason"] or None),
                                "Suppressed_Date__c": parse_local(
                                    str(source["Date"]), client.zone
                                ).isoformat()
                                if source["Date"]
                                else None,
                                **({"OwnerId": client.owner_id} if client.owner_id else {}),
                            },
                        )
                    )
                ctx.journal.executemany(
                    "INSERT OR IGNORE INTO suppression_seen (key) VALUES (?)",
                    [(ctx.shadow.token(d.key),) for d in desired],
                )
                write_changed(ctx, self.name, SUPPRESSION, desired)
        except NotFoundError:
            return
        gone = ctx.shadow.unseen(SUPPRESSION, client.cm_id, "suppression_seen")
        for start in range(0, len(gone), 2000):
            delete_records(ctx, SUPPRESSION, gone[start : start + 2000], job=self.name)
