"""What a job sees: the run, settings, both gateways, the journal, and shared lookups.

:class:`JobContext` is built once per run by the runtime. :class:`Directory` caches the
project's own configuration records (clients, lists, campaigns) read from Salesforce, with
what jobs need to know about each: Salesforce Id, time zone, record owner. Jobs that
change those records call :meth:`Directory.refresh`. :class:`RunStats` counts records
read, written, deleted and refused for the run summary; a record written by several jobs
(a list upserted by ``configuration`` then given its counters by ``list_stats``) counts
once.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cmsf_core.clock import parse_instant
from cmsf_core.cm_time import time_zone
from cmsf_core.jobs.counters import SUMMARY_FIELDS
from cmsf_core.jobs.pool import WritePool

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
    """A subscriber list as stored in Salesforce.

    ``unsubscribe_setting`` is ``AllClientLists`` or ``OnlyThisList``;
    ``unsubscribe_confirmation`` is ``Two-click``, ``One-click`` or None (not known).
    """

    cm_id: str
    sf_id: str
    name: str
    client: ClientInfo
    create_rule: str
    lead_company: str | None
    unsubscribe_setting: str | None = None
    unsubscribe_confirmation: str | None = None


@dataclass(frozen=True)
class CampaignInfo:
    """A Campaign Monitor campaign as stored in Salesforce."""

    cm_id: str
    sf_id: str
    name: str
    client: ClientInfo
    sent_date: datetime | None
    salesforce_campaign_id: str | None
    counters: Mapping[str, int] = field(default_factory=dict, compare=False)
    """The campaign's summary counters as ``campaign_stats`` last stored them
    (``TotalOpened``, ``Clicks``...); empty while it never did."""


class Directory:
    """Lazily loaded lookups of the project's configuration records.

    Args:
        gateway: Where to read them.
        default_owner: Owner for records of clients without a security owner.
    """

    def __init__(self, gateway: SalesforceGateway, default_owner: str | None) -> None:
        self.gateway = gateway
        self.default_owner = default_owner
        self.inactive_users: set[str] = set()
        self._clients: dict[str, ClientInfo] | None = None
        self._lists: dict[str, ListInfo] | None = None
        self._campaigns: dict[str, CampaignInfo] | None = None

    def refresh(self, *, clients: bool = True, lists: bool = True, campaigns: bool = True) -> None:
        """Forget cached records (after a job changed them): all, or only the kinds named.

        Lists and campaigns refer to their client, so forgetting clients forgets them too.
        """
        if clients:
            self._clients = self._lists = self._campaigns = None
        if lists:
            self._lists = None
        if campaigns:
            self._campaigns = None

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
                    owner_id=self._owner(row.get("Security_Owner__c")),
                )
        return [c for c in self._clients.values() if c.selected or not selected_only]

    def _owner(self, security_owner: str | None) -> str | None:
        """The owner of a client's records: its security owner, else the sync user.

        A deactivated user cannot own records (INACTIVE_OWNER_OR_USER); the records are
        then left to the running user, and the runtime has said so in a message.
        """
        for candidate in (security_owner, self.default_owner):
            if candidate and candidate not in self.inactive_users:
                return candidate
        return None

    def check_owners(self) -> list[tuple[str, dict[str, Any]]]:
        """Find the sync user and security owners who are deactivated.

        Returns:
            ``(role, user row)`` for each inactive one; their records fall back (see
            :meth:`_owner`).
        """
        roles: dict[str, list[str]] = {}
        if self.default_owner:
            roles.setdefault(self.default_owner, []).append("the sync user")
        for row in self.gateway.query(
            "SELECT Name, Security_Owner__c FROM CMSF_Client__c "
            "WHERE Selected__c = true AND Security_Owner__c != null"
        ):
            roles.setdefault(row["Security_Owner__c"], []).append(
                f"security owner of client {row.get('Name') or ''}".strip()
            )
        if not roles:
            return []
        listed = ", ".join(f"'{user_id}'" for user_id in sorted(roles) if user_id.isalnum())
        found: list[tuple[str, dict[str, Any]]] = []
        for user in self.gateway.query(
            f"SELECT Id, Name, Username, IsActive FROM User WHERE Id IN ({listed})"
        ):
            if not user.get("IsActive"):
                found.extend((role, user) for role in roles.get(user["Id"], []))
                self.inactive_users.add(user["Id"])
        if found:
            self.refresh()  # owners of cached clients change
        return found

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
                "SELECT Id, Name, CM_Id__c, Client__c, Create_Rule__c, Lead_Company__c, "
                "Unsubscribe_Setting__c, Unsubscribe_Confirmation__c "
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
                    unsubscribe_setting=row.get("Unsubscribe_Setting__c"),
                    unsubscribe_confirmation=row.get("Unsubscribe_Confirmation__c"),
                )
        return [entry for entry in self._lists.values() if entry.client.selected]

    def list_by_id(self, cm_id: str) -> ListInfo | None:
        """One list of a selected client by Campaign Monitor id."""
        if self._lists is None:  # asked per activity row: never rebuild the list of lists
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
                "SELECT Id, Name, CM_Id__c, Client__c, Sent_Date__c, Salesforce_Campaign__c, "
                f"Stats_Updated__c, {', '.join(SUMMARY_FIELDS.values())} "
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
                    counters=_counters(row),
                )
        return [entry for entry in self._campaigns.values() if entry.client.selected]

    def campaign_by_id(self, cm_id: str) -> CampaignInfo | None:
        """One campaign of a selected client by Campaign Monitor id."""
        self.campaigns()
        assert self._campaigns is not None
        entry = self._campaigns.get(cm_id)
        return entry if entry is not None and entry.client.selected else None


def _counters(row: Mapping[str, Any]) -> Mapping[str, int]:
    """A campaign record's stored summary counters by Campaign Monitor name (empty: never
    stored)."""
    if not row.get("Stats_Updated__c"):
        return {}
    return {name: int(row.get(name_field) or 0) for name, name_field in SUMMARY_FIELDS.items()}


def _iso(value: str) -> str:
    """Salesforce writes ``+0000``; ``datetime.fromisoformat`` wants ``+00:00``."""
    if len(value) > 5 and value[-5] in "+-" and value[-3] != ":":
        return value[:-2] + ":" + value[-2:]
    return value


class _DistinctIds:
    """Salesforce Ids seen per object, in a private temporary SQLite file.

    A run can write hundreds of thousands of records; keeping their Ids in a Python set
    would make the engine's memory grow with the account, so they go to disk (SQLite's
    temporary database, removed when closed) and only the counts stay in memory.
    """

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self.counts: Counter[str] = Counter()

    def add(self, sobject: str, ids: Iterable[str | None]) -> None:
        rows = [(sobject, sf_id) for sf_id in ids if sf_id]
        if not rows:
            return
        if self._db is None:
            self._db = sqlite3.connect("", check_same_thread=False)
            self._db.execute(
                "CREATE TABLE ids (object TEXT, id TEXT, PRIMARY KEY (object, id)) WITHOUT ROWID"
            )
        cursor = self._db.executemany("INSERT OR IGNORE INTO ids VALUES (?, ?)", rows)
        self.counts[sobject] += max(0, cursor.rowcount)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


@dataclass
class RunStats:
    """Counts for the run summary.

    ``read``, ``failed`` and ``deleted`` are counters by object (jobs add to them);
    ``written`` counts *distinct* records, so jobs report what they wrote with
    :meth:`wrote` and the Salesforce Ids it returned. ``pushed`` counts what the
    Salesforce -> Campaign Monitor push did (changes queued, subscribers added, updated,
    renamed, unsubscribed, refused); ``imports`` what each import wizard import did (rows
    read, imported, updated, failed, removed, API calls), by import name.
    """

    read: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)
    pushed: Counter[str] = field(default_factory=Counter)
    imports: dict[str, Counter[str]] = field(default_factory=dict)
    _written: _DistinctIds = field(default_factory=_DistinctIds, repr=False)

    def wrote(self, sobject: str, ids: Iterable[str | None]) -> None:
        """Count the records of ``sobject`` with these Ids as written (None: refused)."""
        self._written.add(sobject, ids)

    @property
    def written(self) -> Mapping[str, int]:
        """Distinct records written per object, 0 for others (read-only: add with :meth:`wrote`)."""
        return MappingProxyType(Counter({k: v for k, v in self._written.counts.items() if v}))

    def close(self) -> None:
        """Drop the temporary store of written Ids (the counts stay)."""
        self._written.close()


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
        pool: Writes gathered across a job's scopes (:mod:`cmsf_core.jobs.pool`).
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
    pool: WritePool = field(default_factory=WritePool)
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
