"""Activation: an account with its facade and the in-process ways clients reach it.

:class:`Account` (exported as ``cm_sim.Account``) is the backend account of
:mod:`cm_sim.models` plus ``app()`` (the WSGI facade, :class:`~cm_sim.app.CmApp`),
``transport()`` (an httpx transport into that app, :class:`~cm_sim.transport.CmTransport`)
and ``client()`` (a ready ``httpx.Client``). ``cm-sim serve`` serves the same app on
loopback.
"""

from __future__ import annotations

from typing import Any

import httpx

from cm_sim import models
from cm_sim.app import CmApp
from cm_sim.models import BASE_URL
from cm_sim.transport import CmTransport

__all__ = ["Account"]


class Account(models.Account):
    """A simulated Campaign Monitor account with its facade and in-process activation.

    Everything of :class:`cm_sim.models.Account` (clients, lists, subscribers, campaigns,
    rules), plus the app that speaks API v3.3. Arguments are those of
    :class:`cm_sim.models.Account`.

    Example:
        >>> account = Account(seed=7)
        >>> with account.client() as http:  # doctest: +SKIP
        ...     http.get("/clients.json").json()
    """

    _app: CmApp | None = None

    def app(self) -> CmApp:
        """The WSGI app serving this account (one per account)."""
        if self._app is None:
            self._app = CmApp(self)
        return self._app

    def transport(self) -> httpx.BaseTransport:
        """An httpx transport that routes ``https://api.createsend.com`` into the app in-process."""
        return CmTransport(self.app())

    def client(self, **kwargs: Any) -> httpx.Client:
        """A ready ``httpx.Client`` with the base URL, the transport and the account key.

        Args:
            **kwargs: Passed to ``httpx.Client`` (e.g. ``auth`` to use another key).
        """
        kwargs.setdefault("auth", (self.api_key, "x"))
        return httpx.Client(base_url=BASE_URL, transport=self.transport(), **kwargs)
