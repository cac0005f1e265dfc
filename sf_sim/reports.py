"""Reports as the Analytics (Reports and Dashboards) REST API serves them.

A report is a saved definition: a report type (``ContactList``: Contacts & Accounts,
``LeadList``: Leads), detail columns, filters with optional filter logic, and a sort. The
org keeps definitions in ``_sf_meta`` and a ``Report`` record (00O) per report, so
``SELECT Id, Name FROM Report`` lists them as on the platform. Scenarios and tests make
them with :meth:`Reports.create` (on the platform: the report builder or the Metadata API).

Running one (``GET``/``POST /analytics/reports/{id}?includeDetails=true``) translates it
into SOQL over the report type's object and runs it **as the running user**, so record
visibility (:mod:`sf_sim.sharing`) applies as it does to a report run in Salesforce. The
answer has the platform's shape: ``attributes``, ``allData``, ``factMap`` (a tabular
report's detail rows and record count under ``T!T``, one ``dataCells`` entry per column
with ``label`` and ``value``), ``groupingsDown``/``groupingsAcross``, ``hasDetailRows``,
``reportExtendedMetadata`` and ``reportMetadata``. A synchronous run returns at most the
first 2,000 rows; ``allData`` is false when there were more. A ``POST`` may carry
``reportMetadata`` with other ``reportFilters`` (up to 20), ``reportBooleanFilter``,
``detailColumns`` or ``sortBy`` for that run only, as "filter reports on demand" does.

Column names: a report type's standard columns use the platform's upper-case names
(``FIRST_NAME``, ``EMAIL``, ``ACCOUNT.NAME``...); any other field of the object is
``Contact.Field__c`` / ``Lead.Field__c``. Name columns (``ACCOUNT.NAME``, ``OWNER``) carry
the record's Id as ``value`` and its name as ``label``, as real detail rows do. Only
tabular reports are modelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sf_sim.exceptions import QueryError, SalesforceApiError
from sf_sim.paths import field_at, value_at
from sf_sim.records import normalise_id

if TYPE_CHECKING:
    from sf_sim.models import Org
    from sf_sim.schema import FieldDef, ObjectDef

__all__ = ["MAX_FILTERS", "REPORT_TYPES", "SYNC_ROW_LIMIT", "ReportColumn", "ReportDef", "Reports"]

SYNC_ROW_LIMIT = 2000
"""Rows a synchronous report run returns at most ("the first 2,000 report rows")."""
MAX_FILTERS = 20
"""Custom field filters a run may add."""
NOT_FOUND = SalesforceApiError("NOT_FOUND", "The requested resource does not exist", 404)

# column -> (field path, label, path of the Id shown as the value of a name column)
_CONTACT_COLUMNS: dict[str, tuple[str, str, str | None]] = {
    "CONTACT_ID": ("Id", "Contact ID", None),
    "FIRST_NAME": ("FirstName", "First Name", None),
    "LAST_NAME": ("LastName", "Last Name", None),
    "EMAIL": ("Email", "Email", None),
    "TITLE": ("Title", "Title", None),
    "PHONE1": ("Phone", "Phone", None),
    "LEAD_SOURCE": ("LeadSource", "Lead Source", None),
    "EMAIL_OPT_OUT": ("HasOptedOutOfEmail", "Email Opt Out", None),
    "ACCOUNT.NAME": ("Account.Name", "Account Name", "AccountId"),
    "OWNER": ("Owner.Name", "Contact Owner", "OwnerId"),
}
_LEAD_COLUMNS: dict[str, tuple[str, str, str | None]] = {
    "LEAD_ID": ("Id", "Lead ID", None),
    "FIRST_NAME": ("FirstName", "First Name", None),
    "LAST_NAME": ("LastName", "Last Name", None),
    "EMAIL": ("Email", "Email", None),
    "TITLE": ("Title", "Title", None),
    "COMPANY": ("Company", "Company / Account", None),
    "STATUS": ("Status", "Lead Status", None),
    "LEAD_SOURCE": ("LeadSource", "Lead Source", None),
    "EMAIL_OPT_OUT": ("HasOptedOutOfEmail", "Email Opt Out", None),
    "OWNER": ("Owner.Name", "Lead Owner", "OwnerId"),
}
REPORT_TYPES: dict[str, tuple[str, str, dict[str, tuple[str, str, str | None]]]] = {
    "ContactList": ("Contact", "Contacts & Accounts", _CONTACT_COLUMNS),
    "LeadList": ("Lead", "Leads", _LEAD_COLUMNS),
}
"""Report types: object, label and standard columns."""

_OPERATORS = {
    "equals": "=",
    "notEqual": "!=",
    "lessThan": "<",
    "greaterThan": ">",
    "lessOrEqual": "<=",
    "greaterOrEqual": ">=",
}
_TEXT_OPERATORS = ("contains", "notContain", "startsWith")
_VALUE_TYPES = {"date", "datetime", "int", "double", "percent", "currency", "boolean"}
_LOGIC = re.compile(r"\s*(\d+|AND|OR|NOT|\(|\))\s*", re.IGNORECASE)


@dataclass(frozen=True)
class ReportColumn:
    """One column of a report type.

    Attributes:
        name: The column's API name (``EMAIL``, ``Contact.Plan__c``).
        path: The SOQL path it reads (``Email``, ``Account.Name``).
        label: Its label.
        data_type: Analytics data type (``string``, ``email``, ``boolean``, ``date``...).
        id_path: For a name column, the path of the Id given as its ``value``.
    """

    name: str
    path: str
    label: str
    data_type: str
    id_path: str | None = None


@dataclass
class ReportDef:
    """A saved tabular report."""

    id: str
    name: str
    developer_name: str
    report_type: str
    columns: list[str]
    filters: list[dict[str, str]] = field(default_factory=list)
    boolean_filter: str | None = None
    sort_by: list[dict[str, str]] = field(default_factory=list)
    folder_id: str = ""

    def to_json(self) -> dict[str, Any]:
        """The definition as stored in the org's settings."""
        return {
            "id": self.id,
            "name": self.name,
            "developer_name": self.developer_name,
            "report_type": self.report_type,
            "columns": self.columns,
            "filters": self.filters,
            "boolean_filter": self.boolean_filter,
            "sort_by": self.sort_by,
            "folder_id": self.folder_id,
        }


