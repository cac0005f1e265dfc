"""Serve a simulator's WSGI app on loopback, over HTTPS from a local CA or plain HTTP.

Both ``sf-sim serve`` and ``cm-sim serve`` use this, and tests start servers with it
in a background thread. Real clients only speak ``https``: the server presents a
certificate for ``localhost`` and ``127.0.0.1`` signed by a certificate authority
generated on the spot (trustme); its PEM file is written where the caller asks, so
a client can trust it (``requests``: ``session.verify = ca_path`` or
``REQUESTS_CA_BUNDLE``; ``httpx``: ``verify=ca_path``).
"""

from __future__ import annotations

import ssl
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import trustme
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

__all__ = ["LoopbackServer"]


class LoopbackServer:
    """A threaded WSGI server bound to 127.0.0.1.

    Args:
        app: The WSGI application to serve.
        port: TCP port; 0 picks a free one.
        tls: Serve HTTPS with a freshly generated local CA (default) or plain HTTP.
        ca_path: Where to write the CA certificate (PEM) when ``tls`` is on;
            defaults to a file next to nothing in particular, so give one to keep it.
        host: Interface to bind; loopback unless you know better.
        read_timeout: Seconds a connection may stay silent while the server waits for
            (the rest of) a request before it is closed, so a stalled client costs one
            thread, never the whole server.

    Example:
        >>> with LoopbackServer(app, tls=False) as server:   # doctest: +SKIP
        ...     requests.get(server.url + "/health")
    """

    def __init__(
        self,
        app: Any,
        *,
        port: int = 0,
        tls: bool = True,
        ca_path: Path | str | None = None,
        host: str = "127.0.0.1",
        read_timeout: float = 30.0,
    ) -> None:
        self.tls = tls
        self.ca_path: Path | None = None
        context: ssl.SSLContext | None = None
        if tls:
            ca = trustme.CA(organization_name="cmsf local simulator CA")
            leaf = ca.issue_cert("localhost", "127.0.0.1", "::1")
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            leaf.configure_cert(context)
            if ca_path is not None:
                self.ca_path = Path(ca_path)
                self.ca_path.parent.mkdir(parents=True, exist_ok=True)
                ca.cert_pem.write_to_path(str(self.ca_path))
            self._ca = ca
        handler = type("TimeoutRequestHandler", (WSGIRequestHandler,), {"timeout": read_timeout})
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, ssl_context=context, request_handler=handler
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound TCP port."""
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. ``https://localhost:8443``."""
        scheme = "https" if self.tls else "http"
        host = "localhost" if self.tls else "127.0.0.1"
        return f"{scheme}://{host}:{self.port}"

    @property
    def host(self) -> str:
        """``host:port`` as a client puts it in a URL."""
        return self.url.split("://", 1)[1]

    def ca_pem(self) -> bytes:
        """The CA certificate (PEM) that signed the server certificate.

        Raises:
            RuntimeError: If the server runs plain HTTP.
        """
        if not self.tls:
            raise RuntimeError("a plain-HTTP server has no certificate authority")
        return bytes(self._ca.cert_pem.bytes())

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`shutdown` or Ctrl-C."""
        try:
            self._server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self._server.server_close()

    def start(self) -> LoopbackServer:
        """Serve in a daemon thread and return at once."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"loopback-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()
