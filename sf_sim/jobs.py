"""Bulk API 2.0 handlers (``/services/data/vXX.X/jobs/...``); Bulk 1.0 is :mod:`sf_sim.bulk1_handlers`."""

from __future__ import annotations

from sf_sim.exceptions import SalesforceApiError
from sf_sim.http import Reply, RequestContext

__all__ = [
    "create_ingest_job",
    "create_query_job",
    "delete_job",
    "get_job",
    "ingest_results",
    "list_jobs",
    "query_results",
    "set_job_state",
    "upload_job_data",
]

CSV_TYPE = "text/csv; charset=UTF-8"


def _kind(ctx: RequestContext) -> str:
    return ctx.params["kind"]


def create_ingest_job(ctx: RequestContext) -> Reply:
    """``POST jobs/ingest``: a new job in state ``Open``."""
    job = ctx.org.bulk.create_ingest(ctx.json_object(), ctx.version)
    return Reply(200, job.to_api())


def create_query_job(ctx: RequestContext) -> Reply:
    """``POST jobs/query``: a new query job (``UploadComplete``; it runs in its queue turn)."""
    job = ctx.org.bulk.create_query(ctx.json_object(), ctx.version)
    body = job.to_api()
    body["state"] = "UploadComplete"
    return Reply(200, body)


def list_jobs(ctx: RequestContext) -> Reply:
    """``GET jobs/ingest`` / ``jobs/query``: every job of that kind."""
    kind = _kind(ctx)
    records = [job.to_api() for job in ctx.org.bulk.jobs.values() if job.kind == kind]
    return Reply(200, {"done": True, "records": records, "nextRecordsUrl": None})


def get_job(ctx: RequestContext) -> Reply:
    """``GET jobs/{kind}/{id}``: job information with counters."""
    return Reply(200, ctx.org.bulk.get(ctx.params["id"], _kind(ctx)).to_api(detail=True))


def set_job_state(ctx: RequestContext) -> Reply:
    """``PATCH jobs/{kind}/{id}`` with ``{"state": "UploadComplete" | "Aborted"}``."""
    state = ctx.json_object().get("state")
    job = ctx.org.bulk.set_state(ctx.params["id"], _kind(ctx), state)
    return Reply(200, job.to_api())


def delete_job(ctx: RequestContext) -> Reply:
    """``DELETE jobs/{kind}/{id}``: 204."""
    ctx.org.bulk.delete(ctx.params["id"], _kind(ctx))
    return Reply(204)


def upload_job_data(ctx: RequestContext) -> Reply:
    """``PUT jobs/ingest/{id}/batches`` (CSV): 201 and no body."""
    content_type = (ctx.header("Content-Type") or "").lower()
    if not content_type.startswith("text/csv"):
        raise SalesforceApiError(
            "INVALIDJOB", "Unsupported Content-Type; upload job data as text/csv", 400
        )
    ctx.org.bulk.upload(ctx.params["id"], ctx.body)
    return Reply(201)


def ingest_results(ctx: RequestContext) -> Reply:
    """``GET jobs/ingest/{id}/successfulResults|failedResults|unprocessedrecords``."""
    which = ctx.params["which"]
    text = ctx.org.bulk.results_csv(
        ctx.params["id"], "unprocessedrecords" if which.lower() == "unprocessedrecords" else which
    )
    return Reply(200, text, content_type=CSV_TYPE)


def query_results(ctx: RequestContext) -> Reply:
    """``GET jobs/query/{id}/results?maxRecords=&locator=``: a CSV page."""
    text, locator, count = ctx.org.bulk.query_results(
        ctx.params["id"], ctx.args.get("maxRecords"), ctx.args.get("locator")
    )
    headers = {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(count)}
    return Reply(200, text, headers, content_type=CSV_TYPE)
