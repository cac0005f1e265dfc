"""What an admin looks at: the Sync Settings and Maintenance screens' facts, as plain data.

The product's admins live in two screens. This module reads what they show, once, for
every view of it (``cmsf status``, ``cmsf messages``, ``cmsf clients``, ``cmsf lists``,
their ``--json`` forms and the dashboard):

- :func:`sync_view`: connection, sync user, frequency, last sync with its status and
  duration, next run, the clients table, the API budget and the last runs;
- :func:`run_views`: the journal's runs with duration, reason, API calls per platform and
  a status a person can act on (``interrupted (resumes next run)``);
- :func:`message_views` and :func:`audit_views`: maintenance messages with their support
  code's guidance, and the audit log;
- :func:`account_clients` and :func:`account_lists`: the Campaign Monitor ids every
  operation needs, with names and counts; :func:`resolve` accepts a unique name for an id.

Salesforce reads are few and bounded (the Sync Settings screen costs a handful of calls);
Campaign Monitor is only read by the client and list views.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cmsf_core.bulk_ledger import BulkLedger
from cmsf_core.clock import ClockError, parse_instant
from cmsf_core.errors import CmsfError, ConfigError
from cmsf_core.formatting import seconds_between
from cmsf_core.messages import SEVERITIES
from cmsf_core.org_health import apex_queue
from cmsf_core.org_health import storage as org_storage
from cmsf_core.push.queue import queue_view
from cmsf_core.settings_store import SettingsStore
from cmsf_core.shadow import Shadow
from cmsf_core.support_codes import guidance

if TYPE_CHECKING:
    from cmsf_core.campaign_monitor import CampaignMonitorClient
    from cmsf_core.connection import Connection
    from cmsf_core.engine import Engine
    from cmsf_core.salesforce import SalesforceGateway
    from cmsf_core.state import Journal

__all__ = [
    "ApexView",
    "ApiView",
    "AuditView",
    "BulkJobView",
    "ClientView",
    "ListView",
    "MessageView",
    "QueueDepth",
    "RunView",
    "StorageView",
    "SyncView",
    "account_clients",
    "account_lists",
    "all_clients",
    "all_lists",
    "audit_views",
    "message_views",
    "parse_since",
    "resolve",
    "run_views",
    "sync_view",
]

STATE_LABELS = {
    "completed": "completed",
    "completed_with_errors": "completed with errors",
    "stopped": "stopped (resumes next run)",
    "waiting": "waiting for Salesforce (resumes next run)",
    "failed": "failed",
    "abandoned": "abandoned (a full sync replaced it)",
}
"""How a finished run's status reads."""

_CODE = re.compile(r"^[A-Za-z0-9-]{1,40}$")


@dataclass
class RunView:
    """One run of the journal as an admin reads it."""

    run_id: str
    started_at: str
    finished_at: str | None
    status: str
    state: str
    full: bool
    resumed: bool
    duration_seconds: float | None
    reason: str | None
    calls: dict[str, int]


@dataclass
class ClientView:
    """A Campaign Monitor client: ids, names, selection, Salesforce side and counts."""

    id: str
    name: str
    selected: bool
    synced: bool
    active: bool | None = None
    security_owner: str | None = None
    last_synced: str | None = None
    lists: int | None = None
    active_subscribers: int | None = None


@dataclass
class ListView:
    """A subscriber list with its counts in Campaign Monitor and in Salesforce."""

    id: str
    name: str
    client_id: str
    client_name: str
    active_subscribers: int
    unsubscribed: int
    bounced: int
    deleted: int
    synced_members: int | None


@dataclass
class ApiView:
    """The org's daily Salesforce API allocation and the sync's share of it."""

    used: int
    max: int
    share: float
    run_share: float
    org_ceiling: float


@dataclass
class QueueDepth:
    """Record changes waiting to be pushed to Campaign Monitor, and smart emails to send."""

    pending: int
    oldest: str | None
    sends: int = 0


@dataclass
class StorageView:
    """The org's data storage and the sync's share of it."""

    used_mb: int
    max_mb: int
    share: float
    synced_records: int
    synced_mb: float
    warn_percent: int
    advice: str


@dataclass
class ApexView:
    """The org's async Apex queue, with the FAQ's advice when something is stuck."""

    status: str
    summary: str
    active: int
    holding: int
    holding_long: list[str]
    stale_tokens: list[str]
    advice: str


