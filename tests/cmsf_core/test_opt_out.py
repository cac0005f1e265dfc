"""Email opt-out: people unsubscribed or deleted in every list get HasOptedOutOfEmail."""

from __future__ import annotations

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.world import World


def prepare(world: World, email: str) -> str:
    """Subscribe ``email`` (a new Contact) to the first two lists of the first client."""
    first, second = world.summary["lists"][:2]
    for list_id in (first, second):
        world.account.add_subscriber_at(list_id, email, "Pat Example")
    return world.org.create("Contact", {"LastName": "Example", "Email": email})


def opted_out(world: World, contact_id: str) -> bool:
    return bool(world.org.get("Contact", contact_id)["HasOptedOutOfEmail"])


def test_unsubscribed_in_every_list_opts_the_contact_out(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    contact = prepare(world, "pat@optout.example")
    engine.sync()
    first, second = world.summary["lists"][:2]
    for list_id in (first, second):
        world.account.change_state(list_id, "pat@optout.example", "Unsubscribed", apply_rules=False)
    clock.advance(hours=1)
    engine.sync()
    assert opted_out(world, contact)


def test_still_active_in_one_list_keeps_the_contact_in(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    contact = prepare(world, "sam@optout.example")
    engine.sync()
    world.account.change_state(
        world.summary["lists"][0], "sam@optout.example", "Unsubscribed", apply_rules=False
    )
    clock.advance(hours=1)
    engine.sync()
    assert not opted_out(world, contact)
    world.account.change_state(world.summary["lists"][1], "sam@optout.example", "Deleted")
    clock.advance(hours=1)
    engine.sync()
    assert opted_out(world, contact)


def test_option_off_leaves_the_flag_alone(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    engine.change_settings({"opt_out_sync": False})
    contact = prepare(world, "kim@optout.example")
    for list_id in world.summary["lists"][:2]:
        world.account.change_state(list_id, "kim@optout.example", "Unsubscribed", apply_rules=False)
    clock.advance(minutes=5)
    report = engine.sync()
    assert {row["job"]: row["status"] for row in report.jobs}["email_opt_out"] == "skipped"
    assert not opted_out(world, contact)


def test_resubscribing_never_opts_back_in(
    world: World, engine: Engine, clock: VirtualClock
) -> None:
    contact = prepare(world, "lee@optout.example")
    for list_id in world.summary["lists"][:2]:
        world.account.change_state(list_id, "lee@optout.example", "Unsubscribed", apply_rules=False)
    clock.advance(minutes=5)
    engine.sync()
    assert opted_out(world, contact)
    world.account.change_state(world.summary["lists"][0], "lee@optout.example", "Active")
    clock.advance(hours=1)
    engine.sync()
    assert opted_out(world, contact)
