"""The route table of the Salesforce facade: data only, ``(method, path regex) → handler``.

Paths are matched against the request path as sent (percent-encoding kept), so an
external Id value containing ``/`` or ``+`` reaches the handler intact. ``auth`` says
whether a session is needed; ``cost`` is what the request counts against the daily
API limit (login costs nothing; a composite request is one call however many
subrequests it carries).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sf_sim import (
    auth,
    bulk1_handlers,
    composite,
    composite_tree,
    handlers,
    handlers_views,
    identity_api,
    jobs,
    metadata_soap,
)
from sf_sim.http import Reply, RequestContext

__all__ = ["ROUTES", "Route"]

Handler = Callable[[RequestContext], Reply]


@dataclass(frozen=True)
class Route:
    """One entry of the route table."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool = True
    cost: int = 1
    composable: bool = True
    bulk1: bool = False
    json_body: bool = True
    """Writes must send JSON (else 415); False for CSV uploads and the login endpoints."""


def _r(
    method: str,
    path: str,
    handler: Handler,
    *,
    auth: bool = True,
    cost: int = 1,
    composable: bool = True,
    bulk1: bool = False,
    json_body: bool = True,
) -> Route:
    return Route(
        method, re.compile("^" + path + "/?$"), handler, auth, cost, composable, bulk1, json_body
    )


def _b(method: str, path: str, handler: Handler) -> Route:
    """A Bulk API 1.0 route (errors in the ``{exceptionCode, exceptionMessage}`` shape)."""
    return _r(method, A + path, handler, composable=False, bulk1=True)


