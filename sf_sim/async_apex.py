"""The async Apex runtime: batch jobs, the flex queue, queueables and scheduled jobs.

Jobs are Python callables standing in for Apex classes; their state lives in real
``AsyncApexJob`` and ``CronTrigger`` rows, so clients see them through SOQL.

- **Batch** (:meth:`AsyncApex.execute_batch`): at most five batch jobs are Queued or
  running; the rest wait ``Holding`` in the flex queue (FIFO, 100 at most: the 101st is
  refused with the platform's ``System.AsyncException`` text). A run goes Preparing
  (``start``) → Processing (``execute`` per scope of ``scope_size`` records) →
  Completed; a failing scope does not fail the job: ``NumberOfErrors`` grows and
  ``ExtendedStatus`` keeps the first error. ``start`` failing fails the job.
- **Queueable** (:meth:`AsyncApex.enqueue_job`): Queued → Processing → Completed or
  Failed. A synchronous transaction may enqueue 50, an asynchronous one 1 ("Too many
  queueable jobs added to the queue: 2").
- **Scheduled** (:meth:`AsyncApex.schedule`): a CronTrigger (``WAITING``) whose
  ``NextFireTime`` follows its cron expression in the owner's time zone; when due, a
  ``ScheduledApex`` job runs with synchronous limits.
- **Stuck jobs** (:meth:`AsyncApex.inject_stuck`) hold a slot until released or aborted.

Nothing runs by itself: :meth:`AsyncApex.run` processes what is due at the clock's
current time, so tests decide when the platform's queue moves. A *clocked* org
(``org.apex.clocked = True``, what scenario worlds use) moves on the virtual clock
instead: every request the org answers first brings the queue up to the clock's time
(:meth:`AsyncApex.catch_up`). A job then starts when it is Queued, stays Processing for
its ``duration`` (virtual seconds, 0 by default), does its work and completes at its end
time, and the flex queue's next job is promoted at that instant, so five slow jobs keep
every later one Holding until they end, as on the platform.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sf_sim.apex_limits import (
    ASYNC_LIMITS,
    SYNC_LIMITS,
    ApexTransaction,
    LimitException,
    apex_exception_name,
)
from sf_sim.cron import CronExpression
from sf_sim.exceptions import SfSimError
from sf_sim.schema import format_datetime, parse_datetime

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["MAX_ACTIVE_BATCHES", "MAX_FLEX_QUEUE", "ApexContext", "AsyncApex", "AsyncException"]

MAX_ACTIVE_BATCHES = 5
MAX_FLEX_QUEUE = 100
MAX_SCOPE = 2000
_ACTIVE = ("Queued", "Preparing", "Processing")


class AsyncException(SfSimError):
    """``System.AsyncException``: the platform refuses to queue or schedule a job."""

    apex_name = "System.AsyncException"


@dataclass
class ApexContext:
    """What a job's callables receive (``Database.BatchableContext`` and friends)."""

    org: Org
    job_id: str
    runtime: AsyncApex
    is_async: bool = True

    def enqueue_job(self, class_name: str, run: Callable[[ApexContext], None]) -> str:
        """``System.enqueueJob`` from inside this job (one per async transaction)."""
        return self.runtime.enqueue_job(class_name, run)

    def execute_batch(
        self, class_name: str, execute: Callable[[ApexContext, list[Any]], None], **kwargs: Any
    ) -> str:
        """``Database.executeBatch`` from inside this job (chaining from ``finish``)."""
        return self.runtime.execute_batch(class_name, execute=execute, **kwargs)


@dataclass
class _Job:
    kind: str
    start: Callable[[ApexContext], Iterable[Any]] | None = None
    execute: Callable[..., None] | None = None
    finish: Callable[[ApexContext], None] | None = None
    scope_size: int = 200
    stuck: bool = False
    duration: float = 0.0
    queued_at: datetime | None = None
    ends_at: datetime | None = None
    done: bool = False


@dataclass
class _Scheduled:
    cron: CronExpression
    class_name: str
    run: Callable[[ApexContext], None]
    zone: str


