"""Faults inside a run: armed by a timeline event, fired at the k-th API call of a platform.

Outages, 429 storms and expired sessions scheduled on the timeline happen *between*
runs (or for a stretch of virtual time). Some failures only matter at one precise point
of a run — a session that expires between the calls of a Bulk API job, a lock met by
the fifth write, a timeout after Salesforce committed a write but before the engine
heard of it. The ``fault_in_run`` event arms such a fault for the next run; the runner
installs request hooks on the engine's connections (``Engine.on_gateway`` for the
Salesforce gateway, the Campaign Monitor client's ``on_request``) that count the run's
calls to each platform and fire the fault at call number ``at_call`` — counted from the
run's start, or from the first call matching ``after`` (a regular expression over
``METHOD path``, such as ``POST .*/jobs/ingest$``: ``at_call: 1`` is then the call right
after it):

======================  =====================================================================
fault                   what the k-th call meets
======================  =====================================================================
``session_expired``     Salesforce: every session has ended (the engine must log in again)
``row_lock``            Salesforce: ``UNABLE_TO_LOCK_ROW`` for the next ``count`` record
                        writes to ``object``
``server_error``        a 5xx (``status``) for ``count`` requests in a row, from the simulator
``timeout``             Campaign Monitor: no answer in time; Salesforce: the answer of call k
                        is lost after the server did the work (the client times out)
``rate_limit``          Campaign Monitor: 429 for ``count`` requests
======================  =====================================================================

A fault lasts no longer than its run: what is left of it when the run ends (requests of
a ``count`` not used up, a lock not met) is dropped, and so is a fault the run never
reached (it made fewer calls); the timeline says which faults fired and where.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from cmsf_core.salesforce import SalesforceGateway
    from scenarios.play import Play

__all__ = ["CM_FAULTS", "PLATFORMS", "SF_FAULTS", "ArmedFault", "RunFaults"]

SF_FAULTS = ("session_expired", "row_lock", "server_error", "timeout")
CM_FAULTS = ("server_error", "timeout", "rate_limit")
PLATFORMS = {"salesforce": SF_FAULTS, "campaign_monitor": CM_FAULTS}


@dataclass
class ArmedFault:
    """A fault waiting for call ``at_call`` of the next run to ``platform``.

    Attributes:
        platform: ``salesforce`` or ``campaign_monitor``.
        at_call: The call (1 is the run's first call to that platform) that meets it.
        kind: One of :data:`SF_FAULTS` or :data:`CM_FAULTS`.
        count: Requests (or record writes, for a lock) that fail.
        status: The 5xx status of a ``server_error``.
        object: The locked object of a ``row_lock``.
        after: Count calls from the first one matching this (``METHOD path``), if given.
        fired: Where it fired (``call 12: PATCH /services/...``), once it has.
        base: The number of the call that matched ``after``, once one has.
    """

    platform: str
    at_call: int
    kind: str
    count: int = 1
    status: int = 503
    object: str | None = None
    after: re.Pattern[str] | None = None
    fired: str | None = None
    base: int | None = None

    def describe(self) -> str:
        """The fault in words: ``Salesforce session_expired at call 40``."""
        platform = "Salesforce" if self.platform == "salesforce" else "Campaign Monitor"
        since = f" after '{self.after.pattern}'" if self.after is not None else ""
        return f"{platform} {self.kind} at call {self.at_call}{since}"

    def target(self) -> int | None:
        """The number of the call that meets the fault (None until ``after`` was seen)."""
        if self.after is None:
            return self.at_call
        return None if self.base is None else self.base + self.at_call

    def notice(self, number: int, method: str, path: str) -> None:
        """Start counting once call ``number`` is the first to match ``after``."""
        if self.after is not None and self.base is None and self.after.search(f"{method} {path}"):
            self.base = number


class SalesforceTimeoutError(requests.exceptions.ReadTimeout):
    """The answer of one Salesforce call never reached the engine (it timed out)."""


class RunFaults:
    """The faults armed for the next run of a play, and the hooks that fire them.

    Args:
        play: The play whose simulators the faults act on.
    """

    def __init__(self, play: Play) -> None:
        self.play = play
        self.armed: list[ArmedFault] = []
        self.calls: Counter[str] = Counter()
        self.active = False
        self._undo: list[Callable[[], None]] = []

    def arm(self, fault: ArmedFault) -> None:
        """Keep ``fault`` for the next run."""
        self.armed.append(fault)

    def start_run(self) -> None:
        """A run begins: count its calls from zero."""
        self.calls.clear()
        self.active = True

    def end_run(self) -> list[str]:
        """The run ended: drop every armed fault and what is left of those that fired.

        Returns:
            Which faults fired (and where) and which the run never reached.
        """
        self.active = False
        for undo in self._undo:
            undo()
        self._undo = []
        said = [
            f"{f.describe()} fired ({f.fired})"
            if f.fired
            else f"{f.describe()} not met (the run made {self.calls[f.platform]} calls)"
            for f in self.armed
        ]
        self.armed = []
        return said

    # ------------------------------------------------------------------ hooks

    def on_gateway(self, gateway: SalesforceGateway) -> None:
        """Install the Salesforce request hook on a new gateway (``Engine.on_gateway``)."""
        gateway.on_request = self.salesforce_request
        if self.active:
            self._fire_before("salesforce", self.calls["salesforce"] + 1, "before the call")

    def salesforce_request(self, method: str, path: str) -> None:
        """After each Salesforce answer: count it, and fire what is due."""
        if not self.active:
            return
        self.calls["salesforce"] += 1
        number = self.calls["salesforce"]
        self._notice("salesforce", number, method, path)
        for fault in self._due("salesforce", number, ("timeout",)):
            fault.fired = f"call {number}: {method} {path}"
            raise SalesforceTimeoutError(f"Salesforce call {number} timed out ({method} {path})")
        self._fire_before("salesforce", number + 1, f"after call {number}: {method} {path}")

    def campaign_monitor_request(self, method: str, path: str) -> None:
        """Before each Campaign Monitor request: count it, and fire what is due."""
        if not self.active:
            return
        self.calls["campaign_monitor"] += 1
        number = self.calls["campaign_monitor"]
        for fault in self._due("campaign_monitor", number, CM_FAULTS):
            fault.fired = f"call {number}: {method} {path}"
            account = self.play.account
            if fault.kind == "server_error":
                made = account.start_outage(".*", status=fault.status, count=fault.count)
            elif fault.kind == "timeout":
                made = account.time_out(".*", count=fault.count)
            else:
                made = account.rate_limit_storm(".*", count=fault.count)
            self._undo.append(partial(_discard, account.faults, made))
        self._notice("campaign_monitor", number, method, path)

    # ------------------------------------------------------------------ firing

    def _notice(self, platform: str, number: int, method: str, path: str) -> None:
        for fault in self.armed:
            if fault.platform == platform:
                fault.notice(number, method, path)

    def _due(self, platform: str, number: int, kinds: tuple[str, ...]) -> list[ArmedFault]:
        return [
            f
            for f in self.armed
            if f.platform == platform and f.target() == number and f.kind in kinds and not f.fired
        ]

    def _fire_before(self, platform: str, number: int, where: str) -> None:
        """Arm the simulator so that Salesforce call ``number`` meets its fault."""
        control: Any = self.play.org.control
        for fault in self._due(platform, number, ("session_expired", "row_lock", "server_error")):
            fault.fired = f"call {number}, armed {where}"
            if fault.kind == "session_expired":
                control.expire_sessions()
            elif fault.kind == "row_lock":
                lock = control.lock(object_name=fault.object, attempts=fault.count)
                self._undo.append(partial(_discard, control.locks, lock))
            else:
                outage = control.unavailable(status=fault.status, requests=fault.count)
                self._undo.append(partial(_discard, control.outages, outage))


def _discard(items: list[Any], item: Any) -> None:
    """Remove ``item`` from ``items`` if it is still there (its count may have run out)."""
    if item in items:
        items.remove(item)
