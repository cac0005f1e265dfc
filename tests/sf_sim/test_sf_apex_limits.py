from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
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


def test_declared_cpu_per_record_breaks_the_cpu_limit_of_a_big_batch(sf_org: Org) -> None:
    sf_org.control.add_trigger(
        "Contact", "before insert", lambda ctx: None, name="Scoring", cpu_ms_per_record=60
    )
    big = sf_org.insert("Contact", [{"LastName": f"B{i}"} for i in range(200)])
    assert big[0].errors[0].message == (
        "Scoring: execution of BeforeInsert caused by: System.LimitException: "
        "Apex CPU time limit exceeded"
    )
    small = sf_org.insert("Contact", [{"LastName": f"S{i}"} for i in range(150)])
    assert all(r.success for r in small)


def test_declared_heap_per_record_breaks_the_heap_limit(sf_org: Org) -> None:
    sf_org.control.add_trigger(
        "Contact", "after insert", lambda ctx: None, name="Snapshot", heap_per_record=40_000
    )
    big = sf_org.insert("Contact", [{"LastName": f"B{i}"} for i in range(200)])
    assert big[0].errors[0].message == (
        "Snapshot: execution of AfterInsert caused by: System.LimitException: "
        "Apex heap size too large: 8000000"
    )
    assert all(r.success for r in sf_org.insert("Contact", [{"LastName": "S"}] * 100))


def test_a_trigger_can_declare_what_it_used(sf_org: Org) -> None:
    def measured(ctx: TriggerContext) -> None:
        ctx.use_cpu(4_000)
        ctx.use_heap(1024)

    sf_org.control.add_trigger("Contact", ["before insert", "after insert"], measured)
    result = sf_org.insert("Contact", [{"LastName": "Lee"}])[0]
    assert result.success  # 8,000 of 10,000 ms
    sf_org.control.add_trigger("Contact", "after insert", measured, name="Third")
    again = sf_org.insert("Contact", [{"LastName": "Lee"}])[0]
    assert again.errors[0].message.endswith("System.LimitException: Apex CPU time limit exceeded")


def test_negative_costs_are_refused(sf_org: Org) -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        sf_org.control.add_trigger(
            "Contact", "after insert", lambda ctx: None, cpu_ms_per_record=-1
        )


def test_an_upsert_call_is_one_transaction_for_inserts_and_updates(
    sf_org: Org, metadata_dir: Path
) -> None:
    org = Org(metadata=[metadata_dir])
    org.insert(
        "Contact", [{"LastName": f"Old{i}", "CMSF_Subscriber_Key__c": f"k{i}"} for i in range(60)]
    )

    def chatty(ctx: TriggerContext) -> None:
        for _ in ctx.new:
            ctx.org.query("SELECT Id FROM Account LIMIT 1")

    org.control.add_trigger("Contact", ["before insert", "before update"], chatty, name="Chatty")
    with org.activate() as sf:
        body = sf.restful(
            "composite/sobjects/Contact/CMSF_Subscriber_Key__c",
            method="PATCH",
            json={
                "allOrNone": False,
                "records": [
                    {
                        "attributes": {"type": "Contact"},
                        "LastName": f"N{i}",
                        "CMSF_Subscriber_Key__c": f"k{i}",
                    }
                    for i in range(120)
                ],
            },
        )
    assert not any(row["success"] for row in body)
    assert "Too many SOQL queries: 101" in body[-1]["errors"][0]["message"]
    assert org.count("Contact") == 60  # the inserts were rolled back with the updates


def test_each_bulk_chunk_of_200_is_a_transaction_with_the_higher_limits(
    sf_org: Org, sf_client: Salesforce
) -> None:
    def chatty(ctx: TriggerContext) -> None:
        for _ in ctx.new:
            ctx.org.query("SELECT Id FROM Account LIMIT 1")

    sf_org.control.add_trigger("Contact", "before insert", chatty, name="Chatty")
    collection = sf_org.insert("Contact", [{"LastName": f"C{i}"} for i in range(150)])
    assert not any(r.success for r in collection)
    results = sf_client.bulk2.Contact.insert(
        records=[{"LastName": f"B{i}"} for i in range(1_000)], wait=0
    )
    assert results[0]["numberRecordsFailed"] == 0
    assert sf_org.count("Contact") == 1_000


def test_queueables_per_record_fail_a_bulk_chunk_past_fifty(
    sf_org: Org, sf_client: Salesforce
) -> None:
    def per_record(ctx: TriggerContext) -> None:
        for _ in ctx.new:
            ctx.org.apex.enqueue_job("Notify", lambda inner: None)

    sf_org.control.add_trigger("Contact", "after insert", per_record, name="NotifyTrigger")
    results = sf_client.bulk2.Contact.insert(
        records=[{"LastName": f"B{i}"} for i in range(250)], wait=0
    )
    assert results[0]["numberRecordsFailed"] == 200  # the first chunk; the last 50 fit
    failed = sf_client.bulk2.Contact.get_failed_records(results[0]["job_id"])
    assert "Too many queueable jobs added to the queue: 51" in failed
    assert sf_org.count("Contact") == 50


def test_a_bulk_1_batch_runs_its_triggers_per_chunk_of_200(
    sf_org: Org, sf_client: Salesforce
) -> None:
    def chatty(ctx: TriggerContext) -> None:
        for _ in ctx.new:
            ctx.org.query("SELECT Id FROM Account LIMIT 1")

    sf_org.control.add_trigger("Contact", "before insert", chatty, name="Chatty")
    results = sf_client.bulk.Contact.insert([{"LastName": f"B{i}"} for i in range(450)])
    assert all(r["success"] for r in results)
    assert sf_org.count("Contact") == 450
