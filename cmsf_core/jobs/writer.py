"""Writing a job's records: only what changed, idempotently, with failures reported.

Jobs describe each record they want in Salesforce as a :class:`Desired` (its Campaign
Monitor key, the source data the record is built from, the record itself and a version).
:func:`write_changed` asks the shadow which of them differ from what was last written,
upserts those by external Id, records the accepted ones in the shadow, counts them, and
folds refused ones into one maintenance message per job. :func:`delete_records` removes
records and forgets them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from cmsf_core.apex_trouble import advice, diagnose
from cmsf_core.errors import StorageFullError
from cmsf_core.jobs import pending
from cmsf_core.jobs.pool import LazyRecords, PooledRecord, Written, pack
from cmsf_core.salesforce import COLLECTION_SIZE
from cmsf_core.shadow import ShadowRow, digest

if TYPE_CHECKING:
    from datetime import datetime

    from cmsf_core.jobs.context import JobContext
    from cmsf_core.messages import MaintenanceLog
    from cmsf_core.salesforce import RecordFailure, WriteResult

T = TypeVar("T")

ALREADY_GONE = frozenset({"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"})
"""Delete failures that mean the record is gone already (deleted by hand)."""

__all__ = [
    "Desired",
    "PooledWrite",
    "WriteOutcome",
    "delete_records",
    "log_failures",
    "report_failures",
    "update_changed",
    "write_changed",
]


@dataclass(frozen=True)
class Desired:
    """A record a job wants in Salesforce.

    Attributes:
        key: Campaign Monitor identity (the external Id value).
        source: The source data the record is built from (its digest decides change).
        record: Field values to write (the external Id field included).
        version: The source's own change time; an older version never overwrites a newer.
        extra: Passed to the write's ``on_written`` hook once the record is written.
        source_digest: :func:`~cmsf_core.shadow.digest` of ``source``, when the job made
            it already (its own shadow check); made from ``source`` when empty.
    """

    key: str
    source: Mapping[str, Any]
    record: Mapping[str, Any]
    version: str = ""
    extra: tuple[Any, ...] = ()
    source_digest: str = ""

    def digest(self) -> str:
        """The digest of ``source`` (the one given, or made now)."""
        return self.source_digest or digest(self.source)


@dataclass
class WriteOutcome:
    """What a write did: Salesforce Ids by key, and refused records."""

    ids: dict[str, str] = field(default_factory=dict)
    written: int = 0
    unchanged: int = 0
    failures: list[RecordFailure] = field(default_factory=list)


def write_changed(
    ctx: JobContext,
    job: str,
    sobject: str,
    desired: Sequence[Desired],
    *,
    external_id: str = "CM_Id__c",
    failure_code: str = "CMSF-REC-WRITE",
    retry_locator: Callable[[Desired], str] | None = None,
    retry_job: str | None = None,
    pooled: bool = False,
    forget: Collection[str] = (),
    on_written: Written | None = None,
    fresh: bool = False,
) -> WriteOutcome:
    """Upsert the records of ``desired`` that changed since they were last written.

    Args:
        ctx: The job context.
        job: The job's name (for messages and stats).
        sobject: Object to write.
        desired: Records wanted in Salesforce.
        external_id: External Id field the upsert keys on.
        failure_code: Support code of the message raised for refused records.
        retry_locator: For jobs that retry refused records (:mod:`cmsf_core.jobs.pending`):
            what finds a record again. Refused records are then kept for the job's retry,
            and written ones leave it.
        retry_job: The job that retries them (default ``job``).
        pooled: Gather the changed records in the run's write pool
            (:mod:`cmsf_core.jobs.pool`), written with the job's other records of
            ``sobject`` once the pool holds the job's limit or the job ends. What depends
            on them being written waits with :meth:`~cmsf_core.jobs.pool.WritePool.after_writes`.
        forget: Keys to write without recording them in the shadow, so the next run
            writes them again (a membership whose person could not be created yet).
        on_written: Told the accepted records of each batch (see
            :data:`~cmsf_core.jobs.pool.Written`).
        fresh: The caller has just found every record of ``desired`` changed
            (:meth:`~cmsf_core.shadow.Shadow.changed` with the same digests and versions,
            nothing written for these keys since): the shadow is not asked again.

    Returns:
        Ids of every record now in Salesforce by key (unchanged ones from the shadow;
        pooled records are not written yet, so they have none).
    """
    outcome = WriteOutcome()
    unique: dict[str, Desired] = {}
    for item in desired:
        unique[item.key] = item  # the last occurrence of a key wins
    rows = [(d.key, d.digest(), d.version) for d in unique.values()]
    if fresh:
        changed = {key: (dig, version) for key, dig, version in rows}
        known: dict[str, ShadowRow] = {}
    else:
        changed = {key: (dig, version) for key, dig, version in ctx.shadow.changed(sobject, rows)}
        known = ctx.shadow.get(sobject, [k for k in unique if k not in changed])
    for key, row in known.items():
        outcome.ids[key] = row.sf_id
    outcome.unchanged = len(unique) - len(changed)
    if retry_locator is not None:
        # The org already holds exactly this: nothing is left to retry for these keys.
        pending.resolved(ctx, retry_job or job, [k for k in unique if k not in changed])
    if not changed:
        return outcome
    columns: set[str] = set()
    entries = []
    for key, (dig, version) in changed.items():
        item = unique[key]
        columns.update(item.record)
        entries.append(
            PooledRecord(
                key=key,
                record=pack(item.record),
                digest=dig,
                version=version,
                remember=key not in forget,
                locator=retry_locator(item) if retry_locator is not None else None,
                extra=item.extra,
            )
        )
    if pooled:
        ctx.pool.add(
            ctx,
            job,
            sobject,
            entries,
            external_id=external_id,
            failure_code=failure_code,
            retry_job=(retry_job or job) if retry_locator is not None else None,
            columns=columns,
            on_written=on_written,
        )
        return outcome
    written = write_pooled(
        ctx,
        job,
        sobject,
        entries,
        external_id=external_id,
        failure_code=failure_code,
        retry_job=(retry_job or job) if retry_locator is not None else None,
        columns=sorted(columns),
        on_written=on_written,
    )
    outcome.ids.update(written.ids)
    outcome.written = written.written
    outcome.failures = written.failures
    return outcome


def write_pooled(
    ctx: JobContext,
    job: str,
    sobject: str,
    entries: Sequence[PooledRecord],
    *,
    external_id: str,
    failure_code: str,
    retry_job: str | None,
    columns: Sequence[str],
    on_written: Written | None = None,
) -> WriteOutcome:
    """Upsert changed records in batches of the job's limit; record, count and report them.

    Accepted records enter the shadow (unless they are to be forgotten) and leave the
    pending retries of ``retry_job``; refused ones join them (when ``retry_job`` is set)
    and are folded into one maintenance message.
    """
    return prepare_pooled(
        ctx,
        job,
        sobject,
        entries,
        external_id=external_id,
        failure_code=failure_code,
        retry_job=retry_job,
        columns=columns,
        on_written=on_written,
    )().finish()


def prepare_pooled(
    ctx: JobContext,
    job: str,
    sobject: str,
    entries: Sequence[PooledRecord],
    *,
    external_id: str,
    failure_code: str,
    retry_job: str | None,
    columns: Sequence[str],
    on_written: Written | None = None,
) -> Callable[[], PooledWrite]:
    """:func:`write_pooled` in steps, its last batch left running.

    The last batch's Bulk API CSV is made now, without a call
    (:meth:`~cmsf_core.salesforce.SalesforceGateway.prepare_upsert`). Calling the result
    writes every other batch and submits the last one (Salesforce processes a Bulk API
    write while the caller goes on); the :class:`PooledWrite` it returns fetches the
    results, then records, counts and reports the whole write as :func:`write_pooled` does.
    """
    batches = list(_batches(entries, ctx.batch_size(job)))
    last = batches[-1] if batches else []
    prepared = (
        ctx.sf.prepare_upsert(
            sobject,
            external_id,
            LazyRecords([item.record for item in last]),
            columns=columns,
            keys=[item.key for item in last],
        )
        if batches
        else None
    )

    def submit() -> PooledWrite:
        outcome = WriteOutcome()
        for batch in batches[:-1]:
            began = ctx.clock.now()
            result = ctx.sf.upsert(
                sobject,
                external_id,
                LazyRecords([item.record for item in batch]),
                columns=columns,
                keys=[item.key for item in batch],
            )
            _record(ctx, sobject, batch, result, began, outcome, retry_job, on_written)
        began = ctx.clock.now()
        submitted = prepared() if prepared is not None else None
        return PooledWrite(
            _PooledTarget(ctx, job, sobject, failure_code, retry_job, on_written),
            last,
            submitted,
            began,
            outcome,
        )

    return submit


@dataclass(frozen=True)
class _PooledTarget:
    """Where a pooled write goes and what is told of it."""

    ctx: JobContext
    job: str
    sobject: str
    failure_code: str
    retry_job: str | None
    on_written: Written | None


class PooledWrite:
    """A pooled write whose last batch was submitted (see :func:`prepare_pooled`).

    :meth:`fetch` waits for Salesforce and takes the results; :meth:`finish` (fetching
    first if needed) records, counts and reports the write. A caller with another write to
    submit fetches this one, submits the next, and finishes this one while Salesforce
    processes the next.
    """

    def __init__(
        self,
        target: _PooledTarget,
        batch: Sequence[PooledRecord],
        submitted: WriteResult | Callable[[], WriteResult] | None,
        began: datetime,
        outcome: WriteOutcome,
    ) -> None:
        self._target = target
        self._batch = batch
        self._submitted = submitted
        self._began = began
        self._finished = False
        self.outcome = outcome

    @property
    def running(self) -> bool:
        """Whether Salesforce may still be processing it (its results not fetched)."""
        return callable(self._submitted)

    def fetch(self) -> None:
        """Wait for the submitted batch and take its results (once)."""
        if callable(self._submitted):
            self._submitted = self._submitted()

    def finish(self) -> WriteOutcome:
        """Fetch, then record the last batch; count and report the write's refusals (once)."""
        self.fetch()
        if self._finished:
            return self.outcome
        self._finished = True
        t, result, outcome = self._target, self._submitted, self.outcome
        ctx = t.ctx
        if result is not None:
            assert not callable(result)  # fetched
            _record(
                ctx, t.sobject, self._batch, result, self._began, outcome, t.retry_job, t.on_written
            )
        if outcome.failures:
            ctx.stats.failed[t.sobject] += len(outcome.failures)
            report_failures(ctx, t.job, t.sobject, outcome.failures, code=t.failure_code)
        return outcome


