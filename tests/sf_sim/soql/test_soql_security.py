"""Recycle bin (query vs queryAll), field-level security and WITH SECURITY_ENFORCED."""

from __future__ import annotations

import pytest
from conftest import World

from sf_sim.exceptions import QueryError


def _delete(world: World, key: str) -> None:
    world.db.conn.execute('UPDATE "Contact" SET "IsDeleted" = 1 WHERE "Id" = ?', [world[key]])


def test_query_hides_recycle_bin_rows(world: World) -> None:
    _delete(world, "c2")
    assert world.db.query("SELECT Id FROM Contact").total_size == 4
    assert world.db.query("SELECT Id FROM Contact WHERE IsDeleted = true").total_size == 0


def test_query_all_includes_recycle_bin_rows(world: World) -> None:
    _delete(world, "c2")
    rows = world.db.records(
        "SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true", include_deleted=True
    )
    assert rows == [
        {
            "attributes": {
                "type": "Contact",
                "url": f"/services/data/v59.0/sobjects/Contact/{world['c2']}",
            },
            "Id": world["c2"],
            "IsDeleted": True,
        }
    ]


def test_child_subquery_hides_deleted_children(world: World) -> None:
    _delete(world, "c2")
    [acme] = world.db.records("SELECT (SELECT Id FROM Contacts) FROM Account WHERE Name = 'Acme'")
    assert acme["Contacts"]["totalSize"] == 1


def test_objects_without_recycle_bin_are_queryable(world: World) -> None:
    world.db.insert("ApexClass", Name="CMSF_Sync", Body="x", Status="Active", ApiVersion=59.0)
    assert world.db.query("SELECT Id, Name FROM ApexClass").total_size == 1


def hide_email(obj: str, field: str) -> bool:
    return not (obj == "Contact" and field == "Email")


def test_invisible_field_behaves_as_missing(world: World) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query("SELECT Id, Email FROM Contact", field_visible=hide_email)
    assert exc.value.error_code == "INVALID_FIELD"
    assert "No such column 'Email' on entity 'Contact'" in exc.value.message


def test_invisible_field_in_where_and_parent_paths(world: World) -> None:
    for soql in (
        "SELECT Id FROM Contact WHERE Email = 'x'",
        "SELECT Id FROM CampaignMember WHERE Contact.Email = 'x'",
        "SELECT Id, (SELECT Email FROM Contacts) FROM Account",
    ):
        with pytest.raises(QueryError) as exc:
            world.db.query(soql, field_visible=hide_email)
        assert exc.value.error_code == "INVALID_FIELD"


def test_visible_fields_still_work_under_fls(world: World) -> None:
    assert (
        world.db.query("SELECT Id, LastName FROM Contact", field_visible=hide_email).total_size == 5
    )


def test_security_enforced_reports_insufficient_access(world: World) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query(
            "SELECT Id, Email FROM Contact WITH SECURITY_ENFORCED", field_visible=hide_email
        )
    assert exc.value.error_code == "INSUFFICIENT_ACCESS"
    assert exc.value.message == "Insufficient permissions: secure query included inaccessible field"


def test_security_enforced_with_visible_fields_runs(world: World) -> None:
    cursor = world.db.query(
        "SELECT Id FROM Contact WHERE LastName != null WITH SECURITY_ENFORCED",
        field_visible=hide_email,
    )
    assert cursor.total_size == 5


def test_error_messages_carry_no_values_from_the_connection(world: World) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query("SELECT Password FROM User")
    assert "Password" in exc.value.message
    assert "ann@example.com" not in str(exc.value)
