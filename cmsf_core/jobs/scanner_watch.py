"""The tracking history job's link-scanner watch: score unsubscribes as they are written.

While the tracking history job reads a campaign's unsubscribes, a :class:`ScannerWatch`
counts them per domain and minute (bursts), and for each unsubscribe about to be written
it looks up the membership it belongs to (resubscribed since?), reads the campaign's
opens and clicks around it when they can still decide the verdict, and scores it with
:mod:`cmsf_core.scanners`. The score, reasons and verdict (``Scanner_Score__c``,
``Scanner_Reasons__c``, ``Suspected_Scanner__c``) go on every unsubscribe's tracking
history record, and a suspected one's also on the membership whose current state it
caused (with ``AllClientLists``, every list of the client it left at that minute); other
memberships keep those fields empty, so scoring people costs no membership writes. A later unsubscribe that does not look
like a scanner, or a state change the subscribers job sees later, clears the
membership's flag, so a person who unsubscribes by hand is treated as usual.

At the end of a campaign's read the watch raises one maintenance message
(``CMSF-SCANNER``) per domain with suspected unsubscribes. Nothing here ever writes to
Campaign Monitor: resubscribing anyone is a person's decision.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cmsf_core.clock import parse_instant
from cmsf_core.cm_time import date_filter, parse_local
from cmsf_core.jobs import pending
from cmsf_core.jobs.subscribers import MEMBER, membership_key
from cmsf_core.jobs.writer import report_failures
from cmsf_core.matching import soql_quote
from cmsf_core.scanners import (
    BURST_CONTEXT,
    CLEARED,
    Activity,
    BurstIndex,
    Membership,
    Unsubscribe,
    Verdict,
    activity_by_email,
    assess,
    evidence_windows,
    may_reach,
    minute,
    verdict_fields,
)

if TYPE_CHECKING:
    from cmsf_core.jobs.context import CampaignInfo, JobContext, ListInfo

__all__ = ["CONTEXT", "HOLD", "ScannerWatch"]

HOLD = "scanner_flags"
"""Refused-write entries of memberships whose verdict Salesforce refused: while one waits,
the opt-out job counts the membership as still subscribed (with ``scanner_protection``)."""

CONTEXT = timedelta(minutes=BURST_CONTEXT)
"""How far around an unsubscribe the burst signal looks (reads overlap and hold this much)."""
SAME_CHANGE = timedelta(minutes=1)
RESUBSCRIBED_WITHIN = timedelta(minutes=10)
QUERY_CHUNK = 100


@dataclass
class _Found:
    """Suspected unsubscribes of one domain in one campaign (for the message)."""

    count: int = 0
    lists: Counter[str] = field(default_factory=Counter)
    latest_minutes: int | None = None
    resubscribed: int = 0


@dataclass(frozen=True)
class _Member:
    sf_id: str
    key: str
    list_id: str
    email: str
    state: str
    changed: datetime | None
    fields: Mapping[str, Any]


class ScannerWatch:
    """Scores one campaign's unsubscribes during one tracking history read.

    Args:
        ctx: The job context.
        job: The job's name (for messages and stats).
        campaign: The campaign being read.
    """

    def __init__(self, ctx: JobContext, job: str, campaign: CampaignInfo) -> None:
        self.ctx = ctx
        self.job = job
        self.campaign = campaign
        self.zone = campaign.client.zone
        self.bursts = BurstIndex()
        self.found: dict[str, _Found] = {}
        self._pending: tuple[list[Unsubscribe], dict[str, _Member]] = ([], {})

    # ------------------------------------------------------------------ reading

    def unsubscribe(self, key: str, row: Mapping[str, Any]) -> Unsubscribe | None:
        """The unsubscribe a report row describes (None when it lacks what scoring needs)."""
        email = str(row.get("EmailAddress") or "").strip().lower()
        try:
            at = parse_local(str(row.get("Date") or ""), self.zone)
        except ValueError:
            return None
        if "@" not in email:
            return None
        return Unsubscribe(key=key, email=email, list_id=str(row.get("ListID") or ""), at=at)

    def observe(self, keyed: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Count unsubscribes read (written or not) for the burst signal."""
        parsed = (self.unsubscribe(key, row) for key, row in keyed)
        self.bursts.add(u for u in parsed if u is not None)

    def held(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """How many rows at the end of a full buffer to keep for the next batch.

        A burst is judged on the unsubscribes up to :data:`CONTEXT` after each one, so
        rows that close to the last one read wait until those have been read.
        """
        dates = [self.unsubscribe("", row) for row in rows]
        last = max((u.at for u in dates if u is not None), default=None)
        if last is None:
            return 0
        edge = minute(last) - CONTEXT
        held = 0
        for u in reversed(dates):
            if u is not None and minute(u.at) < edge:
                break
            held += 1
        return held

    # ------------------------------------------------------------------ scoring

    def assess(self, keyed: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Verdict]:
        """Score unsubscribes about to be written; returns verdicts by record key."""
        unsubs = [u for u in (self.unsubscribe(k, row) for k, row in keyed) if u is not None]
        if not unsubs:
            return {}
        members = self._memberships(unsubs)
        threshold = self.ctx.settings.scanner_threshold
        sent = self.campaign.sent_date

        def own(u: Unsubscribe) -> Membership | None:
            m = members.get(membership_key(u.list_id, u.email))
            return Membership(m.state, m.changed) if m else None

        wanted = [u for u in unsubs if may_reach(u, sent, self.bursts, own(u), threshold)]
        evidence = self._activity(wanted)
        read = {u.key for u in wanted}
        verdicts = {
            u.key: assess(
                u,
                sent=sent,
                bursts=self.bursts,
                membership=own(u),
                activity=evidence.get(u.email, Activity()) if u.key in read else None,
                threshold=threshold,
            )
            for u in unsubs
        }
        self._pending = (unsubs, members)
        return verdicts

    def settle(self, verdicts: Mapping[str, Verdict]) -> dict[str, str]:
        """Before the records are written: update memberships and tally for the message.

        Memberships go first: if Salesforce fails here, the unsubscribes are not written
        either, so the next run reads and scores them again. The same holds for a
        membership Salesforce refuses (a lock, a validation rule): the unsubscribes whose
        membership could not be updated are returned (key -> error code) for the caller
        to keep as refused writes, retried every run until their membership takes the
        verdict (with ``scanner_protection`` on, the opt-out job reads it there).
        """
        unsubs, members = self._pending
        self._pending = ([], {})
        refused = self._update_memberships(unsubs, members, verdicts)
        held = {members[k].sf_id: code for k, code in refused.items()}
        pending.refused(self.ctx, HOLD, [(i, i, "", c) for i, c in held.items()], scope=MEMBER)
        pending.resolved(self.ctx, HOLD, [m.sf_id for m in members.values() if m.sf_id not in held])
        withheld = {
            u.key: refused[mk]
            for u in unsubs
            if u.key in verdicts
            for mk in [membership_key(lid, u.email) for lid in self._lists_left(u)]
            if mk in refused
        }
        for u in unsubs:
            verdict = verdicts.get(u.key)
            if verdict is None or not verdict.suspected or u.key in withheld:
                continue
            found = self.found.setdefault(u.domain, _Found())
            found.count += 1
            lst = self.ctx.directory.list_by_id(u.list_id)
            found.lists[lst.cm_id if lst else u.list_id] += 1
            if self.campaign.sent_date is not None:
                after = int((minute(u.at) - minute(self.campaign.sent_date)).total_seconds() // 60)
                found.latest_minutes = max(found.latest_minutes or 0, after)
            m = members.get(membership_key(u.list_id, u.email))
            if m is not None and m.state == "Active":
                found.resubscribed += 1
        return withheld

    # ------------------------------------------------------------------ Salesforce

    def _lists_left(self, u: Unsubscribe) -> list[str]:
        """Lists an unsubscribe takes the address out of: its own, or all its client's."""
        lst = self.ctx.directory.list_by_id(u.list_id)
        if lst is None or lst.unsubscribe_setting != "AllClientLists":
            return [u.list_id]
        return [x.cm_id for x in self.ctx.directory.lists() if x.client.cm_id == lst.client.cm_id]

    def _memberships(self, unsubs: Sequence[Unsubscribe]) -> dict[str, _Member]:
        keys = sorted({membership_key(lid, u.email) for u in unsubs for lid in self._lists_left(u)})
        found: dict[str, _Member] = {}
        for start in range(0, len(keys), QUERY_CHUNK):
            listed = ",".join(soql_quote(k) for k in keys[start : start + QUERY_CHUNK])
            for row in self.ctx.sf.query(
                "SELECT Id, CM_Id__c, State__c, State_Changed__c, Suspected_Scanner__c, "
                f"Scanner_Score__c, Scanner_Reasons__c FROM {MEMBER} WHERE CM_Id__c IN ({listed})"
            ):
                key = str(row["CM_Id__c"])
                list_id, _, email = key.partition(":")
                found[key] = _Member(
                    sf_id=str(row["Id"]),
                    key=key,
                    list_id=list_id,
                    email=email,
                    state=str(row.get("State__c") or ""),
                    changed=_instant(row.get("State_Changed__c")),
                    fields={
                        "Suspected_Scanner__c": bool(row.get("Suspected_Scanner__c")),
                        "Scanner_Score__c": _number(row.get("Scanner_Score__c")),
                        "Scanner_Reasons__c": row.get("Scanner_Reasons__c") or None,
                    },
                )
        return found

    def _update_memberships(
        self,
        unsubs: Sequence[Unsubscribe],
        members: Mapping[str, _Member],
        verdicts: Mapping[str, Verdict],
    ) -> dict[str, str]:
        """Write each membership's verdict fields; returns refused memberships (key -> code)."""
        latest: dict[str, Unsubscribe] = {}
        for u in sorted(unsubs, key=lambda x: x.at):
            if u.key not in verdicts:
                continue
            for lid in self._lists_left(u):
                latest[membership_key(lid, u.email)] = u
        updates, keys = [], []
        for key, u in latest.items():
            m = members.get(key)
            if m is None:
                continue
            verdict = verdicts[u.key]
            wanted = verdict_fields(verdict) if verdict.suspected and _caused_by(m, u) else CLEARED
            if dict(m.fields) != wanted:
                updates.append({"Id": m.sf_id, **wanted})
                keys.append(key)
        size = max(1, self.ctx.batch_size(self.job))
        failures, refused = [], {}
        for start in range(0, len(updates), size):
            result = self.ctx.sf.update(MEMBER, updates[start : start + size])
            self.ctx.stats.wrote(MEMBER, result.ids)
            failures.extend(result.failures)
            refused.update({keys[start + f.index]: f.code for f in result.failures})
        if failures:
            self.ctx.stats.failed[MEMBER] += len(failures)
            report_failures(self.ctx, self.job, MEMBER, failures)
        return refused

    # ------------------------------------------------------------------ Campaign Monitor

    def _activity(self, unsubs: Sequence[Unsubscribe]) -> dict[str, Activity]:
        """Opens and clicks of ``unsubs``' addresses near them, in as few reads as can be."""
        if not unsubs:
            return {}
        emails = {u.email for u in unsubs}
        opens: list[tuple[str, datetime]] = []
        clicks: list[tuple[str, datetime, str]] = []
        for kind in ("Open", "Click"):
            for start, end in evidence_windows(unsubs):
                since = date_filter(start, self.zone)
                for row in self._window(kind, since, end):
                    email = str(row.get("EmailAddress") or "").lower()
                    if email not in emails:
                        continue
                    when = parse_local(str(row["Date"]), self.zone)
                    if kind == "Open":
                        opens.append((email, when))
                    else:
                        clicks.append((email, when, str(row.get("URL") or "")))
        return dict(activity_by_email(opens, clicks))

    def _window(self, kind: str, since: str, end: datetime) -> Iterable[Mapping[str, Any]]:
        """Rows of one activity kind from ``since`` (inclusive) to ``end`` (oldest first)."""
        # A window ends inside the listing: no page is read ahead (one read for nothing).
        pages = self.ctx.cm.activity_pages(self.campaign.cm_id, kind, since, read_ahead=False)
        for page in pages:
            self.ctx.stats.read[f"CM {kind.lower()} events (scanner check)"] += len(page.results)
            for row in page.results:
                try:
                    when = parse_local(str(row.get("Date") or ""), self.zone)
                except ValueError:
                    continue
                if minute(when) > end:
                    return
                yield row

    # ------------------------------------------------------------------ telling the admin

    def report(self) -> None:
        """Raise one ``CMSF-SCANNER`` message per domain with suspected unsubscribes."""
        protection = self.ctx.settings.scanner_protection
        for domain, found in sorted(self.found.items()):
            lists = [self.ctx.directory.list_by_id(lid) for lid in found.lists]
            named = [lst for lst in lists if lst is not None]
            self.ctx.log.raise_message(
                "Warning",
                self.job,
                "CMSF-SCANNER",
                _summary(self.campaign.name, domain, found, named),
                _detail(domain, found, named, protection),
                topic=f"{self.campaign.cm_id}:{domain}",
            )
        self.found.clear()


def _caused_by(m: _Member, u: Unsubscribe) -> bool:
    """Whether ``u`` is what put membership ``m`` in its current state."""
    if m.changed is None:
        return False
    if m.state == "Unsubscribed":
        return abs(minute(m.changed) - minute(u.at)) <= SAME_CHANGE
    if m.state == "Active" and m.list_id == u.list_id:
        return timedelta(0) <= minute(m.changed) - minute(u.at) <= RESUBSCRIBED_WITHIN
    return False


def _summary(campaign: str, domain: str, found: _Found, lists: Sequence[ListInfo]) -> str:
    when = ""
    if found.latest_minutes is not None:
        span = max(2, found.latest_minutes + 1)
        when = f" within {span} minutes of delivery" if span <= 120 else ""
    plural, verb = ("s", "look") if found.count != 1 else ("", "looks")
    names = ", ".join(f"'{lst.name}'" for lst in lists) or "its list"
    advice = (
        f"two-click unsubscribe is on for {names}"
        if lists and all(lst.unsubscribe_confirmation == "Two-click" for lst in lists)
        else f"turn on two-click unsubscribe for {names}"
    )
    text = (
        f"{found.count} unsubscribe{plural} from {domain}{when} of '{campaign}' "
        f"{verb} like a link scanner; {advice}"
    )
    return text if len(text) <= 255 else text[:254] + "…"


def _detail(domain: str, found: _Found, lists: Sequence[ListInfo], protection: bool) -> str:
    still = found.count - found.resubscribed
    lines = [
        f"{found.count} unsubscribe(s) from {domain} scored at or above the scanner threshold: "
        f"{found.resubscribed} were resubscribed by the filter itself, {still} are still "
        "unsubscribed in Campaign Monitor.",
        "Lists: "
        + ", ".join(
            f"{lst.name} ({lst.unsubscribe_confirmation or 'unsubscribe confirmation unknown'})"
            for lst in lists
        ),
        "scanner_protection is on: Salesforce does not opt these people out of email."
        if protection
        else "scanner_protection is off: people unsubscribed from all their lists this way are "
        "opted out of email in Salesforce; turn it on with 'cmsf settings set "
        "scanner_protection=true'.",
        "cmsf never resubscribes anyone in Campaign Monitor. If they want your email, ask them "
        "to resubscribe; see 'cmsf scanners' for every domain and campaign.",
    ]
    return "\n".join(lines)


def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return parse_instant(str(value))
    except ValueError:  # ClockError: a hand-edited or foreign value
        return None


def _number(value: Any) -> int | None:
    return None if value is None else int(float(value))
