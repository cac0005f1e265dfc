"""Running imports alone (``cmsf import run``), outside a full sync.

Same guards as a sync: the journal's runner lock (a cron sync and a manual import never
overlap), a connected integration, the journal bound to this org and connection, the API
budget, and the sandbox safety check (a sandbox never writes to a live account). Then the
``imports`` job runs the chosen imports (or the due ones) and ``import_replace`` follows,
exactly as inside ``cmsf sync``; nothing of the primary sync runs, and the sync's own
last-run record is left alone. A dry run reads and converts as the owner and writes
nothing anywhere.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cmsf_core.budget import ApiBudget
from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import Clock
from cmsf_core.errors import CmsfError, ConfigError
from cmsf_core.imports.runner import LOGIN_AS_KEY, ImportOutcome
from cmsf_core.jobs import JOBS
from cmsf_core.jobs.context import Directory, JobContext
from cmsf_core.jobs.imports import SELECTION_KEY, ImportSelection
from cmsf_core.matching import PersonMatcher
from cmsf_core.messages import MaintenanceLog, Message
from cmsf_core.operations import connection_generation, ensure_connection_identity
from cmsf_core.runtime import STOPPING_ERRORS, stop
from cmsf_core.safety import check_org_safety
from cmsf_core.salesforce import SalesforceGateway
from cmsf_core.settings_store import SettingsStore
from cmsf_core.shadow import Shadow
from cmsf_core.state import Journal, Run

__all__ = ["ImportReport", "run_imports"]

JOBS_IN_ORDER = ("imports", "import_replace")


@dataclass
class ImportReport:
    """What ``cmsf import run`` did.

    Attributes:
        status: ``completed``, ``completed_with_errors`` (an import failed or has failed
            rows), ``stopped`` or ``failed`` (as a sync's), or ``nothing`` (none to run).
        outcomes: Each import's outcome, by import Id, with its name.
        counts: What each import did, by name (rows, imported, removed, API calls...).
        messages: Maintenance messages raised.
        calls: API calls per platform.
        reason: Why it stopped or failed.
        dry_run: Nothing was written.
    """

    status: str
    outcomes: dict[str, ImportOutcome] = field(default_factory=dict)
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    reason: str | None = None
    dry_run: bool = False


def run_imports(
    *,
    gateway: SalesforceGateway,
    cm: CampaignMonitorClient,
    journal: Journal,
    clock: Clock,
    selection: ImportSelection,
    login_as: Callable[[str], Callable[[], Any]] | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> ImportReport:
    """Run the selected imports (or the due ones) and their replaces.

    Raises:
        ConfigError: When the integration is not connected, or another run holds the
            journal.
    """
    journal.acquire(clock.now())
    try:
        return _run(gateway, cm, journal, clock, selection, login_as, progress)
    finally:
        journal.release()


def _run(
    gateway: SalesforceGateway,
    cm: CampaignMonitorClient,
    journal: Journal,
    clock: Clock,
    selection: ImportSelection,
    login_as: Callable[[str], Callable[[], Any]] | None,
    progress: Callable[[str, int, int | None], None] | None,
) -> ImportReport:
    sf_before, cm_before, writes_before = gateway.calls, cm.calls, cm.write_calls
    store = SettingsStore(gateway, clock)
    settings = store.load()
    if not settings.connected:
        raise ConfigError(
            "the integration is not connected to a Campaign Monitor account; run "
            "'cmsf connect' first"
        )
    settings = ensure_connection_identity(store, settings, cm)
    org = gateway.organization()
    rebound = journal.bind(str(org["Id"]), connection_generation(settings), clock.now())
    shadow = Shadow(journal)
    shadow.use_key(settings.connection_key)
    gateway.budget = ApiBudget(
        run_share=settings.run_api_share,
        org_ceiling=settings.org_api_ceiling,
        run_calls=gateway.budget.run_calls,
    )
    cm.page_size = settings.limit("cm_page_size")
    now = clock.now().isoformat()
    run = Run(f"imports-{uuid.uuid4().hex[:12]}", now, now, False, "running")
    log = MaintenanceLog(gateway, settings, clock, run.run_id)
    ctx = JobContext(
        run=run,
        settings=settings,
        sf=gateway,
        cm=cm,
        journal=journal,
        shadow=shadow,
        clock=clock,
        log=log,
        directory=Directory(gateway, settings.sync_user_id),
        matcher=PersonMatcher(gateway, journal, key=settings.connection_key),
        progress=progress,
        extras={SELECTION_KEY: selection, LOGIN_AS_KEY: login_as},
    )
    report = ImportReport("completed", dry_run=selection.dry_run)
    if rebound is not None:
        log.raise_message(
            "Info",
            "runtime",
            "CMSF-JOURNAL-NEW",
            "The runner's journal started clean state for this org and connection",
            f"It held the state of {rebound}.",
        )
    ran = True
    try:
        gateway.limits()
        gateway.budget.check()
        check_org_safety(gateway, settings, cm, org=org)
        ran = _play(ctx)
    except STOPPING_ERRORS as error:
        report.status, report.reason = stop(log, error)
    except CmsfError as error:
        log.raise_message("Error", "imports", "CMSF-JOB-FAILED", "Import wizard failed", str(error))
        report.status, report.reason = "failed", str(error)
    report.outcomes = dict(ctx.extras.get("import_outcomes") or {})
    report.counts = ctx.stats.imports
    report.messages = list(log.messages)
    if not ran:
        report.status = "nothing"
    elif report.status == "completed" and any(
        o.status in ("Failed", "Completed With Errors") for o in report.outcomes.values()
    ):
        report.status = "completed_with_errors"
    report.calls = {
        "salesforce": gateway.calls - sf_before,
        "campaign_monitor": cm.calls - cm_before,
        "campaign_monitor_writes": cm.write_calls - writes_before,
    }
    ctx.stats.close()
    return report


def _play(ctx: JobContext) -> bool:
    """Run the import jobs' scopes in order; False when there was nothing to run."""
    ran = False
    for name in JOBS_IN_ORDER:
        job = JOBS[name](ctx)
        if not job.enabled():
            continue
        scopes = list(job.start())
        for done, scope in enumerate(scopes, start=1):
            job.execute(scope)
            ran = True
            if ctx.progress is not None:
                ctx.progress(name, done, len(scopes))
    return ran
