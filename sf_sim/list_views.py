"""List views as the REST API serves them (``sobjects/{type}/listviews/...``).

A list view is an object, a label, columns and filter conditions (field, operator,
values; joined with ``and`` or ``or``), with a scope of ``everything`` or ``mine``. The
org keeps definitions in ``_sf_meta`` and a ``ListView`` record (00B) per view, so
``SELECT Id, Name, SobjectType FROM ListView`` finds them. Scenarios and tests make them
with :meth:`ListViews.create` (on the platform: the list view editor).

Resources, with the platform's shapes:

- ``GET sobjects/{type}/listviews``: ``{done, listviews: [{describeUrl, developerName, id,
  label, resultsUrl, soqlCompatible, url}], nextRecordsUrl, size, sobjectType}``;
- ``GET sobjects/{type}/listviews/{id}``: one of those entries;
- ``GET .../describe``: ``{columns, id, orderBy, query, relatedEntityId, scope,
  scopeEntityId, sobjectType, whereCondition}`` where ``query`` is the SOQL the view
  stands for (its columns, then ``Id, CreatedDate, LastModifiedDate, SystemModstamp``,
  ``USING SCOPE mine`` for a "my" view, its filter, ``ORDER BY`` its sort then ``Id``);
- ``GET .../results?limit=&offset=``: that query run as the running user, ``limit``
  1-2,000 (default 25), records as ``{columns: [{fieldNameOrPath, value}]}``.

A list view Id asked for under another object is NOT_FOUND, as on the platform.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sf_sim.exceptions import SalesforceApiError
from sf_sim.paths import field_at, value_at
from sf_sim.records import normalise_id

if TYPE_CHECKING:
    from sf_sim.models import Org
    from sf_sim.schema import FieldDef, ObjectDef

__all__ = ["MAX_RESULTS", "OPERATORS", "ListViewDef", "ListViews"]

MAX_RESULTS = 2000
"""Largest ``limit`` of the results resource."""
OPERATORS = {
    "equals": "=",
    "notEquals": "!=",
    "lessThan": "<",
    "greaterThan": ">",
    "lessOrEqual": "<=",
    "greaterOrEqual": ">=",
    "like": "LIKE",
}
"""``SoqlWhereCondition`` operators and the SOQL they become."""
HIDDEN = ("Id", "CreatedDate", "LastModifiedDate", "SystemModstamp")
NOT_FOUND = SalesforceApiError("NOT_FOUND", "The requested resource does not exist", 404)


@dataclass
class ListViewDef:
    """A saved list view."""

    id: str
    sobject: str
    label: str
    developer_name: str
    columns: list[str]
    conditions: list[dict[str, Any]] = field(default_factory=list)
    conjunction: str = "and"
    scope: str = "everything"
    order_by: str = "Name"

    def to_json(self) -> dict[str, Any]:
        """The definition as stored in the org's settings."""
        return {
            "id": self.id,
            "sobject": self.sobject,
            "label": self.label,
            "developer_name": self.developer_name,
            "columns": self.columns,
            "conditions": self.conditions,
            "conjunction": self.conjunction,
            "scope": self.scope,
            "order_by": self.order_by,
        }


