"""The Celery app and the one task workers run: a job's scopes of one client.

A task names a run, a job and a *group* (the scopes of one client, or the job's other
scopes); the scopes themselves are in the journal (``dist_groups``), so a message is tiny
and a redelivered one finds the same work. Delivery is *at least once*
(``task_acks_late``: a message is acknowledged only after the task ended, so a worker
killed mid-task leaves it to be redelivered once Redis's visibility timeout passes, or at
once when a pool child dies, ``task_reject_on_worker_lost``). Exactly-once *effects* come
from the journal: a task first *claims* its group (one live claim at a time, renewed while
it runs), skips scopes already done, and the scopes are idempotent (upserts on Campaign
Monitor identities, the shadow index) so a re-executed scope writes nothing twice.

Each claim counts a delivery. A group delivered ``max_attempts`` times without ending
(a scope that crashes its worker, or raises something unexpected every time) is *poison*:
it is given up and the run reports it as a maintenance message (``CMSF-TASK-POISON``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import redis
from celery import Celery

from cmsf_core.bulk_ledger import BulkLedger
from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import Clock, SystemClock
from cmsf_core.connection import Connection
from cmsf_core.distributed.budget import CampaignMonitorGate, SharedBudget, connect_redis
from cmsf_core.distributed.config import RuntimeConfig
from cmsf_core.distributed.messages import SharedMaintenanceLog
from cmsf_core.distributed.pgjournal import PgJournal
from cmsf_core.errors import (
    BudgetExhaustedError,
    CmsfError,
    FatalError,
    RetriableError,
    SafetyError,
    StorageFullError,
    WaitingError,
)
from cmsf_core.imports.runner import LOGIN_AS_KEY
from cmsf_core.jobs import JOBS
from cmsf_core.jobs.context import Directory, JobContext, RunStats
from cmsf_core.jobs.create_rule import CREATE_GUARD
from cmsf_core.matching import PersonMatcher
from cmsf_core.runtime import configure_platforms, raise_job_failure, report_splits
from cmsf_core.salesforce import SalesforceGateway
from cmsf_core.settings import Settings
from cmsf_core.settings_store import SettingsStore
from cmsf_core.shadow import Shadow

__all__ = ["EXECUTE", "WorkerState", "app", "celery_settings", "configure", "execute_group"]

LOG = logging.getLogger("cmsf.worker")
EXECUTE = "cmsf.execute_group"
"""The task's name (what the coordinator sends)."""

app = Celery("cmsf", set_as_current=False)
"""The project's Celery app; :func:`configure` points it at a broker."""


def celery_settings(config: RuntimeConfig) -> dict[str, Any]:
    """Celery's settings for a runtime configuration."""
    return {
        "broker_url": config.broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "broker_transport_options": {"visibility_timeout": config.visibility_timeout},
        "task_default_queue": config.queue,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "worker_prefetch_multiplier": 1,
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "broker_channel_error_retry": True,
    }


def configure(config: RuntimeConfig) -> Celery:
    """Point :data:`app` at the configuration's broker; return it."""
    app.conf.update(celery_settings(config))
    return app


class DistStats(RunStats):
    """A task's record counts; written records also go to the journal (distinct per run)."""

    def __init__(self, journal: PgJournal, run_id: str) -> None:
        super().__init__()
        self._journal = journal
        self._run_id = run_id

    def wrote(self, sobject: str, ids: Iterable[str | None]) -> None:
        """Count records written, here and in the run's shared distinct count."""
        ids = list(ids)
        super().wrote(sobject, ids)
        self._journal.add_written(self._run_id, sobject, ids)


