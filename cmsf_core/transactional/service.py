"""Transactional sends outside a sync run: the Python API behind the CLI.

- :func:`request_sends` inserts the queue items of a send request (a Flow's job, done
  from Python): one item per record, grouped under a process record when there are
  several (a bulk request), or one ``Test__c`` item for Run Test;
- :class:`SendSession` opens what a pass needs (the sync user's gateway, the Campaign
  Monitor client, the settings, a maintenance log) after the same checks a run makes
  (connected, same account, sandbox safety), and holds the runner lock while it sends, so
  a sync and a send never work on the same items at once;
- :meth:`SendSession.send` sends given items now (``cmsf send-smart-email``),
  :meth:`SendSession.drain` whatever is due (one ``cmsf watch`` poll);
- :func:`delete_processes` is ``deleteProcess``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cmsf_core.budget import ApiBudget
from cmsf_core.errors import CmsfError, ConfigError
from cmsf_core.jobs.context import RunStats
from cmsf_core.matching import soql_quote
from cmsf_core.messages import MaintenanceLog
from cmsf_core.operations import ensure_connection_identity
from cmsf_core.push.capture import soql_instant
from cmsf_core.push.queue import QUEUE_ITEM, to18
from cmsf_core.safety import check_org_safety
from cmsf_core.settings_store import SettingsStore
from cmsf_core.transactional import items as queue
from cmsf_core.transactional.mappings import MAPPING, MAPPING_FIELDS, SmartEmailMapping, from_row
from cmsf_core.transactional.sender import (
    JOB,
    WAIT_BUDGET,
    Sender,
    SendOutcome,
    held_up,
    send_due,
)

if TYPE_CHECKING:
    from cmsf_core.campaign_monitor import CampaignMonitorClient
    from cmsf_core.clock import Clock
    from cmsf_core.engine import Engine
    from cmsf_core.salesforce import SalesforceGateway
    from cmsf_core.settings import Settings

__all__ = [
    "Request",
    "SendReport",
    "SendSession",
    "delete_processes",
    "find_mapping",
    "request_sends",
    "send_now",
]

MAX_RECORDS = 10_000
"""Records one request may name."""
MAX_PROCESS_DELETES = 10_000


class RunnerBusy(Exception):
    """Another process of this runner took the journal's lock (it sends the items)."""


@dataclass(frozen=True)
class Request:
    """A send request as inserted into the queue.

    Attributes:
        mapping: The mapping sent.
        item_ids: One queue item per record, in the order given.
        process_id: The process record grouping them (bulk requests only).
    """

    mapping: SmartEmailMapping
    item_ids: list[str]
    process_id: str | None = None


def find_mapping(gateway: SalesforceGateway, ref: str) -> SmartEmailMapping:
    """A mapping by Salesforce Id (15 or 18 characters) or by its unique name.

    Raises:
        ConfigError: When no mapping, or several, answer to ``ref``.
    """
    text = ref.strip()
    if not text or len(text) > 80:
        raise ConfigError("give a smart email mapping's Id or its name (at most 80 characters)")
    where = f"Name = {soql_quote(text)}"
    if len(text) in (15, 18) and text.isalnum():
        where = f"Id = {soql_quote(to18(text))} OR {where}"
    rows = list(gateway.query(f"SELECT {MAPPING_FIELDS} FROM {MAPPING} WHERE {where} LIMIT 3"))
    if not rows:
        raise ConfigError(f"no smart email mapping is named or has the Id {text!r}")
    if len(rows) > 1:
        raise ConfigError(f"several smart email mappings are named {text!r}; give its Id")
    return from_row(rows[0], ())


