"""One API budget for every worker: atomic counters in Redis (the broker's store).

:class:`SharedBudget` is the run's Salesforce budget (:class:`~cmsf_core.budget.ApiBudget`)
with its count kept in Redis under the run's id: every call any worker (or the
coordinator) makes is counted once there, and a call is only made after a Lua script has
*reserved* it atomically against the run's share and the org ceiling, so N workers can
never together spend more than one run may. The org's reported usage
(``Sforce-Limit-Info``) is shared the same way (the highest value seen wins).

:class:`CampaignMonitorGate` shares Campaign Monitor's rate limit: the remaining requests
of the current window (``X-RateLimit-Remaining`` / ``X-RateLimit-Reset``) are one Redis
counter that each request decrements first; when it is spent (or after a 429) every
worker waits for the window to reset instead of each finding out with its own 429.

A Redis outage is waited out (the client reconnects with back-off for
``broker_outage_seconds``); one that lasts longer fails the call that needed Redis
*before* anything is sent, with :class:`BrokerUnavailableError` (support code
``CMSF-BROKER-DOWN``), which stops the run as failed (the next run resumes). What Redis
is told *after* a request (a call counted, a rate-limit header) never fails the request:
a count that cannot be stored is kept and added at the next reservation.
"""

from __future__ import annotations

import math
from typing import Any

import httpx
import redis

from cmsf_core.budget import ApiBudget
from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import Clock
from cmsf_core.errors import BudgetExhaustedError, FatalError

__all__ = ["BrokerUnavailableError", "CampaignMonitorGate", "SharedBudget", "connect_redis"]

_RESERVE = """
local used = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
if used > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return -1
end
return used
"""
"""Count one call unless that would pass the allowance (returns -1 then)."""

_MAX = """
local now = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > now then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return 1
"""
"""Keep the highest value seen (the org's usage only grows within the day)."""

DAY = 86_400
_BACKOFF_BASE, _BACKOFF_CAP = 0.05, 1.0


class BrokerUnavailableError(FatalError):
    """Redis (the broker and the shared budget's store) stayed unreachable too long."""

    def __init__(self, what: str, error: BaseException) -> None:
        super().__init__(
            f"the broker (Redis) could not be reached to {what}: {type(error).__name__}; "
            "the run stops and the next one resumes",
            platform="broker",
            support_code="CMSF-BROKER-DOWN",
        )


def outage_retries(seconds: float) -> int:
    """Reconnection attempts whose back-off (0.05 s doubling, capped at 1 s) adds up to
    about ``seconds``."""
    retries, waited = 0, 0.0
    while waited < seconds:
        waited += min(_BACKOFF_CAP, _BACKOFF_BASE * 2**retries)
        retries += 1
    return max(1, retries)


def connect_redis(url: str, outage_seconds: float = 120.0) -> redis.Redis:
    """A Redis client that rides out a broker restart: every command is retried on a lost
    connection with exponential back-off (capped at one second) for ``outage_seconds``."""
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url,
        retry=Retry(
            ExponentialBackoff(cap=_BACKOFF_CAP, base=_BACKOFF_BASE), outage_retries(outage_seconds)
        ),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        socket_connect_timeout=5,
        socket_timeout=30,
    )