V = r"/services/data/v(?P<version>\d{1,3}\.\d)"
A = r"/services/async/(?P<version>\d{1,3}\.\d)"
J = r"/job/(?P<id>750[A-Za-z0-9]{12,15})"
B = J + r"/batch/(?P<batch>751[A-Za-z0-9]{12,15})"
T = r"(?P<type>[A-Za-z][A-Za-z0-9_]*)"
LV = r"(?P<id>[A-Za-z0-9]{1,18})"
RP = r"(?P<id>[A-Za-z0-9]{1,18})"
ROUTES: tuple[Route, ...] = (
    _r("GET", r"/services/data", handlers.versions, auth=False, cost=0),
    _r("GET", V, handlers.resources),
    _r("GET", V + r"/limits", handlers.limits),
    _r("GET", V + r"/(?P<resource>query|queryAll)", handlers.query),
    _r("GET", V + r"/(?P<resource>query|queryAll)/(?P<locator>[^/]+)", handlers.query_more),
    _r("GET", V + r"/sobjects", handlers.describe_global),
    _r("GET", V + r"/sobjects/" + T, handlers.sobject_info),
    _r("POST", V + r"/sobjects/" + T, handlers.create_record),
    _r("GET", V + r"/sobjects/" + T + r"/describe", handlers.describe_object),
    _r("GET", V + r"/sobjects/" + T + r"/deleted", handlers.get_deleted),
    _r("GET", V + r"/sobjects/" + T + r"/updated", handlers.get_updated),
    _r("GET", V + r"/sobjects/" + T + r"/listviews", handlers_views.list_views),
    _r("GET", V + r"/sobjects/" + T + r"/listviews/" + LV, handlers_views.list_view),
    _r(
        "GET",
        V + r"/sobjects/" + T + r"/listviews/" + LV + r"/describe",
        handlers_views.list_view_describe,
    ),
    _r(
        "GET",
        V + r"/sobjects/" + T + r"/listviews/" + LV + r"/results",
        handlers_views.list_view_results,
    ),
    _r("GET", V + r"/analytics/reports", handlers_views.report_list),
    _r("GET", V + r"/analytics/reports/" + RP, handlers_views.report_run),
    _r("POST", V + r"/analytics/reports/" + RP, handlers_views.report_run),
    _r("GET", V + r"/analytics/reports/" + RP + r"/describe", handlers_views.report_describe),
    _r("GET", V + r"/sobjects/" + T + r"/(?P<id>[^/]+)", handlers.get_record),
    _r("PATCH", V + r"/sobjects/" + T + r"/(?P<id>[^/]+)", handlers.update_record),
    _r("DELETE", V + r"/sobjects/" + T + r"/(?P<id>[^/]+)", handlers.delete_record),
    _r(
        "GET",
        V + r"/sobjects/" + T + r"/(?P<field>[A-Za-z][A-Za-z0-9_]*)/(?P<value>.+?)",
        handlers.get_by_external_id,
    ),
    _r(
        "PATCH",
        V + r"/sobjects/" + T + r"/(?P<field>[A-Za-z][A-Za-z0-9_]*)/(?P<value>.+?)",
        handlers.upsert_record,
    ),
    _r(
        "DELETE",
        V + r"/sobjects/" + T + r"/(?P<field>[A-Za-z][A-Za-z0-9_]*)/(?P<value>.+?)",
        handlers.delete_by_external_id,
    ),
    _r("POST", V + r"/composite/sobjects", composite.collection_save),
    _r("PATCH", V + r"/composite/sobjects", composite.collection_save),
    _r("DELETE", V + r"/composite/sobjects", composite.collection_delete),
    _r("GET", V + r"/composite/sobjects/" + T, composite.collection_retrieve),
    _r("POST", V + r"/composite/sobjects/" + T, composite.collection_retrieve),
    _r(
        "PATCH",
        V + r"/composite/sobjects/" + T + r"/(?P<field>[A-Za-z][A-Za-z0-9_]*)",
        composite.collection_upsert,
    ),
    _r("POST", V + r"/composite/tree/" + T, composite_tree.composite_tree),
    _r("POST", V + r"/composite", composite.composite, composable=False),
    _r("POST", V + r"/composite/batch", composite.composite_batch, composable=False),
    _r("POST", V + r"/jobs/(?P<kind>ingest)", jobs.create_ingest_job, composable=False),
    _r("POST", V + r"/jobs/(?P<kind>query)", jobs.create_query_job, composable=False),
    _r("GET", V + r"/jobs/(?P<kind>ingest|query)", jobs.list_jobs, composable=False),
    _r(
        "GET",
        V + r"/jobs/(?P<kind>ingest|query)/(?P<id>750[A-Za-z0-9]{12,15})",
        jobs.get_job,
        composable=False,
    ),
    _r(
        "PATCH",
        V + r"/jobs/(?P<kind>ingest|query)/(?P<id>750[A-Za-z0-9]{12,15})",
        jobs.set_job_state,
        composable=False,
    ),
    _r(
        "DELETE",
        V + r"/jobs/(?P<kind>ingest|query)/(?P<id>750[A-Za-z0-9]{12,15})",
        jobs.delete_job,
        composable=False,
    ),
    _r(
        "PUT",
        V + r"/jobs/(?P<kind>ingest)/(?P<id>750[A-Za-z0-9]{12,15})/batches",
        jobs.upload_job_data,
        composable=False,
        json_body=False,
    ),
    _r(
        "GET",
        V
        + r"/jobs/(?P<kind>ingest)/(?P<id>750[A-Za-z0-9]{12,15})/(?P<which>successfulResults|failedResults|unprocessedrecords|unprocessedRecords)",
        jobs.ingest_results,
        composable=False,
    ),
    _r(
        "GET",
        V + r"/jobs/(?P<kind>query)/(?P<id>750[A-Za-z0-9]{12,15})/results",
        jobs.query_results,
        composable=False,
    ),
    _r("GET", V + r"/actions/standard", handlers.list_standard_actions),
    _r("POST", V + r"/actions/standard/emailSimple", handlers.email_simple),
    _r("POST", V + r"/actions/standard/customNotificationAction", handlers.custom_notification),
    _b("POST", r"/job", bulk1_handlers.bulk1_create_job),
    _b("GET", J, bulk1_handlers.bulk1_job),
    _b("POST", J, bulk1_handlers.bulk1_job),
    _b("POST", J + r"/batch", bulk1_handlers.bulk1_add_batch),
    _b("GET", J + r"/batch", bulk1_handlers.bulk1_batches),
    _b("GET", B, bulk1_handlers.bulk1_batch),
    _b("GET", B + r"/request", bulk1_handlers.bulk1_request),
    _b("GET", B + r"/result", bulk1_handlers.bulk1_results),
    _b("GET", B + r"/result/(?P<result>752[A-Za-z0-9]{12,15})", bulk1_handlers.bulk1_result_page),
    _r(
        "POST",
        r"/services/Soap/u/(?P<soap_version>\d{1,3}\.\d)(?:/[A-Za-z0-9]*)?",
        auth.soap_login,
        auth=False,
        cost=0,
        composable=False,
    ),
    _r(
        "POST",
        r"/services/Soap/m/(?P<soap_version>\d{1,3}\.\d)(?:/[A-Za-z0-9]*){0,2}",
        metadata_soap.metadata_soap,
        auth=False,
        cost=0,
        composable=False,
    ),
    _r(
        "POST",
        r"/services/Soap/(?P<soap_api>[cTs]|class)/(?P<soap_version>\d{1,3}\.\d)(?:/[A-Za-z0-9]*)?",
        auth.soap_not_modelled,
        auth=False,
        cost=0,
        composable=False,
    ),
    _r("POST", r"/services/oauth2/token", auth.oauth_token, auth=False, cost=0, composable=False),
    _r(
        "GET",
        r"/services/oauth2/authorize",
        auth.oauth_authorize,
        auth=False,
        cost=0,
        composable=False,
    ),
    _r(
        "POST",
        r"/services/oauth2/revoke",
        auth.oauth_revoke,
        auth=False,
        cost=0,
        composable=False,
        json_body=False,
    ),
    _r("GET", r"/services/oauth2/userinfo", identity_api.userinfo, cost=0, composable=False),
    _r(
        "GET",
        r"/id/(?P<org>00D[A-Za-z0-9]{12,15})/(?P<user>005[A-Za-z0-9]{12,15})",
        identity_api.identity,
        cost=0,
        composable=False,
    ),
)
"""Every route the facade serves; anything else is 404 NOT_FOUND (405 for a known path)."""
