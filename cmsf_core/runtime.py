"""The local runtime: plays the primary sync's job graph in this process, resumably.

A run opens (or resumes) a journal run, loads the settings from the org, primes the API
budget from the org's limits, refuses to run where syncing would be unsafe, then executes
jobs from ``configuration`` (``full_sync_reset`` first for a full sync) following each
job's ``finish()``. Every executed scope is recorded, so after a crash at any point the
next invocation resumes the same run (same signpost) and skips what was done.

Failure policy:

- a job's own failure (a platform refusing something) raises a maintenance message, marks
  the job failed, and the graph goes on;
- an outage or rate limit that outlasts the retries, refused credentials, an unsafe
  sandbox or a spent API budget stop the run cleanly with a message; the next run
  continues from the bookmarks;
- the org's data storage full (``STORAGE_LIMIT_EXCEEDED``) stops the writing jobs; the
  clean-up jobs still run (they only delete), and while storage stays above
  ``storage_warn_percent`` every run cleans up first, so lowering the retention frees
  space before anything is written;
- a Bulk API job Salesforce keeps queued or running past ``bulk_wait_minutes`` ends the
  run ``waiting``: the job stays in the journal (:mod:`cmsf_core.bulk_ledger`), and the
  next run resumes this one, collects the job's results before any job runs and writes
  nothing twice.

Counting: every API call of an invocation is recorded in the journal once, under the job
that made it or, for the runtime's own calls (settings, limits, safety check, the
outcome written to the settings record), under ``runtime``; so the summary, ``cmsf
status`` and the journal show the same numbers; ``campaign_monitor_writes`` counts the
Campaign Monitor requests that write (a part of ``campaign_monitor``). Records written
count distinct records.
Progress is also told to the ``cmsf.events`` logger (run, job and message events with
counts, never credentials or subscriber data) for unattended runs.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

from cmsf_core.access import ObjectAccess
from cmsf_core.budget import ApiBudget
from cmsf_core.bulk_ledger import BulkLedger
from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import Clock
from cmsf_core.errors import (
    AccessError,
    AuthenticationError,
    BudgetExhaustedError,
    CmsfError,
    ConfigError,
    FatalError,
    RateLimitedError,
    RetriableError,
    SafetyError,
    StorageFullError,
    WaitingError,
)
from cmsf_core.imports.runner import LOGIN_AS_KEY
from cmsf_core.jobs import JOBS, Job
from cmsf_core.jobs.context import Directory, JobContext, RunStats
from cmsf_core.matching import PersonMatcher
from cmsf_core.messages import MaintenanceLog, Message
from cmsf_core.operations import connection_generation, ensure_connection_identity
from cmsf_core.org_health import storage
from cmsf_core.safety import check_org_safety
from cmsf_core.salesforce import SalesforceGateway, SplitNote
from cmsf_core.salesforce_bulk import collect_open_jobs
from cmsf_core.settings import Settings
from cmsf_core.settings_store import SettingsStore
from cmsf_core.shadow import Shadow
from cmsf_core.state import Journal, Run

__all__ = [
    "STOPPING_ERRORS",
    "LocalRuntime",
    "ReadSettings",
    "RunReport",
    "configure_platforms",
    "raise_job_failure",
    "report_splits",
    "stop",
]

EVENTS = logging.getLogger("cmsf.events")
"""Structured run events (see :mod:`cmsf_core.runlog`)."""

RUNTIME_JOB = "runtime"
"""Journal name under which the runtime's own API calls are counted."""

FIRST_JOB = "configuration"
JOB_GAP_SECONDS = 0.001
FULL_FIRST_JOB = "full_sync_reset"
CLEANUP_JOBS = ("tracking_cleanup", "queue_cleanup")
"""Jobs that only delete: they run even when storage is full, and first while it is tight."""


