"""A ``cmsf worker`` whose campaigns task for one client always crashes (a poison task).

Run as ``python poison_worker.py CLIENT_NAME [cmsf worker options]``; the crash is an
unexpected exception, as a bug or a hostile record would raise.
"""

from __future__ import annotations

import sys

from cmsf_core.cli import main
from cmsf_core.jobs import JOBS

POISONED = sys.argv.pop(1)
job = JOBS["campaigns"]
original = job.execute


def execute(self, scope):  # type: ignore[no-untyped-def]
    client = self.ctx.directory.client_by_id(str(scope["client"]))
    if client is not None and client.cm_id == POISONED:
        raise RuntimeError(f"poison scope of client {POISONED}")
    return original(self, scope)


job.execute = execute  # type: ignore[method-assign]
sys.exit(main(["worker", *sys.argv[1:]]))
