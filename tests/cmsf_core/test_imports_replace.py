"""Replace subscribers on list removes exactly the subscribers that left the source.

After a complete import, the list's active and unconfirmed subscribers that were not in
the source are deleted (unsubscribed, bounced and other lists untouched); later runs
remove exactly those who left since. The removal is its own bounded job: with a small
``import_removals`` limit it takes several runs, says how far it got, and resumes. A
source that failed, returned nothing, or was cut at 2,000 rows never removes anyone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace as with_changes

import pytest

from tests.cmsf_core.import_support import SPEC, Imports, make_imports


@pytest.fixture
def imports() -> Iterator[Imports]:
    made = make_imports(spec=with_changes(SPEC, lists_per_client=2))
    yield made
    made.close()


def _other_list(imports: Imports) -> set[str]:
    other = imports.world.summary["lists"][1]
    with imports.account.client() as http:
        rows = http.get(f"/lists/{other}/active.json", params={"pagesize": 1000}).json()
    return {r["EmailAddress"] for r in rows["Results"]}


def test_replace_removes_exactly_the_subscribers_not_in_the_source(imports: Imports) -> None:
    imports.contacts(5, "keep")
    unsubscribed, bounced = imports.emails("Unsubscribed"), imports.emails("Bounced")
    other = _other_list(imports)
    departed = imports.emails("Active") | imports.emails("Unconfirmed")
    import_id = imports.create("ListView", imports.list_view("keep"), replace=True)
    report = imports.run(import_id)
    assert report.status == "completed", report.reason
    kept = {f"keep{n}@example.org" for n in range(5)}
    assert imports.emails("Active") == kept and imports.emails("Unconfirmed") == set()
    assert departed <= imports.emails("Deleted")
    assert imports.emails("Unsubscribed") == unsubscribed
    assert imports.emails("Bounced") == bounced
    assert _other_list(imports) == other
    record = imports.record(import_id)
    assert (record["Removed__c"], record["Last_Status__c"]) == (len(departed), "Completed")


def test_a_later_run_removes_only_those_who_left(imports: Imports) -> None:
    ids = imports.contacts(5, "keep")
    import_id = imports.create("ListView", imports.list_view("keep"), replace=True)
    imports.run(import_id)
    deletes_before = imports.account.api_call_count("/subscribers/", "DELETE")
    imports.org.delete(ids[:2])
    imports.run(import_id)
    assert imports.emails("Active") == {f"keep{n}@example.org" for n in range(2, 5)}
    assert imports.account.api_call_count("/subscribers/", "DELETE") - deletes_before == 2
    assert imports.record(import_id)["Removed__c"] == 2


def test_removal_is_bounded_per_run_and_resumes(imports: Imports) -> None:
    imports.engine.change_settings({"governor_limits": {"import_removals": 3}})
    imports.contacts(2, "keep")
    departed = imports.emails("Active") | imports.emails("Unconfirmed")
    assert len(departed) > 6
    import_id = imports.create("ListView", imports.list_view("keep"), replace=True,
                               schedule="Hourly")  # fmt: skip
    first = imports.sync()
    record = imports.record(import_id)
    assert (record["Removed__c"], record["Last_Status__c"]) == (3, "Running")
    assert [m.code for m in first.messages if m.code.startswith("CMSF-IMPORT")] == [
        "CMSF-IMPORT-REMOVING"
    ]
    runs = 1
    while imports.record(import_id)["Last_Status__c"] == "Running":
        imports.sync(hours=0.1)  # the same hour: the schedule is not due, the removal is
        runs += 1
        assert runs < 10
    assert runs == -(-len(departed) // 3)
    assert imports.record(import_id)["Removed__c"] == len(departed)
    assert imports.emails("Active") == {"keep0@example.org", "keep1@example.org"}


def test_a_source_that_fails_removes_nobody(imports: Imports) -> None:
    imports.contacts(3, "keep")
    report_id = imports.report("keep")
    import_id = imports.create("Report", report_id, replace=True)
    before = imports.emails("Active")
    imports.org.reports.delete(report_id)
    result = imports.run(import_id)
    assert result.status == "completed_with_errors"
    assert imports.emails("Active") == before
    record = imports.record(import_id)
    assert record["Last_Status__c"] == "Failed" and "not found" in record["Last_Error__c"]


def test_a_source_without_rows_removes_nobody(imports: Imports) -> None:
    before = imports.emails("Active")
    import_id = imports.create(
        "SOQL", "SELECT Email FROM Contact WHERE Email = 'nobody@example.org'", replace=True
    )
    imports.run(import_id)
    assert imports.emails("Active") == before
    record = imports.record(import_id)
    assert record["Last_Status__c"] == "Completed With Errors"
    assert "no rows" in record["Last_Error__c"]


def test_a_report_cut_at_2000_rows_imports_them_and_removes_nobody(imports: Imports) -> None:
    imports.contacts(2001, "many")
    before = imports.emails("Active")
    import_id = imports.create("Report", imports.report("many"), replace=True)
    report = imports.run(import_id)
    assert report.status == "completed_with_errors"
    after = imports.emails("Active")
    assert before <= after and len(after - before) == 2000
    record = imports.record(import_id)
    assert record["Rows_Read__c"] == 2000 and record["Removed__c"] == 0
    assert "first 2,000" in record["Last_Error__c"]
    assert "CMSF-IMPORT-TRUNCATED" in [m.code for m in report.messages]


def test_a_dry_run_counts_what_a_replace_would_remove(imports: Imports) -> None:
    imports.contacts(3, "keep")
    departed = imports.emails("Active") | imports.emails("Unconfirmed")
    import_id = imports.create("ListView", imports.list_view("keep"), replace=True)
    report = imports.run(import_id, dry_run=True)
    counts = report.outcomes[import_id].counts
    assert (counts["would import"], counts["would remove"]) == (3, len(departed))
    assert imports.emails("Active") | imports.emails("Unconfirmed") == departed
    assert imports.record(import_id)["Last_Status__c"] is None
