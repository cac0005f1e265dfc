"""What a job sees: the run, settings, both gateways, the journal, and shared lookups.

:class:`JobContext` is built once per run by the runtime. :class:`Directory` caches the
project's own configuration records (clients, lists, campaigns) read from Salesforce, with
what jobs need to know about each: Salesforce Id, time zone, record owner. Jobs that
change those records call :meth:`Directory.refresh`. :class:`RunStats` counts records
read and written for the run summary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from cmsf_core.clock import parse_instant
from cmsf_core.cm_time import time_zone

if TYPE_CHECKING:
    from cmsf_core.campaign_monitor import CampaignMonitorClient
    from cmsf_core.clock import Clock
    from cmsf_core.matching import PersonMatcher
    from cmsf_core.messages import MaintenanceLog
    from cmsf_core.salesforce import SalesforceGateway
    from cmsf_core.settings import Settings
    from cmsf_core.shadow import Shadow
    from cmsf_core.state import Journal, Run

__all__ = ["CampaignInfo", "ClientInfo", "Directory", "JobContext", "ListInfo", "RunStats"]


@dataclass(frozen=True)
class ClientInfo:
    """A Campaign Monitor client as stored in Salesforce."""

    cm_id: str
    sf_id: str
    name: str
    time_zone_name: str | None
    selected: bool
    owner_id: str | None

    @property
    def zone(self) -> tzinfo:
        """The client's time zone (Campaign Monitor timestamps are local to it)."""
        return time_zone(self.time_zone_name)


@dataclass(frozen=True)
class ListInfo:
    """A subscriber list as stored in Salesforce."""

    cm_id: str
    sf_id: str
    name: str
    client: ClientInfo
    create_rule: str
    lead_company: str | None


@dataclass(frozen=True)
class CampaignInfo:
    """A Campaign Monitor campaign as stored in Salesforce."""

    cm_id: str
    sf_id: str
    name: str
    client: ClientInfo
    sent_date: datetime | None
    salesforce_campaign_id: str | None


