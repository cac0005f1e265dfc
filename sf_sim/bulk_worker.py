"""A served org processes closed Bulk API 2.0 ingest jobs after the close request answered.

On the platform, closing an ingest job (``PATCH .../jobs/ingest/ID`` with
``UploadComplete``) only queues it: the request answers at once and the job is processed
in the org's queue while the client goes on with other work. A served org
(``sf-sim serve``) does the same with one worker thread: the close request answers
``UploadComplete`` and the worker brings the bulk queue up to the clock
(:meth:`sf_sim.bulk.BulkJobs.advance`) once the request has let go of the org.

Deterministically: every later request first waits until that processing has finished
(:meth:`BulkWorker.settle`, a barrier at the start of each request), so the org's state
changes in the same order whatever the timing, exactly as if the job had been processed
inside the close request. Only what does not touch the org overlaps with it: the client's
own work, and its calls to other services. A job behind other work in a busy org's queue
(:mod:`sf_sim.bulk_queue`) is not due when the worker looks; later requests process it on
the virtual clock as before. An org used in process (no server) keeps processing a quiet
org's job inside the close call.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sf_sim.bulk import BulkJobs

__all__ = ["BulkWorker"]

log = logging.getLogger("sf_sim")


class BulkWorker:
    """The background worker of one org's Bulk API queue (see the module docstring)."""

    def __init__(self, jobs: BulkJobs) -> None:
        self._jobs = jobs
        self._changed = threading.Condition()
        self._due = False
        self._busy = False
        self._thread = threading.Thread(target=self._loop, name="sf-sim-bulk", daemon=True)
        self._thread.start()

    def schedule(self) -> None:
        """Bring the queue up to the clock once the current request has let go of the org."""
        with self._changed:
            self._due = True
            self._changed.notify_all()

    def settle(self) -> None:
        """Wait until scheduled processing has finished (the barrier before each request)."""
        with self._changed:
            while self._due or self._busy:
                self._changed.wait()

    def _loop(self) -> None:
        while True:
            with self._changed:
                while not self._due:
                    self._changed.wait()
                self._due, self._busy = False, True
            try:
                self._jobs.advance()
            except Exception:  # a simulator bug must not stop the worker (or hang the barrier)
                log.exception("sf_sim: unexpected error processing Bulk API jobs")
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()
