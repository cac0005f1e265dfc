"""Serve a simulator's WSGI app on loopback, over HTTPS from a local CA or plain HTTP.

Both ``sf-sim serve`` and ``cm-sim serve`` use this, and tests start servers with it
in a background thread. Real clients only speak ``https``: the server presents a
certificate for ``localhost`` and ``127.0.0.1`` signed by a certificate authority
generated on the spot (trustme); its PEM file is written where the caller asks, so
a client can trust it (``requests``: ``session.verify = ca_path`` or
``REQUESTS_CA_BUNDLE``; ``httpx``: ``verify=ca_path``).

Connections are kept alive (HTTP/1.1): a client that pools connections (requests'
``Session``, ``httpx.Client``) makes one TCP and TLS handshake per connection, not per
request. Werkzeug's development server closes every connection because a request body the
application left unread would be taken for the next request; here each request's body is
bounded by its ``Content-Length`` and read to its end once the response is sent, so the
next request starts where it should. Bodies over :data:`DRAIN_LIMIT` bytes, chunked
bodies and failed requests close the connection (``Connection: close``), as does a client
that asks for it (or speaks HTTP/1.0).
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import trustme
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wsgi import LimitedStream

__all__ = ["DRAIN_LIMIT", "LoopbackServer"]

DRAIN_LIMIT = 1 << 20
"""Request bodies up to this size keep the connection (what the application leaves
unread is read away); larger ones, and chunked ones, close it after the response."""

_CLOSE = "cmsf.close_connection"
_READER = "cmsf.reader"


class _GuardedReader:
    """The connection's reader, which can refuse reads while a response ends.

    Werkzeug reads whatever arrives on the socket just after a response (it expects to
    close the connection); on a kept-alive connection that would be the client's next
    request, so those reads see nothing.
    """

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.guard = False

    def read(self, size: int | None = -1) -> bytes:
        return b"" if self.guard else bytes(self._raw.read(size))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _Drained:
    """A response iterable that, once sent, reads away what is left of the request body."""

    def __init__(self, result: Iterable[bytes], environ: dict[str, Any]) -> None:
        self._result = result
        self._environ = environ

    def __iter__(self) -> Iterator[bytes]:
        yield from self._result
        reader = self._environ.get(_READER)
        if isinstance(reader, _GuardedReader):
            reader.guard = True  # the response is out: the next bytes are the next request

    def close(self) -> None:
        reader = self._environ.get(_READER)
        if isinstance(reader, _GuardedReader):
            reader.guard = False
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            if not self._environ.get(_CLOSE):
                try:
                    while self._environ["wsgi.input"].read(65536):
                        pass
                except (OSError, ValueError):
                    self._environ[_CLOSE] = True


def _keep_alive(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """Bound each request body by its length, and drain it after the response."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("wsgi.input_terminated"):
            environ[_CLOSE] = True  # a chunked body of unknown size: close after it
        else:
            try:
                length = max(0, int(environ.get("CONTENT_LENGTH") or 0))
            except ValueError:
                length = 0
                environ[_CLOSE] = True
            if length > DRAIN_LIMIT:
                environ[_CLOSE] = True  # a large body the application may leave unread
            environ["wsgi.input"] = LimitedStream(environ["wsgi.input"], length)
            environ["wsgi.input_terminated"] = True
        try:
            return _Drained(app(environ, start_response), environ)
        except BaseException:
            environ[_CLOSE] = True  # the server answers 500 on its own: close after it
            raise

    return wrapped


class _KeepAliveHandler(WSGIRequestHandler):
    """Werkzeug's handler, keeping connections alive (see the module docstring)."""

    protocol_version = "HTTP/1.1"
    _environ: dict[str, Any] | None = None

    def setup(self) -> None:
        super().setup()
        self.rfile = _GuardedReader(self.rfile)  # type: ignore[assignment]

    def make_environ(self) -> Any:
        environ = super().make_environ()
        environ[_READER] = self.rfile
        self._environ = environ
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        if (
            keyword.lower() == "connection"
            and value.lower() == "close"
            and not self.close_connection
            and not (self._environ or {}).get(_CLOSE)
        ):
            return  # the client keeps the connection; the body is drained after the response
        super().send_header(keyword, value)

    def run_wsgi(self) -> None:
        super().run_wsgi()
        if self._environ is not None and self._environ.get(_CLOSE):
            self.close_connection = True


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
        handler = type("TimeoutRequestHandler", (_KeepAliveHandler,), {"timeout": read_timeout})
        self._server: BaseWSGIServer = make_server(
            host,
            port,
            _keep_alive(app),
            threaded=True,
            ssl_context=context,
            request_handler=handler,
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
