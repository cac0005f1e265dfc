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

from collections.abc import Iterable, Mapping, Sequence
from datetime import tzinfo
from typing import Any

from cmsf_core.campaign_monitor import SUBSCRIBER_STATES
from cmsf_core.cm_time import bookmark_instant, date_filter, parse_local
from cmsf_core.errors import NotFoundError
from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.jobs.context import ListInfo
from cmsf_core.jobs.create_rule import create_people, custom_field_values
from cmsf_core.jobs.writer import Desired, write_changed
from cmsf_core.jsontext import to_json
from cmsf_core.shadow import digest

__all__ = ["SubscribersJob", "member_record", "member_source", "membership_key"]

MEMBER = "CMSF_List_Member__c"
CONSENT = {"Yes", "No", "Unchanged"}


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
    return parse_local(str(value), zone).isoformat() if value else None


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
        "Contact__c": contact_id,
        "Lead__c": lead_id,
    }
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
        scopes: list[dict[str, Any]] = []
        for lst in self.ctx.directory.lists():
            for state in SUBSCRIBER_STATES:
                scopes.append({"key": f"{lst.cm_id}:{state}", "list": lst.cm_id, "state": state})
        return scopes

    def execute(self, scope: Scope) -> None:
        lst = self.ctx.directory.list_by_id(str(scope["list"]))
        if lst is None:
            return
        state = str(scope["state"])
        key = str(scope["key"])
        since = since_filter(self.ctx.journal.bookmark(self.name, key), lst)
        buffer: list[dict[str, Any]] = []
        try:
            for page in self.ctx.cm.subscriber_pages(lst.cm_id, state, since):
                self.ctx.stats.read["CM subscribers"] += len(page.results)
                if page.number == 1:
                    self.ctx.matcher.plan(page.total)
                buffer.extend(page.results)
                if len(buffer) >= self.batch_size or page.is_last:
                    self._flush(lst, state, key, buffer)
                    buffer = []
        except NotFoundError:
            return  # list deleted in Campaign Monitor since configuration; removed next run

    def _flush(self, lst: ListInfo, state: str, key: str, rows: list[dict[str, Any]]) -> None:
        """Write a batch of rows (pages are buffered up to the batch size), then bookmark it.

        Rows arrive oldest first, so once a batch is written every change up to its
        latest ``Date`` is in Salesforce and the bookmark may move there (never past the
        run's start). Bookmarks are UTC instants: a client's time zone may change.
        """
        if rows:
            self._write(lst, state, rows)
        zone = lst.client.zone
        dates = [parse_local(str(r["Date"]), zone) for r in rows if r.get("Date")]
        if dates:
            stored = self.ctx.journal.bookmark(self.name, key)
            mark = min(max(dates), self.ctx.signpost)
            if stored is None or mark > bookmark_instant(str(stored), zone):
                self.ctx.journal.set_bookmark(self.name, key, mark.isoformat())

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
        changed = [k for k, _, _ in ctx.shadow.changed(MEMBER, candidates)]
        if not changed:
            return
        people = ctx.matcher.match(str(sources[k][0]["EmailAddress"]) for k in changed)
        created: dict[str, str] = {}
        failed_creates: set[str] = set()
        if lst.create_rule in {"Contact", "Lead"}:
            unmatched = [
                sources[k][0]
                for k in changed
                if sources[k][1]["State"] == "Active"
                and not _person_ids(people, str(sources[k][0]["EmailAddress"]))
            ]
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
            desired.append(
                Desired(
                    key=k,
                    source=source,
                    record=member_record(lst, k, source, contact_id, lead_id),
                    version=str(source["Date"] or ""),
                )
            )
        write_changed(ctx, self.name, MEMBER, desired)
        if failed_creates:
            ctx.shadow.forget(MEMBER, failed_creates)  # retry the create rule next run


def _person_ids(people: Mapping[str, Any], email: str) -> tuple[str | None, str | None] | None:
    person = people.get(email.strip().lower())
    if person is None or (person.contact_id is None and person.lead_id is None):
        return None
    return person.contact_id, person.lead_id
