"""Call a WSGI app in-process from ``requests``: a transport adapter and a ``responses`` callback.

:class:`WSGIAdapter` is a ``requests`` transport adapter: mounted on a session for a
host, it turns each prepared request into a WSGI environ (with werkzeug's
``EnvironBuilder``), runs the app in the calling thread and hands back a real
``requests.Response``. No socket, no global patching, safe under threads and xdist.
:func:`call_wsgi` is the shared core, also used by the ``responses`` callback of
``org.intercept()``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from werkzeug.test import EnvironBuilder, run_wsgi_app

__all__ = ["WSGIAdapter", "call_wsgi"]

WSGIApp = Callable[..., Iterable[bytes]]


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(part.encode("utf-8") if isinstance(part, str) else bytes(part) for part in body)


def call_wsgi(
    app: WSGIApp, method: str, url: str, headers: Mapping[str, str], body: Any
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run one request through a WSGI app.

    Args:
        app: The WSGI application.
        method: HTTP method.
        url: Absolute URL as the client built it.
        headers: Request headers.
        body: Request body (bytes, str, file-like, iterable or None).

    Returns:
        ``(status code, headers, body)``.
    """
    parts = urlsplit(url)
    data = _body_bytes(body)
    builder = EnvironBuilder(
        path=parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=method.upper(),
        headers=list(headers.items()),
        data=data,
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    environ["REQUEST_URI"] = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    app_iter, status, response_headers = run_wsgi_app(app, environ, buffered=True)
    try:
        content = b"".join(app_iter)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    code = int(str(status).split(" ", 1)[0])
    return code, list(response_headers.items()), content


class WSGIAdapter(BaseAdapter):
    """A ``requests`` transport adapter that answers from a WSGI app in-process.

    Args:
        app: The WSGI application (e.g. ``SalesforceApp(org)``).
    """

    def __init__(self, app: WSGIApp) -> None:
        super().__init__()
        self.app = app

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        """Answer a prepared request by calling the app."""
        status, headers, content = call_wsgi(
            self.app,
            request.method or "GET",
            request.url or "/",
            dict(request.headers),
            request.body,
        )
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response.raw = io.BytesIO(content)
        response._content = content
        response._content_consumed = True  # type: ignore[attr-defined]
        response.url = request.url or ""
        response.request = request
        response.reason = _REASONS.get(status, "")
        response.encoding = get_encoding_from_headers(response.headers)
        response.connection = self  # type: ignore[assignment]
        return response

    def close(self) -> None:
        """Nothing to release: no sockets were opened."""


_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    300: "Multiple Choices",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Payload Too Large",
    500: "Server Error",
}
