"""Imports run as their owners: each imports only the records its owner can see.

Contacts are Private; two reps in sibling roles own their own Contacts. The same list
view, report or query imported by each rep's import brings in only that rep's people; a
manager above both brings in everyone's; an owner who is deactivated, or whom cmsf cannot
log in as (no JWT bearer flow), fails that import alone with the reason on its record.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from scenarios.world import engine_for
from tests.cmsf_core.import_support import Imports, make_imports


@pytest.fixture
def imports() -> Iterator[Imports]:
    made = make_imports()
    yield made
    made.close()


@pytest.fixture
def reps(imports: Imports) -> dict[str, str]:
    """East and West reps under a manager; each owns three Contacts ``<rep><n>@...``."""
    org = imports.org
    boss_role = org.sharing.add_role("Sales Manager")
    users = {}
    for name, parent in (("east", boss_role), ("west", boss_role), ("boss", None)):
        role = boss_role if name == "boss" else org.sharing.add_role(name.title(), parent=parent)
        users[name] = org.control.add_user(f"{name}@acme.example.com")
        org.sharing.assign_role(users[name], role)
    for name in ("east", "west"):
        with org.run_as(users[name]):
            imports.contacts(3, f"p{name}")
    org.sharing.set_default("Contact", "Private")
    return users


def _added(imports: Imports, import_id: str) -> set[str]:
    before = imports.emails()
    report = imports.run(import_id)
    assert report.status == "completed", report.reason
    return imports.emails() - before


SOURCES = {
    "ListView": lambda imports: imports.list_view("p"),
    "Report": lambda imports: imports.report("p"),
    "SOQL": lambda imports: "SELECT Email, FirstName, LastName FROM Contact WHERE Email LIKE 'p%'",
}


@pytest.mark.parametrize("source_type", sorted(SOURCES))
def test_two_owners_import_different_rows_from_the_same_source(
    imports: Imports, reps: dict[str, str], source_type: str
) -> None:
    source = SOURCES[source_type](imports)
    east = imports.create(source_type, source, owner=reps["east"], name="East")
    west = imports.create(source_type, source, owner=reps["west"], name="West")
    assert _added(imports, east) == {f"peast{n}@example.org" for n in range(3)}
    assert _added(imports, west) == {f"pwest{n}@example.org" for n in range(3)}
    assert imports.record(east)["Rows_Read__c"] == imports.record(west)["Rows_Read__c"] == 3


def test_a_manager_imports_the_records_of_the_roles_below(
    imports: Imports, reps: dict[str, str]
) -> None:
    boss = imports.create("ListView", imports.list_view("p"), owner=reps["boss"])
    assert len(_added(imports, boss)) == 6


def test_the_sync_user_sees_everything_as_the_admin_it_is(
    imports: Imports, reps: dict[str, str]
) -> None:
    mine = imports.create("ListView", imports.list_view("p"))
    assert len(_added(imports, mine)) == 6


def test_a_deactivated_owner_fails_that_import_alone(
    imports: Imports, reps: dict[str, str]
) -> None:
    source = imports.list_view("p")
    gone = imports.create("ListView", source, owner=reps["west"], name="Gone")
    kept = imports.create("ListView", source, owner=reps["east"], name="Kept")
    imports.org.control.set_user_active(reps["west"], False)
    report = imports.run(gone, kept)
    assert report.status == "completed_with_errors"
    assert imports.record(gone)["Last_Status__c"] == "Failed"
    assert "deactivated" in imports.record(gone)["Last_Error__c"]
    assert imports.record(kept)["Last_Status__c"] == "Completed"
    assert [m.code for m in report.messages if m.severity == "Error"] == ["CMSF-IMPORT-FAILED"]


def test_without_a_way_to_log_in_as_the_owner_the_import_fails_with_the_fix(
    imports: Imports, reps: dict[str, str]
) -> None:
    import_id = imports.create("ListView", imports.list_view("p"), owner=reps["east"])
    imports.engine = engine_for(imports.world, imports.engine.journal, as_user=None)
    report = imports.run(import_id)
    error = imports.record(import_id)["Last_Error__c"]
    assert report.status == "completed_with_errors"
    assert "CMSF_SF_PRIVATE_KEY_FILE" in error and "east@acme.example.com" in error
    assert imports.import_requests() == 0


def test_an_owner_the_connected_app_refuses_fails_that_import_alone(
    imports: Imports, reps: dict[str, str]
) -> None:
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed

    def refused(username: str) -> Any:
        def login() -> Any:
            raise SalesforceAuthenticationFailed(
                "invalid_grant", "user hasn't approved this consumer"
            )

        return login

    source = imports.list_view("p")
    theirs = imports.create("ListView", source, owner=reps["east"], name="Theirs")
    mine = imports.create("ListView", source, name="Mine")
    imports.engine = engine_for(imports.world, imports.engine.journal, as_user=refused)
    report = imports.run(theirs, mine)
    assert report.status == "completed_with_errors"
    assert "could not log in as its owner" in imports.record(theirs)["Last_Error__c"]
    assert imports.record(mine)["Last_Status__c"] == "Completed"
