"""Engine fixtures: a small world, its engine, and the settings most tests turn on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cmsf_core.clock import VirtualClock
from cmsf_core.engine import Engine
from scenarios.world import EVERY_OPTION, World, WorldSpec, build_world, engine_for


@pytest.fixture
def world(clock: VirtualClock) -> Iterator[World]:
    """Two clients, two lists each, 30 subscribers a list, two campaigns a client."""
    built = build_world(WorldSpec(seed=3, subscribers_per_list=30), clock=clock)
    yield built
    built.close()


@pytest.fixture
def engine(world: World) -> Engine:
    """The engine connected to the world, with every optional job on."""
    connected = engine_for(world)
    connected.connect()
    connected.change_settings(EVERY_OPTION)
    return connected
