"""pytest fixtures for testing against a simulated org.

Enable with ``pytest_plugins = ["sf_sim.pytest_plugin"]`` in your top-level
``conftest.py`` (or import the fixtures into a conftest). Fixtures are
function-scoped and return fresh objects, so tests stay independent under xdist:

- ``sf_org``: a new in-memory :class:`~sf_sim.Org`; it shares the ``clock`` fixture when
  the test session defines one, so simulators and engine agree on time.
- ``sf_client``: a ``simple_salesforce.Salesforce`` logged in to ``sf_org``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simple_salesforce.api import Salesforce

from cmsf_core.clock import Clock, VirtualClock
from sf_sim.activation import Org

__all__ = ["sf_client", "sf_org"]


@pytest.fixture
def sf_org(request: pytest.FixtureRequest) -> Iterator[Org]:
    """A fresh in-memory org (on the session's ``clock`` fixture when there is one)."""
    clock: Clock
    try:
        clock = request.getfixturevalue("clock")
    except pytest.FixtureLookupError:
        clock = VirtualClock()
    org = Org(clock=clock)
    yield org
    org.close()


@pytest.fixture
def sf_client(sf_org: Org) -> Iterator[Salesforce]:
    """A simple-salesforce client logged in to ``sf_org`` as its admin."""
    with sf_org.activate() as client:
        yield client
