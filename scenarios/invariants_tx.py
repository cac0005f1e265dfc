"""Invariants about transactional smart emails sent from Salesforce.

:func:`smart_email_sent` reads Campaign Monitor's message log and message details through
its API (who got a smart email, how often, with which variables); the others read the
org: the Tasks recording sends, the queue items and the process records of bulk sends.
"""

from __future__ import annotations

from collections import Counter
from email.utils import parseaddr
from typing import Any

from scenarios.invariants import INVARIANTS, Mismatch, soql_list
from scenarios.play import Play
from scenarios.registry import ALIAS_ARG, EMAIL_ARG, EMAILS_ARG, arg_schema

__all__ = ["send_processes", "smart_email_items", "smart_email_sent", "smart_email_tasks"]

TIMES_ARG: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": 1000}


def _emails(play: Play, args: dict[str, Any]) -> list[str]:
    if "email" in args:
        return [str(args["email"]).lower()]
    return play.emails(args["emails"])


def _client_of(play: Play, smart_email: str) -> str:
    with play.account.client() as http:
        for client in http.get("/clients.json").json():
            listed = http.get(
                "/transactional/smartEmail", params={"clientID": client["ClientID"]}
            ).json()
            if any(s.get("ID") == smart_email for s in listed):
                return str(client["ClientID"])
    return ""


@INVARIANTS.register(
    "smart_email_sent",
    "Campaign Monitor sent a smart email to these addresses this many times, with these variables.",
    arg_schema(
        ("smart_email",),
        smart_email=ALIAS_ARG,
        email=EMAIL_ARG,
        emails=EMAILS_ARG,
        times=TIMES_ARG,
        data={"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
    ),
    live=True,
)
def smart_email_sent(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Read ``transactional/messages?smartEmailID=`` (every page) and each message's data."""
    smart = play.ref(args["smart_email"], "smart_email")
    client = _client_of(play, smart)
    messages: list[dict[str, Any]] = []
    with play.account.client() as http:
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"clientID": client, "smartEmailID": smart, "count": 200}
            if cursor:
                params["sentBeforeID"] = cursor
            page = http.get("/transactional/messages", params=params).json()
            messages += page
            if len(page) < 200:
                break
            cursor = page[-1]["MessageID"]
        by_address: dict[str, list[str]] = {}
        for message in messages:
            address = parseaddr(str(message.get("Recipient") or ""))[1].lower()
            by_address.setdefault(address, []).append(str(message["MessageID"]))
        out = []
        times = int(args.get("times", 1))
        for email in _emails(play, args):
            found = by_address.get(email, [])
            if len(found) != times:
                out.append(Mismatch(f"{times} message(s)", f"{len(found)}", f"{email}"))
                continue
            for message_id in found if "data" in args else []:
                data = http.get(f"/transactional/messages/{message_id}").json()["Message"]["Data"]
                for key, wanted in args["data"].items():
                    if data.get(key) != wanted:
                        out.append(Mismatch(wanted, data.get(key), f"{key} sent to {email}"))
    return out


@INVARIANTS.register(
    "smart_email_tasks",
    "The Contacts (or Leads) with these addresses have this many Tasks recording smart emails.",
    arg_schema(
        email=EMAIL_ARG,
        emails=EMAILS_ARG,
        count=TIMES_ARG,
        object={"enum": ["Contact", "Lead"]},
        message_status={"type": "string", "maxLength": 40},
    ),
)
def smart_email_tasks(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Count Tasks with a Campaign Monitor MessageID per record (of a message status, if given)."""
    sobject = args.get("object", "Contact")
    emails = _emails(play, args)
    people = {
        str(r["Id"]): str(r["Email"]).lower()
        for r in play.org.query(
            f"SELECT Id, Email FROM {sobject} WHERE Email IN ({soql_list(emails)})"
        )
    }
    tasks = Counter(
        people.get(str(t["WhoId"]))
        for t in play.org.query(
            "SELECT WhoId, CMSF_Message_Status__c FROM Task WHERE CMSF_Message_Id__c != null"
        )
        if "message_status" not in args or t["CMSF_Message_Status__c"] == args["message_status"]
    )
    wanted = int(args.get("count", 1))
    return [
        Mismatch(wanted, tasks.get(e, 0), f"Tasks of {e}")
        for e in emails
        if tasks.get(e, 0) != wanted
    ]


@INVARIANTS.register(
    "smart_email_items",
    "Every smart email queue item has this status (and there are this many).",
    arg_schema(
        ("status",), status={"enum": ["Pending", "Sending", "Done", "Failed"]}, count=TIMES_ARG
    ),
)
def smart_email_items(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Read the queue's smart email items."""
    rows = play.org.query(
        "SELECT Status__c, Error__c FROM CMSF_Queue_Item__c WHERE Type__c = 'Smart Email'"
    )
    out = [
        Mismatch(args["status"], f"{r['Status__c']} ({r.get('Error__c') or ''})", "queue item")
        for r in rows
        if r["Status__c"] != args["status"]
    ]
    if "count" in args and len(rows) != args["count"]:
        out.append(Mismatch(args["count"], len(rows), "smart email queue items"))
    return out


@INVARIANTS.register(
    "send_processes",
    "The org holds this many process records of bulk sends, with this status and these counts.",
    arg_schema(
        count=TIMES_ARG,
        status={"enum": ["Pending", "Processing", "Done"]},
        total=TIMES_ARG,
        sent=TIMES_ARG,
        failed=TIMES_ARG,
    ),
)
def send_processes(play: Play, args: dict[str, Any]) -> list[Mismatch]:
    """Read ``CMSF_Process__c``."""
    rows = play.org.query(
        "SELECT Name, Status__c, Total__c, Sent__c, Failed__c FROM CMSF_Process__c ORDER BY Name"
    )
    out = []
    if "count" in args and len(rows) != args["count"]:
        out.append(Mismatch(args["count"], len(rows), "process records"))
    fields = {"status": "Status__c", "total": "Total__c", "sent": "Sent__c", "failed": "Failed__c"}
    for row in rows:
        for key, field in fields.items():
            if key in args and row.get(field) != args[key]:
                out.append(Mismatch(args[key], row.get(field), f"{field} of {row['Name']}"))
    return out
