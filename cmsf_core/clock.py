"""The one clock that every time-dependent rule reads.

The engine and both simulators take a clock instead of calling ``datetime.now()``:
in production it is the :class:`SystemClock`; in tests and scenarios one shared
:class:`VirtualClock` drives the engine, the Salesforce simulator and the Campaign
Monitor simulator, so hours of platform time pass in milliseconds and every run
is deterministic.

``sleep`` belongs to the clock too: retry back-off and polling wait on it, so under
a virtual clock a back-off of 30 seconds advances virtual time instead of the wall.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["DEFAULT_EPOCH", "Clock", "ClockError", "SystemClock", "VirtualClock", "parse_instant"]

DEFAULT_EPOCH = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
"""Where a virtual clock starts unless told otherwise (a Monday morning, UTC)."""


class ClockError(ValueError):
    """A clock was asked to do something time cannot do (go backwards, naive datetimes)."""


@runtime_checkable
class Clock(Protocol):
    """What the engine and the simulators need from time."""

    def now(self) -> datetime:
        """Return the current instant as an aware UTC datetime."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (virtual clocks advance instead of waiting)."""
        ...


def parse_instant(value: datetime | str) -> datetime:
    """Turn an aware datetime or an ISO 8601 string into an aware UTC datetime.

    Args:
        value: An aware ``datetime`` or an ISO 8601 string with an offset or ``Z``.

    Returns:
        The same instant in UTC.

    Raises:
        ClockError: If the value is naive or not a valid ISO 8601 instant.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ClockError(f"not an ISO 8601 instant: {value!r}") from exc
    if value.tzinfo is None:
        raise ClockError(f"naive datetime {value.isoformat()} has no time zone; give an offset")
    return value.astimezone(UTC)


class SystemClock:
    """The wall clock, for runs against real platforms."""

    def now(self) -> datetime:
        """Return the current wall-clock instant in UTC."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds``."""
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    """A clock that moves only when told to; safe to share between threads.

    Args:
        start: The first instant (aware datetime or ISO string); defaults to
            :data:`DEFAULT_EPOCH`.

    Example:
        >>> clock = VirtualClock("2026-03-01T12:00:00Z")
        >>> clock.advance(hours=1)
        >>> clock.now().isoformat()
        '2026-03-01T13:00:00+00:00'
    """

    def __init__(self, start: datetime | str | None = None) -> None:
        self._now = parse_instant(start) if start is not None else DEFAULT_EPOCH
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the current virtual instant in UTC."""
        with self._lock:
            return self._now

    def advance(
        self,
        delta: timedelta | None = None,
        *,
        seconds: float = 0,
        minutes: float = 0,
        hours: float = 0,
        days: float = 0,
    ) -> datetime:
        """Move time forward.

        Args:
            delta: A duration to add.
            seconds: Extra seconds to add.
            minutes: Extra minutes to add.
            hours: Extra hours to add.
            days: Extra days to add.

        Returns:
            The new current instant.

        Raises:
            ClockError: If the total duration is negative.
        """
        step = (delta or timedelta()) + timedelta(
            seconds=seconds, minutes=minutes, hours=hours, days=days
        )
        if step < timedelta(0):
            raise ClockError(f"a clock cannot go backwards (asked to move by {step})")
        with self._lock:
            self._now = self._now + step
            return self._now

    def set(self, when: datetime | str) -> datetime:
        """Jump to ``when``, which must not be earlier than now.

        Args:
            when: The new instant.

        Returns:
            The new current instant.

        Raises:
            ClockError: If ``when`` is earlier than the current instant or naive.
        """
        target = parse_instant(when)
        with self._lock:
            if target < self._now:
                raise ClockError(
                    f"a clock cannot go backwards (from {self._now.isoformat()} "
                    f"to {target.isoformat()})"
                )
            self._now = target
            return self._now

    def sleep(self, seconds: float) -> None:
        """Advance virtual time by ``seconds`` instead of waiting."""
        if seconds > 0:
            self.advance(seconds=seconds)

    def __repr__(self) -> str:
        return f"VirtualClock({self.now().isoformat()!r})"
