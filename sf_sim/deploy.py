"""Metadata API deploys: a zip of metadata-format components applied to the org.

What ``sf project deploy start`` and simple-salesforce's ``sf.deploy(zip, sandbox)`` send:
a zip whose root (``singlePackage``) or one top folder holds ``package.xml`` and one
folder per metadata type. Modelled types:

- ``objects/<Name>.object`` (CustomObject, with its ``<fields>`` inline; a standard
  object's file holds only custom fields): objects and fields join the org's schema, and
  their tables and columns are created, exactly as DX source loads through
  :mod:`sf_sim.metadata`;
- ``permissionsets/<Name>.permissionset`` (PermissionSet): a ``PermissionSet`` record
  (``Name``, ``Label``, ``Description``) whose object and field grants are kept with the
  org (:meth:`Deployments.permission_set_grants`);
- ``notificationtypes/<Name>.notiftype`` (CustomNotificationType): a
  ``CustomNotificationType`` record.

``destructiveChanges.xml`` beside ``package.xml`` deletes what it names: custom objects
(their tables and records), custom fields (their columns), permission sets (refused while
assigned to users, as on the platform) and custom notification types.

Anything else is a component failure (``problemType`` Error), as an unknown type is on
the platform. With ``rollbackOnError`` (the default of both clients against production)
one failure leaves the org unchanged and the deploy ``Failed``; without it, the good
components are applied and the deploy is ``SucceededPartial``. ``checkOnly`` validates
only. A deploy runs when it is submitted (``Queued`` in the ``deploy`` answer); the
first ``checkDeployStatus`` reports it done. Deploys are kept with the org, so a status
can be read after a restart of ``sf-sim serve``.
"""

from __future__ import annotations

import copy
import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from sf_sim.exceptions import SfSimError
from sf_sim.metadata import MetadataError, load_sources, object_source
from sf_sim.schema import format_datetime

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["MAX_ZIP_BYTES", "DeployError", "Deployments"]

NS = "{http://soap.sforce.com/2006/04/metadata}"
MAX_ZIP_BYTES = 39 * 1024 * 1024
"""The platform's limit on a deploy's zip (39 MB compressed)."""
MAX_FILES = 10_000
"""At most this many files in one deploy (the platform's component limit)."""
_TYPES = {"objects": "CustomObject", "permissionsets": "PermissionSet",
          "notificationtypes": "CustomNotificationType"}  # fmt: skip
_SUFFIX = {"objects": ".object", "permissionsets": ".permissionset",
           "notificationtypes": ".notiftype"}  # fmt: skip


