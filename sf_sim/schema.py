"""The org's schema: objects, fields and relationships, and how their values are stored.

This module is the contract between the parts of sf_sim. The standard-object catalogue
(:mod:`sf_sim.standard_objects`) and the metadata loader (:mod:`sf_sim.metadata`) build
:class:`ObjectDef` values; the org store creates one SQLite table per object from them;
the SOQL engine (:mod:`sf_sim.soql`) resolves names against them and translates queries
to SQL over those tables; the REST facade renders ``describe`` from them.

Storage convention (one SQLite database per org):

- one table per object, named by the object's canonical API name (``Contact``,
  ``CMSF_List__c``); one column per field, named by the field's canonical API name;
  ``Id`` is the primary key and always holds the 18-character form;
- every table has ``IsDeleted`` (0/1): the recycle bin is rows with ``IsDeleted = 1``;
- values are stored as :func:`to_storage` returns them: text types as TEXT; booleans as
  INTEGER 0/1; ``int`` as INTEGER; ``double``/``currency``/``percent`` as REAL; ``date`` as
  ``YYYY-MM-DD``; ``datetime`` as the API's own UTC form ``YYYY-MM-DDTHH:MM:SS.mmm+0000``
  (fixed width, so text order is time order); multi-select picklists as ``a;b``;
  ``NULL`` for no value.

Names are case-insensitive everywhere on the platform; lookups here are too, and every
``ObjectDef``/``FieldDef`` keeps the canonical spelling for output.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

__all__ = [
    "BOOLEAN_TYPES",
    "DATE_TYPES",
    "NUMBER_TYPES",
    "TEXT_TYPES",
    "ChildRelationship",
    "FieldDef",
    "ObjectDef",
    "Schema",
    "format_datetime",
    "from_storage",
    "parse_datetime",
    "to_storage",
]

TEXT_TYPES = frozenset(
    {
        "id",
        "reference",
        "string",
        "textarea",
        "email",
        "phone",
        "url",
        "picklist",
        "multipicklist",
        "combobox",
        "encryptedstring",
    }
)
"""Describe types stored as TEXT."""

NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})
"""Describe types stored as numbers (``int`` as INTEGER, the rest as REAL)."""

BOOLEAN_TYPES = frozenset({"boolean"})
"""Describe types stored as INTEGER 0/1."""

DATE_TYPES = frozenset({"date", "datetime"})
"""Describe types stored as fixed-width ISO text."""


@dataclass(frozen=True)
class FieldDef:
    """One field of an object, with the attributes ``describe`` reports and DML enforces.

    Attributes:
        name: Canonical API name (``Email``, ``List__c``).
        type: Salesforce describe type: ``id``, ``reference``, ``string``, ``textarea``,
            ``email``, ``phone``, ``url``, ``picklist``, ``multipicklist``, ``combobox``,
            ``boolean``, ``int``, ``double``, ``currency``, ``percent``, ``date``, ``datetime``.
        label: Label shown in describe.
        length: Maximum characters for text types (0 when not a text type).
        precision: Total digits for numbers.
        scale: Digits after the decimal point for numbers.
        nillable: May hold null.
        required: Must be given on create (not nillable, createable, no default).
        unique: Values must be unique in the object.
        case_sensitive: Uniqueness compares case-sensitively.
        external_id: Usable as the key of an upsert.
        picklist_values: Allowed values for picklists, in order.
        restricted_picklist: Values outside ``picklist_values`` are rejected.
        default_value: Value given on create when none is supplied.
        reference_to: Objects a ``reference`` field may point to (several = polymorphic).
        relationship_name: Name of the parent relationship, used in parent paths from
            the child (``Owner``, ``List__r``).
        child_relationship_name: Name of the matching child relationship on the parent,
            used in child subqueries (``Contacts``, ``Members__r``); None if the parent
            exposes none.
        createable: Writable on create.
        updateable: Writable on update.
        custom: A custom field (``__c``).
        formula: Formula text for calculated fields (read-only).
        auto_number: The value is generated on create from ``display_format`` (read-only).
        display_format: Auto-number pattern such as ``L-{0000}``.
        cascade_delete: Deleting the parent deletes this record too (master-detail).
        restrict_delete: A lookup with ``deleteConstraint`` Restrict: a parent this record
            points at cannot be deleted (other lookups are cleared, ``SetNull``).
    """

    name: str
    type: str
    label: str = ""
    length: int = 0
    precision: int = 0
    scale: int = 0
    nillable: bool = True
    required: bool = False
    unique: bool = False
    case_sensitive: bool = False
    external_id: bool = False
    picklist_values: tuple[str, ...] = ()
    restricted_picklist: bool = False
    default_value: Any = None
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    child_relationship_name: str | None = None
    createable: bool = True
    updateable: bool = True
    custom: bool = False
    formula: str | None = None
    auto_number: bool = False
    display_format: str | None = None
    cascade_delete: bool = False
    restrict_delete: bool = False

    @property
    def sql_type(self) -> str:
        """The SQLite column type this field is stored in."""
        if self.type in BOOLEAN_TYPES or self.type == "int":
            return "INTEGER"
        if self.type in NUMBER_TYPES:
            return "REAL"
        return "TEXT"

    @property
    def is_reference(self) -> bool:
        """True for lookups and master-detail fields (and ``OwnerId``)."""
        return self.type == "reference"


@dataclass(frozen=True)
class ChildRelationship:
    """A parent-to-child relationship, as used by child subqueries.

    Attributes:
        name: Plural relationship name used in SOQL (``Contacts``, ``CampaignMembers``).
        child_object: API name of the child object.
        field: Reference field on the child that points at the parent.
    """

    name: str
    child_object: str
    field: str


@dataclass
class ObjectDef:
    """One sObject type: its fields, key prefix and relationships.

    Attributes:
        name: Canonical API name.
        label: Singular label.
        label_plural: Plural label.
        key_prefix: Three-character Id prefix (``003`` for Contact).
        fields: Fields keyed by lower-cased API name.
        child_relationships: Relationships from this object to its children, keyed by
            lower-cased relationship name; filled in by :meth:`Schema.add`.
        custom: A custom object (``__c``).
        custom_setting: A custom setting rather than a custom object.
        createable: Records may be created through the API.
        updateable: Records may be updated through the API.
        deletable: Records may be deleted through the API.
        queryable: The object may be queried.
        name_field: API name of the field ``Name`` resolves to, if any.
    """

    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: dict[str, FieldDef] = field(default_factory=dict)
    child_relationships: dict[str, ChildRelationship] = field(default_factory=dict)
    custom: bool = False
    custom_setting: bool = False
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    queryable: bool = True
    name_field: str | None = "Name"

    def add_field(self, definition: FieldDef) -> None:
        """Add or replace a field."""
        self.fields[definition.name.lower()] = definition

    def field(self, name: str) -> FieldDef | None:
        """Look a field up by API name, case-insensitively."""
        return self.fields.get(name.lower())

    def parent_relationship(self, name: str) -> FieldDef | None:
        """Find the reference field whose relationship is called ``name`` (``Owner``)."""
        wanted = name.lower()
        for definition in self.fields.values():
            if definition.relationship_name and definition.relationship_name.lower() == wanted:
                return definition
        return None

    def child_relationship(self, name: str) -> ChildRelationship | None:
        """Find a child relationship by its plural name, case-insensitively."""
        return self.child_relationships.get(name.lower())

    def iter_fields(self) -> Iterator[FieldDef]:
        """Fields in a stable order: ``Id`` first, then as defined."""
        return iter(self.fields.values())


class Schema:
    """All objects of an org, looked up case-insensitively."""

    def __init__(self, objects: Iterable[ObjectDef] = ()) -> None:
        self._objects: dict[str, ObjectDef] = {}
        self._prefixes: dict[str, ObjectDef] | None = None  # by_key_prefix's index
        for definition in objects:
            self.add(definition)

    def add(self, definition: ObjectDef) -> None:
        """Add or replace an object and wire up child relationships in both directions.

        Each reference field with a ``child_relationship_name`` becomes a
        :class:`ChildRelationship` on every parent it points to, whichever of the two
        objects is added first.
        """
        self._objects[definition.name.lower()] = definition
        self._prefixes = None
        for other in self._objects.values():
            self._link_children(other)

    def _link_children(self, child: ObjectDef) -> None:
        for definition in child.iter_fields():
            if not definition.is_reference or not definition.child_relationship_name:
                continue
            for parent_name in definition.reference_to:
                parent = self.object(parent_name)
                if parent is None:
                    continue
                parent.child_relationships[definition.child_relationship_name.lower()] = (
                    ChildRelationship(
                        name=definition.child_relationship_name,
                        child_object=child.name,
                        field=definition.name,
                    )
                )

    def remove(self, name: str) -> None:
        """Remove an object and the child relationships other objects had to it."""
        self._objects.pop(name.lower(), None)
        self._prefixes = None
        for other in self._objects.values():
            for key, relationship in list(other.child_relationships.items()):
                if relationship.child_object.lower() == name.lower():
                    del other.child_relationships[key]

    def object(self, name: str) -> ObjectDef | None:
        """Look an object up by API name, case-insensitively."""
        return self._objects.get(name.lower())

    def by_key_prefix(self, prefix: str) -> ObjectDef | None:
        """Find the object whose Ids start with ``prefix`` (the first added, if several do).

        Every reference value of every record written asks this: an index by prefix,
        rebuilt when objects are added or removed, instead of a pass over every object.
        """
        if self._prefixes is None:
            self._prefixes = {}
            for definition in self._objects.values():
                self._prefixes.setdefault(definition.key_prefix, definition)
        found = self._prefixes.get(prefix)
        if found is not None and found.key_prefix == prefix:
            return found
        for definition in self._objects.values():  # a prefix changed since: look again
            if definition.key_prefix == prefix:
                self._prefixes = None
                return definition
        return None

    def __iter__(self) -> Iterator[ObjectDef]:
        return iter(self._objects.values())

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._objects


# --------------------------------------------------------------------------- values


def format_datetime(value: datetime) -> str:
    """Render an aware datetime the way the API does: ``2024-01-15T10:00:00.000+0000``."""
    if value.tzinfo is None:
        raise ValueError("datetimes must be aware")
    utc = value.astimezone(UTC)
    # isoformat is twice as fast as strftime (this runs per datetime value written).
    return utc.isoformat(timespec="milliseconds")[:23] + "+0000"


def parse_datetime(text: str) -> datetime:
    """Parse the datetime forms the API accepts (``Z``, ``+01:00``, ``+0100``, millis).

    Raises:
        ValueError: If the text is not a datetime with a zone.
    """
    candidate = text.strip()
    if candidate.endswith("Z"):
        candidate = candidate[:-1] + "+00:00"
    elif len(candidate) > 5 and candidate[-5] in "+-" and candidate[-3] != ":":
        candidate = candidate[:-2] + ":" + candidate[-2:]
    parsed = datetime.fromisoformat(candidate)
    if parsed.tzinfo is None:
        raise ValueError(f"datetime without a time zone: {text!r}")
    return parsed.astimezone(UTC)


def to_storage(definition: FieldDef, value: Any) -> Any:
    """Convert an already validated API value to what the SQLite column holds."""
    if value is None:
        return None
    if definition.type in BOOLEAN_TYPES:
        return 1 if value else 0
    if definition.type == "int":
        return int(value)
    if definition.type in NUMBER_TYPES:
        return float(value)
    if definition.type == "datetime":
        if isinstance(value, datetime):
            return format_datetime(value)
        return format_datetime(parse_datetime(str(value)))
    if definition.type == "date":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return date.fromisoformat(str(value)[:10]).isoformat()
    return str(value)


def from_storage(definition: FieldDef, value: Any) -> Any:
    """Convert a SQLite column value back to the JSON value the API returns."""
    if value is None:
        return None
    if definition.type in BOOLEAN_TYPES:
        return bool(value)
    if definition.type == "int":
        return int(value)
    if definition.type in NUMBER_TYPES:
        return float(value)
    return value
