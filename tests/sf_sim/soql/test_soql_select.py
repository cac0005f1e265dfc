"""Field lists: canonical casing, parent paths, polymorphic owners, the REST record shape."""

from __future__ import annotations

import pytest
from conftest import OrgDb, World

from sf_sim.exceptions import QueryError


def test_record_has_attributes_and_only_selected_fields(world: World) -> None:
    [record] = world.db.records(f"SELECT Email FROM Contact WHERE Id = '{world['c1']}'")
    assert record == {
        "attributes": {
            "type": "Contact",
            "url": f"/services/data/v59.0/sobjects/Contact/{world['c1']}",
        },
        "Email": "ada@acme.com",
    }


def test_keys_use_canonical_casing_whatever_the_query_spelled(world: World) -> None:
    cursor = world.db.query(
        f"select ID, EMAIL, account.NAME from CONTACT where id = '{world['c1']}'"
    )
    [record] = cursor.fetch(10)
    assert cursor.object_name == "Contact"
    assert cursor.columns == ["Id", "Email", "Account.Name"]
    assert list(record) == ["attributes", "Id", "Email", "Account"]
    assert record["Account"]["Name"] == "Acme"


def test_api_version_shapes_the_url(world: World) -> None:
    [record] = world.db.records(
        f"SELECT Id FROM Contact WHERE Id = '{world['c1']}'", api_version="61.0"
    )
    assert record["attributes"]["url"].startswith("/services/data/v61.0/sobjects/Contact/")


def test_parent_path_nests_records_with_their_own_attributes(world: World) -> None:
    [record] = world.db.records(
        f"SELECT Account.Name, Account.Owner.Email FROM Contact WHERE Id = '{world['c3']}'"
    )
    assert record["Account"] == {
        "attributes": {
            "type": "Account",
            "url": f"/services/data/v59.0/sobjects/Account/{world['globex']}",
        },
        "Name": "Globex",
        "Owner": {
            "attributes": {
                "type": "User",
                "url": f"/services/data/v59.0/sobjects/User/{world['bob']}",
            },
            "Email": "bob@example.com",
        },
    }


def test_empty_lookup_is_null(world: World) -> None:
    [record] = world.db.records(
        f"SELECT Account.Name, Account.Owner.Name FROM Contact WHERE Id = '{world['c4']}'"
    )
    assert record["Account"] is None


def test_five_relationship_levels_resolve(world: World) -> None:
    soql = (
        "SELECT Account.Parent.Owner.Profile.CreatedBy.Name FROM Contact "
        f"WHERE Id = '{world['c3']}'"
    )
    [record] = world.db.records(soql)
    assert record["Account"]["Parent"]["Owner"]["Profile"]["CreatedBy"] is None


def test_six_relationship_levels_are_refused(world: World) -> None:
    soql = "SELECT Account.Parent.Owner.Profile.CreatedBy.Profile.Name FROM Contact"
    with pytest.raises(QueryError) as exc:
        world.db.query(soql)
    assert exc.value.error_code == "MALFORMED_QUERY"
    assert "more than 5 levels" in exc.value.message


def test_polymorphic_owner_reports_the_matching_type(world: World) -> None:
    records = world.db.records(
        "SELECT LastName, Owner.Name, Owner.Email FROM Lead ORDER BY LastName"
    )
    owned, queued = records
    assert owned["Owner"]["attributes"]["type"] == "User"
    assert owned["Owner"]["Name"] == "Ann Lee"
    assert queued["Owner"]["attributes"]["type"] == "Group"
    assert queued["Owner"] == {
        "attributes": {
            "type": "Group",
            "url": f"/services/data/v59.0/sobjects/Group/{world['queue']}",
        },
        "Name": "Web Leads",
        "Email": "queue@example.com",
    }


def test_polymorphic_field_missing_on_a_target_reads_null_there(world: World) -> None:
    records = world.db.records("SELECT Owner.Username FROM Lead ORDER BY LastName")
    assert [r["Owner"].get("Username") for r in records] == ["ann@example.com", None]


def test_unknown_field_on_polymorphic_owner_names_the_name_entity(world: World) -> None:
    with pytest.raises(QueryError) as exc:
        world.db.query("SELECT Owner.Bogus FROM Lead")
    assert exc.value.error_code == "INVALID_FIELD"
    assert "No such column 'Bogus' on entity 'Name'" in exc.value.message


def test_object_name_prefix_is_accepted(world: World) -> None:
    records = world.db.records("SELECT Contact.LastName FROM Contact ORDER BY LastName LIMIT 1")
    assert records[0]["LastName"] == "Dijkstra"


