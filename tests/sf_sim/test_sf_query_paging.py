from __future__ import annotations

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from cmsf_core.clock import VirtualClock
from sf_sim import Org
from sf_sim.dml import WriteContext


def _contacts(org: Org, count: int) -> None:
    rows = [{"LastName": f"C{i:05d}", "Email": f"c{i}@example.com"} for i in range(count)]
    org.dml.insert("Contact", rows, WriteContext())


def test_query_pages_at_2000_with_host_less_next_url(sf_org: Org, sf_client: Salesforce) -> None:
    _contacts(sf_org, 4500)
    first = sf_client.query("SELECT Id, LastName FROM Contact ORDER BY LastName")
    assert first["totalSize"] == 4500 and first["done"] is False and len(first["records"]) == 2000
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/0r8")
    assert first["nextRecordsUrl"].endswith("-2000")
    second = sf_client.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 2000 and second["records"][0]["LastName"] == "C02000"
    third = sf_client.query_more(second["nextRecordsUrl"].rsplit("/", 1)[1])
    assert third["done"] is True and len(third["records"]) == 500 and "nextRecordsUrl" not in third


def test_query_all_and_iter_read_every_page(sf_org: Org, sf_client: Salesforce) -> None:
    _contacts(sf_org, 4100)
    everything = sf_client.query_all("SELECT Id FROM Contact")
    assert everything["totalSize"] == 4100 and len({r["Id"] for r in everything["records"]}) == 4100
    assert sum(1 for _ in sf_client.query_all_iter("SELECT Id FROM Contact")) == 4100


def test_batch_size_header_sets_page_size(sf_org: Org, sf_client: Salesforce) -> None:
    _contacts(sf_org, 450)
    page = sf_client.query(
        "SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"}
    )
    assert len(page["records"]) == 200 and page["nextRecordsUrl"].endswith("-200")
    tiny = sf_client.query(
        "SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=5"}
    )
    assert len(tiny["records"]) == 200


def test_query_all_endpoint_sees_the_recycle_bin(sf_org: Org, sf_client: Salesforce) -> None:
    kept = sf_org.create("Contact", {"LastName": "Kept"})
    gone = sf_org.create("Contact", {"LastName": "Gone"})
    sf_org.delete(gone)
    live = sf_client.query("SELECT Id FROM Contact")["records"]
    every = sf_client.query_all("SELECT Id, IsDeleted FROM Contact", include_deleted=True)[
        "records"
    ]
    assert [r["Id"] for r in live] == [kept]
    assert {r["Id"]: r["IsDeleted"] for r in every} == {kept: False, gone: True}


def test_count_query_shape(sf_org: Org, sf_client: Salesforce) -> None:
    _contacts(sf_org, 42)
    assert sf_client.query("SELECT COUNT() FROM Contact") == {
        "totalSize": 42,
        "done": True,
        "records": [],
    }


@pytest.mark.parametrize(
    ("soql", "code", "fragment"),
    [
        ("SELEC Id FROM Contact", "MALFORMED_QUERY", "unexpected token: 'SELEC'"),
        ("SELECT Id FROM Nope__c", "INVALID_TYPE", "sObject type 'Nope__c' is not supported"),
        (
            "SELECT Shoe__c FROM Contact",
            "INVALID_FIELD",
            "No such column 'Shoe__c' on entity 'Contact'",
        ),
        (
            "SELECT Id FROM Contact WHERE CreatedDate = 'x'",
            "INVALID_FIELD",
            "must be of type dateTime",
        ),
        ("SELECT Id FROM Contact OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE", ""),
    ],
    ids=["malformed", "unknown-object", "unknown-field", "wrong-literal", "offset"],
)
def test_bad_soql_gets_platform_error(
    sf_org: Org, sf_client: Salesforce, soql: str, code: str, fragment: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.query(soql)
    error = exc.value.content[0]
    assert error["errorCode"] == code
    assert fragment in error["message"]


def test_missing_query_string_is_malformed(sf_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.restful("query/", params={"q": " "})
    assert exc.value.content[0]["errorCode"] == "MALFORMED_QUERY"


@pytest.mark.parametrize(
    "locator",
    ["0r8xx-2000", "0r85g0000000099AAA-2000", "garbage"],
    ids=["short", "unknown", "garbage"],
)
def test_bad_locator_is_refused(sf_client: Salesforce, locator: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.query_more(locator)
    assert exc.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_locator_expires_after_two_days(clock: VirtualClock) -> None:
    org = Org(clock=clock)
    _contacts(org, 2100)
    sf = org.client()
    first = sf.query("SELECT Id FROM Contact")
    clock.advance(days=2, seconds=1)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert exc.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_requesting_an_earlier_offset_replays_the_page(sf_org: Org, sf_client: Salesforce) -> None:
    _contacts(sf_org, 4100)
    first = sf_client.query("SELECT LastName FROM Contact ORDER BY LastName")
    url = first["nextRecordsUrl"]
    once = sf_client.query_more(url, identifier_is_url=True)
    again = sf_client.query_more(url, identifier_is_url=True)
    assert once["records"] == again["records"]


def test_parent_relationship_and_casing(sf_org: Org, sf_client: Salesforce) -> None:
    account = sf_org.create("Account", {"Name": "Acme"})
    sf_org.create("Contact", {"LastName": "Lee", "AccountId": account})
    record = sf_client.query("select id, account.name, LASTNAME from contact")["records"][0]
    assert record["Account"]["Name"] == "Acme" and record["LastName"] == "Lee"


def test_hidden_field_does_not_exist_for_queries(sf_org: Org, sf_client: Salesforce) -> None:
    sf_org.control.hide_field("Contact", "Email")
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.query("SELECT Email FROM Contact")
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_abandoned_locators_and_old_bulk_jobs_are_cleaned_up(clock: VirtualClock) -> None:
    org = Org(clock=clock)
    _contacts(org, 2100)
    sf = org.client()
    sf.query("SELECT Id FROM Contact")
    sf.bulk2.Contact.insert(records=[{"LastName": "B"}], wait=0)
    assert org.queries.open_locators == 1 and len(org.bulk.jobs) == 1
    clock.advance(days=7, minutes=1)
    org.tick()
    assert org.queries.open_locators == 0 and org.bulk.jobs == {}
