"""Sending smart emails for queue items: one bounded, crash-safe pass over a batch.

:meth:`Sender.process` takes a batch of smart email items (:mod:`cmsf_core.transactional.items`)
and, in order:

1. reads their mappings and the smart emails' variables (one request) and checks each
   mapping (:func:`~cmsf_core.transactional.mappings.validate`); items of a broken or
   inactive mapping, or with a record Id of another object, fail with the reason;
2. settles items left ``Sending`` by an earlier pass against Campaign Monitor's message
   log (:mod:`cmsf_core.transactional.settle`) -- found ones are done, unsent ones are
   sent now;
3. groups bulk requests under process records;
4. reads the records' recipient, variables and consent in one ``composite/batch``
   request for the whole batch (parent fields such as ``Account.Name`` included);
5. marks the items ``Sending`` (one update) and then sends each once -- a 429 is waited
   out when Campaign Monitor asks for a short wait, else the rest of the batch is
   deferred; a timeout or a 5xx leaves the item in doubt (settled on a later pass), never
   sent again blindly;
6. records each send as a Task on the record when the mapping says so (a Task already
   carrying the MessageID is not made twice), marks items ``Done``/``Failed``/deferred,
   and recounts their processes.

Everything a person must act on becomes a ``CMSF-TX-*`` maintenance message; an item
gives up after ``smart_email_attempts`` tries with the reason in ``Error__c``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cmsf_core.errors import (
    AuthenticationError,
    CmsfError,
    NotFoundError,
    RateLimitedError,
    RetriableError,
    SafetyError,
)
from cmsf_core.matching import soql_quote
from cmsf_core.push.queue import QUEUE_ITEM, to18
from cmsf_core.transactional.items import (
    SendItem,
    attach_rest,
    bulk_groups,
    create_processes,
    due_items,
    hold_back_tail,
    key_of,
    process_query,
    read_processes,
    refresh_processes,
)
from cmsf_core.transactional.mappings import (
    ITEM_VARIABLE,
    Resolved,
    SmartEmailMapping,
    ValueProblem,
    mapping_queries,
    read_mappings,
    resolve,
    validate,
)
from cmsf_core.transactional.outcomes import (
    PassBook,
    SendOutcome,
    down_message,
    mapping_message,
    outcome_of,
    problem_message,
)
from cmsf_core.transactional.settle import SETTLE_AFTER, settle
from cmsf_core.transactional.tasks import record_tasks

if TYPE_CHECKING:
    from cmsf_core.campaign_monitor import CampaignMonitorClient
    from cmsf_core.clock import Clock
    from cmsf_core.jobs.context import RunStats
    from cmsf_core.messages import MaintenanceLog
    from cmsf_core.salesforce import SalesforceGateway, WriteResult
    from cmsf_core.settings import Settings

__all__ = ["JOB", "WAIT_BUDGET", "SendOutcome", "Sender", "held_up", "send_due"]

JOB = "smart_email_sends"
ERROR_LIMIT = 255
IN_CHUNK = 200
WAIT_LIMIT = 60.0
"""A 429 asking for at most this many seconds is waited out in the pass."""
WAIT_BUDGET = 300.0
"""Seconds one pass may spend waiting out 429s before it defers the rest."""
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)


class Sender:
    """Sends the smart emails of queue items.

    Args:
        sf: The Salesforce gateway.
        cm: The Campaign Monitor client.
        settings: The integration's settings (``smart_email_attempts``).
        clock: The injected clock.
        log: Where maintenance messages go.
        stats: Counts for the run summary.
        job: The job name messages carry.
        wait_budget: Seconds a pass may spend waiting out short 429s before it defers the
            rest (a sync waits; a command a person waits for does not).
    """

    def __init__(
        self,
        *,
        sf: SalesforceGateway,
        cm: CampaignMonitorClient,
        settings: Settings,
        clock: Clock,
        log: MaintenanceLog,
        stats: RunStats,
        job: str = JOB,
        wait_budget: float = WAIT_BUDGET,
    ) -> None:
        self.sf = sf
        self.cm = cm
        self.settings = settings
        self.clock = clock
        self.log = log
        self.stats = stats
        self.job = job
        self.wait_budget = wait_budget
        self.max_attempts = settings.limit("smart_email_attempts")

    # ------------------------------------------------------------------ the pass

    def process(self, items: Sequence[SendItem], *, more: bool = False) -> list[SendOutcome]:
        """Send (or settle, defer, fail) a batch of items; return what became of each.

        Args:
            items: The batch, oldest first.
            more: The batch was cut at its size (more items wait): the bulk request of its
                last item is left whole for the next batch.
        """
        work = PassBook()
        now = self.clock.now()
        items = hold_back_tail(list(items)) if more else list(items)
        queries = mapping_queries({i.mapping_id for i in items if i.mapping_id})
        split = len(queries)
        keys = {key for key in map(key_of, items) if key is not None}
        if keys:
            queries.append(process_query(keys))
        results = self.sf.query_batch(queries) if queries else []
        mappings = read_mappings(results[:split])
        existing = read_processes(results[split]) if keys else {}
        unique = {m.id: m for m in mappings.values()}
        broken = {key: validate(self.sf, m) for key, m in unique.items()}
        for mapping_id, problems in broken.items():
            if problems:
                mapping_message(self.log, self.job, unique[mapping_id], problems)
        in_doubt: list[tuple[SendItem, SmartEmailMapping]] = []
        candidates: list[tuple[SendItem, SmartEmailMapping | None]] = []
        for item in items:
            mapping = mappings.get(item.mapping_id) if item.mapping_id else None
            if item.status != "Sending" or item.send_started is None:
                candidates.append((item, mapping))
            elif mapping is not None and mapping.smart_email_id and mapping.client_id:
                in_doubt.append((item, mapping))
            else:
                self._fail(work, item, mapping, "its send may have gone, and without its "
                           "mapping's smart email it cannot be looked up; not sent again",
                           code="CMSF-TX-UNKNOWN")  # fmt: skip
        candidates += self._settle(work, in_doubt, now)
        fresh: list[tuple[SendItem, SmartEmailMapping]] = []
        for item, maybe in candidates:
            reason, code = self._unusable(item, maybe, broken)
            if reason is not None or maybe is None:
                self._fail(work, item, maybe, reason or "no mapping", code=code)
            else:
                fresh.append((item, maybe))
        groups, process_of = bulk_groups((i for i, _ in fresh), existing)
        process_of |= create_processes(self.sf, groups)
        lead = items[-1] if more and items else None
        if lead is not None and lead.id in process_of and len({key_of(i) for i in items}) == 1:
            # a bulk request larger than the batch: its later items join the process now
            attach_rest(self.sf, lead, process_of[lead.id], [i.id for i in items])
        ready = self._resolve(work, fresh)
        self._send_all(work, ready, process_of, now)
        for item, mapping, message_id, resolved in work.sent:
            work.outcomes[item.id] = outcome_of(
                item, mapping, "sent", resolved, message_id=message_id
            )
        wanted = [(i, m, mid) for i, m, mid, _ in work.sent if m.create_task and not i.test and mid]
        for item_id, task_id in record_tasks(
            self.sf, self.clock, self.stats, self.log, self.job, wanted
        ).items():
            work.outcomes[item_id].task_id = task_id
        self._finish(work, items, now)
        return [work.outcomes[i.id] for i in items if i.id in work.outcomes]

    def _unusable(
        self,
        item: SendItem,
        mapping: SmartEmailMapping | None,
        broken: Mapping[str, list[str]],
    ) -> tuple[str | None, str | None]:
        """Why an item cannot be sent at all, and the message code (None when it can)."""
        request = "CMSF-TX-REQUEST"
        if not item.mapping_id:
            return "no smart email mapping is given (Smart_Email_Mapping__c)", request
        if mapping is None:
            return f"smart email mapping {item.mapping_id} does not exist", request
        if broken.get(mapping.id):  # the mapping's own message names its problems
            return f"mapping '{mapping.name}' cannot send: {broken[mapping.id][0]}", None
        if not mapping.active and not item.test:
            return f"mapping '{mapping.name}' is inactive", request
        record_id = item.record_id
        if len(record_id) not in (15, 18) or not record_id.isalnum():
            return f"Record_Id__c {record_id[:40]!r} is not a Salesforce record Id", request
        prefix = str(self.sf.describe(mapping.root_object).get("keyPrefix") or "")
        if prefix and record_id[:3] != prefix:
            return f"Record_Id__c {record_id} is not a {mapping.root_object} record", request
        if item.attempts >= self.max_attempts:
            return f"gave up after {item.attempts} tries", "CMSF-TX-GAVE-UP"
        return None, None

    # ------------------------------------------------------------------ settling

    def _settle(
        self, work: PassBook, in_doubt: list[tuple[SendItem, SmartEmailMapping]], now: datetime
    ) -> list[tuple[SendItem, SmartEmailMapping]]:
        """Look up in-doubt items; return those never sent (to send now)."""
        if not in_doubt:
            return []
        try:
            found = settle(self.cm, in_doubt)
        except RetriableError as exc:
            for item, mapping in in_doubt:
                work.outcomes[item.id] = outcome_of(item, mapping, "in doubt", reason=str(exc))
                work.updates[item.id] = {"Next_Attempt__c": (now + SETTLE_AFTER).isoformat()}
            down_message(self.log, self.job, len(in_doubt), exc)
            return []
        again = []
        for item, mapping in in_doubt:
            if item.id in found.sent:
                self.stats.pushed["smart emails found sent"] += 1
                work.sent.append((item, mapping, found.sent[item.id], None))
            elif item.id in found.unknown:
                self._fail(work, item, mapping, "its send may have gone and Campaign Monitor's "
                           "message log is too busy to tell; not sent again", code="CMSF-TX-UNKNOWN")  # fmt: skip
            elif item.attempts >= self.max_attempts:
                self._give_up(work, item, mapping, "its last send did not go")
            else:
                again.append((item, mapping))
        return again

    # ------------------------------------------------------------------ records

    def _resolve(
        self, work: PassBook, fresh: list[tuple[SendItem, SmartEmailMapping]]
    ) -> list[tuple[SendItem, SmartEmailMapping, Resolved]]:
        """Read the records of a batch in one request and make each item's send."""
        by_mapping: dict[str, list[tuple[SendItem, SmartEmailMapping]]] = defaultdict(list)
        for item, mapping in fresh:
            by_mapping[mapping.id].append((item, mapping))
        queries: list[tuple[str, bool]] = []
        plan: list[SmartEmailMapping] = []
        for group in by_mapping.values():
            mapping = group[0][1]
            ids = sorted({to18(item.record_id) for item, _ in group})
            columns = ", ".join(["Id", *(p for p in mapping.fields() if p.lower() != "id")])
            for start in range(0, len(ids), IN_CHUNK):
                listed = ",".join(soql_quote(i) for i in ids[start : start + IN_CHUNK])
                queries.append(
                    (f"SELECT {columns} FROM {mapping.root_object} WHERE Id IN ({listed})", False)
                )
                plan.append(mapping)
        records: dict[tuple[str, str], dict[str, Any]] = {}
        refused: dict[str, str] = {}
        for mapping, result in zip(
            plan, self.sf.query_batch(queries) if queries else [], strict=True
        ):
            if result.error is not None:
                refused[mapping.id] = str(result.error)
                continue
            for row in result.records():
                records[(mapping.id, str(row["Id"]))] = row
        ready = []
        for item, mapping in fresh:
            if mapping.id in refused:
                self._fail(
                    work, item, mapping, f"Salesforce refused the read: {refused[mapping.id]}"
                )
                continue
            record = records.get((mapping.id, to18(item.record_id)))
            if record is None:
                self._fail(work, item, mapping, f"record {item.record_id} does not exist (deleted?)",
                           code="CMSF-TX-REQUEST")  # fmt: skip
                continue
            try:
                ready.append((item, mapping, resolve(mapping, record)))
            except ValueProblem as exc:
                self._fail(
                    work, item, mapping, f"record {item.record_id}: {exc}", code="CMSF-TX-REQUEST"
                )
        return ready

    # ------------------------------------------------------------------ sending

    def _send_all(
        self,
        work: PassBook,
        ready: list[tuple[SendItem, SmartEmailMapping, Resolved]],
        process_of: Mapping[str, str],
        now: datetime,
    ) -> None:
        """Mark the batch ``Sending``, then send each item once."""
        if not ready:
            return
        marks = [
            {
                "Id": item.id,
                "Status__c": "Sending",
                "Send_Started__c": now.isoformat(),
                "Next_Attempt__c": (now + SETTLE_AFTER).isoformat(),
                "Attempts__c": item.attempts + 1,
                "Error__c": None,
                **({"Process__c": process_of[item.id]} if item.id in process_of else {}),
            }
            for item, _, _ in ready
        ]
        marked: set[str] = set()
        for start in range(0, len(marks), IN_CHUNK):
            result = self.sf.update(QUEUE_ITEM, marks[start : start + IN_CHUNK])
            self.stats.wrote(QUEUE_ITEM, result.ids)
            marked |= {i for i in result.ids if i}
            self._refused(result)
        for item, _, _ in ready:
            work.processes.add(process_of.get(item.id) or item.process_id or "")
        queue = []
        for item, mapping, resolved in ready:
            if item.id in marked:
                queue.append((item, mapping, resolved))
            else:  # Salesforce refused the mark (the item was deleted meanwhile...): not sent
                work.outcomes[item.id] = outcome_of(
                    item,
                    mapping,
                    "deferred",
                    resolved,
                    reason="Salesforce refused to mark it Sending",
                )
        waited = 0.0
        gone: dict[str, str] = {}
        for index, (item, mapping, resolved) in enumerate(queue):
            if mapping.smart_email_id in gone:
                self._fail(
                    work, item, mapping, gone[mapping.smart_email_id], code="CMSF-TX-REFUSED"
                )
                continue
            while True:
                try:
                    answer = self.cm.send_smart_email(
                        mapping.smart_email_id,
                        to=[resolved.recipient],
                        data={**resolved.data, ITEM_VARIABLE: item.id},
                        consent_to_track=resolved.consent,
                    )
                except RateLimitedError as exc:
                    wait = float(exc.retry_after or RETRY_BASE.total_seconds())
                    if wait <= WAIT_LIMIT and waited + wait <= self.wait_budget:
                        waited += wait
                        self.stats.pushed["smart email rate-limit waits"] += 1
                        self.clock.sleep(wait)
                        continue
                    self._defer(work, queue[index:], exc, wait)
                    return
                except (SafetyError, AuthenticationError):
                    self._release(queue[index:])
                    raise
                except RetriableError as exc:  # timeout, 5xx, garbled answer: outcome unknown
                    self.stats.pushed["smart emails in doubt"] += 1
                    work.outcomes[item.id] = outcome_of(
                        item, mapping, "in doubt", resolved, reason=str(exc)
                    )
                    self._release(queue[index + 1 :], delay=RETRY_BASE)
                    for later, later_mapping, later_resolved in queue[index + 1 :]:
                        work.outcomes[later.id] = outcome_of(
                            later, later_mapping, "deferred", later_resolved, reason=str(exc)
                        )
                    down_message(self.log, self.job, len(queue) - index, exc)
                    return
                except CmsfError as exc:
                    said = exc.message.split(": ", 1)[-1]
                    reason = f"Campaign Monitor refused the send: {said} (Code {exc.error_code})"
                    if isinstance(exc, NotFoundError):
                        gone[mapping.smart_email_id] = reason
                    self._fail(work, item, mapping, reason, resolved, code="CMSF-TX-REFUSED")
                    break
                message_id = str((answer[0] if answer else {}).get("MessageID") or "")
                self.stats.pushed["smart emails sent"] += 1
                work.sent.append((item, mapping, message_id, resolved))
                break

    def _defer(
        self,
        work: PassBook,
        rest: list[tuple[SendItem, SmartEmailMapping, Resolved]],
        exc: RateLimitedError,
        wait: float,
    ) -> None:
        """A rate limit outlasting what a pass waits: the item tried and the rest go later."""
        now = self.clock.now()
        tried, _, _ = rest[0]
        later = now + max(timedelta(seconds=wait), _backoff(tried.attempts + 1))
        for position, (item, mapping, resolved) in enumerate(rest):
            attempts = item.attempts + (1 if position == 0 else 0)
            if attempts >= self.max_attempts:
                self._give_up(work, item, mapping, f"rate limited: {exc}", resolved)
                continue
            work.outcomes[item.id] = outcome_of(
                item,
                mapping,
                "deferred",
                resolved,
                reason=f"rate limited until {later.isoformat()}",
            )
            work.updates[item.id] = {
                "Status__c": "Pending",
                "Attempts__c": attempts,
                "Next_Attempt__c": later.isoformat(),
                "Error__c": f"rate limited by Campaign Monitor (429); next try {later.isoformat()}",
            }
        self.stats.pushed["smart emails deferred"] += len(rest)
        self.log.raise_message(
            "Warning",
            self.job,
            "CMSF-TX-RATE",
            f"Campaign Monitor's transactional rate limit delayed {len(rest)} smart email send(s)",
            f"Campaign Monitor answered 429 ({exc}); the sends wait until {later.isoformat()} "
            "and go with the next run (or watch poll) after that.",
        )

    def _release(
        self,
        rest: list[tuple[SendItem, SmartEmailMapping, Resolved]],
        *,
        delay: timedelta | None = None,
    ) -> None:
        """Put marked items that were never sent back to ``Pending`` (their try not counted)."""
        if not rest:
            return
        when = (self.clock.now() + delay).isoformat() if delay else None
        records = [
            {"Id": item.id, "Status__c": "Pending", "Attempts__c": item.attempts,
             "Send_Started__c": None, "Next_Attempt__c": when}
            for item, _, _ in rest
        ]  # fmt: skip
        for start in range(0, len(records), IN_CHUNK):
            result = self.sf.update(QUEUE_ITEM, records[start : start + IN_CHUNK])
            self.stats.wrote(QUEUE_ITEM, result.ids)
            self._refused(result)

    # ------------------------------------------------------------------ bookkeeping

    def _finish(self, work: PassBook, items: Sequence[SendItem], now: datetime) -> None:
        """Write every item's outcome, recount processes, and raise the pass's messages."""
        for item, _, message_id, _ in work.sent:
            work.updates[item.id] = {"Status__c": "Done", "Message_Id__c": message_id or None,
                                     "Error__c": None, "Next_Attempt__c": None}  # fmt: skip
        records = [{"Id": item_id, **values} for item_id, values in work.updates.items()]
        for start in range(0, len(records), IN_CHUNK):
            result = self.sf.update(QUEUE_ITEM, records[start : start + IN_CHUNK])
            self.stats.wrote(QUEUE_ITEM, result.ids)
            self._refused(result)
        work.processes |= {i.process_id for i in items if i.process_id}
        work.processes.discard("")
        if work.processes:
            done = refresh_processes(self.sf, work.processes, now)
            self.stats.pushed["send processes done"] += len(done)
        for code, lines in work.problems.items():
            problem_message(self.log, self.job, code, lines)

    def _refused(self, result: WriteResult) -> None:
        """A message for queue items Salesforce would not update (a sent one stays
        ``Sending`` and is settled, never sent again)."""
        if result.failures:
            from cmsf_core.jobs.writer import log_failures  # the jobs package imports this module

            self.stats.failed[QUEUE_ITEM] += len(result.failures)
            log_failures(self.log, self.job, QUEUE_ITEM, result.failures)

    def _fail(
        self,
        work: PassBook,
        item: SendItem,
        mapping: SmartEmailMapping | None,
        reason: str,
        resolved: Resolved | None = None,
        *,
        code: str | None = None,
    ) -> None:
        work.outcomes[item.id] = outcome_of(item, mapping, "failed", resolved, reason=reason)
        work.updates[item.id] = {"Status__c": "Failed", "Error__c": reason[:ERROR_LIMIT],
                                 "Next_Attempt__c": None}  # fmt: skip
        self.stats.pushed["smart emails failed"] += 1
        if code is not None:
            work.problems[code].append(f"- {item.record_id or item.id}: {reason}")

    def _give_up(
        self,
        work: PassBook,
        item: SendItem,
        mapping: SmartEmailMapping,
        why: str,
        resolved: Resolved | None = None,
    ) -> None:
        self._fail(work, item, mapping, f"gave up after {self.max_attempts} tries: {why}",
                   resolved, code="CMSF-TX-GAVE-UP")  # fmt: skip


def send_due(sender: Sender, size: int) -> list[SendOutcome]:
    """Send about one batch of due items (``size``), oldest first.

    A batch that holds back a bulk request cut by its end is followed by another read,
    so ``size`` items are handled unless fewer are due or a send is held up (a rate limit
    or an outage: then the rest waits).
    """
    outcomes: list[SendOutcome] = []
    while len(outcomes) < size:
        batch = due_items(sender.sf, sender.clock.now(), size)
        if not batch:
            break
        done = sender.process(batch, more=len(batch) == size)
        outcomes += done
        if not done or held_up(done) or len(batch) < size:
            break
    return outcomes


def held_up(outcomes: Sequence[SendOutcome]) -> bool:
    """Whether a send was deferred or left in doubt (further sends would meet the same)."""
    return any(o.status in ("deferred", "in doubt") for o in outcomes)


def _backoff(attempt: int) -> timedelta:
    """How long an item waits before try number ``attempt + 1``."""
    delay: timedelta = RETRY_BASE * (2 ** max(0, attempt - 1))
    return min(delay, RETRY_CAP)
