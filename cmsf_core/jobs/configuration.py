"""Configuration sync: Campaign Monitor clients, lists and users into Salesforce.

The first job of the primary sync. It copies every client of the account (marking which
are selected for sync), and for each selected client its details (time zone), its lists
with their options and custom field definitions, and its people; account administrators
too. Lists deleted in Campaign Monitor are removed from Salesforce with their memberships
(and a maintenance message says so). A client that is deselected keeps its client record
but loses everything synced for it, as the product documents for reconnecting with fewer
clients; a selected client deleted in Campaign Monitor loses it too and its record is kept
inactive and deselected.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cmsf_core.errors import NotFoundError
from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.purge import purge_client_data, purge_list
from cmsf_core.jobs.writer import Desired, delete_records, write_changed
from cmsf_core.jsontext import to_json
from cmsf_core.matching import soql_quote

__all__ = ["ConfigurationJob"]

CLIENT = "CMSF_Client__c"
LIST = "CMSF_List__c"
USER = "CMSF_CM_User__c"
FULL_ACCESS = 1023
"""Campaign Monitor's access-level bitmask for a person with full access."""


@register
class ConfigurationJob(Job):
    """Copy clients, lists and Campaign Monitor users into Salesforce."""

    name = "configuration"
    title = "Configuration (clients, lists, users)"
    limit = "configuration"
    follows = ("suppression", "change_capture", "imports")

    def start(self) -> Iterable[Scope]:
        ctx = self.ctx
        clients = ctx.cm.clients()
        ctx.stats.read["CM clients"] += len(clients)
        desired = []
        for client in clients:
            cid = client["ClientID"]
            try:
                basics = ctx.cm.client_details(cid).get("BasicDetails") or {}
            except NotFoundError:
                continue  # removed from the account between the two calls
            source = {
                "Name": (basics.get("CompanyName") or client.get("Name") or "")[:80],
                "TimeZone": basics.get("TimeZone"),
                "Country": (basics.get("Country") or "")[:80] or None,
                "Selected": ctx.settings.selects_client(cid),
            }
            desired.append(
                Desired(
                    key=cid,
                    source=source,
                    record={
                        "CM_Id__c": cid,
                        "Name": source["Name"] or cid,
                        "Time_Zone__c": source["TimeZone"],
                        "Country__c": source["Country"],
                        "Selected__c": source["Selected"],
                        "Active__c": True,
                    },
                )
            )
        if write_changed(ctx, self.name, CLIENT, desired).written:
            ctx.directory.refresh()
        scopes: list[dict[str, Any]] = [{"key": "administrators"}]
        for item in desired:
            if item.source["Selected"]:
                scopes.append({"key": f"client:{item.key}", "client": item.key})
            else:
                scopes.append({"key": f"deselected:{item.key}", "deselected": item.key})
        returned = {item.key for item in desired}
        for known in ctx.directory.clients():
            if known.cm_id not in returned:  # deleted in Campaign Monitor
                scopes.append({"key": f"gone:{known.cm_id}", "gone": known.cm_id})
        return scopes

    def execute(self, scope: Scope) -> None:
        if scope["key"] == "administrators":
            self._administrators()
        elif "deselected" in scope:
            info = self.ctx.directory.client_by_id(str(scope["deselected"]))
            if info is not None:
                purge_client_data(self.ctx, info, job=self.name)
                self.ctx.directory.refresh()
        elif "gone" in scope:
            self._retire(str(scope["gone"]))
        else:
            self._client(str(scope["client"]))

    def finish(self) -> list[str]:
        # What this job changed was refreshed as it changed (clients, lists, a retired
        # client); a job completed by an earlier invocation of this run changed nothing here.
        return list(self.follows)

    def _retire(self, cid: str) -> None:
        """A client deleted in Campaign Monitor: remove its data, keep it as inactive."""
        ctx = self.ctx
        info = ctx.directory.client_by_id(cid)
        if info is None:
            return
        purge_client_data(ctx, info, job=self.name)
        result = ctx.sf.update(
            CLIENT, [{"Id": info.sf_id, "Selected__c": False, "Active__c": False}]
        )
        ctx.stats.wrote(CLIENT, result.ids)
        ctx.shadow.forget(CLIENT, [cid])  # rewritten if the client ever comes back
        ctx.directory.refresh()

    # ------------------------------------------------------------------ one client

    def _client(self, cid: str) -> None:
        client = self.ctx.directory.client_by_id(cid)
        if client is None:
            return
        self._lists(cid, client.sf_id)
        self._people(cid, client.sf_id)

    def _lists(self, cid: str, client_sf_id: str) -> None:
        ctx = self.ctx
        lists = ctx.cm.lists(cid)
        ctx.stats.read["CM lists"] += len(lists)
        desired = []
        for entry in lists:
            lid = entry["ListID"]
            try:
                details = ctx.cm.list_details(lid)
                fields = ctx.cm.custom_fields(lid)
            except NotFoundError:
                continue  # deleted between the two calls; the next run removes it
            source = {
                "Name": (entry.get("Name") or details.get("Title") or "")[:80],
                "UnsubscribeSetting": details.get("UnsubscribeSetting"),
                "ConfirmedOptIn": bool(details.get("ConfirmedOptIn")),
                "Confirmation": _confirmation(details.get("UnsubscribeConfirmation")),
                "CustomFields": fields,
                "Client": client_sf_id,
            }
            desired.append(
                Desired(
                    key=lid,
                    source=source,
                    record={
                        "CM_Id__c": lid,
                        "Name": source["Name"] or lid,
                        "Client__c": client_sf_id,
                        "Unsubscribe_Setting__c": source["UnsubscribeSetting"],
                        "Confirmed_Opt_In__c": source["ConfirmedOptIn"],
                        "Unsubscribe_Confirmation__c": source["Confirmation"],
                        "Custom_Fields__c": to_json(fields),
                    },
                )
            )
        written = write_changed(ctx, self.name, LIST, desired).written
        if written:
            ctx.directory.refresh(clients=False, campaigns=False)
        alive = {row["ListID"] for row in lists}
        gone = [
            known
            for known in ctx.directory.lists()
            if known.client.cm_id == cid and known.cm_id not in alive
        ]
        for known in gone:
            purge_list(ctx, known.cm_id, known.sf_id, job=self.name)
            ctx.log.raise_message(
                "Warning",
                self.name,
                "CMSF-LIST-GONE",
                f"List '{known.name}' was deleted in Campaign Monitor",
                f"List {known.cm_id} ({known.name}) and its memberships were removed.",
            )
        if gone:
            ctx.directory.refresh(clients=False, campaigns=False)

    def _people(self, cid: str, client_sf_id: str) -> None:
        ctx = self.ctx
        people = ctx.cm.people(cid)
        desired = [
            self._user(
                f"{cid}:{p['EmailAddress'].lower()}",
                p,
                client_sf_id,
                full=int(p.get("AccessLevel") or 0) >= FULL_ACCESS,
                admin=False,
            )
            for p in people
            if p.get("EmailAddress")
        ]
        self._sync_users(desired, prefix=f"{cid}:")

    def _administrators(self) -> None:
        try:
            admins = self.ctx.cm.administrators()
        except NotFoundError:
            admins = []
        desired = [
            self._user(f"admin:{a['EmailAddress'].lower()}", a, None, full=True, admin=True)
            for a in admins
            if a.get("EmailAddress")
        ]
        self._sync_users(desired, prefix="admin:")

    def _user(
        self, key: str, person: dict[str, Any], client_sf_id: str | None, *, full: bool, admin: bool
    ) -> Desired:
        source = {
            "Name": (person.get("Name") or person["EmailAddress"])[:80],
            "Email": person["EmailAddress"],
            "AccessLevel": person.get("AccessLevel"),
            "Full": full,
            "Admin": admin,
            "Client": client_sf_id,
        }
        return Desired(
            key=key,
            source=source,
            record={
                "CM_Id__c": key,
                "Name": source["Name"],
                "Email__c": person["EmailAddress"],
                "Access_Level__c": "Administrator" if admin else str(person.get("AccessLevel", "")),
                "Full_Access__c": full,
                "Administrator__c": admin,
                "Client__c": client_sf_id,
            },
        )

    def _sync_users(self, desired: list[Desired], *, prefix: str) -> None:
        ctx = self.ctx
        users = self._salesforce_users(desired)
        linked = []
        for item in desired:
            sf_user = users.get(str(item.record["Email__c"]).lower())
            linked.append(
                Desired(
                    key=item.key,
                    source={**item.source, "SalesforceUser": sf_user},
                    record={**item.record, "Salesforce_User__c": sf_user},
                )
            )
        write_changed(ctx, self.name, USER, linked)
        alive = {ctx.shadow.token(d.key) for d in desired}
        gone = [(r.key, r.sf_id) for r in ctx.shadow.keys(USER, prefix) if r.key not in alive]
        delete_records(ctx, USER, gone, job=self.name)

    def _salesforce_users(self, desired: list[Desired]) -> dict[str, str]:
        """Active Salesforce users by email, for linking Campaign Monitor users."""
        emails = sorted({str(d.record["Email__c"]).lower() for d in desired})
        users: dict[str, str] = {}
        for start in range(0, len(emails), 100):
            listed = ",".join(soql_quote(e) for e in emails[start : start + 100])
            for row in self.ctx.sf.query(
                f"SELECT Id, Email FROM User WHERE Email IN ({listed}) AND IsActive = true "
                "ORDER BY CreatedDate"
            ):
                users.setdefault(str(row["Email"]).lower(), row["Id"])
        return users


def _confirmation(value: Any) -> str | None:
    """Two-click or one-click unsubscribe, where list details say (cm_sim's field).

    Campaign Monitor's public API does not show the account's unsubscribe confirmation
    setting; when a list's details carry ``UnsubscribeConfirmation`` (the simulator
    does), it is kept, otherwise the list's mode stays unknown.
    """
    if isinstance(value, bool):
        return "Two-click" if value else "One-click"
    return None
