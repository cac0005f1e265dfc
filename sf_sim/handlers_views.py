"""REST handlers of reports (the Analytics API) and list views; the rules are in the org.

Report runs, describes and list view results all run as the request's user, so record
visibility applies; see :mod:`sf_sim.reports` and :mod:`sf_sim.list_views`.
"""

from __future__ import annotations

from sf_sim.exceptions import SalesforceApiError
from sf_sim.http import Reply, RequestContext

__all__ = [
    "list_view",
    "list_view_describe",
    "list_view_results",
    "list_views",
    "report_describe",
    "report_list",
    "report_run",
]


def _flag(ctx: RequestContext, name: str, default: bool) -> bool:
    raw = ctx.args.get(name)
    if raw is None:
        return default
    return raw.strip().lower() == "true"


def _int_arg(ctx: RequestContext, name: str, default: int) -> int:
    raw = ctx.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SalesforceApiError(
            "INVALID_QUERY_PARAMETER_VALUE", f"{name}: {raw[:40]} is not an integer", 400
        ) from None


def report_list(ctx: RequestContext) -> Reply:
    """``GET analytics/reports``: recently viewed reports (up to 200)."""
    return Reply(body=ctx.org.reports.recent(ctx.version))


def report_run(ctx: RequestContext) -> Reply:
    """``GET``/``POST analytics/reports/{id}[?includeDetails=true]``: a synchronous run."""
    metadata = None
    if ctx.method == "POST" and ctx.body.strip():
        body = ctx.json_object()
        metadata = body.get("reportMetadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise SalesforceApiError("BAD_REQUEST", "reportMetadata must be an object", 400)
    return Reply(
        body=ctx.org.reports.run(
            ctx.params["id"],
            include_details=_flag(ctx, "includeDetails", False),
            metadata=metadata,
            api_version=ctx.version,
        )
    )


def report_describe(ctx: RequestContext) -> Reply:
    """``GET analytics/reports/{id}/describe``: the report's metadata."""
    return Reply(body=ctx.org.reports.describe(ctx.params["id"]))


def list_views(ctx: RequestContext) -> Reply:
    """``GET sobjects/{type}/listviews``: the object's list views."""
    return Reply(body=ctx.org.list_views.listing(ctx.params["type"], ctx.version))


def list_view(ctx: RequestContext) -> Reply:
    """``GET sobjects/{type}/listviews/{id}``: one list view's basic information."""
    return Reply(body=ctx.org.list_views.info(ctx.params["type"], ctx.params["id"], ctx.version))


def list_view_describe(ctx: RequestContext) -> Reply:
    """``GET sobjects/{type}/listviews/{id}/describe``: columns and the SOQL query."""
    return Reply(body=ctx.org.list_views.describe(ctx.params["type"], ctx.params["id"]))


def list_view_results(ctx: RequestContext) -> Reply:
    """``GET sobjects/{type}/listviews/{id}/results?limit=&offset=``: a page of records."""
    return Reply(
        body=ctx.org.list_views.results(
            ctx.params["type"],
            ctx.params["id"],
            limit=_int_arg(ctx, "limit", 25),
            offset=_int_arg(ctx, "offset", 0),
        )
    )
