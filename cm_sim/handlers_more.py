"""Handlers for segments, webhooks, campaigns, journeys, transactional email and OAuth."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from cm_sim.exceptions import api_error
from cm_sim.handlers import ApiRequest, Result

if TYPE_CHECKING:
    from cm_sim.models import Account

__all__: list[str] = []


# -- segments -------------------------------------------------------------------------------
def create_segment(a: Account, r: ApiRequest) -> Result:
    """``POST /segments/{listid}.json``."""
    b = r.body()
    return 201, a.create_segment(r.groups[0], b.get("Title", ""), b.get("RuleGroups"), r.scope)


def segment_details(a: Account, r: ApiRequest) -> Result:
    """``GET /segments/{id}.json``."""
    row = a.segment_row(r.groups[0], r.scope)
    active = a.segment_members(row)
    return 200, {"ActiveSubscribers": len(active), "RuleGroups": json.loads(row["rules"]),
                 "ListID": row["list_id"], "SegmentID": row["id"], "Title": row["title"]}  # fmt: skip


def delete_segment(a: Account, r: ApiRequest) -> Result:
    """``DELETE /segments/{id}.json``."""
    a.delete_segment(r.groups[0], r.scope)
    return 200, None


def segment_active(a: Account, r: ApiRequest) -> Result:
    """``GET /segments/{id}/active.json`` (paged, ``date`` filter)."""
    return 200, a.segment_page(r.groups[0], r.args, r.scope)


# -- webhooks -------------------------------------------------------------------------------
def get_webhooks(a: Account, r: ApiRequest) -> Result:
    """``GET /lists/{id}/webhooks.json``."""
    return 200, a.webhooks_to_api(r.groups[0], r.scope)


def create_webhook(a: Account, r: ApiRequest) -> Result:
    """``POST /lists/{id}/webhooks.json``."""
    return 201, a.create_webhook(r.groups[0], r.body(), r.scope)


def test_webhook(a: Account, r: ApiRequest) -> Result:
    """``GET /lists/{id}/webhooks/{wid}/test.json``."""
    a.test_webhook(r.groups[0], r.groups[1], r.scope)
    return 200, None


def activate_webhook(a: Account, r: ApiRequest) -> Result:
    """``PUT /lists/{id}/webhooks/{wid}/activate.json`` (and ``deactivate.json``)."""
    a.set_webhook_status(r.groups[0], r.groups[1], r.groups[2] == "activate", r.scope)
    return 200, None


def delete_webhook(a: Account, r: ApiRequest) -> Result:
    """``DELETE /lists/{id}/webhooks/{wid}.json``."""
    a.delete_webhook(r.groups[0], r.groups[1], r.scope)
    return 200, None


# -- campaigns ------------------------------------------------------------------------------
def create_campaign(a: Account, r: ApiRequest) -> Result:
    """``POST /campaigns/{clientid}.json``."""
    return 201, a.create_campaign(r.groups[0], r.json(), r.scope)


def send_campaign(a: Account, r: ApiRequest) -> Result:
    """``POST /campaigns/{id}/send.json``."""
    a.send_campaign(r.groups[0], r.json(), r.scope)
    return 200, None


def send_preview(a: Account, r: ApiRequest) -> Result:
    """``POST /campaigns/{id}/sendpreview.json`` (nothing is delivered)."""
    a.campaign_row(r.groups[0], r.scope)
    recipients = r.body().get("PreviewRecipients")
    if not isinstance(recipients, list) or not recipients or len(recipients) > 15:
        raise api_error(400, "Provide between 1 and 15 preview recipients")
    return 200, None


def unschedule_campaign(a: Account, r: ApiRequest) -> Result:
    """``POST /campaigns/{id}/unschedule.json``."""
    a.unschedule_campaign(r.groups[0], r.scope)
    return 200, None


def delete_campaign(a: Account, r: ApiRequest) -> Result:
    """``DELETE /campaigns/{id}.json``."""
    a.delete_campaign(r.groups[0], r.scope)
    return 200, None


def campaign_summary(a: Account, r: ApiRequest) -> Result:
    """``GET /campaigns/{id}/summary.json``."""
    return 200, a.campaign_summary_to_api(r.groups[0], r.scope)


def campaign_lists(a: Account, r: ApiRequest) -> Result:
    """``GET /campaigns/{id}/listsandsegments.json``."""
    return 200, a.lists_and_segments_to_api(r.groups[0], r.scope)


def campaign_clients(a: Account, r: ApiRequest) -> Result:
    """``GET /campaigns/{id}/emailclientusage.json``."""
    return 200, a.email_client_usage_to_api(r.groups[0], r.scope)


def campaign_report(a: Account, r: ApiRequest) -> Result:
    """``GET /campaigns/{id}/{recipients|opens|clicks|unsubscribes|bounces|spam}.json``."""
    return 200, a.campaign_report_page(r.groups[0], r.groups[1], r.args, r.scope)


def sent_campaigns(a: Account, r: ApiRequest) -> Result:
    """``GET /clients/{id}/campaigns.json``."""
    return 200, a.sent_campaigns_to_api(r.groups[0], r.args, r.scope)


def scheduled_campaigns(a: Account, r: ApiRequest) -> Result:
    """``GET /clients/{id}/scheduled.json``."""
    return 200, a.unsent_campaigns_to_api(r.groups[0], "scheduled", r.scope)


def draft_campaigns(a: Account, r: ApiRequest) -> Result:
    """``GET /clients/{id}/drafts.json``."""
    return 200, a.unsent_campaigns_to_api(r.groups[0], "draft", r.scope)


def client_tags(a: Account, r: ApiRequest) -> Result:
    """``GET /clients/{id}/tags.json``."""
    return 200, a.tags_to_api(r.groups[0], r.scope)


# -- journeys -------------------------------------------------------------------------------
def client_journeys(a: Account, r: ApiRequest) -> Result:
    """``GET /clients/{id}/journeys.json``."""
    return 200, a.journeys_to_api(r.groups[0], r.scope)


def journey_summary(a: Account, r: ApiRequest) -> Result:
    """``GET /journeys/{id}.json``."""
    return 200, a.journey_summary_to_api(r.groups[0], r.scope)


def journey_email(a: Account, r: ApiRequest) -> Result:
    """``GET /journeys/email/{id}/{recipients|opens|clicks|unsubscribes|bounces}.json``."""
    return 200, a.journey_email_page(r.groups[0], r.groups[1], r.args, r.scope)


# -- transactional --------------------------------------------------------------------------
def smart_emails(a: Account, r: ApiRequest) -> Result:
    """``GET /transactional/smartEmail``."""
    return 200, a.smart_emails_to_api(r.args, r.scope)


def smart_email_details(a: Account, r: ApiRequest) -> Result:
    """``GET /transactional/smartEmail/{id}``."""
    return 200, a.smart_email_details_to_api(r.groups[0], r.scope)


def send_smart_email(a: Account, r: ApiRequest) -> Result:
    """``POST /transactional/smartEmail/{id}/send`` (202)."""
    return 202, a.send_smart_email(r.groups[0], r.json(), r.scope)


def send_classic_email(a: Account, r: ApiRequest) -> Result:
    """``POST /transactional/classicEmail/send`` (202)."""
    return 202, a.send_classic_email(r.json(), r.args, r.scope)


def classic_groups(a: Account, r: ApiRequest) -> Result:
    """``GET /transactional/classicEmail/groups``."""
    return 200, a.classic_groups_to_api(r.args, r.scope)


def messages(a: Account, r: ApiRequest) -> Result:
    """``GET /transactional/messages``."""
    return 200, a.messages_to_api(r.args, r.scope)


def message_details(a: Account, r: ApiRequest) -> Result:
    """``GET /transactional/messages/{id}``."""
    return 200, a.message_details_to_api(r.groups[0], r.args, r.scope)


def resend_message(a: Account, r: ApiRequest) -> Result:
    """``POST /transactional/messages/{id}/resend``."""
    return 200, a.resend_message(r.groups[0], r.scope)


def tx_statistics(a: Account, r: ApiRequest) -> Result:
    """``GET /transactional/statistics``."""
    return 200, a.tx_statistics_to_api(r.args, r.scope)


# -- OAuth ------------------------------------------------------------------------------------
def oauth_token(a: Account, r: ApiRequest) -> Result:
    """``POST /oauth/token`` (form-encoded)."""
    return 200, a.oauth_token(r.form)


def oauth_authorize(a: Account, r: ApiRequest) -> Result:
    """``GET /oauth?client_id&redirect_uri&scope[&state]``: approve at once, redirect with a code."""
    app_id, _ = a.register_oauth_app()
    redirect = r.args.get("redirect_uri", "")
    if r.args.get("client_id") != app_id or not redirect:
        return 400, {
            "error": "invalid_request",
            "error_description": "Unknown client_id or missing redirect_uri",
        }
    params = {"code": a.authorize_oauth(redirect, r.args.get("scope", ""))}
    if r.args.get("state"):
        params["state"] = r.args["state"]
    sep = "&" if "?" in redirect else "?"
    return 302, redirect + sep + urlencode(params)
