"""REST handlers: one short function per operation; the rules live in the org.

Each handler reads the request, calls the backend and returns a :class:`Reply` with
the platform's status and JSON. Composite, Bulk API 2.0 and login handlers are in
:mod:`sf_sim.composite`, :mod:`sf_sim.jobs` and :mod:`sf_sim.auth`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, unquote_plus

from sf_sim import describe
from sf_sim.dml import WriteContext
from sf_sim.exceptions import SalesforceApiError
from sf_sim.http import Reply, RequestContext
from sf_sim.identity import identity_url
from sf_sim.query import parse_batch_size
from sf_sim.query_columns import column_metadata
from sf_sim.records import SaveResult, normalise_id
from sf_sim.recycle import run_delete
from sf_sim.upsert import external_id_field

__all__ = [
    "SUPPORTED_VERSIONS",
    "create_record",
    "delete_record",
    "describe_global",
    "describe_object",
    "email_simple",
    "get_deleted",
    "get_record",
    "get_updated",
    "limits",
    "list_standard_actions",
    "query",
    "query_more",
    "resources",
    "sobject_info",
    "update_record",
    "upsert_record",
    "versions",
]

SUPPORTED_VERSIONS = tuple(f"{major}.0" for major in range(50, 63))
"""API versions the org answers (v50.0 up to v62.0)."""
_RELEASES = {
    50: "Winter '21", 51: "Spring '21", 52: "Summer '21", 53: "Winter '22", 54: "Spring '22",
    55: "Summer '22", 56: "Winter '23", 57: "Spring '23", 58: "Summer '23", 59: "Winter '24",
    60: "Spring '24", 61: "Summer '24", 62: "Winter '25",
}  # fmt: skip


def _record_failure(result: SaveResult) -> SalesforceApiError:
    error = result.errors[0]
    return SalesforceApiError(error.error_code, error.message, 400, error.fields)


def versions(ctx: RequestContext) -> Reply:
    """``GET /services/data``: the supported versions."""
    return Reply(
        body=[
            {"label": _RELEASES[int(v.split(".")[0])], "url": f"/services/data/v{v}", "version": v}
            for v in SUPPORTED_VERSIONS
        ]
    )


def resources(ctx: RequestContext) -> Reply:
    """``GET /services/data/vXX.X``: the resources of a version."""
    base = f"/services/data/v{ctx.version}"
    names = ("composite", "jobs", "limits", "query", "queryAll", "sobjects", "actions")
    body = {name: f"{base}/{name}" for name in names}
    body["jobs"] = f"{base}/jobs"
    if ctx.user_id is not None:
        body["identity"] = identity_url(ctx.org, ctx.user_id)
    return Reply(body=body)


def limits(ctx: RequestContext) -> Reply:
    """``GET limits``."""
    return Reply(body=ctx.org.limits.to_api())


def query(ctx: RequestContext) -> Reply:
    """``GET query?q=`` / ``queryAll?q=``: the first page."""
    soql = ctx.args.get("q")
    if soql is None or not soql.strip():
        raise SalesforceApiError("MALFORMED_QUERY", "A query string has to be specified", 400)
    include_deleted = ctx.params["resource"] == "queryAll"
    if ctx.args.get("columns", "").lower() == "true":
        return Reply(body=column_metadata(ctx.org, soql, include_deleted=include_deleted))
    batch = parse_batch_size(ctx.header("Sforce-Query-Options"))
    return Reply(
        body=ctx.org.queries.first_page(
            soql, include_deleted=include_deleted, batch=batch, api_version=ctx.version
        )
    )


def query_more(ctx: RequestContext) -> Reply:
    """``GET query/<locator>-<offset>``: a later page."""
    return Reply(body=ctx.org.queries.next_page(ctx.params["locator"], api_version=ctx.version))


def describe_global(ctx: RequestContext) -> Reply:
    """``GET sobjects``."""
    return Reply(body=describe.describe_global(ctx.org, ctx.version))


def sobject_info(ctx: RequestContext) -> Reply:
    """``GET sobjects/X``: basic information."""
    definition = ctx.org.object(ctx.params["type"])
    return Reply(body=describe.basic_info(ctx.org, definition, ctx.version))


def describe_object(ctx: RequestContext) -> Reply:
    """``GET sobjects/X/describe``."""
    definition = ctx.org.object(ctx.params["type"])
    return Reply(body=describe.describe_object(ctx.org, definition, ctx.version))


def create_record(ctx: RequestContext) -> Reply:
    """``POST sobjects/X``: 201 ``{id, success, errors}``."""
    definition = ctx.org.object(ctx.params["type"])
    body = ctx.json_object()
    result = ctx.org.dml.insert(definition.name, [body])[0]
    if not result.success:
        raise _record_failure(result)
    location = f"/services/data/v{ctx.version}/sobjects/{definition.name}/{result.id}"
    return Reply(201, {"id": result.id, "success": True, "errors": []}, {"Location": location})


def get_record(ctx: RequestContext) -> Reply:
    """``GET sobjects/X/{id}[?fields=]``."""
    fields = ctx.args.get("fields")
    chosen = [name for name in fields.split(",") if name.strip()] if fields else None
    return Reply(
        body=ctx.org.get(ctx.params["type"], ctx.params["id"], chosen, api_version=ctx.version)
    )


def _existing(ctx: RequestContext) -> tuple[str, str]:
    """Resolve ``sobjects/X/{id}`` to (object, id) or the REST 404s."""
    record = ctx.org.get(ctx.params["type"], ctx.params["id"], ["Id"], api_version=ctx.version)
    return record["attributes"]["type"], record["Id"]


def update_record(ctx: RequestContext) -> Reply:
    """``PATCH sobjects/X/{id}``: 204 and no body."""
    name, record_id = _existing(ctx)
    body = ctx.json_object()
    result = ctx.org.dml.update(
        name, [{**{k: v for k, v in body.items() if k.lower() != "id"}, "Id": record_id}]
    )[0]
    if not result.success:
        raise _record_failure(result)
    return Reply(204)


def delete_record(ctx: RequestContext) -> Reply:
    """``DELETE sobjects/X/{id}``: 204 and no body."""
    name, record_id = _existing(ctx)
    result = run_delete(ctx.org, [record_id], WriteContext(), object_name=name)[0]
    if not result.success:
        raise _record_failure(result)
    return Reply(204)


def _external(ctx: RequestContext) -> tuple[str, str, str]:
    definition = ctx.org.object(ctx.params["type"])
    return definition.name, unquote(ctx.params["field"]), unquote_plus(ctx.params["value"])


def _matches(ctx: RequestContext, name: str, field: str, value: str) -> list[str]:
    definition = ctx.org.object(name)
    item = external_id_field(ctx.org, definition, field)
    rows = ctx.org.store.select(
        f'SELECT Id FROM "{definition.name}" WHERE +IsDeleted = 0 AND "{item.name}" = ?', (value,)
    )
    return [row["Id"] for row in rows]


def _several(ctx: RequestContext, name: str, found: list[str]) -> Reply:
    """The 300 answer listing the records an external Id matches."""
    return Reply(
        300, [f"/services/data/v{ctx.version}/sobjects/{name}/{record_id}" for record_id in found]
    )


def _one_match(ctx: RequestContext) -> tuple[str, list[str]]:
    """(object, matching Ids) for ``sobjects/X/{field}/{value}``, 404 when nothing matches."""
    name, field, value = _external(ctx)
    found = _matches(ctx, name, field, value)
    if not found:
        raise SalesforceApiError("NOT_FOUND", "The requested resource does not exist", 404)
    return name, found


def get_by_external_id(ctx: RequestContext) -> Reply:
    """``GET sobjects/X/{field}/{value}``: the record, 300 when several match, 404 when none."""
    name, found = _one_match(ctx)
    if len(found) > 1:
        return _several(ctx, name, found)
    fields = ctx.args.get("fields")
    chosen = [part for part in fields.split(",") if part.strip()] if fields else None
    return Reply(body=ctx.org.get(name, found[0], chosen, api_version=ctx.version))


def upsert_record(ctx: RequestContext) -> Reply:
    """``PATCH sobjects/X/{field}/{value}``: 201 created, 200 ``created:false``, 300 several."""
    name, field, value = _external(ctx)
    found = _matches(ctx, name, field, value)
    if len(found) > 1:
        return _several(ctx, name, found)
    body = ctx.json_object()
    key = ctx.org.object(name).field(field)
    assert key is not None
    for given, given_value in body.items():
        if given.lower() == key.name.lower() and str(given_value) != value:
            raise SalesforceApiError(
                "INVALID_FIELD",
                f"The field {key.name} is specified both in the URL and in the body with different values",
                400,
                [key.name],
            )
    record = {k: v for k, v in body.items() if k.lower() != key.name.lower()}
    record[key.name] = value
    result = ctx.org.dml.upsert(name, key.name, [record])[0]
    if not result.success:
        raise _record_failure(result)
    payload: dict[str, Any] = {
        "id": result.id,
        "success": True,
        "errors": [],
        "created": bool(result.created),
    }
    if result.created:
        return Reply(
            201, payload, {"Location": f"/services/data/v{ctx.version}/sobjects/{name}/{result.id}"}
        )
    return Reply(200, payload)


def delete_by_external_id(ctx: RequestContext) -> Reply:
    """``DELETE sobjects/X/{field}/{value}``."""
    name, found = _one_match(ctx)
    if len(found) > 1:
        return _several(ctx, name, found)
    result = run_delete(ctx.org, found, WriteContext(), object_name=name)[0]
    if not result.success:
        raise _record_failure(result)
    return Reply(204)


def get_deleted(ctx: RequestContext) -> Reply:
    """``GET sobjects/X/deleted?start=&end=``."""
    definition = ctx.org.object(ctx.params["type"])
    return Reply(
        body=ctx.org.recycle.get_deleted(definition, ctx.args.get("start"), ctx.args.get("end"))
    )


def get_updated(ctx: RequestContext) -> Reply:
    """``GET sobjects/X/updated?start=&end=``."""
    definition = ctx.org.object(ctx.params["type"])
    return Reply(
        body=ctx.org.recycle.get_updated(definition, ctx.args.get("start"), ctx.args.get("end"))
    )


def list_standard_actions(ctx: RequestContext) -> Reply:
    """``GET actions/standard``: the standard invocable actions the org offers."""
    return Reply(
        body={
            "actions": [
                {
                    "label": "Send Email",
                    "name": "emailSimple",
                    "type": "EMAILSIMPLE",
                    "url": f"/services/data/v{ctx.version}/actions/standard/emailSimple",
                },
                {
                    "label": "Send Custom Notification",
                    "name": "customNotificationAction",
                    "type": "CUSTOMNOTIFICATIONACTION",
                    "url": f"/services/data/v{ctx.version}/actions/standard/customNotificationAction",
                },
            ]
        }
    )


def email_simple(ctx: RequestContext) -> Reply:
    """``POST actions/standard/emailSimple``: ``{inputs: [{emailAddresses, emailSubject, emailBody}]}``."""
    body = ctx.json_object()
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise SalesforceApiError("JSON_PARSER_ERROR", "Missing required input: inputs", 400)
    results: list[dict[str, Any]] = []
    for item in inputs:
        errors: list[dict[str, Any]] = []
        if not isinstance(item, dict):
            errors.append(
                {
                    "statusCode": "INVALID_API_INPUT",
                    "message": "Each input must be an object.",
                    "fields": [],
                }
            )
        else:
            addresses = [
                a.strip() for a in str(item.get("emailAddresses") or "").split(",") if a.strip()
            ]
            subject, text = item.get("emailSubject"), item.get("emailBody")
            missing = [
                name
                for name, value in (
                    ("emailAddresses", addresses),
                    ("emailSubject", subject),
                    ("emailBody", text),
                )
                if not value
            ]
            if missing:
                errors.append(
                    {
                        "statusCode": "REQUIRED_FIELD_MISSING",
                        "message": f"Missing required input parameter: {missing[0]}",
                        "fields": [],
                    }
                )
            else:
                ctx.org.control.send_email(addresses, str(subject), str(text))
        results.append(
            {
                "actionName": "emailSimple",
                "errors": errors or None,
                "isSuccess": not errors,
                "outputValues": None if errors else {},
                "version": 1,
            }
        )
    return Reply(body=results)


def custom_notification(ctx: RequestContext) -> Reply:
    """``POST actions/standard/customNotificationAction``: the bell of the recipients.

    Inputs: ``customNotifTypeId`` (a ``CustomNotificationType``), ``recipientIds`` (users,
    at most 500), ``title`` (at most 250 characters), ``body`` (at most 750) and
    ``targetId`` (the record the notification opens). Each input succeeds or fails alone.
    """
    body = ctx.json_object()
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise SalesforceApiError("JSON_PARSER_ERROR", "Missing required input: inputs", 400)
    results: list[dict[str, Any]] = []
    for item in inputs:
        problem = _notification_problem(ctx, item)
        if problem is None:
            assert isinstance(item, dict)
            ctx.org.control.notify(
                str(item["customNotifTypeId"]),
                [str(r) for r in item["recipientIds"]],
                str(item["title"]),
                str(item["body"]),
                str(item["targetId"]),
            )
        errors = (
            [{"statusCode": problem[0], "message": problem[1], "fields": []}] if problem else None
        )
        results.append(
            {
                "actionName": "customNotificationAction",
                "errors": errors,
                "isSuccess": problem is None,
                "outputValues": None
                if problem
                else {"SuccessMessage": "Your custom notification is processed successfully."},
                "version": 1,
            }
        )
    return Reply(body=results)


def _notification_problem(ctx: RequestContext, item: Any) -> tuple[str, str] | None:
    if not isinstance(item, dict):
        return "INVALID_API_INPUT", "Each input must be an object."
    for name in ("customNotifTypeId", "recipientIds", "title", "body", "targetId"):
        if item.get(name) in (None, "", []):
            return "REQUIRED_FIELD_MISSING", f"Missing required input parameter: {name}"
    recipients = item["recipientIds"]
    if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
        return "INVALID_API_INPUT", "recipientIds must be a list of Ids"
    if len(recipients) > 500:
        return "LIMIT_EXCEEDED", "You can send a custom notification to at most 500 recipients"
    if not isinstance(item["title"], str) or len(item["title"]) > 250:
        return "STRING_TOO_LONG", "title: data value too large (max length=250)"
    if not isinstance(item["body"], str) or len(item["body"]) > 750:
        return "STRING_TOO_LONG", "body: data value too large (max length=750)"
    type_id = normalise_id(str(item["customNotifTypeId"]))
    if type_id is None or ctx.org.store.get("CustomNotificationType", type_id) is None:
        return "INVALID_ID_FIELD", "Invalid customNotifTypeId"
    for recipient in recipients:
        user_id = normalise_id(recipient)
        if user_id is None or ctx.org.store.get("User", user_id) is None:
            return "INVALID_ID_FIELD", f"Invalid recipient Id: {recipient[:40]}"
    return None
