"""Where the product's Salesforce data model lives, and what it contains.

The custom objects and fields are Salesforce DX source in ``cmsf_core/metadata`` (deploy
with ``sf project deploy start`` from that folder); the simulator loads the same files.
This module names those paths and reads which objects and fields the engine relies on,
so a run can check an org before writing to it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "METADATA_PROJECT",
    "OBJECTS_DIR",
    "PERMISSION_SET",
    "FieldSpec",
    "expected_fields",
    "field_specs",
]

METADATA_PROJECT = Path(__file__).resolve().parent / "metadata"
"""The Salesforce DX project (``sfdx-project.json``)."""

OBJECTS_DIR = METADATA_PROJECT / "force-app" / "main" / "default" / "objects"
"""Custom objects, and custom fields on Campaign, CampaignMember and Activity."""

PERMISSION_SET = (
    METADATA_PROJECT
    / "force-app"
    / "main"
    / "default"
    / "permissionsets"
    / "CMSF_Full_Access.permissionset-meta.xml"
)
"""The permission set that grants the sync user every object and field."""

_FULL_NAME = re.compile(r"<fullName>([^<]+)</fullName>")


@cache
def expected_fields() -> dict[str, frozenset[str]]:
    """Custom field API names by object folder (``Activity`` fields live on Task and Event)."""
    out: dict[str, frozenset[str]] = {}
    for folder in sorted(p for p in OBJECTS_DIR.iterdir() if p.is_dir()):
        names = set()
        for path in sorted((folder / "fields").glob("*.field-meta.xml")):
            match = _FULL_NAME.search(path.read_text(encoding="utf-8"))
            names.add(match.group(1) if match else path.name.split(".")[0])
        out[folder.name] = frozenset(names)
    return out


_TYPE = re.compile(r"<type>([^<]+)</type>")
_LENGTH = re.compile(r"<length>(\d+)</length>")
DESCRIBE_TYPES = {
    "Checkbox": "boolean", "Date": "date", "DateTime": "datetime", "Email": "email",
    "LongTextArea": "textarea", "Lookup": "reference", "MultiselectPicklist": "multipicklist",
    "Number": "double", "Percent": "percent", "Phone": "phone", "Picklist": "picklist",
    "Text": "string", "Url": "url",
}  # fmt: skip
"""The describe ``type`` of each metadata field type the data model uses."""


class FieldSpec(NamedTuple):
    """What describe must say of a field: its type, and at least this length (text fields)."""

    metadata_type: str
    describe_type: str
    length: int | None

    def mismatch(self, described: dict[str, object]) -> str | None:
        """How a field's describe differs from this version's definition, or None."""
        kind = str(described.get("type") or "")
        if kind != self.describe_type:
            return f"type {kind or '?'}, this version has {self.metadata_type}"
        length = described.get("length")
        if self.length is not None and isinstance(length, int) and length < self.length:
            return f"length {length}, this version has {self.length}"
        return None


@cache
def field_specs() -> dict[str, dict[str, FieldSpec]]:
    """Each custom field's type and length by object folder, from the DX source."""
    out: dict[str, dict[str, FieldSpec]] = {}
    for folder in sorted(p for p in OBJECTS_DIR.iterdir() if p.is_dir()):
        specs: dict[str, FieldSpec] = {}
        for path in sorted((folder / "fields").glob("*.field-meta.xml")):
            text = path.read_text(encoding="utf-8")
            name = _FULL_NAME.search(text)
            kind = _TYPE.search(text)
            length = _LENGTH.search(text)
            if kind is None or kind.group(1) not in DESCRIBE_TYPES:
                continue
            specs[name.group(1) if name else path.name.split(".")[0]] = FieldSpec(
                kind.group(1),
                DESCRIBE_TYPES[kind.group(1)],
                int(length.group(1)) if length else None,
            )
        out[folder.name] = specs
    return out
