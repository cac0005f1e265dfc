"""Does the org match the account? A black-box comparison through both platforms' APIs.

:func:`compare` reads the truth from Campaign Monitor's API (through its own httpx
client, not the engine's) and what the engine wrote from Salesforce (through
simple-salesforce), and lists every difference a person would care about: lists (names
and options), memberships (state, when it changed, name, custom fields), campaigns
(hidden ones and those outside the settings' filters excluded), tracking history within
retention and kept types, campaign links and member statuses (see
:mod:`scenarios.compare_campaigns`), opt-outs when the opt-out option is on (with
scanner protection, not for people only a link scanner unsubscribed), suppressions and
smart emails. :func:`org_state` is a canonical snapshot of the synced
objects (no Ids, no timestamps of the writes), for checking that two runs ended in the
same state.

The judge shares no code with the engine it judges: Campaign Monitor's local times are
read with cm_sim's own time zones (:mod:`cm_sim.zones`), and the rules for what belongs
in Salesforce (filters, retention, the opt-out rule) are written out again here from the
product's documentation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import httpx
from simple_salesforce.api import Salesforce

from cm_sim.behaviour import SCANNER_CLIENT
from cm_sim.times import parse_local
from cm_sim.zones import zone_for
from cmsf_core.settings import Settings
from scenarios.world import World

__all__ = [
    "ACTIVITY_ENDPOINTS",
    "SUBSCRIBER_ENDPOINTS",
    "Difference",
    "client_zone",
    "cm_instant",
    "compare",
    "org_state",
    "pages",
    "sf_rows",
]

SUBSCRIBER_ENDPOINTS: dict[str, str] = {
    "Active": "active",
    "Unconfirmed": "unconfirmed",
    "Unsubscribed": "unsubscribed",
    "Bounced": "bounced",
    "Deleted": "deleted",
}
"""Subscriber state -> the list endpoint of Campaign Monitor's API that returns it."""
ACTIVITY_ENDPOINTS: dict[str, str] = {
    "Sent": "recipients",
    "Open": "opens",
    "Click": "clicks",
    "Bounce": "bounces",
    "Unsubscribe": "unsubscribes",
    "Spam": "spam",
}
"""Tracking activity type -> the campaign endpoint of Campaign Monitor's API."""
OPTED_OUT_STATES = {"Unsubscribed", "Deleted"}
"""A person in only these states on every list is opted out (the settings guide's rule)."""


@dataclass(frozen=True)
class Difference:
    """One way the org differs from the account."""

    kind: str
    key: str
    expected: Any
    found: Any

    def __str__(self) -> str:
        return f"{self.kind} {self.key}: expected {self.expected!r}, found {self.found!r}"


