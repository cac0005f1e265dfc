"""The data model as a Metadata API deploy: the zip ``sf project deploy start`` would send.

The project keeps its Salesforce data model as DX source (``cmsf_core/metadata``: one
file per object and per field). The Metadata API takes the older *metadata format*: one
``objects/<Object>.object`` per object with its fields inline, one
``permissionsets/<Name>.permissionset`` per permission set, and a ``package.xml`` naming
every member. :func:`build_package` converts the one into the other the way the Salesforce
CLI's source converter does, so ``cmsf setup`` and ``sf project deploy start`` deploy the
same components.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cmsf_core.data_model import METADATA_PROJECT
from cmsf_core.errors import ConfigError

__all__ = ["Package", "build_package"]

NS = "http://soap.sforce.com/2006/04/metadata"
ET.register_namespace("", NS)
_FOLDERS = {
    "objects": ("CustomObject", ".object"),
    "permissionsets": ("PermissionSet", ".permissionset"),
    "notificationtypes": ("CustomNotificationType", ".notiftype"),
}
_FIXED = 0o644 << 16
"""Zip entries carry fixed attributes and dates, so the same source gives the same bytes."""


@dataclass(frozen=True)
class Package:
    """A deployable zip and what it holds.

    Attributes:
        data: The zip's bytes.
        api_version: ``sourceApiVersion`` of the project.
        members: Component full names by metadata type.
    """

    data: bytes
    api_version: str
    members: dict[str, list[str]]


def _source_dir(project: Path) -> tuple[Path, str]:
    try:
        config = json.loads((project / "sfdx-project.json").read_text(encoding="utf-8"))
        directory = next(d for d in config["packageDirectories"] if d.get("default", True))
        return project / directory["path"] / "main" / "default", str(config["sourceApiVersion"])
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise ConfigError(f"{project} is not a Salesforce DX project: {exc}") from exc


def _object_file(folder: Path) -> bytes:
    """One ``.object`` file: the object's own definition (if any) with its fields inline."""
    own = folder / f"{folder.name}.object-meta.xml"
    root = ET.parse(own).getroot() if own.exists() else ET.Element(f"{{{NS}}}CustomObject")
    for path in sorted((folder / "fields").glob("*.field-meta.xml")):
        field = ET.parse(path).getroot()
        field.tag = f"{{{NS}}}fields"
        root.append(field)
    ET.indent(root, space="    ")
    text: bytes = ET.tostring(root, encoding="utf-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text


def _package_xml(members: dict[str, list[str]], version: str) -> bytes:
    root = ET.Element(f"{{{NS}}}Package")
    for kind in sorted(members):
        types = ET.SubElement(root, f"{{{NS}}}types")
        for name in sorted(members[kind]):
            ET.SubElement(types, f"{{{NS}}}members").text = name
        ET.SubElement(types, f"{{{NS}}}name").text = kind
    ET.SubElement(root, f"{{{NS}}}version").text = version
    ET.indent(root, space="    ")
    text: bytes = ET.tostring(root, encoding="utf-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text


def build_package(project: Path = METADATA_PROJECT) -> Package:
    """Convert the DX project into a Metadata API zip (``package.xml`` at the root).

    Raises:
        ConfigError: If the project or one of its files cannot be read.
    """
    source, version = _source_dir(project)
    files: dict[str, bytes] = {}
    members: dict[str, list[str]] = {}
    try:
        for folder, (kind, suffix) in _FOLDERS.items():
            base = source / folder
            if not base.is_dir():
                continue
            if folder == "objects":
                for item in sorted(p for p in base.iterdir() if p.is_dir()):
                    files[f"objects/{item.name}{suffix}"] = _object_file(item)
                    members.setdefault(kind, []).append(item.name)
                continue
            for path in sorted(base.glob(f"*{suffix}-meta.xml")):
                name = path.name[: -len(f"{suffix}-meta.xml")]
                files[f"{folder}/{name}{suffix}"] = path.read_bytes()
                members.setdefault(kind, []).append(name)
    except (OSError, ET.ParseError) as exc:
        raise ConfigError(f"cannot read the data model in {source}: {exc}") from exc
    files["package.xml"] = _package_xml(members, version)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = _FIXED
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return Package(buffer.getvalue(), version, members)
