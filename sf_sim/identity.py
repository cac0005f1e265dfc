"""Org identity: the Organization row, profiles, the admin user, and sandbox copies.

A new org gets a ``00D`` Id, an Organization row (name, edition, instance, time zone),
the standard profiles, a System Administrator who is the running user (password and
security token generated from the org's seed), and the Automated Process user that
sandbox post-copy scripts run as.

:func:`refresh_copy` makes a sandbox the way a refresh does: all data and record Ids
are kept; the org gets a new ``00D`` Id and ``IsSandbox = true``; usernames get
``.<sandbox>`` appended and user e-mails ``.invalid`` (except the user who ran the
refresh); sessions do not survive; e-mail deliverability becomes "system only"; then
the post-copy hook runs as the Automated Process user.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sf_sim.limits import SANDBOX_DAILY_LIMIT
from sf_sim.schema import format_datetime, to_storage
from sf_sim.store import quote

if TYPE_CHECKING:
    from sf_sim.models import Org

OrgT = TypeVar("OrgT", bound="Org")

__all__ = ["PROFILES", "SandboxContext", "create_identity", "identity_url", "refresh_copy"]

PROFILES = ("System Administrator", "Standard User", "Read Only", "Minimum Access - Salesforce")
"""Profiles every new org has; the first is the admin's."""


@dataclass(frozen=True)
class SandboxContext:
    """What a SandboxPostCopy script receives (``ctx.organizationId()`` and friends)."""

    organization_id: str
    sandbox_id: str
    sandbox_name: str


def identity_url(org: Org, user_id: str) -> str:
    """The identity URL of a user (``/id/{orgId}/{userId}``), on the host the org is served
    from; token responses carry it as ``id``."""
    host = org.base_url if org.base_url_override else "https://login.salesforce.com"
    return f"{host}/id/{org.org_id}/{user_id}"


def _raw_insert(org: Org, object_name: str, values: dict[str, Any]) -> str:
    definition = org.schema.object(object_name)
    assert definition is not None
    now = format_datetime(org.clock.now())
    row: dict[str, Any] = {"Id": values.pop("Id", None) or org.ids.next(definition.key_prefix)}
    for name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
        if definition.field(name) is not None:
            row[name] = now
    for name in ("CreatedById", "LastModifiedById"):
        if definition.field(name) is not None:
            row[name] = org.running_user_id
    for item in definition.iter_fields():
        if item.default_value is not None and item.name not in values:
            values[item.name] = item.default_value
    row.update(values)
    storage = {}
    for name, value in row.items():
        found = definition.field(name)
        if found is not None:
            storage[found.name] = to_storage(found, value)
    org.store.insert_many(definition.name, [storage])
    return str(row["Id"])


