"""The distributed runtime's coordinator: the local runtime's job graph, scopes on workers.

:class:`DistributedRuntime` is the :class:`~cmsf_core.runtime.LocalRuntime` with three
things changed:

- the journal is a :class:`~cmsf_core.distributed.pgjournal.PgJournal` and the runner
  lock a *lease* renewed in the background (a coordinator that dies lets it expire, and
  the next ``cmsf sync`` resumes the run from any machine);
- the API budget is a :class:`~cmsf_core.distributed.budget.SharedBudget` (Redis), so the
  coordinator and every worker spend from one count;
- a job's scopes are executed by Celery workers: the coordinator runs the job's
  ``start()``, groups its scopes by client (the scopes of one client stay in order in one
  task; scopes of no client run after them, as a second wave), records the tasks in the
  journal, sends them, and waits until every task has ended before ``finish()`` and the
  jobs that follow. Jobs keep the graph's order; clients run in parallel.

A task that ended ``stopped`` (API budget, an outage that outlasted the retries, refused
credentials, an unsafe sandbox) stops the run as the local runtime would; a ``failed``
task fails its job (``CMSF-JOB-FAILED``); a ``poison`` task (delivered ``max_attempts``
times without ending) fails its job with ``CMSF-TASK-POISON``. Tasks that the broker lost
(a restart without persistence) are sent again when nothing moved for a visibility
timeout; a duplicate is harmless (claims, scopes done, idempotent writes).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import redis
from kombu.exceptions import OperationalError

from cmsf_core import errors
from cmsf_core.budget import ApiBudget
from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import Clock
from cmsf_core.distributed.budget import BrokerUnavailableError, SharedBudget, connect_redis
from cmsf_core.distributed.config import RuntimeConfig
from cmsf_core.distributed.messages import SharedMaintenanceLog, run_messages
from cmsf_core.distributed.pgjournal import TERMINAL, PgJournal
from cmsf_core.distributed.tasks import EXECUTE, STOPPING, configure
from cmsf_core.errors import CmsfError
from cmsf_core.jobs import Job
from cmsf_core.jobs.base import Scope
from cmsf_core.jobs.context import JobContext, RunStats
from cmsf_core.messages import MaintenanceLog
from cmsf_core.runtime import JOB_GAP_SECONDS, LocalRuntime, RunReport, raise_job_failure
from cmsf_core.salesforce import SalesforceGateway
from cmsf_core.state import Run

__all__ = ["DistributedRuntime", "group_scopes"]

COORDINATOR_JOBS = frozenset(
    {"change_capture", "subscriber_rules", "push", "imports", "import_replace"}
)
"""Jobs that run on the coordinator itself: they keep ledgers in the journal's own tables
across runs (the push's baseline and actions, the import wizard's passes), which live in
the coordinator's journal file (:mod:`cmsf_core.distributed.pgjournal`)."""

REST = "~rest"
"""The group of a job's scopes that belong to no client (run after the clients')."""

POLL_SECONDS = 0.1


def group_scopes(ctx: JobContext, scopes: list[Scope]) -> list[dict[str, list[dict[str, Any]]]]:
    """A job's scopes as waves of tasks: first one task per client, then the rest.

    A scope belongs to the client it names (``client``, ``deselected``, ``gone``), or to
    the client of the list or campaign it names; scopes keep their order within a task.
    A list partition (a scope with ``part_of``) is a task of its own in the first wave.
    """
    clients: dict[str, list[dict[str, Any]]] = {}
    rest: list[dict[str, Any]] = []
    for scope in scopes:
        owner = _client_of(ctx, scope)
        if owner is None:
            rest.append(dict(scope))
        elif scope.get("part_of"):  # a list partition: a task of its own
            clients[f"client:{owner}|{scope['key']}"] = [dict(scope)]
        else:
            clients.setdefault(f"client:{owner}", []).append(dict(scope))
    waves = [clients] if clients else []
    if rest:
        waves.append({REST: rest})
    return waves


def _client_of(ctx: JobContext, scope: Scope) -> str | None:
    for key in ("client", "deselected", "gone"):
        if scope.get(key):
            return str(scope[key])
    if scope.get("list"):
        lst = ctx.directory.list_by_id(str(scope["list"]))
        return lst.client.cm_id if lst is not None else None
    if scope.get("campaign"):
        campaign = ctx.directory.campaign_by_id(str(scope["campaign"]))
        return campaign.client.cm_id if campaign is not None else None
    return None


