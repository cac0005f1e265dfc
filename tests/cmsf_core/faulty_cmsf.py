"""``cmsf`` with a platform fault injected into the simulators it opens (test harness).

Usage: ``python faulty_cmsf.py FAULT cmsf-arguments...``. FAULT is one of:

- ``cm-auth``: the Campaign Monitor API key is wrong (Campaign Monitor answers 401);
- ``sf-task-field-hidden``: the sync user cannot see a Task field the smart email tasks
  job reads (that job fails; the others complete);
- ``cm-tx-storm``: Campaign Monitor answers every smart email send with 429.
- ``sf-bulk-busy``: other apps' Bulk API jobs hold the org's bulk queue for three hours,
  and waiting takes no real time (the clock jumps ahead when the engine sleeps).

The CLI itself runs unchanged (``cmsf_core.cli.main``), in this process.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import scenarios.world as world_module
from cmsf_core import campaign_monitor
from cmsf_core.cli import base, main
from cmsf_core.clock import SystemClock

FAULTS = {"cm-auth", "cm-tx-storm", "sf-task-field-hidden", "sf-bulk-busy"}


class JumpingClock(SystemClock):
    """The wall clock, pushed ahead by every sleep instead of blocking."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def now(self) -> datetime:
        """The wall clock plus every sleep so far."""
        return datetime.now(UTC) + self.ahead

    def sleep(self, seconds: float) -> None:
        """Jump ahead instead of waiting."""
        self.ahead += timedelta(seconds=max(seconds, 0))


def _inject(fault: str, world: Any) -> None:
    if fault == "cm-auth":
        client = campaign_monitor.CampaignMonitorClient
        init = client.__init__

        def wrong_key(self: Any, *args: Any, **kwargs: Any) -> None:
            init(self, *args, **{**kwargs, "api_key": "not-the-key"})

        client.__init__ = wrong_key  # type: ignore[method-assign]
    elif fault == "sf-task-field-hidden":
        world.org.control.hide_field("Task", "CMSF_Message_Status__c")
    elif fault == "cm-tx-storm":
        world.account.rate_limit_storm("/send")
    elif fault == "sf-bulk-busy":
        world.org.bulk.add_foreign_job(timedelta(hours=3))


def run() -> None:
    """Patch ``open_world`` to inject the fault, then run ``cmsf``."""
    fault, args = sys.argv[1], sys.argv[2:]
    if fault not in FAULTS:
        raise SystemExit(f"unknown fault {fault!r}; known: {', '.join(sorted(FAULTS))}")
    original = world_module.open_world

    def faulty_open_world(org_path: Path, account_path: Path, **kwargs: Any) -> Any:
        world = original(org_path, account_path, **kwargs)
        _inject(fault, world)
        return world

    world_module.open_world = faulty_open_world
    if fault == "sf-bulk-busy":
        base.SystemClock = JumpingClock  # type: ignore[misc]
    main(args=args, prog_name="cmsf")


if __name__ == "__main__":
    run()
