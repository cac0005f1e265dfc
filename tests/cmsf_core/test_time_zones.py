"""A client's time zone changing in Campaign Monitor skips nothing and duplicates nothing."""

from __future__ import annotations

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.compare import compare
from scenarios.world import World


def _set_zone(world: World, client_id: str, zone: str) -> None:
    http = world.account.client()
    details = http.get(f"/clients/{client_id}.json").json()["BasicDetails"]
    body = {"CompanyName": details["CompanyName"], "Country": details["Country"], "TimeZone": zone}
    assert http.put(f"/clients/{client_id}/setbasics.json", json=body).status_code == 200


def test_a_time_zone_moved_west_between_runs_skips_no_change(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    client_id = world.summary["clients"][0]
    list_id = world.summary["lists"][0]
    _set_zone(world, client_id, "(GMT+10:00) Brisbane")
    world.account.add_subscriber_at(list_id, "recent@zone.example", "Recent")  # the bookmark
    clock.advance(minutes=2)
    assert engine.sync().status == "completed"
    activity = world.org.count("CMSF_Email_Activity__c")
    _set_zone(world, client_id, "(GMT-05:00) Bogota, Lima, Quito")
    for hour in range(1, 4):
        clock.advance(hours=1)
        world.account.add_subscriber_at(list_id, f"west{hour}@zone.example", f"West {hour}")
    report = engine.sync()
    assert report.status == "completed", report.reason
    rows = world.org.query(
        "SELECT Email__c FROM CMSF_List_Member__c WHERE Email__c LIKE '%@zone.example'"
    )
    assert sorted(r["Email__c"] for r in rows) == [
        "recent@zone.example",
        *(f"west{h}@zone.example" for h in (1, 2, 3)),
    ]
    assert world.org.count("CMSF_Email_Activity__c") == activity  # no event stored twice
    assert compare(world, engine.settings()) == []


def test_a_time_zone_moved_east_between_runs_duplicates_nothing(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    client_id = world.summary["clients"][0]
    _set_zone(world, client_id, "(GMT-05:00) Bogota, Lima, Quito")
    assert engine.sync().status == "completed"
    counts = {o: world.org.count(o) for o in ("CMSF_Email_Activity__c", "CMSF_List_Member__c")}
    _set_zone(world, client_id, "(GMT+10:00) Brisbane")
    clock.advance(hours=1)
    report = engine.sync()
    assert report.status == "completed", report.reason
    assert {o: world.org.count(o) for o in counts} == counts
    assert compare(world, engine.settings()) == []
