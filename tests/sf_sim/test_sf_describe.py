from __future__ import annotations

from pathlib import Path

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceResourceNotFound

from sf_sim import Org


def test_describe_global_shape(sf_client: Salesforce) -> None:
    result = sf_client.describe()
    assert result["encoding"] == "UTF-8" and result["maxBatchSize"] == 200
    names = {entry["name"]: entry for entry in result["sobjects"]}
    assert (
        names["Contact"]["keyPrefix"] == "003"
        and names["Contact"]["urls"]["sobject"] == "/services/data/v59.0/sobjects/Contact"
    )
    assert names["Organization"]["createable"] is False


def test_object_describe_fields_and_relationships(sf_client: Salesforce) -> None:
    result = sf_client.Contact.describe()
    assert result["name"] == "Contact" and result["keyPrefix"] == "003"
    fields = {field["name"]: field for field in result["fields"]}
    email = fields["Email"]
    for attribute in (
        "name",
        "label",
        "type",
        "length",
        "nillable",
        "createable",
        "updateable",
        "unique",
        "externalId",
        "picklistValues",
        "referenceTo",
        "relationshipName",
        "soapType",
    ):
        assert attribute in email
    assert (email["type"], email["length"], email["soapType"]) == ("email", 80, "xsd:string")
    account = fields["AccountId"]
    assert account["referenceTo"] == ["Account"] and account["relationshipName"] == "Account"
    assert fields["Name"]["createable"] is False and fields["LastName"]["nillable"] is False
    children = {c["relationshipName"]: c for c in result["childRelationships"]}
    assert (
        children["CampaignMembers"]["childSObject"] == "CampaignMember"
        and children["CampaignMembers"]["field"] == "ContactId"
    )


def test_picklist_values_in_describe(sf_client: Salesforce) -> None:
    status = next(f for f in sf_client.Lead.describe()["fields"] if f["name"] == "Status")
    values = [p["value"] for p in status["picklistValues"]]
    assert (
        values[0] == "Open - Not Contacted" and status["picklistValues"][0]["defaultValue"] is True
    )


def test_polymorphic_owner_lists_both_targets(sf_client: Salesforce) -> None:
    owner = next(f for f in sf_client.Lead.describe()["fields"] if f["name"] == "OwnerId")
    assert (
        sorted(owner["referenceTo"]) == ["Group", "User"] and owner["polymorphicForeignKey"] is True
    )


def test_basic_info_shape(sf_client: Salesforce) -> None:
    info = sf_client.Contact.metadata()
    assert (
        set(info) == {"objectDescribe", "recentItems"}
        and info["objectDescribe"]["name"] == "Contact"
    )


def test_custom_objects_in_describe(metadata_dir: Path) -> None:
    sf = Org(metadata=[metadata_dir]).client()
    described = sf.CMSF_List__c.describe()
    assert described["custom"] is True and described["keyPrefix"] == "a00"
    list_id = next(f for f in described["fields"] if f["name"] == "ListId__c")
    assert list_id["externalId"] is True and list_id["unique"] is True and list_id["custom"] is True


def test_hidden_field_is_absent_and_read_only_field_not_updateable(
    sf_org: Org, sf_client: Salesforce
) -> None:
    sf_org.control.hide_field("Contact", "MobilePhone")
    sf_org.control.make_read_only("Contact", "Title")
    fields = {f["name"]: f for f in sf_client.Contact.describe()["fields"]}
    assert "MobilePhone" not in fields and fields["Title"]["updateable"] is False


@pytest.mark.parametrize("name", ["Nope__c", "Contacts"], ids=["unknown", "plural"])
def test_describe_unknown_object_is_404(sf_client: Salesforce, name: str) -> None:
    with pytest.raises(SalesforceResourceNotFound) as exc:
        getattr(sf_client, name).describe()
    assert exc.value.content[0]["errorCode"] == "NOT_FOUND"
