"""``cmsf setup``: put the data model into an org and give the sync user access to it.

1. Compare the org with the data model (describe of each object; the permission sets).
2. If anything is missing, deploy the DX project through the Metadata API (the zip of
   :func:`cmsf_core.metadata_package.build_package`, all or nothing), wait for the deploy
   on the clock and report every component failure (file and problem) if it fails.
3. Assign ``CMSF_Full_Access`` to the sync user (the settings' sync user once connected,
   else the user cmsf logs in as), unless it is assigned already.

Idempotent: on an org that has everything, nothing is deployed or written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from cmsf_core.data_model import expected_fields
from cmsf_core.errors import CmsfError, NotFoundError, PlatformError
from cmsf_core.metadata_package import build_package
from cmsf_core.permission_sets import LEVELS

if TYPE_CHECKING:
    from cmsf_core.clock import Clock
    from cmsf_core.salesforce import SalesforceGateway

__all__ = ["DeployFailedError", "SetupReport", "missing_model", "setup_org", "sync_user_of"]

FULL_ACCESS = LEVELS[0].name
DEPLOY_TIMEOUT = timedelta(minutes=30)
POLL_EVERY = timedelta(seconds=2)
DONE = ("Succeeded", "SucceededPartial", "Failed", "Canceled")


class DeployFailedError(PlatformError):
    """The Metadata API refused the deploy; ``failures`` names each component and why."""

    def __init__(self, state: str, failures: list[str]) -> None:
        shown = "; ".join(failures[:10]) + (
            f"; and {len(failures) - 10} more" if len(failures) > 10 else ""
        )
        super().__init__(
            f"the data model deploy {state.lower()}: {shown or 'no component failures reported'}",
            platform="salesforce",
        )
        self.state = state
        self.failures = failures


@dataclass
class SetupReport:
    """What ``cmsf setup`` found and did."""

    missing_objects: list[str] = field(default_factory=list)
    missing_fields: list[str] = field(default_factory=list)
    missing_permission_sets: list[str] = field(default_factory=list)
    deployed: int = 0
    deploy_id: str | None = None
    user_id: str = ""
    assigned: bool = False

    @property
    def changed(self) -> bool:
        """Whether anything was deployed or assigned."""
        return bool(self.deployed or self.assigned)


def missing_model(gateway: SalesforceGateway) -> tuple[list[str], list[str], list[str]]:
    """Objects, fields (``Object.Field``) and permission sets of the data model the org lacks.

    Fields the running user cannot see count as missing: describe is all the API tells.
    """
    objects, fields = [], []
    for folder, names in expected_fields().items():
        target = "Task" if folder == "Activity" else folder
        try:
            present = gateway.field_names(target)
        except NotFoundError:
            objects.append(folder)
            continue
        fields += [f"{folder}.{name}" for name in sorted(names) if name not in present]
    wanted = [level.name for level in LEVELS]
    quoted = ", ".join(f"'{name}'" for name in wanted)
    have = {
        row["Name"]
        for row in gateway.query(f"SELECT Name FROM PermissionSet WHERE Name IN ({quoted})")
    }
    return objects, fields, [name for name in wanted if name not in have]


def sync_user_of(gateway: SalesforceGateway) -> str:
    """The sync user: the settings' once connected, else the user logged in."""
    try:
        rows = list(
            gateway.query(
                "SELECT Sync_User__c FROM CMSF_Settings__c WHERE Name = 'default' LIMIT 1"
            )
        )
    except CmsfError:
        rows = []
    if rows and rows[0].get("Sync_User__c"):
        return str(rows[0]["Sync_User__c"])
    return gateway.current_user_id()


def _deploy(gateway: SalesforceGateway, clock: Clock) -> tuple[str, int]:
    package = build_package()
    deploy_id = gateway.deploy(package.data)
    deadline = clock.now() + DEPLOY_TIMEOUT
    while True:
        status = gateway.deploy_status(deploy_id)
        state = str(status.get("state") or "")
        if state in DONE:
            break
        if clock.now() >= deadline:
            raise PlatformError(
                f"the data model deploy {deploy_id} is still {state or 'pending'} after "
                f"{int(DEPLOY_TIMEOUT.total_seconds() // 60)} minutes; see Setup > Deployment Status",
                platform="salesforce",
            )
        clock.sleep(POLL_EVERY.total_seconds())
    detail = status.get("deployment_detail") or {}
    errors = detail.get("errors") if isinstance(detail, dict) else None
    failures = [f"{e.get('file')}: {e.get('message')}" for e in errors or []]
    if state != "Succeeded":
        raise DeployFailedError(state, failures)
    return deploy_id, int(detail.get("deployed_count") or 0) if isinstance(detail, dict) else 0


def setup_org(gateway: SalesforceGateway, clock: Clock) -> SetupReport:
    """Deploy what the org lacks and assign the full-access permission set to the sync user.

    Raises:
        DeployFailedError: With every component failure, when the deploy fails (nothing
            is changed then: the deploy is all or nothing).
        PlatformError: If the deploy does not finish in time or the assignment is refused.
    """
    report = SetupReport()
    report.missing_objects, report.missing_fields, report.missing_permission_sets = missing_model(
        gateway
    )
    if report.missing_objects or report.missing_fields or report.missing_permission_sets:
        report.deploy_id, report.deployed = _deploy(gateway, clock)
        gateway.forget_describes()
    report.user_id = sync_user_of(gateway)
    permission_set = next(
        iter(gateway.query(f"SELECT Id FROM PermissionSet WHERE Name = '{FULL_ACCESS}'")), None
    )
    if permission_set is None:
        raise PlatformError(f"the permission set {FULL_ACCESS} is not in the org after the deploy")
    assigned = gateway.count(
        "SELECT COUNT() FROM PermissionSetAssignment WHERE "
        f"AssigneeId = '{report.user_id}' AND PermissionSetId = '{permission_set['Id']}'"
    )
    if not assigned:
        result = gateway.create(
            "PermissionSetAssignment",
            [{"AssigneeId": report.user_id, "PermissionSetId": permission_set["Id"]}],
        )
        if result.failures:
            failure = result.failures[0]
            raise PlatformError(
                f"Salesforce refused to assign {FULL_ACCESS}: {failure.code} {failure.message}",
                platform="salesforce",
                error_code=failure.code,
            )
        report.assigned = True
    return report