@dataclass
class BulkJobView:
    """A Bulk API job of the sync that the next run collects."""

    job_id: str
    sobject: str
    operation: str
    opened_at: str


@dataclass
class SyncView:
    """The Sync Settings screen."""

    target: str
    mode: str
    connected: bool
    org_id: str | None
    account_name: str | None
    test_account: bool
    client_selection: list[str]
    sync_user: dict[str, Any] | None
    frequency: str
    last_sync: str | None
    last_sync_status: str | None
    last_sync_seconds: float | None
    next_run: str | None
    clients: list[ClientView] = field(default_factory=list)
    api: ApiView | None = None
    runs: list[RunView] = field(default_factory=list)
    queue: QueueDepth | None = None
    storage: StorageView | None = None
    apex: ApexView | None = None
    bulk_jobs: list[BulkJobView] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return asdict(self)


@dataclass
class MessageView:
    """A maintenance message with its support code's guidance."""

    occurred: str | None
    severity: str
    job: str
    code: str
    title: str
    guidance: str
    summary: str
    detail: str
    occurrences: int
    run_id: str | None


@dataclass
class AuditView:
    """One audit log entry: a setting change or an operation."""

    changed_at: str | None
    changed_by: str | None
    setting: str | None
    old_value: str | None
    new_value: str | None


# ----------------------------------------------------------------------------- runs


def run_views(journal: Journal, limit: int = 10) -> list[RunView]:
    """The journal's most recent runs, newest first.

    A run left ``running`` is ``running`` while a live process holds the runner lock and
    ``interrupted (resumes next run)`` otherwise.
    """
    holder = journal.lock_holder()
    out = []
    for run in journal.runs(limit):
        if run.status == "running":
            state = "running" if holder is not None else "interrupted (resumes next run)"
        else:
            state = STATE_LABELS.get(run.status, run.status.replace("_", " "))
        out.append(
            RunView(
                run_id=run.run_id,
                started_at=run.started_at,
                finished_at=run.finished_at,
                status=run.status,
                state=state,
                full=run.full,
                resumed=run.resumed,
                duration_seconds=seconds_between(run.started_at, run.finished_at),
                reason=run.reason,
                calls=journal.run_calls(run.run_id),
            )
        )
    return out


# ----------------------------------------------------------------------------- sync settings


def _users(gateway: SalesforceGateway, ids: Iterable[str | None]) -> dict[str, dict[str, Any]]:
    wanted = sorted({i for i in ids if i and i.isalnum() and len(i) in (15, 18)})
    if not wanted:
        return {}
    quoted = ", ".join(f"'{i}'" for i in wanted)
    rows = gateway.query(f"SELECT Id, Name, Username, IsActive FROM User WHERE Id IN ({quoted})")
    users = {}
    for row in rows:
        users[row["Id"]] = row
        users[row["Id"][:15]] = row
    return users


def _synced_clients(
    gateway: SalesforceGateway, users: dict[str, dict[str, Any]] | None = None
) -> tuple[list[ClientView], list[str]]:
    """Clients as stored in Salesforce, with list and subscriber counts; and owner ids."""
    rows = list(
        gateway.query(
            "SELECT Id, Name, CM_Id__c, Selected__c, Active__c, Security_Owner__c, Last_Sync__c "
            "FROM CMSF_Client__c ORDER BY Name"
        )
    )
    lists: dict[str, list[int]] = {}
    for row in gateway.query("SELECT Client__c, Total_Active__c FROM CMSF_List__c"):
        lists.setdefault(str(row.get("Client__c")), []).append(int(row.get("Total_Active__c") or 0))
    views = []
    for row in rows:
        counts = lists.get(row["Id"], [])
        owner = row.get("Security_Owner__c")
        views.append(
            ClientView(
                id=row["CM_Id__c"],
                name=row.get("Name") or "",
                selected=bool(row.get("Selected__c")),
                synced=True,
                active=bool(row.get("Active__c")),
                security_owner=owner,
                last_synced=row.get("Last_Sync__c"),
                lists=len(counts),
                active_subscribers=sum(counts),
            )
        )
    return views, [v.security_owner for v in views if v.security_owner]


def _user_label(user: dict[str, Any] | None, user_id: str | None) -> str | None:
    if user_id is None:
        return None
    if user is None:
        return user_id
    return f"{user.get('Name')} ({user.get('Username')})"


