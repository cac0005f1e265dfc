"""The link-scanner report: what the detector found, from the org (``cmsf scanners``).

Reads what the primary sync stored (suspected-scanner unsubscribes on the tracking
history, flagged memberships, each list's unsubscribe confirmation) and groups it by
campaign and domain, and by list: how many unsubscribes look like a scanner, how long
after delivery, how many of those people the filter resubscribed and how many are still
unsubscribed in Campaign Monitor, and which lists do not use two-click unsubscribe.
Nothing is read from Campaign Monitor and nothing is written anywhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cmsf_core.clock import parse_instant

if TYPE_CHECKING:
    from cmsf_core.salesforce import SalesforceGateway
    from cmsf_core.settings import Settings

__all__ = ["DomainFinding", "ListFinding", "ScannerReport", "scanner_report"]


@dataclass
class DomainFinding:
    """Suspected scanner unsubscribes of one domain in one campaign."""

    campaign: str
    domain: str
    count: int = 0
    lists: set[str] = field(default_factory=set)
    first: datetime | None = None
    minutes_after_delivery: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {
            "campaign": self.campaign,
            "domain": self.domain,
            "unsubscribes": self.count,
            "lists": sorted(self.lists),
            "first": self.first.isoformat() if self.first else None,
            "minutes_after_delivery": self.minutes_after_delivery,
        }


@dataclass
class ListFinding:
    """One list: its unsubscribe confirmation and what scanners did to it."""

    name: str
    confirmation: str
    suspected: int = 0
    still_unsubscribed: int = 0
    resubscribed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {
            "list": self.name,
            "unsubscribe_confirmation": self.confirmation,
            "suspected_unsubscribes": self.suspected,
            "still_unsubscribed": self.still_unsubscribed,
            "resubscribed_by_filter": self.resubscribed,
        }


@dataclass
class ScannerReport:
    """Everything ``cmsf scanners`` shows."""

    threshold: int
    protection: bool
    since: datetime | None
    domains: list[DomainFinding]
    lists: list[ListFinding]

    @property
    def without_two_click(self) -> list[ListFinding]:
        """Lists that do not (or are not known to) ask for a second click to unsubscribe."""
        return [f for f in self.lists if f.confirmation != "Two-click"]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {
            "scanner_threshold": self.threshold,
            "scanner_protection": self.protection,
            "since": self.since.isoformat() if self.since else None,
            "domains": [d.as_dict() for d in self.domains],
            "lists": [f.as_dict() for f in self.lists],
            "lists_without_two_click": [f.name for f in self.without_two_click],
        }


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return parse_instant(str(value))
    except ValueError:
        return None


def _names(rows: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {str(r["Id"]): r for r in rows}


def scanner_report(
    gateway: SalesforceGateway, settings: Settings, *, now: datetime, days: int | None = None
) -> ScannerReport:
    """Build the report from the org.

    Args:
        gateway: The org.
        settings: For the threshold and protection shown.
        now: The current time (``days`` counts back from it).
        days: Only unsubscribes of the last ``days`` days; all when None.
    """
    since = now - timedelta(days=days) if days is not None else None
    campaigns = _names(gateway.query("SELECT Id, Name, Sent_Date__c FROM CMSF_Campaign__c"))
    lists = _names(gateway.query("SELECT Id, Name, Unsubscribe_Confirmation__c FROM CMSF_List__c"))
    where = "Activity_Type__c = 'Unsubscribe' AND Suspected_Scanner__c = true"
    if since is not None:
        where += f" AND Activity_Date__c >= {since.isoformat().replace('+00:00', 'Z')}"
    found: dict[tuple[str, str], DomainFinding] = {}
    per_list: Counter[str] = Counter()
    for row in gateway.query(
        f"SELECT Campaign__c, List__c, Email__c, Activity_Date__c FROM CMSF_Email_Activity__c "
        f"WHERE {where} ORDER BY Activity_Date__c"
    ):
        campaign = campaigns.get(str(row.get("Campaign__c")), {})
        lst = lists.get(str(row.get("List__c")), {})
        domain = str(row.get("Email__c") or "").rsplit("@", 1)[-1].lower()
        name = str(campaign.get("Name") or row.get("Campaign__c") or "?")
        item = found.setdefault((name, domain), DomainFinding(campaign=name, domain=domain))
        item.count += 1
        if lst:
            item.lists.add(str(lst.get("Name")))
            per_list[str(lst["Id"])] += 1
        at, sent = _when(row.get("Activity_Date__c")), _when(campaign.get("Sent_Date__c"))
        if at is not None and item.first is None:
            item.first = at
        if at is not None and sent is not None:
            after = max(0, int((at - sent).total_seconds() // 60))
            item.minutes_after_delivery = max(item.minutes_after_delivery or 0, after)
    states: dict[str, Counter[str]] = {}
    for row in gateway.query(
        "SELECT List__c, State__c FROM CMSF_List_Member__c WHERE Suspected_Scanner__c = true"
    ):
        states.setdefault(str(row.get("List__c")), Counter())[str(row.get("State__c"))] += 1
    findings = []
    for sf_id, lst in sorted(lists.items(), key=lambda item: str(item[1].get("Name"))):
        counts = states.get(sf_id, Counter())
        findings.append(
            ListFinding(
                name=str(lst.get("Name")),
                confirmation=str(lst.get("Unsubscribe_Confirmation__c") or "unknown"),
                suspected=per_list[sf_id],
                still_unsubscribed=counts["Unsubscribed"],
                resubscribed=counts["Active"],
            )
        )
    domains = sorted(found.values(), key=lambda d: (-d.count, d.campaign, d.domain))
    return ScannerReport(
        threshold=settings.scanner_threshold,
        protection=settings.scanner_protection,
        since=since,
        domains=domains,
        lists=findings,
    )
