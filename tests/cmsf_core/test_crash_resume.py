"""Killing a run after its k-th API call and running again ends where an unbroken run ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from cmsf_core.state import Journal
from scenarios.compare import compare, org_state
from scenarios.world import EVERY_OPTION, World, WorldSpec, build_world
from tests.cmsf_core.crash_support import Crash, Killer

SPEC = WorldSpec(
    seed=11, clients=2, lists_per_client=1, subscribers_per_list=25, campaigns_per_client=1
)


def make_engine(world: World, journal: Journal, killer: Killer) -> Engine:
    def campaign_monitor() -> CampaignMonitorClient:
        return CampaignMonitorClient(
            api_key=world.account.api_key,
            transport=world.account.transport(),
            clock=world.clock,
            on_request=killer,
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


def prepared(tmp_path: Path, name: str) -> tuple[World, Path]:
    world = build_world(SPEC, clock=VirtualClock())
    setup = make_engine(world, Journal(), Killer(None))
    setup.connect()
    setup.change_settings(EVERY_OPTION)
    return world, tmp_path / f"{name}.db"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], int]:
    """The org state after an unbroken first sync, and how many calls it made."""
    world, path = prepared(tmp_path_factory.mktemp("ref"), "journal")
    killer = Killer(None)
    report = make_engine(world, Journal(path), killer).sync()
    assert report.status == "completed", report.reason
    return org_state(world), killer.calls


POINTS = [0.0, 0.01, *(step / 20 for step in range(1, 20))]
"""Where the run dies, as a share of the unbroken run's calls (0 = its very first call)."""


@pytest.mark.parametrize("share", POINTS, ids=[f"at-{round(p * 100)}pct" for p in POINTS])
def test_rerun_after_a_crash_ends_in_the_same_state(
    tmp_path: Path, reference: tuple[dict[str, Any], int], share: float
) -> None:
    expected, total = reference
    at = max(1, round(total * share))
    world, path = prepared(tmp_path, "journal")
    with pytest.raises(Crash):
        make_engine(world, Journal(path), Killer(at)).sync()
    opened = Journal(path).unfinished_run() is not None  # the first calls come before the run opens
    world.clock.advance(minutes=1)
    report = make_engine(world, Journal(path), Killer(None)).sync()
    assert report.run.resumed == opened
    assert report.status == "completed", report.reason
    assert org_state(world) == expected
    assert compare(world, make_engine(world, Journal(), Killer(None)).settings()) == []


def changes(world: World) -> None:
    """Changes in Campaign Monitor between two syncs: unsubscribes, a bounce, a newcomer."""
    list_id = world.summary["lists"][0]
    http = world.account.client()
    active = [
        r["EmailAddress"] for r in http.get(f"/lists/{list_id}/active.json").json()["Results"]
    ]
    world.account.change_state(list_id, active[0], "Unsubscribed")
    world.account.change_state(list_id, active[1], "Bounced")
    world.account.add_subscriber_at(list_id, "late.comer@example.com", "Late Comer")
    world.clock.advance(hours=1)


@pytest.fixture(scope="module")
def reference_incremental(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], int]:
    """The org state after a first sync, changes, and an unbroken second sync."""
    world, path = prepared(tmp_path_factory.mktemp("inc"), "journal")
    make_engine(world, Journal(path), Killer(None)).sync()
    changes(world)
    killer = Killer(None)
    make_engine(world, Journal(path), killer).sync()
    return org_state(world), killer.calls


INCREMENTAL_POINTS = [0.0, 0.2, 0.4, 0.6, 0.8, 0.95]


@pytest.mark.parametrize(
    "share", INCREMENTAL_POINTS, ids=[f"at-{round(p * 100)}pct" for p in INCREMENTAL_POINTS]
)
def test_rerun_after_a_crash_in_an_incremental_sync(
    tmp_path: Path, reference_incremental: tuple[dict[str, Any], int], share: float
) -> None:
    expected, total = reference_incremental
    world, path = prepared(tmp_path, "journal")
    make_engine(world, Journal(path), Killer(None)).sync()
    changes(world)
    with pytest.raises(Crash):
        make_engine(world, Journal(path), Killer(max(1, round(total * share)))).sync()
    opened = Journal(path).unfinished_run() is not None
    report = make_engine(world, Journal(path), Killer(None)).sync()
    assert report.run.resumed == opened and report.status == "completed", report.reason
    assert org_state(world) == expected
