"""Login handlers: the partner SOAP ``login`` and the OAuth 2.0 token endpoint.

Both answer on every login host (``login.salesforce.com``, ``test.salesforce.com``)
and on the org's own My Domain host. Requests here cost no API call and need no
session. Bodies are never logged: they carry passwords.
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl

from sf_sim.http import Reply, RequestContext
from sf_sim.oauth import AuthorizeError, session_from
from sf_sim.sessions import LoginError, OAuthError, soap_fault, soap_login_response

__all__ = ["oauth_authorize", "oauth_revoke", "oauth_token", "soap_login", "soap_not_modelled"]

XML_TYPE = "text/xml; charset=utf-8"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def soap_login(ctx: RequestContext) -> Reply:
    """``POST /services/Soap/u/{version}``: ``loginResponse`` or a 500 SOAP fault."""
    try:
        root = ET.fromstring(ctx.body)
    except (ET.ParseError, LookupError, ValueError):  # also an unknown declared encoding
        return Reply(
            500,
            soap_fault("UNKNOWN_EXCEPTION", "Unable to parse the SOAP envelope"),
            content_type=XML_TYPE,
        )
    values: dict[str, str] = {}
    for element in root.iter():
        name = _local(element.tag)
        if name in ("username", "password", "organizationId") and name not in values:
            values[name] = element.text or ""
    if not any(_local(element.tag) == "login" for element in root.iter()):
        return Reply(
            500,
            soap_fault("UNKNOWN_EXCEPTION", "No operation available for request"),
            content_type=XML_TYPE,
        )
    try:
        session_id, user_id = ctx.org.sessions.soap_login(
            values.get("username"), values.get("password"), values.get("organizationId")
        )
    except LoginError as exc:
        return Reply(500, soap_fault(exc.code, exc.message), content_type=XML_TYPE)
    return Reply(
        200,
        soap_login_response(
            ctx.org, session_id, user_id, ctx.params.get("soap_version", ctx.version)
        ),
        content_type=XML_TYPE,
    )


def soap_not_modelled(ctx: RequestContext) -> Reply:
    """The SOAP APIs sf_sim does not model (enterprise, metadata, tooling, Apex, and partner
    calls other than ``login``): a SOAP fault, as a SOAP client expects, never a JSON 404."""
    operation = "unknown"
    try:
        root = ET.fromstring(ctx.body)
        body = next((e for e in root.iter() if _local(e.tag) == "Body"), None)
        if body is not None and len(body):
            operation = _local(body[0].tag)
    except (ET.ParseError, LookupError, ValueError):  # also an unknown declared encoding
        pass
    return Reply(
        500,
        soap_fault(
            "UNKNOWN_EXCEPTION",
            f"No operation available for request {operation} (not modelled by sf_sim)",
        ),
        content_type=XML_TYPE,
    )


def _form(ctx: RequestContext) -> dict[str, str]:
    try:
        return dict(parse_qsl(ctx.body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return {}


def oauth_authorize(ctx: RequestContext) -> Reply:
    """``GET /services/oauth2/authorize``: a 302 to the callback with a code (or an error)."""
    try:
        location = ctx.org.sessions.web.authorize(ctx.args, session_from(ctx.headers))
    except AuthorizeError as exc:
        return Reply(400, {"error": exc.error, "error_description": exc.description})
    return Reply(302, None, {"Location": location})


def oauth_revoke(ctx: RequestContext) -> Reply:
    """``POST /services/oauth2/revoke`` (``token=``): 200, or 400 for an unknown token."""
    token = _form(ctx).get("token") or ctx.args.get("token") or ""
    if not token or not ctx.org.sessions.web.revoke(token):
        return Reply(
            400,
            {
                "error": "unsupported_token_type",
                "error_description": "this token type is not supported",
            },
        )
    return Reply(200)


def oauth_token(ctx: RequestContext) -> Reply:
    """``POST /services/oauth2/token``: JSON token or ``{error, error_description}`` (400)."""
    form = _form(ctx)
    basic: tuple[str, str] | None = None
    authorization = ctx.header("Authorization") or ""
    if authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if ":" in decoded:
            key, secret = decoded.split(":", 1)
            basic = (key, secret)
    try:
        body = ctx.org.sessions.oauth_token(form, basic, ctx.host)
    except OAuthError as exc:
        return Reply(400, {"error": exc.error, "error_description": exc.description})
    return Reply(200, body)
