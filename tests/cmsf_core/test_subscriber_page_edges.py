"""A row leaving a listing (a subscriber state, a suppression list, sent campaigns) mid-read.

Campaign Monitor pages a listing by offset. When a subscriber near the start of the
Active listing unsubscribes after page 1 was read, every later row moves up one: the row
that was first on page 2 is now last on page 1, and a reader asking for page 2 never sees
it. An incremental read would then move its bookmark past that row (never read again
until reconciliation), and reconciliation, which removes the memberships it did not see,
would delete the membership of a subscriber who is still Active. The client continues a
subscriber read by date instead (:meth:`CampaignMonitorClient.subscriber_pages`), so a row
leaving earlier in the listing moves nothing the reader still has to read. A client's
suppression list and its sent campaigns (no filter to go on from) have the same edge: the
client reads the page before each page again and keeps the rows moved into it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.compare import compare, org_state
from scenarios.world import EVERY_OPTION, World, WorldSpec, build_world, engine_for

SPEC = WorldSpec(seed=11, clients=1, lists_per_client=1, subscribers_per_list=300, days=10)
PAGE = 50
"""``cm_page_size`` of these runs: the Active listing (~180 rows) is four pages."""


@pytest.fixture
def world() -> Iterator[World]:
    built = build_world(SPEC, clock=VirtualClock())
    yield built
    built.close()


def _engine(world: World) -> Engine:
    engine = engine_for(world)
    engine.connect()
    engine.change_settings({**EVERY_OPTION, "governor_limits": {"cm_page_size": PAGE}})
    return engine


def _leave_after_first_page(
    monkeypatch: pytest.MonkeyPatch, world: World, *, whole: bool
) -> list[str]:
    """After the first page of a whole (``whole``) or dated Active read, its oldest row
    unsubscribes. Returns who left (once)."""
    left: list[str] = []
    original = CampaignMonitorClient._request

    def request(self: CampaignMonitorClient, method: str, path: str, **kwargs: Any) -> Any:
        body = original(self, method, path, **kwargs)
        params = kwargs.get("params") or {}
        if (
            not left
            and path.endswith("/active.json")
            and ("date" not in params) is whole
            and int(params.get("pagesize") or 0) == PAGE
            and isinstance(body, dict)
            and int(body.get("NumberOfPages") or 0) > 1
        ):
            email = str(body["Results"][0]["EmailAddress"])
            world.account.change_state(path.split("/")[1], email, "Unsubscribed")
            left.append(email)
        return body

    monkeypatch.setattr(CampaignMonitorClient, "_request", request)
    return left


def _between_pages(
    monkeypatch: pytest.MonkeyPatch, endpoint: str, key: str, act: Callable[[str], None]
) -> list[str]:
    """Between pages 1 and 2 of a read of ``endpoint``, ``act`` on page 1's first row (its
    ``key``), once. Returns what it acted on."""
    acted: list[str] = []
    first: list[str] = []
    original = CampaignMonitorClient._request

    def request(self: CampaignMonitorClient, method: str, path: str, **kwargs: Any) -> Any:
        page = int((kwargs.get("params") or {}).get("page") or 0)
        if path.endswith(endpoint) and page == 2 and first and not acted:
            act(first[0])
            acted.append(first[0])
        body = original(self, method, path, **kwargs)
        if path.endswith(endpoint) and page == 1 and isinstance(body, dict):
            first[:] = [str(body["Results"][0][key])]
        return body

    monkeypatch.setattr(CampaignMonitorClient, "_request", request)
    return acted


def test_a_subscriber_leaving_mid_read_hides_no_one_from_the_incremental_read(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(world)
    left = _leave_after_first_page(monkeypatch, world, whole=True)
    assert engine.sync().status == "completed"  # the first sync reads Active whole
    assert left
    world.clock.advance(minutes=30)
    assert engine.sync().status == "completed"  # reads from its bookmark
    assert compare(world, engine.settings()) == []
    members = {r[0]: r[1] for r in org_state(world)["CMSF_List_Member__c"]}
    assert members[f"{world.summary['lists'][0]}:{left[0].lower()}"] == "Unsubscribed"


def test_a_subscriber_leaving_mid_reconciliation_deletes_no_membership(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(world)
    assert engine.sync().status == "completed"
    before = len(org_state(world)["CMSF_List_Member__c"])
    world.clock.advance(hours=engine.settings().limit("reconcile_hours") + 1)
    left = _leave_after_first_page(monkeypatch, world, whole=True)  # reconciliation reads whole
    report = engine.sync()
    assert report.status == "completed" and left
    assert report.stats.deleted.get("CMSF_List_Member__c", 0) == 0
    assert len(org_state(world)["CMSF_List_Member__c"]) == before
    world.clock.advance(minutes=30)  # the next run reads what changed during this one
    assert engine.sync().status == "completed"  # (the suppression list, for one)
    assert compare(world, engine.settings()) == []


def test_an_address_unsuppressed_mid_read_deletes_no_other_record(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_id = world.summary["clients"][0]
    for i in range(120):  # a suppression list of several pages of PAGE
        world.account.suppress_at(client_id, f"suppressed.{i:03d}@example.com")
    engine = _engine(world)
    assert engine.sync().status == "completed"
    world.clock.advance(minutes=30)
    original = CampaignMonitorClient._request
    left = _between_pages(  # the first address read is taken off the list
        monkeypatch, "/suppressionlist.json", "EmailAddress",
        lambda email: world.account.unsuppress_at(client_id, email),
    )  # fmt: skip
    report = engine.sync()
    assert report.status == "completed" and left
    # the address taken off was read before it left: no suppression record is deleted
    # (on offset pages the row moved past the reader was, though it is still suppressed)
    assert report.stats.deleted.get("CMSF_Suppression__c", 0) == 0
    monkeypatch.setattr(CampaignMonitorClient, "_request", original)
    world.clock.advance(minutes=30)
    again = engine.sync()  # the next run sees it gone
    assert again.stats.deleted.get("CMSF_Suppression__c", 0) == 1
    assert compare(world, engine.settings()) == []


def test_a_campaign_hidden_mid_read_removes_no_other_campaign(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = WorldSpec(seed=11, clients=1, lists_per_client=1, subscribers_per_list=20,
                     campaigns_per_client=14, days=10)  # fmt: skip
    world = build_world(spec, clock=VirtualClock())
    try:
        engine = engine_for(world)
        engine.connect()
        engine.change_settings({**EVERY_OPTION, "governor_limits": {"cm_page_size": 10}})
        assert engine.sync().status == "completed"
        world.clock.advance(minutes=30)
        original = CampaignMonitorClient._request
        hidden = _between_pages(  # the newest campaign leaves the sent list
            monkeypatch, "/campaigns.json", "CampaignID", world.account.hide_campaign
        )
        report = engine.sync()
        assert report.status == "completed" and hidden
        # the hidden campaign was read before it left: no campaign is removed, and no
        # tracking history (on offset pages the campaign moved past the reader was)
        assert report.stats.deleted.get("CMSF_Campaign__c", 0) == 0
        assert report.stats.deleted.get("CMSF_Email_Activity__c", 0) == 0
        monkeypatch.setattr(CampaignMonitorClient, "_request", original)
        world.clock.advance(minutes=30)
        again = engine.sync()  # the next run sees it gone
        assert again.stats.deleted.get("CMSF_Campaign__c", 0) == 1
        assert compare(world, engine.settings()) == []
    finally:
        world.close()
