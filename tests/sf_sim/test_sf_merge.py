from __future__ import annotations

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceResourceNotFound

from sf_sim import Org, SalesforceApiError, TriggerContext


@pytest.fixture
def people(sf_org: Org) -> tuple[str, str, str]:
    master = sf_org.create("Contact", {"LastName": "Master", "Email": "m@example.com"})
    loser = sf_org.create("Contact", {"LastName": "Loser", "Email": "m@example.com"})
    campaign = sf_org.create("Campaign", {"Name": "Newsletter"})
    return master, loser, campaign


def test_losers_are_deleted_with_master_record_id(
    sf_org: Org, sf_client: Salesforce, people: tuple[str, str, str]
) -> None:
    master, loser, _ = people
    result = sf_org.merge(master, [loser])
    assert result["mergedRecordIds"] == [loser] and result["success"] is True
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf_client.Contact.get(loser)
    assert exc.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"
    rows = sf_client.query_all(
        "SELECT Id, MasterRecordId FROM Contact WHERE IsDeleted = true AND MasterRecordId != null",
        include_deleted=True,
    )["records"]
    assert [(r["Id"], r["MasterRecordId"]) for r in rows] == [(loser, master)]


def test_children_move_to_the_master_and_duplicates_collapse(
    sf_org: Org, people: tuple[str, str, str]
) -> None:
    master, loser, campaign = people
    other = sf_org.create("Campaign", {"Name": "Webinar"})
    sf_org.create("CampaignMember", {"CampaignId": campaign, "ContactId": master})
    sf_org.create(
        "CampaignMember", {"CampaignId": campaign, "ContactId": loser, "Status": "Responded"}
    )
    moved = sf_org.create("CampaignMember", {"CampaignId": other, "ContactId": loser})
    task = sf_org.create("Task", {"Subject": "Call", "WhoId": loser})
    result = sf_org.merge(master, [loser])
    assert set(result["updatedRelatedIds"]) == {moved, task}
    members = sf_org.query("SELECT CampaignId, ContactId FROM CampaignMember")
    assert sorted((m["CampaignId"], m["ContactId"]) for m in members) == sorted(
        [(campaign, master), (other, master)]
    )
    assert sf_org.get("Task", task)["WhoId"] == master
    assert sf_org.get("Campaign", campaign)["NumberOfContacts"] == 1


def test_merge_fires_delete_then_update_triggers(sf_org: Org, people: tuple[str, str, str]) -> None:
    master, loser, _ = people
    events: list[str] = []

    def record(ctx: TriggerContext) -> None:
        masters = [r.get("MasterRecordId") for r in ctx.old if r] if ctx.event == "delete" else []
        events.append(f"{ctx.timing} {ctx.event} {masters}")

    sf_org.control.add_trigger(
        "Contact", ["before delete", "after delete", "before update", "after update"], record
    )
    sf_org.merge(master, [loser])
    assert events == [
        "before delete [None]",
        f"after delete ['{master}']",
        "before update []",
        "after update []",
    ]


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("self", "INVALID_OPERATION"),
        ("three-losers", "INVALID_OPERATION"),
        ("campaign", "INVALID_TYPE"),
        ("deleted", "ENTITY_IS_DELETED"),
        ("malformed", "MALFORMED_ID"),
    ],
    ids=["self", "three-losers", "campaign", "deleted", "malformed"],
)
def test_merge_refusals(sf_org: Org, people: tuple[str, str, str], case: str, code: str) -> None:
    master, loser, campaign = people
    extra = [sf_org.create("Contact", {"LastName": f"X{i}"}) for i in range(2)]
    arguments = {
        "self": (master, [master]),
        "three-losers": (master, [loser, *extra]),
        "campaign": (campaign, [sf_org.create("Campaign", {"Name": "Other"})]),
        "deleted": (master, [extra[0]]),
        "malformed": (master, ["nope"]),
    }[case]
    if case == "deleted":
        sf_org.delete(extra[0])
    with pytest.raises(SalesforceApiError) as exc:
        sf_org.merge(*arguments)
    assert exc.value.error_code == code
    assert sf_org.get("Contact", loser)["IsDeleted"] is False
