from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from cmsf_core.clock import VirtualClock
from sf_sim import Org


@pytest.mark.parametrize("action", ["get", "update", "delete"], ids=["get", "patch", "delete"])
def test_deleted_record_answers_entity_is_deleted(
    sf_org: Org, sf_client: Salesforce, action: str
) -> None:
    contact = sf_org.create("Contact", {"LastName": "Gone"})
    sf_client.Contact.delete(contact)
    with pytest.raises(SalesforceResourceNotFound) as exc:
        if action == "get":
            sf_client.Contact.get(contact)
        elif action == "update":
            sf_client.Contact.update(contact, {"LastName": "Back"})
        else:
            sf_client.Contact.delete(contact)
    assert exc.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"
    assert sf_org.count("Contact", include_deleted=True) == 1


def test_delete_cascades_and_undelete_restores(sf_org: Org) -> None:
    account = sf_org.create("Account", {"Name": "Acme"})
    contact = sf_org.create("Contact", {"LastName": "Lee", "AccountId": account})
    campaign = sf_org.create("Campaign", {"Name": "C"})
    sf_org.create("CampaignMember", {"CampaignId": campaign, "ContactId": contact})
    sf_org.delete(account)
    assert sf_org.count("Contact") == 0 and sf_org.count("CampaignMember") == 0
    assert sf_org.get("Campaign", campaign)["NumberOfContacts"] == 0
    assert [r.success for r in sf_org.undelete(account)] == [True]
    assert sf_org.count("Contact") == 1 and sf_org.count("CampaignMember") == 1
    assert sf_org.get("Campaign", campaign)["NumberOfContacts"] == 1


def test_undelete_of_live_record_fails(sf_org: Org) -> None:
    contact = sf_org.create("Contact", {"LastName": "Lee"})
    result = sf_org.undelete(contact)[0]
    assert not result.success and result.errors[0].error_code == "UNDELETE_FAILED"


def test_recycle_bin_is_purged_after_15_days(clock: VirtualClock) -> None:
    org = Org(clock=clock)
    contact = org.create("Contact", {"LastName": "Lee"})
    org.delete(contact)
    clock.advance(days=14)
    org.tick()
    assert org.count("Contact", include_deleted=True) == 1
    clock.advance(days=1, seconds=1)
    org.tick()
    assert org.count("Contact", include_deleted=True) == 0
    assert not org.undelete(contact)[0].success


def test_get_deleted_and_updated_windows(clock: VirtualClock) -> None:
    org = Org(clock=clock)
    sf = org.client()
    start = clock.now()
    clock.advance(minutes=1)
    kept = org.create("Contact", {"LastName": "Kept"})
    gone = org.create("Contact", {"LastName": "Gone"})
    clock.advance(minutes=1)
    org.delete(gone)
    clock.advance(minutes=2)
    deleted = sf.Contact.deleted(start, clock.now())
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]
    assert set(deleted) == {"deletedRecords", "earliestDateAvailable", "latestDateCovered"}
    updated = sf.Contact.updated(start, clock.now())
    assert updated["ids"] == [kept] and "latestDateCovered" in updated


@pytest.mark.parametrize(
    ("days_back", "code"),
    [(16, "INVALID_REPLICATION_DATE")],
    ids=["older-than-15-days"],
)
def test_get_deleted_refuses_old_windows(clock: VirtualClock, days_back: int, code: str) -> None:
    from datetime import timedelta

    org = Org(clock=clock)
    sf = org.client()
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Contact.deleted(clock.now() - timedelta(days=days_back), clock.now())
    assert exc.value.content[0]["errorCode"] == code


def test_get_deleted_needs_both_dates(sf_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.restful("sobjects/Contact/deleted/", params={"start": "2026-01-01T00:00:00Z"})
    assert exc.value.content[0]["errorCode"] == "MISSING_ARGUMENT"


def _lookup_org(tmp_path: Any, constraint: str) -> Org:
    root = tmp_path / "objects"
    for name in ("Parent__c", "Child__c"):
        (root / name / "fields").mkdir(parents=True)
        (root / name / f"{name}.object-meta.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?><CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">'
            f"<label>{name[:-3]}</label><pluralLabel>{name[:-3]}s</pluralLabel>"
            "<nameField><label>Name</label><type>Text</type></nameField>"
            "<deploymentStatus>Deployed</deploymentStatus><sharingModel>ReadWrite</sharingModel>"
            "</CustomObject>"
        )
    (root / "Child__c" / "fields" / "Parent__c.field-meta.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><CustomField xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<fullName>Parent__c</fullName><label>Parent</label><type>Lookup</type>"
        "<referenceTo>Parent__c</referenceTo><relationshipName>Children</relationshipName>"
        f"<deleteConstraint>{constraint}</deleteConstraint></CustomField>"
    )
    return Org(metadata=[root])


@pytest.mark.parametrize("constraint", ["SetNull", "Restrict", "Cascade"])
def test_deleting_a_parent_follows_the_lookups_delete_constraint(
    tmp_path: Any, constraint: str
) -> None:
    org = _lookup_org(tmp_path, constraint)
    parent = org.create("Parent__c", {"Name": "P"})
    child = org.create("Child__c", {"Name": "C", "Parent__c": parent})
    with org.activate() as sf:
        result = sf.restful(
            "composite/sobjects", method="DELETE", params={"ids": parent, "allOrNone": "false"}
        )
    if constraint == "Restrict":
        assert result[0]["success"] is False
        assert result[0]["errors"][0]["statusCode"] == "DELETE_FAILED"
        assert org.get("Child__c", child)["Parent__c"] == parent
        return
    assert result[0]["success"] is True
    if constraint == "Cascade":
        assert org.query("SELECT Id FROM Child__c") == []
    else:
        assert org.get("Child__c", child)["Parent__c"] is None
    org.undelete([parent])
    assert org.get("Child__c", child)["Parent__c"] == parent  # restored with its parent