def request_sends(
    gateway: SalesforceGateway,
    clock: Clock,
    mapping_ref: str,
    record_ids: Sequence[str],
    *,
    test: bool = False,
) -> Request:
    """Insert the queue items of a send request (what a Flow inserts).

    Args:
        gateway: The org.
        clock: For the process record's key.
        mapping_ref: The mapping's Id or unique name.
        record_ids: Records of the mapping's root object to send for.
        test: A Run Test send (one record; reported, no Task).

    Raises:
        ConfigError: For an unknown mapping, malformed record Ids or Ids of another
            object, a test of several records, or too many records.
    """
    mapping = find_mapping(gateway, mapping_ref)
    ids = [str(r).strip() for r in record_ids]
    if not ids:
        raise ConfigError("give at least one record Id")
    if len(ids) > MAX_RECORDS:
        raise ConfigError(f"at most {MAX_RECORDS:,} records per request ({len(ids):,} given)")
    if test and len(ids) > 1:
        raise ConfigError("Run Test (--test) sends for one record")
    bad = [r for r in ids if len(r) not in (15, 18) or not r.isalnum()]
    if bad:
        raise ConfigError(f"{bad[0][:40]!r} is not a Salesforce record Id")
    try:
        prefix = str(gateway.describe(mapping.root_object).get("keyPrefix") or "")
    except CmsfError as exc:
        raise ConfigError(
            f"mapping '{mapping.name}': root object {mapping.root_object!r} is not an object of "
            f"this org ({exc})"
        ) from None
    other = [r for r in ids if prefix and r[:3] != prefix]
    if other:
        raise ConfigError(
            f"{other[0]} is not a {mapping.root_object} record (mapping '{mapping.name}' sends "
            f"for {mapping.root_object} records, Ids starting {prefix})"
        )
    process_id = None
    if len(ids) > 1:
        user = gateway.current_user_id()
        key = queue.process_key(mapping.id, user, clock.now().isoformat())
        result = gateway.upsert(
            queue.PROCESS,
            "Key__c",
            [{"Key__c": key, "Smart_Email_Mapping__c": mapping.id, "Requested_By__c": user,
              "Status__c": "Pending", "Total__c": len(ids)}],
        )  # fmt: skip
        process_id = result.ids[0]
        if process_id is None:
            failure = result.failures[0]
            raise ConfigError(
                f"Salesforce refused the process record: {failure.code} {failure.message}"
            )
    records: list[dict[str, Any]] = [
        {
            "Type__c": queue.SMART_EMAIL,
            "Status__c": "Pending",
            "Record_Id__c": to18(r),
            "Smart_Email_Mapping__c": mapping.id,
            "Test__c": test,
            **({"Process__c": process_id} if process_id else {}),
        }
        for r in ids
    ]
    item_ids: list[str] = []
    for start in range(0, len(records), 200):
        result = gateway.create(QUEUE_ITEM, records[start : start + 200])
        if result.failures:
            failure = result.failures[0]
            raise ConfigError(
                f"Salesforce refused the queue items: {failure.code} {failure.message}"
            )
        item_ids += [str(i) for i in result.ids]
    return Request(mapping, item_ids, process_id)


@dataclass
class SendReport:
    """What ``cmsf send-smart-email`` did.

    Attributes:
        request: The queue items inserted.
        outcomes: What became of each (empty when they wait for a run in progress).
        busy: The process holding the runner lock when the items could not be sent now
            (``pid``, ``host``, ``since``); the running sync or watch sends them.
    """

    request: Request
    outcomes: list[SendOutcome] = field(default_factory=list)
    busy: dict[str, Any] | None = None


def send_now(
    engine: Engine, mapping_ref: str, record_ids: Sequence[str], *, test: bool = False
) -> SendReport:
    """Request sends for records and send them at once (``cmsf send-smart-email``).

    When a sync or a watch of this runner is at work, the items are left to it.
    """
    session = SendSession(engine, "send", wait_budget=0.0)
    request = request_sends(session.gateway, engine.clock, mapping_ref, record_ids, test=test)
    holder = engine.journal.lock_holder()
    if holder is not None:
        return SendReport(request, busy=holder)
    return SendReport(request, session.send(request.item_ids))


def delete_processes(gateway: SalesforceGateway, count: int) -> int:
    """``deleteProcess``: delete up to ``count`` finished process records.

    Raises:
        ConfigError: When ``count`` is not between 1 and 10,000.
    """
    if not 1 <= count <= MAX_PROCESS_DELETES:
        raise ConfigError(f"--count must be between 1 and {MAX_PROCESS_DELETES:,}")
    return queue.delete_processes(gateway, count)


