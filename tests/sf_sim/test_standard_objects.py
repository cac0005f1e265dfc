from __future__ import annotations

import pytest

from sf_sim.ids import IdGenerator
from sf_sim.standard_objects import standard_schema


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("Account", "001"),
        ("Contact", "003"),
        ("Lead", "00Q"),
        ("Campaign", "701"),
        ("CampaignMember", "00v"),
        ("CampaignMemberStatus", "01Y"),
        ("Task", "00T"),
        ("User", "005"),
        ("Organization", "00D"),
        ("Group", "00G"),
        ("Profile", "00e"),
        ("RecordType", "012"),
        ("AsyncApexJob", "707"),
        ("CronTrigger", "08e"),
        ("ApexClass", "01p"),
        ("ApexTrigger", "01q"),
        ("PermissionSet", "0PS"),
        ("PermissionSetAssignment", "0Pa"),
        ("CustomNotificationType", "0ML"),
    ],
    ids=lambda v: str(v),
)
def test_standard_object_has_real_key_prefix(name: str, prefix: str) -> None:
    schema = standard_schema()
    definition = schema.object(name.upper())
    assert definition is not None
    assert definition.name == name
    assert definition.key_prefix == prefix
    assert schema.by_key_prefix(prefix) is definition
    assert IdGenerator().next(prefix).startswith(prefix)


@pytest.mark.parametrize(
    ("parent", "relationship", "child", "field"),
    [
        ("Account", "Contacts", "Contact", "AccountId"),
        ("Campaign", "CampaignMembers", "CampaignMember", "CampaignId"),
        ("Contact", "CampaignMembers", "CampaignMember", "ContactId"),
        ("Lead", "CampaignMembers", "CampaignMember", "LeadId"),
        ("Contact", "Tasks", "Task", "WhoId"),
        ("Lead", "Tasks", "Task", "WhoId"),
        ("Account", "Tasks", "Task", "WhatId"),
        ("PermissionSet", "Assignments", "PermissionSetAssignment", "PermissionSetId"),
        ("Profile", "Users", "User", "ProfileId"),
    ],
    ids=lambda v: str(v),
)
def test_child_relationships_are_wired(
    parent: str, relationship: str, child: str, field: str
) -> None:
    found = standard_schema().object(parent).child_relationship(relationship.lower())  # type: ignore[union-attr]
    assert found is not None
    assert (found.name, found.child_object, found.field) == (relationship, child, field)


def test_lead_owner_is_polymorphic_user_or_queue() -> None:
    owner = standard_schema().object("Lead").field("ownerid")  # type: ignore[union-attr]
    assert owner is not None
    assert owner.relationship_name == "Owner"
    assert set(owner.reference_to) == {"User", "Group"}


def test_contact_email_and_name_attributes_match_the_platform() -> None:
    contact = standard_schema().object("Contact")
    assert contact is not None
    email = contact.field("Email")
    last = contact.field("LastName")
    name = contact.field("Name")
    assert email is not None and (email.type, email.length) == ("email", 80)
    assert last is not None and last.required and not last.nillable
    assert name is not None and not name.createable and not name.updateable


def test_campaign_member_has_responded_is_read_only() -> None:
    member = standard_schema().object("CampaignMember")
    assert member is not None
    responded = member.field("HasResponded")
    assert responded is not None and not responded.createable and not responded.updateable


def test_each_call_returns_independent_definitions() -> None:
    first, second = standard_schema(), standard_schema()
    assert first.object("Contact") is not second.object("Contact")


def test_audit_fields_are_present_and_read_only() -> None:
    for definition in standard_schema():
        for name in ("Id", "CreatedDate", "SystemModstamp"):
            if definition.name == "CronJobDetail" and name != "Id":
                continue
            found = definition.field(name)
            assert found is not None, (definition.name, name)
            assert not found.createable and not found.updateable
