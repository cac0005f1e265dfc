"""Bad imports fail alone, with the fix on their record; bad rows fail alone, per row.

Refused before anything is sent (status ``Failed``, ``Last_Error__c`` says why, a
``CMSF-IMPORT-FAILED`` message, no Campaign Monitor write): broken or non-SELECT SOQL, a
deleted or unknown report or list view, a list view of an object without people,
mappings that are not JSON, name columns the source lacks or fields the list lacks, no
email column, no list. Rows: an address that is not one is not imported; one Campaign
Monitor refuses (Code 210 with ``ResultData``) is recorded per row; a duplicate address
is imported once; hostile text goes through as data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.cmsf_core.import_support import Imports, make_imports


@pytest.fixture
def imports() -> Iterator[Imports]:
    made = make_imports()
    made.contacts(3, "ok")
    yield made
    made.close()


def _failed(imports: Imports, import_id: str) -> str:
    writes = imports.import_requests()
    report = imports.run(import_id)
    assert report.status == "completed_with_errors", report.reason
    record = imports.record(import_id)
    assert record["Last_Status__c"] == "Failed", record
    assert imports.import_requests() == writes
    assert "CMSF-IMPORT-FAILED" in [m.code for m in report.messages]
    return str(record["Last_Error__c"])


CASES: list[tuple[str, Callable[[Imports], tuple[str, str, object]], str]] = [
    ("soql-syntax", lambda i: ("SOQL", "SELECT Email FROM Contact WHERE", None), "refused"),
    ("soql-unknown-field", lambda i: ("SOQL", "SELECT Nope__c FROM Contact", None), "Nope__c"),
    ("soql-unknown-object", lambda i: ("SOQL", "SELECT Email FROM Nope__c", None), "Nope__c"),
    ("not-a-select", lambda i: ("SOQL", "DELETE FROM Contact", None), "SELECT"),
    ("soql-unclosed-string", lambda i: ("SOQL", "SELECT Email FROM Contact WHERE Email = 'x",
                                        None), "refused"),
    ("unknown-report", lambda i: ("Report", "00O000000000000AAA", None), "not found"),
    ("report-id-of-another-kind", lambda i: ("Report", "00B000000000000AAA", None), "report Id"),
    ("unknown-list-view", lambda i: ("ListView", "00B000000000000", None), "not found"),
    ("malformed-list-view-id", lambda i: ("ListView", "00B000000000000AAA", None), "refused"),
    ("account-list-view", lambda i: ("ListView", i.org.list_views.create(
        "Account", "Accounts", columns=["Name"]), None), "Account"),
    ("mappings-not-json", lambda i: ("SOQL", "SELECT Email FROM Contact", "{Email: x"),
     "not JSON"),
    ("mappings-not-object", lambda i: ("SOQL", "SELECT Email FROM Contact", "[1, 2]"),
     "JSON object"),
    ("mapping-unknown-column", lambda i: ("SOQL", "SELECT Email FROM Contact",
                                          {"Email": "EmailAddress", "Nope": "website"}), "Nope"),
    ("mapping-unknown-field", lambda i: ("SOQL", "SELECT Email, Title FROM Contact",
                                         {"Email": "EmailAddress", "Title": "Plan"}), "Plan"),
    ("mapping-target-twice", lambda i: ("SOQL", "SELECT Email, Title FROM Contact",
                                        {"Email": "EmailAddress", "Title": "emailaddress"}),
     "mapped from both"),
    ("too-many-mappings", lambda i: ("SOQL", "SELECT Email FROM Contact",
                                     {f"c{n}": f"f{n}" for n in range(101)}), "100 at most"),
    ("no-email-column", lambda i: ("SOQL", "SELECT FirstName FROM Contact", None),
     "EmailAddress"),
    ("mapping-value-not-text", lambda i: ("SOQL", "SELECT Email FROM Contact", '{"Email": 3}'),
     "as text"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "words"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_import_fails_alone_with_the_fix(
    imports: Imports, case: str, make: Callable[[Imports], tuple[str, str, object]], words: str
) -> None:
    source_type, source, mappings = make(imports)
    bad = imports.create(source_type, source, mappings=mappings, name="Bad")  # type: ignore[arg-type]
    good = imports.create("ListView", imports.list_view("ok"), name="Good")
    report = imports.run(bad, good)
    assert imports.record(good)["Last_Status__c"] == "Completed"
    record = imports.record(bad)
    assert record["Last_Status__c"] == "Failed", record
    assert words in record["Last_Error__c"]
    assert report.status == "completed_with_errors"


def test_an_oversized_query_is_refused_when_the_import_is_saved(imports: Imports) -> None:
    from cmsf_core.errors import ConfigError

    huge = "SELECT Email FROM Contact WHERE Email = '" + "x" * 40_000 + "'"
    with pytest.raises(ConfigError, match="STRING_TOO_LONG"):
        imports.engine.create_import(
            name="Huge", list_ref=imports.list_ids[0], source_type="SOQL", source=huge,
            mappings=None, owner=None,
        )  # fmt: skip
    with pytest.raises(ConfigError, match="100,000"):
        imports.engine.create_import(
            name="Huger", list_ref=imports.list_ids[0], source_type="SOQL",
            source=huge + "x" * 70_000, mappings=None, owner=None,
        )  # fmt: skip


def test_an_import_without_a_list_fails(imports: Imports) -> None:
    import_id = imports.create("ListView", imports.list_view("ok"))
    imports.org.update("CMSF_Import__c", import_id, {"List__c": None})
    assert "List__c" in _failed(imports, import_id)


def test_a_deleted_list_view_fails(imports: Imports) -> None:
    view = imports.list_view("ok")
    import_id = imports.create("ListView", view)
    imports.org.list_views.delete(view)
    assert "not found" in _failed(imports, import_id)


def test_rows_without_an_address_fail_per_row(imports: Imports) -> None:
    imports.org.insert("Contact", [{"LastName": "Nomail"}, {"LastName": "Junk", "Title": "x@"}])
    soql = "SELECT Id, Email, Title FROM Contact WHERE LastName IN ('Nomail', 'Junk') OR Email LIKE 'ok%'"
    import_id = imports.create("SOQL", soql)
    report = imports.run(import_id)
    record = imports.record(import_id)
    assert (record["Rows_Read__c"], record["Imported__c"], record["Failed__c"]) == (5, 3, 2)
    assert record["Last_Status__c"] == "Completed With Errors"
    assert record["Failures__c"].count("no email address") == 2
    assert "CMSF-IMPORT-ROWS" in [m.code for m in report.messages]


def test_rows_campaign_monitor_refuses_are_recorded_per_row(imports: Imports) -> None:
    ids = imports.contacts(2, "odd")
    imports.org.update("Contact", ids[1], {"Title": "odd(one)@example.org"})
    soql = "SELECT Id, Title FROM Contact WHERE Email LIKE 'odd%' ORDER BY Email"
    import_id = imports.create("SOQL", soql, mappings={"Title": "EmailAddress"})
    imports.org.update("Contact", ids[0], {"Title": "fine@example.org"})
    report = imports.run(import_id)
    record = imports.record(import_id)
    assert (record["Imported__c"], record["Failed__c"]) == (1, 1)
    assert f"row 2 ({ids[1]}): Code 1" in record["Failures__c"]
    assert "odd(one)" not in record["Failures__c"]  # rows are named, addresses are not
    assert "fine@example.org" in imports.emails()
    assert report.outcomes[import_id].counts["failed"] == 1


def test_a_duplicate_address_is_imported_once(imports: Imports) -> None:
    imports.org.insert("Contact", [{"LastName": "Twin", "Email": "OK0@example.org"}])
    import_id = imports.create("SOQL", "SELECT Email FROM Contact WHERE Email LIKE 'ok%'")
    bodies_before = imports.import_requests()
    report = imports.run(import_id)
    counts = report.counts["Import"]
    assert (counts["rows read"], counts["duplicates"], counts["imported"]) == (4, 1, 3)
    assert imports.import_requests() - bodies_before == 1


def test_hostile_text_is_data(imports: Imports) -> None:
    hostile = "Robert'); DROP TABLE subscribers;-- <script>alert(1)</script> \u202e"
    imports.org.insert(
        "Contact", [{"FirstName": hostile[:40], "LastName": "x" * 80, "Email": "h@example.org",
                     "Title": "\x00 null & ünïcödé"}]
    )  # fmt: skip
    import_id = imports.create(
        "SOQL", "SELECT Email, FirstName, LastName, Title FROM Contact WHERE Email = 'h@example.org'",
        mappings={"Email": "EmailAddress", "Title": "website"},
    )  # fmt: skip
    imports.run(import_id)
    found = imports.subscriber("h@example.org")
    assert found["Name"] == f"{hostile[:40].strip()} {'x' * 80}"
    assert imports.record(import_id)["Last_Status__c"] == "Completed"


def test_a_name_longer_than_campaign_monitor_takes_is_left_out_not_cut(imports: Imports) -> None:
    imports.org.insert("Contact", [{"LastName": "Long", "Email": "long@example.org",
                                    "Description": "d" * 300}])  # fmt: skip
    import_id = imports.create(
        "SOQL", "SELECT Email, Description FROM Contact WHERE Email = 'long@example.org'",
        mappings={"Email": "EmailAddress", "Description": "Name"},
    )  # fmt: skip
    imports.run(import_id)
    assert "long@example.org" in imports.emails()
    assert imports.subscriber("long@example.org")["Name"] == ""
    assert "300 characters" in imports.record(import_id)["Failures__c"]
