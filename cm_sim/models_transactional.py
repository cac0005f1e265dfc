"""Transactional email: smart emails, classic sends, the message log and statistics.

Each recipient of a send (To, CC and BCC) gets its own message with a MessageID; the
send answers 202 with ``[{MessageID, Recipient, Status: "Received"}]``. A message is
delivered two seconds later; until then it is listed as ``Received``, afterwards as
``Delivered`` (or ``Bounced``/``Spam`` when the behaviour models say so). With an
account-level key the client comes from ``clientID`` (a direct account, or a
client-level key, implies it).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any

from cm_sim.behaviour import plan_activity
from cm_sim.exceptions import ControlError, api_error
from cm_sim.models_base import ACCOUNT_SCOPE, Scope
from cm_sim.models_campaigns import CampaignsMixin
from cm_sim.times import day_start, iso_local, parse_day, tz_offset, wire_minute
from cm_sim.validation import is_email, normalise_consent

__all__ = ["TransactionalMixin"]

MAX_RECIPIENTS = 25
MAX_DATA_BYTES = 100 * 1024


def _addresses(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, str) for i in items):
        raise api_error(1)
    return [i.strip() for i in items if i.strip()]


class TransactionalMixin(CampaignsMixin):
    """Smart and classic transactional email."""

    def create_smart_email(
        self,
        client_id: str,
        name: str,
        *,
        variables: list[str] | None = None,
        subject: str = "",
        sender: str = '"Team" <team@example.com>',
        reply_to: str = "",
        status: str = "Active",
        add_recipients_to_list: str | None = None,
    ) -> str:
        """Create a smart email (control API; it is built in the app, not the API)."""
        self.client_row(client_id)
        if status not in ("Active", "Draft"):
            raise ControlError("status must be Active or Draft")
        if add_recipients_to_list is not None:
            self.list_row(add_recipients_to_list)
        smart_id = self.new_uuid()
        self.store.insert("smart_emails", {
            "id": smart_id, "client_id": client_id, "name": name, "status": status,
            "created_ts": self.now_ts(), "sender": sender, "reply_to": reply_to,
            "subject": subject or name, "html": "Content managed in Email Builder",
            "text": "Content managed in Email Builder", "variables": json.dumps(variables or []),
            "list_id": add_recipients_to_list or "", "inline_css": 1,
        })  # fmt: skip
        return smart_id

    def tx_client(self, args: dict[str, str], scope: Scope) -> str:
        """The client a transactional call is about (``clientID``, key or direct account)."""
        given = (args.get("clientID") or args.get("clientid") or "").strip()
        if given:
            return str(self.client_row(given, scope)["id"])
        if scope.client_id is not None:
            return scope.client_id
        ids = [r["id"] for r in self.store.all("SELECT id FROM clients")]
        if len(ids) == 1:
            return str(ids[0])
        raise api_error(102, "A clientID is required when using an account-level API key")

    def _smart_row(self, smart_id: str, scope: Scope) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM smart_emails WHERE id = ?", (smart_id,))
        if row is None or (scope.client_id is not None and row["client_id"] != scope.client_id):
            raise api_error(926)
        return row

    def smart_emails_to_api(
        self, args: dict[str, str], scope: Scope = ACCOUNT_SCOPE
    ) -> list[dict[str, Any]]:
        """``GET /transactional/smartEmail?status=all|active|draft``."""
        status = (args.get("status") or "all").strip().lower()
        if status not in ("all", "active", "draft"):
            raise api_error(932)
        client_id = self.tx_client(args, scope)
        tz = self.client_tz(client_id)
        rows = self.store.all(
            "SELECT * FROM smart_emails WHERE client_id = ? ORDER BY created_ts DESC, id",
            (client_id,),
        )
        return [{"ID": r["id"], "Name": r["name"], "CreatedAt": iso_local(int(r["created_ts"]), tz), "Status": r["status"]}
                for r in rows if status == "all" or r["status"].lower() == status]  # fmt: skip

    def smart_email_details_to_api(
        self, smart_id: str, scope: Scope = ACCOUNT_SCOPE
    ) -> dict[str, Any]:
        """``GET /transactional/smartEmail/{id}`` (status lower-case, as the platform writes it)."""
        r = self._smart_row(smart_id, scope)
        tz = self.client_tz(str(r["client_id"]))
        preview = f"https://createsend.com/t/r-{smart_id.replace('-', '')[:16].upper()}"
        return {"SmartEmailID": r["id"], "Name": r["name"], "CreatedAt": iso_local(int(r["created_ts"]), tz),
                "Status": r["status"].lower(), "Properties": {
                    "From": r["sender"], "ReplyTo": r["reply_to"], "Subject": r["subject"],
                    "Content": {"HTML": r["html"], "Text": r["text"], "EmailVariables": json.loads(r["variables"]),
                                "InlineCss": bool(r["inline_css"])},
                    "TextPreviewUrl": preview + "/T", "HtmlPreviewUrl": preview + "/"},
                "AddRecipientsToList": bool(r["list_id"])}  # fmt: skip

    def _common_send(self, body: Any) -> tuple[list[str], dict[str, Any], str]:
        if not isinstance(body, dict):
            raise api_error(400)
        to, cc, bcc = (
            _addresses(body.get("To")),
            _addresses(body.get("CC")),
            _addresses(body.get("BCC")),
        )
        everyone = to + cc + bcc
        if not everyone:
            raise api_error(952)
        if len(everyone) > MAX_RECIPIENTS:
            raise api_error(954)
        for addr in everyone:
            if not is_email(parseaddr(addr)[1]):
                raise api_error(1, f"Invalid Email Address: {addr[:60]}")
        consent = normalise_consent(body.get("ConsentToTrack"), missing=974, invalid=974)
        data = body.get("Data") or {}
        if not isinstance(data, dict):
            raise api_error(400, "Data must be an object")
        if len(json.dumps(data).encode()) > MAX_DATA_BYTES:
            raise api_error(996)
        attachments = body.get("Attachments") or []
        if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
            raise api_error(400, "Attachments must be a list of objects")
        message = {"To": to, "CC": cc, "BCC": bcc, "Data": data,
                   "Attachments": [{"Name": a.get("Name"), "Type": a.get("Type")} for a in attachments]}  # fmt: skip
        return everyone, message, consent

    def _record_send(
        self,
        client_id: str,
        everyone: list[str],
        message: dict[str, Any],
        *,
        smart_id: str = "",
        group: str = "",
        sender: str,
        subject: str,
        status: str = "Received",
    ) -> list[dict[str, Any]]:
        now = self.now_ts()
        seq = int(self.store.scalar("SELECT COALESCE(MAX(seq), 0) FROM messages") or 0)
        out = []
        for addr in everyone:
            seq += 1
            mid = self.new_uuid()
            self.store.insert("messages", {
                "id": mid, "seq": seq, "client_id": client_id, "smart_email_id": smart_id, "grp": group,
                "ts": now, "delivered_ts": now + 2, "final_status": "Delivered", "recipient": addr,
                "sender": sender, "subject": subject, "message": json.dumps(message), "resendable": 1,
            })  # fmt: skip
            plan_activity(self, "tx", mid, [(parseaddr(addr)[1], "")], now + 2, [], set())
            out.append({"MessageID": mid, "Recipient": addr, "Status": status})
        return out

    def _add_to_list(self, list_id: str, addresses: list[str], consent: str) -> None:
        now = self.now_ts()
        for addr in addresses:
            name, email = parseaddr(addr)
            self.insert_subscriber(
                list_id,
                email,
                name,
                "Active",
                now,
                consent="" if consent == "Unchanged" else consent,
            )

    def send_smart_email(
        self, smart_id: str, body: Any, scope: Scope = ACCOUNT_SCOPE
    ) -> list[dict[str, Any]]:
        """``POST /transactional/smartEmail/{id}/send`` (202)."""
        row = self._smart_row(smart_id, scope)
        if row["status"] != "Active":
            raise api_error(926, "Smart email is not active")
        everyone, message, consent = self._common_send(body)
        message |= {
            "From": row["sender"],
            "Subject": row["subject"],
            "Body": {"Html": row["html"], "Text": row["text"]},
        }
        if body.get("AddRecipientsToList") is True and row["list_id"]:
            self._add_to_list(str(row["list_id"]), message["To"], consent)
        return self._record_send(str(row["client_id"]), everyone, message, smart_id=smart_id,
                                 sender=str(row["sender"]), subject=str(row["subject"]))  # fmt: skip

    def send_classic_email(
        self, body: Any, args: dict[str, str], scope: Scope = ACCOUNT_SCOPE
    ) -> list[dict[str, Any]]:
        """``POST /transactional/classicEmail/send`` (202).

        The client comes from ``clientID`` in the query; createsend-node puts it in the
        body instead (its query string is lost), so a body ``clientID`` counts too.
        """
        given = body.get("clientID") if isinstance(body, dict) else None
        if (
            isinstance(given, str)
            and given.strip()
            and not (args.get("clientID") or args.get("clientid"))
        ):
            args = {**args, "clientID": given}
        client_id = self.tx_client(args, scope)
        everyone, message, consent = self._common_send(body)
        subject, sender = body.get("Subject"), body.get("From")
        if not isinstance(subject, str) or not subject.strip():
            raise api_error(400, "Subject is required")
        if not isinstance(sender, str) or not is_email(parseaddr(sender)[1]):
            raise api_error(1, "Invalid From address")
        list_id = body.get("AddRecipientsToList")
        if list_id:
            if self.list_row(str(list_id), scope)["client_id"] != client_id:
                raise api_error(101)
            self._add_to_list(str(list_id), message["To"], consent)
        message |= {
            "From": sender,
            "Subject": subject,
            "Body": {"Html": body.get("HTML") or "", "Text": body.get("Text") or ""},
        }
        group = body.get("Group") if isinstance(body.get("Group"), str) else ""
        return self._record_send(
            client_id, everyone, message, group=group or "", sender=sender, subject=subject
        )

    def classic_groups_to_api(
        self, args: dict[str, str], scope: Scope = ACCOUNT_SCOPE
    ) -> list[dict[str, Any]]:
        """``GET /transactional/classicEmail/groups``."""
        client_id = self.tx_client(args, scope)
        tz = self.client_tz(client_id)
        rows = self.store.all("SELECT grp, MIN(ts) AS ts FROM messages WHERE client_id = ? AND grp != '' "
                              "GROUP BY grp ORDER BY grp", (client_id,))  # fmt: skip
        return [{"Group": r["grp"], "CreatedAt": iso_local(int(r["ts"]), tz)} for r in rows]

    def _status(self, row: dict[str, Any], now: int) -> str:
        if now < int(row["delivered_ts"]):
            return "Received"
        kinds = {
            r["kind"]
            for r in self.store.all(
                "SELECT DISTINCT kind FROM activity WHERE source = 'tx' AND source_id = ? AND ts <= ?",
                (row["id"], now),
            )
        }
        return "Bounced" if "bounce" in kinds else "Spam" if "spam" in kinds else "Delivered"

    def _tx_events(self, mid: str, kind: str, now: int) -> list[dict[str, Any]]:
        return self.store.all("SELECT * FROM activity WHERE source = 'tx' AND source_id = ? AND kind = ? AND ts <= ? "
                              "ORDER BY ts", (mid, kind, now))  # fmt: skip

    def _message_summary(self, r: dict[str, Any], now: int, tz: Any) -> dict[str, Any]:
        out = {"MessageID": r["id"], "Status": self._status(r, now), "SentAt": iso_local(int(r["ts"]), tz),
               "Recipient": r["recipient"], "From": r["sender"], "Subject": r["subject"],
               "TotalOpens": len(self._tx_events(r["id"], "open", now)),
               "TotalClicks": len(self._tx_events(r["id"], "click", now)), "CanBeResent": bool(r["resendable"])}  # fmt: skip
        if r["grp"]:
            out["Group"] = r["grp"]
        if r["smart_email_id"]:
            out["SmartEmailID"] = r["smart_email_id"]
        return out

    def messages_to_api(
        self, args: dict[str, str], scope: Scope = ACCOUNT_SCOPE
    ) -> list[dict[str, Any]]:
        """``GET /transactional/messages`` (newest first, cursor by MessageID)."""
        client_id = self.tx_client(args, scope)
        try:
            count = int(args.get("count") or 50)
        except ValueError:
            raise api_error(850) from None
        if not 1 <= count <= 200:
            raise api_error(850)
        status = (args.get("status") or "all").strip().lower()
        if status not in ("all", "delivered", "bounced", "spam"):
            raise api_error(932)
        smart, group = args.get("smartEmailID") or args.get("smartemailid"), args.get("group")
        if smart and group:
            raise api_error(924)
        where, params = "client_id = ?", [client_id]
        for key, op, code in (("sentBeforeID", "<", 904), ("sentAfterID", ">", 905)):
            cursor = args.get(key) or args.get(key.lower())
            if cursor:
                seq = self.store.scalar(
                    "SELECT seq FROM messages WHERE id = ? AND client_id = ?", (cursor, client_id)
                )
                if seq is None:
                    raise api_error(code)
                where += f" AND seq {op} ?"
                params.append(seq)
        if smart:
            where += " AND smart_email_id = ?"
            params.append(smart)
        if group:
            where += " AND grp = ?"
            params.append(group)
        now, tz = self.now_ts(), self.client_tz(client_id)
        rows = self.store.all(
            f"SELECT * FROM messages WHERE {where} AND ts <= ? ORDER BY seq DESC", [*params, now]
        )
        out = [self._message_summary(r, now, tz) for r in rows]
        if status != "all":
            out = [m for m in out if m["Status"].lower() == status]
        return out[:count]

    def message_details_to_api(
        self, mid: str, args: dict[str, str], scope: Scope = ACCOUNT_SCOPE
    ) -> dict[str, Any]:
        """``GET /transactional/messages/{id}?statistics=&excludemessagebody=``."""
        row = self.store.one("SELECT * FROM messages WHERE id = ?", (mid,))
        if row is None or (scope.client_id is not None and row["client_id"] != scope.client_id):
            raise api_error(302)
        now, tz = self.now_ts(), self.client_tz(str(row["client_id"]))
        summary = self._message_summary(row, now, tz)
        message = json.loads(row["message"])
        if str(args.get("excludemessagebody", "")).lower() == "true":
            message.pop("Body", None)
        out: dict[str, Any] = {k: summary[k] for k in ("MessageID", "Status", "SentAt")}
        for key in ("SmartEmailID", "Group"):
            if key in summary:
                out[key] = summary[key]
        out |= {"CanBeResent": summary["CanBeResent"], "Recipient": row["recipient"],
                "Message": {k: message.get(k) for k in ("From", "Subject", "To", "CC", "BCC", "Attachments", "Body", "Data") if k in message},
                "TotalOpens": summary["TotalOpens"], "TotalClicks": summary["TotalClicks"]}  # fmt: skip
        if str(args.get("statistics", "")).lower() == "true":

            def geo(a: dict[str, Any]) -> dict[str, Any]:
                return {"Latitude": a["lat"], "Longitude": a["lon"], "City": a["city"], "Region": a["region"],
                        "CountryCode": a["country_code"], "CountryName": a["country_name"]}  # fmt: skip

            def client(a: dict[str, Any]) -> dict[str, str]:
                parts = (str(a["mail_client"]) + "//").split("/")
                return {"Name": parts[0], "OS": parts[1], "Device": parts[2]}

            out["Opens"] = [
                {
                    "EmailAddress": a["email"],
                    "Date": wire_minute(int(a["ts"]), tz),
                    "IPAddress": a["ip"],
                    "Geolocation": geo(a),
                    "MailClient": client(a),
                }
                for a in self._tx_events(mid, "open", now)
            ]
            out["Clicks"] = [{"EmailAddress": a["email"], "Date": wire_minute(int(a["ts"]), tz), "IPAddress": a["ip"],
                              "URL": a["url"], "Geolocation": geo(a)} for a in self._tx_events(mid, "click", now)]  # fmt: skip
        return out

    def resend_message(self, mid: str, scope: Scope = ACCOUNT_SCOPE) -> list[dict[str, Any]]:
        """``POST /transactional/messages/{id}/resend``: a new message, status ``Accepted``."""
        row = self.store.one("SELECT * FROM messages WHERE id = ?", (mid,))
        if row is None or (scope.client_id is not None and row["client_id"] != scope.client_id):
            raise api_error(302)
        if not row["resendable"]:
            raise api_error(410)
        return self._record_send(str(row["client_id"]), [str(row["recipient"])], json.loads(row["message"]),
                                 smart_id=str(row["smart_email_id"]), group=str(row["grp"]),
                                 sender=str(row["sender"]), subject=str(row["subject"]), status="Accepted")  # fmt: skip

    def tx_statistics_to_api(
        self, args: dict[str, str], scope: Scope = ACCOUNT_SCOPE
    ) -> dict[str, Any]:
        """``GET /transactional/statistics``: counts in a local-date window (default 30 days)."""
        client_id = self.tx_client(args, scope)
        use_utc = (args.get("timezone") or "client").strip().lower() == "utc"
        client_tz_name = str(self.client_row(client_id)["timezone"])
        tz = UTC if use_utc else tz_offset(client_tz_name)
        today = datetime.fromtimestamp(self.now_ts(), tz).date()
        try:
            start = parse_day(args["from"]) if args.get("from") else today - timedelta(days=29)
        except ValueError:
            raise api_error(920) from None
        try:
            end = parse_day(args["to"]) if args.get("to") else today
        except ValueError:
            raise api_error(922) from None
        smart, group = args.get("smartEmailID") or args.get("smartemailid"), args.get("group")
        if smart and group:
            raise api_error(924)
        lo, hi = day_start(start, tz), day_start(end + timedelta(days=1), tz)
        now = self.now_ts()
        sql, params = (
            "SELECT * FROM messages WHERE client_id = ? AND ts >= ? AND ts < ? AND ts <= ?",
            [client_id, lo, hi, now],
        )
        if smart:
            sql, params = sql + " AND smart_email_id = ?", [*params, smart]
        if group:
            sql, params = sql + " AND grp = ?", [*params, group]
        rows = self.store.all(sql, params)
        statuses = [self._status(r, now) for r in rows]
        opened = sum(1 for r in rows if self._tx_events(r["id"], "open", now))
        clicked = sum(1 for r in rows if self._tx_events(r["id"], "click", now))
        query: dict[str, Any] = (
            {"SmartEmailID": smart} if smart else {"Group": group} if group else {}
        )
        query |= {
            "From": start.isoformat(),
            "To": end.isoformat(),
            "TimeZone": "UTC" if use_utc else client_tz_name,
        }
        return {"Query": query, "Sent": len(rows), "Bounces": statuses.count("Bounced"),
                "Delivered": statuses.count("Delivered"), "Opened": opened, "Clicked": clicked}  # fmt: skip
