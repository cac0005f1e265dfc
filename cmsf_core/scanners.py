"""Link-scanner detection: how much an unsubscribe looks like a spam filter, not a person.

Security gateways (Microsoft Defender Safe Links, Proofpoint, Mimecast, Barracuda) fetch
every link of a message as it is delivered, the unsubscribe link included, for every
recipient behind them; some click the resubscribe link of the success page too. The
product FAQ warns about it; mail tools' issue trackers are full of it (whole domains
unsubscribed within seconds of a send, clicks on every link, no open or an open in the
same second). This module scores one unsubscribe of a campaign from what Campaign
Monitor reports around it. Each signal adds points; the total is capped at 100:

=====================  ======  ==============================================================
signal                 points  when
=====================  ======  ==============================================================
``delivery``           40      unsubscribed in the minute of delivery or the next
                       25      within 10 minutes of delivery
                       10      within the hour of delivery
``links``              25      clicked two or more links within 2 minutes of unsubscribing
                       10      clicked one link within 2 minutes of unsubscribing
``open``               10      no open in the 10 minutes before, or only within a minute of it
``burst``              25      one of 3 or more unsubscribes from the domain within 2 minutes,
                               and they are at least half of the domain's unsubscribes in
                               the surrounding hour (a burst, not a busy domain's stream)
``resubscribed``       30      the membership is Active again within 10 minutes
=====================  ======  ==============================================================

An unsubscribe whose score reaches the threshold (the ``scanner_threshold`` setting,
default 60) is a *suspected scanner*. Campaign Monitor stamps activity and state changes
to the minute, so every time here is a minute and "within 2 minutes" is what minute
stamps can tell. The ``links`` and ``open`` signals need the campaign's clicks and opens
around the unsubscribe (extra reads), so they are looked at only when the other signals
leave the threshold within reach (:func:`may_reach`); a score stored without them says
so by its reasons.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

__all__ = [
    "CLEARED",
    "EVIDENCE_POINTS",
    "Activity",
    "BurstIndex",
    "Membership",
    "Unsubscribe",
    "Verdict",
    "activity_by_email",
    "assess",
    "evidence_windows",
    "may_reach",
    "minute",
    "verdict_fields",
]

DELIVERY_POINTS = ((1, 40, "within 2 minutes"), (10, 25, "within 10 minutes"),
                   (60, 10, "within the hour"))  # fmt: skip
"""(minutes after delivery at most, points, wording)."""
LINKS_POINTS = 25
ONE_LINK_POINTS = 10
OPEN_POINTS = 10
BURST_POINTS = 25
RESUBSCRIBE_POINTS = 30
EVIDENCE_POINTS = LINKS_POINTS + OPEN_POINTS
"""The most the clicks and opens around an unsubscribe can add."""

CLICK_BEFORE = timedelta(minutes=2)
CLICK_AFTER = timedelta(minutes=1)
OPEN_BEFORE = timedelta(minutes=10)
BURST_NEAR = 2
"""Minutes either side that make a burst."""
BURST_CONTEXT = 30
"""Minutes either side whose unsubscribes a burst must dominate."""
BURST_MIN = 3
RESUBSCRIBE_WITHIN = timedelta(minutes=10)
REASONS_LENGTH = 255

CLEARED: dict[str, Any] = {
    "Suspected_Scanner__c": False,
    "Scanner_Score__c": None,
    "Scanner_Reasons__c": None,
}
"""A membership's scanner fields when no scanner verdict explains its current state."""


def minute(value: datetime) -> datetime:
    """``value`` without seconds (Campaign Monitor's precision)."""
    return value.replace(second=0, microsecond=0)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


@dataclass(frozen=True)
class Unsubscribe:
    """One unsubscribe of a campaign.

    Attributes:
        key: The tracking history record's external Id.
        email: The address, lower-cased.
        list_id: The list it unsubscribed from.
        at: When (UTC, to the minute).
    """

    key: str
    email: str
    list_id: str
    at: datetime

    @property
    def domain(self) -> str:
        """The address's domain."""
        return self.email.rsplit("@", 1)[-1]


@dataclass(frozen=True)
class Membership:
    """The membership an unsubscribe belongs to, as Salesforce shows it now."""

    state: str
    changed: datetime | None


