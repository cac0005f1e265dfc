"""DML: insert, update and upsert with the platform's order of execution.

For each call the records go through the steps a real org takes, bulkified:

1. resolve and coerce fields (unknown, hidden, read-only fields; types);
2. defaults and system fields (Id, audit fields, ``OwnerId`` = running user, compound
   ``Name``, auto-numbers, picklist defaults);
3. *before* triggers (scenario callables; they may change the records);
4. system validation (required fields, lengths, e-mails, picklists, references,
   uniqueness), object rules (campaign members, converted leads), validation rules,
   record locks and storage;
5. save, then *after* triggers;
6. roll-ups (campaign counts).

With ``all_or_none`` any failure rolls the whole call back and the good records carry
``ALL_OR_NONE_OPERATION_ROLLED_BACK``. Without it, an after-trigger failure rolls back
and retries the call without the failing records, as the platform's partial save does.
Deletes and undeletes live in :mod:`sf_sim.recycle`; upsert matching in
:mod:`sf_sim.upsert`; the options of a call (:class:`~sf_sim.writes.WriteContext`) in
:mod:`sf_sim.writes`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sf_sim import campaigns
from sf_sim.exceptions import RecordError, SalesforceApiError
from sf_sim.records import KnownValues, RecordChecker, SaveResult, normalise_id
from sf_sim.schema import (
    BOOLEAN_TYPES,
    DATE_TYPES,
    NUMBER_TYPES,
    FieldDef,
    ObjectDef,
    format_datetime,
    from_storage,
    to_storage,
)
from sf_sim.upsert import upsert
from sf_sim.values import check_value
from sf_sim.writes import Rollback, WriteContext, rolled_back

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["Dml", "Rollback", "WriteContext", "rolled_back"]

_COMPOUND_NAME = {"Contact", "Lead", "User"}
_SYSTEM_SET = {
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
}
_CONVERTED = BOOLEAN_TYPES | NUMBER_TYPES | DATE_TYPES
"""Types whose storage value is not the API string itself (see :func:`to_storage`)."""
_CANONICAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
_AS_TEXT, _AS_DATETIME, _AS_FLAG, _CONVERT = range(4)
"""How :meth:`Dml._storage_row` stores a field's value (see :meth:`Dml._storage_plan`)."""


def _storing(item: FieldDef) -> int:
    if item.type not in _CONVERTED:
        return _AS_TEXT
    if item.type == "datetime":
        return _AS_DATETIME
    if item.type in BOOLEAN_TYPES:
        return _AS_FLAG
    return _CONVERT


@dataclass(frozen=True)
class _CreatePlan:
    """What creating a record of one object fills in: field defaults, ``IsDeleted``, the
    audit fields it has, ``OwnerId``, auto-number fields and their display formats."""

    defaults: tuple[tuple[str, Any], ...]
    deleted_flag: bool
    audit: tuple[str, ...]
    owner: bool
    numbered: tuple[tuple[str, str], ...]


