"""Load custom objects and fields from Salesforce DX source-format metadata.

The same files that ``sf project deploy`` sends to a real org define the simulator's
schema, so there is one source of truth::

    objects/CMSF_List__c/CMSF_List__c.object-meta.xml
    objects/CMSF_List__c/fields/Client__c.field-meta.xml
    objects/Contact/fields/CMSF_Status__c.field-meta.xml     # custom field on a standard object

Supported field types: Text, TextArea, LongTextArea, Html, Email, Phone, Url, Number,
Currency, Percent, Checkbox, Date, DateTime, Picklist (``valueSet``, ``restricted``),
MultiselectPicklist, Lookup, MasterDetail, AutoNumber; formula fields are read-only.
Attributes: ``externalId``, ``unique``, ``caseSensitive``, ``required``, ``length``,
``precision``, ``scale``, ``defaultValue``, ``referenceTo``, ``relationshipName`` (child
relationship ``<name>__r`` on the parent; the parent relationship is the field name
with ``__r``). Objects: ``label``, ``pluralLabel``, ``nameField`` (Text or AutoNumber)
and ``customSettingsType`` (List or Hierarchy custom settings).

Custom objects get deterministic key prefixes (``a00``, ``a01``, …) in sorted name order.
Malformed metadata raises :class:`MetadataError` naming the file and what is wrong.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sf_sim import catalogue as cat
from sf_sim.exceptions import SfSimError
from sf_sim.schema import FieldDef, ObjectDef, Schema

__all__ = ["MetadataError", "custom_key_prefix", "load_metadata", "load_sources", "object_source"]

_NS = "{http://soap.sforce.com/2006/04/metadata}"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_MAX_TEXT = {"Text": 255, "TextArea": 255, "LongTextArea": 131072, "Html": 131072}


class MetadataError(SfSimError):
    """A metadata file is missing, unreadable or describes an impossible field or object."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass
class _ObjectSource:
    """One object's definition and fields, each with the file it came from (for errors)."""

    name: str
    object_file: Path | None = None
    object_root: ET.Element | None = None
    field_files: list[Path] = field(default_factory=list)
    field_roots: list[ET.Element] = field(default_factory=list)


def custom_key_prefix(index: int) -> str:
    """The key prefix of the ``index``-th custom object (0 → ``a00``, 10 → ``a0A``)."""
    high, low = divmod(index, 62)
    if high >= 62:
        raise ValueError(f"too many custom objects for the a-prefix range: {index + 1}")
    return "a" + _BASE62[high] + _BASE62[low]


def _parse(path: Path, root_tag: str) -> ET.Element:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise MetadataError(path, f"not well-formed XML ({exc})") from exc
    except OSError as exc:
        raise MetadataError(path, f"cannot be read ({exc.strerror})") from exc
    if root.tag not in (_NS + root_tag, root_tag):
        raise MetadataError(
            path, f"root element is <{root.tag.replace(_NS, '')}>, expected <{root_tag}>"
        )
    return root


def _text(element: ET.Element, tag: str) -> str | None:
    child = element.find(_NS + tag)
    if child is None:
        child = element.find(tag)
    if child is None or child.text is None:
        return None
    return child.text.strip()


def _flag(element: ET.Element, tag: str, path: Path) -> bool:
    value = _text(element, tag)
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise MetadataError(path, f"<{tag}> must be true or false, got {value!r}")
    return value.lower() == "true"


def _int(element: ET.Element, tag: str, path: Path, default: int | None = None) -> int:
    value = _text(element, tag)
    if value is None:
        if default is None:
            raise MetadataError(path, f"<{tag}> is required for this field type")
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise MetadataError(path, f"<{tag}> must be a whole number, got {value!r}") from exc


def _collect(roots: Iterable[Path | str]) -> dict[str, _ObjectSource]:
    sources: dict[str, _ObjectSource] = {}
    for raw in roots:
        root = Path(raw)
        if not root.exists():
            raise MetadataError(root, "metadata path does not exist")
        files = [root] if root.is_file() else sorted(root.rglob("*-meta.xml"))
        for path in files:
            if path.name.endswith(".object-meta.xml"):
                name = path.name[: -len(".object-meta.xml")]
                source = sources.setdefault(name.lower(), _ObjectSource(name))
                source.object_file = path
                source.object_root = _parse(path, "CustomObject")
            elif path.name.endswith(".field-meta.xml"):
                if path.parent.name != "fields":
                    raise MetadataError(path, "field files belong in objects/<Object>/fields/")
                name = path.parent.parent.name
                source = sources.setdefault(name.lower(), _ObjectSource(name))
                source.field_files.append(path)
                source.field_roots.append(_parse(path, "CustomField"))
    return sources