@dataclass
class Activity:
    """One address's opens and clicks of the campaign near its unsubscribe."""

    opens: list[datetime] = field(default_factory=list)
    clicks: list[tuple[datetime, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    """What the detector concluded about one unsubscribe."""

    score: int
    suspected: bool
    reasons: tuple[str, ...]

    @property
    def reasons_text(self) -> str:
        """The reasons as one line (fits a 255-character field)."""
        text = "; ".join(self.reasons)
        return text if len(text) <= REASONS_LENGTH else text[: REASONS_LENGTH - 1] + "…"


def verdict_fields(verdict: Verdict) -> dict[str, Any]:
    """The scanner fields of a tracking history record or membership for ``verdict``."""
    return {
        "Suspected_Scanner__c": verdict.suspected,
        "Scanner_Score__c": verdict.score,
        "Scanner_Reasons__c": verdict.reasons_text or None,
    }


class BurstIndex:
    """Unsubscribes of one campaign counted per domain and minute."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, datetime]] = Counter()
        self._seen: set[str] = set()

    def add(self, unsubscribes: Iterable[Unsubscribe]) -> None:
        """Count unsubscribes (each key once, however often it is read)."""
        for u in unsubscribes:
            if u.key not in self._seen:
                self._seen.add(u.key)
                self._counts[(u.domain, minute(u.at))] += 1

    def _around(self, domain: str, at: datetime, reach: int) -> int:
        start = minute(at)
        return sum(
            self._counts.get((domain, start + timedelta(minutes=m)), 0)
            for m in range(-reach, reach + 1)
        )

    def burst(self, u: Unsubscribe) -> int:
        """How many of the domain's unsubscribes form a burst with ``u`` (0: no burst)."""
        near = self._around(u.domain, u.at, BURST_NEAR)
        if near < BURST_MIN or near * 2 < self._around(u.domain, u.at, BURST_CONTEXT):
            return 0
        return near


def _delivery(u: Unsubscribe, sent: datetime | None) -> tuple[int, str | None]:
    if sent is None:
        return 0, None
    after = max(0, _minutes(minute(u.at) - minute(sent)))
    for most, points, words in DELIVERY_POINTS:
        if after <= most:
            return points, f"unsubscribed {words} of delivery"
    return 0, None


def _resubscribed(u: Unsubscribe, membership: Membership | None) -> tuple[int, str | None]:
    if membership is None or membership.state != "Active" or membership.changed is None:
        return 0, None
    after = minute(membership.changed) - minute(u.at)
    if timedelta(0) <= after <= RESUBSCRIBE_WITHIN:
        return RESUBSCRIBE_POINTS, f"resubscribed {_minutes(after)} min later"
    return 0, None


def _cheap(
    u: Unsubscribe, sent: datetime | None, bursts: BurstIndex, membership: Membership | None
) -> tuple[int, list[str]]:
    points, reasons = 0, []
    for value, reason in (_delivery(u, sent), _resubscribed(u, membership)):
        points += value
        if reason:
            reasons.append(reason)
    burst = bursts.burst(u)
    if burst:
        points += BURST_POINTS
        reasons.append(f"one of {burst} unsubscribes from {u.domain} within 2 minutes")
    return points, reasons


def may_reach(
    u: Unsubscribe,
    sent: datetime | None,
    bursts: BurstIndex,
    membership: Membership | None,
    threshold: int,
) -> bool:
    """Whether the clicks and opens around ``u`` could still lift it to ``threshold``."""
    points, _ = _cheap(u, sent, bursts, membership)
    return points < threshold <= points + EVIDENCE_POINTS


def _evidence(u: Unsubscribe, activity: Activity) -> tuple[int, list[str]]:
    points, reasons = 0, []
    at = minute(u.at)
    links = {
        url
        for when, url in activity.clicks
        if at - CLICK_BEFORE <= minute(when) <= at + CLICK_AFTER
    }
    if len(links) >= 2:
        points += LINKS_POINTS
        reasons.append(f"clicked {len(links)} links within 2 minutes")
    elif links:
        points += ONE_LINK_POINTS
        reasons.append("clicked a link within 2 minutes")
    opens = [minute(o) for o in activity.opens if at - OPEN_BEFORE <= minute(o) <= at + CLICK_AFTER]
    if not opens:
        points += OPEN_POINTS
        reasons.append("no open before it")
    elif all(abs(_minutes(o - at)) <= 1 for o in opens):
        points += OPEN_POINTS
        reasons.append("opened in the same minute")
    return points, reasons


def assess(
    u: Unsubscribe,
    *,
    sent: datetime | None,
    bursts: BurstIndex,
    membership: Membership | None,
    activity: Activity | None,
    threshold: int,
) -> Verdict:
    """Score one unsubscribe.

    Args:
        u: The unsubscribe.
        sent: When the campaign was delivered (None: unknown).
        bursts: The campaign's unsubscribes per domain and minute.
        membership: The membership of ``u``'s list and address as it is now.
        activity: The address's opens and clicks near ``u``; None when they were not
            read (the other signals kept the threshold out of reach).
        threshold: Score at which ``u`` is suspected.

    Returns:
        The score, whether it is suspected, and the reasons.
    """
    points, reasons = _cheap(u, sent, bursts, membership)
    if activity is not None:
        extra, more = _evidence(u, activity)
        points += extra
        reasons.extend(more)
    score = min(100, points)
    return Verdict(score=score, suspected=score >= threshold, reasons=tuple(reasons))


def evidence_windows(unsubscribes: Sequence[Unsubscribe]) -> list[tuple[datetime, datetime]]:
    """The spans of time whose opens and clicks the given unsubscribes need, merged."""
    spans = sorted(
        (minute(u.at) - max(OPEN_BEFORE, CLICK_BEFORE), minute(u.at) + CLICK_AFTER)
        for u in unsubscribes
    )
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1] + timedelta(minutes=5):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def activity_by_email(
    opens: Iterable[tuple[str, datetime]], clicks: Iterable[tuple[str, datetime, str]]
) -> Mapping[str, Activity]:
    """Group opens ``(email, when)`` and clicks ``(email, when, url)`` by lower-cased email."""
    out: dict[str, Activity] = {}
    for email, when in opens:
        out.setdefault(email.lower(), Activity()).opens.append(when)
    for email, when, url in clicks:
        out.setdefault(email.lower(), Activity()).clicks.append((when, url))
    return out
