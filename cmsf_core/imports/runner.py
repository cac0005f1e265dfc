"""Running one import: read its source as its owner, import its rows, record the outcome.

A run reads the import record, logs in as its owner (the configured login when that is
the owner; otherwise the engine's ``login_as``, the JWT bearer flow on a real org),
opens the source (:mod:`~cmsf_core.imports.sources`), compiles the mappings against the
source's columns and the list's custom fields (:mod:`~cmsf_core.imports.convert`), then
streams the rows page by page into Campaign Monitor imports of up to 1,000 subscribers
(``POST subscribers/{list}/import.json`` with ``Resubscribe``,
``QueueSubscriptionBasedAutoResponders`` = trigger journeys and
``RestartSubscriptionBasedAutoresponders`` = resubscribe and trigger journeys). Each
import's per-row failures (``Code 210`` with ``ResultData``) are recorded per row;
addresses kept out because they are unsubscribed, bounced or deleted and the import does
not resubscribe are counted apart, as no failure. A second row with an address already
imported in the run is a duplicate (the first one wins).

Nothing is imported twice: before each request the batch is written to the journal as in
flight (sealed) and its rows as ``sending``; after the answer, as ``sent``. A run that
crashed resumes at the next run: a batch left in flight is checked against Campaign
Monitor (the subscriber shows the data) and only what does not show is sent again; the
source is read again and rows already sent with the same data are skipped.

The outcome lands on the record (``Last_Run__c`` when it started, ``Last_Status__c``,
``Rows_Read__c``, ``Imported__c``, ``Updated__c``, ``Failed__c``, ``Removed__c``,
``Salesforce_Calls__c``, ``Last_Error__c``, ``Failures__c``) and in maintenance messages
when rows fail (``CMSF-IMPORT-ROWS``), a report is cut at 2,000 rows
(``CMSF-IMPORT-TRUNCATED``) or the import cannot run (``CMSF-IMPORT-FAILED``). With
"replace subscribers on list", a complete source hands the run to the replace job
(:mod:`~cmsf_core.imports.replace`); an incomplete one (a failed read, a report cut at
2,000 rows, no rows at all) never removes anyone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simple_salesforce.api import Salesforce

from cmsf_core.errors import (
    AuthenticationError,
    NotFoundError,
    PlatformError,
    SkippableRecordError,
)
from cmsf_core.imports.convert import Converted, SubscriberPlan, plan_subscribers
from cmsf_core.imports.ledger import ImportLedger, RunState
from cmsf_core.imports.sources import Source, open_source
from cmsf_core.imports.spec import (
    IMPORT_FIELDS,
    IMPORT_OBJECT,
    ImportConfigError,
    ImportSpec,
)
from cmsf_core.push.mappings import ListFields
from cmsf_core.push.processor import KEPT_CODES, expectation, shows

if TYPE_CHECKING:
    from cmsf_core.jobs.context import JobContext, ListInfo
    from cmsf_core.salesforce import SalesforceGateway

__all__ = [
    "LEDGER_KEY",
    "LOGIN_AS_KEY",
    "ImportOutcome",
    "ImportRunner",
    "import_ledger",
    "read_imports",
]

LEDGER_KEY = "import_ledger"
LOGIN_AS_KEY = "login_as"
"""``ctx.extras`` key of the engine's ``username -> login`` factory (JWT bearer)."""
MAX_LINES = 100
"""Failure lines kept on the record and in messages."""


def import_ledger(ctx: JobContext) -> ImportLedger:
    """The imports' journal tables for this run (one object per run)."""
    ledger = ctx.extras.get(LEDGER_KEY)
    if not isinstance(ledger, ImportLedger):
        ledger = ImportLedger(ctx.journal, ctx.shadow.names)
        ctx.extras[LEDGER_KEY] = ledger
    return ledger


