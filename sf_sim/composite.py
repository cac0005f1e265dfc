"""The composite family: sObject Collections, ``composite`` and ``composite/batch``.

- **Collections** (``composite/sobjects``): create, update, upsert, delete and retrieve
  up to 200 records in one request that costs one API call. HTTP 200 with per-record
  ``{id, success, errors}`` in input order, even when every record fails; 400 only for
  a malformed request (201 records: ``EXCEEDED_ID_LIMIT``). With ``allOrNone`` any
  failure rolls everything back and the good records carry
  ``ALL_OR_NONE_OPERATION_ROLLED_BACK``.
- **composite**: up to 25 subrequests in order, ``@{ref.path}`` references into earlier
  results; with ``allOrNone`` a failure rolls back all and the others answer
  ``PROCESSING_HALTED``.
- **composite/batch**: up to 25 independent subrequests; ``haltOnError`` stops at the
  first failure and the rest answer 412 ``BATCH_PROCESSING_HALTED``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sf_sim.dml import Rollback, WriteContext
from sf_sim.exceptions import RecordError, SalesforceApiError
from sf_sim.http import Reply, RequestContext
from sf_sim.records import ROLLED_BACK, SaveResult
from sf_sim.recycle import run_delete

__all__ = [
    "MAX_COLLECTION",
    "MAX_SUBREQUESTS",
    "collection_delete",
    "collection_retrieve",
    "collection_save",
    "collection_upsert",
    "composite",
    "composite_batch",
]

MAX_COLLECTION = 200
MAX_SUBREQUESTS = 25
_REFERENCE = re.compile(r"@\{([A-Za-z][A-Za-z0-9_]*)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_TOO_MANY = "record limit reached. cannot submit more than 200 records into this call"
HALTED = "The transaction was rolled back since another operation in the same transaction failed."


def _records(ctx: RequestContext) -> tuple[list[Any], bool]:
    body = ctx.json_object()
    records = body.get("records")
    if not isinstance(records, list):
        raise SalesforceApiError(
            "JSON_PARSER_ERROR", "records is required and must be an array", 400
        )
    if len(records) > MAX_COLLECTION:
        raise SalesforceApiError("EXCEEDED_ID_LIMIT", _TOO_MANY, 400)
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise SalesforceApiError("JSON_PARSER_ERROR", "allOrNone must be a boolean", 400)
    return records, all_or_none


def _type_of(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    attributes = record.get("attributes")
    if not isinstance(attributes, dict) or not isinstance(attributes.get("type"), str):
        return None
    return str(attributes["type"])


def _run_chunks(
    ctx: RequestContext, records: list[Any], all_or_none: bool, operation: str
) -> list[SaveResult]:
    """Save records chunk by chunk (runs of one type) in one transaction."""
    org = ctx.org
    results: list[SaveResult | None] = [None] * len(records)
    chunks: list[tuple[str, list[int]]] = []
    for position, record in enumerate(records):
        name = _type_of(record)
        if name is None:
            results[position] = SaveResult.failure(
                RecordError(
                    "INVALID_FIELD",
                    "Must specify the sObject type in the record attributes",
                    fields=["attributes"],
                )
            )
            continue
        if org.schema.object(name) is None or not org.control.object_visible(name):
            results[position] = SaveResult.failure(
                RecordError("INVALID_TYPE", f"sObject type '{name}' is not supported.", fields=[])
            )
            continue
        if chunks and chunks[-1][0].lower() == name.lower():
            chunks[-1][1].append(position)
        else:
            chunks.append((name, [position]))
    if len(chunks) > 10:
        raise SalesforceApiError(
            "INVALID_BATCH", "Number of object types in a request cannot exceed 10 chunks", 400
        )
    options = WriteContext(all_or_none=all_or_none)
    try:
        with org.store.transaction():
            for name, positions in chunks:
                subset = [dict(records[p]) for p in positions]
                if operation == "create":
                    saved = org.dml.insert(name, subset, options)
                else:
                    saved = org.dml.update(name, subset, options)
                for position, result in zip(positions, saved, strict=True):
                    results[position] = result
            if all_or_none and any(r is None or not r.success for r in results):
                raise Rollback
    except Rollback:
        return _rolled_back([r or SaveResult(None, False) for r in results])
    return [r or SaveResult(None, False) for r in results]


def _rolled_back(results: list[SaveResult]) -> list[SaveResult]:
    code, message = ROLLED_BACK
    return [
        SaveResult(
            None,
            False,
            r.errors
            if (not r.success and r.errors and r.errors[0].error_code != code)
            else [RecordError(code, message)],
        )
        for r in results
    ]


def collection_save(ctx: RequestContext) -> Reply:
    """``POST composite/sobjects`` (create) and ``PATCH composite/sobjects`` (update)."""
    records, all_or_none = _records(ctx)
    if ctx.method == "POST":
        for record in records:
            if isinstance(record, dict) and any(key.lower() == "id" for key in record):
                raise SalesforceApiError(
                    "INVALID_FIELD",
                    "Can't create records with an Id. Remove the Id field and try again.",
                    400,
                )
    results = _run_chunks(ctx, records, all_or_none, "create" if ctx.method == "POST" else "update")
    return Reply(200, [result.to_api() for result in results])


def collection_upsert(ctx: RequestContext) -> Reply:
    """``PATCH composite/sobjects/{Type}/{ExternalIdField}``: results carry ``created``."""
    records, all_or_none = _records(ctx)
    definition = ctx.org.object(ctx.params["type"])
    for record in records:
        if _type_of(record) is None:
            raise SalesforceApiError(
                "INVALID_FIELD", "Must specify the sObject type in the record attributes", 400
            )
        if str(_type_of(record)).lower() != definition.name.lower():
            raise SalesforceApiError(
                "INVALID_TYPE", "All records must be of the type in the URL", 400
            )
    results = ctx.org.dml.upsert(
        definition.name, ctx.params["field"], records, WriteContext(all_or_none=all_or_none)
    )
    out = []
    for result in results:
        body = result.to_api()
        body.setdefault("created", False)
        out.append(body)
    return Reply(200, out)


def collection_delete(ctx: RequestContext) -> Reply:
    """``DELETE composite/sobjects?ids=…&allOrNone=``."""
    ids = [item for item in (ctx.args.get("ids") or "").split(",") if item.strip()]
    if not ids:
        raise SalesforceApiError("MISSING_ARGUMENT", "Missing parameter: ids", 400)
    if len(ids) > MAX_COLLECTION:
        raise SalesforceApiError("EXCEEDED_ID_LIMIT", _TOO_MANY, 400)
    all_or_none = (ctx.args.get("allOrNone") or "false").lower() == "true"
    results = run_delete(ctx.org, [i.strip() for i in ids], WriteContext(all_or_none=all_or_none))
    return Reply(200, [result.to_api() for result in results])


def collection_retrieve(ctx: RequestContext) -> Reply:
    """``GET composite/sobjects/{Type}?ids=&fields=`` (or POST with ``{ids, fields}``)."""
    definition = ctx.org.object(ctx.params["type"])
    if ctx.method == "POST":
        body = ctx.json_object()
        ids, fields = body.get("ids") or [], body.get("fields") or []
    else:
        ids = [i for i in (ctx.args.get("ids") or "").split(",") if i.strip()]
        fields = [f for f in (ctx.args.get("fields") or "").split(",") if f.strip()]
    if not ids or not fields:
        raise SalesforceApiError("MISSING_ARGUMENT", "Both ids and fields must be specified", 400)
    if len(ids) > 2000:
        raise SalesforceApiError(
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 2000 records into this call",
            400,
        )
    out: list[Any] = []
    for record_id in ids:
        try:
            out.append(
                ctx.org.get(
                    definition.name,
                    str(record_id).strip(),
                    [str(f) for f in fields],
                    api_version=ctx.version,
                )
            )
        except SalesforceApiError as exc:
            if exc.error_code == "INVALID_FIELD":
                raise
            out.append(None)
    return Reply(200, out)


# ---------------------------------------------------------------------- composite


def _resolve(value: Any, results: dict[str, Any]) -> Any:
    """Replace ``@{ref.path}`` references in strings of a JSON value."""
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole:
            return _lookup(whole.group(1), whole.group(2), results)
        return _REFERENCE.sub(lambda m: str(_lookup(m.group(1), m.group(2), results)), value)
    if isinstance(value, list):
        return [_resolve(item, results) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, results) for key, item in value.items()}
    return value


def _lookup(reference: str, path: str, results: dict[str, Any]) -> Any:
    missing = SalesforceApiError(
        "PROCESSING_HALTED",
        f"Invalid reference specified. No value for {reference}{path} found in {reference}. "
        f"Provided referenceId ensure that the reference was defined and that it was successful.",
        400,
    )
    if reference not in results:
        raise missing
    value: Any = results[reference]
    for part in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        key, index = part
        try:
            value = value[key] if key else value[int(index)]
        except (KeyError, IndexError, TypeError) as exc:
            raise missing from exc
    if value is None or isinstance(value, dict | list):
        raise missing
    return value


def _subrequest(
    ctx: RequestContext, method: Any, url: Any, body: Any, headers: dict[str, str]
) -> Reply:
    if not isinstance(method, str) or not isinstance(url, str):
        raise SalesforceApiError(
            "INVALID_API_INPUT", "Each subrequest needs a method and a url", 400
        )
    payload = b"" if body is None else json.dumps(body).encode()
    return ctx.app.dispatch_internal(ctx, method.upper(), url, payload, headers)


def _subrequests(body: dict[str, Any], key: str, kind: str) -> list[Any]:
    """The list of subrequests under ``key``: present, non-empty, at most 25."""
    requests = body.get(key)
    if not isinstance(requests, list) or not requests:
        raise SalesforceApiError("INVALID_API_INPUT", f"{key} is required", 400)
    if len(requests) > MAX_SUBREQUESTS:
        raise SalesforceApiError(
            "INVALID_API_INPUT",
            f"{kind} request limit exceeded. Maximum of {MAX_SUBREQUESTS} subrequests allowed.",
            400,
        )
    return requests


def composite(ctx: RequestContext) -> Reply:
    """``POST composite``."""
    body = ctx.json_object()
    requests = _subrequests(body, "compositeRequest", "Composite")
    all_or_none = bool(body.get("allOrNone", False))
    seen: set[str] = set()
    for item in requests:
        reference = item.get("referenceId") if isinstance(item, dict) else None
        if (
            not isinstance(reference, str)
            or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", reference)
            or reference in seen
        ):
            raise SalesforceApiError(
                "INVALID_API_INPUT", f"Invalid or duplicate referenceId: {reference}", 400
            )
        seen.add(reference)
    responses: list[dict[str, Any]] = []
    values: dict[str, Any] = {}
    failed = False
    try:
        with ctx.org.store.transaction():
            for item in requests:
                if failed and all_or_none:
                    responses.append(_halted(item["referenceId"]))
                    continue
                try:
                    url = _resolve(item.get("url"), values)
                    payload = _resolve(item.get("body"), values)
                    reply = _subrequest(
                        ctx, item.get("method"), url, payload, _headers(item.get("httpHeaders"))
                    )
                except SalesforceApiError as exc:
                    reply = Reply(exc.status, [exc.to_api()])
                if reply.status >= 400:
                    failed = True
                else:
                    values[item["referenceId"]] = reply.body
                responses.append(
                    {
                        "body": reply.body,
                        "httpHeaders": {k: v for k, v in reply.headers.items() if k == "Location"},
                        "httpStatusCode": reply.status,
                        "referenceId": item["referenceId"],
                    }
                )
            if failed and all_or_none:
                raise Rollback
    except Rollback:
        responses = [
            entry if entry["httpStatusCode"] >= 400 else _halted(entry["referenceId"])
            for entry in responses
        ]
    return Reply(200, {"compositeResponse": responses})


def _halted(reference: str) -> dict[str, Any]:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": HALTED}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": reference,
    }


def composite_batch(ctx: RequestContext) -> Reply:
    """``POST composite/batch``."""
    body = ctx.json_object()
    requests = _subrequests(body, "batchRequests", "Batch")
    halt = bool(body.get("haltOnError", False))
    results: list[dict[str, Any]] = []
    has_errors = False
    for item in requests:
        if has_errors and halt:
            results.append(
                {
                    "statusCode": 412,
                    "result": [
                        {
                            "errorCode": "BATCH_PROCESSING_HALTED",
                            "message": "Batch processing halted per request",
                        }
                    ],
                }
            )
            continue
        if not isinstance(item, dict):
            item = {}
        url = item.get("url")
        if isinstance(url, str) and not url.startswith("/"):
            url = "/services/data/" + url
        try:
            reply = _subrequest(ctx, item.get("method"), url, item.get("richInput"), {})
        except SalesforceApiError as exc:
            reply = Reply(exc.status, [exc.to_api()])
        if reply.status >= 400:
            has_errors = True
        results.append({"statusCode": reply.status, "result": reply.body})
    return Reply(200, {"hasErrors": has_errors, "results": results})


def _headers(value: Any) -> dict[str, str]:
    """A subrequest's ``httpHeaders``: an object of strings.

    Raises:
        SalesforceApiError: ``JSON_PARSER_ERROR`` (400) for anything else.
    """
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise SalesforceApiError(
            "JSON_PARSER_ERROR",
            "Cannot deserialize httpHeaders: expected an object of string values",
            400,
        )
    return dict(value)