def _data_type(item: FieldDef) -> str:
    return {
        "reference": "id",
        "id": "id",
        "boolean": "boolean",
        "date": "date",
        "datetime": "datetime",
        "int": "int",
        "double": "double",
        "percent": "percent",
        "currency": "currency",
        "email": "email",
        "phone": "phone",
        "picklist": "picklist",
        "multipicklist": "multipicklist",
        "textarea": "textarea",
        "url": "url",
    }.get(item.type, "string")


class Reports:
    """The org's saved reports and their runs (``org.reports``).

    Args:
        org: The org.
    """

    def __init__(self, org: Org) -> None:
        self.org = org

    # ------------------------------------------------------------------ definitions

    def create(
        self,
        name: str,
        *,
        report_type: str = "ContactList",
        columns: list[str],
        filters: list[dict[str, str]] | None = None,
        boolean_filter: str | None = None,
        sort_by: list[dict[str, str]] | None = None,
        developer_name: str | None = None,
        folder: str = "Public Reports",
    ) -> str:
        """Save a tabular report; returns its 00O Id.

        Args:
            name: The report's name.
            report_type: ``ContactList`` or ``LeadList``.
            columns: Detail columns (standard names, or ``Contact.Field``).
            filters: ``[{"column", "operator", "value"}]``, the Analytics API's shape.
            boolean_filter: Filter logic such as ``1 AND (2 OR 3)``.
            sort_by: ``[{"sortColumn", "sortOrder": "Asc"|"Desc"}]``.
            developer_name: Its unique name (derived from ``name`` by default).
            folder: The folder shown as ``FolderName``.

        Raises:
            SalesforceApiError: BAD_REQUEST for an unknown type, column or filter.
        """
        definition = ReportDef(
            id="",
            name=name,
            developer_name=developer_name or re.sub(r"\W+", "_", name).strip("_") or "Report",
            report_type=report_type,
            columns=list(columns),
            filters=[dict(f) for f in filters or []],
            boolean_filter=boolean_filter,
            sort_by=[dict(s) for s in sort_by or []],
        )
        self.soql(definition)  # validates type, columns and filters
        with self.org.store.transaction():
            report_id = self.org.create(
                "Report",
                {
                    "Name": name[:40],
                    "DeveloperName": definition.developer_name,
                    "Format": "Tabular",
                    "FolderName": folder,
                },
                system=True,
            )
            definition.id = report_id
            definition.folder_id = self.org.org_id
            stored = dict(self.org.store.meta("reports", {}))
            stored[report_id] = definition.to_json()
            self.org.store.set_meta("reports", stored)
        return report_id

    def delete(self, report_id: str) -> None:
        """Delete a report (to the recycle bin, as the platform does); runs then get 404."""
        definition = self.get(report_id)
        with self.org.store.transaction():
            stored = dict(self.org.store.meta("reports", {}))
            stored.pop(definition.id, None)
            self.org.store.set_meta("reports", stored)
            self.org.store.conn.execute(
                "UPDATE Report SET IsDeleted = 1 WHERE Id = ?", (definition.id,)
            )

    def get(self, report_id: str) -> ReportDef:
        """A report's definition.

        Raises:
            SalesforceApiError: NOT_FOUND (404) for an unknown or deleted report.
        """
        normal = normalise_id(report_id) if report_id.startswith("00O") else None
        data = self.org.store.meta("reports", {}).get(normal or "")
        if data is None:
            raise NOT_FOUND
        return ReportDef(**data)

    # ------------------------------------------------------------------ columns

    def _object(self, report_type: str) -> ObjectDef:
        entry = REPORT_TYPES.get(report_type)
        definition = self.org.schema.object(entry[0]) if entry else None
        if entry is None or definition is None:
            raise SalesforceApiError("BAD_REQUEST", f"Unknown report type: {report_type}", 400)
        return definition

    def column(self, report_type: str, name: str) -> ReportColumn:
        """A column of a report type.

        Raises:
            SalesforceApiError: BAD_REQUEST for a column the type does not have.
        """
        obj = self._object(report_type)
        standard = REPORT_TYPES[report_type][2].get(name.upper())
        if standard is not None:
            path, label, id_path = standard
            standard_field = field_at(self.org.schema, obj, path)
            assert standard_field is not None, path
            return ReportColumn(name.upper(), path, label, _data_type(standard_field), id_path)
        prefix, _, field_name = name.partition(".")
        item = obj.field(field_name) if prefix.lower() == obj.name.lower() else None
        if item is None or "." in field_name:
            raise SalesforceApiError(
                "BAD_REQUEST", f"The column {name} is not valid for this report type.", 400
            )
        return ReportColumn(f"{obj.name}.{item.name}", item.name, item.label, _data_type(item))

    # ------------------------------------------------------------------ SOQL

    def soql(self, definition: ReportDef) -> str:
        """The SOQL a report's run stands for (visibility is the running user's).

        Raises:
            SalesforceApiError: BAD_REQUEST for an unknown column, operator or logic.
        """
        obj = self._object(definition.report_type)
        columns = [self.column(definition.report_type, c) for c in definition.columns]
        paths = list(dict.fromkeys(["Id", *(c.path for c in columns)]))
        paths += [c.id_path for c in columns if c.id_path and c.id_path not in paths]
        if len(definition.filters) > MAX_FILTERS:
            raise SalesforceApiError(
                "BAD_REQUEST", f"A report can have at most {MAX_FILTERS} filters.", 400
            )
        terms = [self._filter(definition.report_type, f) for f in definition.filters]
        where = _logic(definition.boolean_filter, terms) if terms else ""
        order = []
        for item in definition.sort_by:
            column = self.column(definition.report_type, str(item.get("sortColumn") or ""))
            direction = "DESC" if str(item.get("sortOrder", "Asc")).lower() == "desc" else "ASC"
            order.append(f"{column.path} {direction}")
        order.append("Id ASC")
        soql = f"SELECT {', '.join(paths)} FROM {obj.name}"
        if where:
            soql += f" WHERE {where}"
        return soql + " ORDER BY " + ", ".join(order)

    def _filter(self, report_type: str, item: dict[str, str]) -> str:
        column = self.column(report_type, str(item.get("column") or ""))
        operator = str(item.get("operator") or "")
        raw = str(item.get("value") if item.get("value") is not None else "")
        if operator in _TEXT_OPERATORS:
            escaped = raw.replace("\\", "\\\\").replace("'", "\\'")
            pattern = f"'{escaped}%'" if operator == "startsWith" else f"'%{escaped}%'"
            clause = f"{column.path} LIKE {pattern}"
            return f"(NOT {clause})" if operator == "notContain" else clause
        sign = _OPERATORS.get(operator)
        if sign is None:
            raise SalesforceApiError("BAD_REQUEST", f"Invalid filter operator: {operator}", 400)
        values = [v.strip() for v in raw.split(",")] if sign in ("=", "!=") else [raw.strip()]
        literals = [_literal(column, v) for v in values]
        joined = " OR " if sign == "=" else " AND "
        return "(" + joined.join(f"{column.path} {sign} {lit}" for lit in literals) + ")"

    # ------------------------------------------------------------------ runs

    def run(
        self,
        report_id: str,
        *,
        include_details: bool,
        metadata: dict[str, Any] | None = None,
        api_version: str = "59.0",
    ) -> dict[str, Any]:
        """Run a report synchronously as the running user (the Execute Sync resource).

        Args:
            report_id: The report.
            include_details: Return detail rows (``includeDetails=true``).
            metadata: A POSTed ``reportMetadata`` changing filters, columns or sort for
                this run only.
            api_version: For the URLs in the answer.

        Raises:
            SalesforceApiError: NOT_FOUND for an unknown report, BAD_REQUEST for bad
                metadata.
        """
        definition = self._for_run(self.get(report_id), metadata)
        soql = self.soql(definition)
        columns = [self.column(definition.report_type, c) for c in definition.columns]
        try:
            cursor = self.org.queries.run(soql)
        except QueryError as exc:
            raise SalesforceApiError("BAD_REQUEST", exc.message, 400) from None
        total = cursor.total_size
        rows: list[dict[str, Any]] = []
        if include_details:
            while len(rows) < SYNC_ROW_LIMIT and not cursor.done:
                page = cursor.fetch(min(SYNC_ROW_LIMIT - len(rows), 2000))
                if not page:
                    break
                rows.extend({"dataCells": [_cell(c, r) for c in columns]} for r in page)
        cursor.close()
        with self.org.store.transaction():
            self.org.store.conn.execute(
                "UPDATE Report SET LastRunDate = ? WHERE Id = ?",
                (_now(self.org), definition.id),
            )
        base = f"/services/data/v{api_version}/analytics/reports/{definition.id}"
        return {
            "attributes": {
                "describeUrl": f"{base}/describe",
                "instancesUrl": f"{base}/instances",
                "reportId": definition.id,
                "reportName": definition.name,
                "type": "Report",
            },
            "allData": not include_details or total <= SYNC_ROW_LIMIT,
            "factMap": {
                "T!T": {
                    "aggregates": [{"label": f"{total:,}", "value": total}],
                    "rows": rows,
                }
            },
            "groupingsAcross": {"groupings": []},
            "groupingsDown": {"groupings": []},
            "hasDetailRows": include_details,
            "reportExtendedMetadata": self._extended(columns),
            "reportMetadata": self._metadata(definition),
        }

    def describe(self, report_id: str) -> dict[str, Any]:
        """A report's metadata (the Describe resource)."""
        definition = self.get(report_id)
        columns = [self.column(definition.report_type, c) for c in definition.columns]
        obj = self._object(definition.report_type)
        everything = [
            self.column(definition.report_type, name)
            for name in REPORT_TYPES[definition.report_type][2]
        ] + [
            self.column(definition.report_type, f"{obj.name}.{item.name}")
            for item in obj.iter_fields()
            if item.custom
        ]
        return {
            "reportExtendedMetadata": self._extended(columns),
            "reportMetadata": self._metadata(definition),
            "reportTypeMetadata": {
                "categories": [
                    {
                        "label": f"{obj.label} Information",
                        "columns": {
                            c.name: {
                                "dataType": c.data_type,
                                "filterValues": [],
                                "filterable": True,
                                "label": c.label,
                            }
                            for c in everything
                        },
                    }
                ],
                "standardFilterInfos": {},
            },
        }

    def recent(self, api_version: str = "59.0") -> list[dict[str, Any]]:
        """Up to 200 reports (the Report List resource; here the most recently run first)."""
        rows = self.org.store.select(
            "SELECT Id, Name FROM Report WHERE IsDeleted = 0 "
            "ORDER BY LastRunDate IS NULL, LastRunDate DESC, Id LIMIT 200"
        )
        out = []
        for row in rows:
            base = f"/services/data/v{api_version}/analytics/reports/{row['Id']}"
            out.append(
                {
                    "describeUrl": f"{base}/describe",
                    "fieldsUrl": f"{base}/fields",
                    "id": row["Id"],
                    "instancesUrl": f"{base}/instances",
                    "name": row["Name"],
                    "url": base,
                }
            )
        return out

    def _for_run(self, definition: ReportDef, metadata: dict[str, Any] | None) -> ReportDef:
        if metadata is None:
            return definition
        if not isinstance(metadata, dict):
            raise SalesforceApiError("BAD_REQUEST", "reportMetadata must be an object", 400)
        changed = ReportDef(**definition.to_json())
        if "reportFilters" in metadata:
            filters = metadata["reportFilters"]
            if not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters):
                raise SalesforceApiError("BAD_REQUEST", "reportFilters must be a list", 400)
            changed.filters = [dict(f) for f in filters]
        if "reportBooleanFilter" in metadata:
            logic = metadata["reportBooleanFilter"]
            changed.boolean_filter = str(logic) if logic else None
        if isinstance(metadata.get("detailColumns"), list):
            changed.columns = [str(c) for c in metadata["detailColumns"]]
        if isinstance(metadata.get("sortBy"), list):
            changed.sort_by = [dict(s) for s in metadata["sortBy"] if isinstance(s, dict)]
        return changed

    def _extended(self, columns: list[ReportColumn]) -> dict[str, Any]:
        return {
            "aggregateColumnInfo": {"RowCount": {"dataType": "int", "label": "Record Count"}},
            "detailColumnInfo": {
                c.name: {"dataType": c.data_type, "label": c.label} for c in columns
            },
            "groupingColumnInfo": {},
        }

    def _metadata(self, definition: ReportDef) -> dict[str, Any]:
        obj_label = REPORT_TYPES[definition.report_type][1]
        return {
            "aggregates": ["RowCount"],
            "currency": None,
            "description": None,
            "detailColumns": list(definition.columns),
            "developerName": definition.developer_name,
            "folderId": definition.folder_id,
            "groupingsAcross": [],
            "groupingsDown": [],
            "hasDetailRows": True,
            "hasRecordCount": True,
            "id": definition.id,
            "name": definition.name,
            "reportBooleanFilter": definition.boolean_filter,
            "reportFilters": [{**f, "isRunPageEditable": True} for f in definition.filters],
            "reportFormat": "TABULAR",
            "reportType": {"label": obj_label, "type": definition.report_type},
            "scope": "organization",
            "showGrandTotal": True,
            "showSubtotals": True,
            "sortBy": list(definition.sort_by),
        }


