"""Record visibility: organization-wide defaults, the role hierarchy, sharing rules.

Each user queries through their own session, as an integration logged in as them would;
two users of different roles see different records of a Private object, a manager sees
their subordinates' records, View All Data sees everything, a sharing rule opens what it
names, and an edit of a record the user may only read is refused with the platform's code.
"""

from __future__ import annotations

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sf_sim import Org


def client_for(org: Org, user_id: str) -> Salesforce:
    """A simple-salesforce client with a session of ``user_id``."""
    session_id = org.sessions.open(user_id)
    return Salesforce(instance_url=org.instance_url, session_id=session_id, session=org.session())


@pytest.fixture
def world(sf_org: Org) -> dict[str, str]:
    """CEO above East and West; a rep in each region owning two Contacts; a manager."""
    org = sf_org
    ceo = org.sharing.add_role("CEO")
    east = org.sharing.add_role("East", parent=ceo)
    west = org.sharing.add_role("West", parent=ceo)
    ids = {"ceo_role": ceo, "east_role": east, "west_role": west}
    for name, role in (("east", east), ("west", west), ("boss", ceo)):
        ids[name] = org.control.add_user(f"{name}@acme.example.com")
        org.sharing.assign_role(ids[name], role)
    for name in ("east", "west"):
        with org.run_as(ids[name]):
            for n in range(2):
                org.create("Contact", {"LastName": f"{name}{n}", "Email": f"{name}{n}@x.example"})
    org.sharing.set_default("Contact", "Private")
    return ids


def names(
    sf: Salesforce, soql: str = "SELECT LastName FROM Contact ORDER BY LastName"
) -> list[str]:
    return [r["LastName"] for r in sf.query_all(soql)["records"]]


def test_private_contacts_are_seen_by_their_owner_only(sf_org: Org, world: dict[str, str]) -> None:
    assert names(client_for(sf_org, world["east"])) == ["east0", "east1"]
    assert names(client_for(sf_org, world["west"])) == ["west0", "west1"]


def test_a_manager_sees_the_records_of_roles_below(sf_org: Org, world: dict[str, str]) -> None:
    assert names(client_for(sf_org, world["boss"])) == ["east0", "east1", "west0", "west1"]


def test_view_all_data_sees_every_record(sf_org: Org, world: dict[str, str]) -> None:
    with sf_org.activate() as admin:  # System Administrator: View and Modify All Data
        assert len(names(admin)) == 4
    sf_org.create("PermissionSet", {"Name": "Auditors", "Label": "Auditors",
                                    "PermissionsViewAllData": True}, system=True)  # fmt: skip
    auditor = sf_org.control.add_user("auditor@acme.example.com")
    assert names(client_for(sf_org, auditor)) == []
    permission_set = sf_org.query("SELECT Id FROM PermissionSet WHERE Name = 'Auditors'")[0]["Id"]
    sf_org.create("PermissionSetAssignment", {"AssigneeId": auditor, "PermissionSetId": permission_set},
                  system=True)  # fmt: skip
    assert len(names(client_for(sf_org, auditor))) == 4


def test_count_and_query_all_follow_visibility(sf_org: Org, world: dict[str, str]) -> None:
    sf = client_for(sf_org, world["east"])
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 2
    assert len(sf.query_all("SELECT Id FROM Contact", include_deleted=True)["records"]) == 2


def test_read_default_lets_everyone_read_but_only_owners_edit(
    sf_org: Org, world: dict[str, str]
) -> None:
    sf_org.sharing.set_default("Contact", "Read")
    east = client_for(sf_org, world["east"])
    assert len(names(east)) == 4
    west_record = east.query("SELECT Id FROM Contact WHERE LastName = 'west0'")["records"][0]["Id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        east.Contact.update(west_record, {"Title": "taken over"})
    assert exc.value.content[0]["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
    own = east.query("SELECT Id FROM Contact WHERE LastName = 'east0'")["records"][0]["Id"]
    assert east.Contact.update(own, {"Title": "mine"}) == 204


def test_owner_rule_shares_a_role_s_records_with_another_role(
    sf_org: Org, world: dict[str, str]
) -> None:
    sf_org.sharing.add_owner_rule(
        "Contact", owned_by_role=world["east_role"], shared_with_role=world["west_role"]
    )
    assert names(client_for(sf_org, world["west"])) == ["east0", "east1", "west0", "west1"]
    assert names(client_for(sf_org, world["east"])) == ["east0", "east1"]


def test_criteria_rule_shares_matching_records(sf_org: Org, world: dict[str, str]) -> None:
    sf_org.sharing.add_criteria_rule(
        "Contact", field="LastName", value="west1", shared_with_role=None, access="Edit"
    )
    east = client_for(sf_org, world["east"])
    assert names(east) == ["east0", "east1", "west1"]
    shared = east.query("SELECT Id FROM Contact WHERE LastName = 'west1'")["records"][0]["Id"]
    assert east.Contact.update(shared, {"Title": "shared for edit"}) == 204


def test_using_scope_mine_keeps_the_running_user_s_records(
    sf_org: Org, world: dict[str, str]
) -> None:
    boss = client_for(sf_org, world["boss"])
    assert names(boss, "SELECT LastName FROM Contact USING SCOPE mine") == []
    east = client_for(sf_org, world["east"])
    assert names(east, "SELECT LastName FROM Contact USING SCOPE mine ORDER BY LastName") == [
        "east0",
        "east1",
    ]


def test_child_subqueries_show_only_visible_children(sf_org: Org, world: dict[str, str]) -> None:
    account = sf_org.create("Account", {"Name": "Acme"})
    for row in sf_org.query("SELECT Id FROM Contact"):
        sf_org.update("Contact", row["Id"], {"AccountId": account})
    east = client_for(sf_org, world["east"])
    record = east.query("SELECT Name, (SELECT LastName FROM Contacts) FROM Account")["records"][0]
    assert sorted(c["LastName"] for c in record["Contacts"]["records"]) == ["east0", "east1"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda org: org.sharing.set_default("Contact", "Public"), "sharing model"),
        (lambda org: org.sharing.set_default("Nope__c", "Private"), "unknown object"),
        (lambda org: org.sharing.set_default("Organization", "Private"), "no owner"),
        (
            lambda org: org.sharing.add_criteria_rule(
                "Contact", field="Nope", value=1, shared_with_role=None
            ),
            "unknown field",
        ),
        (
            lambda org: org.sharing.add_owner_rule(
                "Contact", owned_by_role="00E000000000001", shared_with_role=None, access="All"
            ),
            "access",
        ),
    ],
    ids=["unknown-model", "unknown-object", "ownerless-object", "unknown-field", "bad-access"],
)
def test_bad_sharing_configuration_is_refused(sf_org: Org, call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(sf_org)
