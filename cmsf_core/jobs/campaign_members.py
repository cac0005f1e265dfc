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

The work is set-based: the new activity is streamed into a journal table keeping each
person's latest event, the existing members of those people are streamed beside it (two
semi-join queries), and one SQL join decides what to create and what to move. Memory stays
flat and the cost is a page per 2,000 rows plus the writes.

What the run itself just wrote is not read back: as the tracking history job writes events
of linked campaigns, it records each one's campaign, person, date and type in the
journal's *member feed* (Salesforce Ids only) and the window of time its writes took.
This job takes those from the feed and asks Salesforce only for the rest: activity changed
since its bookmark outside that window, or inside it by anyone but the sync's own user.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cmsf_core.clock import parse_instant
from cmsf_core.errors import CmsfError
from cmsf_core.jobs import pending
from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.context import CampaignInfo
from cmsf_core.jobs.writer import report_failures
from cmsf_core.salesforce import BATCH_SUBREQUESTS
from cmsf_core.settings import StatusMapping

if TYPE_CHECKING:
    from cmsf_core.jobs.context import JobContext
    from cmsf_core.jobs.pool import PooledRecord
    from cmsf_core.salesforce import BatchQuery

__all__ = ["CampaignMembersJob", "feed_entry", "record_feed"]

ACTIVITY = "CMSF_Email_Activity__c"
PRECEDENCE = {"Sent": 0, "Open": 1, "Click": 2, "Bounce": 3, "Unsubscribe": 4, "Spam": 5}
"""Among activities at the same minute, the most telling one wins."""
JOB = "campaign_members"
WINDOW = "feed_window"
"""Bookmark key of the member feed's window: ``{run, start, end}``."""


def _feed_table(ctx: JobContext) -> None:
    ctx.journal.execute_script(
        "CREATE TABLE IF NOT EXISTS member_feed (run_id TEXT NOT NULL, campaign TEXT NOT NULL, "
        "person TEXT NOT NULL, field TEXT NOT NULL, date TEXT NOT NULL, kind TEXT NOT NULL, "
        "rank INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS member_feed_run ON member_feed (run_id, campaign)",
    )


def feed_entry(
    ctx: JobContext, record: dict[str, Any], campaign_sf_id: str | None
) -> tuple[Any, ...]:
    """What the member feed keeps of an activity record about to be written (or nothing).

    Only events of campaigns linked to a Salesforce Campaign, with a person, of a mapped
    type, and only while this job runs at all.
    """
    settings = ctx.settings
    kind = str(record.get("Activity_Type__c") or "")
    if not (
        campaign_sf_id
        and (settings.update_member_status or settings.auto_create_campaigns)
        and kind in settings.status_map
    ):
        return ()
    if record.get("Contact__c"):
        person, field = record["Contact__c"], "ContactId"
    elif record.get("Lead__c"):
        person, field = record["Lead__c"], "LeadId"
    else:
        return ()
    return (
        str(record["Campaign__c"]),
        str(person),
        field,
        _normal(record.get("Activity_Date__c")),
        kind,
        PRECEDENCE[kind],
    )


