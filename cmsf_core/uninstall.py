"""``cmsf uninstall``: remove the project's data from the org (and with ``--metadata`` its model).

As the product's uninstall: Campaign Monitor keeps everything; in Salesforce every record
of the project's custom objects goes (settings and audit log included), and the
assignments of its permission sets are removed. Standard records the integration created
or updated (Contacts, Leads, Campaigns, Campaign Members) stay. With ``metadata`` the data
model itself is deleted through a Metadata API destructive deploy (custom objects, the
custom fields on Campaign, CampaignMember and Activity, the permission sets and the
notification type), all or nothing. The runner's journal is local and left to the admin.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cmsf_core.data_model import expected_fields
from cmsf_core.errors import CmsfError, NotFoundError
from cmsf_core.metadata_package import NS, build_package
from cmsf_core.permission_sets import LEVELS
from cmsf_core.setup import DONE, POLL_EVERY, DeployFailedError

if TYPE_CHECKING:
    from cmsf_core.clock import Clock
    from cmsf_core.salesforce import SalesforceGateway

__all__ = ["UninstallReport", "destructive_package", "uninstall"]


@dataclass
class UninstallReport:
    """What was removed."""

    records: dict[str, int] = field(default_factory=dict)
    assignments: int = 0
    metadata_deploy: str | None = None


def destructive_package() -> bytes:
    """A zip with an empty ``package.xml`` and a ``destructiveChanges.xml`` naming the model."""
    members = build_package().members
    doomed: dict[str, list[str]] = {"CustomField": []}
    for obj in members.get("CustomObject", []):
        if obj.endswith("__c"):
            doomed.setdefault("CustomObject", []).append(obj)
        else:
            doomed["CustomField"] += [f"{obj}.{name}" for name in sorted(expected_fields()[obj])]
    for kind in ("PermissionSet", "CustomNotificationType"):
        if members.get(kind):
            doomed[kind] = list(members[kind])

    def xml(types: dict[str, list[str]]) -> bytes:
        root = ET.Element(f"{{{NS}}}Package")
        for kind in sorted(types):
            node = ET.SubElement(root, f"{{{NS}}}types")
            for name in sorted(types[kind]):
                ET.SubElement(node, f"{{{NS}}}members").text = name
            ET.SubElement(node, f"{{{NS}}}name").text = kind
        ET.SubElement(root, f"{{{NS}}}version").text = build_package().api_version
        text: bytes = ET.tostring(root, encoding="utf-8")
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("package.xml", xml({}))
        archive.writestr("destructiveChanges.xml", xml(doomed))
    return buffer.getvalue()


def uninstall(
    gateway: SalesforceGateway, clock: Clock, *, metadata: bool = False
) -> UninstallReport:
    """Delete the project's records and permission set assignments (and its model).

    Raises:
        DeployFailedError: If the destructive deploy is refused (nothing deleted from the model).
    """
    report = UninstallReport()
    for obj in sorted(name for name in expected_fields() if name.endswith("__c")):
        try:
            ids = [row["Id"] for row in gateway.query(f"SELECT Id FROM {obj}")]
        except (NotFoundError, CmsfError):
            continue  # not deployed, or already gone
        if ids:
            report.records[obj] = gateway.delete(ids, sobject=obj).succeeded
    names = ", ".join(f"'{level.name}'" for level in LEVELS)
    assignments = [
        row["Id"]
        for row in gateway.query(
            f"SELECT Id FROM PermissionSetAssignment WHERE PermissionSet.Name IN ({names})"
        )
    ]
    if assignments:
        report.assignments = gateway.delete(
            assignments, sobject="PermissionSetAssignment"
        ).succeeded
    if metadata:
        deploy_id = gateway.deploy(destructive_package())
        while True:
            status = gateway.deploy_status(deploy_id)
            if str(status.get("state")) in DONE:
                break
            clock.sleep(POLL_EVERY.total_seconds())
        if status.get("state") != "Succeeded":
            detail = status.get("deployment_detail") or {}
            errors = detail.get("errors") if isinstance(detail, dict) else None
            raise DeployFailedError(
                str(status.get("state")),
                [f"{e.get('file')}: {e.get('message')}" for e in errors or []],
            )
        report.metadata_deploy = deploy_id
    return report
