"""The product's permission sets, generated from the data model so none falls behind it.

The FAQ describes three levels, each a permission set of the DX project:

- **Full Access** (``CMSF_Full_Access``): everything: every object with create, read,
  edit, delete, View All and Modify All; every field readable and editable. The sync user
  needs it (``cmsf setup`` assigns it).
- **Standard Access** (``CMSF_Standard_Access``): everything except the admin screens:
  the synced objects with create, read, edit and delete (no View/Modify All); the
  settings, audit log and maintenance messages read-only; the connection key hidden.
- **Limited Access** (``CMSF_Limited_Access``): lets the product's code run for a user
  without showing them the app: every object and field read-only, the connection key
  hidden.

Every object folder and field file of ``cmsf_core/metadata`` is granted by each set at its
level, so a field added on any branch shows up in all three when they are regenerated
(``python -m cmsf_core.permission_sets --write``); ``--check`` (and the test suite) fails
while a committed file differs from what the data model implies.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from cmsf_core.data_model import METADATA_PROJECT, OBJECTS_DIR, expected_fields

__all__ = ["LEVELS", "PERMISSION_SETS_DIR", "Level", "check", "render", "write"]

PERMISSION_SETS_DIR = METADATA_PROJECT / "force-app" / "main" / "default" / "permissionsets"
ADMIN_OBJECTS = frozenset({"CMSF_Settings__c", "CMSF_Audit_Log__c", "CMSF_Maintenance_Message__c"})
"""What the admin screens own: read-only below Full Access."""
HIDDEN_FIELDS = frozenset({"CMSF_Settings__c.Connection_Key__c"})
"""Secrets only the sync user may read."""


@dataclass(frozen=True)
class Level:
    """One permission set: its name, label, description and what it grants."""

    name: str
    label: str
    description: str
    full: bool
    writes: bool


LEVELS: tuple[Level, ...] = (
    Level(
        "CMSF_Full_Access",
        "Campaign Monitor Full Access",
        "Full access to Campaign Monitor for Salesforce objects and fields (the sync user "
        "needs it).",
        full=True,
        writes=True,
    ),
    Level(
        "CMSF_Standard_Access",
        "Campaign Monitor Standard Access",
        "Everything except the admin screens: synced objects editable; settings, audit log "
        "and maintenance messages read-only.",
        full=False,
        writes=True,
    ),
    Level(
        "CMSF_Limited_Access",
        "Campaign Monitor Limited Access",
        "Lets the product's code run for a user without showing the app: every object and "
        "field read-only.",
        full=False,
        writes=False,
    ),
)
"""Full, Standard and Limited, as the FAQ names them."""


def _flag(value: bool) -> str:
    return "true" if value else "false"


def render(level: Level) -> str:
    """The ``.permissionset-meta.xml`` text of ``level`` for the current data model."""
    fields = expected_fields()
    custom_objects = sorted(
        name for name in fields if name.endswith("__c") and (OBJECTS_DIR / name).is_dir()
    )
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">',
        f"    <description>{escape(level.description)}</description>",
    ]
    for obj in sorted(fields):
        for name in sorted(fields[obj]):
            qualified = f"{obj}.{name}"
            if qualified in HIDDEN_FIELDS and not level.full:
                continue
            editable = level.full or (level.writes and obj not in ADMIN_OBJECTS)
            lines += [
                "    <fieldPermissions>",
                f"        <editable>{_flag(editable)}</editable>",
                f"        <field>{qualified}</field>",
                "        <readable>true</readable>",
                "    </fieldPermissions>",
            ]
    lines += [
        "    <hasActivationRequired>false</hasActivationRequired>",
        f"    <label>{escape(level.label)}</label>",
    ]
    for obj in custom_objects:
        writes = level.full or (level.writes and obj not in ADMIN_OBJECTS)
        lines += [
            "    <objectPermissions>",
            f"        <allowCreate>{_flag(writes)}</allowCreate>",
            f"        <allowDelete>{_flag(writes)}</allowDelete>",
            f"        <allowEdit>{_flag(writes)}</allowEdit>",
            "        <allowRead>true</allowRead>",
            f"        <modifyAllRecords>{_flag(level.full)}</modifyAllRecords>",
            f"        <object>{obj}</object>",
            f"        <viewAllRecords>{_flag(level.full)}</viewAllRecords>",
            "    </objectPermissions>",
        ]
    lines.append("</PermissionSet>")
    return "\n".join(lines) + "\n"


def _path(level: Level, directory: Path) -> Path:
    return directory / f"{level.name}.permissionset-meta.xml"


def check(directory: Path = PERMISSION_SETS_DIR) -> list[str]:
    """Names of the permission set files that differ from the data model (empty when current)."""
    stale = []
    for level in LEVELS:
        path = _path(level, directory)
        if not path.exists() or path.read_text(encoding="utf-8") != render(level):
            stale.append(path.name)
    return stale


def write(directory: Path = PERMISSION_SETS_DIR) -> list[str]:
    """(Re)write the permission set files; return the names that changed."""
    changed = check(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for level in LEVELS:
        _path(level, directory).write_text(render(level), encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    """``python -m cmsf_core.permission_sets [--write | --check]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="Regenerate the files.")
    group.add_argument("--check", action="store_true", help="Exit 1 if a file is stale.")
    args = parser.parse_args(argv)
    if args.write:
        changed = write()
        print(f"rewrote: {', '.join(changed)}" if changed else "permission sets are current")
        return 0
    stale = check()
    if stale:
        print(f"stale: {', '.join(stale)} (python -m cmsf_core.permission_sets --write)")
        return 1
    print("permission sets are current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
