"""Engine fixtures: a small world, its engine, and the settings most tests turn on."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="session")
def seeded_home_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded default created once (seeding takes seconds), never synced; copy it."""
    from click.testing import CliRunner

    from cmsf_core.cli import main

    home = tmp_path_factory.mktemp("seeded") / ".cmsf"
    result = CliRunner().invoke(main, ["--home", str(home), "settings", "show"], env={})
    assert result.exit_code == 0, result.output
    return home


@pytest.fixture
def cmsf_home(seeded_home_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the seeded embedded default, connected, with no run yet."""
    home = tmp_path / ".cmsf"
    shutil.copytree(seeded_home_template, home)
    return home


@pytest.fixture(scope="session")
def tx_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    """A world with synced smart emails and a mapping, built once (see ``tx_support``)."""
    from tests.cmsf_core.tx_support import build_template

    return build_template(tmp_path_factory.mktemp("tx-template"))


@pytest.fixture
def tx(tx_template: tuple[Path, str, dict[str, str]], tmp_path: Path) -> Iterator[Any]:
    """A fresh copy of that world and its engine."""
    from tests.cmsf_core.tx_support import copy_of

    built = copy_of(tx_template, tmp_path / "tx")
    yield built
    built.close()


@pytest.fixture(scope="module")
def tx_shared(
    tx_template: tuple[Path, str, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """One copy of that world for a module's tests that only add records of their own."""
    from tests.cmsf_core.tx_support import copy_of

    built = copy_of(tx_template, tmp_path_factory.mktemp("tx-shared"))
    yield built
    built.close()