@dataclass
class SendSession:
    """What sends outside a run need, opened once (a watch keeps it across polls).

    Args:
        engine: The engine (its gateways, clock and journal).
        label: The maintenance messages' run label (``send`` or ``watch``).
        wait_budget: Seconds a pass may wait out short rate limits (0 for a command a
            person waits for: the sends are deferred at once).

    Attributes:
        stats: Counts over the session.
        log: Its maintenance messages (a watch folds repeats into one message each).
    """

    engine: Engine
    label: str
    wait_budget: float = WAIT_BUDGET
    stats: RunStats = field(default_factory=RunStats)
    _gateway: SalesforceGateway | None = None
    _log: MaintenanceLog | None = None
    _recounted: bool = False

    @property
    def gateway(self) -> SalesforceGateway:
        """The sync user's Salesforce gateway (logged in on first use)."""
        if self._gateway is None:
            self._gateway = self.engine.sync_gateway()
        return self._gateway

    @property
    def log(self) -> MaintenanceLog | None:
        """The session's maintenance log, once a pass has opened it."""
        return self._log

    @contextmanager
    def opened(self) -> Iterator[tuple[Settings, CampaignMonitorClient]]:
        """Check the connection and safety, take the runner lock, and yield settings and client.

        Raises:
            ConfigError: When not connected, or a sync holds the runner lock.
            SafetyError: When this org may not write to this account (a sandbox).
        """
        engine = self.engine
        gateway = self.gateway
        store = SettingsStore(gateway, engine.clock)
        settings = store.load()
        if not settings.connected:
            raise ConfigError(
                "the integration is not connected to a Campaign Monitor account; run "
                "'cmsf connect' first"
            )
        cm = engine.campaign_monitor()
        try:
            settings = ensure_connection_identity(store, settings, cm)
            check_org_safety(gateway, settings, cm)
            gateway.budget = ApiBudget(
                run_share=1.0, org_ceiling=settings.org_api_ceiling, run_calls=0
            )
            if self._log is None:
                started = engine.clock.now().isoformat(timespec="seconds")
                self._log = MaintenanceLog(
                    gateway, settings, engine.clock, f"{self.label}:{started}"
                )
            self._log.settings = settings
            try:
                engine.journal.acquire(engine.clock.now())
            except ConfigError:
                if engine.journal.lock_holder() is not None:
                    raise RunnerBusy from None  # a sync took the lock since we looked
                raise
            try:
                if not self._recounted:  # once a session: what a pass that died left open
                    self._recounted = True
                    done = queue.recount_open_processes(gateway, engine.clock.now())
                    self.stats.pushed["send processes done"] += done
                yield settings, cm
            finally:
                engine.journal.release()
        finally:
            cm.close()

    def _sender(self, settings: Settings, cm: CampaignMonitorClient) -> Sender:
        assert self._log is not None
        return Sender(sf=self.gateway, cm=cm, settings=settings, clock=self.engine.clock,
                      log=self._log, stats=self.stats, job=JOB, wait_budget=self.wait_budget)  # fmt: skip

    def send(self, item_ids: Sequence[str]) -> list[SendOutcome]:
        """Send these queue items now (those already done or failed are reported as they are)."""
        with self.opened() as (settings, cm):
            found = queue.items_by_id(self.gateway, list(item_ids))
            pending = [i for i in found if i.status == "Pending"]
            outcomes = self._sender(settings, cm).process(pending) if pending else []
        done = {o.item_id for o in outcomes}
        shown = {"Done": "sent", "Failed": "failed", "Sending": "in doubt", "Pending": "deferred"}
        for item in found:
            if item.id not in done:
                outcomes.append(SendOutcome(item.id, item.record_id, item.mapping_id,
                                            shown.get(item.status, "failed"),
                                            message_id=item.message_id))  # fmt: skip
        order = {item_id: n for n, item_id in enumerate(item_ids)}
        return sorted(outcomes, key=lambda o: order.get(o.item_id, len(order)))

    def due(self) -> int:
        """How many smart email items are due now (one Salesforce call)."""
        now = soql_instant(self.engine.clock.now())
        return self.gateway.count(
            f"SELECT COUNT() FROM {QUEUE_ITEM} WHERE Type__c = '{queue.SMART_EMAIL}' "
            "AND Status__c IN ('Pending', 'Sending') "
            f"AND (Next_Attempt__c = null OR Next_Attempt__c <= {now})"
        )

    def drain(self, *, max_batches: int = 20) -> list[SendOutcome]:
        """Send what is due, batch after batch, until nothing is due or a batch is held up.

        Nothing is sent while a sync (or another watch) of this runner holds its journal:
        that one sends them.
        """
        if self._recounted and self.due() == 0:
            return []  # an idle poll: one Salesforce call
        if self.engine.journal.lock_holder() is not None:
            return []
        outcomes: list[SendOutcome] = []
        try:
            with self.opened() as (settings, cm):
                size = settings.limit("smart_email_sends")
                sender = self._sender(settings, cm)
                for _ in range(max_batches):
                    done = send_due(sender, size)
                    outcomes += done
                    if len(done) < size or held_up(done):
                        break
        except RunnerBusy:
            return outcomes
        return outcomes
