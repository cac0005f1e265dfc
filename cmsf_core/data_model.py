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

__all__ = ["METADATA_PROJECT", "OBJECTS_DIR", "PERMISSION_SET", "expected_fields"]

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
