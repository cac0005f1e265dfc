"""Small builders for field and object definitions, shared by the object catalogues.

The standard-object catalogue (:mod:`sf_sim.standard_objects`,
:mod:`sf_sim.platform_objects`) and the metadata loader (:mod:`sf_sim.metadata`) use
these so that every object gets the same system fields (``Id``, ``IsDeleted``, audit
fields, ``OwnerId``) with the attributes describe reports on a real org.
"""

from __future__ import annotations

import re
from typing import Any

from sf_sim.schema import FieldDef, ObjectDef

__all__ = [
    "audit_fields",
    "boolean",
    "date_field",
    "datetime_field",
    "email",
    "id_field",
    "label_for",
    "make_object",
    "number",
    "owner_field",
    "phone",
    "picklist",
    "readonly",
    "reference",
    "text",
    "textarea",
    "url",
]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def label_for(name: str) -> str:
    """Derive a describe label from an API name (``LastModifiedDate`` → ``Last Modified Date``)."""
    base = name[:-3] if name.endswith("__c") else name
    if base.endswith("Id") and len(base) > 2:
        base = base[:-2] + " ID"
    return _CAMEL.sub(" ", base).replace("_", " ").strip()


def _field(name: str, type_: str, **attrs: Any) -> FieldDef:
    attrs.setdefault("label", label_for(name))
    return FieldDef(name=name, type=type_, **attrs)


def text(name: str, length: int = 255, **attrs: Any) -> FieldDef:
    """A ``string`` field of ``length`` characters."""
    return _field(name, "string", length=length, **attrs)


def textarea(name: str, length: int = 255, **attrs: Any) -> FieldDef:
    """A ``textarea`` field (long text areas are textareas with a bigger length)."""
    return _field(name, "textarea", length=length, **attrs)


def email(name: str = "Email", length: int = 80, **attrs: Any) -> FieldDef:
    """An ``email`` field (80 characters on standard objects)."""
    return _field(name, "email", length=length, **attrs)


def phone(name: str, **attrs: Any) -> FieldDef:
    """A ``phone`` field (40 characters)."""
    return _field(name, "phone", length=40, **attrs)


def url(name: str, length: int = 255, **attrs: Any) -> FieldDef:
    """A ``url`` field."""
    return _field(name, "url", length=length, **attrs)


def boolean(name: str, default: bool = False, **attrs: Any) -> FieldDef:
    """A ``boolean`` field; never nillable, defaulted on create."""
    return _field(name, "boolean", nillable=False, default_value=default, **attrs)


def number(
    name: str, type_: str = "double", precision: int = 18, scale: int = 0, **attrs: Any
) -> FieldDef:
    """A numeric field: ``int``, ``double``, ``currency`` or ``percent``."""
    return _field(name, type_, precision=precision, scale=scale, **attrs)


def date_field(name: str, **attrs: Any) -> FieldDef:
    """A ``date`` field."""
    return _field(name, "date", **attrs)


def datetime_field(name: str, **attrs: Any) -> FieldDef:
    """A ``datetime`` field."""
    return _field(name, "datetime", **attrs)


def picklist(
    name: str,
    values: tuple[str, ...] | list[str],
    *,
    restricted: bool = False,
    multi: bool = False,
    length: int = 255,
    **attrs: Any,
) -> FieldDef:
    """A ``picklist`` (or ``multipicklist``) field with its values in order."""
    return _field(
        name,
        "multipicklist" if multi else "picklist",
        length=4099 if multi else length,
        picklist_values=tuple(values),
        restricted_picklist=restricted,
        **attrs,
    )


def reference(
    name: str,
    to: str | tuple[str, ...],
    relationship: str | None,
    child: str | None = None,
    **attrs: Any,
) -> FieldDef:
    """A lookup: 18-character ``reference`` field pointing at one or more objects.

    Args:
        name: Field API name (``AccountId``).
        to: Parent object(s); several make the lookup polymorphic.
        relationship: Parent relationship name used from the child (``Account``).
        child: Child relationship name exposed on the parent (``Contacts``).
        **attrs: Further :class:`FieldDef` attributes.
    """
    targets = (to,) if isinstance(to, str) else tuple(to)
    return _field(
        name,
        "reference",
        length=18,
        reference_to=targets,
        relationship_name=relationship,
        child_relationship_name=child,
        **attrs,
    )


def readonly(definition: FieldDef) -> FieldDef:
    """The same field, neither createable nor updateable."""
    attrs = dict(definition.__dict__)
    attrs.update(createable=False, updateable=False, required=False)
    return FieldDef(**attrs)


def id_field() -> FieldDef:
    """The ``Id`` field every object has."""
    return FieldDef(
        name="Id",
        type="id",
        label="Record ID",
        length=18,
        nillable=False,
        createable=False,
        updateable=False,
    )


def owner_field(to: tuple[str, ...] = ("User",), child: str | None = None) -> FieldDef:
    """``OwnerId``: defaults to the running user; ``Group`` in ``to`` makes it polymorphic."""
    return reference("OwnerId", to, "Owner", child, label="Owner ID", nillable=False)


def audit_fields(*, last_modified: bool = True) -> list[FieldDef]:
    """``CreatedDate``/``CreatedById``, ``LastModified*`` and ``SystemModstamp``, read-only."""
    fields = [
        readonly(datetime_field("CreatedDate", nillable=False)),
        readonly(reference("CreatedById", "User", "CreatedBy", nillable=False)),
    ]
    if last_modified:
        fields += [
            readonly(datetime_field("LastModifiedDate", nillable=False)),
            readonly(reference("LastModifiedById", "User", "LastModifiedBy", nillable=False)),
        ]
    fields.append(readonly(datetime_field("SystemModstamp", nillable=False)))
    return fields


def make_object(
    name: str,
    key_prefix: str,
    fields: list[FieldDef],
    *,
    label: str | None = None,
    label_plural: str | None = None,
    deletable_rows: bool = True,
    audit: bool = True,
    last_modified: bool = True,
    **attrs: Any,
) -> ObjectDef:
    """Build an object with ``Id``, optional ``IsDeleted`` and audit fields around ``fields``.

    Args:
        name: Object API name.
        key_prefix: Three-character Id prefix.
        fields: The object's own fields, in describe order.
        label: Singular label (derived from the name if omitted).
        label_plural: Plural label (label + ``s`` if omitted).
        deletable_rows: Whether the object has ``IsDeleted`` (a recycle bin).
        audit: Whether to add the audit fields.
        last_modified: Whether the audit fields include ``LastModified*``.
        **attrs: Further :class:`ObjectDef` attributes.
    """
    singular = label or label_for(name)
    definition = ObjectDef(
        name=name,
        label=singular,
        label_plural=label_plural or singular + "s",
        key_prefix=key_prefix,
        **attrs,
    )
    definition.add_field(id_field())
    if deletable_rows:
        definition.add_field(readonly(boolean("IsDeleted", label="Deleted")))
    for item in fields:
        definition.add_field(item)
    if audit:
        for item in audit_fields(last_modified=last_modified):
            definition.add_field(item)
    return definition