class ListViews:
    """The org's list views (``org.list_views``).

    Args:
        org: The org.
    """

    def __init__(self, org: Org) -> None:
        self.org = org

    def create(
        self,
        sobject: str,
        label: str,
        *,
        columns: list[str],
        conditions: list[dict[str, Any]] | None = None,
        conjunction: str = "and",
        scope: str = "everything",
        developer_name: str | None = None,
        order_by: str = "Name",
    ) -> str:
        """Save a list view; returns its 00B Id.

        Args:
            sobject: The object it lists.
            label: Its label.
            columns: Field names or paths shown (``Email``, ``Account.Name``).
            conditions: ``[{"field", "operator", "values": [...]}]`` (``operator`` one of
                :data:`OPERATORS`; several values of ``equals`` mean any of them).
            conjunction: ``and`` or ``or`` between conditions.
            scope: ``everything`` or ``mine`` (records the running user owns).
            developer_name: Its API name (derived from the label by default).
            order_by: The column it sorts by (then by ``Id``).

        Raises:
            ValueError: For an unknown object, field, operator or scope.
        """
        definition = self.org.schema.object(sobject)
        if definition is None:
            raise ValueError(f"unknown object {sobject!r}")
        if scope not in ("everything", "mine") or conjunction not in ("and", "or"):
            raise ValueError("scope is everything or mine; conjunction is and or or")
        view = ListViewDef(
            id="",
            sobject=definition.name,
            label=label,
            developer_name=developer_name or re.sub(r"\W+", "_", label).strip("_") or "View",
            columns=list(columns),
            conditions=[dict(c) for c in conditions or []],
            conjunction=conjunction,
            scope=scope,
            order_by=order_by,
        )
        try:
            self.query(view)
        except SalesforceApiError as exc:
            raise ValueError(exc.message) from None
        with self.org.store.transaction():
            view.id = self.org.create(
                "ListView",
                {
                    "Name": label[:40],
                    "DeveloperName": view.developer_name,
                    "SobjectType": definition.name,
                    "IsSoqlCompatible": True,
                },
                system=True,
            )
            stored = dict(self.org.store.meta("list_views", {}))
            stored[view.id] = view.to_json()
            self.org.store.set_meta("list_views", stored)
        return view.id

    def delete(self, view_id: str) -> None:
        """Delete a list view; its resources then answer NOT_FOUND."""
        normal = normalise_id(view_id) or view_id
        with self.org.store.transaction():
            stored = dict(self.org.store.meta("list_views", {}))
            stored.pop(normal, None)
            self.org.store.set_meta("list_views", stored)
            self.org.store.delete_rows("ListView", [normal])

    def get(self, sobject: str, view_id: str) -> ListViewDef:
        """A list view of ``sobject``.

        Raises:
            SalesforceApiError: NOT_FOUND for an unknown view, or one of another object.
        """
        normal = normalise_id(view_id) if view_id.startswith("00B") else None
        data = self.org.store.meta("list_views", {}).get(normal or "")
        if data is None or str(data["sobject"]).lower() != sobject.lower():
            raise NOT_FOUND
        return ListViewDef(**data)

    # ------------------------------------------------------------------ SOQL

    def _field(self, obj: ObjectDef, path: str) -> FieldDef:
        item = field_at(self.org.schema, obj, path)
        if item is None:
            raise SalesforceApiError("INVALID_FIELD", f"No such column '{path}'", 400)
        return item

    def query(self, view: ListViewDef) -> str:
        """The SOQL the list view stands for.

        Raises:
            SalesforceApiError: INVALID_FIELD or BAD_REQUEST for a broken definition.
        """
        obj = self._object(view)
        for column in view.columns:
            self._field(obj, column)
        self._field(obj, view.order_by)
        selected = list(dict.fromkeys([*view.columns, *HIDDEN]))
        return (
            f"SELECT {', '.join(selected)} {self._body(view)} "
            f"ORDER BY {view.order_by} ASC NULLS FIRST, Id ASC NULLS FIRST"
        )

    def _object(self, view: ListViewDef) -> ObjectDef:
        obj = self.org.schema.object(view.sobject)
        if obj is None:
            raise NOT_FOUND
        return obj

    def _body(self, view: ListViewDef) -> str:
        """``FROM ... [USING SCOPE mine] [WHERE ...]`` of the view's query."""
        obj = self._object(view)
        terms = [self._condition(obj, c) for c in view.conditions]
        body = f"FROM {obj.name}"
        if view.scope == "mine":
            body += " USING SCOPE mine"
        if terms:
            body += " WHERE " + f" {view.conjunction.upper()} ".join(terms)
        return body

    def _condition(self, obj: ObjectDef, condition: dict[str, Any]) -> str:
        path = str(condition.get("field") or "")
        item = self._field(obj, path)
        operator = str(condition.get("operator") or "")
        sign = OPERATORS.get(operator)
        if sign is None:
            raise SalesforceApiError("BAD_REQUEST", f"Invalid operator: {operator}", 400)
        values = condition.get("values") or []
        if not isinstance(values, list) or not values:
            raise SalesforceApiError("BAD_REQUEST", f"No values for {path}", 400)
        literals = [_literal(item, v) for v in values]
        if sign == "=" and len(literals) > 1:
            return f"{path} IN ({', '.join(literals)})"
        if sign == "!=" and len(literals) > 1:
            return f"{path} NOT IN ({', '.join(literals)})"
        return f"{path} {sign} {literals[0]}"

    # ------------------------------------------------------------------ resources

    def _entry(self, view: ListViewDef, api_version: str) -> dict[str, Any]:
        base = f"/services/data/v{api_version}/sobjects/{view.sobject}/listviews/{view.id}"
        return {
            "describeUrl": f"{base}/describe",
            "developerName": view.developer_name,
            "id": view.id,
            "label": view.label,
            "resultsUrl": f"{base}/results",
            "soqlCompatible": True,
            "url": base,
        }

    def listing(self, sobject: str, api_version: str = "59.0") -> dict[str, Any]:
        """The list views of an object (``GET sobjects/{type}/listviews``).

        Raises:
            SalesforceApiError: NOT_FOUND for an unknown object.
        """
        obj = self.org.schema.object(sobject)
        if obj is None or not self.org.control.object_visible(obj.name):
            raise NOT_FOUND
        views = [
            ListViewDef(**data)
            for _, data in sorted(self.org.store.meta("list_views", {}).items())
            if str(data["sobject"]).lower() == obj.name.lower()
        ]
        return {
            "done": True,
            "listviews": [self._entry(v, api_version) for v in views],
            "nextRecordsUrl": None,
            "size": len(views),
            "sobjectType": obj.name,
        }

    def info(self, sobject: str, view_id: str, api_version: str = "59.0") -> dict[str, Any]:
        """One list view's entry (``GET sobjects/{type}/listviews/{id}``)."""
        return self._entry(self.get(sobject, view_id), api_version)

    def _columns(self, view: ListViewDef) -> list[dict[str, Any]]:
        obj = self.org.schema.object(view.sobject)
        assert obj is not None
        out = []
        for path in list(dict.fromkeys([*view.columns, *HIDDEN])):
            item = self._field(obj, path)
            hidden = path in HIDDEN and path not in view.columns
            sorted_here = path == view.order_by
            text = item.type not in ("int", "double", "currency", "percent", "date", "datetime")
            out.append(
                {
                    "ascendingLabel": "Z-A" if text else "9-0",
                    "descendingLabel": "A-Z" if text else "0-9",
                    "fieldNameOrPath": path,
                    "hidden": hidden,
                    "label": item.label,
                    "searchable": item.type in ("string", "email", "phone"),
                    "selectListItem": path,
                    "sortDirection": "ascending" if sorted_here else None,
                    "sortIndex": 0 if sorted_here else None,
                    "sortable": item.type not in ("textarea", "multipicklist"),
                    "type": item.type,
                }
            )
        return out

    def describe(self, sobject: str, view_id: str) -> dict[str, Any]:
        """What a list view is (``GET .../describe``), with the SOQL it stands for."""
        view = self.get(sobject, view_id)
        conditions = [
            {
                "field": c["field"],
                "operator": c["operator"],
                "values": [_shown(v) for v in c.get("values") or []],
            }
            for c in view.conditions
        ]
        where: dict[str, Any] | None
        if len(conditions) == 1:
            where = conditions[0]
        elif conditions:
            where = {"conditions": conditions, "conjunction": view.conjunction}
        else:
            where = None
        return {
            "columns": self._columns(view),
            "id": view.id[:15],
            "orderBy": [
                {
                    "fieldNameOrPath": view.order_by,
                    "nullsPosition": "first",
                    "sortDirection": "ascending",
                },
                {"fieldNameOrPath": "Id", "nullsPosition": "first", "sortDirection": "ascending"},
            ],
            "query": self.query(view),
            "relatedEntityId": None,
            "scope": view.scope,
            "scopeEntityId": None,
            "sobjectType": view.sobject,
            "whereCondition": where,
        }

    def results(self, sobject: str, view_id: str, *, limit: int, offset: int) -> dict[str, Any]:
        """A page of a list view's records, as the running user (``GET .../results``).

        Raises:
            SalesforceApiError: NOT_FOUND, or INVALID_QUERY_FILTER_OPERATOR-style 400s
                for a ``limit`` outside 1-2,000 or an offset the platform refuses.
        """
        view = self.get(sobject, view_id)
        if not 1 <= limit <= MAX_RESULTS:
            raise SalesforceApiError(
                "BAD_REQUEST", f"limit must be between 1 and {MAX_RESULTS}", 400
            )
        if offset < 0:
            raise SalesforceApiError("BAD_REQUEST", "offset must not be negative", 400)
        soql = self.query(view) + f" LIMIT {limit} OFFSET {offset}"
        records = self.org.queries.all_records(soql)
        paths = list(dict.fromkeys([*view.columns, *HIDDEN]))
        rows = [
            {"columns": [{"fieldNameOrPath": p, "value": _text(value_at(r, p))} for p in paths]}
            for r in records
        ]
        counter = self.org.queries.run(f"SELECT COUNT() {self._body(view)}")
        total = counter.total_size
        counter.close()
        return {
            "columns": self._columns(view),
            "developerName": view.developer_name,
            "done": offset + len(rows) >= total,
            "id": view.id[:15],
            "label": view.label,
            "records": rows,
            "size": total,
        }


def _literal(item: FieldDef, value: Any) -> str:
    if item.type == "boolean":
        return "true" if str(value).lower() in ("true", "1") else "false"
    if item.type in ("int", "double", "currency", "percent"):
        try:
            float(str(value))
        except ValueError:
            raise SalesforceApiError("BAD_REQUEST", f"Invalid number: {value}", 400) from None
        return str(value)
    if item.type in ("date", "datetime") and re.fullmatch(
        r"[A-Z_]+(:\d+)?|[\dT:.+Z-]+", str(value)
    ):
        return str(value)
    if value is None:
        return "null"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _shown(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def _text(value: Any) -> str | None:
    """List view results carry every value as text (null stays null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
