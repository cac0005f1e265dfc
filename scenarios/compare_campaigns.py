"""The campaign side of :func:`scenarios.compare.compare`: campaigns, history, links, members.

What Campaign Monitor shows decides what Salesforce must hold, by the product's rules
written out here (never borrowed from the engine):

- **campaigns**: every sent campaign of a selected client that passes the start-date
  filter (its send date, in the client's zone, on or after the date) and the tag filter
  (any tag in common, case-insensitive);
- **tracking history**: per campaign sent within the retention window, the number of
  events of each kept activity type dated within the window (``Sent`` dated by the send);
- **links**: a synced campaign and its Salesforce Campaign point at each other
  (``Salesforce_Campaign__c`` one way, ``CMSF_Campaign__c`` and
  ``CMSF_Campaign_Monitor_Id__c`` the other); with auto-create on, every synced
  campaign has one;
- **member statuses**: on a linked Campaign, each person with kept activity (the Contact
  with the address, else the Lead) is a member whose status is the status map's status of
  their latest activity (at one minute, the most telling: Sent < Open < Click < Bounce <
  Unsubscribe < Spam).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import httpx
from simple_salesforce.api import Salesforce

from cmsf_core.settings import Settings
from scenarios.compare import ACTIVITY_ENDPOINTS, Difference, cm_instant, pages, sf_rows
from scenarios.world import World

__all__ = ["RANK", "campaign_differences", "selected_campaign"]

RANK = {"Sent": 0, "Open": 1, "Click": 2, "Bounce": 3, "Unsubscribe": 4, "Spam": 5}
"""Among activities at the same minute, the most telling one decides the status."""


def selected_campaign(
    row: dict[str, Any], zone: tzinfo, start: date | None, tags: tuple[str, ...]
) -> bool:
    """Whether a sent campaign passes the start-date and tag filters of the settings."""
    sent = row.get("SentDate")
    if start is not None and sent and cm_instant(str(sent), zone).astimezone(zone).date() < start:
        return False
    if tags:
        wanted = {t.lower() for t in tags}
        return bool(wanted & {str(t).lower() for t in row.get("Tags") or []})
    return True


def campaign_differences(
    world: World,
    settings: Settings,
    http: httpx.Client,
    sf: Salesforce,
    zones: dict[str, tzinfo],
) -> list[Difference]:
    """Campaigns, tracking history, campaign links and member statuses that differ."""
    diffs: list[Difference] = []
    expected: dict[str, tuple[datetime, tzinfo]] = {}
    for cid, zone in zones.items():
        for row in pages(http, f"/clients/{cid}/campaigns.json"):
            if selected_campaign(row, zone, settings.campaign_start_date, settings.campaign_tags):
                expected[row["CampaignID"]] = (cm_instant(row["SentDate"], zone), zone)
    synced = {
        r["CM_Id__c"]: r
        for r in sf_rows(sf, "SELECT Id, CM_Id__c, Salesforce_Campaign__c FROM CMSF_Campaign__c")
    }
    for key in sorted(set(expected) ^ set(synced)):
        diffs.append(Difference("campaign", key, key in expected, key in synced))
    diffs.extend(_links(sf, synced, settings))
    if settings.tracking_retention_days == 0:
        count = len(sf_rows(sf, "SELECT Id FROM CMSF_Email_Activity__c"))
        if count:
            diffs.append(Difference("activity", "*", 0, count))
        return diffs
    horizon = world.clock.now() - timedelta(days=settings.tracking_retention_days)
    events = _events(http, settings, expected, horizon)
    stored: Counter[tuple[str, str]] = Counter()
    for row in sf_rows(
        sf, "SELECT Campaign__r.CM_Id__c, Activity_Type__c FROM CMSF_Email_Activity__c"
    ):
        stored[((row.get("Campaign__r") or {}).get("CM_Id__c", "?"), row["Activity_Type__c"])] += 1
    wanted = Counter((campaign, kind) for campaign, kind, _, _ in events)
    for key in sorted(set(wanted) | set(stored)):
        if wanted[key] != stored[key]:
            diffs.append(Difference("activity", ":".join(key), wanted[key], stored[key]))
    if settings.update_member_status or settings.auto_create_campaigns:
        diffs.extend(_members(sf, settings, synced, events))
    return diffs


def _events(
    http: httpx.Client,
    settings: Settings,
    expected: dict[str, tuple[datetime, tzinfo]],
    horizon: datetime,
) -> list[tuple[str, str, str, datetime]]:
    """``(campaign, type, email, when)`` of every event the tracking history keeps."""
    out = []
    for campaign_id, (sent, zone) in sorted(expected.items()):
        if sent < horizon:
            continue
        for kind, endpoint in ACTIVITY_ENDPOINTS.items():
            if kind not in settings.tracking_activity_types:
                continue
            for row in pages(http, f"/campaigns/{campaign_id}/{endpoint}.json"):
                when = sent if kind == "Sent" else cm_instant(row["Date"], zone)
                if when >= horizon:
                    out.append((campaign_id, kind, str(row["EmailAddress"]).lower(), when))
    return out


def _links(
    sf: Salesforce, synced: dict[str, dict[str, Any]], settings: Settings
) -> list[Difference]:
    """Synced campaigns and Salesforce Campaigns point at each other."""
    diffs: list[Difference] = []
    campaigns = {
        r["Id"]: r
        for r in sf_rows(
            sf,
            "SELECT Id, CMSF_Campaign__c, CMSF_Campaign_Monitor_Id__c FROM Campaign "
            "WHERE CMSF_Campaign__c != null OR CMSF_Campaign_Monitor_Id__c != null",
        )
    }
    by_id = {r["Id"]: key for key, r in synced.items()}
    for key, row in sorted(synced.items()):
        target = row.get("Salesforce_Campaign__c")
        if target is None:
            if settings.auto_create_campaigns:
                diffs.append(Difference("campaign link", key, "a linked Campaign", None))
            continue
        back = campaigns.get(target) or {}
        found = (back.get("CMSF_Campaign__c"), back.get("CMSF_Campaign_Monitor_Id__c"))
        if found != (row["Id"], key):
            diffs.append(Difference("campaign link", key, (row["Id"], key), found))
    for campaign_id, row in sorted(campaigns.items()):
        pointed = row.get("CMSF_Campaign__c")
        if pointed is None:
            continue
        back_key = by_id.get(pointed)
        if back_key is None or synced[back_key].get("Salesforce_Campaign__c") != campaign_id:
            diffs.append(Difference("campaign link", campaign_id, "linked back", back_key))
    return diffs


def _people(sf: Salesforce, emails: set[str]) -> dict[str, set[str]]:
    """Email -> the Ids a campaign member of that person may carry (Contacts, else Leads)."""
    found: dict[str, dict[str, set[str]]] = {}
    ordered = sorted(emails)
    for start in range(0, len(ordered), 200):
        listed = ",".join(
            "'" + e.replace("\\", "\\\\").replace("'", "\\'") + "'"
            for e in ordered[start : start + 200]
        )
        for sobject, extra in (("Contact", ""), ("Lead", " AND IsConverted = false")):
            for row in sf_rows(
                sf, f"SELECT Id, Email FROM {sobject} WHERE Email IN ({listed}){extra}"
            ):
                email = str(row["Email"]).lower()
                found.setdefault(email, {}).setdefault(sobject, set()).add(row["Id"])
    return {e: kinds.get("Contact") or kinds.get("Lead") or set() for e, kinds in found.items()}


def _members(
    sf: Salesforce,
    settings: Settings,
    synced: dict[str, dict[str, Any]],
    events: list[tuple[str, str, str, datetime]],
) -> list[Difference]:
    """Each person's member status on a linked Campaign follows their latest activity."""
    linked = {
        key: row["Salesforce_Campaign__c"]
        for key, row in synced.items()
        if row.get("Salesforce_Campaign__c")
    }
    latest: dict[tuple[str, str], tuple[datetime, int, str]] = {}
    for campaign, kind, email, when in events:
        if campaign not in linked or kind not in settings.status_map:
            continue
        minute = when.replace(second=0, microsecond=0)
        mark = (minute, RANK[kind], kind)
        if mark > latest.get((campaign, email), (minute, -1, "")):
            latest[(campaign, email)] = mark
    people = _people(sf, {email for _, email in latest})
    members: dict[tuple[str, str], str] = {}
    wanted_campaigns = ",".join(f"'{c}'" for c in sorted(set(linked.values())))
    if wanted_campaigns:
        for row in sf_rows(
            sf,
            "SELECT CampaignId, ContactId, LeadId, Status FROM CampaignMember "
            f"WHERE CampaignId IN ({wanted_campaigns})",
        ):
            for person in (row.get("ContactId"), row.get("LeadId")):
                if person:
                    members[(row["CampaignId"], person)] = str(row.get("Status"))
    diffs = []
    for (campaign, email), (_, _, kind) in sorted(latest.items()):
        ids = people.get(email)
        if not ids:
            continue  # nobody in Salesforce with this address: no member to expect
        want = settings.status_map[kind].status
        found = sorted(
            {members[(linked[campaign], i)] for i in ids if (linked[campaign], i) in members}
        )
        if want not in found:
            diffs.append(Difference("campaign member", f"{campaign}:{email}", want, found or None))
    return diffs