@dataclass
class RunReport:
    """What a run did, for the CLI summary, scenarios and tests.

    Attributes:
        run: The journal's run.
        status: ``completed``, ``completed_with_errors``, ``stopped``, ``waiting`` or
            ``failed``.
        jobs: Journal rows of the run's jobs, in order.
        calls: API calls per platform made by this invocation (also in the journal).
        stats: Records read, written, deleted and failed, by object.
        messages: Maintenance messages raised.
        reason: Why the run stopped or failed, if it did.
        write_calls: Salesforce write requests per object made by this invocation.
        bulk_bytes: CSV bytes uploaded to Bulk API 2.0 per object by this invocation.
        read_floor: The fewest Salesforce calls its reads needed (each distinct read once,
            at the largest page).
    """

    run: Run
    status: str
    jobs: list[dict[str, Any]] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    stats: RunStats = field(default_factory=RunStats)
    messages: list[Message] = field(default_factory=list)
    reason: str | None = None
    write_calls: dict[str, int] = field(default_factory=dict)
    bulk_bytes: dict[str, int] = field(default_factory=dict)
    read_floor: int = 0


STOPPING_ERRORS = (BudgetExhaustedError, SafetyError, RetriableError, FatalError)
"""Errors that end a run early (the next run resumes): budget, safety, outages, auth."""


def stop(log: MaintenanceLog, error: CmsfError) -> tuple[str, str]:
    """Say in a message why a run ended early; return its ``(status, reason)``.

    A spent API budget, a sandbox refused by the safety check or a rate limit *stop* the
    run (``stopped``: nothing is wrong, the next run continues); an outage that outlasted
    the retries, refused credentials or a missing object *fail* it.
    """
    reason = str(error)
    if isinstance(error, BudgetExhaustedError):
        log.raise_message("Warning", "runtime", error.support_code or "CMSF-API-RUN", reason)
        return "stopped", reason
    if isinstance(error, SafetyError):
        log.raise_message("Error", "runtime", error.support_code or "CMSF-SANDBOX", reason)
        return "stopped", reason
    if isinstance(error, RateLimitedError):
        log.raise_message("Warning", "runtime", "CMSF-CM-RATE", reason)
        return "stopped", reason
    cm = error.platform == "campaign_monitor"
    if isinstance(error, RetriableError):
        log.raise_message("Error", "runtime", "CMSF-CM-DOWN" if cm else "CMSF-SF-ERROR", reason)
    elif isinstance(error, AuthenticationError):
        log.raise_message("Error", "runtime", "CMSF-CM-AUTH" if cm else "CMSF-SF-AUTH", reason)
    else:
        log.raise_message("Error", "runtime", error.support_code or "CMSF-SF-ERROR", reason)
    return "failed", reason


def raise_job_failure(ctx: JobContext, job: Job, error: CmsfError) -> None:
    """The maintenance message of a job's own failure (the other jobs go on)."""
    if isinstance(error, AccessError):
        ctx.log.raise_message(
            "Error",
            job.name,
            "CMSF-SF-ACCESS",
            f"{job.title} failed: {error}",
            "The other jobs went on; this one runs again once the sync user can see "
            f"{error.object_name}{'.' + error.field_name if error.field_name else ''}.",
        )
    else:
        ctx.log.raise_message(
            "Error", job.name, "CMSF-JOB-FAILED", f"{job.title} failed", str(error)
        )


def report_splits(ctx: JobContext, job: Job, notes: list[SplitNote]) -> None:
    """Say when a trigger's Apex limit made the sync write in smaller calls."""
    by_object: dict[str, list[SplitNote]] = {}
    for note in notes:
        by_object.setdefault(note.sobject, []).append(note)
    limit_name = job.limit or job.name
    for sobject, group in by_object.items():
        retried = sum(n.retried for n in group)
        written = sum(n.written for n in group)
        size = min(n.size for n in group)
        first = group[0]
        ctx.log.raise_message(
            "Warning",
            job.name,
            "CMSF-APEX-SPLIT",
            f"{first.trigger or 'A trigger'} on {sobject}: {first.cause}; {written} of "
            f"{retried} record(s) written again in calls of {size} or fewer",
            f"'limit_split_floor' let the sync send the refused records again in smaller "
            f"calls. Each split costs API calls: lower the '{limit_name}' governor limit "
            f"(now {ctx.batch_size(job.name)}) to {size} so calls fit from the start, and "
            "review the trigger (guard its async work with "
            "if(!System.isFuture() && !System.isBatch()), work in bulk).",
        )


