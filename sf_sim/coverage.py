"""Every endpoint sf_sim emulates: its coverage list, checked against the route table.

Keys are ``(method, handler name)`` of :data:`sf_sim.urls.ROUTES`; values say what the
endpoint is and what of it is modelled. ``tests/test_docs.py`` fails when a route is
missing here, an entry no longer has a route, or the README's coverage table (printed by
``python -m sf_sim.coverage``) differs, so this list stays the truth about what the
simulator speaks.
"""

from __future__ import annotations

__all__ = ["COVERAGE", "table"]

COVERAGE: dict[tuple[str, str], str] = {
    ("GET", "versions"): "``GET /services/data``: the supported versions",
    ("GET", "resources"): "``GET /services/data/vXX.X``: the resources of a version",
    ("GET", "limits"): "``GET limits``",
    ("GET", "query"): "``GET query?q=`` / ``queryAll?q=``: the first page; with ``columns=true`` "
    "the ``columnMetadata`` of the query (Salesforce CLI), no rows",
    ("GET", "query_more"): "``GET query/<locator>-<offset>``: a later page",
    ("GET", "describe_global"): "``GET sobjects``",
    ("GET", "sobject_info"): "``GET sobjects/X``: basic information",
    ("POST", "create_record"): "``POST sobjects/X``: 201 ``{id, success, errors}``",
    ("GET", "describe_object"): "``GET sobjects/X/describe``",
    ("GET", "list_views"): "``GET sobjects/X/listviews``: the object's list views",
    ("GET", "list_view"): "``GET sobjects/X/listviews/{id}``: one list view",
    (
        "GET",
        "list_view_describe",
    ): "``GET sobjects/X/listviews/{id}/describe``: columns, scope and the SOQL ``query``",
    (
        "GET",
        "list_view_results",
    ): "``GET sobjects/X/listviews/{id}/results?limit=&offset=``: records, as the user",
    ("GET", "report_list"): "``GET analytics/reports``: recently run reports (up to 200)",
    (
        "GET",
        "report_run",
    ): "``GET``/``POST analytics/reports/{id}?includeDetails=``: a synchronous tabular run "
    "(first 2,000 rows, ``allData``), filters on demand",
    (
        "POST",
        "report_run",
    ): "``GET``/``POST analytics/reports/{id}?includeDetails=``: a synchronous tabular run "
    "(first 2,000 rows, ``allData``), filters on demand",
    ("GET", "report_describe"): "``GET analytics/reports/{id}/describe``: report metadata",
    ("GET", "get_deleted"): "``GET sobjects/X/deleted?start=&end=``",
    ("GET", "get_updated"): "``GET sobjects/X/updated?start=&end=``",
    ("GET", "get_record"): "``GET sobjects/X/{id}[?fields=]``",
    ("PATCH", "update_record"): "``PATCH sobjects/X/{id}``: 204 and no body",
    ("DELETE", "delete_record"): "``DELETE sobjects/X/{id}``: 204 and no body",
    (
        "GET",
        "get_by_external_id",
    ): "``GET sobjects/X/{field}/{value}``: the record, 300 when several match, 404 when none",
    (
        "PATCH",
        "upsert_record",
    ): "``PATCH sobjects/X/{field}/{value}``: 201 created, 200 ``created:false``, 300 several",
    ("DELETE", "delete_by_external_id"): "``DELETE sobjects/X/{field}/{value}``",
    (
        "POST",
        "collection_save",
    ): "``POST composite/sobjects`` (create) and ``PATCH composite/sobjects`` (update)",
    (
        "PATCH",
        "collection_save",
    ): "``POST composite/sobjects`` (create) and ``PATCH composite/sobjects`` (update)",
    ("DELETE", "collection_delete"): "``DELETE composite/sobjects?ids=…&allOrNone=``",
    (
        "GET",
        "collection_retrieve",
    ): "``GET composite/sobjects/{Type}?ids=&fields=`` (or POST with ``{ids, fields}``)",
    (
        "POST",
        "collection_retrieve",
    ): "``GET composite/sobjects/{Type}?ids=&fields=`` (or POST with ``{ids, fields}``)",
    (
        "PATCH",
        "collection_upsert",
    ): "``PATCH composite/sobjects/{Type}/{ExternalIdField}``: results carry ``created``",
    ("POST", "composite_tree"): "``POST composite/tree/{Type}``",
    ("POST", "composite"): "``POST composite``",
    ("POST", "composite_batch"): "``POST composite/batch``",
    ("POST", "create_ingest_job"): "``POST jobs/ingest``: a new job in state ``Open``",
    ("POST", "create_query_job"): "``POST jobs/query``: a new query job (it runs at once)",
    ("GET", "list_jobs"): "``GET jobs/ingest`` / ``jobs/query``: every job of that kind",
    ("GET", "get_job"): "``GET jobs/{kind}/{id}``: job information with counters",
    (
        "PATCH",
        "set_job_state",
    ): '``PATCH jobs/{kind}/{id}`` with ``{"state": "UploadComplete" | "Aborted"}``',
    ("DELETE", "delete_job"): "``DELETE jobs/{kind}/{id}``: 204",
    ("PUT", "upload_job_data"): "``PUT jobs/ingest/{id}/batches`` (CSV): 201 and no body",
    (
        "GET",
        "ingest_results",
    ): "``GET jobs/ingest/{id}/successfulResults|failedResults|unprocessedrecords``",
    ("GET", "query_results"): "``GET jobs/query/{id}/results?maxRecords=&locator=``: a CSV page",
    (
        "GET",
        "list_standard_actions",
    ): "``GET actions/standard``: the standard invocable actions the org offers",
    (
        "POST",
        "email_simple",
    ): "``POST actions/standard/emailSimple``: ``{inputs: [{emailAddresses, emailSubject, emailBody}]}``",
    (
        "POST",
        "custom_notification",
    ): "``POST actions/standard/customNotificationAction``: the bell (``customNotifTypeId``, "
    "``recipientIds``, ``title``, ``body``, ``targetId``), per-input results",
    (
        "POST",
        "bulk1_create_job",
    ): "``POST /services/async/{v}/job``: a job from a JSON or XML ``jobInfo`` (``contentType`` "
    "JSON, CSV or XML; ZIP_* refused), answered in the request's format",
    (
        "GET",
        "bulk1_job",
    ): "``GET job/{id}`` (info) or ``POST job/{id}`` with ``state`` ``Closed`` or ``Aborted``; "
    "JSON for a JSON job, XML otherwise",
    (
        "POST",
        "bulk1_job",
    ): "``GET job/{id}`` (info) or ``POST job/{id}`` with ``state`` ``Closed`` or ``Aborted``; "
    "JSON for a JSON job, XML otherwise",
    (
        "POST",
        "bulk1_add_batch",
    ): "``POST job/{id}/batch``: JSON, CSV or XML records (10,000, 10 MB), or SOQL for a query "
    "job; answered ``Queued``, processed at once",
    ("GET", "bulk1_batches"): "``GET job/{id}/batch``: every batch (``batchInfoList`` in XML)",
    (
        "GET",
        "bulk1_batch",
    ): "``GET job/{id}/batch/{batch}``: batch state (``Completed`` or ``Failed`` with "
    "``stateMessage``)",
    ("GET", "bulk1_request"): "``GET job/{id}/batch/{batch}/request``: the data as sent",
    (
        "GET",
        "bulk1_results",
    ): "``GET job/{id}/batch/{batch}/result``: per-record results in the job's format "
    "(CSV ``Id,Success,Created,Error``), or query result Ids (XML ``result-list``)",
    (
        "GET",
        "bulk1_result_page",
    ): "``GET job/{id}/batch/{batch}/result/{result}``: 10,000 query records as JSON (epoch "
    "dates), CSV or XML; child subqueries fail CSV and XML batches",
    (
        "POST",
        "soap_login",
    ): "``POST /services/Soap/u/{version}``: ``loginResponse`` or a 500 SOAP fault",
    (
        "POST",
        "oauth_token",
    ): "``POST /services/oauth2/token``: password, client credentials, JWT bearer, "
    "authorization code and refresh token grants (refresh tokens rotate where the app says); "
    "JSON token or ``{error, error_description}`` (400)",
    (
        "GET",
        "oauth_authorize",
    ): "``GET /services/oauth2/authorize``: web server flow; a logged-in user (``sid`` cookie or "
    "Bearer) approves at once, 302 to the callback with a 15-minute code (PKCE S256)",
    (
        "POST",
        "oauth_revoke",
    ): "``POST /services/oauth2/revoke``: ends a refresh token or a session",
    (
        "GET",
        "userinfo",
    ): "``GET /services/oauth2/userinfo``: OpenID Connect claims of the session's user",
    (
        "GET",
        "identity",
    ): "``GET /id/{orgId}/{userId}``: the identity URL of the token's own user (403 for others)",
    (
        "POST",
        "soap_not_modelled",
    ): "``POST /services/Soap/{c,T,s,class}/{version}``: a SOAP fault "
    "(enterprise, tooling and Apex SOAP calls are not modelled)",
    (
        "POST",
        "metadata_soap",
    ): "``POST /services/Soap/m/{version}``: Metadata API ``deploy`` of a zip (custom objects "
    "and fields, permission sets, notification types) and ``checkDeployStatus``; other "
    "operations a SOAP fault",
}


def table() -> str:
    """The coverage table of the README: one row per route, in route-table order."""
    from cmsf_core.coverage_table import markdown_table
    from sf_sim.urls import ROUTES

    return markdown_table(
        (r.method, r.pattern.pattern, COVERAGE[(r.method, r.handler.__name__)]) for r in ROUTES
    )


if __name__ == "__main__":
    print(table(), end="")
