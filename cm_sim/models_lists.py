"""Subscriber lists, their options, custom fields, segments and statistics.

List options: ``UnsubscribeSetting`` (``AllClientLists`` | ``OnlyThisList``),
``ConfirmedOptIn`` (new single adds stay Unconfirmed until confirmed),
``AddUnsubscribesToSuppList``, ``ScrubActiveWithSuppList`` and the simulator's
``two_click_unsubscribe`` (the unsubscribe link lands on a confirmation page, so link
scanners cannot unsubscribe anyone; surfaced in list details as
``"UnsubscribeConfirmation": true|false``). A deleted list leaves ``lists.json`` and all
its endpoints answer 400 Code 101 Invalid ListID.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from cm_sim.exceptions import api_error
from cm_sim.models_base import ACCOUNT_SCOPE, Scope
from cm_sim.models_state import StateMixin
from cm_sim.validation import DATA_TYPES, field_key, too_long

__all__ = ["ListsMixin"]

_SETTINGS = ("AllClientLists", "OnlyThisList")


def _flag(value: Any) -> int:
    if isinstance(value, str):
        return 1 if value.strip().lower() == "true" else 0
    return 1 if value else 0


class ListsMixin(StateMixin):
    """Lists, custom fields and segments."""

    def create_list(
        self,
        client_id: str,
        title: str,
        *,
        unsubscribe_page: str = "",
        unsubscribe_setting: str = "AllClientLists",
        confirmed_opt_in: bool = False,
        confirmation_success_page: str = "",
        two_click_unsubscribe: bool = False,
        scope: Scope = ACCOUNT_SCOPE,
    ) -> str:
        """Create a list (``POST /lists/{clientid}.json``).

        Returns:
            The new ``ListID``.

        Raises:
            CmApiError: 102 unknown client, 251 empty title, 250 duplicate title,
                261 bad unsubscribe setting.
        """
        self.client_row(client_id, scope)
        if not isinstance(title, str) or not title.strip() or too_long(title):
            raise api_error(251)
        if unsubscribe_setting not in _SETTINGS:
            raise api_error(261)
        dupe = self.store.scalar(
            "SELECT 1 FROM lists WHERE client_id = ? AND deleted = 0 AND lower(title) = lower(?)",
            (client_id, title.strip()),
        )
        if dupe:
            raise api_error(250)
        list_id = self.new_hex()
        self.store.insert(
            "lists",
            {
                "id": list_id, "client_id": client_id, "title": title.strip(),
                "unsubscribe_page": unsubscribe_page or "",
                "unsubscribe_setting": unsubscribe_setting,
                "confirmed_opt_in": _flag(confirmed_opt_in),
                "confirmation_page": confirmation_success_page or "",
                "add_unsubs_to_supp": 0, "scrub_active": 0,
                "two_click": _flag(two_click_unsubscribe), "deleted": 0,
                "created_ts": self.now_ts(),
            },
        )  # fmt: skip
        return list_id

    def update_list(self, list_id: str, body: dict[str, Any], scope: Scope = ACCOUNT_SCOPE) -> None:
        """``PUT /lists/{id}.json``; ``ScrubActiveWithSuppList`` unsubscribes suppressed actives."""
        row = self.list_row(list_id, scope)
        title = body.get("Title")
        if not isinstance(title, str) or not title.strip() or too_long(title):
            raise api_error(251)
        setting = body.get("UnsubscribeSetting", row["unsubscribe_setting"])
        if setting not in _SETTINGS:
            raise api_error(261)
        dupe = self.store.scalar(
            "SELECT 1 FROM lists WHERE client_id = ? AND deleted = 0 AND id != ? "
            "AND lower(title) = lower(?)",
            (row["client_id"], list_id, title.strip()),
        )
        if dupe:
            raise api_error(250)
        scrub = _flag(body.get("ScrubActiveWithSuppList", False))
        self.store.execute(
            "UPDATE lists SET title = ?, unsubscribe_page = ?, unsubscribe_setting = ?, "
            "confirmed_opt_in = ?, confirmation_page = ?, add_unsubs_to_supp = ?, "
            "scrub_active = ? WHERE id = ?",
            (
                title.strip(), body.get("UnsubscribePage") or "", setting,
                _flag(body.get("ConfirmedOptIn", row["confirmed_opt_in"])),
                body.get("ConfirmationSuccessPage") or "",
                _flag(body.get("AddUnsubscribesToSuppList", False)), scrub, list_id,
            ),
        )  # fmt: skip
        if scrub:
            self._scrub_with_suppression(list_id, str(row["client_id"]))

    def _scrub_with_suppression(self, list_id: str, client_id: str) -> None:
        """Unsubscribe the list's active subscribers that are on the suppression list."""
        rows = self.store.all(
            "SELECT s.email_norm FROM subscribers s JOIN suppression p "
            "ON p.client_id = ? AND p.email_norm = s.email_norm "
            "WHERE s.list_id = ? AND s.state = 'Active'",
            (client_id, list_id),
        )
        now = self.now_ts()
        for r in rows:
            self.set_state(list_id, str(r["email_norm"]), "Unsubscribed", now)

    def set_two_click_unsubscribe(self, list_id: str, enabled: bool = True) -> None:
        """Configure two-click (confirmation page) vs one-click unsubscribe for a list."""
        self.list_row(list_id)
        self.store.execute("UPDATE lists SET two_click = ? WHERE id = ?", (_flag(enabled), list_id))

    def delete_list(self, list_id: str, scope: Scope = ACCOUNT_SCOPE) -> None:
        """``DELETE /lists/{id}.json``; 252 while a draft campaign uses the list."""
        self.list_row(list_id, scope)
        drafts = self.store.all("SELECT list_ids FROM campaigns WHERE status = 'draft'")
        if any(list_id in json.loads(d["list_ids"]) for d in drafts):
            raise api_error(252)
        self.store.execute("UPDATE lists SET deleted = 1 WHERE id = ?", (list_id,))

    def lists_to_api(self, client_id: str, scope: Scope = ACCOUNT_SCOPE) -> list[dict[str, Any]]:
        """``GET /clients/{id}/lists.json``."""
        self.client_row(client_id, scope)
        rows = self.store.all(
            "SELECT id, title FROM lists WHERE client_id = ? AND deleted = 0 ORDER BY title, id",
            (client_id,),
        )
        return [{"ListID": r["id"], "Name": r["title"]} for r in rows]

    def list_details_to_api(self, list_id: str, scope: Scope = ACCOUNT_SCOPE) -> dict[str, Any]:
        """``GET /lists/{id}.json`` (``list_details.json`` shape plus the two-click flag)."""
        r = self.list_row(list_id, scope)
        return {
            "ConfirmedOptIn": bool(r["confirmed_opt_in"]), "Title": r["title"],
            "UnsubscribePage": r["unsubscribe_page"], "ListID": r["id"],
            "ConfirmationSuccessPage": r["confirmation_page"],
            "UnsubscribeSetting": r["unsubscribe_setting"],
            "AddUnsubscribesToSuppList": bool(r["add_unsubs_to_supp"]),
            "ScrubActiveWithSuppList": bool(r["scrub_active"]),
            "UnsubscribeConfirmation": bool(r["two_click"]),
        }  # fmt: skip

    def list_stats_to_api(self, list_id: str, scope: Scope = ACCOUNT_SCOPE) -> dict[str, Any]:
        """``GET /lists/{id}/stats.json``, counted from the state history in client time."""
        row = self.list_row(list_id, scope)
        tz = self.list_tz(row)
        now_local = datetime.fromtimestamp(self.now_ts(), tz)
        today = now_local.replace(hour=0, minute=0, second=0, microsecond=0)
        starts = {
            "Today": today, "Yesterday": today - timedelta(days=1),
            "ThisWeek": today - timedelta(days=today.weekday()),
            "ThisMonth": today.replace(day=1), "ThisYear": today.replace(month=1, day=1),
        }  # fmt: skip
        bounds = {k: int(v.timestamp()) for k, v in starts.items()}
        out: dict[str, Any] = {}
        names = (("Active", "NewActiveSubscribers", "TotalActiveSubscribers"),
                 ("Unsubscribed", "Unsubscribes", "TotalUnsubscribes"),
                 ("Deleted", "Deleted", "TotalDeleted"), ("Bounced", "Bounces", "TotalBounces"))  # fmt: skip
        for state, prefix, total in names:
            out[total] = int(
                self.store.scalar(
                    "SELECT COUNT(*) FROM subscribers WHERE list_id = ? AND state = ?",
                    (list_id, state),
                )
                or 0
            )
            for period, start in bounds.items():
                end = bounds["Today"] if period == "Yesterday" else None
                sql = "SELECT COUNT(*) FROM history WHERE list_id = ? AND state = ? AND ts >= ?"
                params: list[Any] = [list_id, state, start]
                if end is not None:
                    sql += " AND ts < ?"
                    params.append(end)
                out[f"{prefix}{period}"] = int(self.store.scalar(sql, params) or 0)
        return out

    # -- custom fields ----------------------------------------------------------------
    def field_defs(self, list_id: str) -> list[dict[str, Any]]:
        """Live custom field definitions of a list, options decoded, in creation order."""
        rows = self.store.all(
            "SELECT * FROM fields WHERE list_id = ? AND deleted = 0 ORDER BY id", (list_id,)
        )
        for r in rows:
            r["options_list"] = json.loads(r["options"])
        return rows

    def _field_by_key(self, list_id: str, key: str) -> dict[str, Any]:
        wanted = key.strip().lower()
        if not (wanted.startswith("[") and wanted.endswith("]")):
            raise api_error(253)
        for field in self.field_defs(list_id):
            if field["key"].lower() == wanted:
                return field
        raise api_error(253)

    def create_custom_field(
        self,
        list_id: str,
        field_name: str,
        data_type: str,
        options: list[str] | None = None,
        visible_in_preference_center: bool = True,
        scope: Scope = ACCOUNT_SCOPE,
    ) -> str:
        """``POST /lists/{id}/customfields.json``.

        Returns:
            The new field's ``[key]``.

        Raises:
            CmApiError: 254 bad name, 255 name exists, 259 bad type, 256/257 options.
        """
        self.list_row(list_id, scope)
        if not isinstance(field_name, str) or not field_name.strip() or len(field_name) > 100:
            raise api_error(254)
        key = field_key(field_name)
        if key == "[]":
            raise api_error(254)
        if data_type not in DATA_TYPES:
            raise api_error(259)
        opts = [str(o) for o in (options or [])]
        multi = data_type in ("MultiSelectOne", "MultiSelectMany")
        if opts and not multi:
            raise api_error(256)
        if multi and not opts:
            raise api_error(257)
        for field in self.field_defs(list_id):
            if field["key"] == key or field["name"].lower() == field_name.strip().lower():
                raise api_error(255)
        self.store.insert(
            "fields",
            {
                "list_id": list_id, "key": key, "name": field_name.strip(),
                "data_type": data_type, "options": json.dumps(list(dict.fromkeys(opts))),
                "visible": _flag(visible_in_preference_center), "deleted": 0,
            },
        )  # fmt: skip
        return key

    def update_custom_field(
        self, list_id: str, key: str, field_name: str, visible: bool, scope: Scope = ACCOUNT_SCOPE
    ) -> str:
        """``PUT /lists/{id}/customfields/{key}.json``: renaming changes the key."""
        self.list_row(list_id, scope)
        field = self._field_by_key(list_id, key)
        if not isinstance(field_name, str) or not field_name.strip():
            raise api_error(254)
        new_key = field_key(field_name)
        if new_key == "[]":
            raise api_error(254)
        for other in self.field_defs(list_id):
            if other["id"] != field["id"] and other["key"] == new_key:
                raise api_error(255)
        self.store.execute(
            "UPDATE fields SET name = ?, key = ?, visible = ? WHERE id = ?",
            (field_name.strip(), new_key, _flag(visible), field["id"]),
        )
        return new_key

    def update_custom_field_options(
        self, list_id: str, key: str, options: Any, keep_existing: bool, scope: Scope
    ) -> None:
        """``PUT /lists/{id}/customfields/{key}/options.json``."""
        self.list_row(list_id, scope)
        field = self._field_by_key(list_id, key)
        if field["data_type"] not in ("MultiSelectOne", "MultiSelectMany"):
            raise api_error(256)
        if not isinstance(options, list) or not options:
            raise api_error(257)
        merged = (field["options_list"] if keep_existing else []) + [str(o) for o in options]
        self.store.execute(
            "UPDATE fields SET options = ? WHERE id = ?",
            (json.dumps(list(dict.fromkeys(merged))), field["id"]),
        )

    def delete_custom_field(self, list_id: str, key: str, scope: Scope = ACCOUNT_SCOPE) -> None:
        """``DELETE /lists/{id}/customfields/{key}.json``; stored values disappear with it."""
        self.list_row(list_id, scope)
        field = self._field_by_key(list_id, key)
        self.store.execute("UPDATE fields SET deleted = 1 WHERE id = ?", (field["id"],))

    def custom_fields_to_api(
        self, list_id: str, scope: Scope = ACCOUNT_SCOPE
    ) -> list[dict[str, Any]]:
        """``GET /lists/{id}/customfields.json``."""
        self.list_row(list_id, scope)
        return [
            {"FieldName": f["name"], "Key": f["key"], "DataType": f["data_type"],
             "FieldOptions": f["options_list"], "VisibleInPreferenceCenter": bool(f["visible"])}
            for f in self.field_defs(list_id)
        ]  # fmt: skip

    # -- segments ----------------------------------------------------------------------
    def create_segment(
        self, list_id: str, title: str, rule_groups: Any, scope: Scope = ACCOUNT_SCOPE
    ) -> str:
        """``POST /segments/{listid}.json``; rules are stored and evaluated by :mod:`cm_sim.segments`."""
        self.list_row(list_id, scope)
        if not isinstance(title, str) or not title.strip() or too_long(title):
            raise api_error(400, "Segment title is required")
        if rule_groups is not None and (
            not isinstance(rule_groups, list)
            or not all(isinstance(g, dict) and isinstance(g.get("Rules", []), list)
                       for g in rule_groups)
        ):  # fmt: skip
            raise api_error(400, "RuleGroups must be a list of objects with a list of Rules")
        segment_id = self.new_hex()
        self.store.insert(
            "segments",
            {"id": segment_id, "list_id": list_id, "title": title.strip(),
             "rules": json.dumps(rule_groups or []), "deleted": 0},
        )  # fmt: skip
        return segment_id

    def segment_row(self, segment_id: str, scope: Scope = ACCOUNT_SCOPE) -> dict[str, Any]:
        """A live segment visible to the caller, or 400 Code 150."""
        row = self.store.one("SELECT * FROM segments WHERE id = ? AND deleted = 0", (segment_id,))
        if row is None:
            raise api_error(150)
        lst = self.store.one("SELECT * FROM lists WHERE id = ? AND deleted = 0", (row["list_id"],))
        if lst is None or (scope.client_id is not None and lst["client_id"] != scope.client_id):
            raise api_error(150)
        return row

    def delete_segment(self, segment_id: str, scope: Scope = ACCOUNT_SCOPE) -> None:
        """``DELETE /segments/{id}.json``."""
        self.segment_row(segment_id, scope)
        self.store.execute("UPDATE segments SET deleted = 1 WHERE id = ?", (segment_id,))

    def segments_to_api(
        self, *, client_id: str | None = None, list_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Segments of a client (``/clients/{id}/segments.json``) or list."""
        if list_id is not None:
            rows = self.store.all(
                "SELECT * FROM segments WHERE list_id = ? AND deleted = 0 ORDER BY title",
                (list_id,),
            )
        else:
            rows = self.store.all(
                "SELECT s.* FROM segments s JOIN lists l ON l.id = s.list_id "
                "WHERE l.client_id = ? AND l.deleted = 0 AND s.deleted = 0 ORDER BY s.title",
                (client_id,),
            )
        return [{"ListID": r["list_id"], "SegmentID": r["id"], "Title": r["title"]} for r in rows]