def _record(
    ctx: JobContext,
    sobject: str,
    batch: Sequence[PooledRecord],
    result: WriteResult,
    began: datetime,
    outcome: WriteOutcome,
    retry_job: str | None,
    on_written: Written | None,
) -> None:
    """Record one written batch: the shadow, the job's hook, pending retries, the stats."""
    accepted: list[ShadowRow] = []
    written_keys: list[str] = []
    written: list[tuple[PooledRecord, str]] = []
    for index, item in enumerate(batch):
        sf_id = result.ids[index]
        if sf_id is None:
            continue
        written_keys.append(item.key)
        written.append((item, sf_id))
        if item.remember:
            accepted.append(ShadowRow(item.key, sf_id, item.digest, item.version))
        outcome.ids[item.key] = sf_id
    kept = forgotten(batch)
    with ctx.journal.transaction():
        ctx.shadow.record(sobject, accepted)
        if kept:
            ctx.shadow.forget(sobject, [k for k in written_keys if k in kept])
        if on_written is not None and written:
            on_written(written, began)
        if retry_job is not None:
            pending.resolved(ctx, retry_job, [k for k in written_keys if k not in kept])
            pending.refused(
                ctx,
                retry_job,
                [
                    (
                        batch[f.index].key,
                        batch[f.index].locator or "",
                        batch[f.index].version,
                        f.code,
                    )
                    for f in result.failures
                ],
            )
    outcome.written += len(written_keys)
    outcome.failures.extend(result.failures)
    ctx.stats.wrote(sobject, result.ids)