def sync_view(engine: Engine, connection: Connection, *, runs: int = 10) -> SyncView:
    """Read the Sync Settings screen: settings record, users, clients, API use, runs.

    Args:
        engine: The engine (its journal gives the runs).
        connection: Where the platforms are (described without secrets).
        runs: How many recent runs to include.
    """
    gateway = engine.gateway()
    store = SettingsStore(gateway, engine.clock)
    record = store.record() or {}
    settings = store.load()
    clients, owners = _synced_clients(gateway)
    users = _users(gateway, [settings.sync_user_id, *owners])
    for client in clients:
        client.security_owner = _user_label(
            users.get(client.security_owner or ""), client.security_owner
        )
    sync_user = None
    if settings.sync_user_id:
        user = users.get(settings.sync_user_id)
        sync_user = {
            "id": settings.sync_user_id,
            "name": user.get("Name") if user else None,
            "username": user.get("Username") if user else None,
            "active": bool(user.get("IsActive")) if user else None,
        }
    body = gateway.limits()
    limits = body.get("DailyApiRequests") or {}
    api = None
    if limits.get("Max"):
        maximum = int(limits["Max"])
        used = maximum - int(limits.get("Remaining", maximum))
        api = ApiView(
            used=used,
            max=maximum,
            share=used / maximum,
            run_share=settings.run_api_share,
            org_ceiling=settings.org_api_ceiling,
        )
    queue = queue_view(gateway)
    recent = run_views(engine.journal, runs)
    finished = next((r for r in recent if r.finished_at), None)
    found = org_storage(body, engine.journal, settings.limit("storage_warn_percent"))
    storage_view = None
    if found.max_mb:
        storage_view = StorageView(
            used_mb=found.used_mb,
            max_mb=found.max_mb,
            share=found.share,
            synced_records=found.synced_records,
            synced_mb=round(found.synced_mb, 1),
            warn_percent=found.warn_percent,
            advice=(
                "lower tracking_retention_days or keep fewer tracking_activity_types to free space"
                if found.tight
                else ""
            ),
        )
    apex = apex_queue(gateway, engine.clock.now())
    ledger = BulkLedger(engine.journal, Shadow(engine.journal))
    return SyncView(
        target=connection.describe(),
        mode=connection.mode,
        connected=settings.connected,
        org_id=settings.connected_org_id,
        account_name=settings.cm_account_name,
        test_account=settings.cm_test_account,
        client_selection=list(settings.client_selection),
        sync_user=sync_user,
        frequency=settings.frequency,
        last_sync=record.get("Last_Sync__c"),
        last_sync_status=record.get("Last_Sync_Status__c"),
        last_sync_seconds=finished.duration_seconds if finished else None,
        next_run=record.get("Next_Run__c"),
        clients=clients,
        api=api,
        runs=recent,
        queue=QueueDepth(queue.pending, queue.oldest, queue.sends),
        storage=storage_view,
        apex=ApexView(
            status=apex.status,
            summary=apex.summary,
            active=apex.active,
            holding=apex.holding,
            holding_long=apex.holding_long,
            stale_tokens=apex.stale_tokens,
            advice=apex.advice,
        ),
        bulk_jobs=[
            BulkJobView(
                job_id=j.job_id, sobject=j.sobject, operation=j.operation, opened_at=j.opened_at
            )
            for j in ledger.open_jobs()
        ],
    )


# ----------------------------------------------------------------------------- maintenance


def parse_since(text: str, now: datetime) -> datetime:
    """A ``--since`` value: a duration back from now (``30m``, ``24h``, ``7d``) or a date/instant.

    Raises:
        ConfigError: If the value is neither.
    """
    value = text.strip()
    match = re.fullmatch(r"(\d{1,5})\s*([mhdw])", value.lower())
    if match:
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
        return now - timedelta(**{unit: int(match.group(1))})
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return parse_instant(f"{value}T00:00:00+00:00")
        return parse_instant(value)
    except ClockError as exc:
        raise ConfigError(
            f"--since {text!r}: give a duration (30m, 24h, 7d) or a date (2026-01-31) or an "
            "instant with its offset (2026-01-31T09:00:00+01:00)"
        ) from exc


