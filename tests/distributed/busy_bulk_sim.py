"""An ``sf-sim serve`` whose bulk queue another app's job holds until a file appears.

Run as ``python busy_bulk_sim.py RELEASE_FILE [sf-sim serve options]``: the org starts with
another app's Bulk API job in its queue (as the ``sf_bulk_queue_busy`` timeline event
adds one), so every job the sync closes waits behind it (``UploadComplete``); once
``RELEASE_FILE`` exists the other app's job ends and the queue runs the sync's jobs.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sf_sim import cli
from sf_sim.bulk_queue import BulkQueue
from sf_sim.models import Org

RELEASE = Path(sys.argv.pop(1))
advance = BulkQueue.advance


def released(self: BulkQueue, process: Any) -> int:
    if RELEASE.exists():
        for job in self.pending():
            if job.foreign:
                job.duration = 0.0
    return advance(self, process)


def busy_org(*args: Any, **kwargs: Any) -> Org:
    org = Org(*args, **kwargs)
    org.bulk.add_foreign_job(timedelta(days=1))
    return org


BulkQueue.advance = released  # type: ignore[method-assign]
cli.Org = busy_org  # type: ignore[attr-defined,assignment]
cli.main()
