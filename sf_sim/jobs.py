"""Bulk API handlers: 2.0 (``/services/data/vXX.X/jobs/...``) and 1.0 JSON (``/services/async/XX.X/job``)."""

from __future__ import annotations

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
    """``POST jobs/query``: a new query job (it runs at once)."""
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


# ---------------------------------------------------------------------- Bulk API 1.0


def bulk1_create_job(ctx: RequestContext) -> Reply:
    """``POST /services/async/{v}/job`` (JSON content)."""
    return Reply(201, ctx.org.bulk1.create(ctx.json_object(), ctx.version).to_api())


def bulk1_job(ctx: RequestContext) -> Reply:
    """``GET job/{id}`` (info) or ``POST job/{id}`` with ``{"state": "Closed" | "Aborted"}``."""
    if ctx.method == "POST":
        return Reply(
            200, ctx.org.bulk1.set_state(ctx.params["id"], ctx.json_object().get("state")).to_api()
        )
    return Reply(200, ctx.org.bulk1.get(ctx.params["id"]).to_api())


def bulk1_add_batch(ctx: RequestContext) -> Reply:
    """``POST job/{id}/batch``: JSON records, or raw SOQL for a query job."""
    return Reply(201, ctx.org.bulk1.add_batch(ctx.params["id"], ctx.body).to_api())


def bulk1_batches(ctx: RequestContext) -> Reply:
    """``GET job/{id}/batch``: every batch of the job."""
    job = ctx.org.bulk1.get(ctx.params["id"])
    return Reply(200, {"batchInfo": [batch.to_api() for batch in job.batches.values()]})


def bulk1_batch(ctx: RequestContext) -> Reply:
    """``GET job/{id}/batch/{batch}``: batch state (``Completed`` at once)."""
    return Reply(200, ctx.org.bulk1.batch(ctx.params["id"], ctx.params["batch"]).to_api())


def bulk1_request(ctx: RequestContext) -> Reply:
    """``GET job/{id}/batch/{batch}/request``: what was sent."""
    batch = ctx.org.bulk1.batch(ctx.params["id"], ctx.params["batch"])
    if isinstance(batch.request, str):
        return Reply(200, batch.request, content_type="text/plain; charset=UTF-8")
    return Reply(200, batch.request)


def bulk1_results(ctx: RequestContext) -> Reply:
    """``GET job/{id}/batch/{batch}/result``: per-record results, or query result Ids."""
    bulk1 = ctx.org.bulk1
    batch = bulk1.batch(ctx.params["id"], ctx.params["batch"])
    if batch.state == "Failed":
        raise SalesforceApiError("InvalidBatch", batch.message or "Batch failed", 400)
    if batch.cursor is not None:
        return Reply(200, bulk1.result_ids(batch))
    return Reply(200, batch.results)


def bulk1_result_page(ctx: RequestContext) -> Reply:
    """``GET job/{id}/batch/{batch}/result/{result}``: one page of query records."""
    bulk1 = ctx.org.bulk1
    job = bulk1.get(ctx.params["id"])
    batch = bulk1.batch(ctx.params["id"], ctx.params["batch"])
    if batch.cursor is None:
        raise SalesforceApiError("InvalidBatch", "Not a query batch", 400)
    return Reply(200, bulk1.result_page(job, batch, ctx.params["result"]))