class SharedBudget(ApiBudget):
    """The run's Salesforce API budget, shared by every process of the run through Redis.

    Args:
        client: A Redis client (the broker's server).
        run_id: The run whose calls are counted.
        run_share: Share of the daily allocation the run may spend.
        org_ceiling: Stop once the org has used this share.
        reserve: Calls kept back to record a clean stop.
    """

    def __init__(
        self,
        client: redis.Redis,
        run_id: str,
        *,
        run_share: float = 0.25,
        org_ceiling: float = 0.9,
        reserve: int = 5,
    ) -> None:
        super().__init__(run_share=run_share, org_ceiling=org_ceiling, reserve=reserve)
        self.redis = client
        self.run_key = f"cmsf:budget:{run_id}:salesforce"
        self.max_key = f"cmsf:budget:{run_id}:daily_max"
        self.org_key = f"cmsf:budget:{run_id}:org_used"
        self._reserve = client.register_script(_RESERVE)
        self._max = client.register_script(_MAX)
        self._reserved = 0
        self._unsynced = 0
        self.local_calls = 0
        try:
            self._load()
        except redis.RedisError as exc:
            raise BrokerUnavailableError("read the run's API budget", exc) from None

    def _load(self) -> None:
        values = self.redis.mget([self.max_key, self.org_key])
        if values[0] is not None:
            self.daily_max = int(values[0])
        if values[1] is not None:
            self.org_used = int(values[1])

    @property
    def run_calls(self) -> int:
        """Calls the whole run has made, every process together."""
        try:
            value = self.redis.get(self.run_key)
        except redis.RedisError as exc:
            raise BrokerUnavailableError("read the run's API count", exc) from None
        return (int(value) if value is not None else 0) + self._unsynced

    @run_calls.setter
    def run_calls(self, value: int) -> None:
        """Ignored: the shared count only moves through reservations and counts."""

    def observe(self, used: int, maximum: int) -> None:
        """Share the org's reported usage and allocation."""
        super().observe(used, maximum)
        try:
            self.redis.set(self.max_key, maximum, ex=DAY)
            self._max(keys=[self.org_key], args=[used, DAY])
            value = self.redis.get(self.org_key)
        except redis.RedisError:
            return  # after the response: never fail it; the next check reads Redis again
        self.org_used = int(value) if value is not None else used

    def check(self) -> None:
        """Reserve the next call against the shared count, or raise if it would overspend.

        Raises:
            BudgetExhaustedError: When the run's share or the org ceiling is reached.
            BrokerUnavailableError: When Redis stayed unreachable (nothing was sent).
        """
        try:
            self._load()
            if self._unsynced:  # calls counted while Redis was away
                self.redis.incrby(self.run_key, self._unsynced)
                self.redis.expire(self.run_key, DAY)
                self._unsynced = 0
            if self.daily_max is None:
                return
            super().check()  # the org ceiling, and the share as every process has spent it
            allowance = (self.run_allowance or 0) - self.reserve
            reserved = int(self._reserve(keys=[self.run_key], args=[allowance, DAY]))
        except redis.RedisError as exc:
            raise BrokerUnavailableError("reserve a Salesforce API call", exc) from None
        if reserved < 0:
            super().check()  # another process took the last call meanwhile: says which limit
            raise BudgetExhaustedError(
                f"this run's share of Salesforce API calls ({allowance:,}) is spent; "
                "stopping cleanly",
                platform="salesforce",
                support_code="CMSF-API-RUN",
            )
        self._reserved += 1

    def count(self) -> None:
        """Count one call made (already counted when it was reserved)."""
        self.local_calls += 1
        if self._reserved:
            self._reserved -= 1
        else:  # a call made past the budget (recording a stop) or a retry inside one
            try:
                self.redis.incr(self.run_key)
                self.redis.expire(self.run_key, DAY)
            except redis.RedisError:
                self._unsynced += 1  # the call was made: never fail it, count it later


class CampaignMonitorGate:
    """Campaign Monitor's rate limit, shared by every worker through Redis.

    Install it on an httpx client's event hooks (:meth:`install`): before a request it
    takes one from the shared remaining count of the window (waiting for the reset when
    there is none); after a response it lowers the count to what Campaign Monitor said.

    Args:
        client: A Redis client.
        account: What identifies the account's limit (a digest of the credential).
        clock: Waits happen on it.
    """

    def __init__(self, client: redis.Redis, account: str, clock: Clock) -> None:
        self.redis = client
        self.clock = clock
        self.remaining_key = f"cmsf:cm-rate:{account}:remaining"
        self.waits = 0

    def install(self, client: CampaignMonitorClient) -> None:
        """Hook into a Campaign Monitor client's requests and responses."""
        client.add_event_hooks(request=self.before, response=self.after)

    def before(self, request: httpx.Request) -> None:
        """Take one request from the shared window; wait for its reset when none is left.

        Raises:
            BrokerUnavailableError: When Redis stayed unreachable (nothing was sent).
        """
        try:
            self._take()
        except redis.RedisError as exc:
            raise BrokerUnavailableError("share Campaign Monitor's rate limit", exc) from None

    def _take(self) -> None:
        for _ in range(1000):
            left = self.redis.decr(self.remaining_key)
            if left >= 0 or self.redis.ttl(self.remaining_key) < 0:
                if left < 0:  # no known window (never seen, or expired): go ahead
                    self.redis.delete(self.remaining_key)
                return
            self.redis.incr(self.remaining_key)  # give back what was not taken
            self.waits += 1
            ttl_ms = max(1, int(self.redis.pttl(self.remaining_key)))
            self.clock.sleep(min(ttl_ms / 1000.0, 60.0))

    def after(self, response: httpx.Response) -> None:
        """Learn the window from ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``."""
        headers: Any = response.headers
        remaining, reset = headers.get("X-RateLimit-Remaining"), headers.get("X-RateLimit-Reset")
        if response.status_code == 429:
            remaining = "0"
        try:
            left = int(remaining) if remaining is not None else None
            seconds = float(reset) if reset is not None else None
        except ValueError:
            return
        if left is None or seconds is None or seconds <= 0:
            return
        milliseconds = max(1, math.ceil(seconds * 1000))
        try:
            current = self.redis.get(self.remaining_key)
            if current is None or int(current) > left:
                self.redis.set(self.remaining_key, left, px=milliseconds)
        except redis.RedisError:
            return  # after the response: never fail it; the next request asks Redis again
