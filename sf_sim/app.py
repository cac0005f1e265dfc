"""The WSGI app of the Salesforce facade, built from :mod:`sf_sim.urls`.

For every request: route (unknown path → 404 ``NOT_FOUND``, known path with another
method → 405 ``METHOD_NOT_ALLOWED``), authenticate the session (401
``INVALID_SESSION_ID`` in the list shape simple-salesforce's refresh relies on), count
the call against the daily limit (403 ``REQUEST_LIMIT_EXCEEDED``, nothing changes),
run the handler as the session's user, and answer with ``Sforce-Limit-Info``. Platform
errors become ``[{"message", "errorCode", "fields"}]`` here, in one place; anything
unexpected becomes a 500 ``UNKNOWN_EXCEPTION`` body, never a traceback. Every request
lands in the org's request log without query string, body or credentials. An outage
injected with ``org.control.unavailable`` answers before any of this (nothing is charged).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote

from werkzeug.wrappers import Request, Response

from sf_sim.bulk1_handlers import error_reply as bulk1_error_reply
from sf_sim.exceptions import SalesforceApiError
from sf_sim.handlers import SUPPORTED_VERSIONS
from sf_sim.http import MAX_BODY_BYTES, Reply, RequestContext
from sf_sim.urls import ROUTES, Route

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from sf_sim.models import Org

__all__ = ["SalesforceApp"]

log = logging.getLogger("sf_sim")
NOT_FOUND = SalesforceApiError("NOT_FOUND", "The requested resource does not exist", 404)


def _written_object(org: Org, ctx: RequestContext, reply: Reply) -> str | None:
    """The object a write request concerns, for the request log (None for reads).

    sObject rows and upserts name it in the path, collection saves in each record's
    ``attributes``, collection deletes by their Ids' key prefix, Bulk API ingest jobs in
    the job.
    """
    if ctx.method in ("GET", "HEAD"):
        return None
    if "type" in ctx.params:
        found = org.schema.object(ctx.params["type"])
        return found.name if found else None
    if ctx.raw_path.endswith("/jobs/ingest") and isinstance(reply.body, dict):
        return str(reply.body.get("object") or "") or None
    if not ctx.raw_path.endswith("/composite/sobjects"):
        return None
    if ctx.method == "DELETE":
        first = str(ctx.args.get("ids", "")).split(",")[0]
        found = org.schema.by_key_prefix(first[:3]) if first else None
        return found.name if found else None
    if reply.status >= 300:
        return None  # a body the handler refused (malformed, hostile) is not read again
    try:
        records = json.loads(ctx.body or b"{}").get("records") or []
        return str(records[0]["attributes"]["type"]) if records else None
    except (ValueError, AttributeError, KeyError, TypeError, IndexError, RecursionError):
        return None


def _error_reply(error: SalesforceApiError) -> Reply:
    return Reply(error.status, [error.to_api()])


class SalesforceApp:
    """A WSGI application serving one org.

    Args:
        org: The org to serve.
    """

    def __init__(self, org: Org) -> None:
        self.org = org

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(request.path))
        raw_path = raw.split("?", 1)[0]
        if "://" in raw_path:
            raw_path = "/" + raw_path.split("://", 1)[1].split("/", 1)[-1]
        length = request.content_length or 0
        if length > MAX_BODY_BYTES:
            reply = _error_reply(
                SalesforceApiError("REQUEST_ENTITY_TOO_LARGE", "Request body too large", 413)
            )
        else:
            ctx = RequestContext(
                app=self,
                org=self.org,
                method=request.method.upper(),
                path=request.path,
                raw_path=raw_path,
                args={key: value for key, value in request.args.items()},
                headers=dict(request.headers.items()),
                body=request.get_data(cache=False),
                host=request.host,
            )
            reply = self.handle(ctx)
        response = Response(
            reply.payload(),
            status=reply.status,
            content_type=reply.content_type if reply.body is not None else None,
        )
        for key, value in reply.headers.items():
            response.headers[key] = value
        if reply.body is None:
            response.headers.pop("Content-Type", None)
        return response(environ, start_response)

    # ------------------------------------------------------------------ routing

    @staticmethod
    def route(method: str, raw_path: str) -> tuple[Route, dict[str, str]]:
        """Find the route for a request.

        Raises:
            SalesforceApiError: NOT_FOUND (404) or METHOD_NOT_ALLOWED (405).
        """
        allowed: list[str] = []
        for route in ROUTES:
            match = route.pattern.match(raw_path)
            if match is None:
                continue
            if route.method == method:
                params = {
                    key: (value if key == "value" else unquote(value))
                    for key, value in match.groupdict().items()
                    if value is not None
                }
                return route, params
            allowed.append(route.method)
        if allowed:
            raise SalesforceApiError(
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{method}' not allowed. Allowed are {','.join(dict.fromkeys(allowed))}",
                405,
            )
        raise NOT_FOUND

    def handle(self, ctx: RequestContext) -> Reply:
        """Answer one request (already read from WSGI)."""
        org = self.org
        cost = 0
        reply: Reply
        route: Route | None = None
        org.bulk.settle()  # a job closed by an earlier request is processed first
        with org.store.lock:
            outage = org.control.take_outage()
            if outage is not None:
                status, code, message = outage
                org.control.log_request(ctx.method, ctx.path, status, 0)
                return Reply(status, [{"errorCode": code, "message": message}])
            previous_user = org.running_user_id
            try:
                route, params = self.route(ctx.method, ctx.raw_path)
                ctx.params = params
                if "version" in params:
                    if params["version"] not in SUPPORTED_VERSIONS:
                        raise NOT_FOUND
                    ctx.version = params["version"]
                _check_media_type(route, ctx)
                if route.auth:
                    ctx.user_id = org.sessions.authenticate(_session_id(ctx))
                    org.running_user_id = ctx.user_id
                    org.limits.charge(route.cost)
                    cost = route.cost
                org.tick()
                reply = route.handler(ctx)
            except SalesforceApiError as error:
                reply = (
                    bulk1_error_reply(ctx, error)
                    if route is not None and route.bulk1
                    else _error_reply(error)
                )
            except Exception:  # a bug in the simulator must not become a traceback for the client
                log.exception("sf_sim: unexpected error answering %s %s", ctx.method, ctx.path)
                reply = Reply(
                    500,
                    [
                        {
                            "errorCode": "UNKNOWN_EXCEPTION",
                            "message": "An unexpected error occurred. Please include this ErrorId if you contact support: 0000000-0000 (sf_sim)",
                        }
                    ],
                )
            finally:
                org.running_user_id = previous_user
            if ctx.user_id is not None or cost:
                reply.headers.setdefault("Sforce-Limit-Info", org.limits.header())
            org.control.log_request(
                ctx.method, ctx.path, reply.status, cost, _written_object(org, ctx, reply)
            )
        return reply

    def dispatch_internal(
        self, parent: RequestContext, method: str, url: str, body: bytes, headers: dict[str, str]
    ) -> Reply:
        """Run a composite subrequest with the parent's session, at no extra API cost."""
        path, _, query = url.partition("?")
        if "://" in path:
            path = "/" + path.split("://", 1)[1].split("/", 1)[-1]
        route, params = self.route(method, path)
        if not route.composable or not route.auth:
            raise SalesforceApiError(
                "INVALID_API_INPUT",
                f"The resource {unquote(path)} is not supported in a composite request",
                400,
            )
        ctx = RequestContext(
            app=self,
            org=self.org,
            method=method,
            path=unquote(path),
            raw_path=path,
            args=dict(parse_qsl(query, keep_blank_values=True)),
            headers={**{"Content-Type": "application/json"}, **headers},
            body=body,
            params=params,
            version=params.get("version", parent.version),
            host=parent.host,
            user_id=parent.user_id,
            in_composite=True,
        )
        if ctx.version not in SUPPORTED_VERSIONS:
            raise NOT_FOUND
        try:
            return route.handler(ctx)
        except SalesforceApiError as error:
            return _error_reply(error)


def _session_id(ctx: RequestContext) -> str | None:
    value: Any = ctx.header("Authorization")
    if value:
        scheme, _, token = str(value).partition(" ")
        if scheme.lower() in ("bearer", "oauth") and token.strip():
            return token.strip()
        return None
    return ctx.header("X-SFDC-Session")


JSON_TYPES = ("application/json", "text/json")


def _check_media_type(route: Route, ctx: RequestContext) -> None:
    """REST writes must be JSON (XML bodies are not modelled).

    Raises:
        SalesforceApiError: ``UNSUPPORTED_MEDIA_TYPE`` (415) for another declared media type.
    """
    if (
        not route.json_body
        or route.bulk1
        or ctx.method not in ("POST", "PATCH", "PUT")
        or not ctx.raw_path.startswith("/services/data")
        or not ctx.body.strip()
    ):
        return
    media = (ctx.header("Content-Type") or "").split(";")[0].strip().lower()
    if media and media not in JSON_TYPES and not media.endswith("+json"):
        raise SalesforceApiError(
            "UNSUPPORTED_MEDIA_TYPE",
            f"MediaType of '{media}' is not supported by this resource",
            415,
        )