def _strip_guidance(detail: str, code: str) -> str:
    help_ = guidance(code)
    suffix = f"{code}: {help_.title}. {help_.guidance}"
    return detail[: -len(suffix)].rstrip() if detail.endswith(suffix) else detail


def message_views(
    gateway: SalesforceGateway,
    *,
    limit: int = 20,
    severities: Sequence[str] = (),
    codes: Sequence[str] = (),
    since: datetime | None = None,
) -> list[MessageView]:
    """Maintenance messages stored in the org, newest first, filtered.

    Args:
        gateway: The org.
        limit: At most this many (1-2000).
        severities: Only these severities (``Info``, ``Warning``, ``Error``; any case).
        codes: Only these support codes (any case).
        since: Only messages that occurred at or after this instant.

    Raises:
        ConfigError: For an unknown severity, a malformed code or a limit out of range.
    """
    if not 1 <= limit <= 2000:
        raise ConfigError("--limit must be from 1 to 2000")
    where = []
    if severities:
        known = {s.lower(): s for s in SEVERITIES}
        unknown = [s for s in severities if s.lower() not in known]
        if unknown:
            raise ConfigError(f"unknown severity {', '.join(unknown)}; use {', '.join(SEVERITIES)}")
        chosen = sorted({known[s.lower()] for s in severities})
        where.append(f"Severity__c IN ({', '.join(repr(s) for s in chosen)})")
    if codes:
        bad = [c for c in codes if not _CODE.match(c)]
        if bad:
            raise ConfigError(f"not a support code: {', '.join(bad)} (e.g. CMSF-REC-WRITE)")
        where.append(f"Support_Code__c IN ({', '.join(repr(c.upper()) for c in codes)})")
    if since is not None:
        stamp = parse_instant(since).strftime("%Y-%m-%dT%H:%M:%SZ")
        where.append(f"Occurred__c >= {stamp}")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = gateway.query(
        "SELECT Occurred__c, Severity__c, Job__c, Support_Code__c, Summary__c, Detail__c, "
        f"Occurrences__c, Run_Id__c FROM CMSF_Maintenance_Message__c{clause} "
        f"ORDER BY Occurred__c DESC LIMIT {limit}"
    )
    out = []
    for row in rows:
        code = str(row.get("Support_Code__c") or "")
        help_ = guidance(code)
        out.append(
            MessageView(
                occurred=row.get("Occurred__c"),
                severity=str(row.get("Severity__c") or ""),
                job=str(row.get("Job__c") or ""),
                code=code,
                title=help_.title,
                guidance=help_.guidance,
                summary=str(row.get("Summary__c") or ""),
                detail=_strip_guidance(str(row.get("Detail__c") or ""), code),
                occurrences=int(row.get("Occurrences__c") or 1),
                run_id=row.get("Run_Id__c"),
            )
        )
    return out


def audit_views(gateway: SalesforceGateway, *, limit: int = 50) -> list[AuditView]:
    """The audit log, newest first."""
    rows = gateway.query(
        "SELECT Changed_At__c, Changed_By__c, Setting__c, Old_Value__c, New_Value__c "
        f"FROM CMSF_Audit_Log__c ORDER BY Changed_At__c DESC LIMIT {max(1, min(limit, 2000))}"
    )
    return [
        AuditView(
            changed_at=row.get("Changed_At__c"),
            changed_by=row.get("Changed_By__c"),
            setting=row.get("Setting__c"),
            old_value=row.get("Old_Value__c"),
            new_value=row.get("New_Value__c"),
        )
        for row in rows
    ]


# ----------------------------------------------------------------------------- ids and names


def resolve(kind: str, ref: str, candidates: Sequence[tuple[str, str]]) -> str:
    """The id of the one candidate whose id is ``ref`` or whose name is ``ref`` (any case).

    Args:
        kind: ``client`` or ``list`` (for messages).
        ref: An id or a unique name.
        candidates: ``(id, name)`` pairs.

    Raises:
        ConfigError: If nothing matches, or the name belongs to several.
    """
    text = ref.strip()
    for cid, _ in candidates:
        if cid == text:
            return cid
    named = [(cid, name) for cid, name in candidates if name.strip().casefold() == text.casefold()]
    if len(named) == 1:
        return named[0][0]
    if named:
        ids = ", ".join(cid for cid, _ in named)
        raise ConfigError(f"{len(named)} {kind}s are named {ref!r} ({ids}); give the id")
    raise ConfigError(
        f"no {kind} has the id or name {ref!r}; 'cmsf {kind}s' lists them with their ids"
    )


