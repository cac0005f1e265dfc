"""Ways to point a client at an org: an explicit session, a ready client, global interception.

:class:`Org` (exported as ``sf_sim.Org``) is the backend org of :mod:`sf_sim.models` with
its facade (``org.app``, :class:`~sf_sim.app.SalesforceApp`) and these activations:

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
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import requests
import responses
from simple_salesforce.api import Salesforce

from sf_sim import models
from sf_sim.app import SalesforceApp
from sf_sim.transport import WSGIAdapter, call_wsgi

__all__ = ["Org", "activate", "intercept", "make_client", "make_session"]

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def make_session(org: Org) -> requests.Session:
    """A ``requests.Session`` whose requests to the org's hosts are answered in-process."""
    session = requests.Session()
    # answered in-process: no proxy, CA bundle or netrc from the environment applies (and
    # looking them up costs a scan of os.environ per request)
    session.trust_env = False
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


class Org(models.Org):
    """A simulated Salesforce org with its facade and the ways clients reach it.

    Everything of :class:`sf_sim.models.Org` (the backend: data, rules, identity), plus
    the WSGI app that speaks the platform's wire format and the activations above.
    Arguments are those of :class:`sf_sim.models.Org`.

    Example:
        >>> org = Org()
        >>> with org.activate() as sf:  # doctest: +SKIP
        ...     sf.Contact.create({"LastName": "Lee"})
    """

    _app: SalesforceApp | None = None

    @property
    def app(self) -> SalesforceApp:
        """The org's WSGI app (the REST/SOAP facade)."""
        if self._app is None:
            self._app = SalesforceApp(self)
        return self._app

    def session(self) -> requests.Session:
        """A ``requests.Session`` answered in-process for the instance and login hosts."""
        return make_session(self)

    def client(self, **kwargs: Any) -> Salesforce:
        """A ``simple_salesforce.Salesforce`` logged in as the admin (re-logs in on expiry)."""
        return make_client(self, **kwargs)

    def activate(self, **kwargs: Any) -> AbstractContextManager[Salesforce]:
        """``with org.activate() as sf:`` a ready client for the block."""
        return activate(self, **kwargs)

    def intercept(self) -> AbstractContextManager[responses.RequestsMock]:
        """``with org.intercept():`` route every ``requests`` call to the org's hosts into it."""
        return intercept(self)
