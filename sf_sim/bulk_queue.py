"""The org's Bulk API processing queue: jobs wait their turn and take time, on the virtual clock.

On the platform a closed Bulk API 2.0 ingest job (``UploadComplete``) joins every other
bulk job of the org and is processed when resources free up: a busy org (another app's
nightly load, a data migration) makes a job wait in ``UploadComplete``, then sit
``InProgress`` while its batches run. The queue models that with one lane per org:

- jobs are processed one after another, in the order they were closed (query jobs in the
  order they were created);
- each takes :attr:`BulkQueue.seconds_per_batch` for each internal batch of 10,000
  records (default 0: a quiet org processes a job the moment it is closed);
- other work holds the lane: :meth:`BulkQueue.add_foreign` queues jobs of another app
  that take a given time, listed by ``GET jobs/ingest`` like any job.

A job's state follows the clock: ``UploadComplete`` until its turn, ``InProgress`` while
it runs; at its end the work is done (records written, query results fixed) and the job
is ``JobComplete`` or ``Failed``. Nothing runs in the background (save a served org's
just-closed job, processed after its close request answered, with every later request
waiting for it: :mod:`sf_sim.bulk_worker`): the queue is brought up
to the clock's current time whenever the org answers a request or a job is read
(:meth:`BulkQueue.advance`), so the same timeline always gives the same states.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sf_sim.bulk import Job
    from sf_sim.models import Org

__all__ = ["BulkQueue"]

BATCH_RECORDS = 10_000


class BulkQueue:
    """The processing lane of one org's Bulk API 2.0 jobs."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.seconds_per_batch = 0.0
        self._lane: list[Job] = []
        self._free_at: datetime | None = None

    def reset(self) -> None:
        """An idle, fast queue again (pending jobs stay where they are)."""
        self.seconds_per_batch = 0.0

    def enqueue(self, job: Job, records: int) -> None:
        """Put a closed job (or a new query job) at the end of the lane.

        Args:
            job: The job; its ``closed_at`` and ``duration`` are set here.
            records: How many records it holds (its batches decide how long it runs).
        """
        batches = max(1, math.ceil(records / BATCH_RECORDS))
        job.closed_at = self.org.clock.now()
        if job.duration is None:
            job.duration = self.seconds_per_batch * batches
        self._lane.append(job)

    def add_foreign(self, job: Job, duration: timedelta) -> None:
        """Queue another app's job that holds the lane for ``duration``."""
        job.duration = duration.total_seconds()
        job.closed_at = self.org.clock.now()
        self._lane.append(job)

    def remove(self, job: Job) -> None:
        """Take an aborted job out of the lane (the jobs behind it move up)."""
        if job in self._lane:
            self._lane.remove(job)

    def pending(self) -> list[Job]:
        """Jobs waiting or running, in lane order."""
        return list(self._lane)

    def wait_until(self, job: Job) -> datetime | None:
        """When ``job`` will be finished if nothing else joins (None if not in the lane)."""
        at: datetime | None = None
        for queued in self._lane:
            assert queued.closed_at is not None
            start = queued.closed_at if at is None else max(at, queued.closed_at)
            at = start + timedelta(seconds=queued.duration or 0)
            if queued is job:
                return at
        return None

    def advance(self, process: Callable[[Job], Any]) -> int:
        """Bring the lane up to the clock: start due jobs, finish (``process``) ended ones.

        Args:
            process: Does a job's work when its time has come (sets its final state).

        Returns:
            How many jobs finished.
        """
        now = self.org.clock.now()
        finished = 0
        at: datetime | None = None
        for job in list(self._lane):
            if job.state in ("JobComplete", "Failed", "Aborted"):
                self._lane.remove(job)
                continue
            assert job.closed_at is not None
            start = job.closed_at if at is None else max(at, job.closed_at)
            if job.started_at is not None:
                start = job.started_at
            end = start + timedelta(seconds=job.duration or 0)
            if end <= now:
                job.started_at = start
                process(job)
                self._lane.remove(job)
                finished += 1
            elif start <= now:
                job.started_at = start
                job.state = "InProgress"
            at = end
        return finished