def _secret(org: Org, length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(org.random.choice(alphabet) for _ in range(length))


def create_identity(org: Org, *, name: str, edition: str) -> None:
    """Write the identity of a brand-new org (inside the caller's transaction)."""
    host = f"{name}.my.salesforce.com"
    if not name or not all(c.isalnum() or c == "-" for c in name):
        raise ValueError("the org name must be letters, digits and hyphens (it is a host name)")
    store = org.store
    store.set_meta("my_domain", name)
    store.set_meta("instance_host", host)
    store.set_meta("created_date", format_datetime(org.clock.now()))
    org_id = org.ids.next("00D")
    admin_id = org.ids.next("005")
    store.set_meta("org_id", org_id)
    store.set_meta("admin_user_id", admin_id)
    org.running_user_id = admin_id
    instance = f"NA{org.random.randint(100, 250)}"
    _raw_insert(
        org,
        "Organization",
        {
            "Id": org_id,
            "Name": f"{name.capitalize()} Inc.",
            "OrganizationType": edition,
            "IsSandbox": False,
            "InstanceName": instance,
            "TimeZoneSidKey": "America/Los_Angeles",
            "DefaultLocaleSidKey": "en_US",
            "LanguageLocaleKey": "en_US",
            "Country": "US",
        },
    )
    profiles = {}
    for profile in PROFILES:
        profiles[profile] = _raw_insert(
            org,
            "Profile",
            {
                "Name": profile,
                "UserType": "Standard",
                "PermissionsApiEnabled": profile != "Minimum Access - Salesforce",
                "PermissionsModifyAllData": profile == "System Administrator",
                "PermissionsViewAllData": profile == "System Administrator",
            },
        )
    common = {
        "TimeZoneSidKey": "America/Los_Angeles",
        "LocaleSidKey": "en_US",
        "EmailEncodingKey": "UTF-8",
        "LanguageLocaleKey": "en_US",
        "IsActive": True,
        "UserType": "Standard",
    }
    username = f"admin@{name}.example.com"
    _raw_insert(
        org,
        "User",
        {
            **common,
            "Id": admin_id,
            "Username": username,
            "FirstName": "Admin",
            "LastName": "User",
            "Name": "Admin User",
            "Email": username,
            "Alias": "admin",
            "CommunityNickname": "admin",
            "ProfileId": profiles["System Administrator"],
        },
    )
    autoproc = _raw_insert(
        org,
        "User",
        {
            **common,
            "Username": f"autoproc@{org_id[:15].lower()}",
            "LastName": "Automated Process",
            "Name": "Automated Process",
            "Email": f"autoproc@{org_id[:15].lower()}.example.com",
            "Alias": "autoproc",
            "IsActive": True,
            "UserType": "AutomatedProcess",
            "ProfileId": profiles["Minimum Access - Salesforce"],
        },
    )
    store.set_meta("automated_process_user_id", autoproc)
    store.set_meta("admin_username", username)
    password, token = _secret(org, 16), _secret(org, 25)
    org.admin_secret = (password, token)  # in memory only: the file keeps their hashes
    org.sessions.set_password(username, password, token)


def refresh_copy(
    source: OrgT,
    sandbox_name: str,
    *,
    path: str | Path | None = None,
    post_copy: Callable[[OrgT, SandboxContext], None] | None = None,
) -> OrgT:
    """Copy ``source`` into a sandbox org of the same class; see the module docstring."""
    if not sandbox_name or not sandbox_name.isalnum() or len(sandbox_name) > 10:
        raise ValueError("a sandbox name is 1-10 letters and digits")
    source.store.set_meta("id_serial", source.ids.serial)
    sandbox = type(source)(path, clock=source.clock, _copy_source=source)
    store = sandbox.store
    old_org_id = sandbox.org_id
    new_org_id = sandbox.ids.next("00D")
    sandbox_id = sandbox.ids.next("0GQ")
    with store.transaction():
        store.conn.execute(
            'UPDATE "Organization" SET Id = ?, IsSandbox = 1, TrialExpirationDate = NULL WHERE Id = ?',
            (new_org_id, old_org_id),
        )
        store.set_meta("org_id", new_org_id)
        store.set_meta("is_sandbox", True)
        host = f"{source.name}--{sandbox_name.lower()}.sandbox.my.salesforce.com"
        store.set_meta("instance_host", host)
        store.set_meta("email_deliverability", "system")
        store.set_meta("daily_api_limit", SANDBOX_DAILY_LIMIT)
        store.set_meta("outbox", [])
        store.conn.execute(
            f"UPDATE {quote('User')} SET Username = Username || ?, "
            "Email = CASE WHEN Id = ? THEN Email ELSE Email || '.invalid' END",
            ("." + sandbox_name.lower(), source.running_user_id),
        )
        store.set_meta("admin_username", source.admin_username + "." + sandbox_name.lower())
        store.conn.execute("DELETE FROM _sf_api_calls")
        sandbox.sessions.revoke_all()
    sandbox.running_user_id = source.running_user_id
    sandbox.admin_secret = source.admin_secret  # a sandbox copies the users' credentials
    if post_copy is not None:
        with sandbox.run_as(str(store.meta("automated_process_user_id"))):
            post_copy(sandbox, SandboxContext(new_org_id, sandbox_id, sandbox_name))
    return sandbox