class Dml:
    """The org's insert/update/upsert engine."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._storage_plans: dict[tuple[str, int], dict[str, tuple[str, int, FieldDef]]] = {}
        self._create_plans: dict[tuple[str, int], _CreatePlan] = {}

    # ------------------------------------------------------------------ helpers

    def object(self, name: str) -> ObjectDef:
        """Resolve an object for DML, raising the REST error for unknown ones."""
        definition = self.org.schema.object(name)
        if definition is None or not self.org.control.object_visible(definition.name):
            raise SalesforceApiError("NOT_FOUND", "The requested resource does not exist", 404)
        return definition

    def row_to_api(self, definition: ObjectDef, row: dict[str, Any]) -> dict[str, Any]:
        """A stored row as API values keyed by canonical field names."""
        out: dict[str, Any] = {}
        for item in definition.iter_fields():
            if item.name in row:
                out[item.name] = from_storage(item, row[item.name])
        return out

    def _storage_plan(self, definition: ObjectDef) -> dict[str, tuple[str, int, FieldDef]]:
        """Per field name: ``(canonical name, how its value is stored, field)`` (cached until
        the object gains fields). How: ``_AS_TEXT`` text as it is, ``_AS_DATETIME`` a
        datetime's text as it is when canonical, ``_AS_FLAG`` 1 or 0, else
        :func:`~sf_sim.schema.to_storage`."""
        key = (definition.name, len(definition.fields))
        cached = self._storage_plans.get(key)
        if cached is None:
            cached = {
                item.name: (item.name, _storing(item), item) for item in definition.iter_fields()
            }
            self._storage_plans[key] = cached
        return cached

    def _storage_row(self, definition: ObjectDef, values: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {}
        plan = self._storage_plan(definition)
        for name, value in values.items():
            entry = plan.get(name)
            if entry is None:
                item = definition.field(name)
                if item is None:
                    continue
                entry = (item.name, _storing(item), item)
            column, how, item = entry
            if value is None:
                row[column] = None
            elif how == _AS_TEXT and type(value) is str:
                row[column] = value  # what to_storage gives: text is stored as it is
            elif how == _AS_DATETIME and isinstance(value, str) and _CANONICAL.match(value):
                row[column] = value
            elif how == _AS_FLAG:
                row[column] = 1 if value else 0  # what to_storage gives for a boolean
            else:
                row[column] = to_storage(item, value)
        return row

    # ------------------------------------------------------------------ public API

    def insert(
        self, name: str, records: Sequence[dict[str, Any]], ctx: WriteContext | None = None
    ) -> list[SaveResult]:
        """Create records; results in input order."""
        ctx = ctx or WriteContext()
        definition = self.object(name)
        return self.run(definition, list(records), [None] * len(records), ctx)

    def update(
        self, name: str | None, records: Sequence[dict[str, Any]], ctx: WriteContext | None = None
    ) -> list[SaveResult]:
        """Update records by their ``Id``; ``name`` None lets each Id's prefix pick the object."""
        ctx = ctx or WriteContext()
        results: list[SaveResult | None] = [None] * len(records)
        groups: dict[str, list[int]] = {}
        for position, record in enumerate(records):
            raw_id = record.get("Id", record.get("id"))
            record_id = normalise_id(raw_id)
            target = self.org.schema.by_key_prefix(record_id[:3]) if record_id else None
            declared = (
                name
                or (record.get("attributes") or {}).get("type")
                or (target.name if target else "Record")
            )
            if record_id is None or target is None or target.name.lower() != str(declared).lower():
                results[position] = SaveResult.failure(
                    RecordError(
                        "MALFORMED_ID",
                        f"{declared} ID: id value of incorrect type: {raw_id}",
                        fields=["Id"],
                    )
                )
            else:
                groups.setdefault(target.name, []).append(position)
        if name is not None:
            self.object(name)
        return self._grouped(records, results, groups, ctx)

    def _grouped(
        self,
        records: Sequence[dict[str, Any]],
        results: list[SaveResult | None],
        groups: dict[str, list[int]],
        ctx: WriteContext,
    ) -> list[SaveResult]:
        failed_early = any(result is not None for result in results)
        try:
            with self.org.control.apex_scope(ctx.apex_limits), self.org.store.transaction():
                for object_name, positions in groups.items():
                    definition = self.object(object_name)
                    subset = [dict(records[position]) for position in positions]
                    ids = [normalise_id(record.get("Id", record.get("id"))) for record in subset]
                    for record, record_id in zip(subset, ids, strict=True):
                        record.pop("id", None)
                        record["Id"] = record_id
                    inner = dataclasses.replace(ctx)
                    for position, result in zip(
                        positions, self.run(definition, subset, ids, inner), strict=True
                    ):
                        results[position] = result
                if ctx.all_or_none and (
                    failed_early or any(r is not None and not r.success for r in results)
                ):
                    raise Rollback
        except Rollback:
            final = [r if r is not None else SaveResult(None, False) for r in results]
            return rolled_back(final)
        return [r if r is not None else SaveResult(None, False) for r in results]

    # ------------------------------------------------------------------ the pipeline

    def run(
        self,
        definition: ObjectDef,
        records: list[dict[str, Any]],
        ids: list[str | None],
        ctx: WriteContext,
        created_flags: list[bool | None] | None = None,
        known: KnownValues | None = None,
    ) -> list[SaveResult]:
        """Insert (``ids[i]`` None) or update records of one object; results by position.

        ``known``: an upsert's match, which the uniqueness check reuses where it still holds
        (see :meth:`~sf_sim.records.RecordChecker.check_unique`).
        """
        self.org.control.count_apex("dml")
        self.org.control.count_apex("dml_rows", len(records))
        with self.org.control.apex_scope(ctx.apex_limits):
            return self._run_in_scope(definition, records, ids, ctx, created_flags, known)

    def _run_in_scope(
        self,
        definition: ObjectDef,
        records: list[dict[str, Any]],
        ids: list[str | None],
        ctx: WriteContext,
        created_flags: list[bool | None] | None,
        known: KnownValues | None,
    ) -> list[SaveResult]:
        results: list[SaveResult | None] = [None] * len(records)
        excluded: set[int] = set()
        creating = [record_id is None for record_id in ids]
        errors: dict[int, RecordError] = {}
        for _attempt in range(3):
            try:
                with self.org.store.transaction():
                    errors = self._attempt(
                        definition, records, ids, creating, ctx, excluded, results, known
                    )
                    if errors:
                        raise Rollback
                break
            except Rollback:
                if ctx.all_or_none:
                    final = [r or SaveResult(None, True) for r in results]
                    for position, error in errors.items():
                        final[position] = SaveResult.failure(error)
                    return rolled_back(final)
                for position, error in errors.items():
                    results[position] = SaveResult.failure(error)
                    excluded.add(position)
        out: list[SaveResult] = []
        for position, result in enumerate(results):
            final_result = result or SaveResult(ids[position], False)
            if created_flags is not None and final_result.success:
                final_result.created = created_flags[position]
            out.append(final_result)
        return out

    def _attempt(
        self,
        definition: ObjectDef,
        records: list[dict[str, Any]],
        ids: list[str | None],
        creating: list[bool],
        ctx: WriteContext,
        excluded: set[int],
        results: list[SaveResult | None],
        known: KnownValues | None = None,
    ) -> dict[int, RecordError]:
        """One pass of the pipeline; returns errors that need a rollback (after-save ones)."""
        checker = RecordChecker(self.org, definition, system=ctx.system)
        now = format_datetime(self.org.clock.now())
        user = self.org.running_user_id
        new: dict[int, dict[str, Any]] = {}
        old: dict[int, dict[str, Any]] = {}
        existing = self._existing(
            definition, [i for p, i in enumerate(ids) if i is not None and not creating[p]]
        )
        numbers: dict[str, int] = {}  # auto-number counters, saved once for the call
        for position, record in enumerate(records):
            if position in excluded:
                continue
            try:
                if not ctx.system:
                    allowed = definition.createable if creating[position] else definition.updateable
                    if not allowed:
                        verb = "inserted" if creating[position] else "updated"
                        raise RecordError(
                            "INVALID_TYPE_FOR_OPERATION",
                            f"entity type cannot be {verb}: {definition.label}",
                        )
                    self.org.control.check_object_access(
                        definition.name, "create" if creating[position] else "edit"
                    )
                values = checker.fields_of(record, creating=creating[position], source=ctx.source)
                values.pop("Id", None)
                if creating[position]:
                    new[position] = self._defaults(definition, values, now, user, ctx, numbers)
                    ids[position] = new[position]["Id"]
                else:
                    record_id = ids[position]
                    assert record_id is not None
                    current = existing.get(record_id)
                    if current is None:
                        raise RecordError(
                            "INVALID_CROSS_REFERENCE_KEY",
                            "invalid cross reference id",
                            fields=["Id"],
                        )
                    if current.get("IsDeleted"):
                        raise RecordError("ENTITY_IS_DELETED", "entity is deleted")
                    if not ctx.system and not self.org.sharing.can_edit(definition, current):
                        raise RecordError(
                            "INSUFFICIENT_ACCESS_OR_READONLY",
                            "insufficient access rights on object id",
                        )
                    old[position] = current
                    if definition.name == "Lead" and current.get("IsConverted"):
                        raise RecordError(
                            "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead"
                        )
                    merged = {**current, **values, "LastModifiedDate": now, "SystemModstamp": now}
                    if not ctx.system or "LastModifiedById" not in values:
                        merged["LastModifiedById"] = user
                    new[position] = merged
                    self._compound_name(definition, merged)
            except RecordError as exc:
                results[position] = SaveResult.failure(exc)
                excluded.add(position)
        for key, number in numbers.items():  # before triggers, which may create more
            self.org.store.set_meta(key, number)
        order = sorted(new)
        event = "insert" if all(creating[p] for p in order) else "update"
        if ctx.triggers and order:
            for position, error in self.org.control.run_triggers(
                definition.name,
                "before",
                event,
                [new[p] for p in order],
                [old.get(p) for p in order],
            ).items():
                self._fail(order[position], error, results, excluded, ids)
        rows = [new.get(position, {}) for position in range(len(records))]
        checked = [f for f in definition.iter_fields() if f.name not in _SYSTEM_SET]
        for position in list(new):
            if position in excluded:
                continue
            try:
                row, before = new[position], old.get(position)
                for item in checked:
                    value = row.get(item.name)
                    if value is None or (before is not None and before.get(item.name) == value):
                        continue
                    if item.name == "OwnerId" and value == user:
                        continue
                    row[item.name] = check_value(item, value)
                checker.require(row)
                if not creating[position]:
                    self.org.control.check_lock(definition.name, ids[position] or "")
            except RecordError as exc:
                self._fail(position, exc, results, excluded, ids)
        pending = [{} if p in excluded else row for p, row in enumerate(rows)]
        ref_errors: dict[int, RecordError] = {}
        checker.check_references(pending, ref_errors)
        checker.check_active_users(pending, old, ref_errors)
        checker.check_unique(pending, ref_errors, lambda p: ids[p] or "", known)
        for position, error in ref_errors.items():
            self._fail(position, error, results, excluded, ids)
        live = [p for p in sorted(new) if p not in excluded]
        for position, error in campaigns.before_save(
            self.org, definition, {p: new[p] for p in live}, old
        ).items():
            self._fail(position, error, results, excluded, ids)
        live = [p for p in live if p not in excluded]
        if ctx.triggers:
            for position in live:
                broken = self.org.control.run_validation_rules(
                    definition.name, new[position], old.get(position)
                )
                if broken is not None:
                    self._fail(position, broken, results, excluded, ids)
        live = [p for p in live if p not in excluded]
        inserts = [p for p in live if creating[p]]
        storage_error = (
            self.org.control.storage_error(definition.name, len(inserts)) if inserts else None
        )
        if storage_error is not None:
            for position in inserts:
                self._fail(position, storage_error, results, excluded, ids)
            live = [p for p in live if p not in excluded]
        if ctx.all_or_none and excluded:
            return {
                p: r.errors[0]
                for p, r in enumerate(results)
                if r is not None and r.errors and p in excluded
            }
        self.org.store.insert_many(
            definition.name, [self._storage_row(definition, new[p]) for p in live if creating[p]]
        )
        for position in live:
            if not creating[position]:
                changes = self._storage_row(definition, new[position])
                changes.pop("Id", None)
                self.org.store.update(definition.name, ids[position] or "", changes)
        for position in live:
            results[position] = SaveResult(ids[position], True)
        after_errors: dict[int, RecordError] = {}
        if ctx.triggers and live:
            for index, error in self.org.control.run_triggers(
                definition.name, "after", event, [new[p] for p in live], [old.get(p) for p in live]
            ).items():
                after_errors[live[index]] = error
        campaigns.after_save(
            self.org, definition, [new[p] for p in live], [old[p] for p in live if p in old]
        )
        return after_errors

    def _fail(
        self,
        position: int,
        error: RecordError,
        results: list[SaveResult | None],
        excluded: set[int],
        ids: list[str | None],
    ) -> None:
        if position in excluded:
            return
        del ids
        results[position] = SaveResult.failure(error)
        excluded.add(position)

    def _existing(self, definition: ObjectDef, ids: list[str]) -> dict[str, dict[str, Any]]:
        rows = self.org.store.get_many(definition.name, ids)
        return {key: self.row_to_api(definition, row) for key, row in rows.items()}

    def _plan(self, definition: ObjectDef) -> _CreatePlan:
        """What creating a record of ``definition`` fills in (cached until it gains fields)."""
        key = (definition.name, len(definition.fields))
        plan = self._create_plans.get(key)
        if plan is None:
            fields = list(definition.iter_fields())
            plan = _CreatePlan(
                defaults=tuple(
                    (item.name, item.default_value)
                    for item in fields
                    if item.default_value is not None
                ),
                deleted_flag=definition.field("IsDeleted") is not None,
                audit=tuple(
                    name
                    for name in (
                        "CreatedDate",
                        "LastModifiedDate",
                        "SystemModstamp",
                        "CreatedById",
                        "LastModifiedById",
                    )
                    if definition.field(name) is not None
                ),
                owner=definition.field("OwnerId") is not None,
                numbered=tuple(
                    (item.name, item.display_format)
                    for item in fields
                    if item.auto_number and item.display_format
                ),
            )
            self._create_plans[key] = plan
        return plan

    def _defaults(
        self,
        definition: ObjectDef,
        values: dict[str, Any],
        now: str,
        user: str,
        ctx: WriteContext,
        numbers: dict[str, int],
    ) -> dict[str, Any]:
        plan = self._plan(definition)
        row: dict[str, Any] = {name: value for name, value in plan.defaults if name not in values}
        row.update(values)
        row["Id"] = self.org.ids.next(definition.key_prefix)
        if plan.deleted_flag:
            row["IsDeleted"] = False
        for name in plan.audit:
            if not ctx.system or row.get(name) is None:
                row[name] = user if name.endswith("ById") else now
        if plan.owner and row.get("OwnerId") is None:
            row["OwnerId"] = user
        for name, display in plan.numbered:
            row[name] = self._auto_number(definition, name, display, numbers)
        self._compound_name(definition, row)
        return row

    def _compound_name(self, definition: ObjectDef, row: dict[str, Any]) -> None:
        if definition.name in _COMPOUND_NAME:
            parts = [row.get("FirstName"), row.get("LastName")]
            row["Name"] = " ".join(str(part) for part in parts if part) or None

    def _auto_number(
        self, definition: ObjectDef, field_name: str, display: str, numbers: dict[str, int]
    ) -> str:
        """The next auto-number; ``numbers`` holds the call's counters until they are saved."""
        key = f"autonumber:{definition.name}.{field_name}"
        if key not in numbers:
            numbers[key] = int(self.org.store.meta(key, 0))
        numbers[key] += 1
        start, end = display.index("{"), display.index("}")
        width = end - start - 1
        return display[:start] + str(numbers[key]).zfill(width) + display[end + 1 :]

    def upsert(
        self,
        name: str,
        external_field: str,
        records: Sequence[dict[str, Any]],
        ctx: WriteContext | None = None,
    ) -> list[SaveResult]:
        """Insert or update records matched on ``external_field`` (see :mod:`sf_sim.upsert`)."""
        return upsert(self, name, external_field, records, ctx or WriteContext())
