"""Campaign members: email activity becomes CampaignMember status on linked Campaigns.

For each campaign linked to a Salesforce Campaign, the job reads the tracking history
written since its bookmark and, per person (the Contact, else the Lead), takes the latest
activity. Its type maps to a CampaignMember status through the settings' status map (and
whether it counts as a response). A member is created when the person is not one yet; an
existing member's status only moves when the activity is newer than the one it shows
(``CMSF_Activity_Date__c``), so a late-arriving older open never overwrites a click. With
"auto-create missing statuses" on, mapped statuses missing on the Campaign are created
with the mapped responded flag first.

As the product documents, members are built from the tracking history stored in
Salesforce, so they follow the tracking settings (retention, activity types).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.context import CampaignInfo
from cmsf_core.jobs.writer import report_failures
from cmsf_core.settings import StatusMapping

__all__ = ["CampaignMembersJob"]

ACTIVITY = "CMSF_Email_Activity__c"
PRECEDENCE = {"Sent": 0, "Open": 1, "Click": 2, "Bounce": 3, "Unsubscribe": 4, "Spam": 5}
"""Among activities at the same minute, the most telling one wins."""


@register
class CampaignMembersJob(Job):
    """Create and update CampaignMembers of linked Campaigns from tracking history."""

    name = "campaign_members"
    title = "Campaign members"
    limit = "campaign_members"
    follows = ("email_opt_out",)
    _creates: dict[str, dict[str, Any]]

    def enabled(self) -> bool:
        settings = self.ctx.settings
        return settings.update_member_status or settings.auto_create_campaigns

    def start(self) -> Iterable[Scope]:
        return [
            {"key": c.cm_id, "campaign": c.cm_id}
            for c in self.ctx.directory.campaigns()
            if c.salesforce_campaign_id
        ]

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        campaign = ctx.directory.campaign_by_id(str(scope["campaign"]))
        if campaign is None or not campaign.salesforce_campaign_id:
            return
        bookmark = ctx.journal.bookmark(self.name, campaign.cm_id)
        started = ctx.clock.now().isoformat().replace("+00:00", "Z")
        where = f"Campaign__c = '{campaign.sf_id}' AND (Contact__c != null OR Lead__c != null)"
        if bookmark:
            where += f" AND SystemModstamp > {bookmark}"
        latest: dict[str, tuple[str, str, str]] = {}  # person -> (date, type, person field)
        self._creates: dict[str, dict[str, Any]] = {}  # person -> member to create
        for row in ctx.sf.query(
            f"SELECT Contact__c, Lead__c, Activity_Type__c, Activity_Date__c FROM {ACTIVITY} WHERE {where}"
        ):
            person, kind = (
                (row["Contact__c"], "ContactId")
                if row.get("Contact__c")
                else (row["Lead__c"], "LeadId")
            )
            activity = str(row.get("Activity_Type__c") or "")
            when = _normal(row.get("Activity_Date__c"))
            if activity not in ctx.settings.status_map:
                continue
            current = latest.get(person)
            candidate = (when, activity, kind)
            if current is None or (when, PRECEDENCE[activity]) > (
                current[0],
                PRECEDENCE[current[1]],
            ):
                latest[person] = candidate
            if len(latest) >= self.batch_size:
                self._apply(campaign, latest)
                latest = {}
        if latest:
            self._apply(campaign, latest)
        # Everything modified up to this scope's start has been read; what changes later is
        # read next time (the query above is strictly "after" the previous start).
        ctx.journal.set_bookmark(self.name, campaign.cm_id, started)

    def _apply(self, campaign: CampaignInfo, latest: dict[str, tuple[str, str, str]]) -> None:
        ctx = self.ctx
        sf_campaign = str(campaign.salesforce_campaign_id)
        status_map = ctx.settings.status_map
        if ctx.settings.auto_create_statuses:
            self._ensure_statuses(sf_campaign, {status_map[a] for _, a, _ in latest.values()})
        listed = ",".join(f"'{p}'" for p in latest)
        members: dict[str, dict[str, Any]] = {}
        for row in ctx.sf.query(
            "SELECT Id, ContactId, LeadId, Status, CMSF_Activity_Date__c FROM CampaignMember "
            f"WHERE CampaignId = '{sf_campaign}' AND (ContactId IN ({listed}) OR LeadId IN ({listed}))"
        ):
            members[str(row.get("ContactId") or row.get("LeadId"))] = row
        updates = []
        for person, (when, activity, field) in latest.items():
            status = status_map[activity].status
            member = members.get(person)
            buffered = self._creates.get(person)
            if member is None and (buffered is None or when > buffered["CMSF_Activity_Date__c"]):
                # not a member yet (or only in the buffer, with an older activity)
                self._creates[person] = {
                    "CampaignId": sf_campaign,
                    field: person,
                    "Status": status,
                    "CMSF_Activity_Date__c": when or None,
                    "CMSF_Activity__c": activity,
                }
            elif member is None:
                continue
            elif (
                not member.get("CMSF_Activity_Date__c")
                or when > _normal(member["CMSF_Activity_Date__c"])
            ) and (
                member.get("Status") != status
                or _normal(member.get("CMSF_Activity_Date__c")) != when
            ):
                updates.append(
                    {
                        "Id": member["Id"],
                        "Status": status,
                        "CMSF_Activity_Date__c": when or None,
                        "CMSF_Activity__c": activity,
                    }
                )
        if len(self._creates) >= ctx.settings.limit("subscribers"):
            self._flush_creates()
        if updates:
            self._account(ctx.sf.update("CampaignMember", updates))

    def _flush_creates(self) -> None:
        """Create the buffered members (Bulk API 2.0 once there are enough of them)."""
        if self._creates:
            match_on = ("CampaignId", "ContactId", "LeadId")
            records = list(self._creates.values())
            self._account(self.ctx.sf.create("CampaignMember", records, match_on=match_on))
            self._creates = {}

    def _account(self, result: Any) -> None:
        ctx = self.ctx
        ctx.stats.written["CampaignMember"] += result.succeeded
        if result.failures:
            ctx.stats.failed["CampaignMember"] += len(result.failures)
            report_failures(ctx, self.name, "CampaignMember", result.failures)

    def _ensure_statuses(self, sf_campaign: str, wanted: set[StatusMapping]) -> None:
        ctx = self.ctx
        known: dict[str, set[str]] = ctx.extras.setdefault("campaign_statuses", {})
        if all(m.status.lower() in known.get(sf_campaign, set()) for m in wanted):
            return
        existing: dict[str, dict[str, Any]] = {}
        top = 0
        for row in ctx.sf.query(
            "SELECT Id, Label, HasResponded, SortOrder FROM CampaignMemberStatus "
            f"WHERE CampaignId = '{sf_campaign}'"
        ):
            existing[str(row["Label"]).lower()] = row
            top = max(top, int(row.get("SortOrder") or 0))
        known[sf_campaign] = set(existing) | {m.status.lower() for m in wanted}
        missing = sorted(
            (m for m in wanted if m.status.lower() not in existing), key=lambda m: m.status
        )
        records = []
        for offset, mapping in enumerate(missing, start=1):
            records.append(
                {
                    "CampaignId": sf_campaign,
                    "Label": mapping.status,
                    "HasResponded": mapping.responded,
                    "SortOrder": top + offset,
                }
            )
        if records:
            result = ctx.sf.create("CampaignMemberStatus", records)
            ctx.stats.written["CampaignMemberStatus"] += result.succeeded
            if result.failures:
                report_failures(ctx, self.name, "CampaignMemberStatus", result.failures)


def _normal(value: Any) -> str:
    """Salesforce datetimes come back as ``...+0000``; compare them as ISO UTC text."""
    text = str(value or "")
    if text.endswith("+0000"):
        text = text[:-5] + "+00:00"
    return text
