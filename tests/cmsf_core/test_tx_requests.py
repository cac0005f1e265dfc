"""Requests that cannot be sent fail with the reason on the item and a message; others still go."""

from __future__ import annotations

from typing import Any

import httpx

from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.engine import Engine
from tests.cmsf_core.tx_support import Tx


def _errors(tx: Tx) -> dict[str, str]:
    return {r["Record_Id__c"]: r["Error__c"] for r in tx.items() if r["Status__c"] == "Failed"}


def test_bad_requests_fail_with_their_reason_and_good_ones_in_the_batch_go(tx: Tx) -> None:
    tx.org.update("Contact", tx.ids["bo"], {"Email": None})
    gone = tx.org.insert("Contact", [{"LastName": "Gone", "Email": "gone@tx.example"}])[0].id
    tx.org.delete(str(gone))
    inactive = tx.mapping("Paused", Active__c=False, Variable_Map__c={})
    tx.request([tx.ids["ada"], tx.ids["bo"], tx.ids["lead"], "not-an-id", str(gone)])
    tx.request([tx.ids["ada"]], mapping=inactive)
    tx.org.insert("CMSF_Queue_Item__c", [{"Type__c": "Smart Email", "Record_Id__c": tx.ids["ada"]}])
    report = tx.send()
    assert [m["Recipient"] for m in tx.messages()] == ["ada@tx.example"]
    failed = [(r["Record_Id__c"], r["Error__c"]) for r in tx.items() if r["Status__c"] == "Failed"]
    assert failed == [
        (tx.ids["bo"], f"record {tx.ids['bo']}: the record has no address in Email"),
        (tx.ids["lead"], f"Record_Id__c {tx.ids['lead']} is not a Contact record"),
        ("not-an-id", "Record_Id__c 'not-an-id' is not a Salesforce record Id"),
        (str(gone), f"record {gone} does not exist (deleted?)"),
        (tx.ids["ada"], "mapping 'Paused' is inactive"),
        (tx.ids["ada"], "no smart email mapping is given (Smart_Email_Mapping__c)"),
    ]
    (message,) = [m for m in report.messages if m.code == "CMSF-TX-REQUEST"]
    assert message.summary == "6 smart email request(s) cannot be sent"
    assert message.severity == "Warning"
    assert "ada@tx.example" not in message.detail and "bo@tx.example" not in message.detail


def test_a_broken_mapping_is_a_message_naming_it_and_its_items_fail(tx: Tx) -> None:
    broken = tx.mapping("Typo", Variable_Map__c={"firstname": "FirstNme"})
    tx.request([tx.ids["ada"], tx.ids["bo"]], mapping=broken)
    report = tx.send()
    (message,) = [m for m in report.messages if m.code == "CMSF-TX-MAPPING"]
    assert message.summary == "Smart email mapping 'Typo' cannot send"
    assert "variable 'firstname': 'FirstNme': Contact has no field FirstNme" in message.detail
    assert set(_errors(tx).values()) == {
        "mapping 'Typo' cannot send: variable 'firstname': 'FirstNme': Contact has no field FirstNme"
    }
    assert tx.messages() == []


def test_lead_and_account_roots_record_tasks_on_who_and_what(tx: Tx) -> None:
    lead = tx.mapping("Lead note", Root_Object__c="Lead", Variable_Map__c={"company": "Company"})
    account = tx.mapping(
        "Account note", Root_Object__c="Account", Recipient_Field__c="Owner.Email",
        Variable_Map__c={"company": "Name"},
    )  # fmt: skip
    tx.request([tx.ids["lead"]], mapping=lead)
    tx.request([tx.ids["account"]], mapping=account)
    tx.send()
    by_recipient = {m["Recipient"]: tx.data(m["MessageID"]) for m in tx.messages()}
    owner = tx.org.query("SELECT Email FROM User WHERE Id IN (SELECT OwnerId FROM Account)")[0]
    assert by_recipient["lee@tx.example"]["company"] == "Lee Co"
    assert by_recipient[owner["Email"]]["company"] == "Acme Pty"
    links = {(t["WhoId"], t["WhatId"]) for t in tx.tasks()}
    assert links == {(tx.ids["lead"], None), (None, tx.ids["account"])}


def test_no_task_when_the_mapping_does_not_ask_for_one(tx: Tx) -> None:
    quiet = tx.mapping("No task", Create_Task__c=False, Variable_Map__c={"firstname": "FirstName"})
    tx.request([tx.ids["ada"]], mapping=quiet)
    tx.send()
    assert len(tx.messages()) == 1 and tx.tasks() == []


def test_campaign_monitor_refusing_a_smart_email_fails_its_items_without_more_calls(tx: Tx) -> None:
    # The smart email was made a draft in Campaign Monitor after the last sync.
    tx.account.store.execute("UPDATE smart_emails SET status = 'Draft'")
    others = tx.org.insert(
        "Contact", [{"LastName": f"R{n}", "Email": f"r{n}@tx.example"} for n in range(3)]
    )
    tx.request([tx.ids["ada"], *(str(o.id) for o in others)])
    before = tx.account.api_call_count("/send", method="POST")
    # (the primary sync itself would find the draft first: send through a session instead)
    session = tx.engine.send_session("send")
    outcomes = session.drain()
    assert tx.account.api_call_count("/send", method="POST") - before == 1
    assert {o.status for o in outcomes} == {"failed"}
    assert {o.reason for o in outcomes} == {
        "Campaign Monitor refused the send: Smart email is not active (Code 926)"
    }
    assert session.log is not None
    assert [m.code for m in session.log.messages] == ["CMSF-TX-REFUSED"]


def test_consent_to_track_is_sent_as_the_record_and_mapping_say(tx: Tx) -> None:
    bodies: list[dict[str, Any]] = []

    class Recording(httpx.BaseTransport):
        def __init__(self, inner: httpx.BaseTransport) -> None:
            self.inner = inner

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/send"):
                import json

                bodies.append(json.loads(request.read()))
            return self.inner.handle_request(request)

    def campaign_monitor() -> CampaignMonitorClient:
        return CampaignMonitorClient(api_key=tx.account.api_key, clock=tx.clock,
                                     transport=Recording(tx.account.transport()))  # fmt: skip

    tx.engine = Engine(salesforce=tx.org.client, campaign_monitor=campaign_monitor,
                       journal=tx.engine.journal, clock=tx.clock)  # fmt: skip
    yes = tx.mapping("Tracked", Consent_To_Track__c="Yes", Variable_Map__c={})
    by_field = tx.mapping("By field", Consent_To_Track__c="Yes",
                          Consent_Field__c="HasOptedOutOfEmail", Variable_Map__c={})  # fmt: skip
    tx.request([tx.ids["ada"]])
    tx.request([tx.ids["ada"]], mapping=yes)
    tx.request([tx.ids["bo"]], mapping=by_field)
    tx.send()
    assert [(b["To"], b["ConsentToTrack"]) for b in bodies] == [
        (["ada@tx.example"], "Unchanged"), (["ada@tx.example"], "Yes"), (["bo@tx.example"], "No"),
    ]  # fmt: skip
    assert all(b["AddRecipientsToList"] is False for b in bodies)
