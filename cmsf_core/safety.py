"""Sandbox safety: never let a sandbox copy sync with a live Campaign Monitor account.

A Full or Partial sandbox holds real addresses and opt-outs under production record Ids,
plus a copy of the integration's settings. Syncing it with the production Campaign Monitor
account would push test edits into live lists and email real people. So: when the org is
a sandbox, or its Id is not the one the integration was connected from (a refresh gives
a new Id), the sync refuses to run unless the connected account is a test account; and
writes to Campaign Monitor are refused outright in that state.

Whether the account is a test account is decided from the account itself at every check,
never from a stored claim alone: where the account says (cm_sim's ``TestAccount`` in the
billing details), that answer wins; where it does not (a real account), the admin's claim
made at ``connect`` counts only for the very account it was made for (its fingerprint).
The credentials opening another account than the connected one stop the sync outright.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cmsf_core.errors import SafetyError

if TYPE_CHECKING:
    from cmsf_core.campaign_monitor import CampaignMonitorClient
    from cmsf_core.salesforce import SalesforceGateway
    from cmsf_core.settings import Settings

__all__ = ["check_account", "check_org_safety", "unsafe_reason"]


def unsafe_reason(org: dict[str, object], settings: Settings, *, test_account: bool) -> str | None:
    """Why syncing this org with the connected account is unsafe, or None if it is safe.

    Args:
        org: The org's ``Organization`` row (``Id``, ``IsSandbox``).
        settings: The integration's settings (the org Id it was connected from).
        test_account: Whether the connected account is a test account (as checked now).
    """
    if test_account:
        return None
    org_id = str(org.get("Id") or "")
    if org.get("IsSandbox"):
        return (
            f"org {org_id[:15]} is a sandbox and the connected Campaign Monitor account is not "
            "a test account"
        )
    connected = settings.connected_org_id
    if connected and org_id[:15] != connected[:15]:
        return (
            f"org {org_id[:15]} is not the org the integration was connected from "
            f"({connected[:15]}); a sandbox refresh copies settings from production"
        )
    return None


def check_account(cm: CampaignMonitorClient, settings: Settings) -> bool:
    """Check that the credentials open the connected account; say whether it is a test account.

    Returns:
        True if the account is a test account: what the account says, else the admin's
        claim made at connect time for this same account.

    Raises:
        SafetyError: If the credentials open another account than the one connected.
    """
    if settings.cm_account_id and cm.account_fingerprint() != settings.cm_account_id:
        raise SafetyError(
            "refusing to sync: the Campaign Monitor credentials open another account than the "
            "one this org was connected to; run 'cmsf connect' to connect to it",
            support_code="CMSF-CM-ACCOUNT",
        )
    said = cm.says_test_account()
    return said if said is not None else settings.cm_test_account


def check_org_safety(
    gateway: SalesforceGateway,
    settings: Settings,
    cm: CampaignMonitorClient,
    *,
    org: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Refuse to go on when syncing this org with this account would be unsafe.

    Also closes the Campaign Monitor client to writes while the org is unsafe.

    Args:
        gateway: The org.
        settings: The integration's settings.
        cm: The account.
        org: The org's ``Organization`` row, when the caller read it already.

    Returns:
        The org's ``Organization`` row.

    Raises:
        SafetyError: With the reason.
    """
    org = org if org is not None else gateway.organization()
    reason: str | None
    try:
        reason = unsafe_reason(org, settings, test_account=check_account(cm, settings))
    except SafetyError as error:
        cm.guard_writes(str(error))
        raise
    cm.guard_writes(reason)
    if reason is not None:
        raise SafetyError(f"refusing to sync: {reason}", support_code="CMSF-SANDBOX")
    return org
