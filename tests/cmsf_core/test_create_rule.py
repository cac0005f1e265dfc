"""The create rule: unmatched active subscribers become Contacts or Leads, or say why not."""

from __future__ import annotations

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.world import World


def set_rule(world: World, list_id: str, rule: str, company: str | None = None) -> str:
    [row] = world.org.query(f"SELECT Id FROM CMSF_List__c WHERE CM_Id__c = '{list_id}'")
    world.org.update(
        "CMSF_List__c", row["Id"], {"Create_Rule__c": rule, "Lead_Company__c": company}
    )
    return str(row["Id"])


def map_field(world: World, list_sf_id: str, target: str, cm_field: str, sf_field: str) -> None:
    world.org.create(
        "CMSF_Field_Mapping__c",
        {"Name": cm_field, "List__c": list_sf_id, "Object__c": target, "CM_Field__c": cm_field,
         "Salesforce_Field__c": sf_field, "Direction__c": "Campaign Monitor To Salesforce"},
    )  # fmt: skip


def member(world: World, list_id: str, email: str) -> dict[str, object]:
    [row] = world.org.query(
        "SELECT Contact__c, Lead__c, State__c FROM CMSF_List_Member__c "
        f"WHERE CM_Id__c = '{list_id}:{email}'"
    )
    return row


def test_contact_rule_creates_a_linked_contact_with_mapped_fields(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    list_id = world.summary["lists"][0]
    list_sf_id = set_rule(world, list_id, "Contact")
    map_field(world, list_sf_id, "Contact", "[website]", "Description")
    world.account.add_subscriber_at(
        list_id, "ada.new@create.example", "Ada Byron King",
        custom_fields=[{"Key": "website", "Value": "https://ada.example"}],
    )  # fmt: skip
    clock.advance(minutes=5)
    report = engine.sync()
    assert report.messages == []
    [contact] = world.org.query(
        "SELECT Id, FirstName, LastName, Description FROM Contact WHERE Email = 'ada.new@create.example'"
    )
    assert (contact["FirstName"], contact["LastName"]) == ("Ada Byron", "King")
    assert contact["Description"] == "https://ada.example"
    assert member(world, list_id, "ada.new@create.example")["Contact__c"] == contact["Id"]


def test_lead_rule_uses_the_list_company_and_never_duplicates(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    list_id = world.summary["lists"][1]
    set_rule(world, list_id, "Lead", "Acme Pty")
    world.account.add_subscriber_at(list_id, "grace@create.example", "Grace")
    clock.advance(minutes=5)
    engine.sync()
    clock.advance(hours=1)
    engine.sync(full=True)
    leads = world.org.query(
        "SELECT Id, LastName, Company FROM Lead WHERE Email = 'grace@create.example'"
    )
    assert [(lead["LastName"], lead["Company"]) for lead in leads] == [("Grace", "Acme Pty")]
    assert member(world, list_id, "grace@create.example")["Lead__c"] == leads[0]["Id"]


def test_inactive_subscribers_are_not_created(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    list_id = world.summary["lists"][0]
    set_rule(world, list_id, "Contact")
    world.account.add_subscriber_at(list_id, "gone@create.example", "Gone", state="Unsubscribed")
    clock.advance(minutes=5)
    engine.sync()
    assert world.org.query("SELECT Id FROM Contact WHERE Email = 'gone@create.example'") == []


def test_a_field_the_sync_user_cannot_edit_raises_a_message_and_keeps_the_membership(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.sync()
    list_id = world.summary["lists"][0]
    list_sf_id = set_rule(world, list_id, "Contact")
    map_field(world, list_sf_id, "Contact", "[website]", "Title")
    world.org.control.make_read_only("Contact", "Title")
    world.account.add_subscriber_at(
        list_id, "blocked@create.example", "Bo Locked",
        custom_fields=[{"Key": "website", "Value": "https://x.example"}],
    )  # fmt: skip
    clock.advance(minutes=5)
    report = engine.sync()
    assert report.status == "completed"
    [message, waiting] = report.messages
    assert waiting.code == "CMSF-REC-PENDING"  # the create rule is retried every run
    assert (message.code, message.severity, message.job) == (
        "CMSF-REC-CREATE",
        "Error",
        "subscribers",
    )
    assert "Title" in "".join(message.details)
    row = member(world, list_id, "blocked@create.example")
    assert row["State__c"] == "Active" and row["Contact__c"] is None
    stored = world.org.query("SELECT Support_Code__c FROM CMSF_Maintenance_Message__c")
    assert sorted(m["Support_Code__c"] for m in stored) == ["CMSF-REC-CREATE", "CMSF-REC-PENDING"]
    clock.advance(hours=1)
    world.org.control.read_only_fields.clear()
    engine.sync()
    assert member(world, list_id, "blocked@create.example")["Contact__c"] is not None
