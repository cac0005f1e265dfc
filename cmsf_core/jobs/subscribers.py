"""Subscribers and status changes: list memberships from Campaign Monitor into Salesforce.

For every list of a selected client and every subscriber state, the job reads the
subscribers whose state changed since its bookmark (``date`` filter, oldest first) and
upserts one ``CMSF_List_Member__c`` per list and email (key ``<list id>:<email>``), linked
to the matching Contact and Lead. The bookmark is the latest ``Date`` seen, in the
client's local time, advanced after each page and never past the run's start (the
signpost). Campaign Monitor's filter is "on or after" at minute precision, so every run
re-reads the boundary minute; the shadow index makes those re-reads write nothing.

Only memberships that changed are matched to people; unmatched active subscribers on a
list with a create rule get a new Contact or Lead (:mod:`cmsf_core.jobs.create_rule`).
Memberships whose person appears in Salesforce later are linked by the ``relink`` job at
the end of the run (:mod:`cmsf_core.jobs.relink`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from cmsf_core.campaign_monitor import SUBSCRIBER_STATES
from cmsf_core.cm_time import bookmark_instant, date_filter, parse_local, parse_local_iso
from cmsf_core.errors import NotFoundError, SkippableRecordError
from cmsf_core.jobs import pending
from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.context import ListInfo
from cmsf_core.jobs.create_rule import create_guard, create_people, custom_field_values
from cmsf_core.jobs.partition_bounds import PROBE_ROWS, edge, with_bounds
from cmsf_core.jobs.relink import repair_lead_gap
from cmsf_core.jobs.writer import Desired, write_changed
from cmsf_core.jsontext import to_json
from cmsf_core.scanners import CLEARED
from cmsf_core.shadow import digest

__all__ = ["SubscribersJob", "member_record", "member_source", "membership_key"]

MEMBER = "CMSF_List_Member__c"
MEMBERSHIPS = "subscribers"
"""The job that retries refused memberships (whichever job was refused)."""
READ_BATCH = 10_000
"""Subscribers read before they are matched to people and pooled for writing (the job's
limit, when smaller, caps this too)."""
RETRY_LOOKUPS = 50
"""Refused addresses of a list fetched one by one; above this the list's changes are read."""
CONSENT = {"Yes", "No", "Unchanged"}
STATE_COUNTERS: dict[str, str] = {
    "Active": "TotalActiveSubscribers",
    "Unsubscribed": "TotalUnsubscribes",
    "Bounced": "TotalBounces",
    "Deleted": "TotalDeleted",
}
"""Subscriber state -> the list counter that counts its subscribers (Unconfirmed has none)."""


def membership_key(list_id: str, email: str) -> str:
    """The external Id of a membership: list id and lower-cased email."""
    return f"{list_id}:{email.strip().lower()}"


def member_source(row: Mapping[str, Any], state: str, zone: tzinfo) -> dict[str, Any]:
    """The Campaign Monitor data a membership record is built from.

    Dates become UTC instants here (``zone`` is the client's zone now), so a client whose
    time zone changes neither looks changed nor compares older than it is.
    """
    return {
        "Email": row.get("EmailAddress"),
        "Name": row.get("Name") or "",
        "State": row.get("State") or state,
        "Date": _instant(row.get("Date"), zone),
        "Joined": _instant(row.get("ListJoinedDate"), zone),
        "CustomFields": custom_field_values(row),
        "ConsentToTrack": row.get("ConsentToTrack"),
        "Mobile": row.get("MobileNumber"),
        "ConsentToSendSms": row.get("ConsentToSendSms"),
        "ReadsEmailWith": row.get("ReadsEmailWith") or "",
    }


def _instant(value: Any, zone: tzinfo) -> str | None:
    return parse_local_iso(str(value), zone) if value else None


