"""Sandbox safety: never let a sandbox copy sync with a live Campaign Monitor account.

A Full or Partial sandbox holds real addresses and opt-outs under production record Ids,
plus a copy of the integration's settings. Syncing it with the production Campaign Monitor
account would push test edits into live lists and email real people. So: when the org is
a sandbox, or its Id is not the one the integration was connected from (a refresh gives
a new Id), the sync refuses to run unless the connected account is marked as a test
account; and writes to Campaign Monitor are refused outright in that state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmsf_core.errors import SafetyError

if TYPE_CHECKING:
    from cmsf_core.campaign_monitor import CampaignMonitorClient
    from cmsf_core.salesforce import SalesforceGateway
    from cmsf_core.settings import Settings

__all__ = ["check_org_safety", "unsafe_reason"]


def unsafe_reason(org: dict[str, object], settings: Settings) -> str | None:
    """Why syncing this org with the connected account is unsafe, or None if it is safe."""
    if settings.cm_test_account:
        return None
    org_id = str(org.get("Id") or "")
    if org.get("IsSandbox"):
        return (
            f"org {org_id[:15]} is a sandbox and the connected Campaign Monitor account is not "
            "marked as a test account"
        )
    connected = settings.connected_org_id
    if connected and org_id[:15] != connected[:15]:
        return (
            f"org {org_id[:15]} is not the org the integration was connected from "
            f"({connected[:15]}); a sandbox refresh copies settings from production"
        )
    return None


def check_org_safety(
    gateway: SalesforceGateway, settings: Settings, cm: CampaignMonitorClient | None = None
) -> None:
    """Refuse to go on when syncing this org would be unsafe.

    Also closes the Campaign Monitor client to writes while the org is unsafe.

    Raises:
        SafetyError: With the reason.
    """
    reason = unsafe_reason(gateway.organization(), settings)
    if cm is not None:
        cm.guard_writes(reason)
    if reason is not None:
        raise SafetyError(f"refusing to sync: {reason}", support_code="CMSF-SANDBOX")
