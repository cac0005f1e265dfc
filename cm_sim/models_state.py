"""Subscriber state changes: the one place a state moves, with history, webhooks, suppression.

Every change writes the new ``State`` and its time (the subscriber's ``Date``) and
appends a row to the state history, which makes ``{state}.json?date=X`` exact: a row
appears in the endpoint of its *current* state when its last change is on/after X,
and leaves the old state's endpoint when it moves.

Platform rules applied here:

* Unsubscribe from a list whose ``UnsubscribeSetting`` is ``AllClientLists``
  unsubscribes the address from every list of the client where it is Active or
  Unconfirmed, and suppresses it; with ``OnlyThisList`` only that list changes and the
  address is suppressed when ``AddUnsubscribesToSuppList`` is set.
* A hard bounce makes the address Bounced in that list and suppresses it (``Bounced``).
* A spam complaint makes it Unsubscribed in that list and suppresses it
  (``Spam Complaint``); there is no separate Spam state in v3.3.
* A resubscribe from the unsubscribe success page makes it Active again in that list
  and takes it off the suppression list.
"""

from __future__ import annotations

import json
from typing import Any

from cm_sim.models_journeys import JourneysMixin
from cm_sim.times import wire_minute

__all__ = ["INACTIVE_STATES", "STATES", "StateMixin"]

STATES = ("Active", "Unconfirmed", "Unsubscribed", "Bounced", "Deleted")
INACTIVE_STATES = ("Unsubscribed", "Bounced", "Deleted", "Unconfirmed")
_RECEIVING = ("Active", "Unconfirmed")


