"""User licenses of the running user, and storage used by data sf_sim does not model."""

from __future__ import annotations

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from sf_sim import Org


def test_a_platform_license_hides_leads_and_campaigns(sf_org: Org, sf_client: Salesforce) -> None:
    sf_org.control.apply_license("Salesforce Platform")
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.query("SELECT Id FROM Lead")
    assert exc.value.content[0]["errorCode"] == "INVALID_TYPE"
    assert "sObject type 'Lead' is not supported" in exc.value.content[0]["message"]
    with pytest.raises(SalesforceResourceNotFound):
        sf_client.Campaign.describe()
    names = {o["name"] for o in sf_client.describe()["sobjects"]}
    assert "Contact" in names and not names & {"Lead", "Campaign", "CampaignMember"}
    assert sf_client.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_a_full_license_gives_them_back(sf_org: Org, sf_client: Salesforce) -> None:
    sf_org.control.apply_license("Salesforce Platform")
    sf_org.control.apply_license("Salesforce")
    assert sf_client.query("SELECT COUNT() FROM Lead")["totalSize"] == 0
    assert sf_client.Campaign.create({"Name": "Spring"})["success"] is True


def test_an_unknown_license_is_refused(sf_org: Org) -> None:
    with pytest.raises(ValueError, match="unknown license 'Gold'"):
        sf_org.control.apply_license("Gold")


def test_other_data_counts_against_the_storage_limit(sf_org: Org, sf_client: Salesforce) -> None:
    sf_org.control.storage_limit_mb = 10
    sf_org.control.other_storage_mb = 9
    limits = sf_client.limits()["DataStorageMB"]
    assert limits == {"Max": 10, "Remaining": 1}
    assert sf_client.Contact.create({"LastName": "Fits"})["success"] is True
    sf_org.control.other_storage_mb = 10
    body = sf_client.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [{"attributes": {"type": "Contact"}, "LastName": "No"}],
        },
    )
    assert body[0]["errors"][0]["statusCode"] == "STORAGE_LIMIT_EXCEEDED"
    with pytest.raises(ValueError):
        sf_org.control.other_storage_mb = -1