def object_source(path: Path, root: ET.Element) -> _ObjectSource:
    """An object in Metadata API format (``objects/X.object``: fields inside the object).

    Args:
        path: The file's name in the deployed zip (for error messages).
        root: Its parsed ``<CustomObject>`` element.

    Raises:
        MetadataError: If the root element is not a ``CustomObject``.
    """
    if root.tag not in (_NS + "CustomObject", "CustomObject"):
        raise MetadataError(
            path, f"root element is <{root.tag.replace(_NS, '')}>, expected <CustomObject>"
        )
    name = path.name[: -len(".object")] if path.name.endswith(".object") else path.stem
    source = _ObjectSource(name)
    inline = root.findall(_NS + "fields") + root.findall("fields")
    if any(
        child.tag in (_NS + tag, tag)
        for child in root
        for tag in ("label", "nameField", "customSettingsType")
    ):
        source.object_file, source.object_root = path, root
    for element in inline:
        field_name = _text(element, "fullName") or ""
        source.field_files.append(path.with_name(f"{name}.{field_name}"))
        source.field_roots.append(element)
    return source


def load_sources(sources: Iterable[_ObjectSource], schema: Schema) -> list[ObjectDef]:
    """Add objects given as parsed elements (DX or Metadata API format) to ``schema``.

    Returns:
        The new custom objects, in key-prefix order.

    Raises:
        MetadataError: For malformed or inconsistent metadata, naming the file.
    """
    return _load({source.name.lower(): source for source in sources}, schema)


def load_metadata(roots: Iterable[Path | str], schema: Schema) -> list[ObjectDef]:
    """Add the custom objects and fields found under ``roots`` to ``schema``.

    Args:
        roots: Directories (searched recursively for ``*-meta.xml``) or single files.
        schema: The org's schema; standard objects named by folders get the custom fields.

    Returns:
        The new custom objects, in key-prefix order.

    Raises:
        MetadataError: For malformed or inconsistent metadata, naming the file.
    """
    return _load(_collect(roots), schema)


def _load(sources: dict[str, _ObjectSource], schema: Schema) -> list[ObjectDef]:
    created: list[ObjectDef] = []
    new_names = sorted(
        (
            src.name
            for src in sources.values()
            if schema.object(src.name) is None and src.name.lower() != "activity"
        ),
        key=str.lower,
    )
    used = {definition.key_prefix for definition in schema}
    index = 0
    prefixes: dict[str, str] = {}
    for name in new_names:
        while custom_key_prefix(index) in used:
            index += 1
        prefixes[name.lower()] = custom_key_prefix(index)
        index += 1
    loaded: list[tuple[Path, FieldDef]] = []
    for key in sorted(sources):
        source = sources[key]
        existing = schema.object(source.name)
        targets: list[ObjectDef]
        if existing is None and source.name.lower() == "activity":
            # Custom activity fields are defined once on Activity and appear on Task and Event.
            targets = [o for o in (schema.object("Task"), schema.object("Event")) if o is not None]
        elif existing is None:
            if source.object_file is None or source.object_root is None:
                path = source.field_files[0]
                raise MetadataError(
                    path,
                    f"fields for unknown object {source.name!r} and no {source.name}.object-meta.xml",
                )
            if not source.name.endswith("__c"):
                raise MetadataError(source.object_file, "custom object names must end in __c")
            definition = _object(source.object_file, source.object_root, source.name, prefixes[key])
            created.append(definition)
            targets = [definition]
        else:
            targets = [existing]
        for definition in targets:
            for path, element in sorted(
                zip(source.field_files, source.field_roots, strict=True), key=lambda pair: pair[0]
            ):
                built = _field(path, element, definition)
                definition.add_field(built)
                loaded.append((path, built))
            schema.add(definition)
    for path, built in loaded:
        for target in built.reference_to:
            if schema.object(target) is None:
                raise MetadataError(path, f"<referenceTo> names unknown object {target!r}")
    return sorted(created, key=lambda item: item.key_prefix)


