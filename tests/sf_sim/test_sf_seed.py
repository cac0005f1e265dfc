from __future__ import annotations

import pytest

from cmsf_core.clock import VirtualClock
from sf_sim import Org, RecordError, TriggerContext
from sf_sim.seed import seed_org


def test_same_seed_gives_identical_records_and_ids() -> None:
    first, second = Org(clock=VirtualClock()), Org(clock=VirtualClock())
    a = seed_org(first, seed=11, accounts=3, contacts=30, leads=5, campaigns=2)
    b = seed_org(second, seed=11, accounts=3, contacts=30, leads=5, campaigns=2)
    assert a.ids == b.ids
    soql = "SELECT Id, Name, Email, AccountId FROM Contact ORDER BY Id"
    assert first.query(soql) == second.query(soql)


def test_other_seed_gives_other_people() -> None:
    first, second = Org(), Org()
    seed_org(first, seed=1, contacts=10)
    seed_org(second, seed=2, contacts=10)
    names = "SELECT Name FROM Contact ORDER BY Id"
    assert first.query(names) != second.query(names)


def test_counts_and_campaign_members() -> None:
    org = Org()
    result = seed_org(
        org, seed=3, accounts=2, contacts=20, leads=4, campaigns=2, members_per_campaign=5
    )
    assert (
        result.count("Account"),
        result.count("Contact"),
        result.count("Lead"),
        result.count("Campaign"),
    ) == (2, 20, 4, 2)
    assert org.count("CampaignMember") == 10
    campaign = org.get("Campaign", result.ids["Campaign"][0])
    assert campaign["NumberOfContacts"] + campaign["NumberOfLeads"] == 5


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="contacts cannot be negative"):
        seed_org(Org(), contacts=-1)


def test_seeding_goes_through_the_org_rules() -> None:
    org = Org()

    def refuse(ctx: TriggerContext) -> None:
        ctx.add_error(0, "no leads today")

    org.control.add_trigger("Lead", "before insert", refuse)
    with pytest.raises(RecordError):
        seed_org(org, seed=1, contacts=2, leads=2)
    assert org.count("Lead") == 0
