from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceMalformedRequest

from cmsf_core.clock import VirtualClock
from sf_sim import Org, RecordError, TriggerContext
from sf_sim.identity import SandboxContext


def test_before_trigger_changes_records_in_the_transaction(
    sf_org: Org, sf_client: Salesforce
) -> None:
    def upper(ctx: TriggerContext) -> None:
        for record in ctx.new:
            record["LastName"] = str(record["LastName"]).upper()

    sf_org.control.add_trigger("Contact", "before insert", upper)
    created = sf_client.Contact.create({"LastName": "lee"})
    assert sf_org.get("Contact", created["id"])["LastName"] == "LEE"


def test_after_trigger_dml_rolls_back_with_its_record(sf_org: Org) -> None:
    def audit(ctx: TriggerContext) -> None:
        ctx.org.create(
            "Task", {"Subject": f"Created {ctx.new[0]['Id']}", "WhoId": ctx.new[0]["Id"]}
        )
        if ctx.new[0]["LastName"] == "Fail":
            ctx.add_error(0, "No failures allowed")

    sf_org.control.add_trigger("Contact", ["after insert"], audit, name="ContactAudit")
    sf_org.create("Contact", {"LastName": "Ok"})
    with pytest.raises(RecordError) as exc:
        sf_org.create("Contact", {"LastName": "Fail"})
    assert exc.value.error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert sf_org.count("Contact") == 1 and sf_org.count("Task") == 1


def test_trigger_exception_becomes_activate_entity_error(
    sf_org: Org, sf_client: Salesforce
) -> None:
    def broken(ctx: TriggerContext) -> None:
        raise ZeroDivisionError("division by zero")

    sf_org.control.add_trigger("Contact", "after update", broken, name="ContactSync")
    created = sf_client.Contact.create({"LastName": "Lee"})
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.Contact.update(created["id"], {"LastName": "Changed"})
    error = exc.value.content[0]
    assert error["errorCode"] == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
    assert (
        error["message"]
        == "ContactSync: execution of AfterUpdate caused by: ZeroDivisionError: division by zero"
    )
    assert sf_org.get("Contact", created["id"])["LastName"] == "Lee"


def test_partial_save_retries_without_the_failing_record(sf_org: Org) -> None:
    calls: list[int] = []

    def picky(ctx: TriggerContext) -> None:
        calls.append(len(ctx.new))
        for index, record in enumerate(ctx.new):
            if record["LastName"] == "Bad":
                ctx.add_error(index, "bad name")

    sf_org.control.add_trigger("Contact", "after insert", picky)
    results = sf_org.insert("Contact", [{"LastName": "A"}, {"LastName": "Bad"}, {"LastName": "C"}])
    assert [r.success for r in results] == [True, False, True]
    assert calls == [3, 2] and sf_org.count("Contact") == 2


def test_delete_trigger_sees_old_records(sf_org: Org) -> None:
    seen: list[str] = []
    sf_org.control.add_trigger(
        "Contact", "before delete", lambda ctx: seen.extend(r["LastName"] for r in ctx.old if r)
    )
    sf_org.delete(sf_org.create("Contact", {"LastName": "Gone"}))
    assert seen == ["Gone"]


def test_unknown_trigger_event_is_refused(sf_org: Org) -> None:
    with pytest.raises(ValueError, match="events must be among"):
        sf_org.control.add_trigger("Contact", "during insert", lambda ctx: None)


def test_validation_rule_blocks_record(sf_org: Org, sf_client: Salesforce) -> None:
    sf_org.control.add_validation_rule(
        "Contact",
        "EmailRequired",
        lambda new, old: None if new.get("Email") else "Email is required",
        field_name="Email",
    )
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.Contact.create({"LastName": "Lee"})
    assert exc.value.content[0] == {
        "message": "Email is required",
        "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "fields": ["Email"],
    }
    assert sf_org.count("Contact") == 0


def test_lock_for_n_attempts(sf_org: Org, sf_client: Salesforce) -> None:
    contact = sf_org.create("Contact", {"LastName": "Lee"})
    sf_org.control.lock(records=[contact], attempts=2)
    for _ in range(2):
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf_client.Contact.update(contact, {"LastName": "X"})
        assert exc.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
        assert contact in exc.value.content[0]["message"]
    assert sf_client.Contact.update(contact, {"LastName": "X"}) == 204


def test_object_lock_for_a_time_window(clock: VirtualClock) -> None:
    org = Org(clock=clock)
    contact = org.create("Contact", {"LastName": "Lee"})
    org.control.lock(object_name="Contact", until=clock.now().replace(minute=10))
    results = org.delete([contact])
    assert results[0].errors[0].error_code == "UNABLE_TO_LOCK_ROW"
    clock.advance(minutes=10)
    assert org.delete([contact])[0].success