def _part_number(part: Scope) -> int:
    """A list partition's place among its scope's parts (as the job planned them)."""
    return int(part.get("part") or 0)


class _Lease(threading.Thread):
    """Renews the runner lease while the run goes on."""

    def __init__(self, config: RuntimeConfig, journal: PgJournal, clock: Clock) -> None:
        super().__init__(daemon=True, name="cmsf-lease")
        self.config, self.holder, self.clock = config, journal.holder, clock
        self.stopped = threading.Event()
        self.lost = False

    def run(self) -> None:
        journal = PgJournal(self.config.database_url, lease_seconds=self.config.lease_seconds)
        journal.holder = self.holder
        try:
            while not self.stopped.wait(self.config.lease_seconds / 3):
                if not journal.renew(self.clock.now()):
                    self.lost = True
        finally:
            journal.close()


class DistributedRuntime(LocalRuntime):
    """Runs the primary sync with its scopes executed by Celery workers.

    Args:
        config: The runtime configuration (broker, database, limits).
        gateway: The coordinator's Salesforce gateway.
        cm: The coordinator's Campaign Monitor client.
        journal: The shared journal.
        clock: The injected clock.
        progress: Told ``(job, scopes done, total)`` as tasks end.
        login_as: As for the local runtime (imports read their sources as their owners).
    """

    def __init__(
        self,
        *,
        config: RuntimeConfig,
        gateway: SalesforceGateway,
        cm: CampaignMonitorClient,
        journal: PgJournal,
        clock: Clock,
        progress: Callable[[str, int, int | None], None] | None = None,
        login_as: Callable[[str], Callable[[], Any]] | None = None,
    ) -> None:
        super().__init__(
            gateway=gateway,
            cm=cm,
            journal=journal,
            clock=clock,
            progress=progress,
            login_as=login_as,
        )
        self.config = config
        self.pg = journal
        self.redis = connect_redis(config.broker_url, config.broker_outage_seconds)
        self.app = configure(config)

    def run(self, *, full: bool = False) -> RunReport:
        """Run (or resume) the primary sync on the workers; the report covers every process."""
        lease = _Lease(self.config, self.pg, self.clock)
        lease.start()
        try:
            report = super().run(full=full)
        finally:
            lease.stopped.set()
        run_id = report.run.run_id
        report.calls = self.pg.run_calls(run_id)
        report.stats = _merged(report.stats, self.pg, run_id)
        report.messages = run_messages(self.pg, run_id)
        return report

    def _maintenance_log(self, settings: Any, run_id: str) -> MaintenanceLog:
        return SharedMaintenanceLog(self.gateway, settings, self.clock, run_id, self.pg)

    def _budget(self, run: Run, settings: Any) -> ApiBudget:
        return SharedBudget(
            self.redis,
            run.run_id,
            run_share=settings.run_api_share,
            org_ceiling=settings.org_api_ceiling,
        )

    def _execute(self, ctx: JobContext, job: Job) -> bool:
        if job.name in COORDINATOR_JOBS:  # its ledger is in the coordinator's journal file
            if job.name == "change_capture" and job.enabled():
                self._take_engine_writes(ctx)
            return super()._execute(ctx, job)
        run_id = ctx.run.run_id
        self.clock.sleep(JOB_GAP_SECONDS)
        self.pg.start_job(run_id, job.name, self.clock.now())
        if not job.enabled():
            self.pg.finish_job(run_id, job.name, "skipped", self.clock.now())
            return True
        sf_before, cm_before = self.gateway.calls, self.cm.calls
        self._job_writes = self.cm.write_calls
        try:
            scopes, plans = self._partitioned(run_id, job, list(job.start()))
            waves = group_scopes(ctx, scopes)
            total = len(scopes)
            done_before = 0
            for wave in waves:
                done_before += self._wave(
                    run_id, job.name, wave, done_before, total,
                    on_end=partial(self._merge, run_id, job, plans),
                )  # fmt: skip
        except errors.WaitingError:
            self._count_calls(run_id, job.name, sf_before, cm_before)
            self.pg.finish_job(run_id, job.name, "waiting", self.clock.now(), "waiting")
            raise
        except STOPPING:
            self._count_calls(run_id, job.name, sf_before, cm_before)
            self.pg.finish_job(run_id, job.name, "failed", self.clock.now(), "stopped")
            raise
        except TaskFailed as error:  # the worker raised the job's message
            if isinstance(error, PoisonError):
                ctx.log.raise_message(
                    "Error", job.name, "CMSF-TASK-POISON", f"{job.title} failed", str(error)
                )
            self._count_calls(run_id, job.name, sf_before, cm_before)
            self.pg.finish_job(run_id, job.name, "failed", self.clock.now(), str(error))
            return False
        except CmsfError as error:  # the job's start() on the coordinator
            raise_job_failure(ctx, job, error)
            self._count_calls(run_id, job.name, sf_before, cm_before)
            self.pg.finish_job(run_id, job.name, "failed", self.clock.now(), str(error))
            return False
        self._count_calls(run_id, job.name, sf_before, cm_before)
        self.pg.finish_job(run_id, job.name, "completed", self.clock.now())
        ctx.directory.refresh()
        return True

    def _partitioned(
        self, run_id: str, job: Job, scopes: list[Scope]
    ) -> tuple[list[Scope], dict[str, tuple[Scope, list[Scope]]]]:
        """The job's scopes with big ones replaced by their list partitions.

        A run plans its partitions once: a resumed run finds them in its tasks and
        reuses them (parts already done stay done; a re-plan could cut elsewhere). A
        scope already done (its parts merged) is not split again.

        Returns:
            The scopes to run, and each split scope with its parts by the scope's key.
        """
        size = self.config.partition_size
        if size <= 0:
            return scopes, {}
        planned: dict[str, list[Scope]] = {}
        for row in self.pg.groups(run_id, job.name):
            for part in json.loads(row["scopes"] or "[]"):
                if part.get("part_of"):
                    planned.setdefault(str(part["part_of"]), []).append(part)
        out: list[Scope] = []
        plans: dict[str, tuple[Scope, list[Scope]]] = {}
        for scope in scopes:
            key = str(scope["key"])
            if self.pg.scope_done(run_id, job.name, key):
                out.append(scope)
                continue
            parts = sorted(planned.get(key, []), key=_part_number) or job.partition(scope, size)
            if parts:
                plans[key] = (scope, parts)
                out.extend(parts)
            else:
                out.append(scope)
        return out, plans

    def _merge(self, run_id: str, job: Job, plans: dict[str, tuple[Scope, list[Scope]]]) -> None:
        """Each split scope whose parts are all done advances its bookmark and is done."""
        for key, (scope, parts) in plans.items():
            if self.pg.scope_done(run_id, job.name, key):
                continue
            if all(self.pg.scope_done(run_id, job.name, str(p["key"])) for p in parts):
                with self.pg.transaction():
                    job.merge_partitions(scope, parts)
                    self.pg.mark_scope_done(run_id, job.name, key)

    def _take_engine_writes(self, ctx: JobContext) -> None:
        """Record what workers wrote to Contacts and Leads in the push's ledger (as the
        local runtime's jobs do as they write), so the capture does not push it back."""
        from cmsf_core.push.capture import ledger_for

        ledger = ledger_for(ctx)
        with self.pg.transaction():
            for sobject, tokens, created in self.pg.take_engine_writes():
                ledger.note_engine_tokens(sobject, tokens, created=created)

    def _send(self, run_id: str, job: str, groups: list[str]) -> None:
        """Publish tasks, riding out a broker outage for ``broker_outage_seconds``.

        Raises:
            BrokerUnavailableError: When the broker stayed unreachable.
        """
        interval_max = 2.0
        retries = max(1, math.ceil(self.config.broker_outage_seconds / interval_max))
        for grp in groups:
            try:
                self.app.send_task(
                    EXECUTE,
                    args=[run_id, job, grp],
                    queue=self.config.queue,
                    retry=True,
                    retry_policy={
                        "max_retries": retries,
                        "interval_start": 0.2,
                        "interval_step": 0.5,
                        "interval_max": interval_max,
                    },
                )
            except (OperationalError, redis.RedisError, OSError) as exc:
                raise BrokerUnavailableError("send a task", exc) from None

    def _wave(
        self,
        run_id: str,
        job: str,
        groups: dict[str, list[dict[str, Any]]],
        done: int,
        total: int,
        *,
        on_end: Callable[[], None] | None = None,
    ) -> int:
        """Send one wave of tasks and wait until each has ended; return its scopes.

        ``on_end`` is called once every task has ended, before a failed one is raised
        (list partitions that all completed are merged even when another task failed).
        """
        self.pg.publish_groups(run_id, job, groups, self.clock.now())
        states = {g["grp"]: g for g in self.pg.groups(run_id, job) if g["grp"] in groups}
        self._send(run_id, job, [g for g, row in states.items() if row["status"] not in TERMINAL])
        deadline = time.monotonic() + self.config.wait_seconds
        quiet_since, last = time.monotonic(), None
        while True:
            states = {g["grp"]: g for g in self.pg.groups(run_id, job) if g["grp"] in groups}
            ended = [row for row in states.values() if row["status"] in TERMINAL]
            if self.progress is not None:
                finished = sum(len(groups[row["grp"]]) for row in ended)
                self.progress(job, done + finished, total)
            if len(ended) == len(groups):
                break
            moment = [(g, r["status"], r["attempts"], r["claim_until"]) for g, r in states.items()]
            if moment != last:
                quiet_since, last = time.monotonic(), moment
            elif time.monotonic() - quiet_since > self.config.visibility_timeout:
                waiting = [
                    g for g, r in states.items()
                    if r["status"] not in TERMINAL
                    and (not r["claim_until"] or str(r["claim_until"]) <= self.clock.now().isoformat())
                ]  # fmt: skip
                self._send(run_id, job, waiting)  # lost by the broker: send again
                quiet_since = time.monotonic()
            if time.monotonic() > deadline:
                raise errors.FatalError(
                    f"the workers did not finish {job} within {self.config.wait_seconds:.0f} s; "
                    "is a 'cmsf worker' running on the queue?",
                    support_code="CMSF-TASK-WAIT",
                )
            time.sleep(POLL_SECONDS)
        if on_end is not None:
            on_end()
        self._raise_for(job, [states[g] for g in groups])
        return sum(len(scopes) for scopes in groups.values())

    def _raise_for(self, job: str, rows: list[dict[str, Any]]) -> None:
        """Turn the tasks' endings into what the local runtime would have raised."""
        for row in rows:
            if row["status"] == "stopped":
                info = json.loads(row["error"] or "{}")
                kind = getattr(errors, str(info.get("type")), None)
                if info.get("type") == "BrokerUnavailableError":
                    kind = BrokerUnavailableError
                if not (isinstance(kind, type) and issubclass(kind, CmsfError)):
                    kind = errors.FatalError
                raise _rebuild(kind, info)
        failed = [row for row in rows if row["status"] in {"failed", "poison"}]
        poison = [row for row in failed if row["status"] == "poison"]
        if poison:
            row = poison[0]
            info = json.loads(row["error"] or "{}")
            raise PoisonError(
                f"a task ({job}, {row['grp']}) was given up after {row['attempts'] - 1} "
                f"deliveries without ending ({info.get('message')}); the other clients' "
                "tasks of the job ran"
            )
        if failed:
            info = json.loads(failed[0]["error"] or "{}")
            raise TaskFailed(str(info.get("message") or "a task failed"))


