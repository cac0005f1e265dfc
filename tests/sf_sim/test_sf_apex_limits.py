from __future__ import annotations

import contextlib

from simple_salesforce.api import Salesforce

from sf_sim import Org, TriggerContext


def test_too_many_soql_queries_in_a_trigger(sf_org: Org) -> None:
    def chatty(ctx: TriggerContext) -> None:
        for _ in range(101):
            ctx.org.query("SELECT Id FROM Account LIMIT 1")

    sf_org.control.add_trigger("Contact", "after insert", chatty, name="ChattyTrigger")
    result = sf_org.insert("Contact", [{"LastName": "Lee"}])[0]
    assert result.errors[0].error_code == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
    assert result.errors[0].message == (
        "ChattyTrigger: execution of AfterInsert caused by: System.LimitException: Too many SOQL queries: 101"
    )
    assert sf_org.count("Contact") == 0


def test_limit_exception_cannot_be_swallowed(sf_org: Org) -> None:
    def sneaky(ctx: TriggerContext) -> None:
        for index in range(151):
            with contextlib.suppress(
                Exception
            ):  # Apex cannot catch a LimitException; neither can this
                ctx.org.create("Task", {"Subject": f"T{index}"})

    sf_org.control.add_trigger("Contact", "after insert", sneaky, name="Sneaky")
    result = sf_org.insert("Contact", [{"LastName": "Lee"}])[0]
    assert "System.LimitException: Too many DML statements: 151" in result.errors[0].message
    assert sf_org.count("Task") == 0


def test_limits_are_shared_by_before_and_after_triggers(sf_org: Org) -> None:
    def sixty(ctx: TriggerContext) -> None:
        for _ in range(60):
            ctx.org.query("SELECT Id FROM Account LIMIT 1")

    sf_org.control.add_trigger("Contact", ["before insert", "after insert"], sixty, name="Twice")
    result = sf_org.insert("Contact", [{"LastName": "Lee"}])[0]
    assert "Too many SOQL queries: 101" in result.errors[0].message


def test_each_api_call_gets_fresh_limits(sf_org: Org, sf_client: Salesforce) -> None:
    def fifty(ctx: TriggerContext) -> None:
        for _ in range(50):
            ctx.org.query("SELECT Id FROM Account LIMIT 1")

    sf_org.control.add_trigger("Contact", "after insert", fifty)
    for index in range(3):
        assert sf_client.Contact.create({"LastName": f"C{index}"})["success"] is True
    assert sf_org.control.apex is None


def test_api_dml_itself_is_not_apex(sf_org: Org) -> None:
    results = sf_org.insert("Contact", [{"LastName": f"C{i}"} for i in range(10_500)])
    assert all(r.success for r in results)
    assert sf_org.count("Contact") == 10_500
