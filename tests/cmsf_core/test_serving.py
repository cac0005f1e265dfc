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


@Request.application  # type: ignore[arg-type]
def port_app(request: Request) -> Response:
    """Answers with the client's port; ``/read`` reads the body, everything else ignores it."""
    body = f"{len(request.get_data())}" if request.path == "/read" else ""
    return Response(f"{request.environ['REMOTE_PORT']} {body}", mimetype="text/plain")


def _ports(responses: list[requests.Response]) -> set[str]:
    return {r.text.split()[0] for r in responses}


def test_pooled_client_reuses_one_connection(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    with LoopbackServer(port_app, ca_path=ca) as server, requests.Session() as session:
        replies = [session.get(server.url + "/x", verify=str(ca), timeout=10) for _ in range(5)]
        assert len(_ports(replies)) == 1
        assert all("close" not in r.headers.get("Connection", "") for r in replies)
        context = ssl.create_default_context(cafile=str(ca))
        with httpx.Client(verify=context) as client:
            ports = {client.get(server.url + "/y").text.split()[0] for _ in range(5)}
        assert len(ports) == 1


def test_unread_request_body_does_not_leak_into_the_next_request() -> None:
    with LoopbackServer(port_app, tls=False) as server, requests.Session() as session:
        replies = [
            session.post(server.url + "/ignore", data=b"GET /evil HTTP/1.1\r\n\r\n" * 50),
            session.post(server.url + "/read", data=b"x" * 5000),
            session.get(server.url + "/x"),
        ]
        assert [r.status_code for r in replies] == [200, 200, 200]
        assert replies[1].text.split()[1] == "5000"
        assert len(_ports(replies)) == 1


def test_large_or_chunked_bodies_and_close_requests_close_the_connection() -> None:
    def chunks() -> object:
        yield b"abc"
        yield b"def"

    with LoopbackServer(port_app, tls=False) as server, requests.Session() as session:
        big = session.post(server.url + "/ignore", data=b"x" * (2 << 20))
        assert big.headers["Connection"] == "close"
        chunked = session.post(server.url + "/read", data=chunks())
        assert chunked.text.split()[1] == "6"
        assert chunked.headers["Connection"] == "close"
        asked = session.get(server.url + "/x", headers={"Connection": "close"})
        assert asked.headers["Connection"] == "close"
        after = session.get(server.url + "/x")  # a new connection, answered normally
        assert after.status_code == 200
        assert len(_ports([big, chunked, asked, after])) == 4


def test_failed_request_closes_the_connection() -> None:
    @Request.application  # type: ignore[arg-type]
    def broken(request: Request) -> Response:
        if request.path == "/boom":
            raise RuntimeError("boom")
        return Response("ok")

    with LoopbackServer(broken, tls=False) as server, requests.Session() as session:
        failed = session.get(server.url + "/boom")
        assert failed.status_code == 500
        assert failed.headers["Connection"] == "close"
        assert session.get(server.url + "/ok").text == "ok"
