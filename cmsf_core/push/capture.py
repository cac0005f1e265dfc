"""Change capture helpers: windows, record tokens, bulk changes, and the engine's own writes.

The capture polls ``SystemModstamp`` windows (no Apex in the org): every Contact and Lead
created, edited, deleted, undeleted or merged since the last window (``queryAll`` shows
the deleted ones with ``IsDeleted`` and, for merge losers, ``MasterRecordId``). A
window runs from where the last one ended, less :data:`OVERLAP` (a transaction that
committed late still shows), to the run's start in whole seconds; it never reaches past
the run's start, so the engine's own writes of a run fall in the next window, where they
are recognised (:func:`note_engine_write`).

A record is a change to push when a field the push reads (:meth:`PushConfig.fields`)
differs from its baseline (or is not in it yet: mapped since), when the set of rules it
meets changed, or when there is no complete baseline for it (new, undeleted, or only
known from the engine's own writes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cmsf_core.clock import parse_instant
from cmsf_core.push.ledger import PushLedger

if TYPE_CHECKING:
    from cmsf_core.jobs.context import JobContext
    from cmsf_core.push.config import PushConfig

__all__ = [
    "OVERLAP",
    "bulk_followers",
    "ledger_for",
    "note_engine_write",
    "soql_instant",
    "tokens_of",
    "window_bounds",
]

OVERLAP = timedelta(minutes=2)
"""How far each window reaches back into the previous one."""
EXTRA_KEY = "push_ledger"


def ledger_for(ctx: JobContext) -> PushLedger:
    """The push's journal tables for this run (one object per run)."""
    ledger = ctx.extras.get(EXTRA_KEY)
    if not isinstance(ledger, PushLedger):
        ledger = PushLedger(ctx.journal, ctx.shadow.names)
        ctx.extras[EXTRA_KEY] = ledger
    return ledger


def note_engine_write(
    ctx: JobContext, sobject: str, rows: Mapping[str, Mapping[str, Any]], *, created: bool = False
) -> None:
    """Tell the push what the primary sync itself wrote to Contacts or Leads.

    Called by the jobs that write them (the create rule, the email opt-out), with the
    values written by record Id, so that the next capture does not take them for a
    change to send back to Campaign Monitor.
    """
    if sobject not in ("Contact", "Lead") or not rows:
        return
    if created:
        # A new record holds nothing but what was written: every field the push reads
        # and the engine did not write is empty.
        from cmsf_core.push.config import cached_config

        fields = [] if ctx.settings.disable_triggers else cached_config(ctx).fields(sobject)
        rows = {k: {**dict.fromkeys(fields), **v} for k, v in rows.items()}
    ledger = ledger_for(ctx)
    forward = getattr(ctx.journal, "forward_engine_write", None)
    if forward is not None and forward(sobject, ledger.engine_tokens(rows), created):
        return  # a worker of the distributed runtime: the coordinator's ledger takes them
    ledger.note_engine_write(sobject, rows, created=created)


def soql_instant(value: datetime) -> str:
    """A SOQL datetime literal in whole UTC seconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_bounds(start: str, signpost: datetime) -> tuple[str, str]:
    """SOQL literals of a window ``[start - OVERLAP, signpost)`` in whole seconds."""
    begin = parse_instant(start) - OVERLAP
    end = signpost.replace(microsecond=0)
    return soql_instant(begin), soql_instant(end)


def tokens_of(
    ledger: PushLedger, record: Mapping[str, Any], fields: Iterable[str]
) -> dict[str, str]:
    """The value tokens of a record's push-relevant fields."""
    from cmsf_core.push.mappings import field_value

    return {
        f: ledger.email_token(record.get("Email"))
        if f == "Email"
        else ledger.value_token(f, field_value(record, f))
        for f in fields
    }


def bulk_followers(rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Records of a bulk change other than its first.

    A bulk change is several records saved in one transaction: in the poll they share
    ``SystemModstamp`` and ``LastModifiedById``. Its *first* record is the one with the
    smallest Id. Deleted records (deletes and merge losers) are never part of one: a merge
    always reaches Campaign Monitor's consent rules whole.
    """
    groups: dict[tuple[Any, Any], list[str]] = {}
    for row in rows:
        if row.get("IsDeleted"):
            continue
        key = (row.get("SystemModstamp"), row.get("LastModifiedById"))
        groups.setdefault(key, []).append(str(row["Id"]))
    out: set[str] = set()
    for ids in groups.values():
        if len(ids) > 1:
            out |= set(sorted(ids)[1:])
    return out


def changed(
    baseline_fields: Mapping[str, str] | None,
    complete: bool,
    tokens: Mapping[str, str],
    met_now: set[str],
    met_before: set[str],
    *,
    modified: datetime | None = None,
    mapped_since: Mapping[str, datetime] | None = None,
) -> list[str]:
    """What changed about a record (empty: nothing to push).

    A field missing from the baseline was mapped after the record was last seen. It
    counts as changed when the record was saved after the field became mapped
    (``modified`` later than ``mapped_since``): its value may have been set for the
    mapping. Otherwise its value predates the mapping and is taken as it is.
    """
    if baseline_fields is None or not complete:
        return ["(new)"]
    diff = []
    for field, token in tokens.items():
        known = baseline_fields.get(field)
        if known is None:
            since = (mapped_since or {}).get(field)
            if since is None or modified is None or modified > since:
                diff.append(field)
        elif known != token:
            diff.append(field)
    if met_now != met_before:
        diff.append("(rules)")
    return diff


def capture_config(ctx: JobContext) -> PushConfig:
    """The run's push configuration (see :func:`cmsf_core.push.config.cached_config`)."""
    from cmsf_core.push.config import cached_config

    return cached_config(ctx)
