"""The wire formats of Bulk API 1.0: XML job and batch information, CSV and XML batches,
results in the job's format, and the ``<error>`` body.

XML documents use the namespace ``http://www.force.com/2009/06/asyncapi/dataload``. A CSV
batch is a header of field names and one row per record (an empty value leaves a field
alone, ``#N/A`` clears it); its results are ``"Id","Success","Created","Error"`` rows with
errors as ``CODE:message:fields --``, and query result pages are CSV with the selected
paths as the header (``Account.Name``). An XML batch is ``<sObjects><sObject>…`` with
``xsi:nil="true"`` for a null; a document with a DOCTYPE (entities, external references)
is refused (defusedxml). JSON jobs keep the platform's JSON shapes (query result dates
as epoch milliseconds).
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from sf_sim.bulk import _walk  # the value at a selected path (Account.Name), as Bulk 2.0 reads it
from sf_sim.exceptions import SfSimError
from sf_sim.schema import parse_datetime

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = [
    "NS",
    "BatchDataError",
    "JobInfoError",
    "batch_list_xml",
    "csv_records",
    "error_xml",
    "json_page",
    "parse_job_info",
    "query_csv",
    "query_xml",
    "result_list_xml",
    "results_csv",
    "results_xml",
    "to_xml",
    "xml_records",
]

NS = "http://www.force.com/2009/06/asyncapi/dataload"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


class BatchDataError(SfSimError):
    """Batch data that cannot be read (the batch fails with ``InvalidBatch : …``)."""


class JobInfoError(SfSimError):
    """A ``jobInfo`` request body that is not the XML the platform expects (``InvalidXML``)."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _text(value: Any) -> str:
    return escape(_plain(value))


# ---------------------------------------------------------------------- requests


def parse_job_info(body: bytes) -> dict[str, str]:
    """The fields of an XML ``<jobInfo>`` request (``operation``, ``object``, ``state``…).

    Raises:
        JobInfoError: For a body that is not XML or whose root is not ``jobInfo``.
    """
    try:
        root = SafeET.fromstring(body.strip(), forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException, LookupError, ValueError) as exc:
        raise JobInfoError("Unable to parse the XML request body") from exc
    if _local(root.tag) != "jobInfo":
        raise JobInfoError(f"Expected a jobInfo element, found {_local(root.tag)}")
    return {_local(child.tag): (child.text or "").strip() for child in root}


def csv_records(body: bytes) -> list[dict[str, Any]]:
    """The records of a CSV batch (header row, then one row per record).

    Raises:
        BatchDataError: For data that is not UTF-8 CSV, an empty header, a repeated
            column, or a row with more values than the header has columns.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BatchDataError("CSV data must be UTF-8") from exc
    if "\x00" in text:
        raise BatchDataError("Failed to parse CSV: the data contains a null character")
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as exc:
        raise BatchDataError(f"Failed to parse CSV: {exc}") from exc
    if not rows or not any(name.strip() for name in rows[0]):
        raise BatchDataError("Records not found: the CSV has no header row")
    header = [name.strip() for name in rows[0]]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated or "" in header:
        raise BatchDataError(f"Invalid CSV header: {', '.join(repeated) or 'an empty column name'}")
    records: list[dict[str, Any]] = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) > len(header):
            raise BatchDataError(
                f"Row {number} has {len(row)} values but the header has {len(header)} columns"
            )
        records.append(dict(zip(header, row + [""] * (len(header) - len(row)), strict=True)))
    return records


def xml_records(body: bytes) -> list[dict[str, Any]]:
    """The records of an XML batch (``<sObjects><sObject><Field>value</Field>…``).

    Raises:
        BatchDataError: For data that is not XML or not ``sObjects``.
    """
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise BatchDataError("Unable to parse the XML batch: DOCTYPE is not allowed") from exc
    except (ET.ParseError, LookupError, ValueError) as exc:
        raise BatchDataError("Unable to parse the XML batch") from exc
    if _local(root.tag) != "sObjects":
        raise BatchDataError(f"Expected sObjects, found {_local(root.tag)}")
    records: list[dict[str, Any]] = []
    for item in root:
        if _local(item.tag) != "sObject":
            raise BatchDataError(f"Expected sObject, found {_local(item.tag)}")
        record: dict[str, Any] = {}
        for child in item:
            if len(child):
                raise BatchDataError(f"Nested values are not supported: {_local(child.tag)}")
            nil = child.get(f"{{{XSI}}}nil") == "true"
            record[_local(child.tag)] = None if nil else (child.text or "")
        records.append(record)
    return records


# ---------------------------------------------------------------------- replies


def _fields(info: dict[str, Any]) -> str:
    return "".join(
        f"<{name}>{_text(value)}</{name}>" for name, value in info.items() if value is not None
    )


def to_xml(root: str, info: dict[str, Any]) -> str:
    """``<jobInfo>``/``<batchInfo>`` with the fields that have a value, in order."""
    return f'{_HEAD}<{root} xmlns="{NS}">{_fields(info)}</{root}>'


def batch_list_xml(batches: list[dict[str, Any]]) -> str:
    """``<batchInfoList>`` of every batch of a job."""
    inner = "".join(f"<batchInfo>{_fields(info)}</batchInfo>" for info in batches)
    return f'{_HEAD}<batchInfoList xmlns="{NS}">{inner}</batchInfoList>'


def error_xml(code: str, message: str) -> str:
    """The Bulk 1.0 error body."""
    return (
        f'{_HEAD}<error xmlns="{NS}"><exceptionCode>{escape(code)}</exceptionCode>'
        f"<exceptionMessage>{escape(message)}</exceptionMessage></error>"
    )


def result_list_xml(result_ids: list[str]) -> str:
    """``<result-list>`` of a completed query batch."""
    inner = "".join(f"<result>{result_id}</result>" for result_id in result_ids)
    return f'{_HEAD}<result-list xmlns="{NS}">{inner}</result-list>'


def _error_text(errors: list[dict[str, Any]]) -> str:
    if not errors:
        return ""
    first = errors[0]
    return f"{first['statusCode']}:{first['message']}:{','.join(first.get('fields') or [])} --"


def results_csv(results: list[dict[str, Any]]) -> str:
    """Per-record results of a CSV batch."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["Id", "Success", "Created", "Error"])
    for result in results:
        writer.writerow(
            [
                result["id"] or "",
                _plain(result["success"]),
                _plain(result["created"]),
                _error_text(result["errors"]),
            ]
        )
    return out.getvalue()