def member_record(
    lst: ListInfo,
    key: str,
    source: Mapping[str, Any],
    contact_id: str | None,
    lead_id: str | None,
) -> dict[str, Any]:
    """The ``CMSF_List_Member__c`` record for a membership's source data and links."""
    consent = source.get("ConsentToTrack")
    sms = source.get("ConsentToSendSms")
    record: dict[str, Any] = {
        "CM_Id__c": key,
        "List__c": lst.sf_id,
        "Email__c": source["Email"],
        "Name": (source["Name"] or source["Email"])[:80],
        "State__c": source["State"],
        "State_Changed__c": source["Date"],
        "Joined__c": source["Joined"],
        "Consent_To_Track__c": consent if consent in CONSENT else None,
        "Mobile_Number__c": source.get("Mobile") or None,
        "Consent_To_Send_Sms__c": sms if sms in CONSENT else None,
        "Custom_Fields__c": to_json(source["CustomFields"]) if source["CustomFields"] else None,
        "Reads_Email_With__c": (source.get("ReadsEmailWith") or None),
    }
    # Links are only ever set, never cleared by a write: a merge re-parents memberships to
    # the master (whose address may differ), and the relink job moves converted Leads'.
    if contact_id:
        record["Contact__c"] = contact_id
    if lead_id:
        record["Lead__c"] = lead_id
    if lst.client.owner_id:
        record["OwnerId"] = lst.client.owner_id
    return record


def since_filter(bookmark: str | None, lst: ListInfo) -> str | None:
    """The ``date`` filter for a stored bookmark, in the list's client's zone of now."""
    if not bookmark:
        return None
    zone = lst.client.zone
    return date_filter(bookmark_instant(bookmark, zone), zone)


