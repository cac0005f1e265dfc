"""Bulk API 1.0 handlers (``/services/async/{version}/job…``), in the job's own format.

A job is created from a JSON or an XML ``jobInfo`` and answered in the same format; after
that, a ``JSON`` job answers JSON and a ``CSV`` or ``XML`` job answers XML (job and batch
information, query result lists), with its results in its own format (CSV rows, XML, JSON).
Errors are ``{exceptionCode, exceptionMessage}`` or ``<error>`` by the same rule
(:func:`error_reply`); the session comes from ``X-SFDC-Session``, and a bad one is a 400
``InvalidSessionId`` (what jsforce and simple-salesforce look for).
"""

from __future__ import annotations

from typing import Any

from sf_sim import bulk1_formats as wire
from sf_sim.bulk1 import Job1
from sf_sim.exceptions import SalesforceApiError
from sf_sim.http import Reply, RequestContext

__all__ = [
    "bulk1_add_batch",
    "bulk1_batch",
    "bulk1_batches",
    "bulk1_create_job",
    "bulk1_job",
    "bulk1_request",
    "bulk1_result_page",
    "bulk1_results",
    "error_reply",
]

XML_TYPE = "application/xml"
CSV_TYPE = "text/csv"
MEDIA = {"JSON": "application/json", "CSV": CSV_TYPE, "XML": XML_TYPE}


def _sent_json(ctx: RequestContext) -> bool:
    media = (ctx.header("Content-Type") or "").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _job_json(ctx: RequestContext) -> bool:
    """Whether replies about the request's job are JSON (a JSON job, or no job and JSON sent)."""
    job = ctx.org.bulk1.jobs.get(ctx.params.get("id", ""))
    if job is not None:
        return job.content_type == "JSON"
    return _sent_json(ctx)


def _info(ctx: RequestContext, status: int, root: str, info: dict[str, Any]) -> Reply:
    if _job_json(ctx):
        return Reply(status, info)
    return Reply(status, wire.to_xml(root, info), content_type=XML_TYPE)


def _spec(ctx: RequestContext) -> dict[str, Any]:
    """The ``jobInfo`` the client sent, as JSON or XML."""
    if _sent_json(ctx):
        return ctx.json_object()
    try:
        return dict(wire.parse_job_info(ctx.body))
    except wire.JobInfoError as exc:
        raise SalesforceApiError("InvalidXML", str(exc), 400) from exc


def error_reply(ctx: RequestContext, error: SalesforceApiError) -> Reply:
    """A Bulk 1.0 error in the request's format; a bad session is a 400 ``InvalidSessionId``."""
    code, message, status = error.error_code, error.message, error.status
    if code == "INVALID_SESSION_ID":
        code, message, status = "InvalidSessionId", "Invalid session id", 400
    elif code == "REQUEST_LIMIT_EXCEEDED":
        code, status = "ExceededQuota", 403
    elif code == "JSON_PARSER_ERROR":
        code = "InvalidJob"
    if _job_json(ctx):
        return Reply(status, {"exceptionCode": code, "exceptionMessage": message})
    return Reply(status, wire.error_xml(code, message), content_type=XML_TYPE)


def bulk1_create_job(ctx: RequestContext) -> Reply:
    """``POST /services/async/{v}/job``: a job from a JSON or XML ``jobInfo``."""
    job = ctx.org.bulk1.create(_spec(ctx), ctx.version)
    if _sent_json(ctx):
        return Reply(201, job.to_api())
    return Reply(201, wire.to_xml("jobInfo", job.to_api()), content_type=XML_TYPE)


def bulk1_job(ctx: RequestContext) -> Reply:
    """``GET job/{id}`` (info) or ``POST job/{id}`` with ``state`` ``Closed`` or ``Aborted``."""
    bulk1 = ctx.org.bulk1
    if ctx.method == "POST":
        job = bulk1.set_state(ctx.params["id"], _spec(ctx).get("state"))
    else:
        job = bulk1.get(ctx.params["id"])
    return _info(ctx, 200, "jobInfo", job.to_api())


def bulk1_add_batch(ctx: RequestContext) -> Reply:
    """``POST job/{id}/batch``: records in the job's format, or SOQL for a query job."""
    batch = ctx.org.bulk1.add_batch(ctx.params["id"], ctx.body, ctx.header("Content-Type"))
    return _info(ctx, 201, "batchInfo", batch.queued())


def bulk1_batches(ctx: RequestContext) -> Reply:
    """``GET job/{id}/batch``: every batch of the job."""
    infos = [batch.to_api() for batch in ctx.org.bulk1.get(ctx.params["id"]).batches.values()]
    if _job_json(ctx):
        return Reply(200, {"batchInfo": infos})
    return Reply(200, wire.batch_list_xml(infos), content_type=XML_TYPE)


def bulk1_batch(ctx: RequestContext) -> Reply:
    """``GET job/{id}/batch/{batch}``: batch state (``Completed`` or ``Failed`` at once)."""
    return _info(
        ctx, 200, "batchInfo", ctx.org.bulk1.batch(ctx.params["id"], ctx.params["batch"]).to_api()
    )


def _job(ctx: RequestContext) -> Job1:
    return ctx.org.bulk1.get(ctx.params["id"])


def bulk1_request(ctx: RequestContext) -> Reply:
    """``GET job/{id}/batch/{batch}/request``: the batch data as it was sent."""
    job = _job(ctx)
    batch = ctx.org.bulk1.batch(job.id, ctx.params["batch"])
    query = job.operation in ("query", "queryAll")
    media = "text/plain" if query else MEDIA[job.content_type]
    return Reply(200, batch.request, content_type=f"{media}; charset=UTF-8")


def bulk1_results(ctx: RequestContext) -> Reply:
    """``GET job/{id}/batch/{batch}/result``: per-record results, or query result Ids."""
    bulk1 = ctx.org.bulk1
    job = _job(ctx)
    batch = bulk1.batch(job.id, ctx.params["batch"])
    if batch.state == "Failed":
        raise SalesforceApiError("InvalidBatch", batch.message or "Batch failed", 400)
    if batch.cursor is not None:
        ids = bulk1.result_ids(batch)
        if job.content_type == "JSON":
            return Reply(200, ids)
        return Reply(200, wire.result_list_xml(ids), content_type=XML_TYPE)
    if job.content_type == "CSV":
        return Reply(200, wire.results_csv(batch.results), content_type=CSV_TYPE)
    if job.content_type == "XML":
        return Reply(200, wire.results_xml(batch.results), content_type=XML_TYPE)
    return Reply(200, batch.results)


def bulk1_result_page(ctx: RequestContext) -> Reply:
    """``GET job/{id}/batch/{batch}/result/{result}``: one page of query records."""
    bulk1 = ctx.org.bulk1
    job = _job(ctx)
    batch = bulk1.batch(job.id, ctx.params["batch"])
    if batch.cursor is None:
        raise SalesforceApiError("InvalidBatch", "Not a query batch", 400)
    records = bulk1.result_page(job, batch, ctx.params["result"])
    if job.content_type == "CSV":
        return Reply(
            200, wire.query_csv(ctx.org, batch.cursor.columns, records), content_type=CSV_TYPE
        )
    if job.content_type == "XML":
        return Reply(200, wire.query_xml(ctx.org, records), content_type=XML_TYPE)
    return Reply(200, wire.json_page(ctx.org, records))
