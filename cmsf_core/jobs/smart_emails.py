"""Smart emails, their variables, and the tasks of smart emails sent from Salesforce.

Three jobs of the primary sync's tail:

- ``smart_emails`` copies each selected client's smart transactional emails (name,
  status, sender, subject, preview links) and removes those deleted in Campaign Monitor;
- ``smart_email_variables`` copies each smart email's variables (``EmailVariables``) and
  removes variables no longer in its content;
- ``smart_email_tasks`` completes Tasks recorded when a smart email was sent from
  Salesforce (``CMSF_Message_Id__c``): it fetches the message as Campaign Monitor sent it
  and stores the actual text and delivery status on the Task.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cmsf_core.errors import NotFoundError
from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.writer import Desired, delete_records, report_failures, write_changed

__all__ = ["SmartEmailTasksJob", "SmartEmailVariablesJob", "SmartEmailsJob"]

SMART_EMAIL = "CMSF_Smart_Email__c"
VARIABLE = "CMSF_Smart_Email_Variable__c"
FINAL_STATUSES = {"Delivered", "Bounced", "Spam", "Opened", "Clicked"}


def _details(ctx: Any, smart_email_id: str) -> dict[str, Any]:
    """A smart email's details, fetched once per run."""
    cache: dict[str, dict[str, Any]] = ctx.extras.setdefault("smart_email_details", {})
    if smart_email_id not in cache:
        cache[smart_email_id] = ctx.cm.smart_email(smart_email_id)
    return cache[smart_email_id]


@register
class SmartEmailsJob(Job):
    """Copy smart transactional emails."""

    name = "smart_emails"
    title = "Smart emails"
    limit = "smart_emails"
    follows = ("smart_email_variables",)

    def start(self) -> Iterable[Scope]:
        return [
            {"key": f"client:{c.cm_id}", "client": c.cm_id} for c in self.ctx.directory.clients()
        ]

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        client = ctx.directory.client_by_id(str(scope["client"]))
        if client is None:
            return
        try:
            emails = ctx.cm.smart_emails(client.cm_id)
        except NotFoundError:
            return
        ctx.stats.read["CM smart emails"] += len(emails)
        desired = []
        for email in emails:
            seid = str(email["ID"])
            try:
                details = _details(ctx, seid)
            except NotFoundError:
                continue
            props = details.get("Properties") or {}
            source = {
                "Name": email.get("Name"),
                "Status": email.get("Status"),
                "CreatedAt": email.get("CreatedAt"),
                "From": props.get("From"),
                "ReplyTo": props.get("ReplyTo"),
                "Subject": props.get("Subject"),
                "Html": props.get("HtmlPreviewUrl"),
                "Text": props.get("TextPreviewUrl"),
                "AddToList": bool(details.get("AddRecipientsToList")),
                "Client": client.sf_id,
            }
            status = str(email.get("Status") or "").capitalize()
            created = email.get("CreatedAt")
            record: dict[str, Any] = {
                "CM_Id__c": seid,
                "Name": str(email.get("Name") or seid)[:80],
                "Client__c": client.sf_id,
                "Status__c": status if status in {"Active", "Draft"} else None,
                "Created_At__c": datetime.fromisoformat(str(created)).isoformat()
                if created
                else None,
                "From__c": (str(props.get("From") or "")[:255]) or None,
                "Reply_To__c": (str(props.get("ReplyTo") or "")[:255]) or None,
                "Subject__c": (str(props.get("Subject") or "")[:255]) or None,
                "Html_Preview_Url__c": props.get("HtmlPreviewUrl") or None,
                "Text_Preview_Url__c": props.get("TextPreviewUrl") or None,
                "Add_Recipients_To_List__c": source["AddToList"],
            }
            if client.owner_id:
                record["OwnerId"] = client.owner_id
            desired.append(Desired(key=seid, source=source, record=record))
        write_changed(ctx, self.name, SMART_EMAIL, desired)
        alive = {d.key for d in desired}
        gone = [
            (row["CM_Id__c"], row["Id"])
            for row in ctx.sf.query(
                f"SELECT Id, CM_Id__c FROM {SMART_EMAIL} WHERE Client__c = '{client.sf_id}'"
            )
            if row["CM_Id__c"] not in alive
        ]
        for seid, sf_id in gone:
            variables = [
                (row["CM_Id__c"], row["Id"])
                for row in ctx.sf.query(
                    f"SELECT Id, CM_Id__c FROM {VARIABLE} WHERE Smart_Email__c = '{sf_id}'"
                )
            ]
            delete_records(ctx, VARIABLE, variables, job=self.name)
            delete_records(ctx, SMART_EMAIL, [(seid, sf_id)], job=self.name)