def pages(
    http: httpx.Client, path: str, params: dict[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    """Every row of a paged Campaign Monitor endpoint."""
    page = 1
    while True:
        body = http.get(path, params={**(params or {}), "page": page, "pagesize": 1000}).json()
        yield from body.get("Results", [])
        if body.get("PageNumber", 1) >= body.get("NumberOfPages", 0):
            return
        page += 1


def _raise_for_status(response: httpx.Response) -> None:
    response.raise_for_status()


def sf_rows(sf: Salesforce, soql: str) -> list[dict[str, Any]]:
    """Every record of a SOQL query, as plain dicts."""
    return [dict(r) for r in sf.query_all_iter(soql)]


def client_zone(http: httpx.Client, client_id: str) -> tzinfo:
    """A client's time zone as Campaign Monitor names it, read with cm_sim's own table."""
    name = http.get(f"/clients/{client_id}.json").json()["BasicDetails"].get("TimeZone")
    return zone_for(name) if name else UTC


def cm_instant(text: str, zone: tzinfo) -> datetime:
    """A Campaign Monitor local timestamp (``YYYY-MM-DD HH:MM[:SS]``) as a UTC instant."""
    formats = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
    seconds = parse_local(text.strip().replace("T", " "), zone, formats)
    return datetime.fromtimestamp(seconds, UTC)


def _utc_minute(text: str | None, zone: tzinfo) -> str | None:
    return cm_instant(text, zone).strftime("%Y-%m-%dT%H:%M") if text else None


def _sf_minute(value: str | None) -> str | None:
    return value[:16] if value else None


def _fields(values: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Custom field values by lower-cased key without brackets; repeated keys as lists."""
    out: dict[str, Any] = {}
    for item in values or []:
        key = str(item.get("Key", "")).strip("[]").lower()
        value = item.get("Value")
        if key in out:
            out[key] = [*out[key], value] if isinstance(out[key], list) else [out[key], value]
        else:
            out[key] = value
    return out


def _stored_fields(text: str | None) -> Any:
    if not text:
        return {}
    try:
        return {str(k).lower(): v for k, v in json.loads(text).items()}
    except (ValueError, AttributeError):
        return f"not JSON: {text[:60]!r}"


def compare(world: World, settings: Settings) -> list[Difference]:
    """Every difference between the world's account (as the settings select it) and org.

    Raises:
        httpx.HTTPStatusError: If Campaign Monitor answers an error (during an outage).
    """
    from scenarios.compare_campaigns import campaign_differences

    http = world.account.client(event_hooks={"response": [_raise_for_status]})
    sf = world.org.client()
    clients = {c["ClientID"]: c for c in http.get("/clients.json").json()}
    selected = [cid for cid in clients if settings.selects_client(cid)]
    zones = {cid: client_zone(http, cid) for cid in selected}
    diffs, states = _lists_and_members(http, sf, zones)
    diffs.extend(campaign_differences(world, settings, http, sf, zones))
    if settings.opt_out_sync:
        spared = _scanned_only(world) if getattr(settings, "scanner_protection", False) else set()
        diffs.extend(_opt_outs(sf, {e: s for e, s in states.items() if e not in spared}))
    if settings.sync_suppression_list:
        diffs.extend(_suppressions(http, sf, selected))
    diffs.extend(_smart_emails(http, sf, selected))
    return diffs


def _lists_and_members(
    http: httpx.Client, sf: Salesforce, zones: dict[str, tzinfo]
) -> tuple[list[Difference], dict[str, set[str]]]:
    """Lists and memberships; also every synced email's states across its lists."""
    diffs: list[Difference] = []
    sf_lists = {
        r["CM_Id__c"]: r
        for r in sf_rows(
            sf,
            "SELECT CM_Id__c, Name, Unsubscribe_Setting__c, Confirmed_Opt_In__c FROM CMSF_List__c",
        )
    }
    cm_lists: dict[str, tzinfo] = {}
    for cid, zone in zones.items():
        for row in http.get(f"/clients/{cid}/lists.json").json():
            lid = row["ListID"]
            cm_lists[lid] = zone
            stored = sf_lists.get(lid)
            if stored is None:
                continue
            info = http.get(f"/lists/{lid}.json").json()
            options = (row["Name"][:80], info["UnsubscribeSetting"], bool(info["ConfirmedOptIn"]))
            kept = (
                stored.get("Name"),
                stored.get("Unsubscribe_Setting__c"),
                bool(stored.get("Confirmed_Opt_In__c")),
            )
            if options != kept:
                diffs.append(Difference("list", lid, options, kept))
    for lid in sorted(set(cm_lists) ^ set(sf_lists)):
        diffs.append(Difference("list", lid, lid in cm_lists, lid in sf_lists))
    members = {
        row["CM_Id__c"]: row
        for row in sf_rows(
            sf,
            "SELECT CM_Id__c, State__c, State_Changed__c, Email__c, Name, Custom_Fields__c "
            "FROM CMSF_List_Member__c",
        )
    }
    expected: dict[str, tuple[str, str | None]] = {}
    details: dict[str, tuple[str, Any]] = {}
    states: dict[str, set[str]] = {}
    for lid, zone in sorted(cm_lists.items()):
        for state, endpoint in SUBSCRIBER_ENDPOINTS.items():
            for row in pages(http, f"/lists/{lid}/{endpoint}.json"):
                email = row["EmailAddress"].lower()
                key = f"{lid}:{email}"
                expected[key] = (state, _utc_minute(row.get("Date"), zone))
                details[key] = (
                    (row.get("Name") or row["EmailAddress"])[:80],
                    _fields(row.get("CustomFields")),
                )
                states.setdefault(email, set()).add(state)
    for key in sorted(set(expected) | set(members)):
        want = expected.get(key)
        got = members.get(key)
        if want is None or got is None:
            diffs.append(
                Difference("member", key, want, None if got is None else got.get("State__c"))
            )
            continue
        found = (got.get("State__c"), _sf_minute(got.get("State_Changed__c")))
        if found != want:
            diffs.append(Difference("member", key, want, found))
        written = (got.get("Name"), _stored_fields(got.get("Custom_Fields__c")))
        if written != details[key]:
            diffs.append(Difference("member details", key, details[key], written))
    return diffs, states


def _scanned_only(world: World) -> set[str]:
    """Addresses whose only unsubscribes were a link scanner's (the simulator's ground truth).

    With scanner protection on, such an unsubscribe alone opts nobody out (the settings
    guide's rule); which events a scanner made is known only to the simulator, which
    records the scanner as the event's mail client.
    """
    rows = world.account.store.all(
        "SELECT email, mail_client FROM activity WHERE kind = ?", ("unsubscribe",)
    )
    scanned = {str(r["email"]).lower() for r in rows if r["mail_client"] == SCANNER_CLIENT}
    by_hand = {str(r["email"]).lower() for r in rows if r["mail_client"] != SCANNER_CLIENT}
    return scanned - by_hand


def _opt_outs(sf: Salesforce, states: dict[str, set[str]]) -> list[Difference]:
    """People unsubscribed or deleted on every synced list must be opted out of email.

    The option never opts anyone back in, so only the one direction is checked.
    """
    due = sorted(e for e, seen in states.items() if seen and seen <= OPTED_OUT_STATES)
    diffs: list[Difference] = []
    for start in range(0, len(due), 200):
        listed = ",".join(
            "'" + e.replace("\\", "\\\\").replace("'", "\\'") + "'"
            for e in due[start : start + 200]
        )
        for sobject, extra in (("Contact", ""), ("Lead", " AND IsConverted = false")):
            for row in sf_rows(
                sf,
                f"SELECT Email, HasOptedOutOfEmail FROM {sobject} WHERE Email IN ({listed}){extra}",
            ):
                if not row.get("HasOptedOutOfEmail"):
                    key = f"{sobject} {str(row['Email']).lower()}"
                    diffs.append(Difference("opt-out", key, True, False))
    return diffs


def _suppressions(http: httpx.Client, sf: Salesforce, selected: list[str]) -> list[Difference]:
    expected = {
        f"{cid}:{row['EmailAddress'].lower()}"
        for cid in selected
        for row in pages(http, f"/clients/{cid}/suppressionlist.json")
    }
    found = {r["CM_Id__c"] for r in sf_rows(sf, "SELECT CM_Id__c FROM CMSF_Suppression__c")}
    return [
        Difference("suppression", k, k in expected, k in found) for k in sorted(expected ^ found)
    ]


def _smart_emails(http: httpx.Client, sf: Salesforce, selected: list[str]) -> list[Difference]:
    expected = {
        str(row["ID"])
        for cid in selected
        for row in http.get("/transactional/smartEmail", params={"clientID": cid}).json()
    }
    found = {r["CM_Id__c"] for r in sf_rows(sf, "SELECT CM_Id__c FROM CMSF_Smart_Email__c")}
    return [
        Difference("smart email", k, k in expected, k in found) for k in sorted(expected ^ found)
    ]


SNAPSHOT_FIELDS: dict[str, tuple[str, ...]] = {
    "CMSF_Client__c": ("CM_Id__c", "Name", "Selected__c", "Time_Zone__c"),
    "CMSF_List__c": ("CM_Id__c", "Name", "Total_Active__c", "Total_Unsubscribed__c"),
    "CMSF_List_Member__c": (
        "CM_Id__c",
        "State__c",
        "State_Changed__c",
        "Name",
        "Custom_Fields__c",
        "Contact__r.Email",
        "Lead__r.Email",
    ),
    "CMSF_Campaign__c": (
        "CM_Id__c",
        "Name",
        "Recipients__c",
        "Clicks__c",
        "Salesforce_Campaign__r.Name",
    ),
    "CMSF_Email_Activity__c": (
        "CM_Id__c",
        "Activity_Type__c",
        "Activity_Date__c",
        "Contact__r.Email",
    ),
    "CMSF_Suppression__c": ("CM_Id__c", "Reason__c"),
    "CMSF_Smart_Email__c": ("CM_Id__c", "Name", "Status__c"),
    "CMSF_Smart_Email_Variable__c": ("CM_Id__c",),
    "CampaignMember": ("Campaign.Name", "Contact.Email", "Lead.Email", "Status"),
    "Contact": ("Email", "HasOptedOutOfEmail"),
    "Lead": ("Email", "HasOptedOutOfEmail"),
    "Campaign": ("Name", "CMSF_Campaign_Monitor_Id__c", "CMSF_Campaign__r.CM_Id__c"),
}
"""Fields compared by :func:`org_state`: external keys and values, references by the
business key of the record they point to (Ids depend on write order), never write times."""


def _path(row: dict[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def org_state(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """A canonical, sorted snapshot of everything the sync writes, for equality checks."""
    sf = world.org.client()
    out: dict[str, list[tuple[Any, ...]]] = {}
    for sobject, fields in SNAPSHOT_FIELDS.items():
        rows = sf_rows(sf, f"SELECT {', '.join(fields)} FROM {sobject}")
        out[sobject] = sorted(tuple(str(_path(r, f)) for f in fields) for r in rows)
    return out