def test_read_only_field_and_object_permissions(sf_org: Org, sf_client: Salesforce) -> None:
    sf_org.control.make_read_only("Contact", "Email")
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.Contact.create({"LastName": "Lee", "Email": "lee@example.com"})
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    sf_org.control.set_object_permissions("Lead", create=False)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.Lead.create({"LastName": "L", "Company": "C"})
    assert exc.value.content[0]["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"


def test_hidden_field_does_not_exist_for_dml(sf_org: Org, sf_client: Salesforce) -> None:
    sf_org.control.hide_field("Contact", "Email")
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf_client.Contact.create({"LastName": "Lee", "Email": "lee@example.com"})
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_storage_limit_is_enforced(sf_org: Org) -> None:
    sf_org.control.storage_limit_mb = 1
    used = sf_org.control.storage_used_bytes()
    room = (1024 * 1024 - used) // 2048
    assert all(
        r.success for r in sf_org.insert("Contact", [{"LastName": f"C{i}"} for i in range(room)])
    )
    result = sf_org.insert("Contact", [{"LastName": "Overflow"}])[0]
    assert result.errors[0].error_code == "STORAGE_LIMIT_EXCEEDED"
    assert sf_org.limits.to_api()["DataStorageMB"]["Max"] == 1


def test_campaign_costs_8kb_and_members_1kb(sf_org: Org) -> None:
    base = sf_org.control.storage_used_bytes()
    campaign = sf_org.create("Campaign", {"Name": "C"})
    contact = sf_org.create("Contact", {"LastName": "L"})
    sf_org.create("CampaignMember", {"CampaignId": campaign, "ContactId": contact})
    assert sf_org.control.storage_used_bytes() - base == 8192 + 2048 + 1024


def test_sandbox_refresh_copies_data_and_changes_identity(sf_org: Org) -> None:
    contact = sf_org.create("Contact", {"LastName": "Lee", "Email": "lee@customer.example.com"})
    seen: list[SandboxContext] = []

    def post_copy(sandbox: Org, context: SandboxContext) -> None:
        seen.append(context)
        sandbox.create("Account", {"Name": "made by post-copy"})

    sandbox = sf_org.refresh_sandbox("uat", post_copy=post_copy)
    assert sandbox.org_id != sf_org.org_id and sandbox.org_id.startswith("00D")
    assert (
        sandbox.is_sandbox
        and sandbox.get("Contact", contact)["Email"] == "lee@customer.example.com"
    )
    organization = sandbox.query("SELECT Id, IsSandbox FROM Organization")[0]
    assert organization == {**organization, "Id": sandbox.org_id, "IsSandbox": True}
    users = {u["UserType"]: u for u in sandbox.query("SELECT Username, Email, UserType FROM User")}
    assert users["Standard"]["Username"].endswith(".uat") and not users["Standard"][
        "Email"
    ].endswith(".invalid")
    assert users["AutomatedProcess"]["Email"].endswith(".invalid")
    assert seen[0].organization_id == sandbox.org_id and seen[0].sandbox_name == "uat"
    assert sandbox.instance_url == "https://acme--uat.sandbox.my.salesforce.com"
    assert sandbox.count("Account") == 1 and sf_org.count("Account") == 0
    assert sandbox.limits.daily_limit == 5_000_000
    with sandbox.activate() as sf:
        assert sf.is_sandbox() is True


def test_outbox_records_the_standard_email_action(sf_org: Org, sf_client: Salesforce) -> None:
    inputs: dict[str, Any] = {
        "inputs": [
            {
                "emailAddresses": "a@example.com, b@example.com",
                "emailSubject": "Hi",
                "emailBody": "Body",
            },
            {"emailSubject": "x"},
        ]
    }
    results = sf_client.restful("actions/standard/emailSimple", method="POST", json=inputs)
    assert [r["isSuccess"] for r in results] == [True, False]
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf_org.control.outbox == [
        {
            "at": sf_org.control.outbox[0]["at"],
            "to": ["a@example.com", "b@example.com"],
            "subject": "Hi",
            "body": "Body",
            "delivered": True,
        }
    ]


def test_request_log_has_method_path_status_and_cost(sf_org: Org, sf_client: Salesforce) -> None:
    sf_client.query("SELECT Id FROM Contact")
    entry = sf_org.control.request_log[-1]
    assert (entry.method, entry.path, entry.status, entry.cost) == (
        "GET",
        "/services/data/v59.0/query/",
        200,
        1,
    )
    assert entry.at.endswith("+0000")


def test_request_log_names_the_object_each_write_concerns(
    sf_org: Org, sf_client: Salesforce
) -> None:
    first = sf_client.Contact.create({"LastName": "Row"})["id"]
    records = [{"attributes": {"type": "Lead"}, "LastName": "L", "Company": "C"}]
    created = sf_client.restful("composite/sobjects", method="POST", json={"records": records})
    sf_client.restful("composite/sobjects", method="DELETE", params={"ids": created[0]["id"]})
    sf_client.bulk2.Contact.insert(records=[{"LastName": "Bulk"}], wait=0)
    sf_client.Contact.update(first, {"LastName": "Row2"})
    writes = [(e.method, e.sobject) for e in sf_org.control.request_log if e.method != "GET"]
    assert ("POST", "Contact") in writes and ("POST", "Lead") in writes
    assert ("DELETE", "Lead") in writes and writes[-1] == ("PATCH", "Contact")
    ingest = [e for e in sf_org.control.request_log if e.path.endswith("/jobs/ingest")]
    assert [(e.method, e.sobject) for e in ingest] == [("POST", "Contact")]
    assert all(e.sobject is None for e in sf_org.control.request_log if e.method == "GET")


def test_reset_clears_hooks(sf_org: Org) -> None:
    sf_org.control.add_trigger("Contact", "before insert", lambda ctx: None)
    sf_org.control.hide_field("Contact", "Email")
    sf_org.reset()
    assert sf_org.control.triggers == [] and sf_org.control.field_visible("Contact", "Email")


def test_added_user_can_log_in_and_owns_what_it_creates(sf_org: Org) -> None:
    user_id = sf_org.control.add_user(
        "sync@acme.example.com", last_name="Sync", password="pw-1", security_token="tok"
    )
    sf = Salesforce(
        username="sync@acme.example.com",
        password="pw-1",
        security_token="tok",
        session=sf_org.session(),
    )
    created = sf.Contact.create({"LastName": "Owned"})
    record = sf_org.get("Contact", created["id"])
    assert record["OwnerId"] == record["CreatedById"] == user_id
    with pytest.raises(ValueError, match="unknown profile"):
        sf_org.control.add_user("x@acme.example.com", profile="Wizard")


def test_expire_sessions_forces_a_new_login(sf_org: Org) -> None:
    sf = sf_org.client()
    old = sf.session_id
    sf_org.control.expire_sessions()
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    assert sf.session_id != old


@pytest.mark.parametrize(
    ("status", "code"),
    [(503, "SERVER_UNAVAILABLE"), (500, "UNKNOWN_EXCEPTION")],
    ids=["503", "500"],
)
def test_unavailable_answers_server_errors_for_n_requests(
    sf_org: Org, sf_client: Salesforce, status: int, code: str
) -> None:
    sf_org.control.unavailable(status=status, requests=2)
    used = sf_org.limits.used()
    for _ in range(2):
        with pytest.raises(SalesforceError) as exc:
            sf_client.Contact.create({"LastName": "Down"})
        assert exc.value.status == status
        assert exc.value.content[0]["errorCode"] == code
    assert sf_org.count("Contact") == 0 and sf_org.limits.used() == used  # nothing done or charged
    sf_client.Contact.create({"LastName": "Up"})
    assert sf_org.count("Contact") == 1
    assert [e.status for e in list(sf_org.control.request_log)[-3:]] == [status, status, 201]


def test_unavailable_until_an_instant(clock: VirtualClock) -> None:
    org = Org(clock=clock)
    with org.activate() as sf:
        org.control.unavailable(until=clock.now() + timedelta(minutes=5))
        with pytest.raises(SalesforceError):
            sf.query("SELECT Id FROM Contact")
        clock.advance(minutes=5)
        assert sf.query("SELECT Id FROM Contact")["totalSize"] == 0
    org.close()


@pytest.mark.parametrize(
    ("status", "requests", "until"),
    [(502, 1, None), (503, None, None), (503, 0, None)],
    ids=["unmodelled-status", "no-end", "zero-requests"],
)
def test_unavailable_refuses_what_it_cannot_model(
    sf_org: Org, status: int, requests: int | None, until: Any
) -> None:
    with pytest.raises(ValueError):
        sf_org.control.unavailable(status=status, requests=requests, until=until)


def test_triggers_are_removed_by_name(sf_org: Org) -> None:
    def block(ctx: TriggerContext) -> None:
        for index in range(len(ctx.new)):
            ctx.add_error(index, "blocked")

    sf_org.control.add_trigger("Contact", "before insert", block, name="Blocker")
    sf_org.control.add_trigger("Lead", "before insert", block, name="Blocker")
    with pytest.raises(RecordError):
        sf_org.create("Contact", {"LastName": "Held"})
    assert sf_org.control.remove_trigger("blocker", "Contact") is True
    assert sf_org.control.remove_trigger("Blocker", "Contact") is False  # already gone
    sf_org.create("Contact", {"LastName": "Free"})
    with pytest.raises(RecordError):
        sf_org.create("Lead", {"LastName": "Held", "Company": "Acme"})
    assert sf_org.control.remove_trigger("Blocker") is True
    sf_org.create("Lead", {"LastName": "Free", "Company": "Acme"})
