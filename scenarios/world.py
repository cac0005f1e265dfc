"""Worlds: a simulated org and a simulated Campaign Monitor account that belong together.

A world is what a scenario starts from and what ``cmsf sync`` runs on by default: a
seeded Campaign Monitor account (clients, lists with custom fields, subscribers in every
state, sent campaigns with activity, smart emails) and a Salesforce org carrying the
product's data model, whose Contacts and Leads share a chosen part of the subscribers'
addresses, so memberships and tracking history have people to link to. Same spec and
seed, same world, on any machine.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from faker import Faker
from simple_salesforce.api import Salesforce

from cm_sim import Account
from cm_sim.seed import SeedSizes, seed_account
from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import Clock, VirtualClock
from cmsf_core.data_model import OBJECTS_DIR
from cmsf_core.engine import Engine
from cmsf_core.state import Journal
from sf_sim import Org

__all__ = [
    "EVERY_OPTION",
    "World",
    "WorldSpec",
    "build_world",
    "engine_for",
    "open_world",
    "second_account",
]


EVERY_OPTION: dict[str, Any] = {
    "sync_suppression_list": True,
    "opt_out_sync": True,
    "auto_create_campaigns": True,
    "update_member_status": True,
    "auto_create_statuses": True,
    "update_linked_campaigns": True,
}
"""Settings that turn every optional job of the primary sync on."""


@dataclass(frozen=True)
class WorldSpec:
    """The shape of a world.

    Attributes:
        seed: Seed for every random choice (faker data, activity, which people exist).
        kind: ``agency`` (several clients) or ``direct`` (one).
        clients: Clients of an agency account.
        lists_per_client: Lists per client.
        subscribers_per_list: Subscribers per list, spread over every state.
        campaigns_per_client: Sent campaigns per client, with activity.
        days: How far back histories and campaigns reach.
        contacts_share: Share of subscriber addresses that are Contacts in the org.
        leads_share: Share of the other addresses that are Leads.
        other_contacts: Contacts with no subscription at all.
        api_limit: The org's daily API request limit.
        test_account: The account is a test account (sandboxes may sync with it).
    """

    seed: int = 1
    kind: str = "agency"
    clients: int = 2
    lists_per_client: int = 2
    subscribers_per_list: int = 50
    campaigns_per_client: int = 2
    days: int = 30
    contacts_share: float = 0.5
    leads_share: float = 0.3
    other_contacts: int = 10
    api_limit: int = 15_000
    test_account: bool = True

    def __post_init__(self) -> None:
        if self.kind not in {"agency", "direct"}:
            raise ValueError(f"kind must be 'agency' or 'direct', not {self.kind!r}")
        for name in (
            "clients",
            "lists_per_client",
            "subscribers_per_list",
            "campaigns_per_client",
            "days",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")
        for name in ("contacts_share", "leads_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")


@dataclass
class World:
    """A simulated org and account sharing one clock."""

    clock: Clock
    org: Org
    account: Account
    spec: WorldSpec
    summary: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Close both simulators' stores."""
        self.org.close()
        self.account.close()


def _people(world: World) -> None:
    spec = world.spec
    rng = random.Random(spec.seed)
    fake = Faker("en_US")
    fake.seed_instance(spec.seed)
    emails = world.account.email_addresses()
    contacts, leads = [], []
    for email in emails:
        roll = rng.random()
        local = email.split("@", 1)[0]
        first, last = (
            fake.first_name()[:40],
            (local.replace(".", " ").title() or fake.last_name())[:80],
        )
        if roll < spec.contacts_share:
            contacts.append({"FirstName": first, "LastName": last, "Email": email})
        elif rng.random() < spec.leads_share:
            leads.append(
                {
                    "FirstName": first,
                    "LastName": last,
                    "Email": email,
                    "Company": fake.company()[:255],
                }
            )
    for index in range(spec.other_contacts):
        contacts.append(
            {
                "FirstName": fake.first_name()[:40],
                "LastName": fake.last_name()[:80],
                "Email": f"other{index}@example.org",
            }
        )
    for name, rows in (("Contact", contacts), ("Lead", leads)):
        for start in range(0, len(rows), 2000):
            results = world.org.insert(name, rows[start : start + 2000])
            failed = [r for r in results if not r.success]
            if failed:
                raise ValueError(f"the org refused a seeded {name}: {failed[0].errors[0]}")
    world.summary["contacts"] = len(contacts)
    world.summary["leads"] = len(leads)


