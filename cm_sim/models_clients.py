"""Clients, administrators, client people, billing and primary contacts.

Agency accounts hold several clients; a direct account holds exactly one and may not
create more (403 Code 403 "Not allowed for a Non-agency Customer"). Administrators are
the account's "Campaign Monitor users"; client people carry an ``AccessLevel`` bit
mask where 1023 is full access. The account's ``test_account`` flag is surfaced in
``/billingdetails.json`` as ``"TestAccount"`` next to ``Credits`` (see README).
"""

from __future__ import annotations

import json
from typing import Any

from cm_sim.exceptions import ControlError, api_error
from cm_sim.models_base import ACCOUNT_SCOPE, AccountBase, Scope
from cm_sim.times import DEFAULT_TIMEZONE, countries, timezones
from cm_sim.validation import is_email, too_long

__all__ = ["FULL_ACCESS", "ClientsMixin"]

FULL_ACCESS = 1023
"""``AccessLevel`` of a client person with full access."""

_DEFAULT_BILLING = {
    "CanPurchaseCredits": True, "ClientPays": True, "BaseRatePerRecipient": 1.0,
    "MarkupPerRecipient": 0.0, "MarkupOnDelivery": 0.0, "BaseDeliveryRate": 5.0,
    "Currency": "USD", "BaseDesignSpamTestRate": 5.0,
}  # fmt: skip


