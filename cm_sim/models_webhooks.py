"""Webhooks registered on lists, and the outbox their deliveries are recorded in.

There is no outbound network: each delivery is a row in the outbox (webhook, URL,
virtual time, JSON payload ``{"Events": [...], "ListID": ...}``) that tests read with
:meth:`WebhooksMixin.webhook_deliveries`. One delivery per event (the platform batches
up to 1,000; batching is not modelled). ``PayloadFormat`` is accepted in any case and
listed capitalised (``Json``/``Xml``); payloads are always recorded as JSON.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from cm_sim.exceptions import api_error
from cm_sim.models_base import ACCOUNT_SCOPE, Scope
from cm_sim.models_clients import ClientsMixin

__all__ = ["WEBHOOK_EVENTS", "WebhooksMixin"]

WEBHOOK_EVENTS = ("Subscribe", "Update", "Deactivate")


class WebhooksMixin(ClientsMixin):
    """List webhooks and their delivery outbox."""

    def create_webhook(
        self, list_id: str, body: dict[str, Any], scope: Scope = ACCOUNT_SCOPE
    ) -> str:
        """``POST /lists/{id}/webhooks.json``.

        Raises:
            CmApiError: 603 bad event, 601 bad URL, 602 bad payload format.
        """
        self.list_row(list_id, scope)
        events = body.get("Events")
        if not isinstance(events, list) or not events:
            raise api_error(603)
        wanted = []
        for event in events:
            match = [
                e for e in WEBHOOK_EVENTS if isinstance(event, str) and e.lower() == event.lower()
            ]
            if not match:
                raise api_error(603)
            wanted.append(match[0])
        url = body.get("Url")
        parsed = urlparse(url) if isinstance(url, str) else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise api_error(601)
        fmt = body.get("PayloadFormat")
        if not isinstance(fmt, str) or fmt.lower() not in ("json", "xml"):
            raise api_error(602)
        webhook_id = self.new_hex(16)
        self.store.insert(
            "webhooks",
            {"id": webhook_id, "list_id": list_id, "events": json.dumps(wanted), "url": url,
             "format": fmt.capitalize(), "status": "Active"},
        )  # fmt: skip
        return webhook_id

    def webhook_row(
        self, list_id: str, webhook_id: str, scope: Scope = ACCOUNT_SCOPE
    ) -> dict[str, Any]:
        """A webhook of the list, or 400 Code 600."""
        self.list_row(list_id, scope)
        row = self.store.one(
            "SELECT * FROM webhooks WHERE id = ? AND list_id = ?", (webhook_id, list_id)
        )
        if row is None:
            raise api_error(600)
        return row

    def webhooks_to_api(self, list_id: str, scope: Scope = ACCOUNT_SCOPE) -> list[dict[str, Any]]:
        """``GET /lists/{id}/webhooks.json``."""
        self.list_row(list_id, scope)
        rows = self.store.all("SELECT * FROM webhooks WHERE list_id = ? ORDER BY rowid", (list_id,))
        return [
            {"WebhookID": r["id"], "Events": json.loads(r["events"]), "Url": r["url"],
             "Status": r["status"], "PayloadFormat": r["format"]}
            for r in rows
        ]  # fmt: skip

    def set_webhook_status(self, list_id: str, webhook_id: str, active: bool, scope: Scope) -> None:
        """``PUT .../activate.json`` and ``.../deactivate.json``."""
        self.webhook_row(list_id, webhook_id, scope)
        self.store.execute(
            "UPDATE webhooks SET status = ? WHERE id = ?",
            ("Active" if active else "Inactive", webhook_id),
        )

    def delete_webhook(self, list_id: str, webhook_id: str, scope: Scope = ACCOUNT_SCOPE) -> None:
        """``DELETE /lists/{id}/webhooks/{wid}.json``."""
        self.webhook_row(list_id, webhook_id, scope)
        self.store.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,))

    def test_webhook(self, list_id: str, webhook_id: str, scope: Scope = ACCOUNT_SCOPE) -> None:
        """``GET .../test.json``: records a test delivery; 610 when the URL is marked failing."""
        row = self.webhook_row(list_id, webhook_id, scope)
        failing = set(json.loads(self.store.meta_get("failing_webhook_urls") or "[]"))
        if row["url"] in failing:
            raise api_error(610)
        payload = {"Events": [{"Type": "Test", "Date": ""}], "ListID": list_id}
        self._deliver(row, payload)

    def mark_webhook_url_failing(self, url: str, failing: bool = True) -> None:
        """Make deliveries (and tests) to ``url`` fail (control API)."""
        urls = set(json.loads(self.store.meta_get("failing_webhook_urls") or "[]"))
        (urls.add if failing else urls.discard)(url)
        self.store.meta_set("failing_webhook_urls", json.dumps(sorted(urls)))

    def _deliver(self, hook: dict[str, Any], payload: dict[str, Any]) -> None:
        self.store.execute(
            "INSERT INTO outbox (webhook_id, url, ts, payload) VALUES (?, ?, ?, ?)",
            (hook["id"], hook["url"], self.now_ts(), json.dumps(payload)),
        )

    def fire_webhooks(self, list_id: str, event_type: str, event: dict[str, Any]) -> None:
        """Record one event for every active webhook of the list that wants it."""
        hooks = self.store.all(
            "SELECT * FROM webhooks WHERE list_id = ? AND status = 'Active'", (list_id,)
        )
        failing = set(json.loads(self.store.meta_get("failing_webhook_urls") or "[]"))
        for hook in hooks:
            if event_type in json.loads(hook["events"]) and hook["url"] not in failing:
                self._deliver(hook, {"Events": [{"Type": event_type, **event}], "ListID": list_id})

    def has_webhooks(self, list_id: str) -> bool:
        """Whether the list has any active webhook (lets bulk paths skip the work)."""
        return bool(
            self.store.scalar(
                "SELECT 1 FROM webhooks WHERE list_id = ? AND status = 'Active' LIMIT 1", (list_id,)
            )
        )

    def webhook_deliveries(self, list_id: str | None = None) -> list[dict[str, Any]]:
        """The outbox, oldest first: ``{WebhookID, Url, At (epoch s), Payload}``."""
        sql = "SELECT o.* FROM outbox o"
        params: tuple[Any, ...] = ()
        if list_id is not None:
            sql += " JOIN webhooks w ON w.id = o.webhook_id WHERE w.list_id = ?"
            params = (list_id,)
        rows = self.store.all(sql + " ORDER BY o.id", params)
        return [
            {"WebhookID": r["webhook_id"], "Url": r["url"], "At": r["ts"],
             "Payload": json.loads(r["payload"])}
            for r in rows
        ]  # fmt: skip
