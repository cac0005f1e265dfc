"""Retry with back-off on the injected clock, shared by both gateways.

Back-off waits through :meth:`Clock.sleep`, so under a virtual clock a five-minute wait
for a rate limit costs nothing in tests and scenarios, yet is real against live
platforms. Delays are deterministic (no jitter): ``base * factor**n`` capped at
``max_delay``, or the platform's own ``retry_after`` when it gives one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cmsf_core.clock import Clock
from cmsf_core.errors import RetriableError

__all__ = ["RetryPolicy", "call_with_retries"]

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry transient failures.

    Attributes:
        attempts: Total attempts, the first included.
        base_delay: Seconds before the first retry.
        factor: Multiplier per further retry.
        max_delay: Longest single back-off in seconds.
        max_retry_after: Longest wait the platform may ask for (``retry_after``) before
            the wait is capped.
    """

    attempts: int = 6
    base_delay: float = 2.0
    factor: float = 2.0
    max_delay: float = 300.0
    max_retry_after: float = 3600.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        if retry_after is not None and retry_after >= 0:
            return min(float(retry_after), self.max_retry_after)
        return float(min(self.base_delay * self.factor ** (retry - 1), self.max_delay))


def call_with_retries(
    action: Callable[[], T],
    *,
    policy: RetryPolicy,
    clock: Clock,
    on_retry: Callable[[int, RetriableError, float], None] | None = None,
) -> T:
    """Run ``action``, retrying :class:`RetriableError` with back-off.

    Args:
        action: The call to make.
        policy: Attempts and delays.
        clock: Where to wait.
        on_retry: Told ``(retry number, error, delay)`` before each wait.

    Returns:
        What ``action`` returns.

    Raises:
        RetriableError: The last error, when every attempt failed.
    """
    retry = 0
    while True:
        try:
            return action()
        except RetriableError as error:
            retry += 1
            if retry >= policy.attempts:
                raise
            wait = policy.delay(retry, error.retry_after)
            if on_retry is not None:
                on_retry(retry, error, wait)
            clock.sleep(wait)
