"""Build a realistic account from a seed and sizes, fast enough for 100,000 subscribers.

``seed_account`` creates clients, lists with custom fields of every data type,
subscribers in every state with state histories spread over the past weeks, sent
campaigns with generated activity, a smart email and a journey. Bulk rows go in with
``executemany`` inside one transaction, so 100,000 subscribers take seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faker import Faker

from cm_sim.behaviour import ActivityModel

if TYPE_CHECKING:
    from cm_sim.models import Account

__all__ = ["SeedSizes", "seed_account"]

_STATES = (
    ("Active", 0.80),
    ("Unconfirmed", 0.04),
    ("Unsubscribed", 0.09),
    ("Bounced", 0.04),
    ("Deleted", 0.03),
)


@dataclass(frozen=True)
class SeedSizes:
    """How big a seeded account is.

    Attributes:
        clients: Number of clients (1 for a direct account).
        lists_per_client: Lists per client.
        subscribers_per_list: Subscribers per list, spread over every state.
        campaigns_per_client: Sent campaigns per client (with generated activity).
        days: How far back subscriber histories and campaigns reach.
        all_active: Make every seeded subscriber Active (benchmarks).
    """

    clients: int = 2
    lists_per_client: int = 2
    subscribers_per_list: int = 200
    campaigns_per_client: int = 2
    days: int = 60
    all_active: bool = False


def _bulk_subscribers(
    account: Account,
    list_id: str,
    count: int,
    fake: Faker,
    field_ids: dict[str, int],
    sizes: SeedSizes,
) -> None:
    rng = account.rng
    now = account.now_ts()
    span = 86400 * max(1, sizes.days)
    subs: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    cumulative, total = [], 0.0
    for state, share in (("Active", 1.0),) if sizes.all_active else _STATES:
        total += share
        cumulative.append((total, state))
    domains = ("example.com", "mail.example.org", "corp.example", "example.net")
    firsts = [fake.first_name() for _ in range(300)]
    lasts = [fake.last_name() for _ in range(300)]
    sites = [f"https://{fake.domain_name()}" for _ in range(100)]
    days = [fake.date_between("-3y", "today").isoformat() for _ in range(200)]
    for i in range(count):
        draw = rng.random()
        state = next((s for bound, s in cumulative if draw < bound), "Active")
        joined = now - int(rng.random() * span) - 3600
        changed = (
            joined
            if state in ("Active", "Unconfirmed")
            else min(now - 60, joined + int(rng.random() * (now - joined)))
        )
        name = f"{rng.choice(firsts)} {rng.choice(lasts)}"
        email = (
            f"{name.lower().replace(' ', '.').replace(chr(39), '')}.{i}@{domains[i % len(domains)]}"
        )
        fields = {str(field_ids["website"]): rng.choice(sites),
                  str(field_ids["age"]): str(18 + int(rng.random() * 60)),
                  str(field_ids["subscriptiondate"]): rng.choice(days),
                  str(field_ids["interests"]): rng.sample(["news", "offers", "events"], k=1 + int(rng.random() * 2))}  # fmt: skip
        subs.append((list_id, email, email.lower(), name, state, changed, joined, "Yes", "", "",
                     rng.choice(["Gmail", "Apple Mail", "Outlook", ""]), json.dumps(fields)))  # fmt: skip
        history.append(
            (list_id, email.lower(), "Unconfirmed" if state == "Unconfirmed" else "Active", joined)
        )
        if changed != joined:
            history.append((list_id, email.lower(), state, changed))
    account.store.executemany(
        "INSERT INTO subscribers (list_id, email, email_norm, name, state, state_ts, joined_ts, consent_track, "
        "mobile, consent_sms, reads_with, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        subs,
    )
    account.store.executemany(
        "INSERT INTO history (list_id, email_norm, state, ts) VALUES (?, ?, ?, ?)", history
    )


def seed_account(account: Account, sizes: SeedSizes | None = None) -> dict[str, Any]:
    """Fill ``account`` with a realistic world drawn from its seed.

    Args:
        account: An empty account (``kind='direct'`` gets one client whatever the sizes).
        sizes: How big; defaults to :class:`SeedSizes`.

    Returns:
        A summary: client, list, campaign, smart email and journey ids.
    """
    sizes = sizes or SeedSizes()
    fake = Faker()
    fake.seed_instance(account.seed)
    summary: dict[str, Any] = {
        "clients": [],
        "lists": [],
        "campaigns": [],
        "smart_emails": [],
        "journeys": [],
    }
    model = account.activity_model
    account.activity_model = model or ActivityModel()
    with account.store.transaction():
        account.add_administrator("admin@example.com", "Account Admin")
        n_clients = 1 if account.kind == "direct" else sizes.clients
        for c in range(n_clients):
            client_id = account.create_client(
                f"{fake.company()} {c + 1}", contact_name=fake.name(), email=fake.company_email()
            )
            summary["clients"].append(client_id)
            account.add_person(client_id, f"user{c + 1}@example.com", fake.name(), 1023)
            lists = []
            for n in range(sizes.lists_per_client):
                list_id = account.create_list(
                    client_id,
                    f"List {n + 1}",
                    unsubscribe_setting="AllClientLists" if n % 2 == 0 else "OnlyThisList",
                )
                account.create_custom_field(list_id, "website", "Text")
                account.create_custom_field(list_id, "age", "Number")
                account.create_custom_field(list_id, "subscription date", "Date")
                account.create_custom_field(
                    list_id, "interests", "MultiSelectMany", ["news", "offers", "events"]
                )
                ids = {f["key"].strip("[]"): int(f["id"]) for f in account.field_defs(list_id)}
                _bulk_subscribers(account, list_id, sizes.subscribers_per_list, fake, ids, sizes)
                lists.append(list_id)
            summary["lists"].extend(lists)
            for k in range(sizes.campaigns_per_client):
                body = {"Name": f"Campaign {k + 1}", "Subject": fake.sentence(nb_words=5), "FromName": "Team",
                        "FromEmail": "team@example.com", "ListIDs": lists[:1] or lists}  # fmt: skip
                cid = account.create_campaign(client_id, body)
                sent = account.now_ts() - 86400 * (sizes.campaigns_per_client - k) * 3
                account.deliver_campaign(cid, sent)
                account.tag_campaign(cid, "Newsletter" if k % 2 == 0 else "Offers")
                summary["campaigns"].append(cid)
            if lists:
                summary["smart_emails"].append(
                    account.create_smart_email(
                        client_id,
                        "Welcome email",
                        variables=["firstname"],
                        add_recipients_to_list=lists[0],
                    )
                )
                summary["journeys"].append(
                    account.create_journey(
                        lists[0], "Welcome journey", [("Welcome", 0), ("Day 3", 3 * 86400)]
                    )
                )
    account.activity_model = model
    return summary