def _object(path: Path, root: ET.Element, name: str, prefix: str) -> ObjectDef:
    label = _text(root, "label")
    if not label:
        raise MetadataError(path, "<label> is required")
    settings_type = _text(root, "customSettingsType")
    if settings_type is not None and settings_type not in ("List", "Hierarchy"):
        raise MetadataError(
            path, f"<customSettingsType> must be List or Hierarchy, got {settings_type!r}"
        )
    fields: list[FieldDef] = []
    name_element = root.find(_NS + "nameField")
    if name_element is None:
        name_element = root.find("nameField")
    if settings_type is not None:
        fields.append(
            cat.text(
                "Name",
                38,
                nillable=settings_type == "Hierarchy",
                required=settings_type == "List",
                label="Name",
            )
        )
        if settings_type == "Hierarchy":
            fields.append(
                cat.reference(
                    "SetupOwnerId",
                    ("Organization", "Profile", "User"),
                    "SetupOwner",
                    label="Location ID",
                )
            )
    else:
        if name_element is None:
            raise MetadataError(path, "<nameField> is required for a custom object")
        fields.append(_name_field(name_element, path))
        fields.append(cat.owner_field(("Group", "User")))
    return cat.make_object(
        name,
        prefix,
        fields,
        label=label,
        label_plural=_text(root, "pluralLabel") or label,
        custom=True,
        custom_setting=settings_type is not None,
    )


def _name_field(element: ET.Element, path: Path) -> FieldDef:
    kind = _text(element, "type") or "Text"
    label = _text(element, "label") or "Name"
    if kind == "Text":
        return cat.text("Name", 80, nillable=False, required=True, label=label)
    if kind == "AutoNumber":
        display = _text(element, "displayFormat")
        if not display or "{0" not in display:
            raise MetadataError(
                path, "an AutoNumber name field needs <displayFormat> such as L-{0000}"
            )
        return cat.readonly(
            FieldDef(
                name="Name",
                type="string",
                label=label,
                length=80,
                nillable=False,
                auto_number=True,
                display_format=display,
            )
        )
    raise MetadataError(path, f"<nameField> type must be Text or AutoNumber, got {kind!r}")


def _picklist_values(root: ET.Element, path: Path) -> tuple[tuple[str, ...], bool, str | None]:
    value_set = root.find(_NS + "valueSet")
    if value_set is None:
        raise MetadataError(path, "a picklist needs a <valueSet>")
    restricted = _flag(value_set, "restricted", path)
    definition = value_set.find(_NS + "valueSetDefinition")
    if definition is None:
        raise MetadataError(
            path, "<valueSet> needs a <valueSetDefinition> (global value sets are not supported)"
        )
    values: list[str] = []
    default: str | None = None
    for value in definition.findall(_NS + "value"):
        full_name = _text(value, "fullName")
        if not full_name:
            raise MetadataError(path, "every picklist <value> needs a <fullName>")
        values.append(full_name)
        if _flag(value, "default", path):
            default = full_name
    if not values:
        raise MetadataError(path, "a picklist needs at least one <value>")
    return tuple(values), restricted, default


def _field(path: Path, root: ET.Element, parent: ObjectDef) -> FieldDef:
    if path.name.endswith(".field-meta.xml"):
        expected = path.name[: -len(".field-meta.xml")]
        name = _text(root, "fullName") or expected
        if name != expected:
            raise MetadataError(path, f"<fullName> {name!r} does not match the file name")
    else:  # Metadata API format: a <fields> element of the object
        name = _text(root, "fullName") or ""
        if not name:
            raise MetadataError(path, "every <fields> element needs a <fullName>")
    if not name.endswith("__c"):
        raise MetadataError(path, "custom field names must end in __c")
    kind = _text(root, "type")
    formula = _text(root, "formula")
    if kind is None:
        raise MetadataError(path, "<type> is required")
    attrs: dict[str, Any] = {
        "label": _text(root, "label") or cat.label_for(name),
        "custom": True,
        "unique": _flag(root, "unique", path),
        "external_id": _flag(root, "externalId", path),
        "case_sensitive": _flag(root, "caseSensitive", path),
    }
    required = _flag(root, "required", path)
    if required:
        attrs.update(required=True, nillable=False)
    default = _text(root, "defaultValue")
    built = _typed_field(path, name, kind, root, attrs, default, parent)
    if formula is not None:
        return cat.readonly(
            FieldDef(**{**built.__dict__, "formula": formula, "default_value": None})
        )
    return built