@dataclass
class WorkerState:
    """What a worker process opened, reused by its tasks (opened lazily, per process).

    Attributes:
        connection: Where the platforms are (as for ``cmsf sync``).
        config: The runtime configuration.
        clock: The worker's clock.
    """

    connection: Connection
    config: RuntimeConfig
    clock: Clock = field(default_factory=SystemClock)
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    _pid: int = 0
    _opened: Any = None
    _journal: PgJournal | None = None
    _redis: redis.Redis | None = None
    _cm: CampaignMonitorClient | None = None
    _gateway: SalesforceGateway | None = None
    _run: str = ""
    _settings: Settings | None = None
    _matcher: PersonMatcher | None = None
    _directories: dict[str, Directory] = field(default_factory=dict)

    def open(self) -> None:
        """Open the platforms, the journal and Redis in this process (after a fork too)."""
        if self._pid == os.getpid():
            return
        from cmsf_core.platforms import open_engine

        self._pid = os.getpid()
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._opened = open_engine(self.connection, clock=self.clock)
        self._journal = PgJournal(self.config.database_url, lease_seconds=self.config.lease_seconds)
        self._redis = connect_redis(self.config.broker_url, self.config.broker_outage_seconds)
        self._run = ""

    @property
    def journal(self) -> PgJournal:
        """The shared journal."""
        self.open()
        assert self._journal is not None
        return self._journal

    def context(self, run_id: str, job: str) -> JobContext:
        """The job context for ``job`` of ``run_id`` (platforms and lookups reused per run)."""
        self.open()
        journal, client = self.journal, self._redis
        assert client is not None and self._opened is not None
        engine = self._opened.engine
        run = journal.run(run_id)
        if run is None:
            raise CmsfError(f"run {run_id} is not in the journal")
        if self._run != run_id:
            if self._cm is not None:
                self._cm.close()
            self._gateway = engine.sync_gateway()
            self._cm = engine.campaign_monitor()
            self._settings = SettingsStore(self._gateway, self.clock).load()
            settings = self._settings
            self._gateway.budget = SharedBudget(
                client,
                run_id,
                run_share=settings.run_api_share,
                org_ceiling=settings.org_api_ceiling,
            )
            configure_platforms(self._gateway, self._cm, settings)
            account = hashlib.sha256(self._cm.base_url.encode()).hexdigest()[:16]
            CampaignMonitorGate(client, account, self.clock).install(self._cm)
            self._matcher = PersonMatcher(self._gateway, journal, key=settings.connection_key)
            self._directories = {}
            self._run = run_id
        assert self._gateway is not None and self._cm is not None
        assert self._settings is not None and self._matcher is not None
        directory = self._directories.get(job)
        if directory is None:
            self._directories = {job: Directory(self._gateway, self._settings.sync_user_id)}
            directory = self._directories[job]
        shadow = Shadow(journal)
        shadow.use_key(self._settings.connection_key)
        # Bulk API jobs this task opens are recorded in the shared ledger and waited for
        # within bulk_wait_minutes (a job still running ends the run waiting, exit 5); a
        # resumed run's writes take the results the coordinator collected (replays).
        self._gateway.bulk_ledger = BulkLedger(journal, shadow)
        ctx = JobContext(
            run=run,
            settings=self._settings,
            sf=self._gateway,
            cm=self._cm,
            journal=journal,
            shadow=shadow,
            clock=self.clock,
            log=SharedMaintenanceLog(self._gateway, self._settings, self.clock, run_id, journal),
            directory=directory,
            matcher=self._matcher,
            stats=DistStats(journal, run_id),
        )
        ctx.extras[CREATE_GUARD] = partial(
            client.lock,
            f"cmsf:create-rule:{run_id}",
            timeout=max(60.0, self.config.claim_seconds * 2),
            blocking_timeout=self.config.wait_seconds,
        )
        login_as = getattr(engine, "as_user", None)
        if login_as is not None:
            ctx.extras[LOGIN_AS_KEY] = login_as
        return ctx


WORKER: WorkerState | None = None
"""This worker's state, set by ``cmsf worker`` before Celery starts."""


def _error(error: BaseException) -> dict[str, Any]:
    info = {
        "type": type(error).__name__,
        "message": str(error),
        "support_code": getattr(error, "support_code", None),
        "platform": getattr(error, "platform", None),
    }
    if isinstance(error, WaitingError):  # the Bulk API job the run waits for
        info.update(job_id=error.job_id, state=error.state, sobject=error.sobject)
    return info


class _Claim(threading.Thread):
    """Renews a task's claim while it runs (a dead worker's claim then expires)."""

    def __init__(self, state: WorkerState, run_id: str, job: str, grp: str) -> None:
        super().__init__(daemon=True, name="cmsf-claim")
        self.state, self.key = state, (run_id, job, grp)
        self.stopped = threading.Event()

    def run(self) -> None:
        seconds = self.state.config.claim_seconds
        journal = PgJournal(self.state.config.database_url)
        try:
            while not self.stopped.wait(seconds / 3):
                journal.renew_claim(*self.key, self.state.name, self.state.clock.now(), seconds)
        finally:
            journal.close()


