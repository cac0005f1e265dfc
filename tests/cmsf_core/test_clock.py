from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cmsf_core.clock import DEFAULT_EPOCH, ClockError, SystemClock, VirtualClock


def test_virtual_clock_starts_at_default_epoch() -> None:
    assert VirtualClock().now() == DEFAULT_EPOCH


def test_virtual_clock_advances_by_parts() -> None:
    clock = VirtualClock("2026-03-01T12:00:00Z")
    clock.advance(timedelta(minutes=30), hours=1, seconds=15)
    assert clock.now() == datetime(2026, 3, 1, 13, 30, 15, tzinfo=UTC)


def test_virtual_clock_sleep_advances_instead_of_waiting() -> None:
    clock = VirtualClock("2026-03-01T12:00:00+02:00")
    clock.sleep(90)
    assert clock.now() == datetime(2026, 3, 1, 10, 1, 30, tzinfo=UTC)


def test_virtual_clock_refuses_to_go_backwards() -> None:
    clock = VirtualClock("2026-03-01T12:00:00Z")
    with pytest.raises(ClockError, match="backwards"):
        clock.set("2026-03-01T11:59:59Z")
    with pytest.raises(ClockError, match="backwards"):
        clock.advance(seconds=-1)


def test_virtual_clock_rejects_naive_and_malformed_instants() -> None:
    with pytest.raises(ClockError, match="naive"):
        VirtualClock(datetime(2026, 1, 1))
    with pytest.raises(ClockError, match="ISO 8601"):
        VirtualClock("yesterday")


def test_system_clock_is_aware_utc() -> None:
    assert SystemClock().now().tzinfo is UTC