class AsyncApex:
    """The async Apex runtime of one org."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._jobs: dict[str, _Job] = {}
        self._flex: list[str] = []
        self._scheduled: dict[str, _Scheduled] = {}
        self.executions: list[str] = []
        self.clocked = False
        self._at: datetime | None = None

    # ------------------------------------------------------------------ helpers

    def _instant(self) -> datetime:
        """The time the queue is at: a job's end while catching up, else the clock's."""
        return self._at or self.org.clock.now()

    def _now(self) -> str:
        return format_datetime(self._instant())

    def _class_id(self, name: str) -> str:
        found = self.org.store.scalar("SELECT Id FROM ApexClass WHERE Name = ?", (name,))
        if found:
            return str(found)
        return self.org.create("ApexClass", {"Name": name, "Status": "Active"}, system=True)

    def _new_job(self, job_type: str, class_name: str, status: str, **extra: Any) -> str:
        values = {
            "JobType": job_type,
            "ApexClassId": self._class_id(class_name),
            "Status": status,
            **extra,
        }
        values.setdefault("JobItemsProcessed", 0)
        values.setdefault("TotalJobItems", 0)
        values.setdefault("NumberOfErrors", 0)
        return self.org.create("AsyncApexJob", values, system=True)

    def _set(self, job_id: str, **values: Any) -> None:
        self.org.update("AsyncApexJob", job_id, values, system=True)

    def status(self, job_id: str) -> str:
        """A job's ``Status``."""
        return str(self.org.get("AsyncApexJob", job_id)["Status"])

    def _active_batches(self) -> int:
        marks = ", ".join("?" for _ in _ACTIVE)
        return int(
            self.org.store.scalar(
                f"SELECT COUNT(*) FROM AsyncApexJob WHERE JobType = 'BatchApex' AND Status IN ({marks})",
                _ACTIVE,
            )
            or 0
        )

    # ------------------------------------------------------------------ submitting

    def execute_batch(
        self,
        class_name: str,
        *,
        execute: Callable[[ApexContext, list[Any]], None],
        start: Callable[[ApexContext], Iterable[Any]] | None = None,
        finish: Callable[[ApexContext], None] | None = None,
        scope_size: int = 200,
        duration: float = 0.0,
    ) -> str:
        """``Database.executeBatch``: queue a batch job (Holding when five are active).

        Args:
            class_name: The batch class's name (an ApexClass row is created if needed).
            execute: Called with each scope (a list of what ``start`` yielded).
            start: Yields the records or items to process (SOQL through ``ctx.org``).
            finish: Called once after the last scope.
            scope_size: Items per ``execute`` call (1..2000).
            duration: Virtual seconds the job runs once started (on a clocked org).

        Returns:
            The AsyncApexJob Id (707).

        Raises:
            AsyncException: When the flex queue already holds 100 jobs.
            ValueError: For a scope size outside 1..2000.
        """
        if not 1 <= scope_size <= MAX_SCOPE:
            raise ValueError(f"scope size must be 1..{MAX_SCOPE}")
        active = self._active_batches()
        if active >= MAX_ACTIVE_BATCHES and len(self._flex) >= MAX_FLEX_QUEUE:
            raise AsyncException(
                f"You've exceeded the limit of {MAX_FLEX_QUEUE} jobs in the flex queue for org {self.org.org_id[:15]}. "
                "Wait for some of your batch jobs to finish before adding more. To monitor and reorder jobs, "
                "use the Apex Flex Queue page in Setup."
            )
        status = "Queued" if active < MAX_ACTIVE_BATCHES and not self._flex else "Holding"
        job_id = self._new_job("BatchApex", class_name, status, MethodName=None)
        self._jobs[job_id] = _Job(
            "BatchApex", start, execute, finish, scope_size, duration=max(0.0, float(duration))
        )
        if status == "Holding":
            self._flex.append(job_id)
        else:
            self._jobs[job_id].queued_at = self._instant()
        return job_id

    def enqueue_job(
        self, class_name: str, run: Callable[[ApexContext], None], *, duration: float = 0.0
    ) -> str:
        """``System.enqueueJob``: queue a Queueable.

        Inside Apex (a trigger or a running job) this counts against the transaction:
        50 from a synchronous one, 1 from an asynchronous one.

        Args:
            class_name: The Queueable class's name.
            run: Its ``execute``.
            duration: Virtual seconds the job runs once started (on a clocked org).

        Raises:
            LimitException: "Too many queueable jobs added to the queue: N".
        """
        self.org.control.count_apex("queueable")
        job_id = self._new_job("Queueable", class_name, "Queued")
        self._jobs[job_id] = _Job(
            "Queueable", execute=run, duration=max(0.0, float(duration)), queued_at=self._instant()
        )
        return job_id

    def schedule(
        self, name: str, cron: str, class_name: str, run: Callable[[ApexContext], None]
    ) -> str:
        """``System.schedule``: a CronTrigger that runs ``run`` when the expression fires.

        Returns:
            The CronTrigger Id (08e).

        Raises:
            AsyncException: If a job with that name is already scheduled.
            CronError: For a malformed expression.
        """
        expression = CronExpression.parse(cron)
        if self.org.store.scalar("SELECT COUNT(*) FROM CronJobDetail WHERE Name = ?", (name,)):
            raise AsyncException(f'The Apex job named "{name}" is already scheduled for execution.')
        zone = self.org.user_timezone()
        detail = self.org.create("CronJobDetail", {"Name": name, "JobType": "7"}, system=True)
        following = expression.next_after(self.org.clock.now(), zone)
        trigger = self.org.create(
            "CronTrigger",
            {
                "CronExpression": cron,
                "CronJobDetailId": detail,
                "State": "WAITING",
                "StartTime": self._now(),
                "NextFireTime": format_datetime(following) if following else None,
                "TimesTriggered": 0,
                "TimeZoneSidKey": zone,
            },
            system=True,
        )
        self._scheduled[trigger] = _Scheduled(expression, class_name, run, zone)
        return trigger

    def inject_stuck(
        self,
        class_name: str = "StuckBatch",
        *,
        job_type: str = "BatchApex",
        status: str = "Processing",
    ) -> str:
        """A job that never progresses (it holds a batch slot) until released or aborted."""
        job_id = self._new_job(job_type, class_name, status)
        self._jobs[job_id] = _Job(job_type, stuck=True)
        return job_id

    def stuck_jobs(self, job_type: str | None = None) -> list[str]:
        """Ids of injected stuck jobs still open (of one ``JobType``, or all)."""
        return [
            job_id
            for job_id, job in self._jobs.items()
            if job.stuck
            and not job.done
            and (job_type is None or job.kind == job_type)
            and self.status(job_id) not in ("Completed", "Failed", "Aborted")
        ]

    def release(self, job_id: str) -> None:
        """Let a stuck job complete."""
        self._jobs[job_id].stuck = False
        self._set(job_id, Status="Completed", CompletedDate=self._now())

    def abort(self, job_id: str) -> None:
        """``System.abortJob`` for an AsyncApexJob (707) or a CronTrigger (08e)."""
        if job_id.startswith("08e"):
            self._scheduled.pop(job_id, None)
            self.org.update(
                "CronTrigger", job_id, {"State": "DELETED", "NextFireTime": None}, system=True
            )
            return
        if job_id in self._flex:
            self._flex.remove(job_id)
        if job_id in self._jobs:
            self._jobs[job_id].done = True
        if self.status(job_id) not in ("Completed", "Failed", "Aborted"):
            self._set(job_id, Status="Aborted", CompletedDate=self._now())

    def flex_queue(self) -> list[str]:
        """Holding batch jobs in order (position 0 runs next)."""
        return list(self._flex)

    def move_to_front(self, job_id: str) -> bool:
        """``FlexQueue.moveJobToFront``; False if the job is not in the flex queue."""
        if job_id not in self._flex:
            return False
        self._flex.remove(job_id)
        self._flex.insert(0, job_id)
        return True

    # ------------------------------------------------------------------ running

    def run(self) -> int:
        """One tick of the queue at the clock's current time.

        Fires due schedules, promotes holding batch jobs into free slots, runs the jobs
        that were queued when the tick began (jobs they enqueue or chain wait for the
        next tick), then promotes again.

        Returns:
            How many jobs ran.
        """
        with self.org.store.lock:
            return self._tick()

    def _tick(self) -> int:
        self._fire_schedules()
        self._promote()
        queued = [
            row["Id"]
            for row in self.org.store.select(
                "SELECT Id FROM AsyncApexJob WHERE Status = 'Queued' ORDER BY CreatedDate, Id"
            )
            if row["Id"] in self._jobs and not self._jobs[row["Id"]].stuck
        ]
        for job_id in queued:
            self._run_job(job_id)
        self._promote()
        return len(queued)

    def run_until_idle(self, max_ticks: int = 100) -> int:
        """Tick until nothing runs (or ``max_ticks``, for self-chaining jobs); returns jobs run."""
        total = 0
        for _ in range(max_ticks):
            ran = self.run()
            total += ran
            if not ran:
                break
        return total

    def _promote(self) -> None:
        while self._flex and self._active_batches() < MAX_ACTIVE_BATCHES:
            job_id = self._flex.pop(0)
            self._set(job_id, Status="Queued")
            self._jobs[job_id].queued_at = self._instant()

    # ------------------------------------------------------------------ on the clock

    def catch_up(self) -> int:
        """Bring a clocked org's queue up to the clock's current time.

        Jobs start when Queued, run for their ``duration`` and finish in end-time order;
        each end frees a slot for the flex queue's next job at that very instant. Does
        nothing on an org that is not ``clocked``.

        Returns:
            How many jobs finished.
        """
        if not self.clocked:
            return 0
        with self.org.store.lock:
            self._fire_schedules()
            now = self.org.clock.now()
            finished = 0
            while True:
                self._promote()
                self._start_queued(now)
                due = sorted(
                    (job.ends_at, job_id)
                    for job_id, job in self._jobs.items()
                    if job.ends_at is not None and not job.done and job.ends_at <= now
                )
                if not due:
                    return finished
                at, job_id = due[0]
                self._at = at
                try:
                    self._jobs[job_id].done = True
                    self._run_job(job_id)
                    self._promote()
                finally:
                    self._at = None
                finished += 1

    def _start_queued(self, now: datetime) -> None:
        """Queued jobs start: Processing until their end time."""
        for row in self.org.store.select(
            "SELECT Id FROM AsyncApexJob WHERE Status = 'Queued' ORDER BY CreatedDate, Id"
        ):
            job = self._jobs.get(row["Id"])
            if job is None or job.stuck or job.ends_at is not None:
                continue
            start = job.queued_at or now
            if start > now:
                continue
            job.ends_at = start + timedelta(seconds=job.duration)
            self._set(row["Id"], Status="Processing")

    def _fire_schedules(self) -> None:
        now = self.org.clock.now()
        for trigger_id, entry in list(self._scheduled.items()):
            row = self.org.get("CronTrigger", trigger_id)
            due = row["NextFireTime"]
            if due is None or parse_datetime(due) > now:
                continue
            job_id = self._new_job(
                "ScheduledApex", entry.class_name, "Queued", CronTriggerId=trigger_id
            )
            self._jobs[job_id] = _Job("ScheduledApex", execute=entry.run)
            following = entry.cron.next_after(now, entry.zone)
            self.org.update(
                "CronTrigger",
                trigger_id,
                {
                    "PreviousFireTime": due,
                    "NextFireTime": format_datetime(following) if following else None,
                    "TimesTriggered": int(row["TimesTriggered"] or 0) + 1,
                    "State": "WAITING" if following else "COMPLETE",
                },
                system=True,
            )

    def _transaction(
        self, ctx: ApexContext, call: Callable[[], Any], limits: dict[str, int]
    ) -> Any:
        """Run ``call`` as one Apex transaction with its own governor limits."""
        control = self.org.control
        saved, control.apex = control.apex, ApexTransaction(dict(limits))
        control._depth += 1
        self.executions.append(format_datetime(self.org.clock.now()))
        try:
            with self.org.store.transaction():
                result = call()
                if control.apex is not None and control.apex.exceeded:
                    raise LimitException(control.apex.exceeded)
                return result
        finally:
            control._depth -= 1
            control.apex = saved

    def _run_job(self, job_id: str) -> None:
        job = self._jobs[job_id]
        ctx = ApexContext(self.org, job_id, self, is_async=job.kind != "ScheduledApex")
        if job.kind != "BatchApex":
            self._set(job_id, Status="Processing")
            assert job.execute is not None
            run = job.execute
            try:
                self._transaction(
                    ctx, lambda: run(ctx), ASYNC_LIMITS if ctx.is_async else SYNC_LIMITS
                )
                self._set(job_id, Status="Completed", CompletedDate=self._now())
            except (
                Exception
            ) as exc:  # the job's own failure: recorded on the job, as the platform does
                self._set(
                    job_id,
                    Status="Failed",
                    CompletedDate=self._now(),
                    ExtendedStatus=_describe(exc)[:255],
                )
            return
        self._set(job_id, Status="Preparing")
        start = job.start
        try:
            items = list(
                self._transaction(ctx, lambda: list(start(ctx)) if start else [], ASYNC_LIMITS)
            )
        except Exception as exc:  # start failing fails the whole job
            self._set(
                job_id,
                Status="Failed",
                CompletedDate=self._now(),
                ExtendedStatus=_describe(exc)[:255],
            )
            return
        scopes = [items[i : i + job.scope_size] for i in range(0, len(items), job.scope_size)]
        self._set(job_id, Status="Processing", TotalJobItems=len(scopes))
        errors, first = 0, None
        assert job.execute is not None
        execute = job.execute
        for index, scope in enumerate(scopes):
            try:
                self._transaction(ctx, partial(execute, ctx, scope), ASYNC_LIMITS)
            except Exception as exc:  # a failing scope counts as an error; the job goes on
                errors += 1
                first = first or _describe(exc)
            self._set(job_id, JobItemsProcessed=index + 1, NumberOfErrors=errors)
        if job.finish is not None:
            finish = job.finish
            try:
                self._transaction(ctx, lambda: finish(ctx), ASYNC_LIMITS)
            except Exception as exc:  # finish errors are reported like scope errors
                errors += 1
                first = first or _describe(exc)
        self._set(
            job_id,
            Status="Completed",
            CompletedDate=self._now(),
            NumberOfErrors=errors,
            ExtendedStatus=f"First error: {first}"[:255] if first else None,
        )


def _describe(exc: Exception) -> str:
    return f"{apex_exception_name(exc)}: {exc}"
