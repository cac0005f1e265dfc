from __future__ import annotations

import pytest

from sf_sim import Org, RecordError


@pytest.fixture
def campaign(sf_org: Org) -> str:
    return sf_org.create("Campaign", {"Name": "Spring Newsletter"})


def test_new_campaign_gets_sent_and_responded_statuses(sf_org: Org, campaign: str) -> None:
    rows = sf_org.query(
        f"SELECT Label, IsDefault, HasResponded FROM CampaignMemberStatus WHERE CampaignId = '{campaign}' ORDER BY SortOrder"
    )
    assert [(r["Label"], r["IsDefault"], r["HasResponded"]) for r in rows] == [
        ("Sent", True, False),
        ("Responded", False, True),
    ]


def test_member_defaults_to_default_status_and_copies_person(sf_org: Org, campaign: str) -> None:
    contact = sf_org.create(
        "Contact", {"FirstName": "Ann", "LastName": "Lee", "Email": "ann@example.com"}
    )
    member = sf_org.get(
        "CampaignMember",
        sf_org.create("CampaignMember", {"CampaignId": campaign, "ContactId": contact}),
    )
    assert (member["Status"], member["HasResponded"], member["Type"]) == ("Sent", False, "Contact")
    assert (member["Email"], member["Name"], member["LeadOrContactId"]) == (
        "ann@example.com",
        "Ann Lee",
        contact,
    )


def test_members_copy_their_contacts_account_and_their_leads_company(
    sf_org: Org, campaign: str
) -> None:
    account = sf_org.create("Account", {"Name": "Acme Ltd"})
    contact = sf_org.create(
        "Contact",
        {"FirstName": "Ann", "LastName": "Lee", "Email": "ann@example.com", "AccountId": account},
    )
    lead = sf_org.create(
        "Lead", {"LastName": "Bo", "Company": "Bo & Co", "Email": "bo@example.com"}
    )
    loner = sf_org.create("Contact", {"LastName": "Solo"})
    created = sf_org.insert(
        "CampaignMember",
        [
            {"CampaignId": campaign, "ContactId": contact},
            {"CampaignId": campaign, "LeadId": lead},
            {"CampaignId": campaign, "ContactId": loner},
        ],
    )
    rows = [sf_org.get("CampaignMember", str(result.id)) for result in created]
    assert [
        (r["Type"], r["FirstName"], r["LastName"], r["Email"], r["Name"], r["CompanyOrAccount"])
        for r in rows
    ] == [
        ("Contact", "Ann", "Lee", "ann@example.com", "Ann Lee", "Acme Ltd"),
        ("Lead", None, "Bo", "bo@example.com", "Bo", "Bo & Co"),
        ("Contact", None, "Solo", None, "Solo", None),
    ]


def test_responded_status_sets_has_responded_and_first_date(sf_org: Org, campaign: str) -> None:
    contact = sf_org.create("Contact", {"LastName": "Lee"})
    member = sf_org.create("CampaignMember", {"CampaignId": campaign, "ContactId": contact})
    sf_org.update("CampaignMember", member, {"Status": "responded"})
    record = sf_org.get("CampaignMember", member)
    assert record["Status"] == "Responded" and record["HasResponded"] is True
    assert record["FirstRespondedDate"] == sf_org.today().isoformat()
    assert sf_org.get("Campaign", campaign)["NumberOfResponses"] == 1


def test_status_must_belong_to_the_campaign(sf_org: Org, campaign: str) -> None:
    contact = sf_org.create("Contact", {"LastName": "Lee"})
    with pytest.raises(RecordError) as exc:
        sf_org.create(
            "CampaignMember", {"CampaignId": campaign, "ContactId": contact, "Status": "Clicked"}
        )
    assert exc.value.error_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    sf_org.create(
        "CampaignMemberStatus", {"CampaignId": campaign, "Label": "Clicked", "HasResponded": True}
    )
    member = sf_org.create(
        "CampaignMember", {"CampaignId": campaign, "ContactId": contact, "Status": "Clicked"}
    )
    assert sf_org.get("CampaignMember", member)["HasResponded"] is True