def _typed_field(
    path: Path,
    name: str,
    kind: str,
    root: ET.Element,
    attrs: dict[str, Any],
    default: str | None,
    parent: ObjectDef,
) -> FieldDef:
    if kind in _MAX_TEXT:
        fallback = 255 if kind in ("Text", "TextArea") else None
        length = _int(root, "length", path, fallback)
        if not 1 <= length <= _MAX_TEXT[kind]:
            raise MetadataError(
                path, f"<length> {length} is outside 1..{_MAX_TEXT[kind]} for {kind}"
            )
        builder = cat.text if kind == "Text" else cat.textarea
        return builder(name, length, default_value=_unquote(default), **attrs)
    if kind == "Email":
        return cat.email(name, 80, **attrs)
    if kind == "Phone":
        return cat.phone(name, **attrs)
    if kind == "Url":
        return cat.url(name, **attrs)
    if kind in ("Number", "Currency", "Percent"):
        precision = _int(root, "precision", path, 18)
        scale = _int(root, "scale", path, 0)
        if not 1 <= precision <= 18 or not 0 <= scale <= precision:
            raise MetadataError(
                path,
                f"precision {precision} / scale {scale} are not valid (1..18, scale ≤ precision)",
            )
        type_ = {"Number": "double", "Currency": "currency", "Percent": "percent"}[kind]
        value = _number_default(default, path)
        return cat.number(
            name, type_, precision=precision, scale=scale, default_value=value, **attrs
        )
    if kind == "Checkbox":
        attrs.pop("required", None)
        attrs.pop("nillable", None)
        return cat.boolean(name, default=(default or "false").lower() == "true", **attrs)
    if kind == "Date":
        return cat.date_field(name, **attrs)
    if kind == "DateTime":
        return cat.datetime_field(name, **attrs)
    if kind in ("Picklist", "MultiselectPicklist"):
        values, restricted, chosen = _picklist_values(root, path)
        return cat.picklist(
            name,
            values,
            restricted=restricted,
            multi=kind == "MultiselectPicklist",
            default_value=chosen,
            **attrs,
        )
    if kind in ("Lookup", "MasterDetail"):
        target = _text(root, "referenceTo")
        if not target:
            raise MetadataError(path, f"a {kind} field needs <referenceTo>")
        child = _text(root, "relationshipName")
        if kind == "MasterDetail":
            if not child:
                raise MetadataError(path, "a MasterDetail field needs <relationshipName>")
            attrs.update(required=True, nillable=False, cascade_delete=True)
            if not _flag(root, "reparentableMasterDetail", path):
                attrs["updateable"] = False
            parent.fields.pop("ownerid", None)
        else:
            constraint = _text(root, "deleteConstraint") or "SetNull"
            if constraint not in ("SetNull", "Restrict", "Cascade"):
                raise MetadataError(
                    path,
                    f"<deleteConstraint> must be SetNull, Restrict or Cascade, not {constraint!r}",
                )
            if constraint == "Cascade":
                attrs["cascade_delete"] = True
            elif constraint == "Restrict":
                attrs["restrict_delete"] = True
        return cat.reference(
            name, target, name[:-3] + "__r", child + "__r" if child else None, **attrs
        )
    if kind == "AutoNumber":
        display = _text(root, "displayFormat")
        if not display or "{0" not in display:
            raise MetadataError(path, "an AutoNumber field needs <displayFormat> such as A-{0000}")
        return cat.readonly(cat.text(name, 30, auto_number=True, display_format=display, **attrs))
    raise MetadataError(path, f"unsupported field <type> {kind!r}")


def _unquote(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _number_default(value: str | None, path: Path) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise MetadataError(path, f"<defaultValue> {value!r} is not a number") from exc
