"""The engine behind a real client: simple-salesforce against an sf_sim Org."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sf_sim import Org


@pytest.fixture
def org() -> Iterator[Org]:
    """An org with one account and 2,500 contacts created through DML."""
    org = Org()
    account = org.create("Account", {"Name": "Acme"})
    org.insert(
        "Contact",
        [
            {"LastName": f"L{n:05d}", "Email": f"p{n}@example.com", "AccountId": account}
            for n in range(2500)
        ],
    )
    yield org
    org.close()


@pytest.fixture
def sf(org: Org) -> Salesforce:
    """A logged-in simple-salesforce client for the org."""
    return org.client()


def test_query_pages_at_2000_with_next_records_url(sf: Salesforce) -> None:
    first = sf.query("SELECT Id, LastName, Account.Name FROM Contact ORDER BY LastName")
    assert first["totalSize"] == 2500
    assert first["done"] is False
    assert len(first["records"]) == 2000
    assert first["nextRecordsUrl"].startswith("/services/data/v")
    assert first["records"][0]["Account"]["Name"] == "Acme"
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert second["done"] is True
    assert [r["LastName"] for r in second["records"]][:2] == ["L02000", "L02001"]
    assert len(second["records"]) == 500


def test_query_all_iter_streams_every_record(sf: Salesforce) -> None:
    names = [r["LastName"] for r in sf.query_all_iter("SELECT LastName FROM Contact")]
    assert len(names) == 2500
    assert len(set(names)) == 2500


def test_count_and_aggregate_through_rest(sf: Salesforce) -> None:
    count = sf.query("SELECT COUNT() FROM Contact WHERE Email LIKE 'p1%'")
    assert count["totalSize"] == 1111
    assert count["records"] == []
    aggregate = sf.query("SELECT Account.Name, COUNT(Id) n FROM Contact GROUP BY Account.Name")
    assert aggregate["records"] == [
        {"attributes": {"type": "AggregateResult"}, "Name": "Acme", "n": 2500}
    ]


def test_child_subquery_through_rest(sf: Salesforce) -> None:
    [account] = sf.query(
        "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName DESC LIMIT 2) FROM Account"
    )["records"]
    assert account["Contacts"]["totalSize"] == 2
    assert [c["LastName"] for c in account["Contacts"]["records"]] == ["L02499", "L02498"]


def test_datetime_with_plus_offset_survives_the_url(sf: Salesforce) -> None:
    result = sf.query("SELECT COUNT() FROM Contact WHERE CreatedDate > 2000-01-01T00:00:00+01:00")
    assert result["totalSize"] == 2500


def test_date_literals_follow_the_org_clock(org: Org, sf: Salesforce) -> None:
    assert sf.query("SELECT COUNT() FROM Contact WHERE CreatedDate = TODAY")["totalSize"] == 2500
    org.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    assert sf.query("SELECT COUNT() FROM Contact WHERE CreatedDate = TODAY")["totalSize"] == 0
    soql = "SELECT COUNT() FROM Contact WHERE CreatedDate = LAST_N_DAYS:2"
    assert sf.query(soql)["totalSize"] == 2500


def test_deleted_rows_only_through_query_all(org: Org, sf: Salesforce) -> None:
    [victim] = sf.query("SELECT Id FROM Contact WHERE LastName = 'L00007'")["records"]
    sf.Contact.delete(victim["Id"])
    soql = "SELECT Id, IsDeleted FROM Contact WHERE LastName = 'L00007'"
    assert sf.query(soql)["totalSize"] == 0
    assert sf.query("SELECT Id FROM Contact WHERE IsDeleted = true")["totalSize"] == 0
    [row] = sf.query_all(soql, include_deleted=True)["records"]
    assert row["IsDeleted"] is True


def test_polymorphic_owner_through_rest(sf: Salesforce) -> None:
    sf.Lead.create({"LastName": "Prospect", "Company": "P Co"})
    [lead] = sf.query("SELECT Owner.Name, Owner.Type FROM Lead")["records"]
    assert lead["Owner"]["attributes"]["type"] == "User"


def test_hidden_field_is_no_such_column(org: Org, sf: Salesforce) -> None:
    org.control.hide_field("Contact", "Email")
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Email FROM Contact")
    [error] = exc.value.content
    assert error["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Email' on entity 'Contact'" in error["message"]


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Foo", "INVALID_TYPE"),
        ("SELECT Id FORM Contact", "MALFORMED_QUERY"),
        ("SELECT Nme FROM Contact", "INVALID_FIELD"),
        ("SELECT Id FROM Contact WHERE CreatedDate > '2024-01-01'", "INVALID_FIELD"),
        ("SELECT Id FROM Contact WHERE AccountId = 'nope'", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Contact OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE"),
    ],
    ids=["unknown-object", "syntax", "unknown-field", "quoted-datetime", "bad-id", "offset"],
)
def test_refusals_reach_the_client_as_platform_errors(sf: Salesforce, soql: str, code: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query(soql)
    [error] = exc.value.content
    assert error["errorCode"] == code
    assert "ERROR at Row:1:Column:" in error["message"]
