"""In-process activation: an httpx transport that routes ``https://api.createsend.com`` into the app.

No socket is opened: each request is handed to the WSGI app as an environ, as
``httpx.WSGITransport`` does, so a real ``httpx.Client`` (or the project's own
Campaign Monitor client) talks to the simulated account unchanged. An injected
timeout surfaces as ``httpx.ReadTimeout``, exactly what a client sees from the network.
"""

from __future__ import annotations

import httpx

from cm_sim.app import CmApp
from cm_sim.exceptions import SimulatedTimeout

__all__ = ["API_HOST", "CmTransport"]

API_HOST = "api.createsend.com"


class CmTransport(httpx.WSGITransport):
    """Route requests for ``api.createsend.com`` into a :class:`~cm_sim.app.CmApp`.

    Args:
        app: The app of the account to serve.
    """

    def __init__(self, app: CmApp) -> None:
        super().__init__(app=app, raise_app_exceptions=True)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Serve one request in-process.

        Raises:
            httpx.ConnectError: For any host other than ``api.createsend.com``.
            httpx.ReadTimeout: When an injected timeout fault hits the request.
        """
        if request.url.host != API_HOST:
            raise httpx.ConnectError(
                f"cm_sim only serves {API_HOST}, not {request.url.host}", request=request
            )
        try:
            return super().handle_request(request)
        except SimulatedTimeout:
            raise httpx.ReadTimeout("cm_sim: injected timeout", request=request) from None