class ClientsMixin(AccountBase):
    """Clients and the people who use the account."""

    test_account: bool

    def create_client(
        self,
        company_name: str,
        timezone: str = DEFAULT_TIMEZONE,
        country: str = "Australia",
        *,
        contact_name: str = "",
        email: str = "",
        via_api: bool = False,
    ) -> str:
        """Create a client (``POST /clients.json``).

        Args:
            company_name: ``CompanyName``.
            timezone: ``TimeZone``, one of ``/timezones.json``.
            country: ``Country``, one of ``/countries.json``.
            contact_name: Contact name shown in client details.
            email: Contact e-mail shown in client details.
            via_api: Apply the API-only rules (direct accounts, 5 per 30 minutes).

        Returns:
            The new ``ClientID``.

        Raises:
            CmApiError: 403 on a direct account that already has its client, 152/154/157
                for bad values, 172 for a sixth client within 30 minutes.
        """
        count = int(self.store.scalar("SELECT COUNT(*) FROM clients") or 0)
        if self.kind == "direct" and count >= 1:
            raise api_error(403)
        if not isinstance(company_name, str) or not company_name.strip() or too_long(company_name):
            raise api_error(152)
        if country not in countries():
            raise api_error(154)
        if timezone not in timezones():
            raise api_error(157)
        now = self.now_ts()
        if via_api:
            recent = self.store.scalar(
                "SELECT COUNT(*) FROM clients WHERE created_ts > ?", (now - 1800,)
            )
            if int(recent or 0) >= 5:
                raise api_error(172)
        client_id = self.new_hex()
        self.store.insert(
            "clients",
            {
                "id": client_id, "name": company_name.strip(), "contact_name": contact_name,
                "email": email, "country": country, "timezone": timezone,
                "api_key": self.new_hex(48), "credits": 0, "primary_contact": "",
                "billing": json.dumps(_DEFAULT_BILLING), "created_ts": now,
            },
        )  # fmt: skip
        return client_id

    def clients_to_api(self, scope: Scope = ACCOUNT_SCOPE) -> list[dict[str, Any]]:
        """``GET /clients.json``: ``[{ClientID, Name}]``."""
        rows = self.store.all("SELECT id, name FROM clients ORDER BY name, id")
        return [
            {"ClientID": r["id"], "Name": r["name"]}
            for r in rows
            if scope.client_id in (None, r["id"])
        ]

    def client_details_to_api(self, client_id: str, scope: Scope = ACCOUNT_SCOPE) -> dict[str, Any]:
        """``GET /clients/{id}.json`` (``client_details.json`` shape)."""
        row = self.client_row(client_id, scope)
        billing = dict(json.loads(row["billing"]))
        billing["Credits"] = row["credits"]
        order = ["CanPurchaseCredits", "Credits", "ClientPays", "BaseRatePerRecipient",
                 "MarkupPerRecipient", "MarkupOnDelivery", "BaseDeliveryRate", "Currency",
                 "BaseDesignSpamTestRate"]  # fmt: skip
        return {
            "ApiKey": row["api_key"],
            "AccessDetails": {"Username": row["name"].lower().replace(" ", ""), "AccessLevel": 23},
            "BasicDetails": {
                "ClientID": row["id"], "CompanyName": row["name"],
                "ContactName": row["contact_name"], "EmailAddress": row["email"],
                "Country": row["country"], "TimeZone": row["timezone"],
            },
            "BillingDetails": {k: billing[k] for k in order if k in billing}
            | {"TestAccount": self.test_account},
        }  # fmt: skip

    def set_client_basics(self, client_id: str, body: dict[str, Any], scope: Scope) -> None:
        """``PUT /clients/{id}/setbasics.json``."""
        self.client_row(client_id, scope)
        name, tz, country = body.get("CompanyName"), body.get("TimeZone"), body.get("Country")
        if not isinstance(name, str) or not name.strip() or too_long(name):
            raise api_error(152)
        if country not in countries():
            raise api_error(154)
        if tz not in timezones():
            raise api_error(157)
        self.store.execute(
            "UPDATE clients SET name = ?, timezone = ?, country = ? WHERE id = ?",
            (name.strip(), tz, country, client_id),
        )

    def set_client_billing(self, client_id: str, body: dict[str, Any], scope: Scope) -> None:
        """``PUT /clients/{id}/setpaygbilling.json`` and ``setmonthlybilling.json``."""
        row = self.client_row(client_id, scope)
        billing = dict(json.loads(row["billing"]))
        for key in ("Currency", "CanPurchaseCredits", "ClientPays"):
            if key in body:
                billing[key] = body[key]
        if "MarkupPercentage" in body:
            billing["MarkupPerRecipient"] = float(body["MarkupPercentage"] or 0)
        self.store.execute(
            "UPDATE clients SET billing = ? WHERE id = ?", (json.dumps(billing), client_id)
        )

    def delete_client(self, client_id: str, scope: Scope = ACCOUNT_SCOPE) -> None:
        """``DELETE /clients/{id}.json``: the client and its lists disappear."""
        self.client_row(client_id, scope)
        self.store.execute("DELETE FROM clients WHERE id = ?", (client_id,))
        self.store.execute("UPDATE lists SET deleted = 1 WHERE client_id = ?", (client_id,))

    def transfer_credits(self, client_id: str, credits: int, scope: Scope) -> dict[str, Any]:
        """``POST /clients/{id}/credits.json`` (``transfer_credits.json`` shape)."""
        row = self.client_row(client_id, scope)
        new_total = int(row["credits"]) + int(credits)
        if new_total < 0:
            raise api_error(400, "Not enough credits")
        self.store.execute("UPDATE clients SET credits = ? WHERE id = ?", (new_total, client_id))
        account = int(self.store.meta_get("credits") or "0") - int(credits)
        self.store.meta_set("credits", str(account))
        return {"AccountCredits": account, "ClientCredits": new_total}

    # -- administrators and people ---------------------------------------------------
    def add_administrator(self, email: str, name: str) -> dict[str, str]:
        """Add an account administrator (``POST /admins.json``)."""
        if not is_email(email):
            raise api_error(1)
        self.store.execute(
            "INSERT OR REPLACE INTO admins (email, name, status) VALUES (?, ?, 'Active')",
            (email.strip(), name or ""),
        )
        if not self.store.meta_get("primary_contact"):
            self.store.meta_set("primary_contact", email.strip())
        return {"EmailAddress": email.strip()}

    def administrators_to_api(self) -> list[dict[str, Any]]:
        """``GET /admins.json``."""
        return [
            {"EmailAddress": r["email"], "Name": r["name"], "Status": r["status"]}
            for r in self.store.all("SELECT * FROM admins ORDER BY email")
        ]

    def administrator_row(self, email: str) -> dict[str, Any]:
        """One administrator, or 400 Code 1 when unknown."""
        row = self.store.one("SELECT * FROM admins WHERE lower(email) = lower(?)", (email,))
        if row is None:
            raise api_error(1, "Administrator not found")
        return row

    def remove_administrator(self, email: str) -> None:
        """``DELETE /admins.json?email=``."""
        self.administrator_row(email)
        self.store.execute("DELETE FROM admins WHERE lower(email) = lower(?)", (email,))

    def add_person(
        self,
        client_id: str,
        email: str,
        name: str,
        access_level: int = FULL_ACCESS,
        scope: Scope = ACCOUNT_SCOPE,
    ) -> dict[str, str]:
        """Add (or replace) a client person (``POST /clients/{id}/people.json``)."""
        self.client_row(client_id, scope)
        if not is_email(email):
            raise api_error(1)
        if not isinstance(access_level, int) or not 0 <= access_level <= FULL_ACCESS:
            raise api_error(400, "Invalid AccessLevel")
        self.store.execute(
            "INSERT OR REPLACE INTO people (client_id, email, name, access_level, status) "
            "VALUES (?, ?, ?, ?, 'Active')",
            (client_id, email.strip(), name or "", access_level),
        )
        return {"EmailAddress": email.strip()}

    def people_to_api(self, client_id: str, scope: Scope = ACCOUNT_SCOPE) -> list[dict[str, Any]]:
        """``GET /clients/{id}/people.json``."""
        self.client_row(client_id, scope)
        rows = self.store.all(
            "SELECT * FROM people WHERE client_id = ? ORDER BY email", (client_id,)
        )
        return [
            {"EmailAddress": r["email"], "Name": r["name"], "Status": r["status"],
             "AccessLevel": r["access_level"]}
            for r in rows
        ]  # fmt: skip

    def person_row(self, client_id: str, email: str) -> dict[str, Any]:
        """One client person, or 400 Code 1 when unknown."""
        row = self.store.one(
            "SELECT * FROM people WHERE client_id = ? AND lower(email) = lower(?)",
            (client_id, email),
        )
        if row is None:
            raise api_error(1, "Person not found")
        return row

    def remove_person(self, client_id: str, email: str, scope: Scope) -> None:
        """``DELETE /clients/{id}/people.json?email=``."""
        self.client_row(client_id, scope)
        self.person_row(client_id, email)
        self.store.execute(
            "DELETE FROM people WHERE client_id = ? AND lower(email) = lower(?)",
            (client_id, email),
        )

    def primary_contact(self, client_id: str | None = None) -> str:
        """The account's (or a client's) primary contact e-mail."""
        if client_id is None:
            return self.store.meta_get("primary_contact") or ""
        return str(
            self.store.scalar("SELECT primary_contact FROM clients WHERE id = ?", (client_id,))
            or ""
        )

    def set_primary_contact(self, email: str, client_id: str | None = None) -> dict[str, str]:
        """Make an administrator (or client person) the primary contact."""
        if client_id is None:
            self.administrator_row(email)
            self.store.meta_set("primary_contact", email)
        else:
            self.person_row(client_id, email)
            self.store.execute(
                "UPDATE clients SET primary_contact = ? WHERE id = ?", (email, client_id)
            )
        return {"EmailAddress": email}

    def billing_details_to_api(self) -> dict[str, Any]:
        """``GET /billingdetails.json``: ``Credits`` plus ``TestAccount`` (simulator field)."""
        return {
            "Credits": int(self.store.meta_get("credits") or "0"),
            "TestAccount": self.test_account,
        }

    def mark_test_account(self, flag: bool = True) -> None:
        """Mark (or unmark) the account as a pay-as-you-go test account."""
        if not isinstance(flag, bool):
            raise ControlError("test_account must be a bool")
        self.test_account = flag
        self.store.meta_set("test_account", "1" if flag else "0")