class StateMixin(JourneysMixin):
    """State transitions of subscribers and their side effects."""

    def subscriber_row(self, list_id: str, email_norm: str) -> dict[str, Any] | None:
        """The stored subscriber of a list by normalised e-mail, or ``None``."""
        return self.store.one(
            "SELECT * FROM subscribers WHERE list_id = ? AND email_norm = ?", (list_id, email_norm)
        )

    def set_state(self, list_id: str, email_norm: str, state: str, ts: int) -> bool:
        """Move a subscriber to ``state`` at ``ts``; returns whether anything changed."""
        row = self.subscriber_row(list_id, email_norm)
        if row is None or row["state"] == state:
            return False
        self.store.execute(
            "UPDATE subscribers SET state = ?, state_ts = ? WHERE id = ?", (state, ts, row["id"])
        )
        self.store.execute(
            "INSERT INTO history (list_id, email_norm, state, ts) VALUES (?, ?, ?, ?)",
            (list_id, email_norm, state, ts),
        )
        if self.has_webhooks(list_id):
            lst = self.store.one("SELECT client_id FROM lists WHERE id = ?", (list_id,))
            tz = self.client_tz(str(lst["client_id"])) if lst else self.account_tz()
            base = {"Date": wire_minute(ts, tz), "EmailAddress": row["email"], "Name": row["name"]}
            if state == "Active":
                self.fire_webhooks(
                    list_id, "Subscribe", base | {"SignupIPAddress": "", "CustomFields": []}
                )
            elif state in ("Unsubscribed", "Bounced", "Deleted"):
                self.fire_webhooks(
                    list_id, "Deactivate", base | {"State": state, "CustomFields": []}
                )
        return True

    def unsubscribe_address(
        self, list_id: str, email_norm: str, ts: int, reason: str = "Unsubscribed"
    ) -> None:
        """Apply an unsubscribe with the list's ``UnsubscribeSetting`` and suppression rules."""
        lst = self.store.one("SELECT * FROM lists WHERE id = ?", (list_id,))
        row = self.subscriber_row(list_id, email_norm)
        if lst is None or row is None:
            return
        all_lists = lst["unsubscribe_setting"] == "AllClientLists"
        targets = [list_id]
        if all_lists:
            targets = [
                str(r["list_id"])
                for r in self.store.all(
                    "SELECT s.list_id FROM subscribers s JOIN lists l ON l.id = s.list_id "
                    "WHERE l.client_id = ? AND l.deleted = 0 AND s.email_norm = ? "
                    "AND s.state IN ('Active', 'Unconfirmed')",
                    (lst["client_id"], email_norm),
                )
            ]
        for target in targets:
            current = self.subscriber_row(target, email_norm)
            if current is not None and current["state"] in _RECEIVING:
                self.set_state(target, email_norm, "Unsubscribed", ts)
        if all_lists or lst["add_unsubs_to_supp"]:
            self.suppress_address(str(lst["client_id"]), str(row["email"]), reason, ts)

    def resubscribe_address(self, list_id: str, email_norm: str, ts: int) -> None:
        """Resubscribe from the success page: Active again and off the suppression list."""
        lst = self.store.one("SELECT * FROM lists WHERE id = ?", (list_id,))
        row = self.subscriber_row(list_id, email_norm)
        if lst is None or row is None or row["state"] != "Unsubscribed":
            return
        self.set_state(list_id, email_norm, "Active", ts)
        self.unsuppress_address(str(lst["client_id"]), email_norm)

    # -- pending-event handlers (called by catch_up at the event's time) ------------
    def _on_unsubscribe(self, ts: int, p: dict[str, Any]) -> None:
        self.unsubscribe_address(p["list_id"], p["email_norm"], ts, p.get("reason", "Unsubscribed"))

    def _on_resubscribe(self, ts: int, p: dict[str, Any]) -> None:
        self.resubscribe_address(p["list_id"], p["email_norm"], ts)

    def _on_bounce(self, ts: int, p: dict[str, Any]) -> None:
        row = self.subscriber_row(p["list_id"], p["email_norm"])
        lst = self.store.one("SELECT client_id FROM lists WHERE id = ?", (p["list_id"],))
        if row is None or lst is None:
            return
        if row["state"] in _RECEIVING:
            self.set_state(p["list_id"], p["email_norm"], "Bounced", ts)
        self.suppress_address(str(lst["client_id"]), str(row["email"]), "Bounced", ts)

    def _on_spam(self, ts: int, p: dict[str, Any]) -> None:
        row = self.subscriber_row(p["list_id"], p["email_norm"])
        lst = self.store.one("SELECT client_id FROM lists WHERE id = ?", (p["list_id"],))
        if row is None or lst is None:
            return
        if row["state"] in _RECEIVING:
            self.set_state(p["list_id"], p["email_norm"], "Unsubscribed", ts)
        self.suppress_address(str(lst["client_id"]), str(row["email"]), "Spam Complaint", ts)

    def _on_state(self, ts: int, p: dict[str, Any]) -> None:
        if p["state"] == "Unsubscribed" and p.get("rules", True):
            self.unsubscribe_address(p["list_id"], p["email_norm"], ts)
        else:
            self.set_state(p["list_id"], p["email_norm"], p["state"], ts)

    def _on_create(self, ts: int, p: dict[str, Any]) -> None:
        self.insert_subscriber(p["list_id"], p["email"], p["name"], p["state"], ts,
                               fields=p.get("fields", {}), consent=p.get("consent", "Yes"),
                               mobile=p.get("mobile", ""))  # fmt: skip

    def _on_suppress(self, ts: int, p: dict[str, Any]) -> None:
        self.suppress_address(p["client_id"], p["email"], p["reason"], ts)

    def _on_unsuppress(self, ts: int, p: dict[str, Any]) -> None:
        self.unsuppress_address(p["client_id"], p["email"].lower())

    def insert_subscriber(
        self,
        list_id: str,
        email: str,
        name: str,
        state: str,
        ts: int,
        *,
        fields: dict[str, Any] | None = None,
        consent: str = "Yes",
        mobile: str = "",
        consent_sms: str = "",
    ) -> bool:
        """Insert a new subscriber with its first history row; False if the address exists."""
        norm = email.strip().lower()
        if self.subscriber_row(list_id, norm) is not None:
            return False
        self.store.execute(
            "INSERT INTO subscribers (list_id, email, email_norm, name, state, state_ts, joined_ts, "
            "consent_track, mobile, consent_sms, reads_with, fields) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?)",
            (list_id, email.strip(), norm, name, state, ts, ts, consent, mobile, consent_sms,
             json.dumps(fields or {})),
        )  # fmt: skip
        self.store.execute(
            "INSERT INTO history (list_id, email_norm, state, ts) VALUES (?, ?, ?, ?)",
            (list_id, norm, state, ts),
        )
        if state == "Active" and self.has_webhooks(list_id):
            lst = self.store.one("SELECT client_id FROM lists WHERE id = ?", (list_id,))
            tz = self.client_tz(str(lst["client_id"])) if lst else self.account_tz()
            self.fire_webhooks(list_id, "Subscribe", {
                "Date": wire_minute(ts, tz), "EmailAddress": email.strip(), "Name": name,
                "SignupIPAddress": "", "CustomFields": []})  # fmt: skip
        return True
