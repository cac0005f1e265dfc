"""The sync engine bound to one org, one account and one journal.

:class:`Engine` is what the CLI, the scenario runner and tests drive: it opens fresh
gateways for every run (as separate hourly runs would), runs the primary sync on the
local runtime, and exposes the maintenance operations. How the platforms are reached is
given as two factories, so the same engine works on simulators and real platforms.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from simple_salesforce.api import Salesforce

from cmsf_core import operations
from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import Clock, parse_instant
from cmsf_core.distributed.config import RuntimeConfig
from cmsf_core.errors import CmsfError, ConfigError
from cmsf_core.imports.records import ImportView, create_import, list_imports
from cmsf_core.imports.session import ImportReport, run_imports
from cmsf_core.imports.spec import due_record
from cmsf_core.jobs.imports import ImportSelection
from cmsf_core.retry import RetryPolicy
from cmsf_core.runtime import LocalRuntime, ReadSettings, RunReport
from cmsf_core.salesforce import SalesforceGateway
from cmsf_core.settings import Settings
from cmsf_core.settings_store import SettingsStore
from cmsf_core.state import Journal

if TYPE_CHECKING:
    from cmsf_core.transactional.service import SendReport, SendSession

__all__ = ["Engine"]


class Engine:
    """Runs the primary sync and the maintenance operations.

    Args:
        salesforce: Returns a logged-in simple-salesforce client (called per run and on
            re-login).
        campaign_monitor: Returns a Campaign Monitor client (called per run).
        journal: The runner's journal.
        clock: The injected clock.
        retry: Retry policy of the Salesforce gateway.
        progress: Told ``(job, scopes done, total)`` during runs.
        on_gateway: Told about every new Salesforce gateway (tests use it to inject faults).
        as_user: Given a username, returns a login factory for that user (JWT bearer on a
            real org): how a sync runs as the sync user when cmsf logs in as someone else.
    """

    def __init__(
        self,
        *,
        salesforce: Callable[[], Salesforce],
        campaign_monitor: Callable[[], CampaignMonitorClient],
        journal: Journal,
        clock: Clock,
        retry: RetryPolicy | None = None,
        progress: Callable[[str, int, int | None], None] | None = None,
        on_gateway: Callable[[SalesforceGateway], None] | None = None,
        as_user: Callable[[str], Callable[[], Salesforce]] | None = None,
    ) -> None:
        self._salesforce = salesforce
        self._campaign_monitor = campaign_monitor
        self.journal = journal
        self.clock = clock
        self.retry = retry
        self.progress = progress
        self.on_gateway = on_gateway
        self.as_user = as_user
        self.reports: list[RunReport] = []
        self.runtime: RuntimeConfig | None = None
        """The distributed runtime to run syncs on (None: this process, the local runtime)."""

    def gateway(self, login: Callable[[], Salesforce] | None = None) -> SalesforceGateway:
        """A new Salesforce gateway (new session, fresh counters), as the configured login
        or through ``login``."""
        gateway = SalesforceGateway(login or self._salesforce, clock=self.clock, retry=self.retry)
        if self.on_gateway is not None:
            self.on_gateway(gateway)
        return gateway

    def sync_gateway(self) -> SalesforceGateway:
        """A gateway logged in as the sync user.

        The configured login when it is the sync user (or none is set); else a login as
        the sync user through ``as_user`` (JWT bearer on a real org).

        Raises:
            ConfigError: If the sync user is someone else and cannot be logged in as.
        """
        return self._sync_login()[0]

    def _sync_login(self) -> tuple[SalesforceGateway, ReadSettings | None]:
        """The sync user's gateway, and the settings read to choose it when that gateway
        read them (a run starts from them instead of reading them again).

        Raises:
            ConfigError: If the sync user is someone else and cannot be logged in as.
        """
        gateway = self.gateway()
        store = SettingsStore(gateway, self.clock)
        calls = gateway.calls
        try:
            settings = store.load()
        except CmsfError:
            return gateway, None
        wanted = settings.sync_user_id
        if not wanted or gateway.current_user_id()[:15] == wanted[:15]:
            return gateway, ReadSettings(store, settings, calls)
        rows = list(
            gateway.query(f"SELECT Username FROM User WHERE Id = '{wanted}' AND IsActive = true")
        )
        if not rows:  # an inactive sync user: the run reports it (CMSF-OWNER-INACTIVE)
            return gateway, ReadSettings(store, settings, calls)
        if self.as_user is None:
            raise ConfigError(
                f"the sync user is {rows[0]['Username']} but cmsf logs in as another user; "
                "log in as the sync user, or give JWT bearer credentials (CMSF_SF_CONSUMER_KEY, "
                "CMSF_SF_PRIVATE_KEY_FILE) so runs switch to it"
            )
        return self.gateway(self.as_user(str(rows[0]["Username"]))), None

    def campaign_monitor(self) -> CampaignMonitorClient:
        """A new Campaign Monitor client."""
        return self._campaign_monitor()

    def use_runtime(self, config: RuntimeConfig) -> None:
        """Run syncs on ``config``'s runtime, and read runs from its journal.

        The celery runtime's journal is PostgreSQL (the coordinator keeps the ledgers of
        the jobs it runs itself in the runner's journal file); any other kind goes back to
        the runner's SQLite journal. ``cmsf status``, ``doctor`` and the dashboard read
        whichever journal the configured runtime uses.

        Raises:
            ConfigError: If the journal database cannot be reached, or the distributed
                extra is not installed.
        """
        try:
            from cmsf_core.distributed.pgjournal import PgJournal
        except ImportError:
            if config.kind == "celery":
                raise ConfigError(
                    "the celery runtime needs the distributed extra: "
                    "pip install 'cmsf[distributed]'"
                ) from None
            self.runtime = None
            return
        current = self.journal
        if config.kind != "celery":
            if isinstance(current, PgJournal):
                self.journal = Journal(current.side)
                current.close()
            self.runtime = None
            return
        same = self.runtime is not None and (
            self.runtime.database_url,
            self.runtime.lease_seconds,
        ) == (config.database_url, config.lease_seconds)
        if isinstance(current, PgJournal) and same:
            self.runtime = config
            return
        side = current.side if isinstance(current, PgJournal) else current.path
        # The ledgers (push, imports, merges, Bulk API jobs) are in PostgreSQL; the runner's
        # journal file holds the coordinator's working tables of one run.
        journal = PgJournal(config.database_url, lease_seconds=config.lease_seconds, side=side)
        current.close()
        self.journal = journal
        self.runtime = config

    def sync(self, *, full: bool = False) -> RunReport:
        """Run (or resume) the primary sync, on the local or the distributed runtime.

        Raises:
            ConfigError: If the integration is not connected.
        """
        cm = self.campaign_monitor()
        try:
            runtime: LocalRuntime
            if self.runtime is not None and self.runtime.kind == "celery":
                from cmsf_core.distributed.pgjournal import PgJournal
                from cmsf_core.distributed.runtime import DistributedRuntime

                if not isinstance(self.journal, PgJournal):
                    raise ConfigError("the celery runtime keeps its journal in PostgreSQL")
                runtime = DistributedRuntime(
                    config=self.runtime,
                    gateway=self.sync_gateway(),
                    cm=cm,
                    journal=self.journal,
                    clock=self.clock,
                    progress=self.progress,
                    login_as=self.as_user,
                )
            else:
                gateway, settings = self._sync_login()
                runtime = LocalRuntime(
                    gateway=gateway,
                    settings=settings,
                    cm=cm,
                    journal=self.journal,
                    clock=self.clock,
                    progress=self.progress,
                    login_as=self.as_user,
                )
            report = runtime.run(full=full)
        finally:
            cm.close()
        self.reports.append(report)
        return report

    def due(self) -> tuple[bool, str]:
        """Whether the scheduled primary sync is due now, and why (or why not).

        An interrupted run, or one waiting for a Bulk API job, is always due (it resumes).
        Otherwise the frequency setting
        decides: ``Never`` turns the schedule off; else a sync is due once the next run time
        recorded in the org has come (or when none is recorded yet).
        """
        unfinished = self.journal.unfinished_run()
        if unfinished is not None and unfinished.status == "waiting":
            return True, "a run waits for a Bulk API job: this run collects its results"
        if unfinished is not None:
            return True, "an interrupted run is waiting to resume"
        store = SettingsStore(self.gateway(), self.clock)
        record = store.record() or {}
        settings = store.load()
        if not settings.connected:
            return False, "the integration is not connected"
        if settings.interval is None:
            return False, "the sync is turned off (frequency Never)"
        next_run = record.get("Next_Run__c")
        if not next_run:
            return True, "no sync has run yet"
        when = parse_instant(str(next_run).replace("+0000", "+00:00"))
        if self.clock.now() >= when:
            return True, f"due since {when.isoformat()}"
        return False, f"next sync at {when.isoformat()} ({settings.frequency})"

    def run_imports(self, selection: ImportSelection) -> ImportReport:
        """Run chosen imports (or the due ones) alone, as their owners (``cmsf import run``).

        Raises:
            ConfigError: If the integration is not connected or another run holds the journal.
        """
        cm = self.campaign_monitor()
        try:
            return run_imports(
                gateway=self.sync_gateway(),
                cm=cm,
                journal=self.journal,
                clock=self.clock,
                selection=selection,
                login_as=self.as_user,
                progress=self.progress,
            )
        finally:
            cm.close()

    def imports(self) -> list[ImportView]:
        """Every import with its last outcome and next scheduled run."""
        return list_imports(self.gateway(), self.clock.now(), self.journal)

    def imports_due(self) -> list[str]:
        """Names of the imports a run would start now (due, or interrupted)."""
        now = self.clock.now()
        return [
            view.name
            for view in self.imports()
            if view.in_progress is not None
            or due_record({"Schedule__c": view.schedule, "Last_Run__c": view.last_run}, now)
        ]

    def create_import(self, **fields: Any) -> str:
        """Create an import (see :func:`cmsf_core.imports.records.create_import`)."""
        return create_import(self.gateway(), **fields)

    def settings(self) -> Settings:
        """The settings stored in the org."""
        return SettingsStore(self.gateway(), self.clock).load()

    def connect(self, **kwargs: Any) -> Settings:
        """Connect the org to the account (see :func:`cmsf_core.operations.connect`)."""
        cm = self.campaign_monitor()
        try:
            return operations.connect(self.gateway(), cm, self.clock, **kwargs)
        finally:
            cm.close()

    def reconnect(
        self, clients: tuple[str, ...], *, changed_by: str = "cmsf reconnect"
    ) -> Settings:
        """Keep the connection and select ``clients``."""
        cm = self.campaign_monitor()
        try:
            return operations.reconnect(
                self.gateway(), cm, self.clock, clients=clients, changed_by=changed_by
            )
        finally:
            cm.close()

    def change_settings(self, changes: dict[str, Any], *, changed_by: str = "cmsf") -> list[str]:
        """Apply validated setting changes; return the names that changed."""
        _, changed = operations.change_settings(
            self.gateway(), self.clock, changes, changed_by=changed_by
        )
        return changed

    def set_bulk_actions(
        self, action_type: str, disable: bool, *, changed_by: str = "cmsf set-bulk-actions"
    ) -> list[str]:
        """``setBulkActions``: see :func:`cmsf_core.operations.set_bulk_actions`."""
        return operations.set_bulk_actions(
            self.gateway(), self.clock, action_type, disable, changed_by=changed_by
        )

    def disconnect(self) -> Settings:
        """Stop syncing (data stays)."""
        return operations.disconnect(self.gateway(), self.clock)

    def reset_settings(self) -> Settings:
        """Back to defaults, disconnected."""
        return operations.reset_settings(self.gateway(), self.clock)

    def change_sync_user(self, user: str, *, changed_by: str = "cmsf sync-user") -> dict[str, Any]:
        """Make ``user`` (a username or Id) the sync user (see :func:`cmsf_core.operations.change_sync_user`)."""
        return operations.change_sync_user(self.gateway(), self.clock, user, changed_by=changed_by)

    def set_security_owner(
        self, client_id: str, user: str | None, *, changed_by: str = "cmsf security-owner"
    ) -> str | None:
        """Set (or clear) the owner of records created for a client."""
        return operations.set_security_owner(
            self.gateway(), self.clock, client_id, user, changed_by=changed_by
        )

    def disconnect_client(self, client_id: str, *, changed_by: str = "cmsf disconnect") -> Settings:
        """Stop syncing one client (its synced data goes at the next run)."""
        cm = self.campaign_monitor()
        try:
            return operations.disconnect_client(
                self.gateway(), cm, self.clock, client_id, changed_by=changed_by
            )
        finally:
            cm.close()

    def import_subscriber(self, list_id: str, email: str) -> str:
        """Refresh one subscriber's membership now (see :func:`cmsf_core.operations.import_subscriber`)."""
        cm = self.campaign_monitor()
        try:
            return operations.import_subscriber(self.gateway(), cm, self.clock, list_id, email)
        finally:
            cm.close()

    def create_list(self, client_id: str, name: str) -> str:
        """Create a Campaign Monitor list and its Salesforce record; return its id."""
        cm = self.campaign_monitor()
        try:
            return operations.create_list(self.gateway(), cm, self.clock, client_id, name)
        finally:
            cm.close()

    def clear_campaign_history(self, since: datetime | None = None, batch_size: int = 1000) -> int:
        """Delete tracking history in Salesforce (from ``since`` on), ``batch_size`` at a time."""
        return operations.clear_campaign_history(
            self.gateway(), self.clock, since=since, batch_size=batch_size
        )

    # ------------------------------------------------------------------ transactional

    def send_smart_email(
        self, mapping: str, record_ids: list[str], *, test: bool = False
    ) -> SendReport:
        """Send a smart email mapping for records now; see :func:`cmsf_core.transactional.service.send_now`."""
        from cmsf_core.transactional.service import send_now

        return send_now(self, mapping, record_ids, test=test)

    def send_session(self, label: str = "watch") -> SendSession:
        """A session that drains the smart email queue between runs (``cmsf watch``)."""
        from cmsf_core.transactional.service import SendSession

        return SendSession(self, label)

    def delete_processes(self, count: int = 1000) -> int:
        """``deleteProcess``: delete up to ``count`` finished send process records."""
        from cmsf_core.transactional.service import delete_processes

        return delete_processes(self.gateway(), count)