@register
class SubscribersJob(Job):
    """Copy subscriber state changes into list memberships."""

    name = "subscribers"
    title = "Subscribers and status changes"
    limit = "subscribers"
    follows = ("subscriber_reconciliation",)

    def start(self) -> Iterable[Scope]:
        repair_lead_gap(self.ctx)  # a run without Lead access left links to make
        scopes: list[dict[str, Any]] = []
        for lst in self.ctx.directory.lists():
            for state in SUBSCRIBER_STATES:
                scopes.append({"key": f"{lst.cm_id}:{state}", "list": lst.cm_id, "state": state})
        if self.ctx.journal.pending(self.name):
            scopes.append({"key": "retry"})
        return scopes

    def execute(self, scope: Scope) -> None:
        if scope["key"] == "retry":
            self._retry()
            return
        lst = self.ctx.directory.list_by_id(str(scope["list"]))
        if lst is None:
            return
        state = str(scope["state"])
        key = str(scope["key"])
        since = since_filter(self.ctx.journal.bookmark(self.name, key), lst)
        low = high = None
        if scope.get("part_of"):
            low, high = edge(scope.get("from")), edge(scope.get("to"))
            if since is None and low is not None:  # a part not begun: from its lower edge
                since = date_filter(low, lst.client.zone)
            elif since is None:  # the first part: from the list's bookmark
                since = since_filter(self.ctx.journal.bookmark(self.name, scope["part_of"]), lst)
        buffer: list[dict[str, Any]] = []
        try:
            pages = self.ctx.cm.subscriber_pages(
                lst.cm_id,
                state,
                since,
                read_ahead=not scope.get("part_of"),  # a part stops early
            )
            for page in pages:
                self.ctx.stats.read["CM subscribers"] += len(page.results)
                if page.number == 1:
                    self.ctx.matcher.plan(int(scope.get("rows") or page.total))
                rows, beyond = page.results, False
                if scope.get("part_of"):
                    rows, beyond = _within(rows, low, high, lst.client.zone)
                buffer.extend(rows)
                if len(buffer) >= min(self.batch_size, READ_BATCH) or page.is_last or beyond:
                    self._flush(lst, state, key, buffer)
                    buffer = []
                if beyond:
                    break  # the rest is the next part's
        except NotFoundError:
            return  # list deleted in Campaign Monitor since configuration; removed next run

    def partition(self, scope: Scope, size: int) -> list[Scope]:
        """A list's subscribers in one state, split by ``Date`` into parts of ~``size``.

        Campaign Monitor pages a read by offset, so a page range would shift when the
        list changes between the parts' reads (an unsubscribe removes a row, every later
        row moves up one and a row at a range's edge is read by neither part). A part is
        therefore a range of *change dates*, ``[from, to)``: each part reads with
        ``date=from`` (oldest first) and stops at the first row of ``to`` or later, so
        what one part reads never depends on another's rows. The edges are found with
        one probe page of :data:`PROBE_ROWS` rows per edge (the ``Date`` at offsets
        ``total * i / parts``); dates are minutes, so rows of one minute stay in one part
        and a read whose rows share a few minutes is not split. The first part starts at
        the scope's bookmark, the last reads to the end (as the whole read would).

        The list's counters bound the read: a state they show within ``size`` is not
        probed (:func:`_may_exceed`), so planning a list of small reads costs one call
        (its statistics, asked once per run), not a probe per state.
        """
        if scope.get("key") == "retry" or not scope.get("list") or size <= 0:
            return []
        lst = self.ctx.directory.list_by_id(str(scope["list"]))
        if lst is None:
            return []
        key, state, zone = str(scope["key"]), str(scope["state"]), lst.client.zone
        self.ctx.journal.clear_bookmarks(self.name, f"{key}#")  # parts of an unfinished run
        stored = self.ctx.journal.bookmark(self.name, key)
        since = since_filter(stored, lst)
        cm = self.ctx.cm
        try:
            if not _may_exceed(self._counters(lst.cm_id), state, size):
                return []
            total = cm.subscriber_page(lst.cm_id, state, since, page=1, pagesize=PROBE_ROWS).total
            if total <= size:
                return []
            count = math.ceil(total / size)
            edges: set[datetime] = set()
            for i in range(1, count):
                offset = i * total // count
                page = cm.subscriber_page(
                    lst.cm_id, state, since, page=offset // PROBE_ROWS + 1, pagesize=PROBE_ROWS
                )
                if not page.results:
                    break  # the list shrank since the first probe: fewer parts
                row = page.results[min(offset % PROBE_ROWS, len(page.results) - 1)]
                if row.get("Date"):
                    edges.add(parse_local(str(row["Date"]), zone))
        except NotFoundError:
            return []  # the list is gone: the scope itself finds that out
        floor = bookmark_instant(str(stored), zone) if stored else None
        cuts = sorted(e for e in edges if floor is None or e > floor)
        if not cuts:
            return []
        bounds: list[datetime | None] = [None, *cuts, None]
        parts: list[Scope] = []
        for i in range(len(cuts) + 1):
            part: dict[str, Any] = {
                "key": f"{key}#{i + 1}/{len(cuts) + 1}",
                "list": lst.cm_id,
                "state": state,
                "part_of": key,
                "part": i + 1,
                "rows": total // (len(cuts) + 1),
            }
            parts.append(with_bounds(part, bounds[i], bounds[i + 1]))
        return parts

    def _counters(self, list_id: str) -> Mapping[str, Any]:
        """A list's counters, from Campaign Monitor once per run (the planner's bound)."""
        known: dict[str, Mapping[str, Any]] = self.ctx.extras.setdefault("list_counters", {})
        if list_id not in known:
            known[list_id] = self.ctx.cm.list_stats(list_id)
        return known[list_id]

    def merge_partitions(self, scope: Scope, parts: Sequence[Scope]) -> None:
        """Every part is written: the list's bookmark moves to the latest part's mark
        (each is already capped at the run's start, so this is the whole read's mark)."""
        lst = self.ctx.directory.list_by_id(str(scope["list"]))
        key = str(scope["key"])
        if lst is not None:
            zone = lst.client.zone
            marks = [self.ctx.journal.bookmark(self.name, str(part["key"])) for part in parts]
            reached = [bookmark_instant(str(mark), zone) for mark in marks if mark]
            stored = self.ctx.journal.bookmark(self.name, key)
            if reached and (stored is None or max(reached) > bookmark_instant(str(stored), zone)):
                self.ctx.journal.set_bookmark(self.name, key, max(reached).isoformat())
        self.ctx.journal.clear_bookmarks(self.name, f"{key}#")

    def _flush(self, lst: ListInfo, state: str, key: str, rows: list[dict[str, Any]]) -> None:
        """Pool a batch of rows for writing, then bookmark it once it is written.

        Rows arrive oldest first, so once a batch is written every change up to its
        latest ``Date`` is in Salesforce and the bookmark may move there (never past the
        run's start). Bookmarks are UTC instants: a client's time zone may change. The
        memberships wait in the run's write pool, so the bookmark moves when the pool is
        written (:meth:`~cmsf_core.jobs.pool.WritePool.after_writes`).
        """
        if rows:
            self._write(lst, state, rows)
        zone = lst.client.zone
        dates = [parse_local(str(r["Date"]), zone) for r in rows if r.get("Date")]
        if dates:
            mark = min(max(dates), self.ctx.signpost)

            def advance() -> None:
                stored = self.ctx.journal.bookmark(self.name, key)
                if stored is None or mark > bookmark_instant(str(stored), zone):
                    self.ctx.journal.set_bookmark(self.name, key, mark.isoformat())

            self.ctx.pool.after_writes(advance)

    @staticmethod
    def _unmatched(
        sources: Mapping[str, Any], changed: Sequence[str], people: Mapping[str, Any]
    ) -> list[Mapping[str, Any]]:
        """Active subscribers among ``changed`` whose email matches nobody."""
        return [
            sources[k][0]
            for k in changed
            if sources[k][1]["State"] == "Active"
            and not _person_ids(people, str(sources[k][0]["EmailAddress"]))
        ]

    def _write(self, lst: ListInfo, state: str, rows: Sequence[Mapping[str, Any]]) -> None:
        ctx = self.ctx
        sources = {}
        for row in rows:
            if not row.get("EmailAddress"):
                continue
            sources[membership_key(lst.cm_id, str(row["EmailAddress"]))] = (
                row,
                member_source(row, state, lst.client.zone),
            )
        candidates = [(k, digest(src), str(src["Date"] or "")) for k, (_, src) in sources.items()]
        digests = {k: dig for k, dig, _ in candidates}
        previous = ctx.shadow.get(MEMBER, sources)  # read once: what changed, and its version
        changed = [k for k, _, _ in ctx.shadow.changed(MEMBER, candidates, previous)]
        if not changed:
            return
        people = ctx.matcher.match(str(sources[k][0]["EmailAddress"]) for k in changed)
        created: dict[str, str] = {}
        failed_creates: set[str] = set()
        if lst.create_rule in {"Contact", "Lead"}:
            with create_guard(ctx) as guarded:
                unmatched = self._unmatched(sources, changed, people)
                if guarded is not None and unmatched:
                    # other workers may have created some of them meanwhile: as one
                    # process would have, link to those instead of creating twins
                    people.update(ctx.matcher.refresh(str(r["EmailAddress"]) for r in unmatched))
                    unmatched = self._unmatched(sources, changed, people)
                created = create_people(ctx, self.name, lst, unmatched)
            failed_creates = {
                membership_key(lst.cm_id, str(r["EmailAddress"]))
                for r in unmatched
                if str(r["EmailAddress"]).lower() not in created
            }
        desired = []
        for k in changed:
            row, source = sources[k]
            email = str(row["EmailAddress"]).lower()
            contact_id, lead_id = _person_ids(people, email) or (None, None)
            if email in created:
                if lst.create_rule == "Contact":
                    contact_id = created[email]
                else:
                    lead_id = created[email]
            version = str(source["Date"] or "")
            record = member_record(lst, k, source, contact_id, lead_id)
            if k not in previous or previous[k].version != version:
                # a new state change: a link-scanner verdict on the old one no longer applies
                record.update(CLEARED)
            desired.append(
                Desired(
                    key=k,
                    source=source,
                    record=record,
                    version=version,
                    source_digest=digests[k],
                )
            )
        write_changed(
            ctx,
            self.name,
            MEMBER,
            desired,
            retry_locator=_email_of,
            retry_job=MEMBERSHIPS,
            pooled=True,
            forget=failed_creates,
            fresh=True,
        )
        if failed_creates:
            # The membership is written unlinked (and not remembered in the shadow); the
            # create rule is retried with it.
            pending.refused(
                ctx,
                MEMBERSHIPS,
                [
                    (
                        k,
                        str(sources[k][1]["Email"]),
                        str(sources[k][1]["Date"] or ""),
                        "CREATE_RULE",
                    )
                    for k in sorted(failed_creates)
                ],
            )

    def _retry(self) -> None:
        """Write the memberships Salesforce refused in earlier runs, fetched afresh.

        Per list, a few refused addresses are fetched one by one
        (``subscribers/{list}.json?email=``); many are found by reading the list's
        changes since the oldest refused one. Addresses no longer in the list, and lists
        no longer synced, leave the retry (reconciliation and configuration remove them).
        """
        ctx = self.ctx
        by_list: dict[str, list[pending.Pending]] = {}
        for entry in pending.waiting(ctx, MEMBERSHIPS):
            by_list.setdefault(entry.scope, []).append(entry)
        for list_id, entries in sorted(by_list.items()):
            lst = ctx.directory.list_by_id(list_id)
            usable = [e for e in entries if e.locator]
            unusable = [e.token for e in entries if not e.locator]
            if lst is None:
                ctx.journal.remove_pending(MEMBERSHIPS, [e.token for e in entries])
                continue
            ctx.journal.remove_pending(MEMBERSHIPS, unusable)
            try:
                if len(usable) <= RETRY_LOOKUPS:
                    self._retry_each(lst, usable)
                else:
                    self._retry_since(lst, usable)
            except NotFoundError:
                ctx.journal.remove_pending(MEMBERSHIPS, [e.token for e in entries])

    def _retry_each(self, lst: ListInfo, entries: list[pending.Pending]) -> None:
        ctx = self.ctx
        for entry in entries:
            email = str(entry.locator)
            try:
                row = ctx.cm.subscriber(lst.cm_id, email)
            except (NotFoundError, SkippableRecordError):
                pending.resolved(ctx, MEMBERSHIPS, [membership_key(lst.cm_id, email)])
                continue
            ctx.stats.read["CM subscribers (retry)"] += 1
            self._write(lst, str(row.get("State") or "Active"), [row])

    def _retry_since(self, lst: ListInfo, entries: list[pending.Pending]) -> None:
        ctx = self.ctx
        zone = lst.client.zone
        tokens = {e.token for e in entries}
        oldest = min((e.version for e in entries if e.version), default="")
        since = date_filter(bookmark_instant(oldest, zone), zone) if oldest else None
        for state in SUBSCRIBER_STATES:
            for page in ctx.cm.subscriber_pages(lst.cm_id, state, since):
                ctx.stats.read["CM subscribers (retry)"] += len(page.results)
                rows = [
                    row
                    for row in page.results
                    if row.get("EmailAddress")
                    and ctx.shadow.token(membership_key(lst.cm_id, str(row["EmailAddress"])))
                    in tokens
                ]
                if rows:
                    self._write(lst, state, rows)


