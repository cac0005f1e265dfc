"""Each source type imports exactly its rows, with the mapped fields converted.

A report, a list view and a SOQL query over the same Contacts (and Contacts outside
them) each import exactly the rows the source holds into the list, through
``subscribers/{list}/import.json``, with custom fields converted to the list's types,
mobile numbers in E.164 and consent from checkboxes; the outcome lands on the record and
in the run summary, with the Salesforce calls the source cost.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cmsf_core.import_support import Imports, make_imports


@pytest.fixture
def imports() -> Iterator[Imports]:
    made = make_imports({"sms_enabled": True, "sms_country": "US"})
    yield made
    made.close()


def _people(imports: Imports) -> None:
    imports.contacts(5, "imp", Title="Gold")
    imports.contacts(3, "other")


@pytest.mark.parametrize("source_type", ["Report", "ListView", "SOQL"])
def test_each_source_imports_exactly_its_rows(imports: Imports, source_type: str) -> None:
    _people(imports)
    source = {
        "Report": lambda: imports.report("imp"),
        "ListView": lambda: imports.list_view("imp"),
        "SOQL": lambda: (
            "SELECT Id, Email, FirstName, LastName FROM Contact WHERE Email LIKE 'imp%'"
        ),
    }[source_type]()
    before = imports.emails()
    import_id = imports.create(source_type, source)
    report = imports.run(import_id)
    assert report.status == "completed", report.reason
    wanted = {f"imp{n}@example.org" for n in range(5)}
    assert imports.emails() - before == wanted
    assert imports.subscriber("imp3@example.org")["Name"] == "Imp3 Person"
    record = imports.record(import_id)
    assert record["Last_Status__c"] == "Completed"
    assert (record["Rows_Read__c"], record["Imported__c"], record["Failed__c"]) == (5, 5, 0)


def test_mapped_fields_are_converted_to_the_list_s_types(imports: Imports) -> None:
    ids = imports.contacts(2, "map")
    imports.org.update(
        "Contact", ids[0],
        {"Title": "https://acme.example", "Birthdate": "1990-07-14",
         "MobilePhone": "(555) 555-1234", "HasOptedOutOfEmail": False},
    )  # fmt: skip
    mappings = {
        "Email": "EmailAddress",
        "Title": "website",
        "Birthdate": "[subscriptiondate]",
        "MobilePhone": "MobileNumber",
        "HasOptedOutOfEmail": "ConsentToTrack",
        "LeadSource": "interests",
    }
    imports.org.update("Contact", ids[0], {"LeadSource": "news"})
    soql = (
        "SELECT Email, FirstName, LastName, Title, Birthdate, MobilePhone, HasOptedOutOfEmail, "
        "LeadSource FROM Contact WHERE Email LIKE 'map%' ORDER BY Email"
    )
    import_id = imports.create("SOQL", soql, mappings=mappings)
    assert imports.run(import_id).status == "completed"
    found = imports.subscriber("map0@example.org")
    fields = {f["Key"]: f["Value"] for f in found["CustomFields"]}
    assert fields["website"] == "https://acme.example"
    assert fields["subscription date"] == "1990-07-14"
    assert fields["interests"] == "news"
    assert found["MobileNumber"] == "+15555551234"
    assert found["ConsentToTrack"] == "No"
    assert found["Name"] == "Map0 Person"


def test_a_value_that_does_not_fit_is_left_out_and_named(imports: Imports) -> None:
    ids = imports.contacts(2, "bad")
    imports.org.update("Contact", ids[1], {"Title": "not a number"})
    soql = "SELECT Id, Email, Title FROM Contact WHERE Email LIKE 'bad%'"
    import_id = imports.create("SOQL", soql, mappings={"Email": "EmailAddress", "Title": "age"})
    imports.run(import_id)
    assert {"bad0@example.org", "bad1@example.org"} <= imports.emails()
    record = imports.record(import_id)
    assert record["Failed__c"] == 0 and ids[1] in record["Failures__c"]
    assert "Title -> age" in record["Failures__c"]


def test_report_columns_map_by_name_or_label(imports: Imports) -> None:
    imports.contacts(3, "rep", Title="Silver")
    report = imports.org.reports.create(
        "Reps", columns=["EMAIL", "FIRST_NAME", "TITLE", "ACCOUNT.NAME"],
        filters=[{"column": "EMAIL", "operator": "startsWith", "value": "rep"}],
    )  # fmt: skip
    import_id = imports.create(
        "Report", report, mappings={"Email": "EmailAddress", "TITLE": "website",
                                    "First Name": "Name"}
    )  # fmt: skip
    assert imports.run(import_id).status == "completed"
    found = imports.subscriber("rep1@example.org")
    assert found["Name"] == "Rep1"
    assert {f["Key"]: f["Value"] for f in found["CustomFields"]}["website"] == "Silver"


def test_a_list_view_import_costs_two_calls_and_one_per_page(imports: Imports) -> None:
    imports.contacts(2500, "page")
    import_id = imports.create("ListView", imports.list_view("page"))
    report = imports.run(import_id)
    counts = report.counts["Import"]
    assert counts["rows read"] == 2500
    # ListView lookup + describe + two query pages of 2,000 rows
    assert counts["salesforce calls"] == 4
    assert imports.record(import_id)["Salesforce_Calls__c"] == 4
    assert counts["campaign monitor calls"] == 1 + 3  # custom fields + three imports


def test_a_scheduled_import_runs_inside_the_sync_and_shows_in_its_summary(
    imports: Imports,
) -> None:
    imports.contacts(4, "sync")
    import_id = imports.create("ListView", imports.list_view("sync"), schedule="Hourly")
    report = imports.sync()
    assert report.stats.imports["Import"]["imported"] == 4
    assert report.jobs and any(j["job"] == "imports" and j["status"] == "completed"
                               for j in report.jobs)  # fmt: skip
    assert imports.record(import_id)["Last_Status__c"] == "Completed"


@pytest.mark.parametrize("journeys", [True, False], ids=["journeys-on", "journeys-off"])
def test_trigger_journeys_decides_whether_joins_a_list_journeys_start(
    imports: Imports, journeys: bool
) -> None:
    journey = imports.account.create_journey(imports.list_ids[0], "Welcome", [("Hello", 0)])
    imports.contacts(2, "trip")
    import_id = imports.create(
        "SOQL", "SELECT Email FROM Contact WHERE Email LIKE 'trip%'", journeys=journeys
    )
    imports.run(import_id)
    with imports.account.client() as http:
        emails = http.get(f"/journeys/{journey}.json").json()["Emails"]
        recipients = http.get(f"/journeys/email/{emails[0]['EmailID']}/recipients.json").json()
    sent = {r["EmailAddress"] for r in recipients["Results"]}
    assert ("trip0@example.org" in sent) is journeys


def test_resubscribe_brings_back_an_unsubscribed_address(imports: Imports) -> None:
    unsubscribed = sorted(imports.emails("Unsubscribed"))[0]
    imports.org.insert("Contact", [{"LastName": "Back", "Email": unsubscribed}])
    import_id = imports.create(
        "SOQL", f"SELECT Email FROM Contact WHERE Email = '{unsubscribed}'", resubscribe=True
    )
    report = imports.run(import_id)
    assert unsubscribed in imports.emails("Active")
    assert report.counts["Import"]["updated"] == 1


def test_without_resubscribe_unsubscribed_rows_are_kept_out_not_failed(imports: Imports) -> None:
    imports.account.strict_inactive_adds = True  # Campaign Monitor answers 206 for them
    unsubscribed = sorted(imports.emails("Unsubscribed"))[0]
    imports.org.insert("Contact", [{"LastName": "Out", "Email": unsubscribed}])
    import_id = imports.create("SOQL", f"SELECT Email FROM Contact WHERE Email = '{unsubscribed}'")
    report = imports.run(import_id)
    assert report.counts["Import"]["kept out"] == 1
    assert unsubscribed in imports.emails("Unsubscribed")
    record = imports.record(import_id)
    assert record["Failed__c"] == 0 and record["Last_Status__c"] == "Completed"
