"""Upsert by external Id (or ``Id``): match, then insert the new and update the known.

Values are matched case-insensitively among live records. A value that matches several
records fails with ``DUPLICATE_EXTERNAL_ID`` (the REST resource answers 300 before it
gets here); a value given twice in one call fails both records. Inserts and updates run
in one transaction, so ``allOrNone`` covers both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sf_sim.exceptions import RecordError, SalesforceApiError
from sf_sim.records import KnownValues, SaveResult, normalise_id
from sf_sim.schema import FieldDef, ObjectDef
from sf_sim.store import quote
from sf_sim.writes import Rollback, WriteContext, rolled_back

if TYPE_CHECKING:
    from sf_sim.dml import Dml
    from sf_sim.models import Org

__all__ = ["external_id_field", "upsert"]


def external_id_field(org: Org, definition: ObjectDef, name: str) -> FieldDef:
    """The field an upsert or external-Id lookup matches on.

    Raises:
        SalesforceApiError: NOT_FOUND (404) for an unknown or hidden field, INVALID_FIELD
            (400) for a field that is neither an external Id nor ``Id``.
    """
    key = definition.field(name)
    if key is None or not org.control.field_visible(definition.name, key.name):
        raise SalesforceApiError(
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {name}",
            404,
        )
    if not (key.external_id or key.name == "Id"):
        raise SalesforceApiError(
            "INVALID_FIELD",
            f"Field {key.name} is not an External ID or indexed field for {definition.name}",
            400,
            [key.name],
        )
    return key


def upsert(
    dml: Dml,
    name: str,
    external_field: str,
    records: Sequence[dict[str, Any]],
    ctx: WriteContext,
) -> list[SaveResult]:
    """Insert or update records matched on ``external_field`` (an external Id or ``Id``).

    Raises:
        SalesforceApiError: If the field does not exist or is not an external Id.
    """
    definition = dml.object(name)
    key = external_id_field(dml.org, definition, external_field)
    results: list[SaveResult | None] = [None] * len(records)
    key_lower = key.name.lower()
    # The records of one call mostly share their keys in the same order (a CSV header):
    # which key is the match's (the first spelled like the field), and which are kept for
    # an insert and for an update, are worked out once per such shape.
    shapes: dict[tuple[str, ...], tuple[str | None, tuple[str, ...], tuple[str, ...]]] = {}

    def shape_of(record: dict[str, Any]) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
        names = tuple(record)
        found = shapes.get(names)
        if found is None:
            pairs = [(name, name.lower()) for name in names]
            found = shapes[names] = (
                next((name for name, low in pairs if low == key_lower), None),
                tuple(name for name, low in pairs if low != "id"),
                tuple(name for name, low in pairs if low not in ("id", key_lower)),
            )
        return found

    values: list[Any] = []
    for record in records:
        first = shape_of(record)[0]
        raw = None if first is None else record[first]
        values.append(raw if raw not in ("", None) else None)
    store = dml.org.store
    # Inside a write transaction (a Bulk API batch) no other process can write: while no
    # record changes, the match's answer is the uniqueness check's answer for this field.
    held = store.conn.in_transaction and key.name != "Id"
    changes = store.data_changes()
    matches = _match(dml, definition, key.name, values)
    known = (
        KnownValues(
            field=key.name,
            queried=frozenset(str(value) for value in values if value is not None),
            found=matches,
            changes=changes,
        )
        if held and store.data_changes() == changes
        else None
    )
    counts: dict[str, int] = {}
    for value in values:
        if value is not None:
            counts[str(value).lower()] = counts.get(str(value).lower(), 0) + 1
    inserts: list[int] = []
    updates: list[int] = []
    update_ids: list[str | None] = []
    for position, value in enumerate(values):
        if value is None:
            if key.name == "Id":
                inserts.append(position)
                continue
            results[position] = SaveResult.failure(
                RecordError("MISSING_ARGUMENT", f"{key.name} not specified", fields=[key.name])
            )
        elif counts[str(value).lower()] > 1:
            results[position] = SaveResult.failure(
                RecordError(
                    "DUPLICATE_EXTERNAL_ID",
                    f"Duplicate external id specified: {value}",
                    fields=[key.name],
                )
            )
        elif len(matches.get(str(value).lower(), [])) > 1:
            found = matches[str(value).lower()]
            results[position] = SaveResult.failure(
                RecordError(
                    "DUPLICATE_EXTERNAL_ID",
                    f"More than 1 record found for an external ID field: [{', '.join(found)}]",
                    fields=[key.name],
                )
            )
        elif matches.get(str(value).lower()):
            updates.append(position)
            update_ids.append(matches[str(value).lower()][0])
        elif key.name == "Id":
            results[position] = SaveResult.failure(
                RecordError(
                    "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=["Id"]
                )
            )
        else:
            inserts.append(position)
    control = dml.org.control
    outermost = control.apex is None
    limit: RecordError | None = None
    try:
        # One API call is one Apex transaction: the inserts and the updates share its limits.
        with control.apex_scope(ctx.apex_limits), dml.org.store.transaction():
            if inserts:
                payload = [{k: records[p][k] for k in shape_of(records[p])[1]} for p in inserts]
                for position, result in zip(
                    inserts,
                    dml.run(
                        definition,
                        payload,
                        [None] * len(inserts),
                        ctx,
                        [True] * len(inserts),
                        known,
                    ),
                    strict=True,
                ):
                    results[position] = result
            if updates:
                payload = [{k: records[p][k] for k in shape_of(records[p])[2]} for p in updates]
                ran = dml.run(
                    definition, payload, list(update_ids), ctx, [False] * len(updates), known
                )
                for position, result in zip(updates, ran, strict=True):
                    results[position] = result
            if ctx.all_or_none and any(r is None or not r.success for r in results):
                raise Rollback
            limit = _limit_failure(results) if outermost else None
            if limit is not None:
                raise Rollback
    except Rollback:
        if limit is not None:  # an uncatchable LimitException ends the whole transaction
            return [
                r if r is not None and not r.success else SaveResult.failure(limit) for r in results
            ]
        return rolled_back([r or SaveResult(None, False) for r in results])
    return [r or SaveResult(None, False) for r in results]


def _limit_failure(results: list[SaveResult | None]) -> RecordError | None:
    """The error of a record a governor limit failed, if one did (it fails every record)."""
    for result in results:
        if result is not None and result.errors:
            error = result.errors[0]
            if "System.LimitException" in error.message:
                return error
    return None


def _match(
    dml: Dml, definition: ObjectDef, field_name: str, values: list[Any]
) -> dict[str, list[str]]:
    item = definition.field(field_name)
    assert item is not None
    wanted = []
    for value in values:
        if value is None:
            continue
        if field_name == "Id":
            normal = normalise_id(value)
            if normal is not None:
                wanted.append(normal)
        else:
            wanted.append(str(value))
    found: dict[str, list[str]] = {}
    column = quote(item.name)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        sql = f"SELECT Id, {column} AS v FROM {quote(definition.name)} WHERE +IsDeleted = 0 AND {column} IN ({marks})"
        for record_id, value in dml.org.store.conn.execute(sql, chunk):
            found.setdefault(str(value).lower(), []).append(record_id)
    if field_name == "Id":
        return {
            str(value).lower(): found.get((normalise_id(value) or "").lower(), [])
            for value in values
            if value is not None
        }
    return found
