"""Maintenance operations of the settings screens, as functions.

Each operation reads and writes the settings record through
:class:`~cmsf_core.settings_store.SettingsStore` and leaves an audit-log entry:

- :func:`connect` — connect the org to a Campaign Monitor account (remembers the org Id
  for sandbox safety, and whether the account is a test account);
- :func:`reconnect` — keep the connection but change which clients are selected (clients
  not selected lose their synced data at the next run);
- :func:`disconnect` — stop syncing, keep the data;
- :func:`reset_settings` — back to defaults, disconnected (the sandbox post-copy action);
- :func:`change_sync_user` — the sync runs as, and records default to, another user;
- :func:`set_security_owner` — the owner of the records created for one client;
- :func:`disconnect_client` — stop syncing one client of an agency account;
- :func:`change_settings` — validated changes by name (what ``cmsf settings set`` does);
- :func:`set_bulk_actions` — the product's ``setBulkActions(ALL_ACTIONS | BULK_ACTIONS,
  disable)``: turn the record-change triggers (all, or their bulk handling) off or on;
- :func:`clear_campaign_history` — delete tracking history (all, or from a date on);
- :func:`import_subscriber` — refresh one subscriber's membership now, without waiting
  for the primary sync (the product's ``importSubscriber`` global API);
- :func:`create_list` — create a Campaign Monitor list for a client and its Salesforce
  record (``createSubscriberList``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cmsf_core.errors import ConfigError, PlatformError
from cmsf_core.settings import INTERNAL_SETTINGS, UNSUPPORTED_SETTINGS, Settings
from cmsf_core.settings_store import SettingsStore

if TYPE_CHECKING:
    from cmsf_core.campaign_monitor import CampaignMonitorClient
    from cmsf_core.clock import Clock
    from cmsf_core.salesforce import SalesforceGateway

__all__ = [
    "change_settings",
    "change_sync_user",
    "clear_campaign_history",
    "connect",
    "connection_generation",
    "create_list",
    "disconnect",
    "disconnect_client",
    "ensure_connection_identity",
    "import_subscriber",
    "reconnect",
    "reset_settings",
    "set_bulk_actions",
    "set_security_owner",
]

BULK_ACTION_SETTINGS = {"ALL_ACTIONS": "disable_triggers", "BULK_ACTIONS": "disable_bulk_triggers"}
"""``setBulkActions`` action types and the setting each one switches."""


def _store(gateway: SalesforceGateway, clock: Clock) -> SettingsStore:
    return SettingsStore(gateway, clock)


def connect(
    gateway: SalesforceGateway,
    cm: CampaignMonitorClient,
    clock: Clock,
    *,
    clients: tuple[str, ...] = ("*",),
    test_account: bool | None = None,
    sync_user_id: str | None = None,
    changed_by: str = "cmsf connect",
) -> Settings:
    """Connect the org to the Campaign Monitor account the client is authenticated with.

    Args:
        gateway: The org.
        cm: The account (its credentials are checked by listing its clients).
        clock: For the audit log.
        clients: Client ids to select, or ``("*",)`` for all.
        test_account: Whether the account is a test account. Where the account itself
            says (a simulated account does), that answer is used and a contradicting claim
            is refused; elsewhere the claim holds for this account only. Default False.
        sync_user_id: The Salesforce user the sync runs as.
        changed_by: Who connected, for the audit log.

    Returns:
        The new settings.

    Raises:
        ConfigError: If a selected client is not in the account, or the test-account
            claim contradicts the account.
        AuthenticationError: If Campaign Monitor refuses the credentials.

    A new connection (another account or org, or after a reset) gets a new connection key, so the runner's journal starts clean state for it; connecting again to
    the same account and org keeps it.
    """
    available = {c["ClientID"]: c.get("Name", "") for c in cm.clients()}
    unknown = [c for c in clients if c != "*" and c not in available]
    if unknown:
        raise ConfigError(
            f"client(s) not in this Campaign Monitor account: {', '.join(unknown)}; "
            f"available: {', '.join(sorted(available)) or 'none'}"
        )
    said = cm.says_test_account()
    if test_account is None:
        test_account = bool(said)
    elif said is not None and said != test_account:
        raise ConfigError(
            "the Campaign Monitor account says it is "
            f"{'a test account' if said else 'not a test account'}; connect "
            f"{'without --live-account' if said else 'without --test-account'}"
        )
    fingerprint = cm.account_fingerprint()
    org = gateway.organization()
    store = _store(gateway, clock)
    before = store.load()
    same_connection = (
        before.connection_key is not None
        and before.cm_account_id == fingerprint
        and (before.connected_org_id or "")[:15] == str(org["Id"])[:15]
    )
    settings = before.changed(
        connected=True,
        connected_org_id=org["Id"],
        cm_test_account=test_account,
        cm_account_id=fingerprint,
        connection_key=before.connection_key if same_connection else secrets.token_hex(32),
        client_selection=list(clients),
        cm_account_name=", ".join(sorted(available.values()))[:255] or None,
        **({"sync_user_id": sync_user_id} if sync_user_id else {}),
    )
    store.save(settings, changed_by=changed_by)
    store.audit(
        "Connect", changed_by=changed_by, detail=f"org {org['Id']}, clients {', '.join(clients)}"
    )
    return settings


def connection_generation(settings: Settings) -> str:
    """A digest naming the connection (its key never leaves the org)."""
    key = settings.connection_key or ""
    return hashlib.sha256(f"cmsf-connection:{key}".encode()).hexdigest()[:32]


def ensure_connection_identity(
    store: SettingsStore, settings: Settings, cm: CampaignMonitorClient
) -> Settings:
    """Give a connection made before accounts were fingerprinted its identity and key.

    The account behind the credentials now is taken as the connected one (trust on first
    use); from then on every run checks that it is still the same account.

    Returns:
        The settings, completed and saved where something was missing.
    """
    if settings.connection_key and settings.cm_account_id:
        return settings
    completed = settings.changed(
        cm_account_id=settings.cm_account_id or cm.account_fingerprint(),
        connection_key=settings.connection_key or secrets.token_hex(32),
    )
    store.save(completed, changed_by="cmsf (connection identity)")
    return completed


def reconnect(
    gateway: SalesforceGateway,
    cm: CampaignMonitorClient,
    clock: Clock,
    *,
    clients: tuple[str, ...],
    changed_by: str = "cmsf reconnect",
) -> Settings:
    """Keep the connection, select ``clients`` (the others' synced data goes next run).

    Raises:
        ConfigError: If not connected, or a client is not in the account.
    """
    store = _store(gateway, clock)
    if not store.load().connected:
        raise ConfigError("not connected; use 'cmsf connect' first")
    return connect(gateway, cm, clock, clients=clients, changed_by=changed_by)


def disconnect(
    gateway: SalesforceGateway, clock: Clock, *, changed_by: str = "cmsf disconnect"
) -> Settings:
    """Stop syncing; the data already in Salesforce stays."""
    store = _store(gateway, clock)
    settings = store.load().changed(connected=False)
    store.save(settings, changed_by=changed_by)
    store.audit("Disconnect", changed_by=changed_by)
    return settings


def reset_settings(
    gateway: SalesforceGateway, clock: Clock, *, changed_by: str = "cmsf reset"
) -> Settings:
    """Return every setting to its default, disconnected (run after a sandbox refresh)."""
    store = _store(gateway, clock)
    settings = Settings()
    store.save(settings, changed_by=changed_by)
    store.audit("Reset settings", changed_by=changed_by)
    return settings


def _user(gateway: SalesforceGateway, user: str) -> dict[str, Any]:
    """An active user by Id or username.

    Raises:
        ConfigError: If no active user matches.
    """
    value = user.strip()
    if value.isalnum() and len(value) in (15, 18) and value.startswith("005"):
        where = f"Id = '{value}'"
    else:
        if not value or len(value) > 80 or "'" in value or "\\" in value:
            raise ConfigError(f"{user!r} is not a Salesforce username or user Id")
        where = f"Username = '{value}'"
    try:
        rows = list(gateway.query(f"SELECT Id, Username, Name, IsActive FROM User WHERE {where}"))
    except PlatformError as exc:  # a malformed Id (bad checksum)
        raise ConfigError(f"no active Salesforce user {user!r}") from exc
    if not rows or not rows[0].get("IsActive"):
        raise ConfigError(f"no active Salesforce user {user!r}")
    return rows[0]


def change_sync_user(
    gateway: SalesforceGateway, clock: Clock, user: str, *, changed_by: str = "cmsf sync-user"
) -> dict[str, Any]:
    """Make ``user`` (an active user, by username or Id) the sync user.

    The product's "Change Salesforce Sync User": runs then run as that user (JWT bearer
    on a real org when cmsf logs in as someone else) and records without a client's
    security owner are owned by them. The user gets ``CMSF_Full_Access`` when they lack it.

    Returns:
        The user (``Id``, ``Username``, ``Name``) and whether the permission set was assigned.

    Raises:
        ConfigError: If no active user matches, or the data model is not deployed.
    """
    from cmsf_core.permission_sets import LEVELS

    found = _user(gateway, user)
    permission_set = next(
        iter(gateway.query(f"SELECT Id FROM PermissionSet WHERE Name = '{LEVELS[0].name}'")), None
    )
    if permission_set is None:
        raise ConfigError(
            f"the permission set {LEVELS[0].name} is not in the org: run 'cmsf setup'"
        )
    assigned = False
    if not gateway.count(
        f"SELECT COUNT() FROM PermissionSetAssignment WHERE AssigneeId = '{found['Id']}' "
        f"AND PermissionSetId = '{permission_set['Id']}'"
    ):
        result = gateway.create(
            "PermissionSetAssignment",
            [{"AssigneeId": found["Id"], "PermissionSetId": permission_set["Id"]}],
        )
        if result.failures:
            failure = result.failures[0]
            raise ConfigError(
                f"Salesforce refused to assign {LEVELS[0].name} to {found['Username']}: "
                f"{failure.code} {failure.message}"
            )
        assigned = True
    store = _store(gateway, clock)
    store.save(replace(store.load(), sync_user_id=found["Id"]), changed_by=changed_by)
    return {"Id": found["Id"], "Username": found["Username"], "Name": found.get("Name"),
            "assigned_permission_set": assigned}  # fmt: skip


def set_security_owner(
    gateway: SalesforceGateway,
    clock: Clock,
    client_id: str,
    user: str | None,
    *,
    changed_by: str = "cmsf security-owner",
) -> str | None:
    """Set the owner of the records created for a client (None: the sync user again).

    Returns:
        The owner's user Id, or None when cleared.

    Raises:
        ConfigError: If the client is not synced or the user is not active.
    """
    rows = list(
        gateway.query(
            "SELECT Id, Name, Security_Owner__c FROM CMSF_Client__c "
            f"WHERE CM_Id__c = '{_safe_cm_id(client_id)}'"
        )
    )
    if not rows:
        raise ConfigError(f"client {client_id} is not synced yet (run 'cmsf sync' first)")
    owner = _user(gateway, user) if user else None
    owner_id = owner["Id"] if owner else None
    result = gateway.update(
        "CMSF_Client__c", [{"Id": rows[0]["Id"], "Security_Owner__c": owner_id}]
    )
    if result.failures:
        failure = result.failures[0]
        raise ConfigError(f"Salesforce refused the change: {failure.code} {failure.message}")
    _store(gateway, clock).audit(
        "Security owner",
        changed_by=changed_by,
        detail=f"{rows[0].get('Name')} ({client_id}): {owner['Username'] if owner else 'the sync user'}",
    )
    return owner_id


def disconnect_client(
    gateway: SalesforceGateway,
    cm: CampaignMonitorClient,
    clock: Clock,
    client_id: str,
    *,
    changed_by: str = "cmsf disconnect",
) -> Settings:
    """Stop syncing one client of an agency account; its synced data goes at the next run.

    Raises:
        ConfigError: If not connected, the client is not selected, or it is the last one.
    """
    settings = _store(gateway, clock).load()
    if not settings.connected:
        raise ConfigError("not connected; use 'cmsf connect' first")
    available = [str(c["ClientID"]) for c in cm.clients()]
    selected = [c for c in available if settings.selects_client(c)]
    if client_id not in selected:
        raise ConfigError(
            f"client {client_id} is not selected; selected: {', '.join(selected) or 'none'}"
        )
    remaining = tuple(c for c in selected if c != client_id)
    if not remaining:
        raise ConfigError(
            "it is the only selected client: use 'cmsf disconnect' (without --client) to stop syncing"
        )
    updated = reconnect(gateway, cm, clock, clients=remaining, changed_by=changed_by)
    _store(gateway, clock).audit("Disconnect client", changed_by=changed_by, detail=client_id)
    return updated


def _safe_cm_id(value: str) -> str:
    if not value or len(value) > 64 or not all(c.isalnum() or c in "-_" for c in value):
        raise ConfigError(f"{value!r} is not a Campaign Monitor id")
    return value


def change_settings(
    gateway: SalesforceGateway, clock: Clock, changes: dict[str, Any], *, changed_by: str
) -> tuple[Settings, list[str]]:
    """Apply validated setting changes; return the settings and the names that changed.

    Raises:
        ConfigError: For unknown names or invalid values (nothing is written then).
    """
    for name in changes:
        if name in INTERNAL_SETTINGS:
            raise ConfigError(f"setting {name!r} cannot be set: {INTERNAL_SETTINGS[name]}")
        if name in UNSUPPORTED_SETTINGS:
            raise ConfigError(f"setting {name!r} is not supported: {UNSUPPORTED_SETTINGS[name]}")
    store = _store(gateway, clock)
    settings = store.load().changed(**changes)
    changed = store.save(settings, changed_by=changed_by)
    return settings, changed


def set_bulk_actions(
    gateway: SalesforceGateway,
    clock: Clock,
    action_type: str,
    disable: bool,
    *,
    changed_by: str = "cmsf set-bulk-actions",
) -> list[str]:
    """Disable (or enable) all record-change triggers, or only their bulk handling.

    ``ALL_ACTIONS`` switches ``disable_triggers`` (no record change is pushed while on, for
    example during a data load); ``BULK_ACTIONS`` switches ``disable_bulk_triggers`` (only
    the first record of a bulk change is pushed).

    Returns:
        The names of the settings that changed.

    Raises:
        ConfigError: For an unknown action type.
    """
    setting = BULK_ACTION_SETTINGS.get(action_type.strip().upper())
    if setting is None:
        raise ConfigError(
            f"unknown action type {action_type!r}; use {' or '.join(BULK_ACTION_SETTINGS)}"
        )
    return change_settings(gateway, clock, {setting: disable}, changed_by=changed_by)[1]


def clear_campaign_history(
    gateway: SalesforceGateway,
    clock: Clock,
    *,
    since: datetime | None = None,
    batch_size: int = 1000,
    changed_by: str = "cmsf clear-history",
) -> int:
    """Delete email tracking history in Salesforce (not in Campaign Monitor).

    The product's ``clearCampaignHistory(deleteFrom, batchSize)``.

    Args:
        gateway: The org.
        clock: For the audit log.
        since: Only delete activity on or after this instant; everything when None.
        batch_size: Records deleted per batch (1 to 10,000).
        changed_by: For the audit log.

    Returns:
        How many records were deleted.

    Raises:
        ConfigError: For a batch size out of range.
    """
    if not 1 <= batch_size <= 10_000:
        raise ConfigError("--batch-size must be from 1 to 10000")
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if since else None
    where = f" WHERE Activity_Date__c >= {stamp}" if stamp else ""
    deleted = 0
    batch: list[str] = []
    for page in gateway.query_pages(f"SELECT Id FROM CMSF_Email_Activity__c{where}"):
        batch += [row["Id"] for row in page]
        while len(batch) >= batch_size:
            deleted += gateway.delete(
                batch[:batch_size], sobject="CMSF_Email_Activity__c"
            ).succeeded
            batch = batch[batch_size:]
    if batch:
        deleted += gateway.delete(batch, sobject="CMSF_Email_Activity__c").succeeded
    _store(gateway, clock).audit(
        "Clear campaign history",
        changed_by=changed_by,
        detail=f"{deleted} deleted" + (f" from {stamp}" if stamp else ""),
    )
    return deleted


def import_subscriber(
    gateway: SalesforceGateway, cm: CampaignMonitorClient, clock: Clock, list_id: str, email: str
) -> str:
    """Copy one subscriber's current state in a list into Salesforce now.

    Returns:
        The Salesforce Id of the membership record.

    Raises:
        ConfigError: If the list is not synced, or the address is not in it.
    """
    from cmsf_core.errors import NotFoundError, SkippableRecordError
    from cmsf_core.jobs.context import Directory
    from cmsf_core.jobs.subscribers import member_record, member_source, membership_key
    from cmsf_core.matching import PersonMatcher
    from cmsf_core.safety import check_org_safety
    from cmsf_core.state import Journal

    settings = _store(gateway, clock).load()
    check_org_safety(gateway, settings, cm)
    lst = Directory(gateway, settings.sync_user_id).list_by_id(list_id)
    if lst is None:
        raise ConfigError(
            f"list {list_id} is not synced (run 'cmsf sync' first, or check the client selection)"
        )
    try:
        row = cm.subscriber(list_id, email)
    except (NotFoundError, SkippableRecordError) as exc:
        raise ConfigError(f"{email} is not a subscriber of list {list_id}") from exc
    person = PersonMatcher(gateway, Journal()).match([email]).get(email.strip().lower())
    source = member_source(row, str(row.get("State") or "Active"), lst.client.zone)
    record = member_record(
        lst,
        membership_key(list_id, email),
        source,
        person.contact_id if person else None,
        person.lead_id if person else None,
    )
    result = gateway.upsert("CMSF_List_Member__c", "CM_Id__c", [record])
    if result.failures:
        failure = result.failures[0]
        raise ConfigError(f"Salesforce refused the membership: {failure.code} {failure.message}")
    return str(result.ids[0])


def create_list(
    gateway: SalesforceGateway,
    cm: CampaignMonitorClient,
    clock: Clock,
    client_id: str,
    name: str,
    *,
    changed_by: str = "cmsf create-list",
) -> str:
    """Create a list in Campaign Monitor for ``client_id`` and its Salesforce record.

    Returns:
        The new list's Campaign Monitor id.

    Raises:
        ConfigError: If the client is not synced, or the name is empty or too long.
        SafetyError: In a sandbox connected to a live account.
    """
    from cmsf_core.jobs.context import Directory
    from cmsf_core.safety import check_org_safety

    title = name.strip()
    if not title or len(title) > 80:
        raise ConfigError("a list name must have 1 to 80 characters")
    settings = _store(gateway, clock).load()
    check_org_safety(gateway, settings, cm)
    client = Directory(gateway, settings.sync_user_id).client_by_id(client_id)
    if client is None or not client.selected:
        raise ConfigError(f"client {client_id} is not a selected Campaign Monitor client")
    list_id = cm.create_list(
        client_id, title, UnsubscribeSetting="AllClientLists", ConfirmedOptIn=False
    )
    record = {"CM_Id__c": list_id, "Name": title, "Client__c": client.sf_id}
    result = gateway.upsert("CMSF_List__c", "CM_Id__c", [record])
    if result.failures:
        failure = result.failures[0]
        raise ConfigError(
            f"the list was created in Campaign Monitor ({list_id}) but Salesforce refused its record: {failure.code}"
        )
    _store(gateway, clock).audit(
        "Create list", changed_by=changed_by, detail=f"{title} ({list_id})"
    )
    return list_id
