"""Fill an org with realistic fake data, deterministically.

``seed_org(org, seed=7, accounts=20, contacts=200, leads=50, campaigns=3)`` creates
accounts, contacts (spread over the accounts), leads and campaigns with some members,
through the org's normal DML (so every rule and trigger applies). The same seed on a
fresh org with the same clock gives identical records and Ids.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from faker import Faker

from sf_sim.dml import WriteContext
from sf_sim.standard_objects import CAMPAIGN_TYPES, INDUSTRIES, LEAD_SOURCES

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["SeedResult", "seed_org"]

_CHUNK = 10_000


@dataclass
class SeedResult:
    """Ids of the records a seeding run created, by object."""

    ids: dict[str, list[str]] = field(default_factory=dict)

    def count(self, object_name: str) -> int:
        """How many records of an object were created."""
        return len(self.ids.get(object_name, []))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower()) or "x"


def _insert(
    org: Org, object_name: str, records: list[dict[str, Any]], result: SeedResult
) -> list[str]:
    created: list[str] = []
    for start in range(0, len(records), _CHUNK):
        chunk = records[start : start + _CHUNK]
        with org.store.lock:
            saved = org.dml.insert(object_name, chunk, WriteContext(all_or_none=True))
        failures = [r.errors[0] for r in saved if not r.success and r.errors]
        real = [f for f in failures if f.error_code != "ALL_OR_NONE_OPERATION_ROLLED_BACK"]
        if real or failures:
            raise (real or failures)[0]
        created.extend(r.id for r in saved if r.id)
    result.ids.setdefault(object_name, []).extend(created)
    return created


def seed_org(
    org: Org,
    *,
    seed: int = 0,
    accounts: int = 10,
    contacts: int = 50,
    leads: int = 20,
    campaigns: int = 3,
    members_per_campaign: int = 10,
) -> SeedResult:
    """Create fake accounts, contacts, leads, campaigns and campaign members.

    Args:
        org: The org to fill.
        seed: Seed for faker and the choices made; same seed → same data.
        accounts: Accounts to create.
        contacts: Contacts to create (linked to random accounts when there are any).
        leads: Leads to create.
        campaigns: Campaigns to create.
        members_per_campaign: Members (contacts and leads) to add to each campaign.

    Returns:
        The Ids created, by object.

    Raises:
        ValueError: If a count is negative.
        RecordError: If the org refuses a record (a trigger or validation rule, say).
    """
    counts = {"accounts": accounts, "contacts": contacts, "leads": leads, "campaigns": campaigns}
    for name, value in {**counts, "members_per_campaign": members_per_campaign}.items():
        if value < 0:
            raise ValueError(f"{name} cannot be negative")
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    result = SeedResult()
    account_rows = []
    for _ in range(accounts):
        company = fake.company()
        account_rows.append(
            {
                "Name": company[:255],
                "Industry": rng.choice(INDUSTRIES),
                "BillingCity": fake.city()[:40],
                "BillingCountry": "United States",
                "Phone": fake.phone_number()[:40],
                "Website": f"https://www.{_slug(company)[:40]}.example.com",
                "NumberOfEmployees": rng.randint(1, 5000),
            }
        )
    account_ids = _insert(org, "Account", account_rows, result)
    contact_rows = []
    for index in range(contacts):
        first, last = fake.first_name(), fake.last_name()
        contact_rows.append(
            {
                "FirstName": first[:40],
                "LastName": last[:80],
                "Email": f"{_slug(first)}.{_slug(last)}.{index}@example.com",
                "Title": fake.job()[:128],
                "MobilePhone": fake.phone_number()[:40],
                "LeadSource": rng.choice(LEAD_SOURCES),
                "HasOptedOutOfEmail": rng.random() < 0.05,
                "AccountId": rng.choice(account_ids) if account_ids else None,
            }
        )
    contact_ids = _insert(org, "Contact", contact_rows, result)
    lead_rows = []
    for index in range(leads):
        first, last = fake.first_name(), fake.last_name()
        lead_rows.append(
            {
                "FirstName": first[:40],
                "LastName": last[:80],
                "Company": fake.company()[:255],
                "Email": f"{_slug(first)}.{_slug(last)}.lead{index}@example.net",
                "LeadSource": rng.choice(LEAD_SOURCES),
                "Industry": rng.choice(INDUSTRIES),
            }
        )
    lead_ids = _insert(org, "Lead", lead_rows, result)
    campaign_rows = [
        {
            "Name": f"{fake.catch_phrase()}"[:80],
            "Type": rng.choice(CAMPAIGN_TYPES),
            "IsActive": True,
            "StartDate": org.today().isoformat(),
        }
        for _ in range(campaigns)
    ]
    campaign_ids = _insert(org, "Campaign", campaign_rows, result)
    people = [("ContactId", i) for i in contact_ids] + [("LeadId", i) for i in lead_ids]
    member_rows = []
    for campaign_id in campaign_ids:
        for column, person in rng.sample(people, min(members_per_campaign, len(people))):
            member_rows.append(
                {
                    "CampaignId": campaign_id,
                    column: person,
                    "Status": rng.choice(("Sent", "Responded")),
                }
            )
    _insert(org, "CampaignMember", member_rows, result)
    return result