def results_xml(results: list[dict[str, Any]]) -> str:
    """Per-record results of an XML batch."""
    parts: list[str] = []
    for result in results:
        errors = "".join(
            "<errors>"
            + "".join(f"<fields>{escape(name)}</fields>" for name in error.get("fields") or [])
            + f"<message>{escape(error['message'])}</message>"
            f"<statusCode>{escape(error['statusCode'])}</statusCode></errors>"
            for error in result["errors"]
        )
        ident = f"<id>{result['id']}</id>" if result["id"] else '<id xsi:nil="true"/>'
        parts.append(
            f"<result>{errors}{ident}<success>{_text(result['success'])}</success>"
            f"<created>{_text(result['created'])}</created></result>"
        )
    return f'{_HEAD}<results xmlns="{NS}" xmlns:xsi="{XSI}">{"".join(parts)}</results>'


# ---------------------------------------------------------------------- query pages


def _typed(org: Org, record: dict[str, Any], datetimes: Any, dates: Any) -> dict[str, Any]:
    """``record`` with its datetime and date values passed through ``datetimes``/``dates``."""
    kind = (record.get("attributes") or {}).get("type")
    definition = org.schema.object(str(kind)) if kind else None
    out: dict[str, Any] = {}
    for key, value in record.items():
        item = definition.field(key) if definition is not None and key != "attributes" else None
        if isinstance(value, dict) and key != "attributes" and "attributes" in value:
            out[key] = _typed(org, value, datetimes, dates)
        elif item is not None and value is not None and item.type == "datetime":
            out[key] = datetimes(parse_datetime(str(value)))
        elif item is not None and value is not None and item.type == "date":
            out[key] = dates(date.fromisoformat(str(value)))
        else:
            out[key] = value
    return out


def json_page(org: Org, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A JSON query result page: dates and datetimes as epoch milliseconds."""
    epoch = date(1970, 1, 1).toordinal()
    return [
        _typed(
            org,
            record,
            lambda moment: int(moment.timestamp() * 1000),
            lambda day: (day.toordinal() - epoch) * 86_400_000,
        )
        for record in records
    ]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def query_csv(org: Org, columns: list[str], records: list[dict[str, Any]]) -> str:
    """A CSV query result page: the selected paths, datetimes as ``…T…Z``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(columns)
    for record in records:
        typed = _typed(org, record, _iso, date.isoformat)
        row = []
        for column in columns:
            value = _walk(typed, column)
            row.append("" if value is None else _plain(value))
        writer.writerow(row)
    return out.getvalue()


def _record_xml(record: dict[str, Any]) -> str:
    kind = (record.get("attributes") or {}).get("type", "")
    parts = [f"<type>{escape(str(kind))}</type>"]
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict) and "attributes" in value:
            parts.append(f'<{key} xsi:type="sObject">{_record_xml(value)}</{key}>')
        elif value is None:
            parts.append(f'<{key} xsi:nil="true"/>')
        else:
            parts.append(f"<{key}>{_text(value)}</{key}>")
    return "".join(parts)


def query_xml(org: Org, records: list[dict[str, Any]]) -> str:
    """An XML query result page (``<queryResult><records xsi:type="sObject">…``)."""
    inner = "".join(
        f'<records xsi:type="sObject">{_record_xml(_typed(org, r, _iso, date.isoformat))}</records>'
        for r in records
    )
    return f'{_HEAD}<queryResult xmlns="{NS}" xmlns:xsi="{XSI}">{inner}</queryResult>'
