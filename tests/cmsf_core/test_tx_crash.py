"""Killed between any two API calls of a send, then run again: nobody gets an email twice.

A batch of smart email requests (a bulk request of three Contacts and a single one) is
sent by a drain that dies before its k-th API call to either platform, for every k, and
by one that dies after Campaign Monitor applied a send but before its answer arrived.
The next drain (after the settle delay) must leave every item Done with the MessageID of
the one message its recipient got, one Task per message, and the process Done.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.engine import Engine
from tests.cmsf_core.crash_support import Crash, Killer
from tests.cmsf_core.tx_support import Tx


class DieAfterSend(httpx.BaseTransport):
    """Forwards to the account; dies once after the ``nth`` send was applied."""

    def __init__(self, inner: httpx.BaseTransport, nth: int | None) -> None:
        self.inner = inner
        self.nth = nth
        self.sends = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.endswith("/send"):
            self.sends += 1
            if self.sends == self.nth:
                raise Crash("killed after Campaign Monitor applied the send")
        return response


def _engine(tx: Tx, killer: Killer, transport: httpx.BaseTransport) -> Engine:
    def campaign_monitor() -> CampaignMonitorClient:
        return CampaignMonitorClient(
            api_key=tx.account.api_key, transport=transport, clock=tx.clock, on_request=killer
        )

    def wire(gateway: Any) -> None:
        gateway.on_request = killer

    return Engine(salesforce=tx.org.client, campaign_monitor=campaign_monitor,
                  journal=tx.engine.journal, clock=tx.clock, on_gateway=wire)  # fmt: skip


def _prepare(tx: Tx) -> None:
    people = tx.org.insert(
        "Contact", [{"LastName": f"K{n}", "Email": f"k{n}@tx.example"} for n in range(3)]
    )
    tx.request([str(p.id) for p in people])  # one save: a bulk request
    tx.clock.advance(seconds=2)
    tx.request([tx.ids["ada"]])
    tx.clock.advance(minutes=1)


def _drain(tx: Tx, killer: Killer, transport: httpx.BaseTransport) -> None:
    _engine(tx, killer, transport).send_session("crash").drain()


def _assert_sent_once(tx: Tx) -> None:
    messages = tx.messages()
    recipients = Counter(m["Recipient"] for m in messages)
    assert recipients == Counter(["k0@tx.example", "k1@tx.example", "k2@tx.example",
                                  "ada@tx.example"]), recipients  # fmt: skip
    rows = tx.items()
    assert {r["Status__c"] for r in rows} == {"Done"}, rows
    assert sorted(r["Message_Id__c"] for r in rows) == sorted(m["MessageID"] for m in messages)
    tasks = Counter(t["CMSF_Message_Id__c"] for t in tx.tasks())
    assert set(tasks) == {m["MessageID"] for m in messages} and set(tasks.values()) == {1}
    process = tx.org.query("SELECT Status__c, Total__c, Sent__c FROM CMSF_Process__c")
    assert [(p["Status__c"], p["Total__c"], p["Sent__c"]) for p in process] == [("Done", 3, 3)]


@pytest.fixture(scope="module")
def total_calls(tx_template: Any, tmp_path_factory: pytest.TempPathFactory) -> int:
    """How many API calls an unbroken drain of the prepared queue makes."""
    from tests.cmsf_core.tx_support import copy_of

    tx = copy_of(tx_template, tmp_path_factory.mktemp("tx-crash-ref"))
    try:
        _prepare(tx)
        killer = Killer(None)
        _drain(tx, killer, tx.account.transport())
        _assert_sent_once(tx)
        return killer.calls
    finally:
        tx.close()


POINTS = range(1, 25)


@pytest.mark.parametrize("at", POINTS, ids=[f"before-call-{k}" for k in POINTS])
def test_a_drain_killed_before_any_call_sends_nothing_twice(
    tx_template: Any, tmp_path: Path, total_calls: int, at: int
) -> None:
    from tests.cmsf_core.tx_support import copy_of

    assert total_calls <= POINTS[-1], "kill at every call: widen POINTS"
    if at > total_calls:
        pytest.skip(f"an unbroken drain makes {total_calls} calls")
    tx = copy_of(tx_template, tmp_path / "tx")
    try:
        _prepare(tx)
        with pytest.raises(Crash):
            _drain(tx, Killer(at), tx.account.transport())
        tx.clock.advance(minutes=5)  # past the settle delay of a send left in doubt
        _drain(tx, Killer(None), tx.account.transport())
        _assert_sent_once(tx)
    finally:
        tx.close()


@pytest.mark.parametrize("nth", [1, 3, 4], ids=["first-send", "third-send", "last-send"])
def test_a_drain_killed_after_a_send_was_applied_sends_it_once(tx: Tx, nth: int) -> None:
    _prepare(tx)
    with pytest.raises(Crash):
        _drain(tx, Killer(None), DieAfterSend(tx.account.transport(), nth))
    tx.clock.advance(minutes=5)
    _drain(tx, Killer(None), tx.account.transport())
    _assert_sent_once(tx)


def test_a_sync_killed_after_a_send_resumes_without_sending_it_again(tx: Tx) -> None:
    _prepare(tx)
    with pytest.raises(Crash):
        _engine(tx, Killer(None), DieAfterSend(tx.account.transport(), 2)).sync()
    tx.clock.advance(minutes=5)
    report = _engine(tx, Killer(None), tx.account.transport()).sync()
    assert report.status == "completed" and report.run.resumed
    assert report.stats.pushed["smart emails found sent"] == 2
    _assert_sent_once(tx)