class DeployError(SfSimError):
    """A deploy request the Metadata API refuses outright (a SOAP fault, nothing queued)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class _Message:
    """One DeployMessage (a component's outcome)."""

    file_name: str
    full_name: str
    component_type: str
    success: bool
    created: bool = False
    changed: bool = False
    problem: str | None = None

    def to_api(self, created_date: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "changed": self.changed,
            "componentType": self.component_type,
            "created": self.created,
            "createdDate": created_date,
            "deleted": False,
            "fileName": self.file_name,
            "fullName": self.full_name,
            "success": self.success,
        }
        if self.problem is not None:
            out["problem"] = self.problem
            out["problemType"] = "Error"
        return out


@dataclass
class _Plan:
    """What a deploy would change, component by component."""

    objects: list[tuple[str, Any]] = field(default_factory=list)
    deletions: list[tuple[str, str]] = field(default_factory=list)
    permission_sets: list[tuple[str, ET.Element]] = field(default_factory=list)
    notification_types: list[tuple[str, ET.Element]] = field(default_factory=list)
    messages: list[_Message] = field(default_factory=list)


class Deployments:
    """Deploys of one org, by their ``0Af`` Id."""

    def __init__(self, org: Org) -> None:
        self.org = org

    # ------------------------------------------------------------------ deploy

    def deploy(self, zip_bytes: bytes, options: dict[str, bool]) -> str:
        """Run a deploy now and remember its result; return its ``0Af`` Id.

        Args:
            zip_bytes: The zip as sent (decoded from base64).
            options: DeployOptions (``checkOnly``, ``rollbackOnError``, ``singlePackage``...).

        Raises:
            DeployError: For a zip that cannot be read at all (the platform faults then).
        """
        if len(zip_bytes) > MAX_ZIP_BYTES:
            raise DeployError("INVALID_ZIP", "The zip file exceeds the 39 MB limit")
        try:
            archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
            names = [n for n in archive.namelist() if not n.endswith("/")]
        except (zipfile.BadZipFile, ValueError) as exc:
            raise DeployError("INVALID_ZIP", "Unable to read the zip file") from exc
        if len(names) > MAX_FILES:
            raise DeployError("INVALID_ZIP", f"More than {MAX_FILES} files in the zip")
        started = format_datetime(self.org.clock.now())
        deploy_id = self.org.ids.next("0Af")
        plan = self._plan(archive, names)
        failed = [m for m in plan.messages if not m.success]
        check_only = bool(options.get("checkOnly"))
        rollback = bool(options.get("rollbackOnError", True))
        applied = not check_only and not (failed and rollback)
        if applied:
            self._apply(plan)
        if failed and (rollback or len(failed) == len(plan.messages)):
            status = "Failed"
        elif failed:
            status = "SucceededPartial"
        else:
            status = "Succeeded"
        if not plan.messages:
            status = "Failed"
            plan.messages.append(
                _Message("package.xml", "package.xml", "", False, problem="No package.xml found")
            )
        user = self.org.store.get("User", self.org.running_user_id) or {}
        result = {
            "id": deploy_id,
            "checkOnly": check_only,
            "createdBy": self.org.running_user_id[:15],
            "createdByName": str(user.get("Name") or ""),
            "createdDate": started,
            "startDate": started,
            "completedDate": format_datetime(self.org.clock.now()),
            "lastModifiedDate": format_datetime(self.org.clock.now()),
            "ignoreWarnings": bool(options.get("ignoreWarnings")),
            "rollbackOnError": rollback,
            "runTestsEnabled": False,
            "status": status,
            "success": status == "Succeeded" or status == "SucceededPartial",
            "numberComponentsTotal": len(plan.messages),
            "numberComponentErrors": len([m for m in plan.messages if not m.success]),
            "numberComponentsDeployed": len([m for m in plan.messages if m.success])
            if applied or check_only
            else 0,
            "numberTestErrors": 0,
            "numberTestsCompleted": 0,
            "numberTestsTotal": 0,
            "successes": [m.to_api(started) for m in plan.messages if m.success],
            "failures": [m.to_api(started) for m in plan.messages if not m.success],
        }
        if status == "Failed" and failed and rollback and not check_only:
            result["numberComponentsDeployed"] = 0
        deploys = self.org.store.meta("deploys", {})
        deploys[deploy_id] = result
        self.org.store.set_meta("deploys", deploys)
        return deploy_id

    def status(self, deploy_id: str) -> dict[str, Any]:
        """The DeployResult of a deploy.

        Raises:
            DeployError: ``INVALID_ID_FIELD`` for an unknown Id.
        """
        found = self.org.store.meta("deploys", {}).get(deploy_id[:15] + deploy_id[15:])
        if found is None:
            for key, value in self.org.store.meta("deploys", {}).items():
                if key[:15] == deploy_id[:15]:
                    found = value
        if found is None:
            raise DeployError("INVALID_ID_FIELD", "Invalid deploy ID")
        return dict(found)

    def permission_set_grants(self, name: str) -> dict[str, Any] | None:
        """Object and field grants of a deployed permission set, or None."""
        grants: dict[str, Any] | None = self.org.store.meta("permission_set_grants", {}).get(name)
        return grants

    # ------------------------------------------------------------------ planning

    def _plan(self, archive: zipfile.ZipFile, names: list[str]) -> _Plan:
        from pathlib import Path

        plan = _Plan()
        base = _package_root(names)
        objects: list[tuple[PurePosixPath, str, Any]] = []
        later: list[tuple[str, PurePosixPath, str, ET.Element]] = []
        for name in sorted(names):
            relative = PurePosixPath(name[len(base) :])
            if len(relative.parts) == 1 and relative.name in (
                "package.xml", "destructiveChanges.xml", "destructiveChangesPost.xml",
            ):  # fmt: skip
                continue
            folder = relative.parts[0] if len(relative.parts) == 2 else ""
            kind = _TYPES.get(folder)
            full_name = relative.name.rsplit(".", 1)[0]
            if kind is None or not relative.name.endswith(_SUFFIX[folder]):
                plan.messages.append(
                    _Message(
                        str(relative),
                        full_name,
                        "",
                        False,
                        problem=f"Unknown type name '{folder or relative.name}' specified in "
                        "package.xml (not modelled by sf_sim)",
                    )
                )
                continue
            try:
                root = ET.fromstring(archive.read(name))
                if kind == "CustomObject":
                    objects.append((relative, full_name, object_source(Path(str(relative)), root)))
                else:
                    later.append((kind, relative, full_name, root))
            except (ET.ParseError, ValueError, MetadataError) as exc:
                problem = (
                    exc.problem if isinstance(exc, MetadataError) else f"Error parsing file: {exc}"
                )
                plan.messages.append(
                    _Message(str(relative), full_name, kind, False, problem=problem)
                )
        destructive = next(
            (
                n
                for n in names
                if n[len(base) :] in ("destructiveChanges.xml", "destructiveChangesPost.xml")
            ),
            None,
        )
        if destructive is not None:
            self._plan_destructive(plan, archive.read(destructive))
        scratch = self._plan_objects(plan, objects)
        for kind, relative, full_name, root in later:
            if kind == "PermissionSet":
                self._plan_permission_set(plan, scratch, relative, full_name, root)
            else:
                self._plan_notification_type(plan, relative, full_name, root)
        return plan

    def _plan_objects(self, plan: _Plan, objects: list[tuple[PurePosixPath, str, Any]]) -> Any:
        """Load the objects together (they may refer to each other) into a copy of the schema;
        a file that fails is left out and the rest tried again. Returns the copy."""
        remaining = list(objects)
        while True:
            scratch = copy.deepcopy(self.org.schema)
            try:
                load_sources([copy.deepcopy(source) for _, _, source in remaining], scratch)
            except MetadataError as exc:
                culprit = next(
                    (item for item in remaining
                     if str(exc.path) == str(item[0]) or str(exc.path).startswith(str(item[0].with_suffix("")) + ".")),
                    remaining[0],
                )  # fmt: skip
                remaining.remove(culprit)
                plan.messages.append(
                    _Message(
                        str(culprit[0]), culprit[1], "CustomObject", False, problem=exc.problem
                    )
                )
                continue
            break
        for relative, name, source in remaining:
            exists = self.org.schema.object(name)
            plan.objects.append((name, source))
            plan.messages.append(
                _Message(
                    str(relative),
                    name,
                    "CustomObject",
                    True,
                    created=exists is None,
                    changed=exists is not None,
                )
            )
        return scratch

    def _plan_destructive(self, plan: _Plan, data: bytes) -> None:
        """Check each member of ``destructiveChanges.xml``; keep what can be deleted."""
        try:
            root = ET.fromstring(data)
        except (ET.ParseError, ValueError) as exc:
            plan.messages.append(_Message("destructiveChanges.xml", "destructiveChanges", "", False,
                                          problem=f"Error parsing file: {exc}"))  # fmt: skip
            return
        doomed = [
            (_text(types, "name") or "", (member.text or "").strip())
            for types in root.findall(NS + "types")
            for member in types.findall(NS + "members")
        ]
        dropped = {name.lower() for kind, name in doomed if kind == "CustomObject"}
        dropped |= {name.lower() for kind, name in doomed if kind == "CustomField"}
        for kind, name in doomed:
            problem = self._deletion_problem(kind, name, dropped)
            plan.messages.append(
                _Message("destructiveChanges.xml", name, kind, problem is None, problem=problem)
            )
            if problem is None:
                plan.deletions.append((kind, name))

    def _deletion_problem(self, kind: str, name: str, dropped: set[str]) -> str | None:
        org = self.org
        if kind == "CustomObject":
            definition = org.schema.object(name)
            if definition is None or not definition.custom:
                return f"No CustomObject named {name} found"
            for other in org.schema:
                if other.name.lower() in dropped:
                    continue
                for item in other.iter_fields():
                    owner = "activity" if other.name in ("Task", "Event") else other.name.lower()
                    if f"{owner}.{item.name.lower()}" in dropped:
                        continue
                    if any(t.lower() == name.lower() for t in item.reference_to):
                        return f"This custom object is referenced by {other.name}.{item.name}"
            return None
        if kind == "CustomField":
            obj, _, fld = name.partition(".")
            targets = ["Task", "Event"] if obj == "Activity" else [obj]
            found = [org.schema.object(t) for t in targets]
            if not any(
                d is not None and (f := d.field(fld)) is not None and f.custom for d in found
            ):
                return f"No CustomField named {name} found"
            return None
        if kind == "PermissionSet":
            row = org.store.scalar('SELECT Id FROM "PermissionSet" WHERE Name = ?', (name,))
            if row is None:
                return f"No PermissionSet named {name} found"
            if org.store.scalar(
                'SELECT COUNT(*) FROM "PermissionSetAssignment" WHERE PermissionSetId = ?', (row,)
            ):
                return "This permission set is assigned to users; remove the assignments first"
            return None
        if kind == "CustomNotificationType":
            exists = org.store.scalar(
                'SELECT Id FROM "CustomNotificationType" WHERE DeveloperName = ?', (name,)
            )
            return None if exists else f"No CustomNotificationType named {name} found"
        return f"Unknown type name '{kind}' specified in destructiveChanges.xml (not modelled by sf_sim)"

    def _delete(self, kind: str, name: str) -> None:
        org = self.org
        if kind == "CustomObject":
            definition = org.schema.object(name)
            if definition is None:
                return
            org.schema.remove(definition.name)
            org.store.conn.execute(f'DROP TABLE IF EXISTS "{definition.name}"')
            org.store.conn.execute("DELETE FROM _sf_recycle WHERE object = ?", (definition.name,))
        elif kind == "CustomField":
            obj, _, fld = name.partition(".")
            for target in ["Task", "Event"] if obj == "Activity" else [obj]:
                definition = org.schema.object(target)
                item = definition.field(fld) if definition is not None else None
                if definition is None or item is None:
                    continue
                definition.fields.pop(item.name.lower(), None)
                org.store.conn.execute(f'DROP INDEX IF EXISTS "idx_{definition.name}_{item.name}"')
                columns = {c.lower() for c in org.store.db[definition.name].columns_dict}
                if item.name.lower() in columns:
                    org.store.conn.execute(
                        f'ALTER TABLE "{definition.name}" DROP COLUMN "{item.name}"'
                    )
        elif kind == "PermissionSet":
            org.store.conn.execute('DELETE FROM "PermissionSet" WHERE Name = ?', (name,))
            grants = org.store.meta("permission_set_grants", {})
            grants.pop(name, None)
            org.store.set_meta("permission_set_grants", grants)
        elif kind == "CustomNotificationType":
            org.store.conn.execute(
                'DELETE FROM "CustomNotificationType" WHERE DeveloperName = ?', (name,)
            )

    def _plan_permission_set(
        self, plan: _Plan, scratch: Any, path: PurePosixPath, name: str, root: ET.Element
    ) -> None:
        problem = None
        if root.tag not in (NS + "PermissionSet", "PermissionSet"):
            problem = "root element must be <PermissionSet>"
        elif not _text(root, "label"):
            problem = "Required field is missing: label"
        else:
            for grant in root.findall(NS + "objectPermissions"):
                target = _text(grant, "object") or ""
                if scratch.object(target) is None:
                    problem = f"In field: object - no CustomObject named {target} found"
                    break
            for grant in root.findall(NS + "fieldPermissions"):
                target = _text(grant, "field") or ""
                obj, _, fld = target.partition(".")
                found = scratch.object("Task" if obj == "Activity" else obj)
                if found is None or found.field(fld) is None:
                    problem = f"In field: field - no CustomField named {target} found"
                    break
        if problem:
            plan.messages.append(_Message(str(path), name, "PermissionSet", False, problem=problem))
            return
        exists = self.org.store.scalar('SELECT Id FROM "PermissionSet" WHERE Name = ?', (name,))
        plan.permission_sets.append((name, root))
        plan.messages.append(
            _Message(
                str(path),
                name,
                "PermissionSet",
                True,
                created=exists is None,
                changed=exists is not None,
            )
        )

    def _plan_notification_type(
        self, plan: _Plan, path: PurePosixPath, name: str, root: ET.Element
    ) -> None:
        if not _text(root, "masterLabel"):
            plan.messages.append(
                _Message(
                    str(path),
                    name,
                    "CustomNotificationType",
                    False,
                    problem="Required field is missing: masterLabel",
                )
            )
            return
        exists = self.org.store.scalar(
            'SELECT Id FROM "CustomNotificationType" WHERE DeveloperName = ?', (name,)
        )
        plan.notification_types.append((name, root))
        plan.messages.append(
            _Message(
                str(path),
                name,
                "CustomNotificationType",
                True,
                created=exists is None,
                changed=exists is not None,
            )
        )

    # ------------------------------------------------------------------ applying

    def _apply(self, plan: _Plan) -> None:
        org = self.org
        with org.store.transaction():
            for kind, name in plan.deletions:
                self._delete(kind, name)
            created = load_sources([source for _, source in plan.objects], org.schema)
            touched = {name.lower() for name, _ in plan.objects} | {c.name.lower() for c in created}
            for definition in org.schema:
                if definition.name.lower() in touched or definition.name in ("Task", "Event"):
                    org.store.ensure_table(definition)
            org._save_schema()
            grants = org.store.meta("permission_set_grants", {})
            values: dict[str, Any]
            for name, root in plan.permission_sets:
                values = {
                    "Label": _text(root, "label") or name,
                    "Description": (_text(root, "description") or "")[:255] or None,
                }
                existing = org.store.scalar(
                    'SELECT Id FROM "PermissionSet" WHERE Name = ?', (name,)
                )
                if existing is None:
                    org.create("PermissionSet", {"Name": name, **values}, system=True)
                else:
                    org.update("PermissionSet", str(existing), values, system=True)
                grants[name] = _grants(root)
            org.store.set_meta("permission_set_grants", grants)
            for name, root in plan.notification_types:
                values = {
                    "MasterLabel": _text(root, "masterLabel") or name,
                    "Description": (_text(root, "description") or "")[:255] or None,
                    "Desktop": (_text(root, "desktop") or "true") == "true",
                    "Mobile": (_text(root, "mobile") or "true") == "true",
                }
                existing = org.store.scalar(
                    'SELECT Id FROM "CustomNotificationType" WHERE DeveloperName = ?', (name,)
                )
                if existing is None:
                    org.create(
                        "CustomNotificationType", {"DeveloperName": name, **values}, system=True
                    )
                else:
                    org.update("CustomNotificationType", str(existing), values, system=True)


def _text(element: ET.Element, tag: str) -> str | None:
    child = element.find(NS + tag)
    if child is None:
        child = element.find(tag)
    return None if child is None or child.text is None else child.text.strip()


def _grants(root: ET.Element) -> dict[str, Any]:
    objects = {}
    for grant in root.findall(NS + "objectPermissions"):
        objects[_text(grant, "object") or ""] = {
            action: _text(grant, tag) == "true"
            for action, tag in (("read", "allowRead"), ("create", "allowCreate"),
                                ("edit", "allowEdit"), ("delete", "allowDelete"))
        }  # fmt: skip
    fields = {}
    for grant in root.findall(NS + "fieldPermissions"):
        fields[_text(grant, "field") or ""] = {
            "readable": _text(grant, "readable") == "true",
            "editable": _text(grant, "editable") == "true",
        }
    return {"objects": objects, "fields": fields}


def _package_root(names: list[str]) -> str:
    """The folder of ``package.xml`` inside the zip ('' for a single package)."""
    if "package.xml" in names:
        return ""
    for name in names:
        if name.endswith("/package.xml") and name.count("/") == 1:
            return name[: -len("package.xml")]
    return ""