def _literal(column: ReportColumn, raw: str) -> str:
    kind = column.data_type
    if kind == "boolean":
        if raw.lower() not in ("true", "false", "1", "0"):
            raise SalesforceApiError("BAD_REQUEST", f"Invalid boolean value: {raw}", 400)
        return "true" if raw.lower() in ("true", "1") else "false"
    if kind in ("int", "double", "percent", "currency"):
        try:
            float(raw)
        except ValueError:
            raise SalesforceApiError("BAD_REQUEST", f"Invalid number: {raw}", 400) from None
        return raw
    if kind in ("date", "datetime"):
        try:
            (datetime if kind == "datetime" else date).fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise SalesforceApiError("BAD_REQUEST", f"Invalid date: {raw}", 400) from None
        return raw
    if raw == "":
        return "null"
    return "'" + raw.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _logic(logic: str | None, terms: list[str]) -> str:
    """Apply filter logic (``1 AND (2 OR 3)``) to filter terms (AND of all by default)."""
    if not logic:
        return " AND ".join(terms)
    out: list[str] = []
    position = 0
    text = logic.strip()
    while position < len(text):
        match = _LOGIC.match(text, position)
        if match is None:
            raise SalesforceApiError("BAD_REQUEST", f"Invalid filter logic: {logic}", 400)
        token = match.group(1).upper()
        if token.isdigit():
            index = int(token)
            if not 1 <= index <= len(terms):
                raise SalesforceApiError(
                    "BAD_REQUEST", f"Filter logic names filter {index}, which does not exist", 400
                )
            out.append(terms[index - 1])
        else:
            out.append(token)
        position = match.end()
    return " ".join(out)


def _cell(column: ReportColumn, record: dict[str, Any]) -> dict[str, Any]:
    value = value_at(record, column.path)
    if column.id_path is not None:
        ident = value_at(record, column.id_path)
        return {"label": "-" if value is None else str(value), "value": ident}
    if value is None:
        return {"label": "-", "value": None}
    if column.data_type == "boolean":
        return {"label": "true" if value else "false", "value": bool(value)}
    if column.data_type == "date":
        day = date.fromisoformat(str(value))
        return {"label": f"{day.month}/{day.day}/{day.year}", "value": str(value)}
    if column.data_type == "currency":
        return {"label": f"${float(value):,.2f}", "value": {"amount": value, "currency": None}}
    return {"label": str(value), "value": value}


def _now(org: Org) -> str:
    from sf_sim.schema import format_datetime

    return format_datetime(org.clock.now())
