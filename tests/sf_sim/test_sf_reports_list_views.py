"""Reports (Analytics REST API) and list views, through simple-salesforce's ``restful``.

Shapes as the platform answers: a tabular run's detail rows under ``factMap["T!T"]``,
``allData`` false past the first 2,000 rows, name columns with the Id as value; list view
describe with the SOQL the view stands for, results pages; and the refusals: unknown or
deleted reports, bad filters, a list view asked for under another object, bad limits.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from sf_sim import Org
from sf_sim.reports import SYNC_ROW_LIMIT


@pytest.fixture
def people(sf_org: Org) -> Org:
    account = sf_org.create("Account", {"Name": "Acme"})
    rows = [
        {"FirstName": f"F{n}", "LastName": f"L{n:02d}", "Email": f"p{n}@acme.example",
         "AccountId": account, "LeadSource": "Web" if n % 2 else "Phone"}
        for n in range(6)
    ]  # fmt: skip
    sf_org.insert("Contact", rows)
    return sf_org


def run(sf: Salesforce, report_id: str, **kwargs: Any) -> dict[str, Any]:
    return sf.restful(f"analytics/reports/{report_id}", params={"includeDetails": "true"}, **kwargs)


def cells(body: dict[str, Any]) -> list[list[Any]]:
    return [[c["value"] for c in row["dataCells"]] for row in body["factMap"]["T!T"]["rows"]]


def test_tabular_report_runs_with_detail_rows(people: Org) -> None:
    report = people.reports.create(
        "Web contacts",
        columns=["FIRST_NAME", "EMAIL", "ACCOUNT.NAME"],
        filters=[{"column": "LEAD_SOURCE", "operator": "equals", "value": "Web"}],
    )
    with people.activate() as sf:
        body = run(sf, report)
    assert body["attributes"]["type"] == "Report" and body["attributes"]["reportId"] == report
    assert body["allData"] is True and body["hasDetailRows"] is True
    assert body["reportMetadata"]["reportFormat"] == "TABULAR"
    assert body["reportExtendedMetadata"]["detailColumnInfo"]["EMAIL"]["dataType"] == "email"
    assert body["factMap"]["T!T"]["aggregates"] == [{"label": "3", "value": 3}]
    rows = body["factMap"]["T!T"]["rows"]
    assert [r["dataCells"][1]["value"] for r in rows] == [
        "p1@acme.example", "p3@acme.example", "p5@acme.example"
    ]  # fmt: skip
    account_cell = rows[0]["dataCells"][2]
    assert account_cell["label"] == "Acme" and account_cell["value"].startswith("001")


def test_without_include_details_a_run_has_only_the_count(people: Org) -> None:
    report = people.reports.create("All", columns=["EMAIL"])
    with people.activate() as sf:
        body = sf.restful(f"analytics/reports/{report}")
    assert body["hasDetailRows"] is False and body["factMap"]["T!T"]["rows"] == []
    assert body["factMap"]["T!T"]["aggregates"][0]["value"] == 6


def test_filters_on_demand_change_one_run_only(people: Org) -> None:
    report = people.reports.create("All", columns=["LAST_NAME"])
    metadata = {
        "reportFilters": [
            {"column": "LAST_NAME", "operator": "equals", "value": "L01,L02"},
            {"column": "EMAIL", "operator": "startsWith", "value": "p2"},
        ],
        "reportBooleanFilter": "1 AND NOT 2",
    }
    with people.activate() as sf:
        filtered = run(sf, report, method="POST", json={"reportMetadata": metadata})
        again = run(sf, report)
    assert cells(filtered) == [["L01"]]
    assert len(cells(again)) == 6


def test_a_synchronous_run_returns_the_first_2000_rows(sf_org: Org) -> None:
    sf_org.insert(
        "Contact", [{"LastName": f"N{n:05d}", "Email": f"n{n}@x.example"} for n in range(2001)]
    )
    report = sf_org.reports.create("Big", columns=["LAST_NAME"])
    with sf_org.activate() as sf:
        body = run(sf, report)
    assert body["allData"] is False
    assert len(body["factMap"]["T!T"]["rows"]) == SYNC_ROW_LIMIT
    assert body["factMap"]["T!T"]["aggregates"][0]["value"] == 2001


def test_a_report_runs_as_the_user_and_shows_what_they_see(people: Org) -> None:
    report = people.reports.create("All", columns=["EMAIL"])
    rep = people.control.add_user("rep@acme.example.com")
    people.sharing.set_default("Contact", "Private")
    session = people.sessions.open(rep)
    sf = Salesforce(instance_url=people.instance_url, session_id=session, session=people.session())
    assert run(sf, report)["factMap"]["T!T"]["rows"] == []


def test_report_records_and_describe(people: Org) -> None:
    report = people.reports.create("Contacts for CM", columns=["EMAIL", "Contact.Title"])
    with people.activate() as sf:
        rows = sf.query("SELECT Id, Name, Format FROM Report")["records"]
        described = sf.restful(f"analytics/reports/{report}/describe")
        recent = sf.restful("analytics/reports")
    assert [(r["Id"], r["Name"], r["Format"]) for r in rows] == [
        (report, "Contacts for CM", "Tabular")
    ]
    assert described["reportMetadata"]["detailColumns"] == ["EMAIL", "Contact.Title"]
    columns = described["reportTypeMetadata"]["categories"][0]["columns"]
    assert "FIRST_NAME" in columns and columns["EMAIL"]["dataType"] == "email"
    assert [r["id"] for r in recent] == [report]


@pytest.mark.parametrize(
    ("report_id", "kwargs"),
    [
        ("00O000000000000AAA", {}),
        ("not-a-report", {}),
        ("0035g0000000009AAA", {}),
    ],
    ids=["unknown", "malformed", "another-object-id"],
)
def test_unknown_reports_are_not_found(people: Org, report_id: str, kwargs: dict) -> None:
    with people.activate() as sf, pytest.raises(SalesforceResourceNotFound) as exc:
        run(sf, report_id, **kwargs)
    assert exc.value.content[0]["errorCode"] == "NOT_FOUND"


def test_a_deleted_report_is_not_found(people: Org) -> None:
    report = people.reports.create("Gone", columns=["EMAIL"])
    people.reports.delete(report)
    with people.activate() as sf:
        with pytest.raises(SalesforceResourceNotFound):
            run(sf, report)
        assert sf.query("SELECT Id FROM Report")["totalSize"] == 0


@pytest.mark.parametrize(
    "metadata",
    [
        {"reportFilters": [{"column": "NOPE", "operator": "equals", "value": "x"}]},
        {"reportFilters": [{"column": "EMAIL", "operator": "between", "value": "x"}]},
        {"reportFilters": [{"column": "EMAIL_OPT_OUT", "operator": "equals", "value": "maybe"}]},
        {"reportFilters": [{"column": "EMAIL", "operator": "equals", "value": "a"}] * 21},
        {"reportFilters": [{"column": "EMAIL", "operator": "equals", "value": "a"}],
         "reportBooleanFilter": "1 OR 2"},
        {"reportFilters": [{"column": "EMAIL", "operator": "equals", "value": "a"}],
         "reportBooleanFilter": "1; DELETE"},
        {"reportFilters": "EMAIL = a"},
        {"detailColumns": ["Account.Industry"]},
    ],
    ids=["unknown-column", "unknown-operator", "bad-boolean", "21-filters", "logic-names-2",
         "hostile-logic", "filters-not-a-list", "parent-path-column"],
)  # fmt: skip
def test_bad_report_metadata_is_refused(people: Org, metadata: dict[str, Any]) -> None:
    report = people.reports.create("All", columns=["EMAIL"])
    with people.activate() as sf, pytest.raises(SalesforceMalformedRequest) as exc:
        run(sf, report, method="POST", json={"reportMetadata": metadata})
    assert exc.value.content[0]["errorCode"] == "BAD_REQUEST"


def test_a_filter_value_cannot_break_out_of_its_string(people: Org) -> None:
    report = people.reports.create("All", columns=["EMAIL"])
    hostile = {"reportFilters": [{"column": "EMAIL", "operator": "equals",
                                  "value": "x' OR Email != null OR Email = 'y"}]}  # fmt: skip
    with people.activate() as sf:
        assert cells(run(sf, report, method="POST", json={"reportMetadata": hostile})) == []


def test_list_view_describe_gives_the_soql_it_stands_for(people: Org) -> None:
    view = people.list_views.create(
        "Contact",
        "Web contacts",
        columns=["Name", "Email", "Account.Name"],
        conditions=[{"field": "LeadSource", "operator": "equals", "values": ["Web"]}],
    )
    with people.activate() as sf:
        listing = sf.restful("sobjects/Contact/listviews")
        described = sf.restful(f"sobjects/Contact/listviews/{view}/describe")
        records = sf.query_all(described["query"])["records"]
    assert listing["sobjectType"] == "Contact" and listing["size"] == 1
    assert listing["listviews"][0]["id"] == view and listing["listviews"][0]["soqlCompatible"]
    assert described["query"] == (
        "SELECT Name, Email, Account.Name, Id, CreatedDate, LastModifiedDate, SystemModstamp "
        "FROM Contact WHERE LeadSource = 'Web' ORDER BY Name ASC NULLS FIRST, Id ASC NULLS FIRST"
    )
    assert described["whereCondition"] == {
        "field": "LeadSource", "operator": "equals", "values": ["Web"]
    }  # fmt: skip
    hidden = {c["fieldNameOrPath"]: c["hidden"] for c in described["columns"]}
    assert hidden["Email"] is False and hidden["Id"] is True
    assert sorted(r["Email"] for r in records) == [
        "p1@acme.example", "p3@acme.example", "p5@acme.example"
    ]  # fmt: skip


def test_list_view_results_page_through_offset_and_limit(people: Org) -> None:
    view = people.list_views.create(
        "Contact", "All", columns=["LastName", "Email"], order_by="LastName"
    )
    with people.activate() as sf:
        page = sf.restful(
            f"sobjects/Contact/listviews/{view}/results", params={"limit": 2, "offset": 2}
        )
    assert page["size"] == 6 and page["done"] is False and page["label"] == "All"
    values = [{c["fieldNameOrPath"]: c["value"] for c in r["columns"]} for r in page["records"]]
    assert [v["LastName"] for v in values] == ["L02", "L03"]


def test_a_mine_list_view_is_scoped_to_the_running_user(people: Org) -> None:
    view = people.list_views.create("Contact", "My contacts", columns=["Email"], scope="mine")
    rep = people.control.add_user("rep@acme.example.com")
    session = people.sessions.open(rep)
    sf = Salesforce(instance_url=people.instance_url, session_id=session, session=people.session())
    described = sf.restful(f"sobjects/Contact/listviews/{view}/describe")
    assert "USING SCOPE mine" in described["query"]
    assert sf.query_all(described["query"])["records"] == []


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("sobjects/Lead/listviews/{view}/describe", None, "NOT_FOUND"),
        ("sobjects/Contact/listviews/00B000000000000AAA/describe", None, "NOT_FOUND"),
        ("sobjects/Contact/listviews/{view}/results", {"limit": 0}, "BAD_REQUEST"),
        ("sobjects/Contact/listviews/{view}/results", {"limit": 2001}, "BAD_REQUEST"),
        ("sobjects/Contact/listviews/{view}/results", {"limit": "ten"}, "INVALID_QUERY_PARAMETER_VALUE"),
        ("sobjects/Contact/listviews/{view}/results", {"offset": 2001}, "NUMBER_OUTSIDE_VALID_RANGE"),
        ("sobjects/Nope__c/listviews", None, "NOT_FOUND"),
    ],
    ids=["another-object", "unknown-view", "limit-0", "limit-2001", "limit-text", "offset-2001",
         "unknown-object"],
)  # fmt: skip
def test_bad_list_view_requests_are_refused(
    people: Org, path: str, params: dict | None, code: str
) -> None:
    view = people.list_views.create("Contact", "All", columns=["Email"])
    errors = (SalesforceMalformedRequest, SalesforceResourceNotFound)
    with people.activate() as sf, pytest.raises(errors) as exc:
        sf.restful(path.format(view=view), params=params)
    assert exc.value.content[0]["errorCode"] == code


def test_list_view_definitions_are_checked_when_made(sf_org: Org) -> None:
    with pytest.raises(ValueError):
        sf_org.list_views.create("Contact", "Broken", columns=["Nope__c"])
    with pytest.raises(ValueError):
        sf_org.list_views.create(
            "Contact", "Broken", columns=["Email"],
            conditions=[{"field": "Email", "operator": "near", "values": ["x"]}],
        )  # fmt: skip
    with pytest.raises(ValueError):
        sf_org.list_views.create("Nope__c", "Broken", columns=["Name"])


def test_raw_http_report_run_is_json_with_the_limit_header(people: Org) -> None:
    report = people.reports.create("All", columns=["EMAIL"])
    with people.activate() as sf:
        response = sf.session.get(
            f"{people.instance_url}/services/data/v59.0/analytics/reports/{report}",
            params={"includeDetails": "true"},
            headers=sf.headers,
        )
    assert response.status_code == 200
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")
    assert json.loads(response.text)["attributes"]["reportName"] == "All"
