"""Campaigns: drafts, scheduling, sending to lists and segments, reports and tags.

Sending resolves the recipients at the send moment: Active subscribers of the
campaign's lists and segments, each address once (first list wins), minus the
client's suppression list. A scheduled campaign is sent by the pending queue when
virtual time reaches its send date. The behaviour models then generate activity.
Hidden campaigns (``hide_campaign``) never appear anywhere in the API: not in the
sent/scheduled/draft lists, tags, history, and their own endpoints answer 301.
"""

from __future__ import annotations

import json
from typing import Any

from cm_sim.activity import activity_page, recipients_page
from cm_sim.behaviour import plan_activity
from cm_sim.exceptions import api_error
from cm_sim.models_base import ACCOUNT_SCOPE, Scope
from cm_sim.models_subscribers import SubscribersMixin, truthy
from cm_sim.paging import envelope, parse_paging
from cm_sim.segments import matches_rules
from cm_sim.times import parse_filter_date, parse_local, wire_minute
from cm_sim.validation import is_email, too_long

__all__ = ["CampaignsMixin"]

_KINDS = {
    "opens": "open",
    "clicks": "click",
    "unsubscribes": "unsubscribe",
    "bounces": "bounce",
    "spam": "spam",
}


class CampaignsMixin(SubscribersMixin):
    """Campaign operations and reports."""

    def create_campaign(self, client_id: str, body: Any, scope: Scope = ACCOUNT_SCOPE) -> str:
        """``POST /campaigns/{clientid}.json``; returns the new ``CampaignID``."""
        self.client_row(client_id, scope)
        if not isinstance(body, dict):
            raise api_error(400)
        for key, code in (("Subject", 304), ("Name", 305)):
            if not isinstance(body.get(key), str) or not body[key].strip() or too_long(body[key]):
                raise api_error(code)
        if not is_email(body.get("FromEmail")):
            raise api_error(306)
        list_ids = body.get("ListIDs") or []
        segment_ids = body.get("SegmentIDs") or []
        if (
            not isinstance(list_ids, list)
            or not isinstance(segment_ids, list)
            or not (list_ids or segment_ids)
        ):
            raise api_error(310)
        for lid in list_ids:
            if self.list_row(str(lid), scope)["client_id"] != client_id:
                raise api_error(101)
        for sid in segment_ids:
            self.segment_row(str(sid), scope)
        campaign_id = self.new_hex()
        fake_links = [f"https://example.com/{self.new_hex(8)}" for _ in range(3)]
        links = body.get("Links") if isinstance(body.get("Links"), list) else fake_links
        self.store.insert(
            "campaigns",
            {
                "id": campaign_id, "client_id": client_id, "name": body["Name"].strip(),
                "subject": body["Subject"], "from_name": body.get("FromName") or "",
                "from_email": body["FromEmail"], "reply_to": body.get("ReplyTo") or body["FromEmail"],
                "html_url": body.get("HtmlUrl") or "", "text_url": body.get("TextUrl") or "",
                "status": "draft", "created_ts": self.now_ts(), "scheduled_ts": 0, "sent_ts": 0,
                "hidden": 0, "list_ids": json.dumps(list_ids), "segment_ids": json.dumps(segment_ids),
                "tags": json.dumps([]), "links": json.dumps(links),
                "token": self.new_hex(16).upper(), "activity": 1,
            },
        )  # fmt: skip
        return campaign_id

    def campaign_row(self, campaign_id: str, scope: Scope = ACCOUNT_SCOPE) -> dict[str, Any]:
        """A visible campaign, or 400 Code 301 (hidden ones are invisible)."""
        row = self.store.one("SELECT * FROM campaigns WHERE id = ? AND hidden = 0", (campaign_id,))
        if row is None or (scope.client_id is not None and row["client_id"] != scope.client_id):
            raise api_error(301)
        return row

    def send_campaign(self, campaign_id: str, body: Any, scope: Scope = ACCOUNT_SCOPE) -> None:
        """``POST /campaigns/{id}/send.json``: ``SendDate`` ``immediately`` or client-local time."""
        row = self.campaign_row(campaign_id, scope)
        if row["status"] == "sent":
            raise api_error(331)
        when = (
            (body or {}).get("SendDate", "immediately") if isinstance(body, dict) else "immediately"
        )
        now = self.now_ts()
        if not isinstance(when, str) or when.strip().lower() == "immediately":
            self.deliver_campaign(campaign_id, now)
            return
        try:
            ts = parse_local(
                when, self.client_tz(str(row["client_id"])), ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")
            )
        except ValueError:
            raise api_error(
                337, "Invalid send date, use YYYY-MM-DD HH:MM or 'immediately'"
            ) from None
        if ts < now:
            raise api_error(337)
        self.store.execute(
            "UPDATE campaigns SET status = 'scheduled', scheduled_ts = ? WHERE id = ?",
            (ts, campaign_id),
        )
        self.schedule(ts, "send_campaign", {"campaign_id": campaign_id, "at": ts})

    def unschedule_campaign(self, campaign_id: str, scope: Scope = ACCOUNT_SCOPE) -> None:
        """``POST /campaigns/{id}/unschedule.json``; 341 when not scheduled."""
        row = self.campaign_row(campaign_id, scope)
        if row["status"] != "scheduled":
            raise api_error(341)
        self.store.execute(
            "UPDATE campaigns SET status = 'draft', scheduled_ts = 0 WHERE id = ?", (campaign_id,)
        )

    def delete_campaign(self, campaign_id: str, scope: Scope = ACCOUNT_SCOPE) -> None:
        """``DELETE /campaigns/{id}.json``."""
        self.campaign_row(campaign_id, scope)
        self.store.execute("DELETE FROM campaigns WHERE id = ?", (campaign_id,))

    def _on_send_campaign(self, ts: int, p: dict[str, Any]) -> None:
        row = self.store.one("SELECT * FROM campaigns WHERE id = ?", (p["campaign_id"],))
        if row is not None and row["status"] == "scheduled" and row["scheduled_ts"] == p["at"]:
            self.deliver_campaign(str(row["id"]), ts)

    def deliver_campaign(self, campaign_id: str, ts: int) -> int:
        """Send now: resolve recipients, store them, generate activity. Returns the count."""
        row = self.store.one("SELECT * FROM campaigns WHERE id = ?", (campaign_id,))
        if row is None:
            raise api_error(301)
        client_id = str(row["client_id"])
        chosen: dict[str, tuple[str, str]] = {}
        for lid in json.loads(row["list_ids"]):
            for r in self.store.all(
                "SELECT email, email_norm FROM subscribers s WHERE list_id = ? AND state = 'Active' "
                "AND NOT EXISTS (SELECT 1 FROM suppression p WHERE p.client_id = ? AND p.email_norm = s.email_norm) "
                "ORDER BY email_norm",
                (lid, client_id),
            ):
                chosen.setdefault(str(r["email_norm"]), (str(r["email"]), str(lid)))
        for sid in json.loads(row["segment_ids"]):
            seg = self.store.one("SELECT * FROM segments WHERE id = ?", (sid,))
            if seg is None:
                continue
            defs = self.field_defs(str(seg["list_id"]))
            rules = json.loads(seg["rules"])
            for r in self.store.all(
                "SELECT * FROM subscribers WHERE list_id = ? AND state = 'Active' ORDER BY email_norm",
                (seg["list_id"],),
            ):
                if (
                    r["email_norm"] not in chosen
                    and not self.is_suppressed(client_id, str(r["email_norm"]))
                    and matches_rules(r, defs, rules)
                ):
                    chosen[str(r["email_norm"])] = (str(r["email"]), str(seg["list_id"]))
        recipients = list(chosen.values())
        self.store.executemany(
            "INSERT INTO recipients (source, source_id, email, list_id, ts) VALUES ('campaign', ?, ?, ?, ?)",
            [(campaign_id, e, lid, ts) for e, lid in recipients],
        )
        self.store.execute(
            "UPDATE campaigns SET status = 'sent', sent_ts = ? WHERE id = ?", (ts, campaign_id)
        )
        if row["activity"]:
            two_click = {
                str(r["id"]) for r in self.store.all("SELECT id FROM lists WHERE two_click = 1")
            }
            plan_activity(
                self, "campaign", campaign_id, recipients, ts, json.loads(row["links"]), two_click
            )
        return len(recipients)

    def segment_members(
        self, segment: dict[str, Any], since: int | None = None
    ) -> list[dict[str, Any]]:
        """Active subscribers of the segment's list that match its rules (state change >= since)."""
        defs = self.field_defs(str(segment["list_id"]))
        rules = json.loads(segment["rules"])
        sql, params = (
            "SELECT * FROM subscribers WHERE list_id = ? AND state = 'Active'",
            [segment["list_id"]],
        )
        if since is not None:
            sql, params = sql + " AND state_ts >= ?", [*params, since]
        return [
            r
            for r in self.store.all(sql + " ORDER BY email_norm", params)
            if matches_rules(r, defs, rules)
        ]

    def segment_page(
        self, segment_id: str, args: dict[str, str], scope: Scope = ACCOUNT_SCOPE
    ) -> dict[str, Any]:
        """``GET /segments/{id}/active.json``: paged like a list's active subscribers (no ReadsEmailWith)."""
        seg = self.segment_row(segment_id, scope)
        lst = self.list_row(str(seg["list_id"]), scope)
        page = parse_paging(args, default_field="email", default_direction="asc")
        tz = self.list_tz(lst)
        try:
            since = parse_filter_date(args.get("date"), tz)
        except ValueError:
            raise api_error(400, "Invalid date, use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS") from None
        rows = self.segment_members(seg, since)
        key = {"email": lambda r: r["email_norm"], "name": lambda r: (r["name"], r["email_norm"]),
               "date": lambda r: (r["state_ts"], r["email_norm"])}[page.field]  # fmt: skip
        rows.sort(key=key, reverse=page.descending)
        defs = self.field_defs(str(seg["list_id"]))
        tracking = truthy(
            args.get("includetrackingpreference") or args.get("includetrackinginformation")
        )

        def fetch(limit: int, offset: int) -> list[dict[str, Any]]:
            out = []
            for r in rows[offset : offset + limit]:
                item = self.subscriber_to_api(r, defs, tz, tracking=tracking, sms=False)
                item.pop("ReadsEmailWith", None)
                out.append(item)
            return out

        return envelope(page, len(rows), fetch)

    # -- listings ----------------------------------------------------------------------
    def _web_urls(self, row: dict[str, Any]) -> tuple[str, str]:
        base = f"https://createsend.com/t/r-{row['token']}"
        return base, base + "/t"

    def sent_campaigns_to_api(
        self, client_id: str, args: dict[str, str], scope: Scope = ACCOUNT_SCOPE
    ) -> dict[str, Any]:
        """``GET /clients/{id}/campaigns.json`` (paged, ``SentDate desc`` by default)."""
        self.client_row(client_id, scope)
        page = parse_paging(args, default_field="date", default_direction="desc", fields=("date",))
        tz = self.client_tz(client_id)
        where = "client_id = ? AND status = 'sent' AND hidden = 0 AND sent_ts <= ?"
        params: list[Any] = [client_id, self.now_ts()]
        for key, op, extra in (("sentfromdate", ">=", 0), ("senttodate", "<", 86400)):
            value = (args.get(key) or "").strip()
            if value:
                try:
                    params.append(parse_local(value, tz, ("%Y-%m-%d",)) + extra)
                except ValueError:
                    raise api_error(400, f"Invalid {key}, use YYYY-MM-DD") from None
                where += f" AND sent_ts {op} ?"
        rows = self.store.all(f"SELECT * FROM campaigns WHERE {where}", params)
        tags = [t.strip().lower() for t in (args.get("tags") or "").split(",") if t.strip()]
        if tags:
            rows = [r for r in rows if {t.lower() for t in json.loads(r["tags"])} & set(tags)]
        rows.sort(key=lambda r: (r["sent_ts"], r["id"]), reverse=page.descending)

        def fetch(limit: int, offset: int) -> list[dict[str, Any]]:
            out = []
            for r in rows[offset : offset + limit]:
                web, text = self._web_urls(r)
                total = self.store.scalar(
                    "SELECT COUNT(*) FROM recipients WHERE source = 'campaign' AND source_id = ?",
                    (r["id"],),
                )
                item = {"WebVersionURL": web, "WebVersionTextURL": text, "CampaignID": r["id"],
                        "Subject": r["subject"], "Name": r["name"], "FromName": r["from_name"],
                        "FromEmail": r["from_email"], "ReplyTo": r["reply_to"],
                        "SentDate": wire_minute(int(r["sent_ts"]), tz), "TotalRecipients": int(total or 0)}  # fmt: skip
                if json.loads(r["tags"]):
                    item["Tags"] = json.loads(r["tags"])
                out.append(item)
            return out

        return envelope(page, len(rows), fetch, field_echo={"date": "SentDate"})

    def unsent_campaigns_to_api(
        self, client_id: str, status: str, scope: Scope = ACCOUNT_SCOPE
    ) -> list[dict[str, Any]]:
        """``/clients/{id}/drafts.json`` (``status='draft'``) or ``scheduled.json``."""
        client = self.client_row(client_id, scope)
        tz = self.client_tz(client_id)
        rows = self.store.all(
            "SELECT * FROM campaigns WHERE client_id = ? AND status = ? AND hidden = 0 ORDER BY created_ts, id",
            (client_id, status),
        )
        out = []
        for r in rows:
            web, text = self._web_urls(r)
            item: dict[str, Any] = {}
            if status == "scheduled":
                item = {
                    "DateScheduled": wire_minute(int(r["scheduled_ts"]), tz),
                    "ScheduledTimeZone": client["timezone"],
                }
            item |= {"CampaignID": r["id"], "Name": r["name"], "Subject": r["subject"],
                     "FromName": r["from_name"], "FromEmail": r["from_email"], "ReplyTo": r["reply_to"],
                     "DateCreated": wire_minute(int(r["created_ts"]), tz), "PreviewURL": web,
                     "PreviewTextURL": text, "Tags": json.loads(r["tags"])}  # fmt: skip
            out.append(item)
        return out

    def tags_to_api(self, client_id: str, scope: Scope = ACCOUNT_SCOPE) -> list[dict[str, Any]]:
        """``GET /clients/{id}/tags.json``: tags of visible campaigns with counts."""
        self.client_row(client_id, scope)
        counts: dict[str, int] = {}
        for r in self.store.all(
            "SELECT tags FROM campaigns WHERE client_id = ? AND hidden = 0", (client_id,)
        ):
            for tag in json.loads(r["tags"]):
                counts[tag] = counts.get(tag, 0) + 1
        return [{"Name": name, "NumberOfCampaigns": n} for name, n in sorted(counts.items())]

    # -- reports -----------------------------------------------------------------------
    def campaign_summary_to_api(
        self, campaign_id: str, scope: Scope = ACCOUNT_SCOPE
    ) -> dict[str, Any]:
        """``GET /campaigns/{id}/summary.json``."""
        row = self.campaign_row(campaign_id, scope)
        now = self.now_ts()

        def count(kind: str, distinct: bool = False) -> int:
            what = "COUNT(DISTINCT lower(email))" if distinct else "COUNT(*)"
            return int(self.store.scalar(
                f"SELECT {what} FROM activity WHERE source = 'campaign' AND source_id = ? AND kind = ? AND ts <= ?",
                (campaign_id, kind, now)) or 0)  # fmt: skip

        recipients = self.store.scalar(
            "SELECT COUNT(*) FROM recipients WHERE source = 'campaign' AND source_id = ? AND ts <= ?",
            (campaign_id, now),
        )
        web, text = self._web_urls(row)
        return {"Name": row["name"], "Recipients": int(recipients or 0), "TotalOpened": count("open"),
                "Clicks": count("click"), "Unsubscribed": count("unsubscribe"), "Bounced": count("bounce"),
                "UniqueOpened": count("open", True), "Mentions": 0, "Forwards": 0, "Likes": 0,
                "WebVersionURL": web, "WebVersionTextURL": text,
                "WorldviewURL": f"https://client.createsend.com/reports/wv/r/{row['token']}",
                "SpamComplaints": count("spam")}  # fmt: skip

    def lists_and_segments_to_api(
        self, campaign_id: str, scope: Scope = ACCOUNT_SCOPE
    ) -> dict[str, Any]:
        """``GET /campaigns/{id}/listsandsegments.json``."""
        row = self.campaign_row(campaign_id, scope)
        lists = []
        for lid in json.loads(row["list_ids"]):
            lst = self.store.one("SELECT id, title FROM lists WHERE id = ?", (lid,))
            if lst is not None:
                lists.append({"ListID": lst["id"], "Name": lst["title"]})
        segs = []
        for sid in json.loads(row["segment_ids"]):
            seg = self.store.one("SELECT * FROM segments WHERE id = ?", (sid,))
            if seg is not None:
                segs.append(
                    {"ListID": seg["list_id"], "SegmentID": seg["id"], "Title": seg["title"]}
                )
        return {"Lists": lists, "Segments": segs}

    def campaign_report_page(
        self, campaign_id: str, what: str, args: dict[str, str], scope: Scope = ACCOUNT_SCOPE
    ) -> dict[str, Any]:
        """``recipients``/``opens``/``clicks``/``unsubscribes``/``bounces``/``spam`` of a campaign."""
        row = self.campaign_row(campaign_id, scope)
        tz = self.client_tz(str(row["client_id"]))
        if what == "recipients":
            return recipients_page(self.store, self.now_ts(), "campaign", campaign_id, args, tz)
        return activity_page(
            self.store, self.now_ts(), "campaign", campaign_id, _KINDS[what], args, tz
        )

    def email_client_usage_to_api(
        self, campaign_id: str, scope: Scope = ACCOUNT_SCOPE
    ) -> list[dict[str, Any]]:
        """``GET /campaigns/{id}/emailclientusage.json`` from the openers' mail clients."""
        self.campaign_row(campaign_id, scope)
        rows = self.store.all(
            "SELECT mail_client, COUNT(DISTINCT lower(email)) AS n FROM activity WHERE source = 'campaign' "
            "AND source_id = ? AND kind = 'open' AND ts <= ? GROUP BY mail_client ORDER BY n DESC",
            (campaign_id, self.now_ts()),
        )
        total = sum(int(r["n"]) for r in rows) or 1
        return [{"Client": str(r["mail_client"]).split("/")[0], "Version": str(r["mail_client"]).split("/")[-1],
                 "Percentage": round(100.0 * int(r["n"]) / total, 2), "Subscribers": int(r["n"])}
                for r in rows]  # fmt: skip
