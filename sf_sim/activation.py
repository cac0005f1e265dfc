"""Ways to point a client at an org: an explicit session, a ready client, global interception.

Behind the methods of :class:`~sf_sim.models.Org`:

- ``org.session()``: a ``requests.Session`` with the in-process transport adapter
  mounted for the instance host and the login hosts, for
  ``simple_salesforce.Salesforce(session=...)`` (the default: no global patching).
- ``org.client()``: a ``Salesforce`` logged in as the admin through the SOAP login, so an
  expired session re-logs in transparently.
- ``with org.activate() as sf:`` the same client, closed afterwards.
- ``with org.intercept():`` routes every ``requests`` call to the org's hosts into the
  org (through ``responses``), for code that builds its own client; other hosts pass
  through untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import requests
import responses
from simple_salesforce.api import Salesforce

from sf_sim.transport import WSGIAdapter, call_wsgi

if TYPE_CHECKING:
    from sf_sim.models import Org

__all__ = ["activate", "intercept", "make_client", "make_session"]

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def make_session(org: Org) -> requests.Session:
    """A ``requests.Session`` whose requests to the org's hosts are answered in-process."""
    session = requests.Session()
    adapter = WSGIAdapter(org.app)
    for host in dict.fromkeys((org.host, *org.login_hosts)):
        session.mount(f"https://{host}/", adapter)
    return session


def make_client(org: Org, *, version: str = "59.0", **kwargs: Any) -> Salesforce:
    """A ``simple_salesforce.Salesforce`` logged in as the org's admin (SOAP login).

    In a process that reopened an org file the admin's password is unknown (the file keeps
    its hash), so the client gets a fresh session of the admin's instead; when it expires,
    ask for a new client.

    Args:
        org: The org.
        version: API version the client uses.
        **kwargs: Further ``Salesforce`` arguments.
    """
    session = kwargs.pop("session", None) or make_session(org)
    if org.admin_secret is None:  # a reopened org file: the password is not kept, only its hash
        with org.store.lock:
            session_id = org.sessions.open(org.store.meta("admin_user_id"))
        return Salesforce(
            instance_url=org.instance_url,
            session_id=session_id,
            session=session,
            version=version,
            **kwargs,
        )
    username, password, token = org.admin_credentials()
    return Salesforce(
        username=username,
        password=password,
        security_token=token,
        domain="test" if org.is_sandbox else "login",
        session=session,
        version=version,
        **kwargs,
    )


@contextmanager
def activate(org: Org, **kwargs: Any) -> Iterator[Salesforce]:
    """``with org.activate() as sf:`` a logged-in client, its session closed afterwards."""
    client = make_client(org, **kwargs)
    try:
        yield client
    finally:
        client.session.close()


@contextmanager
def intercept(org: Org) -> Iterator[responses.RequestsMock]:
    """Route all ``requests`` traffic for the org's hosts into the org while the block runs.

    Yields:
        The active ``responses.RequestsMock`` (for extra stubs if a test wants them).
    """
    hosts = list(dict.fromkeys((org.host, *org.login_hosts)))
    ours = "|".join(re.escape(host) for host in hosts)
    pattern = re.compile(rf"^https://(?:{ours})(?::443)?/.*")
    app = org.app

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        status, headers, content = call_wsgi(
            app, request.method or "GET", request.url or "/", dict(request.headers), request.body
        )
        return status, dict(headers), content

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in _METHODS:
            mock.add_callback(method, pattern, callback=answer, content_type=None)
        mock.add_passthru(re.compile(rf"^(?!https://(?:{ours})(?::443)?/).*"))
        yield mock
