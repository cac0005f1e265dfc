"""Pooled writes: a job's records of one object gathered across its scopes into few writes.

A job such as ``subscribers`` reads many small scopes (a list and a state each) and the
large ones in pages; writing each scope or page on its own costs a Bulk API 2.0 job (five
calls) or a handful of sObject Collections calls per scope. The pool gathers the changed
records of a job per object and writes them together once they reach the job's internal
governor limit (or :data:`PIPELINE_RECORDS`), or when the job ends: the limit caps a write
batch, and ``bulk_threshold`` decides whether that batch goes through Bulk API 2.0 or sObject
Collections.

Pipelining: a write made because the pool was full is left running (:meth:`WritePool.flush`
with ``wait=False``): Salesforce processes its Bulk API jobs while the job reads and builds
the next records, and it is collected before the next write, before the shadow is read or
changed where it writes, and at the job's end, whose own write the runtime waits for.

Durability: the pool lives in memory (each record serialised, so its size is bounded by the
job's limit, never by the account) and holds no personal data on disk. What depends on pooled
records reaching Salesforce is *deferred* until they have: the scopes the runtime marks
done and the bookmarks jobs move (:meth:`WritePool.after_writes`). A process that dies
with records in the pool therefore loses nothing: their scopes are not marked done and
their bookmarks did not move, so the resumed run reads them again (the shadow index
skips what did reach Salesforce). A job that fails discards its pool the same way. A write
left running is in the same state until collected: the resumed run collects its Bulk API
jobs from the ledger (:func:`cmsf_core.salesforce_bulk.collect_open_jobs`) and takes their
results instead of writing the records again.
"""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from cmsf_core.jobs.context import JobContext
    from cmsf_core.jobs.writer import PooledWrite

__all__ = [
    "FIRST_PIPELINE_RECORDS",
    "PIPELINE_RECORDS",
    "LazyRecords",
    "PooledRecord",
    "WritePool",
    "Written",
    "pack",
]


@dataclass(frozen=True, slots=True)
class PooledRecord:
    """One changed record waiting in the pool.

    Attributes:
        key: Its Campaign Monitor identity (the external Id value).
        record: The record serialised (:func:`pack`; loaded only when it is written).
        digest: Digest of its source data (recorded in the shadow once written).
        version: The source's change time; an older version never replaces a newer one.
        remember: Record it in the shadow once written (False: write it, but let the
            next run write it again, e.g. a membership whose person could not be created).
        locator: For jobs that retry refused records: what finds it again.
        extra: What the job's ``on_written`` hook needs of the record once it is written.
    """

    key: str
    record: bytes
    digest: str
    version: str
    remember: bool = True
    locator: str | None = None
    extra: tuple[Any, ...] = ()


PIPELINE_RECORDS = 50_000
"""Records of one object the pool submits as a write of their own, below the job's limit.

A large job's records then go to Salesforce in Bulk API jobs of about this size, each
processed while the job reads and builds the next (:meth:`WritePool.flush`), instead of
one job processed after everything was read. Each further Bulk API job costs about five
calls, so the size stays well above the Bulk API's internal batch of 10,000 records."""

FIRST_PIPELINE_RECORDS = PIPELINE_RECORDS // 2
"""Records of one object a job's *first* pipelined write holds: Salesforce has nothing to
process until the first write goes, so a smaller first write sets it to work sooner (and
with the larger writes after it, a job's last write, which the job's end waits for, is
usually smaller too). One more Bulk API job per object written, about five calls."""

Written = Callable[[Sequence[tuple[PooledRecord, str]], datetime], None]
"""Told the records of a batch Salesforce accepted (with their Ids) and when the batch's
write began, inside the journal transaction that records them in the shadow."""


def pack(record: Mapping[str, Any]) -> bytes:
    """A record as the pool keeps it: a pickle made in and for this process (five times
    cheaper than JSON text both ways, and as compact)."""
    return pickle.dumps(dict(record), protocol=pickle.HIGHEST_PROTOCOL)


