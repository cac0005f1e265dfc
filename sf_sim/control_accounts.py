"""Scenario-facing account hooks of an org: users and credentials, storage, outbox, request log.

Mixed into :class:`sf_sim.control.Control` (reach them as ``org.control.add_user(...)``
and so on); kept apart so each module holds one concern.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sf_sim.exceptions import RecordError, SalesforceApiError
from sf_sim.schema import format_datetime
from sf_sim.store import quote

if TYPE_CHECKING:
    from sf_sim.models import Org


__all__ = [
    "COUNTED_OBJECTS",
    "LICENSES",
    "STORAGE_BYTES",
    "AccountHooks",
    "RequestLogEntry",
]

STORAGE_BYTES = {"Campaign": 8192, "CampaignMember": 1024}
"""Bytes of data storage a record uses, where it differs from the 2 KB default."""
COUNTED_OBJECTS = {"Account", "Contact", "Lead", "Campaign", "CampaignMember", "Task"}
"""Standard objects that use data storage (custom objects do too, custom settings do not)."""
LICENSES: dict[str, tuple[str, ...]] = {
    "Salesforce": (),
    "Salesforce Platform": ("Lead", "Campaign", "CampaignMember", "CampaignMemberStatus"),
}
"""User licenses and the standard objects each leaves out (of those sf_sim models): a
Salesforce Platform license has no Leads and no Campaigns (nor opportunities, cases...)."""


@dataclass(frozen=True)
class RequestLogEntry:
    """One API request as the org saw it (never with credentials)."""

    method: str
    path: str
    status: int
    at: str
    cost: int
    sobject: str | None = None
    """The object a write concerns (sObject rows, collections, Bulk API ingest jobs)."""


class AccountHooks:
    """Users, credentials, storage, outbox and request log (a mixin of ``Control``)."""

    org: Org
    request_log: deque[RequestLogEntry]

    if TYPE_CHECKING:  # provided by Control, which this class is mixed into

        def set_object_permissions(self, object_name: str, **allowed: bool) -> None:
            """Set object permissions of the running user."""

    # ------------------------------------------------------------------ users and credentials

    def add_user(
        self,
        username: str,
        *,
        last_name: str = "User",
        first_name: str | None = None,
        email: str | None = None,
        profile: str = "Standard User",
        time_zone: str = "America/Los_Angeles",
        password: str | None = None,
        security_token: str | None = None,
    ) -> str:
        """Create an active user (and optionally its credentials); returns the 005 Id.

        Raises:
            ValueError: For an unknown profile.
            RecordError: If the platform rules refuse the user (duplicate username, ...).
        """
        profile_id = self.org.store.scalar("SELECT Id FROM Profile WHERE Name = ?", (profile,))
        if profile_id is None:
            raise ValueError(f"unknown profile {profile!r}")
        alias = "".join(ch for ch in username.split("@")[0] if ch.isalnum())[:8] or "user"
        user_id = self.org.create(
            "User",
            {
                "Username": username,
                "LastName": last_name,
                "FirstName": first_name,
                "Email": email or username,
                "Alias": alias,
                "ProfileId": profile_id,
                "TimeZoneSidKey": time_zone,
                "LocaleSidKey": "en_US",
                "EmailEncodingKey": "UTF-8",
                "LanguageLocaleKey": "en_US",
                "UserType": "Standard",
            },
            system=True,
        )
        if password is not None:
            self.org.sessions.set_password(username, password, security_token)
        return user_id

    def set_user_active(self, user_id: str, active: bool) -> None:
        """Deactivate (or reactivate) a user, as an admin does; a deactivated user's sessions end.

        Raises:
            RecordError: If there is no such user.
        """
        self.org.update("User", user_id, {"IsActive": bool(active)}, system=True)

    def set_password(self, username: str, password: str, security_token: str | None = None) -> None:
        """Set a user's password and security token (see :meth:`Sessions.set_password`)."""
        self.org.sessions.set_password(username, password, security_token)

    def add_connected_app(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        run_as: str | None = None,
        certificate: str | None = None,
        callback_url: str | None = None,
        rotate_refresh_tokens: bool = False,
    ) -> None:
        """Register a connected app (see :meth:`Sessions.add_connected_app`)."""
        self.org.sessions.add_connected_app(
            consumer_key,
            consumer_secret,
            run_as=run_as,
            certificate=certificate,
            callback_url=callback_url,
            rotate_refresh_tokens=rotate_refresh_tokens,
        )

    def expire_sessions(self) -> None:
        """End every session now, as a password change or an admin's logout would."""
        self.org.sessions.revoke_all()

    # ------------------------------------------------------------------ storage

    @property
    def storage_limit_mb(self) -> int:
        """The org's data storage limit in megabytes."""
        return int(self.org.store.meta("storage_limit_mb", 10240))

    @storage_limit_mb.setter
    def storage_limit_mb(self, value: int) -> None:
        self.org.store.set_meta("storage_limit_mb", int(value))

    @property
    def other_storage_mb(self) -> float:
        """Data storage used by data sf_sim does not model (other apps', attachments...)."""
        return float(self.org.store.meta("other_storage_mb", 0))

    @other_storage_mb.setter
    def other_storage_mb(self, value: float) -> None:
        if value < 0:
            raise ValueError("storage used cannot be negative")
        self.org.store.set_meta("other_storage_mb", float(value))

    def storage_used_bytes(self) -> int:
        """Data storage the org's live records use (and the other data, see above)."""
        return self._storage_bytes("SELECT COUNT(*) FROM {table} WHERE IsDeleted = 0")

    def _storage_bytes(self, rows_sql: str) -> int:
        """Storage of the counted objects, their rows counted by ``rows_sql`` (``{table}``)."""
        total = int(self.other_storage_mb * 1024 * 1024)
        for definition in self.org.schema:
            if definition.name in COUNTED_OBJECTS or (
                definition.custom and not definition.custom_setting
            ):
                rows = self.org.store.scalar(rows_sql.format(table=quote(definition.name)))
                total += int(rows or 0) * STORAGE_BYTES.get(definition.name, 2048)
        return total

    def storage_error(self, object_name: str, new_records: int) -> RecordError | None:
        """STORAGE_LIMIT_EXCEEDED if ``new_records`` more records would pass the limit."""
        definition = self.org.schema.object(object_name)
        if definition is None or not (
            definition.name in COUNTED_OBJECTS
            or (definition.custom and not definition.custom_setting)
        ):
            return None
        adding = new_records * STORAGE_BYTES.get(definition.name, 2048)
        limit = self.storage_limit_mb * 1024 * 1024
        # A table's largest rowid is at least its number of rows (live or not), and is read
        # from the end of its b-tree: when even that bound fits, so do the live records, and
        # the rows need no counting (a count per chunk of 200 scanned 100,000s of rows).
        if self._storage_bytes("SELECT MAX(rowid) FROM {table}") + adding <= limit:
            return None
        if self.storage_used_bytes() + adding > limit:
            return RecordError("STORAGE_LIMIT_EXCEEDED", "storage limit exceeded")
        return None

    # ------------------------------------------------------------------ licenses

    def apply_license(self, license_name: str) -> None:
        """Give the running user a user license: its objects become (in)accessible.

        ``Salesforce Platform`` takes away Lead, Campaign, CampaignMember and
        CampaignMemberStatus (read, create, edit, delete): queries answer ``INVALID_TYPE``,
        describe ``NOT_FOUND``, as for any object the user has no permission on.
        ``Salesforce`` gives them back.

        Raises:
            ValueError: For an unknown license.
        """
        if license_name not in LICENSES:
            raise ValueError(f"unknown license {license_name!r}; known: {', '.join(LICENSES)}")
        for names in LICENSES.values():
            for name in names:
                allowed = name not in LICENSES[license_name]
                self.set_object_permissions(
                    name, read=allowed, create=allowed, edit=allowed, delete=allowed
                )

    # ------------------------------------------------------------------ outbox and log

    def send_email(self, addresses: list[str], subject: str, body: str) -> dict[str, Any]:
        """Record one message of the standard e-mail action; returns the outbox entry."""
        if not addresses:
            raise SalesforceApiError(
                "INVALID_API_INPUT", "Missing required input parameter: emailAddresses", 400
            )
        entry = {
            "at": format_datetime(self.org.clock.now()),
            "to": addresses,
            "subject": subject,
            "body": body,
            "delivered": self.org.email_deliverability == "all",
        }
        outbox = self.org.store.meta("outbox", [])
        outbox.append(entry)
        self.org.store.set_meta("outbox", outbox)
        return entry

    def notify(
        self, type_id: str, recipients: list[str], title: str, body: str, target_id: str
    ) -> dict[str, Any]:
        """Record one custom notification (the bell); returns the entry."""
        entry = {
            "at": format_datetime(self.org.clock.now()),
            "type_id": type_id,
            "recipients": recipients,
            "title": title,
            "body": body,
            "target_id": target_id,
        }
        notifications = self.org.store.meta("notifications", [])
        notifications.append(entry)
        self.org.store.set_meta("notifications", notifications)
        return entry

    @property
    def notifications(self) -> list[dict[str, Any]]:
        """Custom notifications sent (the bell), oldest first."""
        return list(self.org.store.meta("notifications", []))

    @property
    def outbox(self) -> list[dict[str, Any]]:
        """Messages sent through the standard e-mail action, oldest first."""
        return list(self.org.store.meta("outbox", []))

    def log_request(
        self, method: str, path: str, status: int, cost: int, sobject: str | None = None
    ) -> None:
        """Append to the request log (``path`` without query string)."""
        self.request_log.append(
            RequestLogEntry(
                method, path, status, format_datetime(self.org.clock.now()), cost, sobject
            )
        )
