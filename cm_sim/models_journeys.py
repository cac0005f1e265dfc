"""Journeys: a series of emails that starts for a subscriber when they join a list.

A journey (trigger "On Subscription") belongs to a list and has emails with delays.
When a subscriber joins the list and the add asks for it, each email is "sent" at
join time + its delay (a recipient row stamped in the future) and the behaviour
models generate its activity. Which adds start journeys: a single add of a new
address; a resubscribe only with ``RestartSubscriptionBasedAutoresponders``; an
import only with ``QueueSubscriptionBasedAutoResponders`` (new rows) or
``RestartSubscriptionBasedAutoresponders`` (resubscribed rows).
"""

from __future__ import annotations

from typing import Any

from cm_sim.activity import activity_page, recipients_page
from cm_sim.behaviour import plan_activity
from cm_sim.exceptions import ControlError, api_error
from cm_sim.models_base import ACCOUNT_SCOPE, Scope
from cm_sim.models_suppression import SuppressionMixin

__all__ = ["JourneysMixin"]

_KINDS = {"opens": "open", "clicks": "click", "unsubscribes": "unsubscribe", "bounces": "bounce"}


class JourneysMixin(SuppressionMixin):
    """Journeys and their emails."""

    def create_journey(
        self, list_id: str, name: str, emails: list[tuple[str, int]], *, status: str = "Active"
    ) -> str:
        """Create a journey on a list (control API; the API has no create).

        Args:
            list_id: The list whose new subscribers enter the journey.
            name: Journey name.
            emails: ``(email name, delay in seconds after joining)`` pairs.
            status: ``Active`` (starts for new subscribers) or ``Draft``/``Paused``.

        Returns:
            The ``JourneyID``.
        """
        row = self.list_row(list_id)
        if not emails or any(delay < 0 for _, delay in emails):
            raise ControlError("a journey needs emails with non-negative delays")
        journey_id = self.new_hex()
        self.store.insert(
            "journeys",
            {"id": journey_id, "client_id": row["client_id"], "list_id": list_id, "name": name,
             "status": status, "trigger_type": "On Subscription"},
        )  # fmt: skip
        for position, (email_name, delay) in enumerate(emails):
            self.store.insert(
                "journey_emails",
                {"id": self.new_hex(), "journey_id": journey_id, "name": email_name,
                 "position": position, "delay_s": int(delay)},
            )  # fmt: skip
        return journey_id

    def start_journeys(self, list_id: str, members: list[str], joined_ts: int) -> None:
        """Send each active journey's emails on ``list_id`` to members who just joined."""
        if not members:
            return
        emails = self.store.all(
            "SELECT e.* FROM journey_emails e JOIN journeys j ON j.id = e.journey_id "
            "WHERE j.list_id = ? AND j.status = 'Active' ORDER BY e.position",
            (list_id,),
        )
        if not emails:
            return
        two_click = (
            {list_id}
            if self.store.scalar("SELECT two_click FROM lists WHERE id = ?", (list_id,))
            else set()
        )
        for email in emails:
            ts = joined_ts + int(email["delay_s"])
            self.store.executemany(
                "INSERT INTO recipients (source, source_id, email, list_id, ts) VALUES ('journey', ?, ?, ?, ?)",
                [(email["id"], m, list_id, ts) for m in members],
            )
            plan_activity(
                self, "journey", email["id"], [(m, list_id) for m in members], ts, [], two_click
            )

    def _journey_row(self, journey_id: str, scope: Scope) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM journeys WHERE id = ?", (journey_id,))
        if row is None or (scope.client_id is not None and row["client_id"] != scope.client_id):
            raise api_error(3000)
        return row

    def _journey_email_row(self, email_id: str, scope: Scope) -> dict[str, Any]:
        row = self.store.one(
            "SELECT e.*, j.client_id FROM journey_emails e JOIN journeys j ON j.id = e.journey_id "
            "WHERE e.id = ?",
            (email_id,),
        )
        if row is None or (scope.client_id is not None and row["client_id"] != scope.client_id):
            raise api_error(3002)
        return row

    def journeys_to_api(self, client_id: str, scope: Scope = ACCOUNT_SCOPE) -> list[dict[str, Any]]:
        """``GET /clients/{id}/journeys.json``."""
        self.client_row(client_id, scope)
        rows = self.store.all(
            "SELECT * FROM journeys WHERE client_id = ? ORDER BY name, id", (client_id,)
        )
        return [
            {"ListID": r["list_id"], "JourneyID": r["id"], "Name": r["name"], "Status": r["status"]}
            for r in rows
        ]

    def journey_summary_to_api(
        self, journey_id: str, scope: Scope = ACCOUNT_SCOPE
    ) -> dict[str, Any]:
        """``GET /journeys/{id}.json`` with per-email counts up to now."""
        row = self._journey_row(journey_id, scope)
        now = self.now_ts()
        emails = []
        for e in self.store.all(
            "SELECT * FROM journey_emails WHERE journey_id = ? ORDER BY position", (journey_id,)
        ):

            def count(kind: str, distinct: bool = False, eid: str = e["id"]) -> int:
                what = "COUNT(DISTINCT email)" if distinct else "COUNT(*)"
                return int(self.store.scalar(
                    f"SELECT {what} FROM activity WHERE source = 'journey' AND source_id = ? "
                    "AND kind = ? AND ts <= ?", (eid, kind, now)) or 0)  # fmt: skip

            sent = self.store.scalar(
                "SELECT COUNT(*) FROM recipients WHERE source = 'journey' AND source_id = ? AND ts <= ?",
                (e["id"], now),
            )
            emails.append({
                "EmailID": e["id"], "Name": e["name"], "Bounced": count("bounce"),
                "Clicked": count("click"), "Opened": count("open"), "Sent": int(sent or 0),
                "UniqueOpened": count("open", True), "Unsubscribed": count("unsubscribe"),
            })  # fmt: skip
        return {"JourneyID": row["id"], "Name": row["name"], "TriggerType": row["trigger_type"],
                "Status": row["status"], "Emails": emails}  # fmt: skip

    def journey_email_page(
        self, email_id: str, what: str, args: dict[str, str], scope: Scope = ACCOUNT_SCOPE
    ) -> dict[str, Any]:
        """``GET /journeys/email/{id}/{recipients|opens|clicks|unsubscribes|bounces}.json``."""
        row = self._journey_email_row(email_id, scope)
        tz = self.client_tz(str(row["client_id"]))
        if what == "recipients":
            return recipients_page(
                self.store, self.now_ts(), "journey", email_id, args, tz, journey=True
            )
        return activity_page(
            self.store, self.now_ts(), "journey", email_id, _KINDS[what], args, tz, journey=True
        )