def forgotten(batch: Sequence[PooledRecord]) -> set[str]:
    """Keys of ``batch`` written without a shadow row (they stay pending, if they were)."""
    return {item.key for item in batch if not item.remember}


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size`` (the job's internal governor limit)."""
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + max(1, size)]


def update_changed(
    ctx: JobContext,
    job: str,
    sobject: str,
    desired: Sequence[Desired],
    *,
    aspect: str,
    stamp_field: str | None = None,
) -> int:
    """Update existing records (each ``record`` carries its ``Id``) whose source changed.

    Used for values a job owns on records another job creates (list statistics on a
    list, campaign statistics on a linked Salesforce Campaign). ``aspect`` names the
    shadow entry, so each aspect of a record is tracked apart.

    Returns:
        How many records were updated.
    """
    shadow_object = f"{sobject}#{aspect}"
    rows = [(d.key, d.digest(), d.version) for d in desired]
    changed = {key for key, _, _ in ctx.shadow.changed(shadow_object, rows)}
    items = [d for d in desired if d.key in changed]
    if not items:
        return 0
    now = ctx.clock.now().isoformat()
    written = 0
    failures: list[RecordFailure] = []
    for batch in _batches(items, ctx.batch_size(job)):
        records = [{**d.record, stamp_field: now} if stamp_field else dict(d.record) for d in batch]
        result = ctx.sf.update(sobject, records)
        accepted = [
            ShadowRow(d.key, str(result.ids[i]), d.digest(), d.version)
            for i, d in enumerate(batch)
            if result.ids[i] is not None
        ]
        ctx.shadow.record(shadow_object, accepted)
        written += len(accepted)
        failures.extend(result.failures)
        ctx.stats.wrote(sobject, result.ids)
    if failures:
        ctx.stats.failed[sobject] += len(failures)
        report_failures(ctx, job, sobject, failures)
    return written


