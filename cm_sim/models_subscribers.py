"""Subscribers: add (upsert), update, import, unsubscribe, delete, reads and history.

Rules (see the README for the choices where the reference is unconfirmed):

* Add is an upsert: an existing address gets its name, custom fields, consent and
  mobile updated. ``Date`` (last state change) does not move for detail edits.
* An inactive address (Unsubscribed, Deleted, Bounced, Unconfirmed) or one on the
  client's suppression list is re-activated only with ``Resubscribe``. Without it the
  state does not change; by default the call still succeeds silently (details are
  updated), or with ``account.strict_inactive_adds = True`` it fails with 204
  (suppressed), 205 (deleted), 206 (unsubscribed), 207 (bounced), 208 (unconfirmed).
* A new single add to a confirmed-opt-in list is Unconfirmed until confirmed;
  imports are Active immediately. Single adds are applied at once (not queued).
* Import: at most 1,000 rows (209), at least one (212); rows that fail validation are
  reported in ``FailureDetails`` with their code and the call answers 400 Code 210
  with ``ResultData`` while the valid rows are kept.
"""

from __future__ import annotations

import json
from typing import Any

from cm_sim.exceptions import CmApiError, api_error
from cm_sim.models_base import ACCOUNT_SCOPE, Scope
from cm_sim.models_lists import ListsMixin
from cm_sim.models_state import STATES
from cm_sim.paging import envelope, parse_paging
from cm_sim.times import parse_filter_date, wire_minute
from cm_sim.validation import (
    MAX_NAME_LENGTH,
    apply_custom_fields,
    is_email,
    normalise_consent,
    normalise_email,
    normalise_mobile,
    too_long,
)

__all__ = ["SubscribersMixin", "truthy"]

_INACTIVE_CODES = {"Deleted": 205, "Unsubscribed": 206, "Bounced": 207, "Unconfirmed": 208}
_ORDER = {
    "email": "email_norm {d}",
    "name": "name {d}, email_norm {d}",
    "date": "state_ts {d}, email_norm {d}",
}
MAX_IMPORT = 1000


