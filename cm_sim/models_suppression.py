"""Per-client suppression lists.

Rows carry a reason and the time (with real seconds on the wire). Reasons the
simulator writes: ``Unsubscribed`` (unsubscribe that suppresses), ``Bounced`` (hard
bounce), ``Spam Complaint`` and ``Suppressed Manually`` (``suppress.json`` and the
control API). A suppressed address is skipped by campaign sends; adding it to a list
without ``Resubscribe`` does not add it (Code 204 in strict mode).
"""

from __future__ import annotations

from typing import Any

from cm_sim.exceptions import api_error
from cm_sim.models_base import ACCOUNT_SCOPE, Scope
from cm_sim.models_webhooks import WebhooksMixin
from cm_sim.paging import envelope, parse_paging
from cm_sim.times import wire_seconds
from cm_sim.validation import is_email

__all__ = ["SuppressionMixin"]

_ORDER = {"email": "email_norm", "date": "ts", "name": "email_norm"}


class SuppressionMixin(WebhooksMixin):
    """Suppression list reads and writes."""

    def suppress_address(self, client_id: str, email: str, reason: str, ts: int) -> None:
        """Put an address on the client's suppression list (keeps the first reason/date)."""
        self.store.execute(
            "INSERT OR IGNORE INTO suppression (client_id, email_norm, email, reason, ts) "
            "VALUES (?, ?, ?, ?, ?)",
            (client_id, email.strip().lower(), email.strip(), reason, ts),
        )

    def unsuppress_address(self, client_id: str, email_norm: str) -> bool:
        """Take an address off the suppression list; returns whether it was there."""
        cur = self.store.execute(
            "DELETE FROM suppression WHERE client_id = ? AND email_norm = ?",
            (client_id, email_norm),
        )
        return cur.rowcount > 0

    def is_suppressed(self, client_id: str, email_norm: str) -> bool:
        """Whether the address is on the client's suppression list."""
        return bool(
            self.store.scalar(
                "SELECT 1 FROM suppression WHERE client_id = ? AND email_norm = ?",
                (client_id, email_norm),
            )
        )

    def suppress(self, client_id: str, emails: Any, scope: Scope = ACCOUNT_SCOPE) -> None:
        """``POST /clients/{id}/suppress.json`` with ``{"EmailAddresses": [...]}``.

        Raises:
            CmApiError: 102 unknown client; 1 when any address is invalid (nothing stored).
        """
        self.client_row(client_id, scope)
        if not isinstance(emails, list) or not emails:
            raise api_error(1, "Please provide at least one email address")
        if not all(is_email(e) for e in emails):
            raise api_error(1)
        now = self.now_ts()
        for email in emails:
            self.suppress_address(client_id, str(email), "Suppressed Manually", now)

    def unsuppress(self, client_id: str, email: str | None, scope: Scope = ACCOUNT_SCOPE) -> None:
        """``PUT /clients/{id}/unsuppress.json?email=``; 176 when not suppressed."""
        self.client_row(client_id, scope)
        if not email or not is_email(email):
            raise api_error(1)
        if not self.unsuppress_address(client_id, email.strip().lower()):
            raise api_error(176)

    def suppression_list_to_api(
        self, client_id: str, args: dict[str, str], scope: Scope = ACCOUNT_SCOPE
    ) -> dict[str, Any]:
        """``GET /clients/{id}/suppressionlist.json`` (paged, default ``email asc``)."""
        self.client_row(client_id, scope)
        page = parse_paging(args, default_field="email", default_direction="asc")
        tz = self.client_tz(client_id)
        total = int(
            self.store.scalar("SELECT COUNT(*) FROM suppression WHERE client_id = ?", (client_id,))
            or 0
        )
        direction = "DESC" if page.descending else "ASC"
        order = f"{_ORDER[page.field]} {direction}, email_norm {direction}"

        def fetch(limit: int, offset: int) -> list[dict[str, Any]]:
            rows = self.store.all(
                f"SELECT * FROM suppression WHERE client_id = ? ORDER BY {order} LIMIT ? OFFSET ?",
                (client_id, limit, offset),
            )
            return [
                {"SuppressionReason": r["reason"], "EmailAddress": r["email"],
                 "Date": wire_seconds(int(r["ts"]), tz), "State": "Suppressed"}
                for r in rows
            ]  # fmt: skip

        return envelope(page, total, fetch)
