"""The route table, as data: ``(method, path regex) -> handler``.

Paths are matched below ``/api/v3.3`` (the OAuth routes at the root). Non-transactional
routes end in ``.json``; transactional routes have no extension. ``ID`` matches the
platform's ids (hex, UUIDs) and ``KEY`` a URL-encoded custom field key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cm_sim import handlers as h
from cm_sim import handlers_more as m

if TYPE_CHECKING:
    from cm_sim.handlers import ApiRequest

__all__ = ["API_PREFIX", "API_PREFIX_RE", "API_VERSIONS", "OAUTH_ROUTES", "ROUTES", "compiled"]

API_PREFIX = "/api/v3.3"
API_VERSIONS = ("v3", "v3.1", "v3.2", "v3.3")
"""Version prefixes the platform still answers (older clients such as createsend-node send
``/api/v3`` and ``/api/v3.1``); all are served with v3.3 behaviour except the sent
campaigns list, which was a bare array before v3.3."""
API_PREFIX_RE = re.compile(r"^/api/(v3(?:\.[123])?)(/.*)$", re.IGNORECASE)
ID = r"([A-Za-z0-9_-]+)"
KEY = r"([^/]+)"
Handler = Callable[[Any, "ApiRequest"], tuple[int, Any]]

ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", r"/clients\.json", h.get_clients),
    ("POST", r"/clients\.json", h.create_client),
    ("GET", r"/billingdetails\.json", h.billing_details),
    ("GET", r"/countries\.json", h.get_countries),
    ("GET", r"/timezones\.json", h.get_timezones),
    ("GET", r"/systemdate\.json", h.system_date),
    ("GET", r"/admins\.json", h.get_admins),
    ("POST", r"/admins\.json", h.add_admin),
    ("PUT", r"/admins\.json", h.update_admin),
    ("DELETE", r"/admins\.json", h.delete_admin),
    ("GET", r"/primarycontact\.json", h.get_primary_contact),
    ("PUT", r"/primarycontact\.json", h.set_primary_contact),
    ("PUT", r"/externalsession\.json", h.external_session),
    ("GET", rf"/clients/{ID}\.json", h.client_details),
    ("DELETE", rf"/clients/{ID}\.json", h.delete_client),
    ("PUT", rf"/clients/{ID}/setbasics\.json", h.set_basics),
    ("PUT", rf"/clients/{ID}/set(?:payg|monthly)billing\.json", h.set_billing),
    ("POST", rf"/clients/{ID}/credits\.json", h.transfer_credits),
    ("GET", rf"/clients/{ID}/lists\.json", h.client_lists),
    ("GET", rf"/clients/{ID}/listsforemail\.json", h.lists_for_email),
    ("GET", rf"/clients/{ID}/segments\.json", h.client_segments),
    ("GET", rf"/clients/{ID}/templates\.json", h.client_templates),
    ("GET", rf"/clients/{ID}/people\.json", h.get_people),
    ("POST", rf"/clients/{ID}/people\.json", h.add_person),
    ("PUT", rf"/clients/{ID}/people\.json", h.update_person),
    ("DELETE", rf"/clients/{ID}/people\.json", h.delete_person),
    ("GET", rf"/clients/{ID}/primarycontact\.json", h.client_primary_contact),
    ("PUT", rf"/clients/{ID}/primarycontact\.json", h.client_primary_contact),
    ("GET", rf"/clients/{ID}/suppressionlist\.json", h.suppression_list),
    ("POST", rf"/clients/{ID}/suppress\.json", h.suppress),
    ("PUT", rf"/clients/{ID}/unsuppress\.json", h.unsuppress),
    ("GET", rf"/clients/{ID}/campaigns\.json", m.sent_campaigns),
    ("GET", rf"/clients/{ID}/scheduled\.json", m.scheduled_campaigns),
    ("GET", rf"/clients/{ID}/drafts\.json", m.draft_campaigns),
    ("GET", rf"/clients/{ID}/tags\.json", m.client_tags),
    ("GET", rf"/clients/{ID}/journeys\.json", m.client_journeys),
    ("POST", rf"/lists/{ID}\.json", h.create_list),
    ("GET", rf"/lists/{ID}\.json", h.list_details),
    ("PUT", rf"/lists/{ID}\.json", h.update_list),
    ("DELETE", rf"/lists/{ID}\.json", h.delete_list),
    ("GET", rf"/lists/{ID}/stats\.json", h.list_stats),
    ("GET", rf"/lists/{ID}/(active|unconfirmed|unsubscribed|bounced|deleted)\.json", h.list_state),
    ("GET", rf"/lists/{ID}/segments\.json", h.list_segments),
    ("GET", rf"/lists/{ID}/customfields\.json", h.get_custom_fields),
    ("POST", rf"/lists/{ID}/customfields\.json", h.create_custom_field),
    ("PUT", rf"/lists/{ID}/customfields/{KEY}/options\.json", h.update_field_options),
    ("PUT", rf"/lists/{ID}/customfields/{KEY}\.json", h.update_custom_field),
    ("DELETE", rf"/lists/{ID}/customfields/{KEY}\.json", h.delete_custom_field),
    ("GET", rf"/lists/{ID}/webhooks\.json", m.get_webhooks),
    ("POST", rf"/lists/{ID}/webhooks\.json", m.create_webhook),
    ("GET", rf"/lists/{ID}/webhooks/{ID}/test\.json", m.test_webhook),
    ("PUT", rf"/lists/{ID}/webhooks/{ID}/(activate|deactivate)\.json", m.activate_webhook),
    ("DELETE", rf"/lists/{ID}/webhooks/{ID}\.json", m.delete_webhook),
    ("GET", rf"/subscribers/{ID}\.json", h.get_subscriber),
    ("POST", rf"/subscribers/{ID}\.json", h.add_subscriber),
    ("PUT", rf"/subscribers/{ID}\.json", h.update_subscriber),
    ("DELETE", rf"/subscribers/{ID}\.json", h.delete_subscriber),
    ("POST", rf"/subscribers/{ID}/import\.json", h.import_subscribers),
    ("POST", rf"/subscribers/{ID}/unsubscribe\.json", h.unsubscribe),
    ("GET", rf"/subscribers/{ID}/history\.json", h.subscriber_history),
    ("POST", rf"/segments/{ID}\.json", m.create_segment),
    ("GET", rf"/segments/{ID}\.json", m.segment_details),
    ("DELETE", rf"/segments/{ID}\.json", m.delete_segment),
    ("GET", rf"/segments/{ID}/active\.json", m.segment_active),
    ("POST", rf"/campaigns/{ID}\.json", m.create_campaign),
    ("DELETE", rf"/campaigns/{ID}\.json", m.delete_campaign),
    ("POST", rf"/campaigns/{ID}/send\.json", m.send_campaign),
    ("POST", rf"/campaigns/{ID}/sendpreview\.json", m.send_preview),
    ("POST", rf"/campaigns/{ID}/unschedule\.json", m.unschedule_campaign),
    ("GET", rf"/campaigns/{ID}/summary\.json", m.campaign_summary),
    ("GET", rf"/campaigns/{ID}/listsandsegments\.json", m.campaign_lists),
    ("GET", rf"/campaigns/{ID}/emailclientusage\.json", m.campaign_clients),
    (
        "GET",
        rf"/campaigns/{ID}/(recipients|opens|clicks|unsubscribes|bounces|spam)\.json",
        m.campaign_report,
    ),
    ("GET", rf"/journeys/{ID}\.json", m.journey_summary),
    (
        "GET",
        rf"/journeys/email/{ID}/(recipients|opens|clicks|unsubscribes|bounces)\.json",
        m.journey_email,
    ),
    ("GET", r"/transactional/smartEmail", m.smart_emails),
    ("GET", rf"/transactional/smartEmail/{ID}", m.smart_email_details),
    ("POST", rf"/transactional/smartEmail/{ID}/send", m.send_smart_email),
    ("POST", r"/transactional/classicEmail/send", m.send_classic_email),
    ("GET", r"/transactional/classicEmail/groups", m.classic_groups),
    ("GET", r"/transactional/messages", m.messages),
    ("GET", rf"/transactional/messages/{ID}", m.message_details),
    ("POST", rf"/transactional/messages/{ID}/resend", m.resend_message),
    ("GET", r"/transactional/statistics", m.tx_statistics),
]

OAUTH_ROUTES: list[tuple[str, str, Handler]] = [
    ("POST", r"/oauth/token", m.oauth_token),
    ("GET", r"/oauth", m.oauth_authorize),
]


def compiled(routes: list[tuple[str, str, Handler]]) -> list[tuple[str, re.Pattern[str], Handler]]:
    """The routes with their regexes compiled to match a whole path, case-insensitively
    (the platform's paths are: ``transactional/smartemail`` works as well)."""
    return [
        (method, re.compile(f"^{pattern}$", re.IGNORECASE), handler)
        for method, pattern, handler in routes
    ]