def truthy(value: Any) -> bool:
    """A JSON or query boolean (``true``, ``True``, ``"true"``, 1)."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _obj(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise api_error(400)
    return body


class SubscribersMixin(ListsMixin):
    """Subscriber operations of the API."""

    strict_inactive_adds: bool

    # -- rendering ----------------------------------------------------------------------
    def _fields_to_api(
        self, stored: dict[str, Any], defs: list[dict[str, Any]]
    ) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for field in defs:
            value = stored.get(str(field["id"]))
            if value is None:
                continue
            for v in value if isinstance(value, list) else [value]:
                out.append({"Key": field["name"], "Value": v})
        return out

    def subscriber_to_api(
        self, row: dict[str, Any], defs: list[dict[str, Any]], tz: Any, *, tracking: bool, sms: bool
    ) -> dict[str, Any]:
        """One subscriber in the ``active_subscribers.json`` row shape."""
        out: dict[str, Any] = {
            "EmailAddress": row["email"], "Name": row["name"],
            "Date": wire_minute(int(row["state_ts"]), tz),
            "ListJoinedDate": wire_minute(int(row["joined_ts"]), tz), "State": row["state"],
            "CustomFields": self._fields_to_api(json.loads(row["fields"]), defs),
            "ReadsEmailWith": row["reads_with"],
        }  # fmt: skip
        if tracking:
            out["ConsentToTrack"] = row["consent_track"]
        if sms:
            out["MobileNumber"] = row["mobile"]
            out["ConsentToSendSms"] = row["consent_sms"]
        return out

    # -- reads --------------------------------------------------------------------------
    def subscribers_page(
        self, list_id: str, state: str, args: dict[str, str], scope: Scope = ACCOUNT_SCOPE
    ) -> dict[str, Any]:
        """``GET /lists/{id}/{state}.json``: current state = ``state``, last change on/after ``date``."""
        lst = self.list_row(list_id, scope)
        if state not in STATES:
            raise api_error(400, "Invalid state")
        page = parse_paging(args, default_field="email", default_direction="asc")
        tz = self.list_tz(lst)
        try:
            since = parse_filter_date(args.get("date"), tz)
        except ValueError:
            raise api_error(400, "Invalid date, use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS") from None
        where = "list_id = ? AND state = ?"
        params: list[Any] = [list_id, state]
        if since is not None:
            where += " AND state_ts >= ?"
            params.append(since)
        total = self.store.count(f"SELECT COUNT(*) FROM subscribers WHERE {where}", params)
        order = _ORDER[page.field].format(d="DESC" if page.descending else "ASC")
        defs = self.field_defs(list_id)
        tracking = truthy(args.get("includetrackingpreference"))
        sms = truthy(args.get("includesmspreference"))

        def fetch(limit: int, offset: int) -> list[dict[str, Any]]:
            rows = self.store.all(
                f"SELECT * FROM subscribers WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
            return [self.subscriber_to_api(r, defs, tz, tracking=tracking, sms=sms) for r in rows]

        return envelope(page, total, fetch)

    def _existing(self, list_id: str, email: str | None) -> dict[str, Any]:
        if not email or not isinstance(email, str):
            raise api_error(203)
        row = self.subscriber_row(list_id, email.strip().lower())
        if row is None:
            raise api_error(203)
        return row

    def subscriber_details_to_api(
        self, list_id: str, email: str | None, args: dict[str, str], scope: Scope = ACCOUNT_SCOPE
    ) -> dict[str, Any]:
        """``GET /subscribers/{listid}.json?email=``; 203 when the address is not in the list."""
        lst = self.list_row(list_id, scope)
        row = self._existing(list_id, email)
        return self.subscriber_to_api(
            row, self.field_defs(list_id), self.list_tz(lst),
            tracking=truthy(args.get("includetrackingpreference")),
            sms=truthy(args.get("includesmspreference")),
        )  # fmt: skip

    def lists_for_email_to_api(
        self, client_id: str, email: str | None, scope: Scope = ACCOUNT_SCOPE
    ) -> list[dict[str, Any]]:
        """``GET /clients/{id}/listsforemail.json?email=``."""
        self.client_row(client_id, scope)
        if not is_email(email):
            raise api_error(1)
        tz = self.client_tz(client_id)
        rows = self.store.all(
            "SELECT l.id, l.title, s.state, s.joined_ts FROM subscribers s JOIN lists l "
            "ON l.id = s.list_id WHERE l.client_id = ? AND l.deleted = 0 AND s.email_norm = ? "
            "ORDER BY l.title",
            (client_id, str(email).strip().lower()),
        )
        return [
            {"ListID": r["id"], "ListName": r["title"], "SubscriberState": r["state"],
             "DateSubscriberAdded": wire_minute(int(r["joined_ts"]), tz)}
            for r in rows
        ]  # fmt: skip

    def history_to_api(
        self, list_id: str, email: str | None, scope: Scope = ACCOUNT_SCOPE
    ) -> list[dict[str, Any]]:
        """``GET /subscribers/{listid}/history.json?email=``: campaigns received, newest first."""
        lst = self.list_row(list_id, scope)
        row = self._existing(list_id, email)
        tz, now = self.list_tz(lst), self.now_ts()
        campaigns = self.store.all(
            "SELECT c.id, c.name, r.ts FROM recipients r JOIN campaigns c ON c.id = r.source_id "
            "WHERE r.source = 'campaign' AND r.list_id = ? AND lower(r.email) = ? AND r.ts <= ? "
            "AND c.hidden = 0 ORDER BY r.ts DESC",
            (list_id, row["email_norm"], now),
        )
        events = {
            "open": "Open",
            "click": "Click",
            "unsubscribe": "Unsubscribe",
            "bounce": "Bounce",
            "spam": "Spam",
        }
        out = []
        for c in campaigns:
            acts = self.store.all(
                "SELECT * FROM activity WHERE source = 'campaign' AND source_id = ? "
                "AND lower(email) = ? AND ts <= ? ORDER BY ts DESC, id DESC",
                (c["id"], row["email_norm"], now),
            )
            out.append({"ID": c["id"], "Type": "Campaign", "Name": c["name"], "Actions": [
                {"Event": events[a["kind"]], "Date": wire_minute(int(a["ts"]), tz),
                 "IPAddress": a["ip"], "Detail": a["url"] or a["reason"]}
                for a in acts]})  # fmt: skip
        return out

    # -- writes -------------------------------------------------------------------------
    def _contact_fields(
        self, body: dict[str, Any], email_ok: bool
    ) -> tuple[str | None, str | None]:
        """Validated (mobile, sms consent); ``None`` means "leave unchanged"."""
        mobile: str | None = None
        if "MobileNumber" in body:
            try:
                mobile = normalise_mobile(body.get("MobileNumber"))
            except CmApiError:
                raise api_error(220 if email_ok else 221) from None
        if not email_ok:
            raise api_error(1)
        sms: str | None = None
        if body.get("ConsentToSendSms") not in (None, ""):
            sms = normalise_consent(body.get("ConsentToSendSms"), missing=222, invalid=222)
        return mobile, sms

    def _upsert(
        self,
        lst: dict[str, Any],
        row: dict[str, Any] | None,
        data: dict[str, Any],
        *,
        resubscribe: bool,
        via: str,
    ) -> tuple[str, int | None]:
        """Apply one validated add; returns (``new``|``existing``|``reactivated``|``skipped``, code)."""
        list_id, email = str(lst["id"]), str(data["email"])
        norm = email.lower()
        now = self.now_ts()
        suppressed = self.is_suppressed(str(lst["client_id"]), norm)
        consent = data["consent"]
        if row is None:
            if suppressed and not resubscribe:
                return "skipped", 204
            state = "Unconfirmed" if lst["confirmed_opt_in"] and via == "add" else "Active"
            self.insert_subscriber(
                list_id, email, data["name"] or "", state, now, fields=data["fields"],
                consent="" if consent == "Unchanged" else consent, mobile=data["mobile"] or "",
                consent_sms="" if data["sms"] in (None, "Unchanged") else data["sms"],
            )  # fmt: skip
            return "new", None
        code = None
        if row["state"] != "Active" and not resubscribe:
            code = _INACTIVE_CODES[row["state"]]
        elif row["state"] == "Active" and suppressed and not resubscribe:
            code = None
        if code is not None and self.strict_inactive_adds:
            return "skipped", code
        self._update_details(row, data)
        if row["state"] != "Active" and resubscribe:
            self.set_state(list_id, norm, "Active", now)
            return "reactivated", None
        return "existing", code

    def _update_details(
        self, row: dict[str, Any], data: dict[str, Any], new_email: str | None = None
    ) -> None:
        consent = row["consent_track"] if data["consent"] == "Unchanged" else data["consent"]
        mobile = row["mobile"] if data["mobile"] is None else data["mobile"]
        sms = row["consent_sms"] if data["sms"] in (None, "Unchanged") else data["sms"]
        name = row["name"] if data["name"] is None else data["name"]
        email = new_email or row["email"]
        self.store.execute(
            "UPDATE subscribers SET email = ?, email_norm = ?, name = ?, consent_track = ?, "
            "mobile = ?, consent_sms = ?, fields = ? WHERE id = ?",
            (
                email,
                email.lower(),
                name,
                consent,
                mobile,
                sms,
                json.dumps(data["fields"]),
                row["id"],
            ),
        )
        if self.has_webhooks(str(row["list_id"])):
            lst = self.store.one("SELECT client_id FROM lists WHERE id = ?", (row["list_id"],))
            tz = self.client_tz(str(lst["client_id"])) if lst else self.account_tz()
            self.fire_webhooks(str(row["list_id"]), "Update", {
                "Date": wire_minute(self.now_ts(), tz), "OldEmailAddress": row["email"],
                "EmailAddress": email, "Name": name, "State": row["state"], "CustomFields": []})  # fmt: skip

    def _read_input(
        self,
        list_id: str,
        body: dict[str, Any],
        row: dict[str, Any] | None,
        defs: list[dict[str, Any]],
    ) -> dict[str, Any]:
        email_ok = is_email(body.get("EmailAddress"))
        mobile, sms = self._contact_fields(body, email_ok)
        consent = normalise_consent(body.get("ConsentToTrack"))
        name = body.get("Name")
        if name is not None and not isinstance(name, str):
            raise api_error(400, "Name must be a string")
        if too_long(name):
            raise api_error(400, f"Name must be at most {MAX_NAME_LENGTH} characters")
        current = json.loads(row["fields"]) if row else {}
        fields = apply_custom_fields(defs, body.get("CustomFields"), current)
        return {"email": str(body["EmailAddress"]).strip(), "name": name, "consent": consent,
                "mobile": mobile, "sms": sms, "fields": fields}  # fmt: skip

    def add_subscriber(self, list_id: str, body: Any, scope: Scope = ACCOUNT_SCOPE) -> str:
        """``POST /subscribers/{listid}.json``; returns the e-mail address.

        Raises:
            CmApiError: 101, 1, 214/215, 220/221, 216, and 204-208 in strict mode.
        """
        lst = self.list_row(list_id, scope)
        body = _obj(body)
        row = self.subscriber_row(list_id, str(body.get("EmailAddress") or "").strip().lower())
        data = self._read_input(list_id, body, row, self.field_defs(list_id))
        outcome, code = self._upsert(
            lst, row, data, resubscribe=truthy(body.get("Resubscribe")), via="add"
        )
        if outcome == "skipped" and self.strict_inactive_adds and code is not None:
            raise api_error(code)
        restart = truthy(body.get("RestartSubscriptionBasedAutoresponders"))
        if (outcome == "new" and not lst["confirmed_opt_in"]) or (
            outcome == "reactivated" and restart
        ):
            self.start_journeys(list_id, [data["email"]], self.now_ts())
        return str(data["email"])

    def update_subscriber(
        self, list_id: str, email: str | None, body: Any, scope: Scope = ACCOUNT_SCOPE
    ) -> None:
        """``PUT /subscribers/{listid}.json?email=``: details, new address, optional resubscribe."""
        self.list_row(list_id, scope)
        row = self._existing(list_id, email)
        body = _obj(body)
        new_email = normalise_email(body.get("EmailAddress"), code=211)
        if new_email.lower() != row["email_norm"] and self.subscriber_row(
            list_id, new_email.lower()
        ):
            raise api_error(201)
        data = self._read_input(
            list_id, body | {"EmailAddress": new_email}, row, self.field_defs(list_id)
        )
        self._update_details(row, data, new_email)
        if row["state"] != "Active" and truthy(body.get("Resubscribe")):
            self.set_state(list_id, new_email.lower(), "Active", self.now_ts())
            if truthy(body.get("RestartSubscriptionBasedAutoresponders")):
                self.start_journeys(list_id, [new_email], self.now_ts())

    def unsubscribe(self, list_id: str, body: Any, scope: Scope = ACCOUNT_SCOPE) -> None:
        """``POST /subscribers/{listid}/unsubscribe.json`` with ``{EmailAddress}``."""
        self.list_row(list_id, scope)
        email = _obj(body).get("EmailAddress")
        if not is_email(email):
            raise api_error(1)
        row = self._existing(list_id, str(email))
        self.unsubscribe_address(list_id, str(row["email_norm"]), self.now_ts())

    def delete_subscriber(
        self, list_id: str, email: str | None, scope: Scope = ACCOUNT_SCOPE
    ) -> None:
        """``DELETE /subscribers/{listid}.json?email=``: state becomes Deleted."""
        self.list_row(list_id, scope)
        row = self._existing(list_id, email)
        self.set_state(list_id, str(row["email_norm"]), "Deleted", self.now_ts())

    def import_subscribers(
        self, list_id: str, body: Any, scope: Scope = ACCOUNT_SCOPE
    ) -> dict[str, Any]:
        """``POST /subscribers/{listid}/import.json``; see the module docstring for the rules."""
        lst = self.list_row(list_id, scope)
        body = _obj(body)
        subs = body.get("Subscribers")
        if not isinstance(subs, list):
            raise api_error(400, "Subscribers must be a list")
        if not subs:
            raise api_error(212)
        if len(subs) > MAX_IMPORT:
            raise api_error(209)
        resubscribe = truthy(body.get("Resubscribe"))
        queue = truthy(
            body.get("QueueSubscriptionBasedAutoResponders")
            or body.get("QueueSubscriptionBasedAutoresponders")
        )
        restart = truthy(body.get("RestartSubscriptionBasedAutoresponders"))
        defs = self.field_defs(list_id)
        norms = [
            str(s.get("EmailAddress", "")).strip().lower() for s in subs if isinstance(s, dict)
        ]
        existing = self._prefetch(list_id, norms)
        failures: list[dict[str, Any]] = []
        seen: set[str] = set()
        dupes: list[str] = []
        counts = {"new": 0, "existing": 0}
        joined: list[str] = []
        restarted: list[str] = []
        for sub in subs:
            raw = sub.get("EmailAddress") if isinstance(sub, dict) else None
            norm = str(raw or "").strip().lower()
            if norm in seen:
                if raw not in dupes:
                    dupes.append(str(raw))
                continue
            seen.add(norm)
            try:
                data = self._read_input(list_id, _obj(sub), existing.get(norm), defs)
            except CmApiError as exc:
                failures.append({"EmailAddress": raw, "Code": exc.code, "Message": exc.message})
                continue
            outcome, code = self._upsert(
                lst, existing.get(norm), data, resubscribe=resubscribe, via="import"
            )
            if outcome == "skipped" and code is not None:
                failures.append(
                    {"EmailAddress": raw, "Code": code, "Message": api_error(code).message}
                )
                continue
            counts["new" if outcome == "new" else "existing"] += 1
            if outcome == "new":
                joined.append(data["email"])
            elif outcome == "reactivated":
                restarted.append(data["email"])
        now = self.now_ts()
        if queue:
            self.start_journeys(list_id, joined, now)
        if restart:
            self.start_journeys(list_id, restarted, now)
        result = {"FailureDetails": failures, "TotalUniqueEmailsSubmitted": len(seen),
                  "TotalExistingSubscribers": counts["existing"],
                  "TotalNewSubscribers": counts["new"], "DuplicateEmailsInSubmission": dupes}  # fmt: skip
        if failures:
            raise api_error(210, result_data=result, commit=True)
        return result

    def _prefetch(self, list_id: str, norms: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(n for n in norms if n))
        for i in range(0, len(unique), 500):
            chunk = unique[i : i + 500]
            marks = ",".join("?" for _ in chunk)
            for row in self.store.all(
                f"SELECT * FROM subscribers WHERE list_id = ? AND email_norm IN ({marks})",
                [list_id, *chunk],
            ):
                found[str(row["email_norm"])] = row
        return found
