"""Injected faults and the rate limiter, both on the virtual clock.

A :class:`Fault` applies to requests whose method and path match, inside a virtual
time window and/or for a number of requests, optionally with a probability drawn from
the account's seeded generator. Kinds:

* ``outage``: answer ``status`` (500 or 503) with the platform's error body;
* ``slow``: advance the virtual clock by ``seconds`` (and sleep ``real_delay`` wall
  seconds, for server tests) before answering normally;
* ``timeout``: the in-process transport raises ``httpx.ReadTimeout``; a served app
  closes the connection without answering;
* ``malformed``: answer normally but cut the JSON body in half;
* ``rate_limit``: answer 429 ``{"Code":429,"Message":"Rate limit exceeded"}``;
* ``lost_answer``: apply the request, then lose the answer (the in-process transport
  raises ``httpx.ReadTimeout``; a served app closes the connection): the client cannot
  tell whether its write happened.

:class:`RateLimiter` counts requests per credential in fixed windows and yields the
``X-RateLimit-Limit``/``-Remaining``/``-Reset`` values for every response.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["FAULT_KINDS", "Fault", "RateLimiter"]

FAULT_KINDS = ("outage", "slow", "timeout", "malformed", "rate_limit", "lost_answer")


@dataclass
class Fault:
    """One injected fault.

    Attributes:
        kind: One of :data:`FAULT_KINDS`.
        path: Regular expression searched in the request path (``/api/v3.3/...``).
        method: HTTP method, or ``*`` for any.
        start: First virtual epoch second it applies (``None``: from now on).
        end: Virtual epoch second it stops applying (exclusive; ``None``: never).
        count: How many requests it still hits (``None``: unlimited).
        status: HTTP status of an outage (500 or 503).
        seconds: Virtual seconds a slow response takes.
        real_delay: Wall-clock seconds a slow response sleeps (server tests only).
        probability: Chance that a matching request is hit (seeded).
    """

    kind: str
    path: str = ".*"
    method: str = "*"
    start: int | None = None
    end: int | None = None
    count: int | None = None
    status: int = 503
    seconds: float = 0.0
    real_delay: float = 0.0
    probability: float = 1.0
    _regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {FAULT_KINDS}")
        if self.kind == "outage" and self.status not in (500, 502, 503, 504):
            raise ValueError("an outage answers 500, 502, 503 or 504")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be at least 1")
        self._regex = re.compile(self.path)

    def matches(self, method: str, path: str, now: int) -> bool:
        """Whether this fault applies to the request at virtual time ``now``."""
        if self.count is not None and self.count <= 0:
            return False
        if self.start is not None and now < self.start:
            return False
        if self.end is not None and now >= self.end:
            return False
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        return self._regex.search(path) is not None

    @property
    def exhausted(self) -> bool:
        """Whether the fault has used up its count."""
        return self.count is not None and self.count <= 0


@dataclass
class RateLimiter:
    """Fixed-window request counting per credential.

    Attributes:
        limit: Requests allowed per window (``X-RateLimit-Limit``).
        window: Window length in seconds.
    """

    limit: int = 1000
    window: int = 60
    _buckets: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window < 1:
            raise ValueError("rate limit and window must be positive")

    def hit(self, key: str, now: int) -> tuple[bool, int, int]:
        """Count one request.

        Args:
            key: A digest of the credential (never the credential itself).
            now: Virtual epoch seconds.

        Returns:
            ``(allowed, remaining, seconds until reset)``.
        """
        start, used = self._buckets.get(key, (now, 0))
        if now >= start + self.window:
            start, used = now, 0
        reset = start + self.window - now
        if used >= self.limit:
            self._buckets[key] = (start, used)
            return False, 0, reset
        used += 1
        self._buckets[key] = (start, used)
        return True, self.limit - used, reset

    def peek(self, key: str, now: int) -> tuple[int, int]:
        """``(remaining, reset)`` without counting (for answers that are not counted)."""
        start, used = self._buckets.get(key, (now, 0))
        if now >= start + self.window:
            return self.limit, self.window
        return max(0, self.limit - used), start + self.window - now
