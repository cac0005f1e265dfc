"""``cmsf setup``: put the data model into an org and give the sync user access to it.

1. Compare the org with the data model (describe of each object; the permission sets):
   what is missing, and fields of an older definition (type, a shorter length).
2. If anything is missing or older, deploy the DX project through the Metadata API (the zip of
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

from cmsf_core.data_model import expected_fields, field_specs
from cmsf_core.errors import CmsfError, NotFoundError, PlatformError
from cmsf_core.metadata_package import build_package
from cmsf_core.permission_sets import LEVELS

if TYPE_CHECKING:
    from cmsf_core.clock import Clock
    from cmsf_core.salesforce import SalesforceGateway

__all__ = [
    "DeployFailedError",
    "ModelGap",
    "SetupReport",
    "missing_model",
    "setup_org",
    "sync_user_of",
]

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
    changed_fields: list[str] = field(default_factory=list)
    missing_permission_sets: list[str] = field(default_factory=list)
    deployed: int = 0
    deploy_id: str | None = None
    user_id: str = ""
    assigned: bool = False

    @property
    def changed(self) -> bool:
        """Whether anything was deployed or assigned."""
        return bool(self.deployed or self.assigned)


@dataclass
class ModelGap:
    """What the org lacks of this version's data model."""

    objects: list[str] = field(default_factory=list)
    """Object folders not deployed."""
    fields: list[str] = field(default_factory=list)
    """``Object.Field`` not there (or hidden from the running user)."""
    changed: list[str] = field(default_factory=list)
    """``Object.Field (how it differs)``: there, but of an older definition (type, length)."""
    permission_sets: list[str] = field(default_factory=list)
    """Permission sets not deployed."""

    def __bool__(self) -> bool:
        return bool(self.objects or self.fields or self.changed or self.permission_sets)


def missing_model(gateway: SalesforceGateway) -> ModelGap:
    """Objects, fields and permission sets of the data model the org lacks or has older.

    Fields the running user cannot see count as missing: describe is all the API tells.
    A field whose type differs, or whose length is shorter than this version's, counts
    as changed (a deploy updates it; a longer field an admin widened is left alone).
    """
    gap = ModelGap()
    specs = field_specs()
    for folder, names in expected_fields().items():
        target = "Task" if folder == "Activity" else folder
        try:
            described = {f["name"]: f for f in gateway.describe(target).get("fields", [])}
        except NotFoundError:
            gap.objects.append(folder)
            continue
        for name in sorted(names):
            if name not in described:
                gap.fields.append(f"{folder}.{name}")
            elif name in specs.get(folder, {}):
                mismatch = specs[folder][name].mismatch(described[name])
                if mismatch:
                    gap.changed.append(f"{folder}.{name} ({mismatch})")
    wanted = [level.name for level in LEVELS]
    quoted = ", ".join(f"'{name}'" for name in wanted)
    have = {
        row["Name"]
        for row in gateway.query(f"SELECT Name FROM PermissionSet WHERE Name IN ({quoted})")
    }
    gap.permission_sets = [name for name in wanted if name not in have]
    return gap


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
    gap = missing_model(gateway)
    report.missing_objects, report.missing_fields = gap.objects, gap.fields
    report.changed_fields, report.missing_permission_sets = gap.changed, gap.permission_sets
    if gap:
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