class Directory:
    """Lazily loaded lookups of the project's configuration records.

    Args:
        gateway: Where to read them.
        default_owner: Owner for records of clients without a security owner.
    """

    def __init__(self, gateway: SalesforceGateway, default_owner: str | None) -> None:
        self.gateway = gateway
        self.default_owner = default_owner
        self._clients: dict[str, ClientInfo] | None = None
        self._lists: dict[str, ListInfo] | None = None
        self._campaigns: dict[str, CampaignInfo] | None = None

    def refresh(self) -> None:
        """Forget cached records (after a job changed them)."""
        self._clients = self._lists = self._campaigns = None

    def clients(self, *, selected_only: bool = True) -> list[ClientInfo]:
        """Clients in Salesforce, selected ones only by default."""
        if self._clients is None:
            self._clients = {}
            for row in self.gateway.query(
                "SELECT Id, Name, CM_Id__c, Time_Zone__c, Selected__c, Security_Owner__c "
                "FROM CMSF_Client__c ORDER BY CM_Id__c"
            ):
                self._clients[row["CM_Id__c"]] = ClientInfo(
                    cm_id=row["CM_Id__c"],
                    sf_id=row["Id"],
                    name=row.get("Name") or "",
                    time_zone_name=row.get("Time_Zone__c"),
                    selected=bool(row.get("Selected__c")),
                    owner_id=row.get("Security_Owner__c") or self.default_owner,
                )
        return [c for c in self._clients.values() if c.selected or not selected_only]

    def client_by_id(self, cm_id: str) -> ClientInfo | None:
        """One client by Campaign Monitor id (selected or not)."""
        self.clients()
        assert self._clients is not None
        return self._clients.get(cm_id)

    def lists(self) -> list[ListInfo]:
        """Lists of selected clients."""
        if self._lists is None:
            by_sf_id = {c.sf_id: c for c in self.clients(selected_only=False)}
            self._lists = {}
            for row in self.gateway.query(
                "SELECT Id, Name, CM_Id__c, Client__c, Create_Rule__c, Lead_Company__c "
                "FROM CMSF_List__c ORDER BY CM_Id__c"
            ):
                client = by_sf_id.get(row.get("Client__c") or "")
                if client is None:
                    continue
                self._lists[row["CM_Id__c"]] = ListInfo(
                    cm_id=row["CM_Id__c"],
                    sf_id=row["Id"],
                    name=row.get("Name") or "",
                    client=client,
                    create_rule=row.get("Create_Rule__c") or "None",
                    lead_company=row.get("Lead_Company__c"),
                )
        return [entry for entry in self._lists.values() if entry.client.selected]

    def list_by_id(self, cm_id: str) -> ListInfo | None:
        """One list of a selected client by Campaign Monitor id."""
        self.lists()
        assert self._lists is not None
        entry = self._lists.get(cm_id)
        return entry if entry is not None and entry.client.selected else None

    def campaigns(self) -> list[CampaignInfo]:
        """Campaigns of selected clients."""
        if self._campaigns is None:
            by_sf_id = {c.sf_id: c for c in self.clients(selected_only=False)}
            self._campaigns = {}
            for row in self.gateway.query(
                "SELECT Id, Name, CM_Id__c, Client__c, Sent_Date__c, Salesforce_Campaign__c "
                "FROM CMSF_Campaign__c ORDER BY CM_Id__c"
            ):
                client = by_sf_id.get(row.get("Client__c") or "")
                if client is None:
                    continue
                sent = row.get("Sent_Date__c")
                self._campaigns[row["CM_Id__c"]] = CampaignInfo(
                    cm_id=row["CM_Id__c"],
                    sf_id=row["Id"],
                    name=row.get("Name") or "",
                    client=client,
                    sent_date=parse_instant(_iso(sent)) if sent else None,
                    salesforce_campaign_id=row.get("Salesforce_Campaign__c"),
                )
        return [entry for entry in self._campaigns.values() if entry.client.selected]

    def campaign_by_id(self, cm_id: str) -> CampaignInfo | None:
        """One campaign of a selected client by Campaign Monitor id."""
        self.campaigns()
        assert self._campaigns is not None
        entry = self._campaigns.get(cm_id)
        return entry if entry is not None and entry.client.selected else None


def _iso(value: str) -> str:
    """Salesforce writes ``+0000``; ``datetime.fromisoformat`` wants ``+00:00``."""
    if len(value) > 5 and value[-5] in "+-" and value[-3] != ":":
        return value[:-2] + ":" + value[-2:]
    return value


@dataclass
class RunStats:
    """Counts for the run summary."""

    read: Counter[str] = field(default_factory=Counter)
    written: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)


@dataclass
class JobContext:
    """Everything a job may use during one run.

    Attributes:
        run: The run (its signpost bounds every bookmark).
        settings: The integration's settings.
        sf: The Salesforce gateway.
        cm: The Campaign Monitor client.
        journal: The runner's journal (bookmarks go through it).
        shadow: What was last written to Salesforce.
        clock: The injected clock.
        log: Maintenance messages.
        directory: Cached clients, lists and campaigns.
        matcher: Finds Contacts and Leads by email.
        stats: Counts for the summary.
        progress: Told ``(job name, done, total)`` as scopes complete.
    """

    run: Run
    settings: Settings
    sf: SalesforceGateway
    cm: CampaignMonitorClient
    journal: Journal
    shadow: Shadow
    clock: Clock
    log: MaintenanceLog
    directory: Directory
    matcher: PersonMatcher
    stats: RunStats = field(default_factory=RunStats)
    progress: Callable[[str, int, int | None], None] | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def signpost(self) -> datetime:
        """The run's start: no bookmark moves past it."""
        return parse_instant(self.run.signpost)

    @property
    def full(self) -> bool:
        """This run is a full sync."""
        return self.run.full

    def batch_size(self, job: str) -> int:
        """Records per write or delete request batch of ``job`` (its internal governor limit).

        Args:
            job: A job name; its ``limit`` names the governor limit (default: the name).
        """
        from cmsf_core.jobs.base import JOBS

        cls = JOBS.get(job)
        return self.settings.limit((cls.limit or cls.name) if cls is not None else job)
