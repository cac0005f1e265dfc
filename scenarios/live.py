"""Live runs: a scenario marked ``live: true`` played against a real org and account.

When ``CMSF_SF_*`` and ``CMSF_CM_*`` credentials are in the environment (the same
variables :func:`cmsf_core.connection.load_connection` reads), the pytest plugin also
runs live scenarios against them. A live scenario may only use steps that need no
simulator (runs, setting changes, client selection, time passing) and invariants that
read through the platforms' APIs; the loader enforces that. Logins are the engine's own
(:mod:`cmsf_core.platforms`): every login flow, ``login_url`` and the CA files work here too. Real time cannot be skipped,
so live steps are played in order without waiting for their offsets.

:class:`LiveOrg` and :class:`LiveAccount` give the runner and the invariants the small
part of the simulators' interface they use (queries, API clients, an empty request log),
over simple-salesforce and httpx. Credentials stay inside the clients: nothing here
prints, logs or puts them in an error.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from simple_salesforce.api import Salesforce

from cmsf_core.clock import Clock, SystemClock
from cmsf_core.connection import CampaignMonitorCredentials, Connection, load_connection
from cmsf_core.engine import Engine
from cmsf_core.platforms import campaign_monitor_login, salesforce_login, tls_verify
from cmsf_core.state import Journal

__all__ = [
    "LIVE_SKIP_REASON",
    "LiveAccount",
    "LiveOrg",
    "live_connection",
    "live_engine",
]

LIVE_SKIP_REASON = (
    "a live run needs Salesforce (CMSF_SF_*) and Campaign Monitor (CMSF_CM_*) credentials"
)


def live_connection(env: Mapping[str, str] | None = None) -> Connection | None:
    """The real platforms to run live scenarios against, or None without credentials.

    Raises:
        ConfigError: If credentials are given but incomplete (a mistake to report, not
            a reason to skip).
    """
    env = os.environ if env is None else env
    has_sf = any(k.startswith("CMSF_SF_") and v for k, v in env.items())
    has_cm = any(k.startswith("CMSF_CM_") and v for k, v in env.items())
    if not (has_sf and has_cm):
        return None
    connection = load_connection(env=env)
    return connection if connection.mode == "real" else None


@dataclass
class _NoControl:
    """The request log a real org does not give us (empty: runs are measured by the engine)."""

    request_log: deque[Any] = field(default_factory=deque)


class LiveOrg:
    """A real org seen through simple-salesforce, with the query shape the invariants use."""

    def __init__(self, connect: Callable[[], Salesforce]) -> None:
        self._connect = connect
        self._sf: Salesforce | None = None
        self.control = _NoControl()

    def client(self) -> Salesforce:
        """The logged-in client (one login, reused)."""
        if self._sf is None:
            self._sf = self._connect()
        return self._sf

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Every record of a SOQL query."""
        return [dict(r) for r in self.client().query_all_iter(soql)]

    @property
    def org_id(self) -> str:
        """The org's Id."""
        rows = self.query("SELECT Id FROM Organization LIMIT 1")
        return str(rows[0]["Id"]) if rows else ""

    def close(self) -> None:
        """Close the HTTP session."""
        if self._sf is not None:
            self._sf.session.close()


class LiveAccount:
    """A real Campaign Monitor account seen through httpx (API key or OAuth token)."""

    def __init__(self, creds: CampaignMonitorCredentials) -> None:
        self._creds = creds

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client for the account's API (``kwargs`` go to :class:`httpx.Client`)."""
        auth: Any = (
            (self._creds.api_key, "x")
            if self._creds.api_key
            else _Bearer(self._creds.access_token or "")
        )
        return httpx.Client(
            base_url=self._creds.base_url,
            auth=auth,
            verify=tls_verify(self._creds.ca_file),
            **kwargs,
        )

    def request_log(self) -> list[dict[str, Any]]:
        """A real account keeps no request log for us."""
        return []

    def close(self) -> None:
        """Nothing to close."""


class _Bearer(httpx.Auth):
    """OAuth bearer authentication (the token never appears in a repr)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Any:
        """Add the bearer token to the request."""
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "_Bearer(***)"


def live_engine(
    connection: Connection, *, clock: Clock | None = None
) -> tuple[Engine, LiveOrg, LiveAccount]:
    """The engine, org and account of a real connection.

    Args:
        connection: A ``real`` connection (see :func:`live_connection`).
        clock: The clock (the wall clock by default).
    """
    assert connection.salesforce is not None and connection.campaign_monitor is not None
    clock = clock or SystemClock()
    connect = salesforce_login(connection.salesforce)
    engine = Engine(
        salesforce=connect,
        campaign_monitor=campaign_monitor_login(connection.campaign_monitor, clock),
        journal=Journal(),
        clock=clock,
    )
    return engine, LiveOrg(connect), LiveAccount(connection.campaign_monitor)