def read_imports(ctx: JobContext, ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Import records (all of them, or those with these Ids), oldest first."""
    soql = f"SELECT {IMPORT_FIELDS} FROM {IMPORT_OBJECT}"
    if ids is not None:
        listed = ",".join(f"'{i}'" for i in ids if i.isalnum())
        if not listed:
            return []
        soql += f" WHERE Id IN ({listed})"
    return list(ctx.sf.query(soql + " ORDER BY CreatedDate, Id"))


@dataclass
class ImportOutcome:
    """What one run of an import did (for the summary, the record and tests).

    Attributes:
        status: ``Completed``, ``Completed With Errors``, ``Failed`` or ``Running``
            (the replace job still has to remove subscribers).
        counts: rows read, imported, updated, failed, kept out, duplicates, removed,
            salesforce calls, campaign monitor calls (and ``would import`` in a dry run).
        error: Why it failed or what it could not do.
        lines: Per-row failures (row number, record Id, reason).
        replace_pending: The replace job runs next.
    """

    status: str
    counts: Counter[str] = field(default_factory=Counter)
    error: str | None = None
    lines: list[str] = field(default_factory=list)
    replace_pending: bool = False


class ImportRunner:
    """Runs imports within a job context.

    Args:
        ctx: The job context (the sync user's gateway, Campaign Monitor, the journal).
        job: The job name (messages).
    """

    def __init__(self, ctx: JobContext, job: str) -> None:
        self.ctx = ctx
        self.job = job
        self.ledger = import_ledger(ctx)
        self._me: str | None = None

    # ------------------------------------------------------------------ one import

    def run(self, row: dict[str, Any], *, dry_run: bool = False) -> ImportOutcome:
        """Run (or resume) one import, given its record.

        Platform outages, rate limits and a spent API budget propagate (the run stops and
        this import resumes with the next one); anything about this import alone fails
        it, with the reason on its record and in a message.
        """
        ctx = self.ctx
        name = str(row.get("Name") or row.get("Id"))
        state = None if dry_run else self._state(str(row["Id"]))
        if state is not None and state.phase == "replacing":
            return ImportOutcome("Running", replace_pending=True)
        cm_before = ctx.cm.calls
        try:
            spec = ImportSpec.from_record(row)
            outcome = self._import(spec, state, dry_run=dry_run)
        except (ImportConfigError, PlatformError, NotFoundError, SkippableRecordError) as exc:
            outcome = ImportOutcome("Failed", error=str(exc))
        outcome.counts["campaign monitor calls"] += ctx.cm.calls - cm_before
        if dry_run:
            return outcome
        self._finish(str(row["Id"]), name, state, outcome)
        return outcome

    def _state(self, import_id: str) -> RunState:
        """The run to continue, or a new one (and the record says it is running)."""
        state = self.ledger.state(import_id)
        if state is not None and state.phase != "done":
            return state
        started = self.ctx.clock.now().isoformat()
        state = self.ledger.begin(import_id, started)
        self._write(
            {
                "Id": import_id,
                "Last_Run__c": started,
                "Last_Status__c": "Running",
                "Last_Error__c": None,
            }
        )
        return state

    def _import(self, spec: ImportSpec, state: RunState | None, *, dry_run: bool) -> ImportOutcome:
        ctx = self.ctx
        lst = next((x for x in ctx.directory.lists() if x.sf_id == spec.list_sf_id), None)
        if lst is None:
            raise ImportConfigError(
                f"import '{spec.name}': List__c is empty or not a synced list of a selected "
                "client; choose a list that 'cmsf lists' shows"
            )
        reader = self._owner_gateway(spec)
        sf_before = reader.calls
        try:
            source = open_source(reader, spec)
        except AuthenticationError as exc:
            if reader is ctx.sf:
                raise
            raise ImportConfigError(
                f"import '{spec.name}': cmsf could not log in as its owner (JWT bearer): "
                f"{exc}; pre-authorize the owner for the connected app"
            ) from None
        fields = ListFields.from_rows(ctx.cm.custom_fields(lst.cm_id))
        plan = plan_subscribers(spec, source.columns, fields, ctx.settings, lst.sf_id)
        if plan.ignored and not dry_run:
            ctx.log.raise_message(
                "Info",
                self.job,
                "CMSF-SMS-OFF",
                f"import '{spec.name}': {len(plan.ignored)} SMS mapping(s) ignored: SMS is "
                "not enabled",
                "\n".join(f"- {m}" for m in plan.ignored),
                topic=spec.id,
            )
        if state is None:
            return self._dry_run(spec, lst, source, plan, reader, sf_before)
        if self.ledger.flight(spec.id) is not None:
            self._settle(spec, lst, state)
        state.passes += 1
        self.ledger.save(spec.id, state)
        sending = _Pass(self, spec, lst, plan, state)
        for page in source.pages:
            sending.page(page)
            if sending.error is not None:
                break
        sending.flush()
        state.facts = {
            "batch_error": sending.error,
            "rows": sending.rows_read,
            "failed": sending.failed,
            "duplicates": sending.duplicates,
            "truncated": source.truncated,
            "total": source.total,
            "lines": sending.lines[:MAX_LINES],
            "salesforce calls": reader.calls - sf_before,
        }
        return self._outcome(spec, state, source)

    # ------------------------------------------------------------------ identity

    def _owner_gateway(self, spec: ImportSpec) -> SalesforceGateway:
        """A gateway logged in as the import's owner (the run's own when that is them)."""
        ctx = self.ctx
        owners = (
            list(
                ctx.sf.query(
                    f"SELECT Id, Username, IsActive FROM User WHERE Id = '{spec.owner_id}'"
                )
            )
            if spec.owner_id.isalnum()
            else []
        )
        if not owners:
            raise ImportConfigError(f"import '{spec.name}': its owner {spec.owner_id} is no user")
        owner = owners[0]
        if not owner.get("IsActive"):
            raise ImportConfigError(
                f"import '{spec.name}': its owner {owner.get('Username')} is deactivated; give "
                "the import an active owner (it runs as its owner)"
            )
        if self._me is None:
            self._me = ctx.sf.current_user_id()
        if self._me[:15] == str(owner["Id"])[:15]:
            return ctx.sf
        login_as: Callable[[str], Callable[[], Salesforce]] | None = ctx.extras.get(LOGIN_AS_KEY)
        if login_as is None:
            raise ImportConfigError(
                f"import '{spec.name}' runs as its owner {owner.get('Username')}, but cmsf "
                "logs in as another user and cannot log in as them; give JWT bearer "
                "credentials (CMSF_SF_CONSUMER_KEY, CMSF_SF_PRIVATE_KEY_FILE) so imports "
                "run as their owners"
            )
        return ctx.sf.for_login(login_as(str(owner["Username"])))

    # ------------------------------------------------------------------ crash recovery

    def _settle(self, spec: ImportSpec, lst: ListInfo, state: RunState) -> None:
        """Check a batch a crash left in flight against Campaign Monitor."""
        ctx = self.ctx
        batch = self.ledger.flight(spec.id) or []
        done: dict[str, str] = {}
        lost: list[str] = []
        for item in batch:
            try:
                found = ctx.cm.subscriber(lst.cm_id, str(item["address"]))
            except (NotFoundError, SkippableRecordError, PlatformError):
                found = {}
            if (
                found
                and found.get("State") in ("Active", "Unconfirmed")
                and shows("import", found, item.get("expect") or {})
            ):
                done[str(item["token"])] = "sent"
            else:
                lost.append(str(item["token"]))
        state.counts["imported"] = state.counts.get("imported", 0) + len(done)
        self.ledger.drop_rows(spec.id, lost)
        self.ledger.land(spec.id, state, done)

    # ------------------------------------------------------------------ outcome

    def _outcome(self, spec: ImportSpec, state: RunState, source: Source) -> ImportOutcome:
        facts, counts = state.facts, state.counts
        lines = [*state.lines, *facts.get("lines", [])][:MAX_LINES]
        outcome = ImportOutcome("Completed", lines=lines)
        outcome.counts.update(
            {
                "rows read": int(facts.get("rows", 0)),
                "imported": counts.get("imported", 0),
                "updated": counts.get("updated", 0),
                "failed": counts.get("refused", 0) + int(facts.get("failed", 0)),
                "kept out": counts.get("kept", 0),
                "duplicates": int(facts.get("duplicates", 0)),
                "salesforce calls": int(facts.get("salesforce calls", 0)),
            }
        )
        problems: list[str] = []
        if facts.get("batch_error"):
            outcome.status = "Failed"
            outcome.error = str(facts["batch_error"])
            return outcome
        if outcome.counts["failed"]:
            problems.append(f"{outcome.counts['failed']} row(s) could not be imported")
        if source.truncated:
            problems.append(
                "the report has more than the 2,000 rows a synchronous report run returns; "
                "only its first 2,000 were imported (use a list view or SOQL source)"
            )
        refusal = self._replace_refusal(source, outcome) if spec.replace else None
        if refusal is not None:
            problems.append(f"the list was not replaced: {refusal}")
        if problems:
            outcome.error = "; ".join(problems)
            outcome.status = "Completed With Errors"
        if spec.replace and refusal is None:
            facts["status_after_import"] = outcome.status
            outcome.replace_pending = True
            outcome.status = "Running"
        return outcome

    @staticmethod
    def _replace_refusal(source: Source, outcome: ImportOutcome) -> str | None:
        if source.truncated:
            return "the report returned only its first 2,000 rows"
        if outcome.counts["rows read"] == 0:
            return "the source returned no rows, so every subscriber would be removed"
        return None

    def _finish(
        self, import_id: str, name: str, state: RunState | None, outcome: ImportOutcome
    ) -> None:
        """Record the outcome on the import, in messages and in the run's statistics."""
        ctx = self.ctx
        if state is not None:
            state.phase = "replacing" if outcome.replace_pending else "done"
            state.facts["status"] = outcome.status
            state.facts["error"] = outcome.error
            self.ledger.save(import_id, state)
        record = {
            "Id": import_id,
            "Last_Status__c": outcome.status,
            "Rows_Read__c": outcome.counts["rows read"],
            "Imported__c": outcome.counts["imported"],
            "Updated__c": outcome.counts["updated"],
            "Failed__c": outcome.counts["failed"],
            "Removed__c": 0,
            "Salesforce_Calls__c": outcome.counts["salesforce calls"],
            "Last_Error__c": (outcome.error or "")[:255] or None,
            "Failures__c": _failures_text(outcome) or None,
        }
        self._write(record)
        ctx.stats.imports.setdefault(name, Counter()).update(outcome.counts)
        if outcome.status == "Failed":
            ctx.log.raise_message(
                "Error",
                self.job,
                "CMSF-IMPORT-FAILED",
                f"import '{name}' failed",
                outcome.error or "",
                topic=import_id,
            )
        if outcome.lines:
            ctx.log.raise_message(
                "Warning",
                self.job,
                "CMSF-IMPORT-ROWS",
                f"import '{name}': {outcome.counts['failed']} row(s) could not be imported",
                _failures_text(outcome),
                topic=import_id,
            )
        if outcome.error and "2,000 rows" in outcome.error:
            ctx.log.raise_message(
                "Warning",
                self.job,
                "CMSF-IMPORT-TRUNCATED",
                f"import '{name}': the report has more rows than a report run returns",
                outcome.error,
                topic=import_id,
            )

    def _write(self, record: dict[str, Any]) -> None:
        """Update the import record as the sync user (a deleted import is let go)."""
        result = self.ctx.sf.update(IMPORT_OBJECT, [record])
        if result.failures:
            self.ledger.forget(str(record["Id"]))

    # ------------------------------------------------------------------ dry run

    def _dry_run(
        self,
        spec: ImportSpec,
        lst: ListInfo,
        source: Source,
        plan: SubscriberPlan,
        reader: SalesforceGateway,
        sf_before: int,
    ) -> ImportOutcome:
        """Read and convert everything, send nothing; count what a run would do."""
        seen: set[str] = set()
        outcome = ImportOutcome("Completed")
        counts = outcome.counts
        counts.update({"rows read": 0, "would import": 0, "failed": 0, "duplicates": 0})
        for page in source.pages:
            for row in page:
                counts["rows read"] += 1
                converted = plan.convert(row)
                if converted.body is None:
                    counts["failed"] += 1
                    outcome.lines.append(_line(row.number, row.record_id, converted.problems))
                    continue
                key = converted.address.lower()
                if key in seen:
                    counts["duplicates"] += 1
                    continue
                seen.add(key)
                counts["would import"] += 1
        counts["salesforce calls"] = reader.calls - sf_before
        if spec.replace and self._replace_refusal(source, outcome) is None:
            for status in ("Active", "Unconfirmed"):
                for listed in self.ctx.cm.subscriber_pages(lst.cm_id, status):
                    counts["would remove"] += sum(
                        str(s.get("EmailAddress", "")).lower() not in seen for s in listed.results
                    )
        outcome.lines = outcome.lines[:MAX_LINES]
        return outcome


class _Pass:
    """One pass over the source: convert, skip what is done, send batches."""

    def __init__(
        self,
        runner: ImportRunner,
        spec: ImportSpec,
        lst: ListInfo,
        plan: SubscriberPlan,
        state: RunState,
    ) -> None:
        self.runner = runner
        self.ctx = runner.ctx
        self.ledger = runner.ledger
        self.spec = spec
        self.lst = lst
        self.plan = plan
        self.state = state
        self.size = self.ctx.settings.limit("imports")
        self.rows_read = 0
        self.failed = 0
        self.duplicates = 0
        self.lines: list[str] = []
        self.batch: list[tuple[str, Converted, Any]] = []
        self.error: str | None = None

    def page(self, rows: list[Any]) -> None:
        """Handle one page of source rows."""
        converted: list[tuple[Any, Converted, str, str]] = []
        for row in rows:
            self.rows_read += 1
            item = self.plan.convert(row)
            if item.problems:
                self.lines.append(_line(row.number, row.record_id, item.problems))
            if item.body is None:
                self.failed += 1
                continue
            token = self.ledger.address_token(item.address)
            converted.append((row, item, token, self.ledger.digest(item.body)))
        known = self.ledger.rows(self.spec.id, [c[2] for c in converted])
        seen: dict[str, tuple[str, int, str]] = {}
        number = self.state.passes
        for row, item, token, digest in converted:
            before = seen.get(token) or known.get(token)
            if before is not None and before[1] == number:
                self.duplicates += 1
                continue
            if before is not None and before[2] in ("sent", "refused") and before[0] == digest:
                seen[token] = (digest, number, before[2])  # done before a crash
                continue
            seen[token] = (digest, number, "queued")
            self.batch.append((token, item, row))
        if seen:
            self.ledger.see(self.spec.id, seen)
        while len(self.batch) >= self.size and self.error is None:
            self.send(self.batch[: self.size])
            self.batch = self.batch[self.size :]

    def flush(self) -> None:
        """Send what is left."""
        if self.batch and self.error is None:
            self.send(self.batch)
        self.batch = []

    def send(self, batch: list[tuple[str, Converted, Any]]) -> None:
        """One Campaign Monitor import, journalled before and after."""
        ctx, spec, state = self.ctx, self.spec, self.state
        bodies: list[Mapping[str, Any]] = [item.body for _, item, _ in batch if item.body]
        flight = [
            {"token": t, "address": item.address, "expect": expectation(item.body or {})}
            for t, item, _ in batch
        ]
        self.ledger.take_off(spec.id, flight)
        self.ledger.see(
            spec.id,
            {
                t: (self.ledger.digest(item.body or {}), state.passes, "sending")
                for t, item, _ in batch
            },
        )
        try:
            result = ctx.cm.import_subscribers(
                self.lst.cm_id,
                bodies,
                resubscribe=spec.resubscribe,
                queue_autoresponders=spec.journeys,
                restart_autoresponders=spec.resubscribe and spec.journeys,
            )
        except (NotFoundError, SkippableRecordError, PlatformError) as exc:
            self.error = f"Campaign Monitor refused an import: {exc}"
            self.ledger.land(spec.id, state, {t: "refused" for t, _, _ in batch})
            return
        refused = {
            str(f.get("EmailAddress") or "").strip().lower(): f
            for f in result.get("FailureDetails") or []
        }
        states: dict[str, str] = {}
        for token, item, row in batch:
            failure = refused.get(item.address.lower())
            if failure is None:
                states[token] = "sent"
                continue
            code = str(failure.get("Code"))
            states[token] = "refused"
            if code in KEPT_CODES:
                state.counts["kept"] = state.counts.get("kept", 0) + 1
                continue
            state.counts["refused"] = state.counts.get("refused", 0) + 1
            if len(state.lines) < MAX_LINES:
                state.lines.append(
                    _line(row.number, row.record_id, [f"Code {code} {failure.get('Message', '')}"])
                )
        state.counts["imported"] = state.counts.get("imported", 0) + int(
            result.get("TotalNewSubscribers") or 0
        )
        state.counts["updated"] = state.counts.get("updated", 0) + int(
            result.get("TotalExistingSubscribers") or 0
        )
        self.ledger.land(spec.id, state, states)
        if ctx.progress is not None:
            ctx.progress(self.runner.job, self.rows_read, None)


def _line(number: int, record_id: str | None, problems: list[str]) -> str:
    who = f"row {number}" + (f" ({record_id})" if record_id else "")
    return f"- {who}: " + "; ".join(problems)


def _failures_text(outcome: ImportOutcome) -> str:
    lines = list(outcome.lines)
    total = outcome.counts["failed"]
    if total > len(lines) and lines:
        lines.append(f"... {total} row(s) failed in all")
    return "\n".join(lines)[:32_000]