def report_failures(
    ctx: JobContext,
    job: str,
    sobject: str,
    failures: Sequence[RecordFailure],
    *,
    code: str = "CMSF-REC-WRITE",
    summary: str | None = None,
) -> None:
    """Fold refused records into maintenance messages: counts by error and examples.

    Records the org's own Apex refused (a trigger past a governor limit, a full flex
    queue) get one message per cause with the remedy (:mod:`cmsf_core.apex_trouble`);
    the rest one message with ``code``. Call it after the refused records are kept for
    their retry.

    Raises:
        StorageFullError: When Salesforce refused records because the org's data storage
            is full: the run stops cleanly (the records wait for their retry).
    """
    apex: dict[tuple[str, str], list[RecordFailure]] = {}
    others: list[RecordFailure] = []
    for failure in failures:
        trouble = diagnose(failure.message)
        if trouble is None:
            others.append(failure)
        else:
            apex.setdefault((trouble.kind, trouble.trigger), []).append(failure)
    for group in apex.values():
        trouble = diagnose(group[0].message)
        assert trouble is not None
        limit_name = _limit_name(job)
        ctx.log.raise_message(
            "Error",
            job,
            trouble.code,
            f"{trouble.trigger or 'A trigger'} on {sobject}: {trouble.cause} "
            f"({len(group)} record(s) refused)",
            advice(
                trouble,
                sobject=sobject,
                limit_name=limit_name,
                # every record of a failed transaction is refused: the group is at least one
                per_call=min(ctx.batch_size(job), COLLECTION_SIZE, len(group)),
            )
            + "\n"
            + _details(group, sobject),
        )
    if others:
        log_failures(ctx.log, job, sobject, others, code=code, summary=summary)
    full = sum(1 for f in failures if f.code == "STORAGE_LIMIT_EXCEEDED")
    if full:
        raise StorageFullError(
            f"Salesforce refused {full} {sobject} record(s): the org's data storage is full "
            "(STORAGE_LIMIT_EXCEEDED); the sync stopped writing",
            platform="salesforce",
            error_code="STORAGE_LIMIT_EXCEEDED",
        )


def log_failures(
    log: MaintenanceLog,
    job: str,
    sobject: str,
    failures: Sequence[RecordFailure],
    *,
    code: str = "CMSF-REC-WRITE",
    summary: str | None = None,
) -> None:
    """One maintenance message for refused records, for code that has a maintenance log
    but no job context (no Apex diagnosis: :func:`report_failures` does that)."""
    log.raise_message(
        "Error",
        job,
        code,
        summary or f"Salesforce refused {len(failures)} {sobject} record(s)",
        _details(failures, sobject),
    )


def _details(failures: Sequence[RecordFailure], sobject: str) -> str:
    """Counts by error code and up to five examples."""
    by_code = Counter(f.code for f in failures)
    examples = []
    for failure in failures[:5]:
        key = (
            failure.record.get("CM_Id__c")
            or failure.record.get("Email")
            or failure.record.get("Id")
        )
        fields = f" ({', '.join(failure.fields)})" if failure.fields else ""
        examples.append(f"- {key}: {failure.code}{fields} {failure.message}")
    counts = ", ".join(f"{n} x {c}" for c, n in by_code.most_common())
    return f"{len(failures)} {sobject} record(s) refused: {counts}\n" + "\n".join(examples)


def _limit_name(job: str) -> str:
    """The governor limit that sizes ``job``'s writes."""
    from cmsf_core.jobs.base import JOBS

    cls = JOBS.get(job)
    return (cls.limit or cls.name) if cls is not None else job


def delete_records(
    ctx: JobContext, sobject: str, rows: Sequence[tuple[str, str]], *, job: str
) -> int:
    """Delete records ``(key, Salesforce Id)`` and forget them in the shadow.

    Records already gone (deleted by hand) count as deleted.

    Returns:
        How many records were removed.
    """
    if not rows:
        return 0
    gone: list[str] = []
    refused: list[RecordFailure] = []
    for batch in _batches(rows, ctx.batch_size(job)):
        result = ctx.sf.delete([sf_id for _, sf_id in batch], sobject=sobject)
        by_index = {f.index: f for f in result.failures}
        removed = []
        for index, (key, _) in enumerate(batch):
            failure = by_index.get(index)
            if failure is None or failure.code in ALREADY_GONE:
                removed.append(key)
            else:
                refused.append(failure)
        ctx.shadow.forget(sobject, removed)
        gone.extend(removed)
    ctx.stats.deleted[sobject] += len(gone)
    if refused:
        report_failures(
            ctx,
            job,
            sobject,
            refused,
            summary=f"Salesforce refused to delete {len(refused)} {sobject} record(s)",
        )
    return len(gone)
