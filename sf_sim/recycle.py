"""Deletes, the recycle bin, undelete, purge, and the Get Deleted / Get Updated windows.

A delete sets ``IsDeleted = 1`` (the row stays, visible to ``queryAll``), bumps
``SystemModstamp`` and logs the delete in ``_sf_recycle``; children go with their
parent (master-detail children and lookups with ``deleteConstraint`` Cascade, an
account's contacts, a person's campaign members and tasks, a campaign's members and
statuses) and come back with it on undelete. Other lookups follow their
``deleteConstraint``: ``Restrict`` refuses the delete (``DELETE_FAILED``) while a live
record points at the parent; ``SetNull`` (the default) clears the lookup, and undelete
restores it, as the platform does for custom lookups. Rows
older than 15 days in the bin are purged for good. A hard delete (Bulk API
``hardDelete``) skips the bin.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sf_sim import campaigns
from sf_sim.dml import WriteContext
from sf_sim.exceptions import RecordError, SalesforceApiError
from sf_sim.records import ROLLED_BACK, RecordChecker, SaveResult, normalise_id
from sf_sim.schema import ObjectDef, format_datetime, parse_datetime
from sf_sim.store import quote

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["RECYCLE_DAYS", "Recycle"]

RECYCLE_DAYS = 15
"""Days a deleted record stays in the recycle bin (and in Get Deleted)."""

_CASCADE = {
    ("Account", "Contact", "AccountId"),
    ("Contact", "CampaignMember", "ContactId"),
    ("Lead", "CampaignMember", "LeadId"),
    ("Contact", "Task", "WhoId"),
    ("Lead", "Task", "WhoId"),
    ("Account", "Task", "WhatId"),
    ("Campaign", "CampaignMember", "CampaignId"),
    ("Campaign", "CampaignMemberStatus", "CampaignId"),
}


_NOT_CLEARED = frozenset(
    {
        "CreatedById",
        "LastModifiedById",
        "OwnerId",
        "MasterRecordId",
        "ConvertedContactId",
        "ConvertedAccountId",
        "ConvertedOpportunityId",
    }
)
"""Reference fields a parent's delete leaves as they are (system and history fields)."""