class LazyRecords(Sequence[Mapping[str, Any]]):
    """Records kept packed (:func:`pack`), loaded one at a time as a write reads them."""

    def __init__(self, texts: Sequence[bytes]) -> None:
        self._texts = texts

    def __len__(self) -> int:
        return len(self._texts)

    @overload
    def __getitem__(self, index: int) -> Mapping[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> LazyRecords: ...

    def __getitem__(self, index: int | slice) -> Mapping[str, Any] | LazyRecords:
        if isinstance(index, slice):
            return LazyRecords(self._texts[index])
        value: dict[str, Any] = pickle.loads(self._texts[index])
        return value

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        for text in self._texts:
            yield pickle.loads(text)


@dataclass
class _Target:
    """Where a group of pooled records goes, and how refusals are handled."""

    job: str
    sobject: str
    external_id: str
    failure_code: str
    retry_job: str | None
    on_written: Written | None = None
    records: dict[str, PooledRecord] = field(default_factory=dict)
    columns: set[str] = field(default_factory=set)


@dataclass
class _InFlight:
    """A flush whose last writes Salesforce is still processing (see :meth:`WritePool.flush`)."""

    writes: list[PooledWrite]
    keys: dict[str, set[str]]
    actions: list[Callable[[], None]]

    def fetch(self) -> None:
        """Wait for Salesforce and take the writes' results (nothing recorded yet)."""
        for write in self.writes:
            write.fetch()

    def finish(self) -> None:
        """Record the writes (fetching what is not yet), then run the waiting actions."""
        self.fetch()
        for write in self.writes:
            write.finish()
        for action in self.actions:
            action()

    def overlaps(self, keys: Mapping[str, Collection[str]]) -> bool:
        """Whether ``keys`` (by object) name a record this flush writes."""
        return any(
            sobject in self.keys and not self.keys[sobject].isdisjoint(named)
            for sobject, named in keys.items()
        )


class WritePool:
    """The pooled writes of one run (see the module docstring)."""

    def __init__(self) -> None:
        self._targets: dict[tuple[str, str, str, str, str | None, Written | None], _Target] = {}
        self._after: list[Callable[[], None]] = []
        self._inflight: _InFlight | None = None
        self._pipelined: set[tuple[str, str]] = set()
        """``(job, object)`` pairs whose first pipelined write has gone."""

    def __len__(self) -> int:
        return sum(len(target.records) for target in self._targets.values())

    def __bool__(self) -> bool:
        return any(target.records for target in self._targets.values())

    def add(
        self,
        ctx: JobContext,
        job: str,
        sobject: str,
        records: Sequence[PooledRecord],
        *,
        external_id: str,
        failure_code: str,
        retry_job: str | None,
        columns: set[str],
        on_written: Written | None = None,
    ) -> None:
        """Pool changed records; write the pool once it holds the job's limit of records.

        A key pooled twice keeps its newer version (the last one among equals). A pool
        that holds the job's limit, or :data:`PIPELINE_RECORDS` (the job's first time for the
        object: :data:`FIRST_PIPELINE_RECORDS`), of one object's records is written, and the
        write left running (:meth:`flush` with ``wait=False``).
        """
        ident = (job, sobject, external_id, failure_code, retry_job, on_written)
        target = self._targets.get(ident)
        if target is None:
            target = self._targets[ident] = _Target(
                job, sobject, external_id, failure_code, retry_job, on_written
            )
        for item in records:
            held = target.records.get(item.key)
            if held is not None and held.version > item.version:
                continue
            target.records[item.key] = item
        target.columns |= columns
        first = (job, sobject) not in self._pipelined
        if len(target.records) >= min(
            ctx.batch_size(job), FIRST_PIPELINE_RECORDS if first else PIPELINE_RECORDS
        ):
            self._pipelined.add((job, sobject))
            self.flush(ctx, wait=False)

    def after_writes(self, action: Callable[[], None]) -> None:
        """Run ``action`` once every record pooled so far is written (now, if none waits)."""
        if self:
            self._after.append(action)
        elif self._inflight is not None:
            self._inflight.actions.append(action)
        else:
            action()

    def flush(self, ctx: JobContext, *, wait: bool = True) -> None:
        """Write every pooled record, then run the actions that waited for them.

        With ``wait`` False the write's Bulk API jobs are left running
        (:func:`~cmsf_core.jobs.writer.prepare_pooled`): Salesforce processes them while
        the job reads and builds what comes next, and they are collected — their records
        entered in the shadow, then the waiting actions run (scopes marked done, bookmarks
        moved) — before the next flush, before the shadow is read for one of their
        records or for their object as a whole (:meth:`settle`), and at the job's end (the
        runtime's own flush waits). One flush is in flight at most.

        A flush made while another is in flight keeps Salesforce busy: its CSV is made
        first (while Salesforce still processes the other), then the other's results are
        fetched, this one is submitted, and only then is the other recorded — while
        Salesforce processes this one. Where the two write a record in common, the other is
        recorded before this one is submitted (the shadow keeps the newer version).
        """
        from cmsf_core.jobs.writer import prepare_pooled

        targets = [target for target in self._targets.values() if target.records]
        keys: dict[str, set[str]] = {}
        for target in targets:
            keys.setdefault(target.sobject, set()).update(target.records)
        previous = self._inflight
        if previous is not None and previous.overlaps(keys):
            self.collect()
            previous = None
        submits = [
            prepare_pooled(
                ctx,
                target.job,
                target.sobject,
                list(target.records.values()),
                external_id=target.external_id,
                failure_code=target.failure_code,
                retry_job=target.retry_job,
                columns=sorted(target.columns),
                on_written=target.on_written,
            )
            for target in targets
        ]
        if previous is not None:
            previous.fetch()  # Salesforce is done with it: the next write can go
        self._inflight = None
        self._targets = {}
        writes: list[PooledWrite] = []
        actions, self._after = self._after, []
        ctx.shadow.settle = self.settle
        try:
            for submit in submits:
                writes.append(submit())
        except BaseException:
            # What went out is still collected; the waiting actions never run (their
            # scopes are read again), and the earlier flush, fetched, is recorded.
            self._inflight = _InFlight(writes, keys, [])
            if previous is not None:
                previous.finish()
            raise
        self._inflight = _InFlight(writes, keys, actions)
        if previous is not None:
            # Recorded while Salesforce processes this flush. Recording touches only the
            # earlier flush's own records, none of which this one writes (checked above),
            # so it never waits for this one (:meth:`settle`).
            previous.finish()
        if wait or not any(write.running for write in writes):
            self.collect()  # nothing left running (sObject Collections): end it now

    def collect(self) -> None:
        """Collect the flush in flight, if any: its writes end, then its actions run."""
        inflight, self._inflight = self._inflight, None
        if inflight is not None:
            inflight.finish()

    def settle(self, sobject: str | None, keys: Collection[str] | None) -> None:
        """Collect the flush in flight before the shadow is read or changed where it
        writes: ``keys`` of ``sobject``, the whole object (``keys`` None) or every object
        (``sobject`` None)."""
        inflight = self._inflight
        if inflight is None:
            return
        if sobject is None or (
            sobject in inflight.keys
            and (keys is None or not inflight.keys[sobject].isdisjoint(keys))
        ):
            self.collect()

    def discard(self, *, collect: bool = True) -> None:
        """Forget pooled records and the actions waiting for them (a failed job).

        A flush still in flight is collected first (its records did reach Salesforce)
        unless ``collect`` is False (the run waits for the org's bulk queue, or was
        interrupted), and as far as the platform lets: one not collected stays open in
        the bulk ledger, and the next run collects it.
        """
        from cmsf_core.errors import CmsfError

        self._targets.clear()
        self._after.clear()
        if not collect:
            self._inflight = None
            return
        with contextlib.suppress(CmsfError):  # else left open in the ledger for the next run
            self.collect()
