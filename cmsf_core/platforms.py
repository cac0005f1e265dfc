"""Opening the platforms a :class:`~cmsf_core.connection.Connection` describes.

:func:`open_engine` turns a connection into a ready :class:`~cmsf_core.engine.Engine`:

- simulated: opens (or, for the embedded default, creates, seeds and connects) the
  simulator files and wires the engine to them in process;
- real: logs in to Salesforce with simple-salesforce (password + token, OAuth password
  flow, or an existing session) and talks to Campaign Monitor over HTTPS (API key or
  OAuth, refreshing an expired token when a refresh token and app credentials are given).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from simple_salesforce.api import Salesforce

from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import Clock
from cmsf_core.connection import CampaignMonitorCredentials, Connection, SalesforceCredentials
from cmsf_core.engine import Engine
from cmsf_core.errors import AuthenticationError, ConfigError
from cmsf_core.state import Journal

__all__ = ["OpenedEngine", "open_engine"]


@dataclass
class OpenedEngine:
    """An engine and what was opened for it (closed together)."""

    engine: Engine
    connection: Connection
    created: bool = False
    closers: tuple[Callable[[], None], ...] = ()

    def close(self) -> None:
        """Close the journal and any simulator files."""
        self.engine.journal.close()
        for close in self.closers:
            close()


def _salesforce(credentials: SalesforceCredentials) -> Callable[[], Salesforce]:
    def login() -> Salesforce:
        if credentials.session_id:
            return Salesforce(
                instance_url=credentials.instance_url,
                session_id=credentials.session_id,
                version=credentials.version,
            )
        kwargs: dict[str, Any] = {
            "username": credentials.username,
            "password": credentials.password,
            "domain": credentials.domain,
            "version": credentials.version,
        }
        if credentials.consumer_key:
            kwargs["consumer_key"] = credentials.consumer_key
            kwargs["consumer_secret"] = credentials.consumer_secret
            if credentials.security_token:
                kwargs["password"] = f"{credentials.password}{credentials.security_token}"
        else:
            kwargs["security_token"] = credentials.security_token or ""
        return Salesforce(**kwargs)

    return login


def _refresher(credentials: CampaignMonitorCredentials, verify: Any) -> Callable[[], str] | None:
    if not (credentials.refresh_token and credentials.client_id and credentials.client_secret):
        return None
    token_url = credentials.base_url.split("/api/")[0] + "/oauth/token"

    def refresh() -> str:
        response = httpx.post(
            token_url,
            data={"grant_type": "refresh_token", "refresh_token": credentials.refresh_token},
            auth=(credentials.client_id or "", credentials.client_secret or ""),
            verify=verify,
            timeout=30,
        )
        if response.status_code != 200:
            raise AuthenticationError(
                "Campaign Monitor refused to refresh the OAuth token", platform="campaign_monitor"
            )
        return str(response.json()["access_token"])

    return refresh


def _verify(ca_file: str | None) -> Any:
    if not ca_file:
        return True
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot use CA file {ca_file}: {exc}") from exc


def open_engine(
    connection: Connection,
    *,
    clock: Clock,
    progress: Callable[[str, int, int | None], None] | None = None,
    on_seed: Callable[[str], None] | None = None,
) -> OpenedEngine:
    """Open the platforms and journal of ``connection`` as an engine.

    Args:
        connection: Where the platforms are.
        clock: The clock of this process (a real one outside tests).
        progress: Progress callback for runs.
        on_seed: Told what is being created when the embedded default is built.

    Raises:
        ConfigError: If simulator files are missing (and not the embedded default) or
            unusable, or credentials are incomplete.
    """
    journal = Journal(connection.journal)
    if connection.mode == "simulated":
        return _open_simulated(connection, journal, clock, progress, on_seed)
    assert connection.salesforce is not None and connection.campaign_monitor is not None
    cm_credentials = connection.campaign_monitor
    verify = _verify(cm_credentials.ca_file)

    def campaign_monitor() -> CampaignMonitorClient:
        return CampaignMonitorClient(
            api_key=cm_credentials.api_key,
            access_token=cm_credentials.access_token,
            refresh_token=_refresher(cm_credentials, verify),
            base_url=cm_credentials.base_url,
            verify=verify,
            clock=clock,
        )

    engine = Engine(
        salesforce=_salesforce(connection.salesforce),
        campaign_monitor=campaign_monitor,
        journal=journal,
        clock=clock,
        progress=progress,
    )
    return OpenedEngine(engine=engine, connection=connection)


def _open_simulated(
    connection: Connection,
    journal: Journal,
    clock: Clock,
    progress: Callable[[str, int, int | None], None] | None,
    on_seed: Callable[[str], None] | None,
) -> OpenedEngine:
    from scenarios.world import EVERY_OPTION, WorldSpec, build_world, engine_for, open_world

    assert connection.org_db is not None and connection.account_db is not None
    created = False
    if (
        connection.embedded
        and not connection.org_db.exists()
        and not connection.account_db.exists()
    ):
        if on_seed is not None:
            on_seed(f"creating a simulated org and account in {connection.org_db.parent}/")
        connection.org_db.parent.mkdir(parents=True, exist_ok=True)
        world = build_world(
            WorldSpec(
                seed=42,
                clients=2,
                lists_per_client=3,
                subscribers_per_list=400,
                campaigns_per_client=3,
                days=45,
            ),
            clock=clock,
            org_path=connection.org_db,
            account_path=connection.account_db,
        )
        created = True
    else:
        try:
            world = open_world(connection.org_db, connection.account_db, clock=clock)
        except FileNotFoundError as exc:
            raise ConfigError(f"simulator file missing: {exc}") from exc
        except Exception as exc:  # an unreadable file: not a traceback for the user
            raise ConfigError(
                f"cannot open the simulator files: {type(exc).__name__}: {exc}"
            ) from exc
    engine = engine_for(world, journal, progress=progress)
    if created:
        engine.connect(changed_by="cmsf (embedded default)")
        engine.change_settings(EVERY_OPTION, changed_by="cmsf (embedded default)")
    return OpenedEngine(
        engine=engine, connection=connection, created=created, closers=(world.close,)
    )