class Recycle:
    """The org's delete, undelete and replication operations."""

    def __init__(self, org: Org) -> None:
        self.org = org

    def _lookups(self, definition: ObjectDef) -> dict[str, list[tuple[ObjectDef, str]]]:
        """Lookups pointing at ``definition`` by what deleting a parent does to them."""
        found: dict[str, list[tuple[ObjectDef, str]]] = {"cascade": [], "restrict": [], "clear": []}
        for child in self.org.schema:
            for item in child.iter_fields():
                if definition.name not in item.reference_to or item.name in _NOT_CLEARED:
                    continue
                if item.cascade_delete or (definition.name, child.name, item.name) in _CASCADE:
                    found["cascade"].append((child, item.name))
                elif item.restrict_delete:
                    found["restrict"].append((child, item.name))
                elif item.updateable or item.createable:
                    found["clear"].append((child, item.name))
        return found

    def _children(self, definition: ObjectDef) -> list[tuple[str, str]]:
        return [(child.name, name) for child, name in self._lookups(definition)["cascade"]]

    def _restricted(self, definition: ObjectDef, ids: list[str]) -> dict[str, str]:
        """Parents a ``Restrict`` lookup holds: Id -> what refuses their delete."""
        held: dict[str, str] = {}
        for child, column in self._lookups(definition)["restrict"]:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                for row in self.org.store.select(
                    f"SELECT Id, {quote(column)} AS parent FROM {quote(child.name)} "
                    f"WHERE +IsDeleted = 0 AND {quote(column)} IN ({marks})",
                    chunk,
                ):
                    held.setdefault(
                        row["parent"], f"{child.label_plural or child.name}: {row['Id']}"
                    )
        return held

    def _clear_lookups(
        self, definition: ObjectDef, ids: list[str], now: str, *, remember: bool
    ) -> None:
        """``SetNull``: clear live lookups to deleted parents (remembered for undelete)."""
        for child, column in self._lookups(definition)["clear"]:
            stamp = ", SystemModstamp = ?" if child.field("SystemModstamp") else ""
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                where = (
                    f"+IsDeleted = 0 AND {quote(column)} IN ({marks})"
                    if child.field("IsDeleted")
                    else f"{quote(column)} IN ({marks})"
                )
                rows = self.org.store.select(
                    f"SELECT Id, {quote(column)} AS parent FROM {quote(child.name)} WHERE {where}",
                    chunk,
                )
                if not rows:
                    continue
                if remember:
                    self.org.store.conn.executemany(
                        "INSERT INTO _sf_cleared (parent_id, object, child_id, field) VALUES (?, ?, ?, ?)",
                        [(r["parent"], child.name, r["Id"], column) for r in rows],
                    )
                params: tuple[Any, ...] = (now,) if stamp else ()
                self.org.store.conn.executemany(
                    f"UPDATE {quote(child.name)} SET {quote(column)} = NULL{stamp} WHERE Id = ?",
                    [(*params, r["Id"]) for r in rows],
                )

    def _restore_lookups(self, parent_id: str) -> None:
        """Undelete puts cleared lookups back where they are still empty."""
        for row in self.org.store.select(
            "SELECT object, child_id, field FROM _sf_cleared WHERE parent_id = ?", (parent_id,)
        ):
            if self.org.schema.object(row["object"]) is None:
                continue
            self.org.store.conn.execute(
                f"UPDATE {quote(row['object'])} SET {quote(row['field'])} = ? "
                f"WHERE Id = ? AND {quote(row['field'])} IS NULL",
                (parent_id, row["child_id"]),
            )
        self.org.store.conn.execute("DELETE FROM _sf_cleared WHERE parent_id = ?", (parent_id,))

    def delete(
        self,
        ids: list[str],
        ctx: WriteContext | None = None,
        *,
        hard: bool = False,
        object_name: str | None = None,
    ) -> list[SaveResult]:
        """Delete records by Id (any mix of objects); results in input order."""
        self.org.control.count_apex("dml")
        self.org.control.count_apex("dml_rows", len(ids))
        ctx = ctx or WriteContext()
        with self.org.control.apex_scope(ctx.apex_limits):
            return self._delete(ids, ctx, hard, object_name)

    def _delete(
        self, ids: list[str], ctx: WriteContext, hard: bool, object_name: str | None
    ) -> list[SaveResult]:
        results: list[SaveResult | None] = [None] * len(ids)
        groups: dict[str, dict[int, str]] = {}
        for position, raw in enumerate(ids):
            record_id = normalise_id(raw)
            target = self.org.schema.by_key_prefix(record_id[:3]) if record_id else None
            if (
                record_id is None
                or target is None
                or (object_name and target.name.lower() != object_name.lower())
            ):
                results[position] = SaveResult.failure(
                    RecordError("MALFORMED_ID", f"malformed id {raw}")
                )
                continue
            groups.setdefault(target.name, {})[position] = record_id
        with self.org.store.transaction():
            for name, members in groups.items():
                self._delete_group(self.org.schema.object(name), members, results, ctx, hard)  # type: ignore[arg-type]
            if ctx.all_or_none and any(r is None or not r.success for r in results):
                final = _roll_back([r or SaveResult(None, False) for r in results])
                raise _Abort(final)
        return [r or SaveResult(None, False) for r in results]

    def _delete_group(
        self,
        definition: ObjectDef,
        members: dict[int, str],
        results: list[SaveResult | None],
        ctx: WriteContext,
        hard: bool,
    ) -> None:
        dml = self.org.dml
        rows = {
            key: dml.row_to_api(definition, row)
            for key, row in self.org.store.get_many(definition.name, list(members.values())).items()
        }
        live: dict[int, dict[str, Any]] = {}
        for position, record_id in members.items():
            row = rows.get(record_id)
            try:
                if not ctx.system and not definition.deletable:
                    raise RecordError(
                        "INVALID_TYPE_FOR_OPERATION",
                        f"entity type cannot be deleted: {definition.label}",
                    )
                if not ctx.system and not self.org.control.object_allowed(
                    definition.name, "delete"
                ):
                    raise RecordError(
                        "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id"
                    )
                if row is None:
                    raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
                if row.get("IsDeleted") and not hard:
                    raise RecordError("ENTITY_IS_DELETED", "entity is deleted")
                self.org.control.check_lock(definition.name, record_id)
                live[position] = row
            except RecordError as exc:
                results[position] = SaveResult.failure(exc)
        held = self._restricted(definition, [row["Id"] for row in live.values()])
        for position in [p for p, row in live.items() if row["Id"] in held]:
            results[position] = SaveResult.failure(
                RecordError(
                    "DELETE_FAILED",
                    f"Your attempt to delete {definition.label} {live[position]['Id']} could not "
                    "be completed because it is associated with the following "
                    f"{held[live[position]['Id']]}",
                )
            )
            live.pop(position)
        for position, error in campaigns.before_delete(self.org, definition, live).items():
            results[position] = SaveResult.failure(error)
            live.pop(position)
        order = sorted(live)
        if ctx.triggers and order:
            for index, error in self.org.control.run_triggers(
                definition.name, "before", "delete", [], [live[p] for p in order]
            ).items():
                results[order[index]] = SaveResult.failure(error)
                live.pop(order[index], None)
        now = format_datetime(self.org.clock.now())
        doomed = [row["Id"] for row in live.values()]
        removed = self._remove(definition, doomed, doomed, now, hard)
        for position in live:
            results[position] = SaveResult(members[position], True)
        if ctx.triggers and live:
            order = sorted(live)
            for index, error in self.org.control.run_triggers(
                definition.name, "after", "delete", [], [live[p] for p in order]
            ).items():
                results[order[index]] = SaveResult.failure(error)
        for name, gone in removed.items():
            target = self.org.schema.object(name)
            if target is not None:
                campaigns.after_delete(self.org, target, gone)

    def _remove(
        self, definition: ObjectDef, ids: list[str], roots: list[str], now: str, hard: bool
    ) -> dict[str, list[dict[str, Any]]]:
        """Delete rows and their cascade children; returns removed rows by object."""
        if not ids:
            return {}
        rows = self.org.store.get_many(definition.name, ids)
        removed = {definition.name: list(rows.values())}
        root_of = dict(zip(ids, roots, strict=True))
        for child, column in self._children(definition):
            child_def = self.org.schema.object(child)
            assert child_def is not None
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                found = self.org.store.select(
                    f"SELECT Id, {quote(column)} AS parent FROM {quote(child)} WHERE +IsDeleted = 0 AND {quote(column)} IN ({marks})",
                    chunk,
                )
                for name, gone in self._remove(
                    child_def,
                    [r["Id"] for r in found],
                    [root_of[r["parent"]] for r in found],
                    now,
                    hard,
                ).items():
                    removed.setdefault(name, []).extend(gone)
        self._clear_lookups(definition, ids, now, remember=not hard)
        log = [
            (record_id, definition.name, now, root_of[record_id], 1 if hard else 0)
            for record_id in ids
        ]
        self.org.store.conn.executemany(
            "INSERT OR REPLACE INTO _sf_recycle (Id, object, deleted_date, root_id, purged) VALUES (?, ?, ?, ?, ?)",
            log,
        )
        if hard or definition.field("IsDeleted") is None:
            # Objects without a recycle bin (PermissionSetAssignment...) are gone at once.
            self.org.store.delete_rows(definition.name, ids)
        else:
            stamp = (
                ", SystemModstamp = ?, LastModifiedDate = ?"
                if definition.field("LastModifiedDate")
                else ""
            )
            params: tuple[Any, ...] = (now, now) if stamp else ()
            self.org.store.conn.executemany(
                f"UPDATE {quote(definition.name)} SET IsDeleted = 1{stamp} WHERE Id = ?",
                [(*params, record_id) for record_id in ids],
            )
        return removed

    def undelete(self, ids: list[str], ctx: WriteContext | None = None) -> list[SaveResult]:
        """Restore records (and what was deleted with them) from the recycle bin."""
        ctx = ctx or WriteContext()
        results: list[SaveResult] = []
        with self.org.store.transaction():
            for raw in ids:
                record_id = normalise_id(raw)
                entry = (
                    self.org.store.select(
                        "SELECT * FROM _sf_recycle WHERE Id = ? AND purged = 0", (record_id,)
                    )
                    if record_id
                    else []
                )
                if record_id is None:
                    results.append(
                        SaveResult.failure(RecordError("MALFORMED_ID", f"malformed id {raw}"))
                    )
                    continue
                if not entry:
                    results.append(
                        SaveResult.failure(
                            RecordError("UNDELETE_FAILED", "Entity is not in the recycle bin")
                        )
                    )
                    continue
                try:
                    self._restore(record_id)
                    results.append(SaveResult(record_id, True))
                except _Abort as abort:
                    results.append(abort.results[0])
            if ctx.all_or_none and any(not r.success for r in results):
                raise _Abort(_roll_back(results))
        return results

    def _restore(self, record_id: str) -> None:
        family = self.org.store.select(
            "SELECT Id, object FROM _sf_recycle WHERE purged = 0 AND (root_id = ? OR Id = ?)",
            (record_id, record_id),
        )
        touched: dict[str, list[dict[str, Any]]] = {}
        with self.org.store.transaction():
            for item in family:
                definition = self.org.schema.object(item["object"])
                if definition is None:
                    continue
                row = self.org.store.get(definition.name, item["Id"])
                if row is None:
                    continue
                api = self.org.dml.row_to_api(definition, row)
                errors: dict[int, RecordError] = {}
                RecordChecker(self.org, definition, system=True).check_unique(
                    [api], errors, [str(item["Id"])].__getitem__
                )
                if errors:
                    raise _Abort([SaveResult.failure(errors[0])])
                self.org.store.conn.execute(
                    f"UPDATE {quote(definition.name)} SET IsDeleted = 0 WHERE Id = ?", (item["Id"],)
                )
                self.org.store.conn.execute("DELETE FROM _sf_recycle WHERE Id = ?", (item["Id"],))
                self._restore_lookups(item["Id"])
                touched.setdefault(definition.name, []).append(api)
        for name, rows in touched.items():
            definition = self.org.schema.object(name)
            if definition is not None:
                campaigns.after_delete(self.org, definition, rows)
                self.org.control.run_triggers(name, "after", "undelete", rows, [])

    def purge(self) -> int:
        """Remove recycle-bin rows older than :data:`RECYCLE_DAYS`; returns how many."""
        cutoff = format_datetime(self.org.clock.now() - timedelta(days=RECYCLE_DAYS))
        stale = self.org.store.select(
            "SELECT Id, object FROM _sf_recycle WHERE purged = 0 AND deleted_date < ?", (cutoff,)
        )
        if not stale:
            return 0
        with self.org.store.transaction():
            by_object: dict[str, list[str]] = {}
            for item in stale:
                by_object.setdefault(item["object"], []).append(item["Id"])
            for name, ids in by_object.items():
                if self.org.schema.object(name) is not None:
                    self.org.store.delete_rows(name, ids)
            self.org.store.conn.executemany(
                "UPDATE _sf_recycle SET purged = 1 WHERE Id = ?", [(i["Id"],) for i in stale]
            )
            self.org.store.conn.executemany(
                "DELETE FROM _sf_cleared WHERE parent_id = ?", [(i["Id"],) for i in stale]
            )
        return len(stale)

    # ------------------------------------------------------------------ replication

    def _window(self, start: str | None, end: str | None, days: int) -> tuple[datetime, datetime]:
        if not start or not end:
            raise SalesforceApiError(
                "MISSING_ARGUMENT", "Both start and end must be specified", 400
            )
        try:
            begin, finish = parse_datetime(start), parse_datetime(end)
        except ValueError as exc:
            raise SalesforceApiError(
                "INVALID_REPLICATION_DATE", f"Unable to parse start or end date: {start} {end}", 400
            ) from exc
        now = self.org.clock.now()
        if finish <= begin:
            raise SalesforceApiError(
                "INVALID_REPLICATION_DATE", "EndDate must be after StartDate", 400
            )
        if begin < now - timedelta(days=days):
            raise SalesforceApiError(
                "INVALID_REPLICATION_DATE", f"startDate cannot be more than {days} days ago", 400
            )
        return begin.replace(second=0, microsecond=0), min(finish, now).replace(
            second=0, microsecond=0
        )

    def get_deleted(
        self, definition: ObjectDef, start: str | None, end: str | None
    ) -> dict[str, Any]:
        """The Get Deleted response for ``[start, end]`` (at most 15 days back)."""
        begin, finish = self._window(start, end, RECYCLE_DAYS)
        rows = self.org.store.select(
            "SELECT Id, deleted_date FROM _sf_recycle WHERE object = ? AND deleted_date >= ? AND deleted_date <= ? ORDER BY deleted_date, Id",
            (definition.name, format_datetime(begin), format_datetime(finish)),
        )
        if len(rows) > 600000:
            raise SalesforceApiError(
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 600000 records into this call",
                400,
            )
        purged = self.org.store.scalar(
            "SELECT MAX(deleted_date) FROM _sf_recycle WHERE object = ? AND purged = 1",
            (definition.name,),
        )
        earliest = purged or self.org.created_date
        return {
            "deletedRecords": [{"id": r["Id"], "deletedDate": r["deleted_date"]} for r in rows],
            "earliestDateAvailable": earliest,
            "latestDateCovered": format_datetime(finish),
        }

    def get_updated(
        self, definition: ObjectDef, start: str | None, end: str | None
    ) -> dict[str, Any]:
        """The Get Updated response for ``[start, end]`` (at most 30 days back)."""
        begin, finish = self._window(start, end, 30)
        rows = self.org.store.select(
            f"SELECT Id FROM {quote(definition.name)} WHERE IsDeleted = 0 AND SystemModstamp >= ? AND SystemModstamp <= ? ORDER BY SystemModstamp, Id",
            (format_datetime(begin), format_datetime(finish)),
        )
        return {"ids": [r["Id"] for r in rows], "latestDateCovered": format_datetime(finish)}


class _Abort(Exception):
    """Internal: roll the delete back and answer with these results."""

    def __init__(self, results: list[SaveResult]) -> None:
        super().__init__("rolled back")
        self.results = results


def run_delete(
    org: Org,
    ids: list[str],
    ctx: WriteContext | None = None,
    *,
    hard: bool = False,
    object_name: str | None = None,
) -> list[SaveResult]:
    """Delete with all-or-none handling: a failed all-or-none call changes nothing."""
    try:
        return org.recycle.delete(ids, ctx, hard=hard, object_name=object_name)
    except _Abort as abort:
        return abort.results


def run_undelete(org: Org, ids: list[str], ctx: WriteContext | None = None) -> list[SaveResult]:
    """Undelete with all-or-none handling."""
    try:
        return org.recycle.undelete(ids, ctx)
    except _Abort as abort:
        return abort.results


def _roll_back(results: list[SaveResult]) -> list[SaveResult]:
    code, message = ROLLED_BACK
    return [
        SaveResult(None, False, [RecordError(code, message)])
        if r.success or not r.errors
        else SaveResult(None, False, r.errors)
        for r in results
    ]
