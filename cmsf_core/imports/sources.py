"""Reading an import's rows the way the platform serves them, as the import's owner.

- **Report** (``00O...``): one synchronous run of the Analytics REST API with details
  (``GET analytics/reports/{id}?includeDetails=true``: one API call). Its columns are the
  report's detail columns (API name or label); a cell's value is its ``label`` for text
  columns (a name column's ``value`` is the record Id) and its ``value`` for dates,
  numbers, checkboxes and currency (its amount). Salesforce returns the first 2,000 rows
  of a synchronous run: above that ``allData`` is false and :attr:`Source.truncated`
  says so (the import imports those rows and never replaces the list with them).
- **List view** (``00B...``): ``SELECT SobjectType FROM ListView`` finds its object (one
  call), ``sobjects/{type}/listviews/{id}/describe`` gives the SOQL the view stands for
  (one call), and that query is read page by page (2,000 rows a call). Only Contact and
  Lead list views list people to subscribe.
- **SOQL**: the query, page by page.

Rows stream a page at a time, so memory stays flat whatever the source's size. Every
read goes through the owner's gateway: the rows are those the owner can see.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cmsf_core.errors import NotFoundError, PlatformError
from cmsf_core.imports.spec import ImportConfigError, ImportSpec
from cmsf_core.salesforce import SalesforceGateway

__all__ = [
    "LIST_VIEW_OBJECTS",
    "Column",
    "ImportSourceError",
    "Row",
    "Source",
    "flatten",
    "open_source",
    "select_list",
]

LIST_VIEW_OBJECTS = ("Contact", "Lead")
"""Objects whose list views an import reads."""
_VALUE_TYPES = {"date", "datetime", "int", "double", "percent", "currency", "boolean", "time"}
_RECORD_PREFIXES = ("003", "00Q")


class ImportSourceError(PlatformError):
    """The source could not be read (deleted, not visible to the owner, or refused)."""


@dataclass(frozen=True)
class Column:
    """A column of the source: its API name or field path, and its label."""

    name: str
    label: str


@dataclass(frozen=True)
class Row:
    """One source row.

    Attributes:
        number: Its position in the source (1-based), for messages.
        values: Values by column name.
        record_id: The Contact or Lead it stands for, when the source shows it.
    """

    number: int
    values: Mapping[str, Any]
    record_id: str | None = None


@dataclass
class Source:
    """An opened source: its columns, and its rows page by page.

    Attributes:
        kind: ``Report``, ``ListView`` or ``SOQL``.
        columns: The source's columns (known once opened).
        truncated: The report returned only its first 2,000 rows.
        object_name: The object the rows are records of, when known.
        total: How many rows the source says it has, when it says.
    """

    kind: str
    columns: list[Column]
    pages: Iterator[list[Row]]
    truncated: bool = False
    object_name: str | None = None
    total: int | None = None
    _first: list[Row] | None = field(default=None, repr=False)


def open_source(gateway: SalesforceGateway, spec: ImportSpec) -> Source:
    """Open an import's source as the gateway's user, reading its first page.

    Raises:
        ImportSourceError: When Salesforce refuses or cannot find the source.
        ImportConfigError: For a list view of an object without people.
    """
    try:
        if spec.source_type == "Report":
            return _report(gateway, spec)
        if spec.source_type == "ListView":
            return _list_view(gateway, spec)
        return _soql(gateway, spec.source, "SOQL", None)
    except NotFoundError as exc:
        what = {"Report": "report", "ListView": "list view"}.get(spec.source_type, "query")
        raise ImportSourceError(
            f"the {what} {spec.source[:40]} was not found: it was deleted, or its owner "
            f"cannot see it ({exc.error_code or 'NOT_FOUND'})",
            error_code=exc.error_code,
        ) from None
    except PlatformError as exc:
        if isinstance(exc, ImportSourceError):
            raise
        raise ImportSourceError(
            f"Salesforce refused the source: {exc}", error_code=exc.error_code
        ) from None


# ---------------------------------------------------------------------- reports


def _report(gateway: SalesforceGateway, spec: ImportSpec) -> Source:
    body = gateway.rest(f"analytics/reports/{spec.source}", params={"includeDetails": "true"})
    if not isinstance(body, Mapping):
        raise ImportSourceError("the report run returned no report")
    metadata = body.get("reportMetadata") or {}
    if str(metadata.get("reportFormat") or "TABULAR").upper() != "TABULAR":
        raise ImportConfigError(
            f"report {spec.source} is a {str(metadata.get('reportFormat')).lower()} report; "
            "imports read tabular reports (their detail rows)"
        )
    info = (body.get("reportExtendedMetadata") or {}).get("detailColumnInfo") or {}
    names = [str(n) for n in metadata.get("detailColumns") or info.keys()]
    columns = [Column(n, str((info.get(n) or {}).get("label") or n)) for n in names]
    kinds = [str((info.get(n) or {}).get("dataType") or "string") for n in names]
    fact = (body.get("factMap") or {}).get("T!T") or {}
    rows: list[Row] = []
    for number, detail in enumerate(fact.get("rows") or [], start=1):
        cells = detail.get("dataCells") or []
        values = {
            name: _cell_value(kind, cells[i] if i < len(cells) else {})
            for i, (name, kind) in enumerate(zip(names, kinds, strict=True))
        }
        record_id = next(
            (
                str(v)
                for n, k, v in zip(names, kinds, values.values(), strict=True)
                if k == "id" and isinstance(v, str) and v[:3] in _RECORD_PREFIXES
            ),
            None,
        )
        rows.append(Row(number, values, record_id))
    aggregates = fact.get("aggregates") or []
    total = aggregates[0].get("value") if aggregates and isinstance(aggregates[0], dict) else None
    return Source(
        kind="Report",
        columns=columns,
        pages=iter([rows]),
        truncated=body.get("allData") is False,
        total=int(total) if isinstance(total, int | float) else None,
    )


def _cell_value(kind: str, cell: Mapping[str, Any]) -> Any:
    """What a report cell stands for: its label for text, its value for typed columns."""
    value = cell.get("value")
    if value is None:
        return None
    if kind == "currency" and isinstance(value, Mapping):
        return value.get("amount")
    if kind in _VALUE_TYPES or kind == "id":
        return value
    label = cell.get("label")
    return value if label is None else label


# ---------------------------------------------------------------------- list views


def _list_view(gateway: SalesforceGateway, spec: ImportSpec) -> Source:
    found = list(
        gateway.query(
            f"SELECT Id, Name, SobjectType FROM ListView WHERE Id = '{spec.source}' LIMIT 1"
        )
    )
    if not found:
        raise ImportSourceError(
            f"the list view {spec.source} was not found: it was deleted, or its owner cannot see it"
        )
    sobject = str(found[0].get("SobjectType") or "")
    if sobject not in LIST_VIEW_OBJECTS:
        raise ImportConfigError(
            f"list view '{found[0].get('Name')}' lists {sobject or 'no object'} records; "
            f"imports read list views of {' or '.join(LIST_VIEW_OBJECTS)} (people to subscribe)"
        )
    described = gateway.rest(f"sobjects/{sobject}/listviews/{spec.source}/describe")
    if not isinstance(described, Mapping) or not described.get("query"):
        raise ImportSourceError(f"the list view {spec.source} did not describe its query")
    source = _soql(gateway, str(described["query"]), "ListView", sobject)
    source.columns = [
        Column(str(c.get("fieldNameOrPath")), str(c.get("label") or c.get("fieldNameOrPath")))
        for c in described.get("columns") or []
        if c.get("fieldNameOrPath")
    ]
    return source


# ---------------------------------------------------------------------- SOQL


def _soql(gateway: SalesforceGateway, soql: str, kind: str, sobject: str | None) -> Source:
    pages = gateway.query_pages(soql)
    first_records = next(pages, [])
    first = _rows(first_records, 1)
    columns = [Column(n, n) for n in _keys(first) or select_list(soql)]

    def all_pages() -> Iterator[list[Row]]:
        yield first
        number = len(first) + 1
        for records in pages:
            rows = _rows(records, number)
            number += len(rows)
            yield rows

    return Source(kind=kind, columns=columns, pages=all_pages(), object_name=sobject)


def _rows(records: list[dict[str, Any]], start: int) -> list[Row]:
    rows = []
    for offset, record in enumerate(records):
        values = flatten(record)
        ident = values.get("Id")
        record_id = str(ident) if isinstance(ident, str) and ident[:3] in _RECORD_PREFIXES else None
        rows.append(Row(start + offset, values, record_id))
    return rows


def _keys(rows: list[Row]) -> list[str]:
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row.values))
    return list(keys)


def select_list(soql: str) -> list[str]:
    """The field paths a query selects (subqueries and functions left out), for a source
    that returned no rows: its columns are still known."""
    text = " ".join(soql.split())
    upper = text.upper()
    start = upper.find("SELECT ") + len("SELECT ")
    depth, end = 0, -1
    for index in range(start, len(text)):
        char = text[index]
        depth += (char == "(") - (char == ")")
        if depth == 0 and upper.startswith(" FROM ", index):
            end = index
            break
    if start < len("SELECT ") or end < 0:
        return []
    items, depth, current = [], 0, ""
    for char in text[start:end] + ",":
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    return [i for i in items if i and "(" not in i and " " not in i]


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A SOQL record as ``{"Email": ..., "Account.Name": ...}`` (child subqueries left out).

    A parent relationship that is empty stays as its own key with None, so a path through
    it reads as empty.
    """
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, Mapping):
            if "records" in value:
                continue
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out