def _selected(engine: Engine) -> tuple[set[str], bool]:
    settings = engine.settings()
    every = "*" in settings.client_selection
    return set(settings.client_selection), every


def account_clients(engine: Engine, cm: CampaignMonitorClient) -> list[ClientView]:
    """The account's clients from Campaign Monitor, joined with what Salesforce holds.

    Works before the first sync (ids come from Campaign Monitor). Counts: the client's
    lists and their active subscribers (Campaign Monitor's list statistics).
    """
    gateway = engine.gateway()
    chosen, every = _selected(engine)
    try:
        views, owners = _synced_clients(gateway)
        users = _users(gateway, owners)
        for view in views:
            view.security_owner = _user_label(
                users.get(view.security_owner or ""), view.security_owner
            )
        synced = {c.id: c for c in views}
    except CmsfError:
        synced = {}
    out = []
    for row in cm.clients():
        cid = str(row["ClientID"])
        lists = cm.lists(cid)
        active = sum(
            int(cm.list_stats(str(lst["ListID"])).get("TotalActiveSubscribers") or 0)
            for lst in lists
        )
        known = synced.get(cid)
        out.append(
            ClientView(
                id=cid,
                name=str(row.get("Name") or ""),
                selected=every or cid in chosen,
                synced=known is not None,
                active=known.active if known else None,
                security_owner=known.security_owner if known else None,
                last_synced=known.last_synced if known else None,
                lists=len(lists),
                active_subscribers=active,
            )
        )
    return sorted(out, key=lambda c: (c.name.casefold(), c.id))


def account_lists(
    engine: Engine, cm: CampaignMonitorClient, client: str | None = None
) -> list[ListView]:
    """Subscriber lists from Campaign Monitor (one client's, by id or name, or all).

    Each with its Campaign Monitor counts and how many memberships Salesforce holds
    (None where the list is not synced).

    Raises:
        ConfigError: If ``client`` matches no client, or several by name.
    """
    clients = [(str(c["ClientID"]), str(c.get("Name") or "")) for c in cm.clients()]
    if client is not None:
        wanted = resolve("client", client, clients)
        clients = [c for c in clients if c[0] == wanted]
    gateway = engine.gateway()
    members: dict[str, int] = {}
    try:
        sf_lists = {
            str(row["Id"]): str(row["CM_Id__c"])
            for row in gateway.query("SELECT Id, CM_Id__c FROM CMSF_List__c")
        }
        for row in gateway.query(
            "SELECT List__c, COUNT(Id) total FROM CMSF_List_Member__c GROUP BY List__c"
        ):
            cm_id = sf_lists.get(str(row.get("List__c")))
            if cm_id is not None:
                members[cm_id] = int(row.get("total") or 0)
        synced = set(sf_lists.values())
    except CmsfError:
        synced = set()
    out = []
    for cid, cname in clients:
        for lst in cm.lists(cid):
            lid = str(lst["ListID"])
            stats = cm.list_stats(lid)
            out.append(
                ListView(
                    id=lid,
                    name=str(lst.get("Name") or ""),
                    client_id=cid,
                    client_name=cname,
                    active_subscribers=int(stats.get("TotalActiveSubscribers") or 0),
                    unsubscribed=int(stats.get("TotalUnsubscribes") or 0),
                    bounced=int(stats.get("TotalBounces") or 0),
                    deleted=int(stats.get("TotalDeleted") or 0),
                    synced_members=members.get(lid, 0) if lid in synced else None,
                )
            )
    return sorted(out, key=lambda v: (v.client_name.casefold(), v.name.casefold(), v.id))


def all_lists(cm: CampaignMonitorClient) -> list[tuple[str, str]]:
    """Every list of the account as ``(id, name)`` (for :func:`resolve`)."""
    return [
        (str(lst["ListID"]), str(lst.get("Name") or ""))
        for client in cm.clients()
        for lst in cm.lists(str(client["ClientID"]))
    ]


def all_clients(cm: CampaignMonitorClient) -> list[tuple[str, str]]:
    """Every client of the account as ``(id, name)`` (for :func:`resolve`)."""
    return [(str(c["ClientID"]), str(c.get("Name") or "")) for c in cm.clients()]
