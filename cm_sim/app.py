"""The WSGI facade: Campaign Monitor API v3.3 on the wire, built from the route table.

The request body is read (at most :data:`MAX_BODY_BYTES`) before the account's lock is
taken, so a client that sends slowly holds up nobody else. Then, under the lock, in
order: injected faults -> authentication -> rate limit (transactional paths count against
their own limit when one is set) ->
route -> handler inside one store transaction (pending events caught up first) ->
rendering -> request log. Handlers never see HTTP details; errors become
``{"Code", "Message"}`` bodies in one place (:meth:`CmApp._error`), and an unexpected
exception is answered like the platform's 500 (no traceback leaves the app).
"""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from cm_sim.exceptions import CmApiError, SimulatedTimeout, api_error
from cm_sim.faults import Fault
from cm_sim.handlers import ApiRequest
from cm_sim.handlers_more import sent_campaigns
from cm_sim.models_base import Scope
from cm_sim.urls import API_PREFIX_RE, OAUTH_ROUTES, ROUTES, compiled

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from cm_sim.models import Account

__all__ = ["CmApp"]

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 10 * 1024 * 1024
"""Largest request body the facade reads; a longer one is refused with 413."""
_API = compiled(ROUTES)
_TRANSACTIONAL = re.compile(r"^/transactional(/|$)", re.IGNORECASE)
_OAUTH = compiled(OAUTH_ROUTES)


class CmApp:
    """WSGI application serving one :class:`~cm_sim.models.Account`.

    Args:
        account: The account behind the API.
    """

    def __init__(self, account: Account) -> None:
        self.account = account

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.handle(request)
        except SimulatedTimeout:
            sock = environ.get("werkzeug.socket")
            if sock is None:
                raise
            sock.shutdown(socket.SHUT_RDWR)
            return []
        return response(environ, start_response)

    # -- pipeline -----------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Answer one request (timeouts raise :class:`SimulatedTimeout`)."""
        account = self.account
        request.max_content_length = MAX_BODY_BYTES
        too_large = (request.content_length or 0) > MAX_BODY_BYTES
        if not too_large:
            try:  # read it all now, outside the lock
                request.get_data(cache=True)
                _ = request.form
            except RequestEntityTooLarge:
                too_large = True
            except (OSError, ClientDisconnected):  # the client stalled or went away
                return self._render(408, {"Code": 408, "Message": "Request Timeout"}, {})
        with account.store.lock:
            fault = self._take_fault(request.method, request.path)
            if fault is not None and fault.kind == "slow":
                account.clock.sleep(fault.seconds)
                if fault.real_delay > 0:
                    time.sleep(fault.real_delay)
            now = account.now_ts()
            scope = Scope(None, "none")
            headers: dict[str, str] = {}
            try:
                if fault is not None and fault.kind == "timeout":
                    self._log(request, 0, now, scope)
                    raise SimulatedTimeout(request.path)
                if fault is not None and fault.kind == "outage":
                    raise api_error(500) if fault.status == 500 else CmApiError(
                        fault.status, "Service Unavailable", fault.status)  # fmt: skip
                if too_large:
                    raise CmApiError(413, "Request Entity Too Large", 413)
                status, body, scope = self._dispatch(request, now, headers, fault)
            except CmApiError as exc:
                status, body = exc.status, exc.to_api()
            if fault is not None and fault.kind == "lost_answer":
                self._log(request, status, now, scope)
                raise SimulatedTimeout(request.path)  # applied, but the answer never arrives
            response = self._render(status, body, headers)
            if fault is not None and fault.kind == "malformed":
                data = response.get_data()
                response.set_data(data[: max(1, len(data) // 2)])
            self._log(request, status, now, scope)
            return response

    def _take_fault(self, method: str, path: str) -> Fault | None:
        account = self.account
        now = account.now_ts()
        for fault in list(account.faults):
            if fault.matches(method, path, now):
                if fault.probability < 1.0 and account.rng.random() >= fault.probability:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                if fault.exhausted:
                    account.faults.remove(fault)
                return fault
        return None

    def _dispatch(
        self, request: Request, now: int, headers: dict[str, str], fault: Fault | None
    ) -> tuple[int, Any, Scope]:
        account = self.account
        path = request.path
        versioned = API_PREFIX_RE.match(path)
        version = versioned.group(1).lower() if versioned else ""
        if path.lower().startswith("/oauth"):
            routes, sub, scope = _OAUTH, path, Scope(None, "none")
        elif versioned is not None:
            routes, sub = _API, versioned.group(2)
            scope, digest = account.authenticate(request.headers.get("Authorization"))
            self._rate_limit(digest, now, headers, fault, sub)
        else:
            raise CmApiError(404, "Not Found", 404)
        for method, regex, handler in routes:
            match = regex.match(sub)
            if match is None or method != request.method:
                continue
            api_request = ApiRequest(
                method=request.method, path=sub, groups=match.groups(),
                args={k: v for k, v in request.args.items()}, raw_body=request.get_data(),
                scope=scope, form={k: v for k, v in request.form.items()},
            )  # fmt: skip
            try:
                with account.store.transaction():
                    account.catch_up()
                    status, body = handler(account, api_request)
                    if version != "v3.3" and handler is sent_campaigns and isinstance(body, dict):
                        body = body["Results"]  # a bare array before v3.3
            except CmApiError:
                raise
            except Exception:
                log.exception("cm_sim handler failed for %s %s", request.method, sub)
                raise api_error(500) from None
            return status, body, scope
        raise CmApiError(404, "Not Found", 404)

    def _rate_limit(
        self, digest: str, now: int, headers: dict[str, str], fault: Fault | None, path: str
    ) -> None:
        limiter = self.account.rate_limiter
        if self.account.tx_rate_limiter is not None and _TRANSACTIONAL.match(path):
            limiter = self.account.tx_rate_limiter  # transactional calls have their own limit
        if limiter is None:
            return
        if fault is not None and fault.kind == "rate_limit":
            remaining, reset = 0, limiter.peek(digest, now)[1]
            allowed = False
        else:
            allowed, remaining, reset = limiter.hit(digest, now)
        headers.update({"X-RateLimit-Limit": str(limiter.limit), "X-RateLimit-Remaining": str(remaining),
                        "X-RateLimit-Reset": str(reset)})  # fmt: skip
        if not allowed:
            raise api_error(429)

    @staticmethod
    def _render(status: int, body: Any, headers: dict[str, str]) -> Response:
        if status == 302 and isinstance(body, str):
            response = Response(b"", status=302, headers={"Location": body})
        elif body is None:
            response = Response(b"", status=status, content_type="application/json; charset=utf-8")
        else:
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            response = Response(
                payload, status=status, content_type="application/json; charset=utf-8"
            )
        for key, value in headers.items():
            response.headers[key] = value
        return response

    def _log(self, request: Request, status: int, now: int, scope: Scope) -> None:
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
        self.account._log.append({
            "method": request.method, "path": request.path, "raw_path": str(raw).split("?")[0],
            "query": {k: v for k, v in request.args.items()}, "status": status,
            "at": datetime.fromtimestamp(now, UTC).isoformat(), "auth": scope.kind,
        })  # fmt: skip
