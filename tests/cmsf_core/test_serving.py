from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import requests
from werkzeug.wrappers import Request, Response

from cmsf_core.serving import LoopbackServer


@Request.application  # type: ignore[arg-type]
def echo_app(request: Request) -> Response:
    return Response(f"{request.method} {request.path}", mimetype="text/plain")


def test_https_server_is_trusted_through_its_ca_file(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    with LoopbackServer(echo_app, ca_path=ca) as server:
        assert server.url.startswith("https://localhost:")
        assert requests.get(server.url + "/hello", verify=str(ca), timeout=10).text == "GET /hello"
        context = ssl.create_default_context(cafile=str(ca))
        assert httpx.get(server.url + "/x", verify=context).text == "GET /x"


def test_https_server_is_refused_without_its_ca() -> None:
    with LoopbackServer(echo_app) as server:
        try:
            requests.get(server.url, timeout=10)
        except requests.exceptions.SSLError:
            pass
        else:  # pragma: no cover - would mean the local CA is trusted globally
            raise AssertionError("an untrusted certificate was accepted")


def test_plain_http_server() -> None:
    with LoopbackServer(echo_app, tls=False) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert requests.post(server.url + "/p", timeout=10).text == "POST /p"
