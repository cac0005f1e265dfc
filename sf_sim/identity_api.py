"""Who is calling: the OpenID Connect ``userinfo`` endpoint and the identity URL.

``GET /services/oauth2/userinfo`` and ``GET /id/{orgId}/{userId}`` describe the user of
the session in the ``Authorization`` header, with the ``urls`` a client follows to the
REST, SOAP and Bulk endpoints of the org. The Salesforce CLI (``sf org login
access-token``) reads ``preferred_username`` and ``organization_id`` from ``userinfo``;
jsforce's ``conn.identity()`` follows the ``id`` of the token response to the identity
URL. Neither costs an API call. The identity URL of another user than the session's
answers 403 (the platform only shows a token its own identity).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sf_sim.exceptions import SalesforceApiError
from sf_sim.http import Reply, RequestContext
from sf_sim.identity import identity_url
from sf_sim.ids import IdError, to_18

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["identity", "identity_url", "userinfo"]

LATEST_VERSION = "62.0"


def _urls(org: Org, user_id: str) -> dict[str, str]:
    base = org.base_url
    org15 = org.org_id[:15]
    v = "{version}"
    return {
        "enterprise": f"{base}/services/Soap/c/{v}/{org15}",
        "metadata": f"{base}/services/Soap/m/{v}/{org15}",
        "partner": f"{base}/services/Soap/u/{v}/{org15}",
        "rest": f"{base}/services/data/v{v}/",
        "sobjects": f"{base}/services/data/v{v}/sobjects/",
        "search": f"{base}/services/data/v{v}/search/",
        "query": f"{base}/services/data/v{v}/query/",
        "recent": f"{base}/services/data/v{v}/recent/",
        "tooling_soap": f"{base}/services/Soap/T/{v}/{org15}",
        "tooling_rest": f"{base}/services/data/v{v}/tooling/",
        "profile": f"{base}/{user_id}",
        "users": f"{base}/services/data/v{v}/chatter/users",
        "custom_domain": base,
    }


def _user(ctx: RequestContext) -> dict[str, Any]:
    assert ctx.user_id is not None  # the route needs a session
    user = ctx.org.store.get("User", ctx.user_id)
    if user is None:  # a session of a user since removed: the session is gone too
        raise SalesforceApiError("INVALID_SESSION_ID", "Session expired or invalid", 401)
    return user


def userinfo(ctx: RequestContext) -> Reply:
    """``GET /services/oauth2/userinfo``: the OpenID Connect claims of the session's user."""
    org = ctx.org
    user = _user(ctx)
    user_id = str(user["Id"])
    return Reply(
        body={
            "sub": identity_url(org, user_id),
            "user_id": user_id,
            "organization_id": org.org_id,
            "preferred_username": user["Username"],
            "nickname": user.get("CommunityNickname") or user["Alias"],
            "name": user.get("Name") or user["LastName"],
            "email": user["Email"],
            "email_verified": True,
            "given_name": user.get("FirstName") or "",
            "family_name": user["LastName"],
            "zoneinfo": user["TimeZoneSidKey"],
            "photos": {},
            "profile": f"{org.base_url}/{user_id}",
            "picture": None,
            "address": {},
            "is_salesforce_integration_user": False,
            "urls": _urls(org, user_id),
            "active": bool(user["IsActive"]),
            "user_type": "STANDARD",
            "language": user["LanguageLocaleKey"],
            "locale": user["LocaleSidKey"],
            "utcOffset": 0,
            "updated_at": user.get("LastModifiedDate"),
            "is_app_installed": True,
        }
    )


def identity(ctx: RequestContext) -> Reply:
    """``GET /id/{orgId}/{userId}``: the identity of the session's own user.

    Raises:
        SalesforceApiError: 403 for another org's or user's identity, 404 for malformed Ids.
    """
    org = ctx.org
    user = _user(ctx)
    try:
        asked_org, asked_user = to_18(ctx.params["org"]), to_18(ctx.params["user"])
    except IdError:
        raise SalesforceApiError(
            "NOT_FOUND", "The requested resource does not exist", 404
        ) from None
    if asked_org != org.org_id or asked_user != user["Id"]:
        raise SalesforceApiError("INSUFFICIENT_ACCESS", "Bad_Id", 403)
    user_id = str(user["Id"])
    return Reply(
        body={
            "id": identity_url(org, user_id),
            "asserted_user": True,
            "user_id": user_id,
            "organization_id": org.org_id,
            "username": user["Username"],
            "nick_name": user.get("CommunityNickname") or user["Alias"],
            "display_name": user.get("Name") or user["LastName"],
            "email": user["Email"],
            "email_verified": True,
            "first_name": user.get("FirstName"),
            "last_name": user["LastName"],
            "timezone": user["TimeZoneSidKey"],
            "photos": {},
            "addr_street": None,
            "addr_city": None,
            "addr_state": None,
            "addr_country": None,
            "addr_zip": None,
            "mobile_phone": None,
            "mobile_phone_verified": False,
            "is_lightning_login_user": False,
            "status": {"created_date": None, "body": None},
            "urls": _urls(org, user_id),
            "active": bool(user["IsActive"]),
            "user_type": "STANDARD",
            "language": user["LanguageLocaleKey"],
            "locale": user["LocaleSidKey"],
            "utcOffset": 0,
            "last_modified_date": user.get("LastModifiedDate"),
            "is_app_installed": True,
        }
    )