class TaskFailed(CmsfError):
    """A task ended failed on its own (its worker raised the job's message)."""


class PoisonError(TaskFailed):
    """A task was delivered too often without ending; its job is failed."""


def _rebuild(kind: type[CmsfError], info: dict[str, Any]) -> CmsfError:
    message = str(info.get("message") or kind.__name__)
    if issubclass(kind, errors.WaitingError):
        return kind(
            message,
            job_id=str(info.get("job_id") or ""),
            state=str(info.get("state") or ""),
            sobject=str(info.get("sobject") or ""),
        )
    try:
        error = kind(message, platform=info.get("platform"), support_code=info.get("support_code"))
    except TypeError:
        error = kind(message)
    return error


def _merged(local: RunStats, journal: PgJournal, run_id: str) -> RunStats:
    """The coordinator's counts plus every task's (written: distinct across the run)."""
    merged = _ReportStats(journal.run_written(run_id), local.written)
    shared = journal.run_counts(run_id)
    for kind in ("read", "failed", "deleted", "pushed"):
        counter = getattr(merged, kind)
        counter.update(getattr(local, kind))
        counter.update(shared.get(kind, {}))
    # the import wizard's jobs run on the coordinator (COORDINATOR_JOBS): theirs are all here
    merged.imports = {name: Counter(counts) for name, counts in local.imports.items()}
    return merged


class _ReportStats(RunStats):
    """Counts of a distributed run, for its report."""

    def __init__(self, written: dict[str, int], local: Any) -> None:
        super().__init__()
        self._totals = {**written}
        for sobject, n in dict(local).items():
            self._totals[sobject] = max(self._totals.get(sobject, 0), n)

    @property
    def written(self) -> Any:
        """Distinct records written per object, by every process of the run."""
        from types import MappingProxyType

        return MappingProxyType({k: v for k, v in self._totals.items() if v})
