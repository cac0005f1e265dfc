"""Every endpoint cm_sim emulates: its coverage list, checked against the route table.

Keys are ``(method, handler name)`` of :data:`cm_sim.urls.ROUTES` and
:data:`cm_sim.urls.OAUTH_ROUTES`; values say what the endpoint is and what of it is
modelled. ``tests/test_docs.py`` fails when a route is missing here, an entry no longer
has a route, or the README's coverage table (``python -m cm_sim.coverage``) differs.

Every route answers below ``/api/v3.3`` and below the older prefixes ``/api/v3``,
``/api/v3.1`` and ``/api/v3.2`` (with v3.3 behaviour, except the sent campaigns list),
with paths matched case-insensitively as the platform does.
"""

from __future__ import annotations

__all__ = ["COVERAGE", "table"]

COVERAGE: dict[tuple[str, str], str] = {
    ("GET", "get_clients"): "``GET /clients.json``",
    ("POST", "create_client"): "``POST /clients.json``",
    ("GET", "billing_details"): "``GET /billingdetails.json``",
    ("GET", "get_countries"): "``GET /countries.json``",
    ("GET", "get_timezones"): "``GET /timezones.json``",
    ("GET", "system_date"): "``GET /systemdate.json`` in the account's time zone",
    ("GET", "get_admins"): "``GET /admins.json`` (or one with ``?email=``)",
    ("POST", "add_admin"): "``POST /admins.json``",
    ("PUT", "update_admin"): "``PUT /admins.json?email=``",
    ("DELETE", "delete_admin"): "``DELETE /admins.json?email=``",
    ("GET", "get_primary_contact"): "``GET /primarycontact.json``",
    ("PUT", "set_primary_contact"): "``PUT /primarycontact.json?email=``",
    (
        "PUT",
        "external_session",
    ): "``PUT /externalsession.json``: a login URL for a Campaign Monitor user",
    ("GET", "client_details"): "``GET /clients/{id}.json``",
    ("DELETE", "delete_client"): "``DELETE /clients/{id}.json``",
    ("PUT", "set_basics"): "``PUT /clients/{id}/setbasics.json``",
    (
        "PUT",
        "set_billing",
    ): "``PUT /clients/{id}/setpaygbilling.json`` and ``setmonthlybilling.json``",
    ("POST", "transfer_credits"): "``POST /clients/{id}/credits.json``",
    ("GET", "client_lists"): "``GET /clients/{id}/lists.json``",
    ("GET", "lists_for_email"): "``GET /clients/{id}/listsforemail.json?email=``",
    ("GET", "client_segments"): "``GET /clients/{id}/segments.json``",
    (
        "GET",
        "client_templates",
    ): "``GET /clients/{id}/templates.json`` (templates are not modelled: always empty)",
    ("GET", "get_people"): "``GET /clients/{id}/people.json`` (or one with ``?email=``)",
    ("POST", "add_person"): "``POST /clients/{id}/people.json``",
    ("PUT", "update_person"): "``PUT /clients/{id}/people.json?email=``",
    ("DELETE", "delete_person"): "``DELETE /clients/{id}/people.json?email=``",
    ("GET", "client_primary_contact"): "``GET``/``PUT /clients/{id}/primarycontact.json``",
    ("PUT", "client_primary_contact"): "``GET``/``PUT /clients/{id}/primarycontact.json``",
    ("GET", "suppression_list"): "``GET /clients/{id}/suppressionlist.json``",
    ("POST", "suppress"): "``POST /clients/{id}/suppress.json``",
    ("PUT", "unsuppress"): "``PUT /clients/{id}/unsuppress.json?email=``",
    (
        "GET",
        "sent_campaigns",
    ): "``GET /clients/{id}/campaigns.json``: paged (a bare array below v3.3)",
    ("GET", "scheduled_campaigns"): "``GET /clients/{id}/scheduled.json``",
    ("GET", "draft_campaigns"): "``GET /clients/{id}/drafts.json``",
    ("GET", "client_tags"): "``GET /clients/{id}/tags.json``",
    ("GET", "client_journeys"): "``GET /clients/{id}/journeys.json``",
    ("POST", "create_list"): "``POST /lists/{clientid}.json``",
    ("GET", "list_details"): "``GET /lists/{id}.json``",
    ("PUT", "update_list"): "``PUT /lists/{id}.json``",
    ("DELETE", "delete_list"): "``DELETE /lists/{id}.json``",
    ("GET", "list_stats"): "``GET /lists/{id}/stats.json``",
    (
        "GET",
        "list_state",
    ): "``GET /lists/{id}/{active|unconfirmed|unsubscribed|bounced|deleted}.json``",
    ("GET", "list_segments"): "``GET /lists/{id}/segments.json``",
    ("GET", "get_custom_fields"): "``GET /lists/{id}/customfields.json``",
    ("POST", "create_custom_field"): "``POST /lists/{id}/customfields.json``",
    ("PUT", "update_field_options"): "``PUT /lists/{id}/customfields/{key}/options.json``",
    ("PUT", "update_custom_field"): "``PUT /lists/{id}/customfields/{key}.json``",
    ("DELETE", "delete_custom_field"): "``DELETE /lists/{id}/customfields/{key}.json``",
    ("GET", "get_webhooks"): "``GET /lists/{id}/webhooks.json``",
    ("POST", "create_webhook"): "``POST /lists/{id}/webhooks.json``",
    ("GET", "test_webhook"): "``GET /lists/{id}/webhooks/{wid}/test.json``",
    (
        "PUT",
        "activate_webhook",
    ): "``PUT /lists/{id}/webhooks/{wid}/activate.json`` (and ``deactivate.json``)",
    ("DELETE", "delete_webhook"): "``DELETE /lists/{id}/webhooks/{wid}.json``",
    ("GET", "get_subscriber"): "``GET /subscribers/{listid}.json?email=``",
    ("POST", "add_subscriber"): "``POST /subscribers/{listid}.json``",
    ("PUT", "update_subscriber"): "``PUT /subscribers/{listid}.json?email=``",
    ("DELETE", "delete_subscriber"): "``DELETE /subscribers/{listid}.json?email=``",
    ("POST", "import_subscribers"): "``POST /subscribers/{listid}/import.json``",
    ("POST", "unsubscribe"): "``POST /subscribers/{listid}/unsubscribe.json``",
    ("GET", "subscriber_history"): "``GET /subscribers/{listid}/history.json?email=``",
    ("POST", "create_segment"): "``POST /segments/{listid}.json``",
    ("GET", "segment_details"): "``GET /segments/{id}.json``",
    ("DELETE", "delete_segment"): "``DELETE /segments/{id}.json``",
    ("GET", "segment_active"): "``GET /segments/{id}/active.json`` (paged, ``date`` filter)",
    ("POST", "create_campaign"): "``POST /campaigns/{clientid}.json``",
    ("DELETE", "delete_campaign"): "``DELETE /campaigns/{id}.json``",
    ("POST", "send_campaign"): "``POST /campaigns/{id}/send.json``",
    ("POST", "send_preview"): "``POST /campaigns/{id}/sendpreview.json`` (nothing is delivered)",
    ("POST", "unschedule_campaign"): "``POST /campaigns/{id}/unschedule.json``",
    ("GET", "campaign_summary"): "``GET /campaigns/{id}/summary.json``",
    ("GET", "campaign_lists"): "``GET /campaigns/{id}/listsandsegments.json``",
    ("GET", "campaign_clients"): "``GET /campaigns/{id}/emailclientusage.json``",
    (
        "GET",
        "campaign_report",
    ): "``GET /campaigns/{id}/{recipients|opens|clicks|unsubscribes|bounces|spam}.json``",
    ("GET", "journey_summary"): "``GET /journeys/{id}.json``",
    (
        "GET",
        "journey_email",
    ): "``GET /journeys/email/{id}/{recipients|opens|clicks|unsubscribes|bounces}.json``",
    ("GET", "smart_emails"): "``GET /transactional/smartEmail``",
    ("GET", "smart_email_details"): "``GET /transactional/smartEmail/{id}``",
    ("POST", "send_smart_email"): "``POST /transactional/smartEmail/{id}/send`` (202)",
    ("POST", "send_classic_email"): "``POST /transactional/classicEmail/send`` (202)",
    ("GET", "classic_groups"): "``GET /transactional/classicEmail/groups``",
    ("GET", "messages"): "``GET /transactional/messages``",
    ("GET", "message_details"): "``GET /transactional/messages/{id}``",
    ("POST", "resend_message"): "``POST /transactional/messages/{id}/resend``",
    ("GET", "tx_statistics"): "``GET /transactional/statistics``",
    ("POST", "oauth_token"): "``POST /oauth/token`` (form-encoded)",
    (
        "GET",
        "oauth_authorize",
    ): "``GET /oauth?client_id&redirect_uri&scope[&state]``: approve at once, redirect with a code",
}


def table() -> str:
    """The coverage table of the README: one row per route, in route-table order."""
    from cm_sim.urls import API_PREFIX, OAUTH_ROUTES, ROUTES
    from cmsf_core.coverage_table import markdown_table

    rows = [(m, API_PREFIX + p, COVERAGE[(m, h.__name__)]) for m, p, h in ROUTES]
    rows += [(m, p, COVERAGE[(m, h.__name__)]) for m, p, h in OAUTH_ROUTES]
    return markdown_table(rows)


if __name__ == "__main__":
    print(table(), end="")