def run_group(state: WorkerState, run_id: str, job_name: str, grp: str) -> str:
    """Claim and execute one task; return how it ended (for logs and tests).

    Raises:
        Exception: An unexpected error (the task is delivered again, up to the limit).
    """
    journal = state.journal
    verdict, scopes, attempts = journal.claim_group(
        run_id, job_name, grp, state.name, state.clock.now(), state.config.claim_seconds
    )
    if verdict != "run":
        return verdict
    if journal.run_status(run_id) != "running":
        journal.finish_group(run_id, job_name, grp, "stopped", {"type": "RunEnded",
                             "message": "the run ended before this task ran"})  # fmt: skip
        return "stale"
    if attempts > state.config.max_attempts:
        journal.finish_group(
            run_id,
            job_name,
            grp,
            "poison",
            {"type": "Poison", "message": f"delivered {attempts - 1} times without ending"},
        )
        return "poison"
    claim = _Claim(state, run_id, job_name, grp)
    claim.start()
    try:
        ctx = state.context(run_id, job_name)
        sf_before, cm_before, writes_before = ctx.sf.calls, ctx.cm.calls, ctx.cm.write_calls
        job = JOBS[job_name](ctx)
        splits_before = len(ctx.sf.splits)
        status, error = "completed", None
        try:
            for scope in scopes:
                key = str(scope["key"])
                if not journal.scope_done(run_id, job_name, key):
                    job.execute(scope)
                    # as the local runtime: a scope whose records wait in the write pool
                    # is done once they are written
                    ctx.pool.after_writes(partial(journal.mark_scope_done, run_id, job_name, key))
            ctx.pool.flush(ctx)
            report_splits(ctx, job, ctx.sf.splits[splits_before:])  # CMSF-APEX-SPLIT, folded
        except STOPPING as exc:
            ctx.pool.discard()
            status, error = "stopped", _error(exc)
        except CmsfError as exc:
            ctx.pool.discard()
            status, error = "failed", _error(exc)
            raise_job_failure(ctx, job, exc)  # the message the local runtime raises, once per job
        except BaseException:
            ctx.pool.discard()
            raise
        finally:
            journal.add_calls(run_id, job_name, "salesforce", ctx.sf.calls - sf_before)
            journal.add_calls(run_id, job_name, "campaign_monitor", ctx.cm.calls - cm_before)
            journal.add_calls(
                run_id, job_name, "campaign_monitor_writes", ctx.cm.write_calls - writes_before
            )
            stats = ctx.stats
            ctx.stats.close()
            for kind, counts in (("read", stats.read), ("failed", stats.failed),
                                 ("deleted", stats.deleted), ("pushed", stats.pushed)):  # fmt: skip
                journal.add_counts(run_id, kind, dict(counts))
            journal.add_job_counts(
                run_id,
                job_name,
                read=sum(stats.read.values()),
                written=sum(stats.written.values()),
                failures=sum(stats.failed.values()),
            )
        journal.finish_group(run_id, job_name, grp, status, error)
        return status
    except Exception as exc:
        journal.release_claim(run_id, job_name, grp, state.name, f"{type(exc).__name__}: {exc}")
        LOG.error("task %s/%s/%s raised:\n%s", run_id, job_name, grp, traceback.format_exc())
        raise
    finally:
        claim.stopped.set()


STOPPING = (RetriableError, FatalError, BudgetExhaustedError, SafetyError, StorageFullError,
            WaitingError)  # fmt: skip
"""A task's errors that stop the run (as in the local runtime; the coordinator re-raises)."""


@app.task(  # type: ignore[untyped-decorator]
    name=EXECUTE, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None
)
def execute_group(self: Any, run_id: str, job: str, grp: str) -> str:
    """Celery task: claim and execute a job's scopes of one client (see :func:`run_group`)."""
    if WORKER is None:
        raise RuntimeError("this worker was not started with 'cmsf worker'")
    try:
        return run_group(WORKER, run_id, job, grp)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=1) from exc
