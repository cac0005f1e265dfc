"""A ``cmsf worker`` that waits two seconds for a Bulk API job instead of the settings'.

Run as ``python short_bulk_wait_worker.py [cmsf worker options]``: ``bulk_wait_minutes``
is at least a minute, on the wall clock of a real worker; the bound is shortened so a
test of a job still queued at the bound does not wait a minute.
"""

from __future__ import annotations

import sys
from typing import Any

from cmsf_core.cli import main
from cmsf_core.distributed import tasks

configure = tasks.configure_platforms


def configure_platforms(gateway: Any, cm: Any, settings: Any) -> None:
    configure(gateway, cm, settings)
    gateway.bulk_wait_seconds = 2.0


tasks.configure_platforms = configure_platforms
sys.exit(main(["worker", *sys.argv[1:]]))
