"""A push killed between any two API calls, then run again, sends nothing twice.

The world is synced once; then Salesforce changes (a new rule, a mapping, edits, an email
change, an opt-out, a merge, a new Contact) are pushed by a second sync that is killed
before its k-th API call (to either platform) and run again. Every write that reached
Campaign Monitor is recorded with its body: across the killed run and the rerun they must
be exactly the writes of an unbroken run, each once, and both platforms must end alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from cmsf_core.campaign_monitor import SUBSCRIBER_STATES, CampaignMonitorClient
from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from cmsf_core.state import Journal
from scenarios.world import World, WorldSpec, build_world
from tests.cmsf_core.crash_support import Crash, Killer

SPEC = WorldSpec(
    seed=21, clients=1, lists_per_client=2, subscribers_per_list=12, campaigns_per_client=0
)


class Recorder(httpx.BaseTransport):
    """Forwards to the account and records every write that reached it (with its body)."""

    def __init__(self, inner: httpx.BaseTransport, sink: list[tuple[str, str, str, bytes]]) -> None:
        self.inner = inner
        self.sink = sink
        self.die_after: str | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method != "GET":
            request.read()
            self.sink.append(
                (request.method, request.url.path, str(request.url.query), request.content)
            )
            if self.die_after is not None and self.die_after in request.url.path:
                self.die_after = None
                raise Crash("killed after Campaign Monitor applied the write, before the answer")
        return response


def make_engine(world: World, journal: Journal, killer: Killer, recorder: Recorder) -> Engine:
    def campaign_monitor() -> CampaignMonitorClient:
        return CampaignMonitorClient(
            api_key=world.account.api_key, transport=recorder, clock=world.clock, on_request=killer
        )

    def wire(gateway: Any) -> None:
        gateway.on_request = killer

    return Engine(
        salesforce=world.org.client,
        campaign_monitor=campaign_monitor,
        journal=journal,
        clock=world.clock,
        on_gateway=wire,
    )


def prepared(path: Path) -> tuple[World, Recorder]:
    """A world synced once, then changed in Salesforce; the journal file is ``path``."""
    world = build_world(SPEC, clock=VirtualClock())
    recorder = Recorder(world.account.transport(), [])
    setup = make_engine(world, Journal(path), Killer(None), recorder)
    setup.connect()
    setup.change_settings({"opt_out_sync": True})
    assert setup.sync().status == "completed"
    org = world.org
    lists = {r["CM_Id__c"]: r["Id"] for r in org.query("SELECT Id, CM_Id__c FROM CMSF_List__c")}
    first, second = (lists[i] for i in world.summary["lists"])
    members = org.query(
        "SELECT Email__c, Contact__c, List__c FROM CMSF_List_Member__c WHERE Contact__c != null "
        "AND State__c = 'Active' ORDER BY Email__c"
    )
    people = list(dict.fromkeys(m["Contact__c"] for m in members))
    org.insert(
        "CMSF_Subscriber_Rule__c",
        [{"Name": "Web", "List__c": second, "Object__c": "Contact", "Criteria__c": "LeadSource = 'Web'",
          "Active__c": True, "Unsubscribe_When_Not_Met__c": True}],
    )  # fmt: skip
    org.insert(
        "CMSF_Field_Mapping__c",
        [{"Name": "Title", "List__c": first, "Object__c": "Contact", "Salesforce_Field__c": "Title",
          "CM_Field__c": "website", "Direction__c": "Salesforce To Campaign Monitor"}],
    )  # fmt: skip
    world.clock.advance(minutes=5)
    for n, person in enumerate(people[:4]):
        org.update("Contact", person, {"Title": f"title {n}", "LeadSource": "Web"})
        world.clock.advance(seconds=1)
    org.update("Contact", people[4], {"Email": "moved@new.example"})
    org.update("Contact", people[5], {"HasOptedOutOfEmail": True})
    org.merge(people[6], [people[7]])
    for n in range(3):
        org.insert(
            "Contact",
            [{"LastName": f"New{n}", "Email": f"new{n}@web.example", "LeadSource": "Web"}],
        )
    world.clock.advance(minutes=30)
    recorder.sink.clear()
    return world, recorder


def account_state(world: World) -> list[tuple[Any, ...]]:
    """Every subscriber of every list as the API shows it, without times."""
    rows = []
    with world.account.client() as http:
        for list_id in world.summary["lists"]:
            for endpoint in SUBSCRIBER_STATES.values():
                body = http.get(
                    f"/lists/{list_id}/{endpoint}.json",
                    params={"includetrackingpreference": "true", "includesmspreference": "true"},
                ).json()
                for r in body["Results"]:
                    fields = sorted((f["Key"], f["Value"]) for f in r["CustomFields"])
                    rows.append((list_id, r["EmailAddress"], r["Name"], r["State"], str(fields)))
    return sorted(rows)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Any], list[Any], int]:
    """Campaign Monitor after an unbroken push, its writes, and how many calls it made."""
    path = tmp_path_factory.mktemp("ref") / "journal.db"
    world, recorder = prepared(path)
    killer = Killer(None)
    report = make_engine(world, Journal(path), killer, recorder).sync()
    assert report.status == "completed", report.reason
    kinds = {(method, path.rsplit("/", 1)[-1]) for method, path, _, _ in recorder.sink}
    assert {m for m, _ in kinds} == {"POST", "PUT"} and len(recorder.sink) >= 4, kinds
    return account_state(world), sorted(recorder.sink), killer.calls


POINTS = [step / 16 for step in range(0, 16)]


@pytest.mark.parametrize("share", POINTS, ids=[f"at-{round(p * 100)}pct" for p in POINTS])
def test_a_push_killed_between_calls_sends_nothing_twice(
    tmp_path: Path, reference: tuple[list[Any], list[Any], int], share: float
) -> None:
    expected, writes, total = reference
    path = tmp_path / "journal.db"
    world, recorder = prepared(path)
    with pytest.raises(Crash):
        make_engine(world, Journal(path), Killer(max(1, round(total * share))), recorder).sync()
    world.clock.advance(minutes=1)
    report = make_engine(world, Journal(path), Killer(None), recorder).sync()
    assert report.status == "completed", report.reason
    assert sorted(recorder.sink) == writes
    assert account_state(world) == expected


@pytest.mark.parametrize("path_part", ["/import.json", "/unsubscribe.json", "subscribers/"])
def test_a_write_applied_but_never_answered_is_not_sent_again(
    tmp_path: Path, path_part: str
) -> None:
    journal_path = tmp_path / "journal.db"
    world, recorder = prepared(journal_path)
    recorder.die_after = path_part
    with pytest.raises(Crash):
        make_engine(world, Journal(journal_path), Killer(None), recorder).sync()
    world.clock.advance(minutes=1)
    report = make_engine(world, Journal(journal_path), Killer(None), recorder).sync()
    assert report.status == "completed", report.reason
    assert len(recorder.sink) == len(set(recorder.sink)), "a write was sent twice"