def test_one_member_per_person_per_campaign(sf_org: Org, campaign: str) -> None:
    contact = sf_org.create("Contact", {"LastName": "Lee"})
    sf_org.create("CampaignMember", {"CampaignId": campaign, "ContactId": contact})
    with pytest.raises(RecordError) as exc:
        sf_org.create("CampaignMember", {"CampaignId": campaign, "ContactId": contact})
    assert (exc.value.error_code, exc.value.message) == (
        "DUPLICATE_VALUE",
        "Already a campaign member.",
    )


def test_lead_and_contact_given_keeps_only_contact(sf_org: Org, campaign: str) -> None:
    contact = sf_org.create("Contact", {"LastName": "Lee"})
    lead = sf_org.create("Lead", {"LastName": "Lee", "Company": "Acme"})
    member = sf_org.get(
        "CampaignMember",
        sf_org.create(
            "CampaignMember", {"CampaignId": campaign, "ContactId": contact, "LeadId": lead}
        ),
    )
    assert member["ContactId"] == contact and member["LeadId"] is None


def test_rollups_count_contacts_leads_and_responses(sf_org: Org, campaign: str) -> None:
    contacts = [sf_org.create("Contact", {"LastName": f"C{i}"}) for i in range(3)]
    lead = sf_org.create("Lead", {"LastName": "L", "Company": "Acme"})
    rows = [
        {"CampaignId": campaign, "ContactId": c, "Status": "Responded" if i == 0 else "Sent"}
        for i, c in enumerate(contacts)
    ]
    sf_org.insert("CampaignMember", [*rows, {"CampaignId": campaign, "LeadId": lead}])
    record = sf_org.get("Campaign", campaign)
    assert (record["NumberOfContacts"], record["NumberOfLeads"], record["NumberOfResponses"]) == (
        3,
        1,
        1,
    )
    sf_org.delete(contacts[0])
    record = sf_org.get("Campaign", campaign)
    assert (record["NumberOfContacts"], record["NumberOfResponses"]) == (2, 0)


def test_rollups_are_read_only(sf_org: Org, campaign: str) -> None:
    with pytest.raises(RecordError) as exc:
        sf_org.update("Campaign", campaign, {"NumberOfContacts": 5})
    assert exc.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_status_labels_are_unique_per_campaign(sf_org: Org, campaign: str) -> None:
    with pytest.raises(RecordError) as exc:
        sf_org.create("CampaignMemberStatus", {"CampaignId": campaign, "Label": "sent"})
    assert exc.value.error_code == "DUPLICATE_VALUE"


def test_new_default_status_replaces_the_old(sf_org: Org, campaign: str) -> None:
    sf_org.create(
        "CampaignMemberStatus", {"CampaignId": campaign, "Label": "Planned", "IsDefault": True}
    )
    defaults = sf_org.query(
        f"SELECT Label FROM CampaignMemberStatus WHERE CampaignId = '{campaign}' AND IsDefault = true"
    )
    assert [r["Label"] for r in defaults] == ["Planned"]


def test_default_or_used_status_cannot_be_deleted(sf_org: Org, campaign: str) -> None:
    statuses = {
        r["Label"]: r["Id"]
        for r in sf_org.query(
            f"SELECT Id, Label FROM CampaignMemberStatus WHERE CampaignId = '{campaign}'"
        )
    }
    contact = sf_org.create("Contact", {"LastName": "Lee"})
    sf_org.create(
        "CampaignMember", {"CampaignId": campaign, "ContactId": contact, "Status": "Responded"}
    )
    results = sf_org.delete([statuses["Sent"], statuses["Responded"]])
    assert [r.errors[0].error_code for r in results] == [
        "FIELD_INTEGRITY_EXCEPTION",
        "FIELD_INTEGRITY_EXCEPTION",
    ]


def test_member_needs_a_person(sf_org: Org, campaign: str) -> None:
    with pytest.raises(RecordError) as exc:
        sf_org.create("CampaignMember", {"CampaignId": campaign})
    assert exc.value.error_code == "REQUIRED_FIELD_MISSING"


def test_member_campaign_cannot_change(sf_org: Org, campaign: str) -> None:
    other = sf_org.create("Campaign", {"Name": "Other"})
    member = sf_org.create(
        "CampaignMember",
        {"CampaignId": campaign, "ContactId": sf_org.create("Contact", {"LastName": "A"})},
    )
    with pytest.raises(RecordError) as exc:
        sf_org.update("CampaignMember", member, {"CampaignId": other})
    assert exc.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"
