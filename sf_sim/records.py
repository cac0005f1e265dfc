"""Per-record results and the field checks every write shares.

:class:`SaveResult` is what DML returns for each input record, in input order, and
renders the per-record JSON of collections, composite and Bulk API results.
:class:`RecordChecker` turns one incoming record into validated API values: unknown
and hidden fields, read-only fields, types, lengths, e-mails, picklists, references,
required fields and uniqueness, each with the platform's code and message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sf_sim.exceptions import RecordError
from sf_sim.ids import is_valid_id, to_18
from sf_sim.schema import FieldDef, ObjectDef, to_storage
from sf_sim.store import quote
from sf_sim.values import CSV_TYPED, Source, check_value, coerce_value

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = [
    "ROLLED_BACK",
    "KnownValues",
    "RecordChecker",
    "SaveResult",
    "no_such_column",
    "normalise_id",
]

ROLLED_BACK = (
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)
_SYSTEM_WRITABLE = {"id", "isdeleted"}


@dataclass
class SaveResult:
    """The outcome of one record of a DML call.

    Attributes:
        id: The record's 18-character Id (None when it was never created).
        success: Whether the record was saved.
        errors: The record's errors, first one first.
        created: For upserts, whether the record was inserted.
    """

    id: str | None
    success: bool
    errors: list[RecordError] = field(default_factory=list)
    created: bool | None = None

    @classmethod
    def failure(cls, error: RecordError, record_id: str | None = None) -> SaveResult:
        """A failed result carrying one error."""
        return cls(id=record_id, success=False, errors=[error])

    def to_api(self) -> dict[str, Any]:
        """The result as collections and composite render it."""
        body: dict[str, Any] = {} if self.id is None else {"id": self.id}
        body["success"] = self.success
        body["errors"] = [error.to_record_error() for error in self.errors]
        if self.created is not None:
            body["created"] = self.created
        return body


@dataclass(frozen=True)
class KnownValues:
    """What an upsert's match read of one field's values, for the uniqueness check to reuse.

    Attributes:
        field: The field matched on.
        queried: The exact values the match looked up.
        found: Live records by lower-cased value, as the match found them.
        changes: :meth:`~sf_sim.store.Store.data_changes` when the match read them (inside
            a write transaction).
    """

    field: str
    queried: frozenset[str]
    found: dict[str, list[str]]
    changes: int


def no_such_column(definition: ObjectDef, name: str) -> RecordError:
    """The INVALID_FIELD error DML gives for a field the object lacks (or hides)."""
    return RecordError(
        "INVALID_FIELD",
        f"No such column '{name}' on sobject of type {definition.name}",
        fields=[name],
    )


def _not_writable(names: Iterable[str]) -> RecordError:
    listed = ", ".join(names)
    return RecordError(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        f"Unable to create/update fields: {listed}. Please check the security settings of this "
        "field and verify that it is read/write for your profile or permission set.",
        fields=list(names),
    )


class RecordChecker:
    """Validates incoming records of one object against the schema and the org's data.

    Args:
        org: The org (schema, store, field-level security).
        definition: The object being written.
        system: System context: read-only fields and field-level security do not apply.
    """

    def __init__(self, org: Org, definition: ObjectDef, *, system: bool = False) -> None:
        self.org = org
        self.definition = definition
        self.system = system
        # A batch's records carry the same field names: resolve each name once per checker.
        self._names: dict[tuple[str, bool], tuple[FieldDef | None, bool, bool]] = {}
        self._required: list[str] | None = None  # required field names, once per checker

    def _resolve(self, raw_name: str, creating: bool) -> tuple[FieldDef | None, bool, bool]:
        """``(field, visible, writable)`` of a field name as a record gives it."""
        found = self._names.get((raw_name, creating))
        if found is None:
            definition = self.definition.field(raw_name)
            visible = self.system or self.org.control.field_visible(self.definition.name, raw_name)
            writable = (
                self.system
                or definition is None
                or definition.name == "Id"
                or self._writable(definition, creating)
            )
            found = self._names[(raw_name, creating)] = (definition, visible, writable)
        return found

    def fields_of(
        self, record: dict[str, Any], *, creating: bool, source: Source
    ) -> dict[str, Any]:
        """Resolve and coerce the record's fields (no ``attributes``; ``Id`` kept on update).

        Returns:
            Canonical field name → coerced API value.

        Raises:
            RecordError: For unknown, hidden or read-only fields and CSV type errors.
            SalesforceApiError: ``JSON_PARSER_ERROR`` for JSON values of the wrong type.
        """
        values: dict[str, Any] = {}
        blocked: list[str] = []
        for raw_name, raw_value in record.items():
            if raw_name == "attributes":
                continue
            definition, visible, writable = self._resolve(raw_name, creating)
            if definition is None or not visible:
                raise no_such_column(self.definition, raw_name)
            if definition.name == "Id":
                if creating:
                    raise RecordError(
                        "INVALID_FIELD_FOR_INSERT_UPDATE",
                        "Record ID: cannot specify Id in an insert call",
                        fields=["Id"],
                    )
                values["Id"] = raw_value
                continue
            if source == "csv" and raw_value == "":
                continue
            if source == "csv" and raw_value == "#N/A":
                raw_value = None
            if not writable:
                blocked.append(definition.name)
                continue
            if source == "csv" and type(raw_value) is str and definition.type not in CSV_TYPED:
                values[definition.name] = raw_value  # what coerce_value gives: the text itself
            else:
                values[definition.name] = coerce_value(definition, raw_value, source)
        if blocked:
            raise _not_writable(blocked)
        return values

    def _writable(self, definition: FieldDef, creating: bool) -> bool:
        allowed = definition.createable if creating else definition.updateable
        if not allowed:
            return False
        return self.org.control.field_writable(self.definition.name, definition.name)

    def check(self, values: dict[str, Any]) -> dict[str, Any]:
        """Apply per-field rules; return the values normalised.

        Raises:
            RecordError: The first rule broken.
        """
        checked: dict[str, Any] = {}
        for name, value in values.items():
            if name == "Id":
                checked[name] = value
                continue
            definition = self.definition.field(name)
            assert definition is not None
            checked[name] = check_value(definition, value)
        return checked

    def require(self, row: dict[str, Any]) -> None:
        """Raise ``REQUIRED_FIELD_MISSING`` if a required field of the final row is empty."""
        if self._required is None:
            self._required = [item.name for item in self.definition.iter_fields() if item.required]
        missing = [name for name in self._required if row.get(name) is None or row.get(name) == ""]
        if missing:
            raise RecordError(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                fields=missing,
            )

    def check_references(self, rows: list[dict[str, Any]], errors: dict[int, RecordError]) -> None:
        """Check that every lookup value names a live record of an allowed object.

        Args:
            rows: Final API values per record, by position.
            errors: Position → error; records already failing are skipped, new failures added.
        """
        references = [
            item
            for item in self.definition.iter_fields()
            if item.is_reference and item.name not in ("CreatedById", "LastModifiedById")
        ]
        known = {self.org.running_user_id}
        wanted: dict[str, set[str]] = {}
        for position, row in enumerate(rows):
            if position in errors:
                continue
            for item in references:
                value = row.get(item.name)
                if value is None or value in known:
                    continue
                target = self.org.schema.by_key_prefix(value[:3])
                if target is None or target.name not in item.reference_to:
                    errors[position] = RecordError(
                        "FIELD_INTEGRITY_EXCEPTION",
                        f"{item.label}: id value of incorrect type: {value}",
                        fields=[item.name],
                    )
                    break
                wanted.setdefault(target.name, set()).add(value)
        states: dict[str, int] = dict.fromkeys(known, 0)
        for table, ids in wanted.items():
            states.update(self.org.store.deleted_flags(table, sorted(ids)))
        for position, row in enumerate(rows):
            if position in errors:
                continue
            for item in references:
                value = row.get(item.name)
                if value is None:
                    continue
                if value not in states:
                    errors[position] = RecordError(
                        "INVALID_CROSS_REFERENCE_KEY",
                        "invalid cross reference id",
                        fields=[item.name],
                    )
                    break
                if states[value]:
                    errors[position] = RecordError(
                        "ENTITY_IS_DELETED", "entity is deleted", fields=[item.name]
                    )
                    break

    def check_active_users(
        self,
        rows: list[dict[str, Any]],
        olds: dict[int, dict[str, Any]],
        errors: dict[int, RecordError],
    ) -> None:
        """Refuse setting an owner or another user lookup to a deactivated user.

        As on the platform, only values being set are checked (a record already owned by
        a user who was deactivated later stays valid until its owner changes).

        Args:
            rows: Final API values per record, by position.
            olds: The records before an update, by position (absent for inserts).
            errors: Position → error; new failures are added.
        """
        lookups = [
            item
            for item in self.definition.iter_fields()
            if item.is_reference
            and "User" in item.reference_to
            and item.name not in ("CreatedById", "LastModifiedById")
        ]
        if not lookups:
            return
        setting: dict[int, list[tuple[str, str]]] = {}
        for position, row in enumerate(rows):
            if position in errors:
                continue
            before = olds.get(position)
            for item in lookups:
                value = row.get(item.name)
                if not value or not str(value).startswith("005"):
                    continue
                if before is not None and before.get(item.name) == value:
                    continue
                setting.setdefault(position, []).append((item.name, str(value)))
        users = {v for pairs in setting.values() for _, v in pairs}
        inactive = {
            user_id
            for user_id, row in self.org.store.get_many("User", sorted(users)).items()
            if not row.get("IsActive")
        }
        for position, pairs in setting.items():
            bad = [name for name, value in pairs if value in inactive]
            if bad:
                errors[position] = RecordError(
                    "INACTIVE_OWNER_OR_USER", "operation performed with inactive User", fields=bad
                )

    def check_unique(
        self,
        rows: list[dict[str, Any]],
        errors: dict[int, RecordError],
        ids: Callable[[int], str],
        known: KnownValues | None = None,
    ) -> None:
        """Fail records whose unique or external-Id values clash with live rows or each other.

        Args:
            rows: Final API values per record, by position.
            errors: Position → error; new failures are added.
            ids: Position → the record's Id (existing or about to be assigned).
            known: An upsert's match of one field. A value it looked up, for which it found
                no live record or only the record itself, needs no second look when no
                record changed since (the live records that could clash are a subset of
                those it found); any other value is looked up.
        """
        table = quote(self.definition.name)
        for item in self.definition.iter_fields():
            if not (item.unique or item.external_id) or item.name == "Id":
                continue
            reuse = (
                known
                if known is not None
                and known.field == item.name
                and known.changes == self.org.store.data_changes()
                else None
            )
            seen: dict[str, str] = {}
            values: dict[int, Any] = {}
            for position, row in enumerate(rows):
                value = row.get(item.name)
                if position in errors or value is None or value == "":
                    continue
                key = str(value) if item.case_sensitive else str(value).lower()
                if key in seen:
                    errors[position] = _duplicate(item, seen[key])
                    continue
                seen[key] = ids(position)
                stored = to_storage(item, value)
                if (
                    reuse is not None
                    and isinstance(stored, str)
                    and stored in reuse.queried
                    and reuse.found.get(stored.lower(), []) in ([], [ids(position)])
                ):
                    continue
                values[position] = stored
            column = quote(item.name)
            collate = " COLLATE BINARY" if item.case_sensitive else ""
            distinct = list({value for value in values.values()})
            owners: dict[str, list[str]] = {}
            for start in range(0, len(distinct), 500):
                chunk = distinct[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                sql = (
                    f"SELECT Id, {column} AS v FROM {table} WHERE +IsDeleted = 0 AND "
                    f"{column}{collate} IN ({marks})"
                )
                for found in self.org.store.select(sql, chunk):
                    key = str(found["v"]) if item.case_sensitive else str(found["v"]).lower()
                    owners.setdefault(key, []).append(found["Id"])
            for position, value in values.items():
                key = str(value) if item.case_sensitive else str(value).lower()
                others = [other for other in owners.get(key, []) if other != ids(position)]
                if others:
                    errors[position] = _duplicate(item, others[0])


def _duplicate(definition: FieldDef, other: str) -> RecordError:
    return RecordError(
        "DUPLICATE_VALUE",
        f"duplicate value found: {definition.name} duplicates value on record with id: {other}",
        fields=[definition.name],
    )


def normalise_id(value: Any) -> str | None:
    """The 18-character form of an Id-looking value, or None if it is not one."""
    if not isinstance(value, str) or not is_valid_id(value):
        return None
    return to_18(value)