def _may_exceed(counters: Mapping[str, Any], state: str, size: int) -> bool:
    """Whether a list's read of one state may hold more than ``size`` subscribers.

    ``counters`` are the list's statistics: a counted state holds at most its counter (a
    read since the bookmark holds fewer). Unconfirmed subscribers are not counted; they
    are probed only on a list whose counted states together exceed a part (an
    unconfirmed backlog bigger than a part on a smaller list is read by one task, as the
    local runtime reads it).
    """
    counter = STATE_COUNTERS.get(state)
    if counter is not None:
        return _count(counters, counter) > size
    return sum(_count(counters, c) for c in STATE_COUNTERS.values()) > size


def _count(counters: Mapping[str, Any], name: str) -> float:
    """One counter; one that is not a number bounds nothing (infinite: the read is probed)."""
    try:
        return int(counters.get(name) or 0)
    except (TypeError, ValueError):
        return math.inf


def _within(
    rows: list[dict[str, Any]], low: datetime | None, high: datetime | None, zone: tzinfo
) -> tuple[list[dict[str, Any]], bool]:
    """A part's rows of a page (``Date`` in ``[low, high)``), and whether the page went
    past ``high`` (the part is read). A row without a date belongs to the last part."""
    kept: list[dict[str, Any]] = []
    beyond = False
    for row in rows:
        if not row.get("Date"):
            if high is None:
                kept.append(row)
            continue
        moment = parse_local(str(row["Date"]), zone)
        if high is not None and moment >= high:
            beyond = True
        elif low is None or moment >= low:
            kept.append(row)
    return kept, beyond


def _email_of(item: Desired) -> str:
    return str(item.source["Email"])


def _person_ids(people: Mapping[str, Any], email: str) -> tuple[str | None, str | None] | None:
    person = people.get(email.strip().lower())
    if person is None or (person.contact_id is None and person.lead_id is None):
        return None
    return person.contact_id, person.lead_id
