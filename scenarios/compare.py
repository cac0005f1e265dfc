"""Does the org match the account? A black-box comparison through both platforms' APIs.

:func:`compare` reads the truth from Campaign Monitor's API (through its own httpx
client, not the engine's) and what the engine wrote from Salesforce (through
simple-salesforce), and lists every difference a person would care about: lists,
memberships and their states, campaigns (hidden ones and those outside the settings'
filters excluded), tracking history within retention and kept types, suppressions and
smart emails. :func:`org_state` is a canonical snapshot of the synced objects (no Ids,
no timestamps of the writes), for checking that two runs ended in the same state.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from simple_salesforce.api import Salesforce

from cmsf_core.campaign_monitor import ACTIVITY_ENDPOINTS, SUBSCRIBER_STATES
from cmsf_core.cm_time import parse_local, time_zone
from cmsf_core.jobs.campaigns import campaign_selected
from cmsf_core.jobs.context import ClientInfo
from cmsf_core.jobs.tracking_history import watch_horizon
from cmsf_core.settings import Settings
from scenarios.world import World

__all__ = ["Difference", "compare", "org_state"]


@dataclass(frozen=True)
class Difference:
    """One way the org differs from the account."""

    kind: str
    key: str
    expected: Any
    found: Any

    def __str__(self) -> str:
        return f"{self.kind} {self.key}: expected {self.expected!r}, found {self.found!r}"


def _pages(
    http: httpx.Client, path: str, params: dict[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    page = 1
    while True:
        body = http.get(path, params={**(params or {}), "page": page, "pagesize": 1000}).json()
        yield from body.get("Results", [])
        if body.get("PageNumber", 1) >= body.get("NumberOfPages", 0):
            return
        page += 1


def _raise_for_status(response: httpx.Response) -> None:
    response.raise_for_status()


def _sf_rows(sf: Salesforce, soql: str) -> list[dict[str, Any]]:
    return [dict(r) for r in sf.query_all_iter(soql)]


def _utc(text: str | None, zone: Any) -> str | None:
    return parse_local(text, zone).strftime("%Y-%m-%dT%H:%M") if text else None


def _sf_minute(value: str | None) -> str | None:
    return value[:16] if value else None


def compare(world: World, settings: Settings) -> list[Difference]:
    """Every difference between the world's account (as the settings select it) and org.

    Raises:
        httpx.HTTPStatusError: If Campaign Monitor answers an error (during an outage).
    """
    http = world.account.client(event_hooks={"response": [_raise_for_status]})
    sf = world.org.client()
    diffs: list[Difference] = []
    clients = {c["ClientID"]: c for c in http.get("/clients.json").json()}
    selected = [cid for cid in clients if settings.selects_client(cid)]
    sf_lists = {
        r["CM_Id__c"]: r for r in _sf_rows(sf, "SELECT Id, CM_Id__c, Name FROM CMSF_List__c")
    }
    cm_lists: dict[str, tuple[str, Any]] = {}
    for cid in selected:
        zone = time_zone(http.get(f"/clients/{cid}.json").json()["BasicDetails"].get("TimeZone"))
        for row in http.get(f"/clients/{cid}/lists.json").json():
            cm_lists[row["ListID"]] = (cid, zone)
    for lid in sorted(set(cm_lists) ^ set(sf_lists)):
        diffs.append(Difference("list", lid, lid in cm_lists, lid in sf_lists))
    members: dict[str, dict[str, Any]] = {}
    for row in _sf_rows(
        sf, "SELECT CM_Id__c, State__c, State_Changed__c, Email__c, Name FROM CMSF_List_Member__c"
    ):
        members[row["CM_Id__c"]] = row
    expected_members: dict[str, tuple[str, str | None]] = {}
    for lid, (_, zone) in sorted(cm_lists.items()):
        for state, endpoint in SUBSCRIBER_STATES.items():
            for row in _pages(http, f"/lists/{lid}/{endpoint}.json"):
                key = f"{lid}:{row['EmailAddress'].lower()}"
                expected_members[key] = (state, _utc(row.get("Date"), zone))
    for key in sorted(set(expected_members) | set(members)):
        want = expected_members.get(key)
        got = members.get(key)
        if want is None or got is None:
            diffs.append(
                Difference("member", key, want, None if got is None else got.get("State__c"))
            )
            continue
        found = (got.get("State__c"), _sf_minute(got.get("State_Changed__c")))
        if found != want:
            diffs.append(Difference("member", key, want, found))
    diffs.extend(_campaigns(world, settings, http, sf, selected))
    if settings.sync_suppression_list:
        diffs.extend(_suppressions(http, sf, selected))
    diffs.extend(_smart_emails(http, sf, selected))
    return diffs


def _campaigns(
    world: World, settings: Settings, http: httpx.Client, sf: Salesforce, selected: list[str]
) -> list[Difference]:
    diffs: list[Difference] = []
    expected: dict[str, tuple[str, Any]] = {}
    for cid in selected:
        zone_name = http.get(f"/clients/{cid}.json").json()["BasicDetails"].get("TimeZone")
        info = ClientInfo(cid, "", "", zone_name, True, None)
        for row in _pages(http, f"/clients/{cid}/campaigns.json"):
            if campaign_selected(row, info, settings.campaign_start_date, settings.campaign_tags):
                expected[row["CampaignID"]] = (row["SentDate"], info)
    found = {r["CM_Id__c"]: r for r in _sf_rows(sf, "SELECT Id, CM_Id__c FROM CMSF_Campaign__c")}
    for key in sorted(set(expected) ^ set(found)):
        diffs.append(Difference("campaign", key, key in expected, key in found))
    if settings.tracking_retention_days == 0:
        count = len(_sf_rows(sf, "SELECT Id FROM CMSF_Email_Activity__c"))
        if count:
            diffs.append(Difference("activity", "*", 0, count))
        return diffs
    horizon = world.clock.now() - timedelta(days=settings.tracking_retention_days)
    watched = watch_horizon(world.clock.now(), settings)
    stored: Counter[tuple[str, str]] = Counter()
    for row in _sf_rows(
        sf, "SELECT Campaign__r.CM_Id__c, Activity_Type__c FROM CMSF_Email_Activity__c"
    ):
        stored[((row.get("Campaign__r") or {}).get("CM_Id__c", "?"), row["Activity_Type__c"])] += 1
    wanted: Counter[tuple[str, str]] = Counter()
    for campaign_id, (sent, info) in expected.items():
        if parse_local(sent, info.zone) < watched:
            continue
        for kind, endpoint in ACTIVITY_ENDPOINTS.items():
            if kind not in settings.tracking_activity_types:
                continue
            for row in _pages(http, f"/campaigns/{campaign_id}/{endpoint}.json"):
                when = sent if kind == "Sent" else row["Date"]
                if parse_local(when, info.zone) < horizon:
                    continue
                wanted[(campaign_id, kind)] += 1
    for key in sorted(set(wanted) | set(stored)):
        if wanted[key] != stored[key]:
            diffs.append(Difference("activity", ":".join(key), wanted[key], stored[key]))
    return diffs


def _suppressions(http: httpx.Client, sf: Salesforce, selected: list[str]) -> list[Difference]:
    expected = {
        f"{cid}:{row['EmailAddress'].lower()}"
        for cid in selected
        for row in _pages(http, f"/clients/{cid}/suppressionlist.json")
    }
    found = {r["CM_Id__c"] for r in _sf_rows(sf, "SELECT CM_Id__c FROM CMSF_Suppression__c")}
    return [
        Difference("suppression", k, k in expected, k in found) for k in sorted(expected ^ found)
    ]


def _smart_emails(http: httpx.Client, sf: Salesforce, selected: list[str]) -> list[Difference]:
    expected = {
        str(row["ID"])
        for cid in selected
        for row in http.get("/transactional/smartEmail", params={"clientID": cid}).json()
    }
    found = {r["CM_Id__c"] for r in _sf_rows(sf, "SELECT CM_Id__c FROM CMSF_Smart_Email__c")}
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
    "Campaign": ("Name", "CMSF_Campaign_Monitor_Id__c"),
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
        rows = _sf_rows(sf, f"SELECT {', '.join(fields)} FROM {sobject}")
        out[sobject] = sorted(tuple(str(_path(r, f)) for f in fields) for r in rows)
    return out