@register
class SmartEmailVariablesJob(Job):
    """Copy the variables of each smart email."""

    name = "smart_email_variables"
    title = "Smart email variables"
    limit = "smart_email_variables"
    follows = ("smart_email_sends",)

    def start(self) -> Iterable[Scope]:
        selected = {c.sf_id for c in self.ctx.directory.clients()}
        rows = [
            row
            for row in self.ctx.sf.query(
                f"SELECT Id, CM_Id__c, Client__c FROM {SMART_EMAIL} ORDER BY CM_Id__c"
            )
            if row.get("Client__c") in selected
        ]
        return [
            {"key": str(row["CM_Id__c"]), "smart_email": row["CM_Id__c"], "sf_id": row["Id"]}
            for row in rows
        ]

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        seid, sf_id = str(scope["smart_email"]), str(scope["sf_id"])
        try:
            details = _details(ctx, seid)
        except NotFoundError:
            return
        content = (details.get("Properties") or {}).get("Content") or {}
        names = [str(v) for v in content.get("EmailVariables") or [] if str(v).strip()]
        desired = [
            Desired(
                key=f"{seid}:{name}",
                source={"Name": name, "SmartEmail": sf_id},
                record={
                    "CM_Id__c": f"{seid}:{name}"[:255],
                    "Name": name[:80],
                    "Smart_Email__c": sf_id,
                },
            )
            for name in names
        ]
        write_changed(ctx, self.name, VARIABLE, desired)
        alive = {ctx.shadow.token(d.key) for d in desired}
        gone = [
            (r.key, r.sf_id) for r in ctx.shadow.keys(VARIABLE, f"{seid}:") if r.key not in alive
        ]
        delete_records(ctx, VARIABLE, gone, job=self.name)


@register
class SmartEmailTasksJob(Job):
    """Store what was actually sent on the Tasks of smart emails sent from Salesforce."""

    name = "smart_email_tasks"
    title = "Smart email tasks"
    limit = "smart_email_tasks"
    follows = ("tracking_cleanup",)

    def start(self) -> Iterable[Scope]:
        return [{"key": "tasks"}]

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        statuses = ",".join(f"'{s}'" for s in sorted(FINAL_STATUSES))
        tasks = list(
            ctx.sf.query(
                "SELECT Id, CMSF_Message_Id__c, CMSF_Message_Status__c FROM Task "
                "WHERE CMSF_Message_Id__c != null AND "
                f"(CMSF_Message_Status__c = null OR CMSF_Message_Status__c NOT IN ({statuses})) "
                f"ORDER BY CreatedDate LIMIT {self.batch_size}"
            )
        )
        updates = []
        for task in tasks:
            try:
                message = ctx.cm.message(str(task["CMSF_Message_Id__c"]))
            except NotFoundError:
                continue
            body = (message.get("Message") or {}).get("Body") or {}
            status = str(message.get("Status") or "")[:40]
            if status == task.get("CMSF_Message_Status__c"):
                continue
            text = body.get("Text") or body.get("Html") or ""
            updates.append(
                {
                    "Id": task["Id"],
                    "CMSF_Message_Status__c": status or None,
                    "Description": str(text)[:32000] or None,
                    "Status": "Completed",
                }
            )
        if updates:
            result = ctx.sf.update("Task", updates)
            ctx.stats.wrote("Task", result.ids)
            if result.failures:
                report_failures(ctx, self.name, "Task", result.failures)