def configure_platforms(
    gateway: SalesforceGateway, cm: CampaignMonitorClient, settings: Any
) -> None:
    """Set a run's gateway and client from its settings (the distributed runtime's workers
    do the same): batch sizes, Bulk API waits, object access, limit splits, page size."""
    gateway.bulk_threshold = settings.limit("bulk_threshold")
    gateway.bulk_wait_seconds = settings.limit("bulk_wait_minutes") * 60.0
    gateway.access = ObjectAccess()
    gateway.limit_split_floor = settings.limit("limit_split_floor")
    cm.page_size = settings.limit("cm_page_size")


class ReadSettings(NamedTuple):
    """The settings a caller read just before a run, with the gateway's calls before it."""

    store: SettingsStore
    settings: Settings
    calls_before: int


class LocalRuntime:
    """Runs the primary sync in this process.

    Args:
        gateway: The Salesforce gateway (its budget is set from the settings).
        cm: The Campaign Monitor client.
        journal: The runner's journal.
        clock: The injected clock.
        progress: Told ``(job, scopes done, total or None)``.
        login_as: Given a username, a login as that user (JWT bearer on a real org): how
            imports read their sources as their owners.
        settings: The settings ``gateway`` just read (the engine reads them to choose the
            sync user's login); the run starts from them instead of reading them again,
            and counts that read as its own. Read at the run's start when not given.
    """

    def __init__(
        self,
        *,
        gateway: SalesforceGateway,
        cm: CampaignMonitorClient,
        journal: Journal,
        clock: Clock,
        progress: Callable[[str, int, int | None], None] | None = None,
        login_as: Callable[[str], Callable[[], Any]] | None = None,
        settings: ReadSettings | None = None,
    ) -> None:
        self.gateway = gateway
        self._settings = settings
        self.login_as = login_as
        self.cm = cm
        self.journal = journal
        self.clock = clock
        self.progress = progress
        self.shadow = Shadow(journal)
        self.ledger = BulkLedger(journal, self.shadow)
        self._job_calls: Counter[str] = Counter()
        self._writes_start = 0
        self._job_writes = 0
        self._open: tuple[str, int, int] | None = None

    def run(self, *, full: bool = False) -> RunReport:
        """Run (or resume) the primary sync.

        Args:
            full: Clear the project's own objects and re-import everything.

        Returns:
            The run's report (the run never raises for platform trouble; it reports it).

        Raises:
            ConfigError: When the integration is not connected (nothing to sync).
        """
        self.journal.acquire(self.clock.now())
        self._open = None
        try:
            return self._run(full=full)
        except KeyboardInterrupt:
            # Ctrl-C: the run stays unfinished and resumes next time; its calls still count.
            if self._open is not None:
                self._count_runtime_calls(*self._open)
            raise
        finally:
            self.journal.release()

    def _run(self, *, full: bool) -> RunReport:
        sf_calls, cm_calls = self.gateway.calls, self.cm.calls
        self._writes_start = self.cm.write_calls
        self._job_calls = Counter()
        if self._settings is not None and self._settings.store.gateway is self.gateway:
            store, settings = self._settings.store, self._settings.settings
            sf_calls = min(sf_calls, self._settings.calls_before)  # that read is the run's
        else:
            store = SettingsStore(self.gateway, self.clock)
            settings = store.load()
        self._settings = None  # read once: a second run of this runtime reads them again
        if not settings.connected:
            refusal = (
                "the integration is not connected to a Campaign Monitor account; run "
                "'cmsf connect' first"
            )
            run = self.journal.open_run(self.clock.now(), full=full)
            self._count_runtime_calls(run.run_id, sf_calls, cm_calls)
            self.journal.finish_run(run.run_id, "failed", self.clock.now(), refusal)
            EVENTS.info(
                "run finished",
                extra={"event": "run_finished", "run_id": run.run_id, "status": "failed"},
            )
            raise ConfigError(refusal)
        settings = ensure_connection_identity(store, settings, self.cm)
        org = self.gateway.organization()
        rebound = self.journal.bind(
            str(org["Id"]), connection_generation(settings), self.clock.now()
        )
        unfinished = self.journal.unfinished_run()
        if unfinished is not None and full and not unfinished.full:
            self.journal.finish_run(unfinished.run_id, "abandoned", self.clock.now())
        run = self.journal.open_run(self.clock.now(), full=full)
        self._open = (run.run_id, sf_calls, cm_calls)
        self.shadow.use_key(settings.connection_key)
        started = time.monotonic()
        EVENTS.info(
            "run started",
            extra={
                "event": "run_started",
                "run_id": run.run_id,
                "full": run.full,
                "resumed": run.resumed,
            },
        )
        self.gateway.budget = self._budget(run, settings)
        configure_platforms(self.gateway, self.cm, settings)
        self.gateway.bulk_ledger = self.ledger
        log = self._maintenance_log(settings, run.run_id)
        ctx = JobContext(
            run=run,
            settings=settings,
            sf=self.gateway,
            cm=self.cm,
            journal=self.journal,
            shadow=self.shadow,
            clock=self.clock,
            log=log,
            directory=Directory(self.gateway, settings.sync_user_id),
            matcher=PersonMatcher(self.gateway, self.journal, key=settings.connection_key),
            progress=self.progress,
        )
        if self.login_as is not None:
            ctx.extras[LOGIN_AS_KEY] = self.login_as
        status, reason = "completed", None
        try:
            if rebound is not None:
                log.raise_message(
                    "Info",
                    "runtime",
                    "CMSF-JOURNAL-NEW",
                    "The runner's journal started clean state for this org and connection",
                    f"It held the state of {rebound}; this run reads everything again.",
                )
            limits = self.gateway.limits()
            self.gateway.budget.check()  # a spent budget stops before any other call
            check_org_safety(self.gateway, settings, self.cm, org=org)
            self._check_owners(ctx)
            collect_open_jobs(self.gateway)  # an earlier run's Bulk API jobs, before any job
            tight = self._check_storage(ctx, limits)
            failed_jobs = []
            if tight and not run.full:
                failed_jobs += self._play_each(ctx, CLEANUP_JOBS)
            failed_jobs += self._play(ctx, FULL_FIRST_JOB if run.full else FIRST_JOB)
            if failed_jobs:
                status = "completed_with_errors"
                reason = f"failed jobs: {', '.join(failed_jobs)}"
        except WaitingError as error:
            status, reason = "waiting", str(error)
            log.raise_message("Warning", "runtime", "CMSF-SF-BULK-WAIT", str(error))
        except StorageFullError as error:
            status, reason = "stopped", str(error)
            log.raise_message(
                "Error", "runtime", "CMSF-STORAGE-FULL", str(error), self._storage_detail(ctx)
            )
        except STOPPING_ERRORS as error:
            status, reason = stop(log, error)
        try:
            with self.gateway.unbudgeted():
                self.gateway.access.report(log)
        except CmsfError:
            pass  # the message could not be written; the run's status still says how it ended
        self._report_pending(log)
        # A full sync that stopped or failed has cleared (some of) what it re-imports: it
        # stays a full sync, resumed by the next invocation until it completes.
        resumable = run.full and status in {"stopped", "failed"}
        if resumable:
            reason = f"{reason} (the full sync resumes on the next run)"
        # A run waiting for a Bulk API job is resumed by the next invocation, which collects
        # the job's results first; one that completed forgets results nothing claimed.
        resumable = resumable or status == "waiting"
        if status in {"completed", "completed_with_errors"}:
            self.ledger.forget_collected()
        self.journal.finish_run(run.run_id, status, self.clock.now(), reason, resumable=resumable)
        self._record_outcome(store, settings, status)
        if status in {"completed", "completed_with_errors"}:
            self._stamp_clients(ctx.directory)
        calls = self._count_runtime_calls(run.run_id, sf_calls, cm_calls)
        self._open = None
        ctx.stats.close()
        report = RunReport(
            run=run,
            status=status,
            jobs=self.journal.job_runs(run.run_id),
            calls=calls,
            stats=ctx.stats,
            messages=list(log.messages),
            reason=reason,
            write_calls=dict(self.gateway.write_calls),
            bulk_bytes=dict(self.gateway.bulk_bytes),
            read_floor=self.gateway.read_floor,
        )
        EVENTS.info(
            "run finished",
            extra={
                "event": "run_finished",
                "run_id": run.run_id,
                "status": status,
                "reason": reason,
                "seconds": round(time.monotonic() - started, 3),
                "calls": calls,
                "read": dict(ctx.stats.read),
                "written": dict(ctx.stats.written),
                "deleted": dict(ctx.stats.deleted),
                "failed": dict(ctx.stats.failed),
                "messages": len(log.messages),
            },
        )
        return report

    def _maintenance_log(self, settings: Any, run_id: str) -> MaintenanceLog:
        """The run's maintenance log (the distributed runtime folds it across processes)."""
        return MaintenanceLog(self.gateway, settings, self.clock, run_id)

    def _budget(self, run: Run, settings: Any) -> ApiBudget:
        """The run's Salesforce API budget (the distributed runtime shares it between workers)."""
        return ApiBudget(
            run_share=settings.run_api_share,
            org_ceiling=settings.org_api_ceiling,
            run_calls=self.gateway.budget.run_calls,
        )

    def _count_runtime_calls(self, run_id: str, sf_before: int, cm_before: int) -> dict[str, int]:
        """Journal the calls this invocation made outside jobs; return all of its calls."""
        calls = {
            "salesforce": self.gateway.calls - sf_before,
            "campaign_monitor": self.cm.calls - cm_before,
            # a part of the Campaign Monitor calls: the requests that write (not GET)
            "campaign_monitor_writes": self.cm.write_calls - self._writes_start,
        }
        for platform, total in calls.items():
            self.journal.add_calls(run_id, RUNTIME_JOB, platform, total - self._job_calls[platform])
        return calls

    def _check_owners(self, ctx: JobContext) -> None:
        """Say once per run when the sync user or a security owner is deactivated.

        Salesforce refuses a deactivated user as the owner of new records; rather than
        failing them one by one, the records of those clients fall back to the running user.
        """
        inactive = ctx.directory.check_owners()
        if not inactive:
            return
        who = "; ".join(f"{role}: {user.get('Name') or user['Id']}" for role, user in inactive)
        ctx.log.raise_message(
            "Error",
            "runtime",
            "CMSF-OWNER-INACTIVE",
            f"{len(inactive)} owner(s) of synced records are deactivated users",
            f"{who}. New records go to the user the sync logs in as until an active user is "
            "chosen (change the sync user, or set the client's security owner).",
        )

    def _report_pending(self, log: MaintenanceLog) -> None:
        """One message per run while refused writes still wait for a retry."""
        counts = self.journal.pending_counts()
        if not counts:
            return
        total = sum(counts.values())
        detail = ", ".join(f"{count} in {job}" for job, count in counts.items())
        try:
            with self.gateway.unbudgeted():
                log.raise_message(
                    "Warning",
                    "runtime",
                    "CMSF-REC-PENDING",
                    f"{total} record(s) Salesforce refused are still pending; every run retries them",
                    f"Pending: {detail}. They are written as soon as the cause (a lock, a "
                    "validation rule, a trigger, a field permission) is gone.",
                )
        except CmsfError:
            return

    def _play(self, ctx: JobContext, first: str) -> list[str]:
        """Execute the job graph from ``first``; return the names of failed jobs.

        When Salesforce refuses a write because the org's storage is full, the jobs that
        only delete still run before the run stops.
        """
        queue, seen, failed = [first], {first}, []
        while queue:
            name = queue.pop(0)
            job = JOBS[name](ctx)
            pending = self.journal.job_status(ctx.run.run_id, name) != "completed"
            try:
                if pending and not self._execute(ctx, job):
                    failed.append(name)
            except StorageFullError:
                self._play_each(ctx, CLEANUP_JOBS)
                raise
            for follower in job.finish():
                if follower not in seen:
                    seen.add(follower)
                    queue.append(follower)
        return failed

    def _play_each(self, ctx: JobContext, names: tuple[str, ...]) -> list[str]:
        """Execute ``names`` on their own (not their followers); return the failed ones."""
        failed = []
        for name in names:
            if self.journal.job_status(ctx.run.run_id, name) == "completed":
                continue
            if not self._execute(ctx, JOBS[name](ctx)):
                failed.append(name)
        return failed

    def _check_storage(self, ctx: JobContext, limits: dict[str, Any]) -> bool:
        """Warn when the org's data storage passes ``storage_warn_percent``; True if it does.

        The org's figure comes from the limits the run read anyway; the sync's own share
        is estimated from the shadow index (about 2 KB a record), without a call.
        """
        found = storage(limits, self.journal, ctx.settings.limit("storage_warn_percent"))
        if not found.tight:
            return False
        ctx.log.raise_message(
            "Warning",
            "runtime",
            "CMSF-STORAGE",
            f"The org's data storage is {found.share:.0%} full ({found.used_mb:,} of "
            f"{found.max_mb:,} MB)",
            self._storage_detail(ctx),
        )
        return True

    def _storage_detail(self, ctx: JobContext) -> str:
        """What the sync's records use and which settings free space."""
        found = storage({}, self.journal, 0)
        settings = ctx.settings
        return (
            f"The sync's records use about {found.synced_mb:,.1f} MB ({found.synced_records:,} "
            "records of about 2 KB). Email tracking history is usually the largest part: "
            f"lower 'tracking_retention_days' (now {settings.tracking_retention_days}) or keep "
            "fewer 'tracking_activity_types' (now "
            f"{','.join(settings.tracking_activity_types)}); the clean-up job removes the rest "
            "at the next run, before anything is written while storage is tight."
        )

    def _execute(self, ctx: JobContext, job: Job) -> bool:
        """Run one job's scopes; False if the job failed on its own."""
        run_id = ctx.run.run_id
        # Let a millisecond pass between jobs: on a virtual clock, as on a real one, a job
        # then starts after the writes of the jobs before it, so a job that bookmarks its
        # own start never re-reads them.
        self.clock.sleep(JOB_GAP_SECONDS)
        self.journal.start_job(run_id, job.name, self.clock.now())
        if not job.enabled():
            self.journal.finish_job(run_id, job.name, "skipped", self.clock.now())
            return True
        sf_before, cm_before = self.gateway.calls, self.cm.calls
        self._job_writes = self.cm.write_calls
        splits_before = len(self.gateway.splits)
        written_before = sum(ctx.stats.written.values())
        started = time.monotonic()

        def event(status: str) -> None:
            EVENTS.info(
                "job finished",
                extra={
                    "event": "job_finished",
                    "run_id": run_id,
                    "job": job.name,
                    "status": status,
                    "seconds": round(time.monotonic() - started, 3),
                    "calls": {
                        "salesforce": self.gateway.calls - sf_before,
                        "campaign_monitor": self.cm.calls - cm_before,
                    },
                    "written": sum(ctx.stats.written.values()) - written_before,
                },
            )

        try:
            scopes = list(job.start())
            for done, scope in enumerate(scopes, start=1):
                key = str(scope["key"])
                if not self.journal.scope_done(run_id, job.name, key):
                    job.execute(scope)
                    # A scope whose records wait in the write pool is done once they are
                    # written; a crash before that reads the scope again.
                    ctx.pool.after_writes(
                        partial(self.journal.mark_scope_done, run_id, job.name, key)
                    )
                if self.progress is not None:
                    self.progress(job.name, done, len(scopes))
            ctx.pool.flush(ctx)
        except WaitingError:
            ctx.pool.discard(collect=False)
            self._count_calls(run_id, job.name, sf_before, cm_before)
            self.journal.finish_job(run_id, job.name, "waiting", self.clock.now(), "waiting")
            event("waiting")
            raise
        except (
            RetriableError,
            FatalError,
            BudgetExhaustedError,
            SafetyError,
            StorageFullError,
        ):
            ctx.pool.discard()
            self._count_calls(run_id, job.name, sf_before, cm_before)
            self.journal.finish_job(run_id, job.name, "failed", self.clock.now(), "stopped")
            event("stopped")
            raise
        except CmsfError as error:
            ctx.pool.discard()
            raise_job_failure(ctx, job, error)
            self._count_calls(run_id, job.name, sf_before, cm_before)
            self.journal.finish_job(run_id, job.name, "failed", self.clock.now(), str(error))
            event("failed")
            return False
        except KeyboardInterrupt:
            ctx.pool.discard(collect=False)
            self._count_calls(run_id, job.name, sf_before, cm_before)
            raise
        self._count_calls(run_id, job.name, sf_before, cm_before)
        self._report_splits(ctx, job, self.gateway.splits[splits_before:])
        self.journal.finish_job(run_id, job.name, "completed", self.clock.now())
        event("completed")
        return True

    def _report_splits(self, ctx: JobContext, job: Job, notes: list[SplitNote]) -> None:
        report_splits(ctx, job, notes)

    def _count_calls(self, run_id: str, job: str, sf_before: int, cm_before: int) -> None:
        for platform, made in (
            ("salesforce", self.gateway.calls - sf_before),
            ("campaign_monitor", self.cm.calls - cm_before),
            ("campaign_monitor_writes", self.cm.write_calls - self._job_writes),
        ):
            self.journal.add_calls(run_id, job, platform, made)
            self._job_calls[platform] += made

    def _stamp_clients(self, directory: Directory) -> None:
        """Set ``Last_Sync__c`` on the clients this run synced (the clients table shows it)."""
        try:
            directory.refresh()
            stamp = self.clock.now().isoformat()
            records = [{"Id": c.sf_id, "Last_Sync__c": stamp} for c in directory.clients()]
            if records:
                with self.gateway.unbudgeted():
                    self.gateway.update("CMSF_Client__c", records)
        except CmsfError:
            return

    def _record_outcome(self, store: SettingsStore, settings: Any, status: str) -> None:
        """Write the last sync time, status and next run to the settings record."""
        labels = {
            "completed": "Completed",
            "completed_with_errors": "Completed With Errors",
            "stopped": "Stopped",
            "waiting": "Waiting",
            "failed": "Failed",
        }
        try:
            with self.gateway.unbudgeted():
                try:
                    store.record_run(status=labels.get(status, "Failed"), settings=settings)
                except CmsfError:
                    if status != "waiting":
                        raise
                    # A data model deployed before 'Waiting' existed refuses the value.
                    store.record_run(status="Stopped", settings=settings)
        except CmsfError:
            return
