"""Email tracking history: campaign activity into ``CMSF_Email_Activity__c``.

For each campaign sent within the retention window (``tracking_retention_days``, default
180; 0 turns the job off) — "the last N days of sent emails", as the settings guide puts
it — and each activity type kept by the settings, the job reads the events since its
bookmark and writes one record per event, linked to the campaign, the list, and the
matching Contact and Lead. As days pass and a campaign's send leaves the window, the
clean-up job removes its history whole rather than leaving a partial one.
``Sent`` comes from the recipients list, dated at the campaign's send time.

Each unsubscribe is also scored as a possible spam-filter link scanner as it is written
(:mod:`cmsf_core.jobs.scanner_watch`): the score, reasons and verdict go on the record
and on the membership, and suspected domains raise a maintenance message.

Campaign Monitor does not identify events, and opens and clicks repeat at minute
precision, so an event's key is a digest of its campaign, type, list, email, minute and
URL plus its occurrence number among identical events. Re-reading a boundary minute
re-counts the same events the same way, so nothing is stored twice.

To read only what it must, the job compares each activity type's counter in the
campaign summary with the counter it saw when it last read that type completely, and
skips the read when it has not moved.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from functools import partial
from typing import Any

from cmsf_core.campaign_monitor import ACTIVITY_ENDPOINTS
from cmsf_core.cm_time import bookmark_instant, date_filter, parse_local, parse_local_iso
from cmsf_core.errors import NotFoundError
from cmsf_core.jobs import pending
from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.campaign_members import feed_entry, record_feed
from cmsf_core.jobs.campaign_stats import summaries
from cmsf_core.jobs.context import CampaignInfo
from cmsf_core.jobs.partition_bounds import PROBE_ROWS, edge, with_bounds
from cmsf_core.jobs.pool import PooledRecord
from cmsf_core.jobs.scanner_watch import CONTEXT, ScannerWatch
from cmsf_core.jobs.writer import Desired, write_changed
from cmsf_core.scanners import verdict_fields
from cmsf_core.settings import Settings
from cmsf_core.shadow import digest

__all__ = ["SUMMARY_COUNTERS", "TrackingHistoryJob", "activity_key", "watch_horizon"]

ACTIVITY = "CMSF_Email_Activity__c"
SUMMARY_COUNTERS: dict[str, str] = {
    "Sent": "Recipients",
    "Open": "TotalOpened",
    "Click": "Clicks",
    "Bounce": "Bounced",
    "Unsubscribe": "Unsubscribed",
    "Spam": "SpamComplaints",
}
"""Activity type -> the campaign summary counter that grows with it."""

READ_BATCH = 10_000
"""Events read before they are matched to people and pooled for writing (the job's limit,
when smaller, caps this too)."""
EVENT: dict[str, Any] = {"event": True}
"""Events never change once they happened: every event has the same source digest."""
EVENT_DIGEST = digest(EVENT)
SPLIT_KINDS = ("Open", "Click", "Bounce", "Spam")
"""Activity the celery runtime may read in parts by date (``partition``): dated, and not
judged in bursts across events (unsubscribes are; recipients have no date filter)."""


def watch_horizon(now: datetime, settings: Settings) -> datetime:
    """Campaigns sent before this keep no tracking history (and are no longer read)."""
    return now - timedelta(days=settings.tracking_retention_days)


def activity_key(
    campaign_id: str, kind: str, row: Mapping[str, Any], occurrence: int, zone: tzinfo
) -> str:
    """The external Id of one event (fits the 64-character ``CM_Id__c``).

    The event's time enters as a UTC instant, so a client's time-zone change (which moves
    every local ``Date`` Campaign Monitor shows) does not make old events look new.
    """
    date = row.get("Date")
    parts = [
        kind,
        str(row.get("ListID") or ""),
        str(row.get("EmailAddress") or "").lower(),
        "" if kind == "Sent" or not date else parse_local_iso(str(date), zone),
        str(row.get("URL") or ""),
        str(occurrence),
    ]
    token = hashlib.sha1("|".join(parts).encode(), usedforsecurity=False).hexdigest()[:31]
    return f"{campaign_id}:{token}"


def _instants(rows: Iterable[tuple[Mapping[str, Any], int]], zone: tzinfo) -> list[datetime]:
    """The event times of buffered rows (rows without a usable ``Date`` left out)."""
    out = []
    for row, _ in rows:
        try:
            out.append(parse_local(str(row.get("Date") or ""), zone))
        except ValueError:
            continue
    return out


@register
class TrackingHistoryJob(Job):
    """Copy campaign activity (sent, opens, clicks, bounces, unsubscribes, spam)."""

    name = "tracking_history"
    title = "Email tracking history"
    limit = "tracking_history"
    follows = ("campaign_members",)

    def enabled(self) -> bool:
        return self.ctx.settings.tracking_retention_days > 0

    @property
    def horizon(self) -> datetime:
        """Events before this instant are outside the retention window."""
        return self.ctx.clock.now() - timedelta(days=self.ctx.settings.tracking_retention_days)

    def start(self) -> Iterable[Scope]:
        ctx = self.ctx
        retention = ctx.settings.tracking_retention_days
        previous = ctx.journal.bookmark(self.name, "retention")
        if previous is not None and retention > int(previous):
            ctx.journal.clear_bookmarks(self.name)  # a longer window: fetch the older events
        ctx.journal.set_bookmark(self.name, "retention", retention)
        watched = watch_horizon(ctx.clock.now(), ctx.settings)
        scopes = [
            {"key": f"campaign:{c.cm_id}", "campaign": c.cm_id}
            for c in ctx.directory.campaigns()
            if c.sent_date is None or c.sent_date >= watched
        ]
        read = {str(s["campaign"]) for s in scopes}
        gone = [e.token for e in pending.waiting(ctx, self.name) if e.scope not in read]
        ctx.journal.remove_pending(self.name, gone)  # campaigns no longer read: nothing to retry
        return scopes

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        campaign = ctx.directory.campaign_by_id(str(scope["campaign"]))
        if campaign is None:
            return
        if scope.get("kind"):  # one date range of one activity type (a partition)
            self._read_part(campaign, scope)
            return
        skipped = set(scope.get("skip") or ())  # the types read in parts
        summary = summaries(ctx).get(campaign.cm_id)
        if summary is None:
            try:
                summary = ctx.cm.campaign_summary(campaign.cm_id)
            except NotFoundError:
                return
            summaries(ctx)[campaign.cm_id] = summary
        for kind in ACTIVITY_ENDPOINTS:
            if not ctx.settings.keeps_activity(kind) or kind in skipped:
                continue
            count = int(summary.get(SUMMARY_COUNTERS[kind]) or 0)
            key = f"{campaign.cm_id}:{kind}"
            bookmark = ctx.journal.bookmark(self.name, key) or {}
            if bookmark.get("count") == count:
                continue
            watch = ScannerWatch(ctx, self.name, campaign) if kind == "Unsubscribe" else None
            try:
                self._read(campaign, kind, key, bookmark, watch)
            except NotFoundError:
                return
            if watch is not None:
                watch.report()
            ctx.pool.after_writes(partial(self._count_read, key, count))
        self._retry(campaign)

    def partition(self, scope: Scope, size: int) -> list[Scope]:
        """A campaign's big activity reads split by date into parts of about ``size``.

        As for list partitions (:meth:`SubscribersJob.partition
        <cmsf_core.jobs.subscribers.SubscribersJob.partition>`), a part is a range of event
        dates ``[from, to)`` cut at minutes, so the occurrence numbers of identical events
        (counted per minute) are those of the whole read. Only :data:`SPLIT_KINDS` are
        split, and only when the summary counter moved by more than ``size`` since the
        type was last read whole (then a probe counts the read exactly); the campaign's
        other types and its retries stay in one part (``#0``). The counters
        ``campaign_stats`` stored (earlier in the run for a campaign sent within
        ``campaign_stats_days``) answer that without a call; the summary is asked only
        when they show a type that may be split, or were never stored.
        """
        ctx = self.ctx
        if size <= 0 or not scope.get("campaign"):
            return []
        campaign = ctx.directory.campaign_by_id(str(scope["campaign"]))
        if campaign is None:
            return []
        if campaign.counters and not self._moved(campaign, campaign.counters, size):
            return []  # the counters stored earlier in the run: nothing big to split
        try:
            summary = summaries(ctx).get(campaign.cm_id) or ctx.cm.campaign_summary(campaign.cm_id)
            summaries(ctx)[campaign.cm_id] = summary
            planned = [
                (kind, count, cuts, total)
                for kind, count in self._moved(campaign, summary, size)
                for cuts, total in [self._cuts(campaign, kind, size)]
                if cuts
            ]
        except NotFoundError:
            return []  # the campaign is gone: the scope itself finds that out
        if not planned:
            return []
        key = str(scope["key"])
        parts: list[Scope] = [
            {"key": f"{key}#0", "campaign": campaign.cm_id, "part_of": key, "part": 0,
             "skip": [kind for kind, _, _, _ in planned]}
        ]  # fmt: skip
        for kind, count, cuts, total in planned:
            bounds: list[datetime | None] = [None, *cuts, None]
            n = len(cuts) + 1
            for i in range(n):
                part: dict[str, Any] = {
                    "key": f"{key}#{kind}:{i + 1}/{n}",
                    "campaign": campaign.cm_id,
                    "kind": kind,
                    "part_of": key,
                    "part": len(parts),
                    "mark": f"{campaign.cm_id}:{kind}#{i + 1}/{n}",
                    "count": count,
                    "rows": total // n,
                }
                parts.append(with_bounds(part, bounds[i], bounds[i + 1]))
        return parts

    def _moved(
        self, campaign: CampaignInfo, summary: Mapping[str, Any], size: int
    ) -> list[tuple[str, int]]:
        """The splittable types whose counter moved by more than ``size`` since last read."""
        ctx = self.ctx
        out = []
        for kind in SPLIT_KINDS:
            if not ctx.settings.keeps_activity(kind):
                continue
            count = int(summary.get(SUMMARY_COUNTERS[kind]) or 0)
            key = f"{campaign.cm_id}:{kind}"
            ctx.journal.clear_bookmarks(self.name, f"{key}#")  # parts of an unfinished run
            bookmark = ctx.journal.bookmark(self.name, key) or {}
            if bookmark.get("count") != count and count - int(bookmark.get("count") or 0) > size:
                out.append((kind, count))
        return out

    def _start(self, campaign: CampaignInfo, bookmark: Mapping[str, Any]) -> datetime:
        """Where a dated type's read starts: its bookmark, never before the horizon."""
        stored = bookmark.get("date")
        start = bookmark_instant(str(stored), campaign.client.zone) if stored else None
        return max(start or self.horizon, self.horizon)

    def _cuts(self, campaign: CampaignInfo, kind: str, size: int) -> tuple[list[datetime], int]:
        """The dates a type's read is cut at (probed), and how many events it has."""
        ctx = self.ctx
        zone = campaign.client.zone
        start = self._start(
            campaign, ctx.journal.bookmark(self.name, f"{campaign.cm_id}:{kind}") or {}
        )
        since = date_filter(start, zone)
        total = ctx.cm.activity_page(campaign.cm_id, kind, since, page=1, pagesize=PROBE_ROWS).total
        if total <= size:
            return [], total
        count = math.ceil(total / size)
        edges: set[datetime] = set()
        for i in range(1, count):
            offset = i * total // count
            page = ctx.cm.activity_page(
                campaign.cm_id, kind, since, page=offset // PROBE_ROWS + 1, pagesize=PROBE_ROWS
            )
            if not page.results:
                break  # fewer events than the first probe counted
            row = page.results[min(offset % PROBE_ROWS, len(page.results) - 1)]
            if row.get("Date"):
                edges.add(parse_local(str(row["Date"]), zone))
        return sorted(e for e in edges if e > start), total

    def _read_part(self, campaign: CampaignInfo, part: Scope) -> None:
        """Read one date range of one type, advancing the part's own mark."""
        ctx = self.ctx
        kind, mark = str(part["kind"]), str(part["mark"])
        low, high = edge(part.get("from")), edge(part.get("to"))
        bookmark = ctx.journal.bookmark(self.name, mark)
        if bookmark is None and low is not None:
            bookmark = {"date": low.isoformat()}
        elif bookmark is None:  # the first part: from the type's bookmark
            bookmark = ctx.journal.bookmark(self.name, f"{campaign.cm_id}:{kind}") or {}
        try:
            self._read(campaign, kind, mark, bookmark, low=low, high=high, rows=part.get("rows"))
        except NotFoundError:
            return

    def merge_partitions(self, scope: Scope, parts: Sequence[Scope]) -> None:
        """Every part is written: each split type's bookmark moves to its latest part's
        mark and remembers the counter it was planned at (a whole read, as locally)."""
        ctx = self.ctx
        campaign = ctx.directory.campaign_by_id(str(scope["campaign"]))
        for kind in sorted({str(p["kind"]) for p in parts if p.get("kind")}):
            mine = [p for p in parts if p.get("kind") == kind]
            key = f"{mine[0]['campaign']}:{kind}"
            if campaign is not None:
                zone = campaign.client.zone
                marks = [(ctx.journal.bookmark(self.name, str(p["mark"])) or {}).get("date")
                         for p in mine]  # fmt: skip
                reached = [bookmark_instant(str(m), zone) for m in marks if m]
                current = ctx.journal.bookmark(self.name, key) or {}
                merged = {**current, "count": int(mine[0]["count"])}
                held = current.get("date")
                if reached and (not held or max(reached) > bookmark_instant(str(held), zone)):
                    merged["date"] = max(reached).isoformat()
                ctx.journal.set_bookmark(self.name, key, merged)
            ctx.journal.clear_bookmarks(self.name, f"{key}#")

    def _count_read(self, key: str, count: int) -> None:
        """Remember the summary counter an activity type was read completely at."""
        journal = self.ctx.journal
        journal.set_bookmark(
            self.name, key, {**(journal.bookmark(self.name, key) or {}), "count": count}
        )

    def _retry(self, campaign: CampaignInfo) -> None:
        """Re-read from the oldest refused event of each type; the shadow skips the rest.

        Events have no identity to fetch them by, so a refused event is found again by
        reading its type's activity from its time on; what was written before is known to
        the shadow index and skipped, the refused events are written.
        """
        ctx = self.ctx
        oldest: dict[str, str] = {}
        for entry in pending.waiting(ctx, self.name, campaign.cm_id):
            kind = entry.locator or ""
            if kind in ACTIVITY_ENDPOINTS and entry.version:
                oldest[kind] = min(oldest.get(kind, entry.version), entry.version)
            else:
                ctx.journal.remove_pending(self.name, [entry.token])
        for kind, version in sorted(oldest.items()):
            key = f"{campaign.cm_id}:{kind}"
            watch = ScannerWatch(ctx, self.name, campaign) if kind == "Unsubscribe" else None
            try:
                self._read(campaign, kind, key, {"date": version}, watch)
            except NotFoundError:
                return
            if watch is not None:
                watch.report()

    def _read(
        self,
        campaign: CampaignInfo,
        kind: str,
        key: str,
        bookmark: Mapping[str, Any],
        watch: ScannerWatch | None = None,
        *,
        low: datetime | None = None,
        high: datetime | None = None,
        rows: Any = None,
    ) -> None:
        """Read one type's events from ``bookmark`` on (within ``[low, high)`` for a part:
        the read stops at its first event of ``high`` or later)."""
        ctx = self.ctx
        zone = campaign.client.zone
        horizon = self.horizon  # once per read, not per event
        stored = bookmark.get("date")
        start = bookmark_instant(str(stored), zone) if stored else None
        if watch is not None and start is not None:
            start -= CONTEXT  # re-read the unsubscribes a burst before the bookmark is judged with
        if kind != "Sent":
            start = max(start or horizon, horizon)
        since = date_filter(start, zone) if start is not None else None
        occurrences: Counter[tuple[str, ...]] = Counter()
        minute = ""
        buffer: list[tuple[dict[str, Any], int]] = []
        dates: list[datetime] = []
        # A part stops at its upper edge: it reads no page ahead (one read for nothing).
        pages = ctx.cm.activity_pages(campaign.cm_id, kind, since, read_ahead=high is None)
        for page in pages:
            ctx.stats.read[f"CM {kind.lower()} events"] += len(page.results)
            if page.number == 1:
                ctx.matcher.plan(int(rows or page.total))
            beyond = False
            for row in page.results:
                date = str(row.get("Date") or "")
                if high is not None or low is not None:  # a part: its date range only
                    moment = parse_local(date, zone) if date else None
                    if moment is None:
                        if high is not None:
                            continue  # an undated event belongs to the last part
                    elif high is not None and moment >= high:
                        beyond = True  # oldest first: the rest is the next part's
                        break
                    elif low is not None and moment < low:
                        continue
                if date != minute:  # rows come oldest first: earlier minutes never recur
                    occurrences.clear()
                    minute = date
                identity = (
                    str(row.get("ListID")),
                    str(row.get("EmailAddress", "")).lower(),
                    str(row.get("URL")),
                )
                occurrences[identity] += 1
                when = parse_local(date, zone) if date else None
                if when is not None:
                    dates.append(when)
                if kind != "Sent" and when is not None and when < horizon:
                    continue
                if (
                    kind == "Sent"
                    and campaign.sent_date is not None
                    and campaign.sent_date < horizon
                ):
                    continue  # a send older than the retention window
                buffer.append((row, occurrences[identity]))
                if watch is not None:  # every unsubscribe read counts towards bursts
                    watch.observe(
                        [
                            (
                                activity_key(
                                    campaign.cm_id, kind, row, occurrences[identity], zone
                                ),
                                row,
                            )
                        ]
                    )
            if len(buffer) >= min(self.batch_size, READ_BATCH) or page.is_last or beyond:
                waiting: list[tuple[dict[str, Any], int]] = []
                if watch is not None and not page.is_last:
                    cut = len(buffer) - watch.held([row for row, _ in buffer])
                    buffer, waiting = buffer[:cut], buffer[cut:]
                if buffer:
                    self._write(campaign, kind, buffer, watch)
                if kind != "Sent" and dates:
                    mark = min(max(dates), ctx.signpost)
                    if waiting:  # rows not written yet: the bookmark stays before them
                        mark = min([mark, *_instants(waiting, zone)])
                    ctx.pool.after_writes(partial(self._advance, key, mark, zone))
                buffer, dates = waiting, []
            if beyond:
                break

    def _advance(self, key: str, mark: datetime, zone: tzinfo) -> None:
        """Move an activity type's date bookmark to ``mark`` (its events are written)."""
        journal = self.ctx.journal
        current = journal.bookmark(self.name, key) or {}
        held = current.get("date")
        if not held or mark > bookmark_instant(str(held), zone):
            journal.set_bookmark(self.name, key, {**current, "date": mark.isoformat()})

    def _write(
        self,
        campaign: CampaignInfo,
        kind: str,
        rows: list[tuple[dict[str, Any], int]],
        watch: ScannerWatch | None = None,
    ) -> None:
        ctx = self.ctx
        zone = campaign.client.zone
        keyed = [(activity_key(campaign.cm_id, kind, row, n, zone), row) for row, n in rows]
        fresh = {
            k for k, _, _ in ctx.shadow.changed(ACTIVITY, [(k, EVENT_DIGEST, "") for k, _ in keyed])
        }
        if not fresh:
            return
        verdicts = {}
        if watch is not None:
            verdicts = watch.assess([(k, row) for k, row in keyed if k in fresh])
            withheld = watch.settle(verdicts)
            if withheld:  # their membership refused the verdict: read, score, write again later
                pending.refused(
                    ctx,
                    self.name,
                    [
                        (k, kind, parse_local(str(row["Date"]), zone).isoformat(), withheld[k])
                        for k, row in keyed
                        if k in withheld and row.get("Date")
                    ],
                )
                fresh -= set(withheld)
        emails = [str(row.get("EmailAddress") or "") for k, row in keyed if k in fresh]
        people = ctx.matcher.match(emails)
        desired = []
        sent = campaign.sent_date.isoformat() if campaign.sent_date else None
        for k, row in keyed:
            if k not in fresh:
                continue
            email = str(row.get("EmailAddress") or "")
            person = people.get(email.lower())
            lst = ctx.directory.list_by_id(str(row.get("ListID") or ""))
            when = (
                sent
                if kind == "Sent"
                else parse_local_iso(str(row["Date"]), zone)
                if row.get("Date")
                else None
            )
            record: dict[str, Any] = {
                "CM_Id__c": k,
                "Campaign__c": campaign.sf_id,
                "List__c": lst.sf_id if lst else None,
                "Email__c": email or None,
                "Activity_Type__c": kind,
                "Activity_Date__c": when,
                "Url__c": (str(row.get("URL") or "")[:255]) or None,
                "Bounce_Type__c": row.get("BounceType")
                if row.get("BounceType") in {"Soft", "Hard"}
                else None,
                "Reason__c": (str(row.get("Reason") or "")[:255]) or None,
                "IP_Address__c": (str(row.get("IPAddress") or "")[:45]) or None,
                "City__c": (str(row.get("City") or "")[:80]) or None,
                "Region__c": (str(row.get("Region") or "")[:80]) or None,
                "Country__c": (str(row.get("CountryName") or "")[:80]) or None,
            }
            if person is not None and person.contact_id:  # links are set, never cleared
                record["Contact__c"] = person.contact_id
            if person is not None and person.lead_id:
                record["Lead__c"] = person.lead_id
            if campaign.client.owner_id:
                record["OwnerId"] = campaign.client.owner_id
            if k in verdicts:
                record.update(verdict_fields(verdicts[k]))
            desired.append(
                Desired(
                    key=k,
                    source=EVENT,
                    record=record,
                    version=when or "",
                    extra=feed_entry(ctx, record, campaign.salesforce_campaign_id),
                    source_digest=EVENT_DIGEST,
                )
            )
        write_changed(
            ctx,
            self.name,
            ACTIVITY,
            desired,
            retry_locator=lambda _: kind,
            pooled=True,
            on_written=self._feed,
            fresh=True,  # every event of ``desired`` is in ``fresh``
        )

    def _feed(self, written: Sequence[tuple[PooledRecord, str]], began: datetime) -> None:
        """Tell the campaign members job what was written (see its member feed)."""
        record_feed(self.ctx, written, began)