def test_values_come_back_typed(world: World) -> None:
    [lead] = world.db.records(
        "SELECT AnnualRevenue, IsConverted, CreatedDate, NumberOfEmployees FROM Lead "
        "WHERE LastName = 'Queue'"
    )
    assert lead["AnnualRevenue"] == 1000.5
    assert lead["IsConverted"] is None or lead["IsConverted"] is False
    assert lead["CreatedDate"] == "2024-03-15T12:00:00.000+0000"
    assert lead["NumberOfEmployees"] is None
    [contact] = world.db.records(
        f"SELECT HasOptedOutOfEmail FROM Contact WHERE Id = '{world['c2']}'"
    )
    assert contact["HasOptedOutOfEmail"] is True


def test_unknown_object_is_invalid_type_with_platform_message(db: OrgDb) -> None:
    with pytest.raises(QueryError) as exc:
        db.query("SELECT Id FROM Foo")
    assert exc.value.error_code == "INVALID_TYPE"
    assert exc.value.message == (
        "\nSELECT Id FROM Foo\n               ^\nERROR at Row:1:Column:16\n"
        "sObject type 'Foo' is not supported. If you are attempting to use a custom object, "
        "be sure to append the '__c' after the entity name. Please reference your WSDL or "
        "the describe call for the appropriate names."
    )


def test_unknown_field_is_invalid_field_with_platform_message(db: OrgDb) -> None:
    with pytest.raises(QueryError) as exc:
        db.query("SELECT Id, Nme FROM Contact")
    assert exc.value.error_code == "INVALID_FIELD"
    assert exc.value.message == (
        "\nSELECT Id, Nme FROM Contact\n           ^\nERROR at Row:1:Column:12\n"
        "No such column 'Nme' on entity 'Contact'. If you are attempting to use a custom "
        "field, be sure to append the '__c' after the custom field name. Please reference "
        "your WSDL or the describe call for the appropriate names."
    )


def test_long_query_error_quotes_only_the_neighbourhood(db: OrgDb) -> None:
    fields = ", ".join(f"Field{n}__c" for n in range(3))
    soql = f"SELECT Id, FirstName, LastName, Email, Phone, Title, {fields} FROM Contact"
    with pytest.raises(QueryError) as exc:
        db.query(soql)
    fragment, caret = exc.value.message.split("\n")[1:3]
    assert fragment == "LastName, Email, Phone, Title, Field0__c, Field1__c, Field2__c"
    assert fragment[caret.index("^") :].startswith("Field0__c")


def test_unknown_relationship_is_invalid_field(db: OrgDb) -> None:
    with pytest.raises(QueryError) as exc:
        db.query("SELECT Acount.Name FROM Contact")
    assert exc.value.error_code == "INVALID_FIELD"
    assert "Didn't understand relationship 'Acount' in field path" in exc.value.message


def test_reference_field_used_as_relationship_is_refused(db: OrgDb) -> None:
    with pytest.raises(QueryError) as exc:
        db.query("SELECT AccountId.Name FROM Contact")
    assert exc.value.error_code == "INVALID_FIELD"


def test_relationship_name_alone_is_not_a_field(db: OrgDb) -> None:
    with pytest.raises(QueryError) as exc:
        db.query("SELECT Account FROM Contact")
    assert exc.value.error_code == "INVALID_FIELD"


def test_duplicate_field_is_malformed(db: OrgDb) -> None:
    with pytest.raises(QueryError) as exc:
        db.query("SELECT Id, Name, id FROM Contact")
    assert exc.value.error_code == "MALFORMED_QUERY"
    assert exc.value.message.endswith("duplicate field selected: Id")


def test_alias_in_record_query_is_malformed(db: OrgDb) -> None:
    with pytest.raises(QueryError) as exc:
        db.query("SELECT Name n FROM Contact")
    assert exc.value.error_code == "MALFORMED_QUERY"


def test_for_view_for_update_and_using_scope_are_accepted(world: World) -> None:
    for suffix in ("FOR VIEW", "FOR REFERENCE", "FOR UPDATE"):
        assert world.db.query(f"SELECT Id FROM Contact {suffix}").total_size == 5
    assert world.db.query("SELECT Id FROM Contact USING SCOPE Everything").total_size == 5


def test_hostile_string_is_bound_not_spliced(world: World) -> None:
    soql = "SELECT Id FROM Contact WHERE Name = 'x'' OR 1=1 --'"
    with pytest.raises(QueryError):
        world.db.query(soql)
    soql = "SELECT Id FROM Contact WHERE Name = 'x\\' OR Name != \\'y'"
    assert world.db.query(soql).total_size == 0