def build_world(
    spec: WorldSpec,
    *,
    clock: Clock | None = None,
    org_path: Path | None = None,
    account_path: Path | None = None,
) -> World:
    """Create and seed a world (in memory, or in the given SQLite files).

    Args:
        spec: Its shape.
        clock: Shared clock; a fresh :class:`VirtualClock` by default.
        org_path: File for the org (new), or None for memory.
        account_path: File for the account (new), or None for memory.

    Raises:
        ValueError: If a file already holds a world.
    """
    clock = clock or VirtualClock()
    for path in (org_path, account_path):
        if path is not None and path.exists():
            raise ValueError(f"{path} already exists; open it with open_world() instead")
    account = Account(
        account_path, clock=clock, seed=spec.seed, kind=spec.kind, test_account=spec.test_account
    )
    sizes = SeedSizes(
        clients=spec.clients,
        lists_per_client=spec.lists_per_client,
        subscribers_per_list=spec.subscribers_per_list,
        campaigns_per_client=spec.campaigns_per_client,
        days=spec.days,
    )
    summary = seed_account(account, sizes)
    org = Org(
        org_path, clock=clock, seed=spec.seed, metadata=[OBJECTS_DIR], api_limit=spec.api_limit
    )
    _as_set_up(org)
    world = World(clock=clock, org=org, account=account, spec=spec, summary=summary)
    _people(world)
    return world


def _as_set_up(org: Org) -> None:
    """Make the org look as ``cmsf setup`` leaves it: the data model's permission sets and
    notification type exist and the admin (the user the engine logs in as) has
    ``CMSF_Full_Access``."""
    from cmsf_core.permission_sets import LEVELS

    ids = [
        org.create("PermissionSet", {"Name": level.name, "Label": level.label}, system=True)
        for level in LEVELS
    ]
    org.create(
        "PermissionSetAssignment",
        {"AssigneeId": org.running_user_id, "PermissionSetId": ids[0]},
        system=True,
    )
    org.create(
        "CustomNotificationType",
        {"DeveloperName": "CMSF_Maintenance", "MasterLabel": "Campaign Monitor maintenance"},
        system=True,
    )


def second_account(world: World, *, test_account: bool = True) -> tuple[Account, dict[str, Any]]:
    """Another Campaign Monitor account beside the world's, seeded in the same shape.

    Its subscribers get Contacts and Leads in the world's org as the first account's do
    (another seed, so other people), so the org can be connected to either account.

    Args:
        world: The world (its org receives the new people).
        test_account: The second account is a test account.

    Returns:
        The account and its seeding summary (``clients``, ``lists``, ``campaigns``...).
    """
    spec = replace(world.spec, seed=world.spec.seed + 7919, other_contacts=0)
    account = Account(
        None, clock=world.clock, seed=spec.seed, kind=spec.kind, test_account=test_account
    )
    sizes = SeedSizes(
        clients=spec.clients,
        lists_per_client=spec.lists_per_client,
        subscribers_per_list=spec.subscribers_per_list,
        campaigns_per_client=spec.campaigns_per_client,
        days=spec.days,
    )
    summary = seed_account(account, sizes)
    # Another company's account: its own primary contact (the seed gives every account the
    # same administrator, and the engine tells accounts apart by their primary contact).
    account.add_administrator("owner@second-account.example", "Second Account Owner")
    account.set_primary_contact("owner@second-account.example")
    _people(World(clock=world.clock, org=world.org, account=account, spec=spec, summary=summary))
    return account, summary


def open_world(org_path: Path, account_path: Path, *, clock: Clock) -> World:
    """Open a world kept in SQLite files.

    Raises:
        FileNotFoundError: If either file is missing.
    """
    for path in (org_path, account_path):
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
    org = Org(org_path, clock=clock, metadata=[OBJECTS_DIR])
    account = Account(account_path, clock=clock)
    return World(clock=clock, org=org, account=account, spec=WorldSpec())


def engine_for(
    world: World,
    journal: Journal | None = None,
    *,
    on_cm_request: Callable[[str, str], None] | None = None,
    **kwargs: Any,
) -> Engine:
    """The sync engine wired to a world's simulators (in process, on the world's clock).

    The engine reaches whichever account and org the world holds when it opens a
    connection (a scenario may point the world at a sandbox or a second account).

    Args:
        world: The world.
        journal: The runner's journal (a fresh in-memory one by default).
        on_cm_request: Told ``(method, path)`` before every Campaign Monitor request.
        **kwargs: Passed to :class:`~cmsf_core.engine.Engine` (``progress``, ``on_gateway``...).
    """

    def campaign_monitor() -> CampaignMonitorClient:
        account = world.account
        return CampaignMonitorClient(
            api_key=account.api_key,
            transport=account.transport(),
            clock=world.clock,
            on_request=on_cm_request,
        )

    def as_user(username: str) -> Callable[[], Salesforce]:
        """The simulator's stand-in for a JWT bearer login as another user."""

        def login() -> Salesforce:
            org = world.org
            with org.store.lock:
                user_id = org.sessions.user_id(username)
                if user_id is None:
                    raise ValueError(f"no active user {username}")
                session_id = org.sessions.open(user_id)
            return Salesforce(
                instance_url=org.instance_url, session_id=session_id, session=org.session()
            )

        return login

    kwargs.setdefault("as_user", as_user)
    return Engine(
        salesforce=world.org.client,
        campaign_monitor=campaign_monitor,
        journal=journal or Journal(),
        clock=world.clock,
        **kwargs,
    )