def record_feed(
    ctx: JobContext, written: Sequence[tuple[PooledRecord, str]], began: datetime
) -> None:
    """Keep the feed entries of activity Salesforce accepted, and widen the feed's window.

    Not with a journal whose tables are private to a process (the distributed runtime: the
    members may be built on another worker): no window, so that job reads it all back.
    """
    rows = [(ctx.run.run_id, *item.extra) for item, _ in written if item.extra]
    if not rows or ctx.journal.tables_private:
        return
    _feed_table(ctx)
    ctx.journal.executemany("INSERT INTO member_feed VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    window = ctx.journal.bookmark(JOB, WINDOW) or {}
    start, end = began.isoformat(), ctx.clock.now().isoformat()
    if window.get("run") == ctx.run.run_id:
        start = min(start, str(window["start"]))
        end = max(end, str(window["end"]))
    ctx.journal.set_bookmark(JOB, WINDOW, {"run": ctx.run.run_id, "start": start, "end": end})


def _soql_instant(value: str) -> str:
    return parse_instant(value).isoformat().replace("+00:00", "Z")


@register
class CampaignMembersJob(Job):
    """Create and update CampaignMembers of linked Campaigns from tracking history."""

    name = "campaign_members"
    title = "Campaign members"
    limit = "campaign_members"
    follows = ("email_opt_out",)

    def __init__(self, ctx: JobContext) -> None:
        super().__init__(ctx)
        self._campaigns: list[str] = []
        """The campaigns of this run's scopes, in order."""
        self._first: dict[str, tuple[BatchQuery, str]] = {}
        """First pages read ahead by :meth:`_read_ahead`, by query, with when they were read."""

    def enabled(self) -> bool:
        settings = self.ctx.settings
        if not (settings.update_member_status or settings.auto_create_campaigns):
            return False
        access = self.ctx.sf.access
        for sobject in ("Campaign", "CampaignMember"):
            if not access.usable(sobject):
                access.skip(sobject, "campaign members of linked Salesforce Campaigns")
                return False
        return True

    def start(self) -> Iterable[Scope]:
        scopes = [
            {"key": c.cm_id, "campaign": c.cm_id}
            for c in self.ctx.directory.campaigns()
            if c.salesforce_campaign_id
        ]
        linked = {str(s["campaign"]) for s in scopes}
        gone = [e.token for e in pending.waiting(self.ctx, self.name) if e.scope not in linked]
        self.ctx.journal.remove_pending(self.name, gone)  # unlinked campaigns have no members
        _feed_table(self.ctx)
        self.ctx.journal.execute_script(  # feeds of earlier runs were read by them
            f"DELETE FROM member_feed WHERE run_id != '{self.ctx.run.run_id}'"
        )
        self._campaigns = [str(s["campaign"]) for s in scopes]
        self._first = {}
        return scopes

    def _read_ahead(self, cm_id: str) -> None:
        """Read the new activity of this campaign and the next ones in one request.

        One ``composite/batch`` call reads the first page of up to 25 campaigns (a quiet run
        costs one call per 25 linked campaigns, not one each); their scopes take it from
        here (further pages follow ``nextRecordsUrl``) and bookmark the time of this read.
        Only 25 first pages are held at a time.
        """
        ctx = self.ctx
        at = self._campaigns.index(cm_id) if cm_id in self._campaigns else len(self._campaigns)
        group = self._campaigns[at : at + BATCH_SUBREQUESTS]
        if len(group) < 2:
            return
        read_at = ctx.clock.now().isoformat().replace("+00:00", "Z")
        reads: list[str] = []
        for other in group:
            campaign = ctx.directory.campaign_by_id(other)
            if campaign is not None and campaign.salesforce_campaign_id:
                reads.append(self._latest_soql(self._where(campaign), campaign))
        reads = list(dict.fromkeys(reads))
        self._first = {}
        for soql, result in zip(
            reads, ctx.sf.query_batch([(q, False) for q in reads]), strict=True
        ):
            self._first[soql] = (result, read_at)

    def _where(self, campaign: CampaignInfo) -> str:
        """The condition on a campaign's tracking history changed since its bookmark."""
        bookmark = self.ctx.journal.bookmark(self.name, campaign.cm_id)
        where = f"Campaign__c = '{campaign.sf_id}'"
        if bookmark:
            where += f" AND SystemModstamp >= {bookmark}"
        return where

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        campaign = ctx.directory.campaign_by_id(str(scope["campaign"]))
        if campaign is None or not campaign.salesforce_campaign_id:
            return
        ctx.sf.access.guard(
            "CampaignMember",
            "campaign members of linked Salesforce Campaigns",
            lambda: self._campaign(campaign),
            None,
        )

    def _campaign(self, campaign: CampaignInfo) -> None:
        ctx = self.ctx
        where = self._where(campaign)
        soql = self._latest_soql(where, campaign)
        if soql not in self._first:
            self._read_ahead(campaign.cm_id)
        ahead = self._first.get(soql)
        # read ahead (see _read_ahead) or now
        started = ahead[1] if ahead else ctx.clock.now().isoformat().replace("+00:00", "Z")
        waiting = [e.locator for e in pending.waiting(ctx, self.name, campaign.cm_id) if e.locator]
        self._sync(campaign, where, feed=True)
        _feed_table(ctx)  # the scope may run in another process than start() (distributed)
        ctx.journal.execute_script(
            f"DELETE FROM member_feed WHERE run_id = '{ctx.run.run_id}' "
            f"AND campaign = '{campaign.sf_id}'"
        )
        # Everything modified before this scope started has been read; what changes from
        # its start on is read next time (the runtime lets time pass between jobs, so the
        # writes of earlier jobs lie before it). Members Salesforce refused wait in the
        # journal and are retried below, every run, so the bookmark moves on regardless.
        ctx.journal.set_bookmark(self.name, campaign.cm_id, started)
        for start in range(0, len(waiting), 200):
            chunk = [p for p in waiting[start : start + 200] if p.isalnum()]
            listed = ", ".join(f"'{person}'" for person in chunk)
            if not listed:
                continue
            self._sync(
                campaign,
                f"Campaign__c = '{campaign.sf_id}' AND "
                f"(Contact__c IN ({listed}) OR Lead__c IN ({listed}))",
            )
            settled = self._settled(campaign, chunk)
            pending.resolved(ctx, self.name, [f"{campaign.cm_id}:{p}" for p in settled])

    def _sync(self, campaign: CampaignInfo, where: str, *, feed: bool = False) -> None:
        """Create and move the members of the people with activity matching ``where``.

        With ``feed``, activity this run wrote comes from the member feed, not Salesforce.
        """
        if self._latest(where, campaign if feed else None):
            if self.ctx.settings.auto_create_statuses:
                self._ensure_statuses(campaign, set(self.ctx.settings.status_map.values()))
            self._members(campaign, where)
            self._apply(campaign)

    def _settled(self, campaign: CampaignInfo, people: list[str]) -> list[str]:
        """People of a retry with no activity left to write (their members settle nothing).

        Written, unchanged and refused-again people are settled (or kept) by the writes
        themselves; people whose activity is gone (retention, clean-up) leave the retry.
        """
        latest = {row[0] for row in self.ctx.journal.db.execute("SELECT person FROM cm_latest")}
        return [p for p in people if p not in latest]

    def _own_window(self) -> tuple[str, str, str] | None:
        """``(sync user Id, start, end)`` of this run's activity writes, if it wrote any."""
        ctx = self.ctx
        window = ctx.journal.bookmark(JOB, WINDOW) or {}
        if window.get("run") != ctx.run.run_id:
            return None
        if "running_user_id" not in ctx.extras:
            try:
                ctx.extras["running_user_id"] = ctx.sf.current_user_id()
            except CmsfError:
                ctx.extras["running_user_id"] = None
        user = ctx.extras["running_user_id"]
        if not user or not str(user).isalnum():
            return None
        return str(user), str(window["start"]), str(window["end"])

    def _latest_soql(self, where: str, feed: CampaignInfo | None) -> str:
        """The read of the activity matching ``where`` (with ``feed``: not what the feed has)."""
        own = self._own_window() if feed is not None else None
        if own is not None:
            user, start, end = own
            # Written by this run in its window: in the feed. Everything else is read.
            where += (
                f" AND (LastModifiedById != '{user}' OR SystemModstamp < {_soql_instant(start)}"
                f" OR SystemModstamp > {_soql_instant(end)})"
            )
        return (
            f"SELECT Contact__c, Lead__c, Activity_Type__c, Activity_Date__c FROM {ACTIVITY} "
            f"WHERE {where} AND (Contact__c != null OR Lead__c != null)"
        )

    def _latest(self, where: str, feed: CampaignInfo | None = None) -> int:
        """Stream the new activity into ``cm_latest``: each person's latest; return how many."""
        ctx = self.ctx
        db = ctx.journal.db
        ctx.journal.execute_script(
            "DROP TABLE IF EXISTS cm_latest",
            "CREATE TABLE cm_latest (person TEXT PRIMARY KEY, field TEXT, date TEXT, kind TEXT, rank INTEGER)",
        )
        own = self._own_window() if feed is not None else None
        soql = self._latest_soql(where, feed)
        ahead = self._first.pop(soql, None)
        mapped = self.ctx.settings.status_map
        for page in ahead[0].pages() if ahead is not None else self.ctx.sf.query_pages(soql):
            rows = []
            for row in page:
                kind = str(row.get("Activity_Type__c") or "")
                if kind not in mapped:
                    continue
                person, field = (
                    (row["Contact__c"], "ContactId")
                    if row.get("Contact__c")
                    else (row["Lead__c"], "LeadId")
                )
                rows.append(
                    (person, field, _normal(row.get("Activity_Date__c")), kind, PRECEDENCE[kind])
                )
            self.ctx.journal.executemany(
                "INSERT INTO cm_latest VALUES (?, ?, ?, ?, ?) ON CONFLICT(person) DO UPDATE SET "
                "field = excluded.field, date = excluded.date, kind = excluded.kind, rank = excluded.rank "
                "WHERE (excluded.date, excluded.rank) > (cm_latest.date, cm_latest.rank)",
                rows,
            )
        if own is not None and feed is not None:
            kinds = ", ".join(f"'{kind}'" for kind in mapped if kind in PRECEDENCE) or "''"
            ctx.journal.execute_script(
                "INSERT INTO cm_latest SELECT person, field, date, kind, rank FROM member_feed "
                f"WHERE run_id = '{ctx.run.run_id}' AND campaign = '{feed.sf_id}' "
                f"AND kind IN ({kinds}) ORDER BY date, rank "
                "ON CONFLICT(person) DO UPDATE SET field = excluded.field, date = excluded.date, "
                "kind = excluded.kind, rank = excluded.rank "
                "WHERE (excluded.date, excluded.rank) > (cm_latest.date, cm_latest.rank)"
            )
        return int(db.execute("SELECT count(*) FROM cm_latest").fetchone()[0])

    def _members(self, campaign: CampaignInfo, where: str) -> None:
        """Stream the existing members of the people with new activity into ``cm_member``."""
        self.ctx.journal.execute_script(
            "DROP TABLE IF EXISTS cm_member",
            "CREATE TABLE cm_member (person TEXT PRIMARY KEY, id TEXT, status TEXT, date TEXT)",
        )
        for field, source in (("ContactId", "Contact__c"), ("LeadId", "Lead__c")):
            soql = (
                "SELECT Id, ContactId, LeadId, Status, CMSF_Activity_Date__c FROM CampaignMember "
                f"WHERE CampaignId = '{campaign.salesforce_campaign_id}' AND {field} IN "
                f"(SELECT {source} FROM {ACTIVITY} WHERE {where} AND {source} != null)"
            )
            for page in self.ctx.sf.query_pages(soql):
                self.ctx.journal.executemany(
                    "INSERT OR REPLACE INTO cm_member VALUES (?, ?, ?, ?)",
                    [
                        (
                            row[field],
                            row["Id"],
                            row.get("Status"),
                            _normal(row.get("CMSF_Activity_Date__c")),
                        )
                        for row in page
                        if row.get(field)
                    ],
                )

    def _apply(self, campaign: CampaignInfo) -> None:
        """Create missing members and move statuses that have a newer activity."""
        ctx = self.ctx
        sf_campaign = str(campaign.salesforce_campaign_id)
        status_map = ctx.settings.status_map
        creates: list[tuple[str, dict[str, Any]]] = []
        updates: list[tuple[str, dict[str, Any]]] = []
        cursor = ctx.journal.db.execute(
            "SELECT l.person, l.field, l.date, l.kind, m.id, m.status, m.date "
            "FROM cm_latest l LEFT JOIN cm_member m ON m.person = l.person ORDER BY l.person"
        )
        for person, field, when, activity, member_id, status_now, date_now in cursor:
            status = status_map[activity].status
            values = {
                "Status": status,
                "CMSF_Activity_Date__c": when or None,
                "CMSF_Activity__c": activity,
            }
            if member_id is None:
                creates.append((person, {"CampaignId": sf_campaign, field: person, **values}))
            elif (not date_now or when > date_now) and (status_now != status or date_now != when):
                updates.append((person, {"Id": member_id, **values}))
            else:
                pending.resolved(ctx, self.name, [f"{campaign.cm_id}:{person}"])
            if len(creates) >= self.batch_size:
                self._write(campaign, creates, create=True)
                creates = []
            if len(updates) >= self.batch_size:
                self._write(campaign, updates, create=False)
                updates = []
        self._write(campaign, creates, create=True)
        self._write(campaign, updates, create=False)

    def _write(
        self, campaign: CampaignInfo, pairs: list[tuple[str, dict[str, Any]]], *, create: bool
    ) -> None:
        """Write members ``(person, record)``; refused ones wait for the next run's retry."""
        if not pairs:
            return
        ctx = self.ctx
        records = [record for _, record in pairs]
        if create:
            result = ctx.sf.create(
                "CampaignMember", records, match_on=("CampaignId", "ContactId", "LeadId")
            )
        else:
            result = ctx.sf.update("CampaignMember", records)
        ctx.stats.wrote("CampaignMember", result.ids)
        pending.resolved(
            ctx,
            self.name,
            [f"{campaign.cm_id}:{pairs[i][0]}" for i, sf_id in enumerate(result.ids) if sf_id],
        )
        if result.failures:
            ctx.stats.failed["CampaignMember"] += len(result.failures)
            pending.refused(
                ctx,
                self.name,
                [
                    (f"{campaign.cm_id}:{pairs[f.index][0]}", pairs[f.index][0], "", f.code)
                    for f in result.failures
                ],
            )
            report_failures(ctx, self.name, "CampaignMember", result.failures)

    def _ensure_statuses(self, campaign: CampaignInfo, wanted: set[StatusMapping]) -> None:
        """Create the mapped statuses a linked Campaign lacks (once per campaign per run)."""
        ctx = self.ctx
        sf_campaign = str(campaign.salesforce_campaign_id)
        existing: dict[str, dict[str, Any]] = {}
        top = 0
        for row in ctx.sf.query(
            "SELECT Id, Label, HasResponded, SortOrder FROM CampaignMemberStatus "
            f"WHERE CampaignId = '{sf_campaign}'"
        ):
            existing[str(row["Label"]).lower()] = row
            top = max(top, int(row.get("SortOrder") or 0))
        missing = sorted(
            (m for m in wanted if m.status.lower() not in existing), key=lambda m: m.status
        )
        records = [
            {
                "CampaignId": sf_campaign,
                "Label": mapping.status,
                "HasResponded": mapping.responded,
                "SortOrder": top + offset,
            }
            for offset, mapping in enumerate(missing, start=1)
        ]
        if records:
            result = ctx.sf.create("CampaignMemberStatus", records)
            ctx.stats.wrote("CampaignMemberStatus", result.ids)
            if result.failures:
                report_failures(ctx, self.name, "CampaignMemberStatus", result.failures)


def _normal(value: Any) -> str:
    """A datetime as comparable ISO UTC text (milliseconds), whatever form it came in.

    Salesforce answers ``...T10:00:00.000+0000``, the engine writes ``...T10:00:00+00:00``;
    both become ``...T10:00:00.000+00:00``.
    """
    return _normal_text(str(value or ""))


@lru_cache(maxsize=4096)
def _normal_text(text: str) -> str:
    """:func:`_normal` of text, cached: the events of a campaign share their minutes."""
    if not text:
        return ""
    if text.endswith("+0000"):
        text = text[:-5] + "+00:00"
    try:
        return parse_instant(text).astimezone(UTC).isoformat(timespec="milliseconds")
    except (ValueError, CmsfError):
        return text
