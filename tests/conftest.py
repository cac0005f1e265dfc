"""Shared fixtures: small, function-scoped, fresh objects."""

from __future__ import annotations

import pytest

from cmsf_core.clock import VirtualClock


@pytest.fixture
def clock() -> VirtualClock:
    """A virtual clock at the default epoch."""
    return VirtualClock()
