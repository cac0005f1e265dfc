"""pytest fixtures for code that talks to Campaign Monitor: a fresh simulated account per test.

Use it from a ``conftest.py``::

    from cm_sim.pytest_plugin import cm_account, cm_clock  # noqa: F401

    def test_sync_reads_lists(cm_account):
        client_id = cm_account.create_client("Acme")
        with cm_account.client() as http:
            assert http.get(f"/clients/{client_id}/lists.json").json() == []

``cm_account`` is function-scoped, in memory, seeded (``seed=1``) and driven by its own
``VirtualClock`` (``cm_clock``), so tests are independent and run in parallel.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cm_sim.activation import Account
from cmsf_core.clock import VirtualClock

__all__ = ["cm_account", "cm_clock"]


@pytest.fixture
def cm_clock() -> VirtualClock:
    """The virtual clock the account reads (starts at the default epoch)."""
    return VirtualClock()


@pytest.fixture
def cm_account(cm_clock: VirtualClock) -> Iterator[Account]:
    """A fresh, empty agency account in memory, marked as a test account."""
    account = Account(clock=cm_clock, seed=1, test_account=True)
    yield account
    account.close()
