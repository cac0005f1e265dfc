"""Opening the platforms a :class:`~cmsf_core.connection.Connection` describes.

:func:`open_engine` turns a connection into a ready :class:`~cmsf_core.engine.Engine`:

- simulated: opens (or, for the embedded default, creates, seeds and connects) the
  simulator files and wires the engine to them in process. Seeding is atomic: the world
  is built in ``<home>/.seeding/`` and moved into place only once complete, so an
  interrupted first run leaves nothing half-made (the next run starts it again);
- real: logs in to Salesforce with simple-salesforce (password + token, OAuth password
  flow, JWT bearer flow, or an existing session) and talks to Campaign Monitor over HTTPS
  (API key or OAuth, refreshing an expired token when a refresh token and app credentials
  are given). simple-salesforce always logs in at ``https://<domain>.salesforce.com``; a
  ``login_url`` is honoured by a transport adapter of the session that sends those login
  requests to that host instead (and checks every certificate against ``ca_file``).

Simulator files are checked before they are opened: an org file (sf_sim) given as the
account or the other way round is refused with the fix, never opened as the wrong kind.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce.api import Salesforce

from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import Clock
from cmsf_core.cm_oauth import TokenKeeper
from cmsf_core.connection import CampaignMonitorCredentials, Connection, SalesforceCredentials
from cmsf_core.engine import Engine
from cmsf_core.errors import ConfigError
from cmsf_core.jsontext import from_json
from cmsf_core.local_errors import explain
from cmsf_core.state import Journal

__all__ = [
    "LoginRouter",
    "OpenedEngine",
    "OrgClient",
    "campaign_monitor_login",
    "open_engine",
    "salesforce_login",
    "salesforce_session",
    "tls_verify",
]


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


class LoginRouter(HTTPAdapter):
    """Sends simple-salesforce's login requests to the configured login URL.

    simple-salesforce builds every login URL as ``https://<domain>.salesforce.com/...``;
    requests starting with ``source`` go to ``target`` instead, the rest of the URL kept.
    With ``ca_file`` every certificate (login host and instance) is checked against it
    (the environment's ``REQUESTS_CA_BUNDLE`` would otherwise win over the session's).
    """

    def __init__(self, source: str | None, target: str | None, ca_file: str | None) -> None:
        super().__init__()
        self.source = source
        self.target = target
        self.ca_file = ca_file

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Rewrite a login request's host, pin the CA file, then send it."""
        url = request.url or ""
        if self.source and self.target and url.startswith(self.source + "/"):
            request.url = self.target + url[len(self.source) :]
        if self.ca_file:
            kwargs["verify"] = self.ca_file
        return super().send(request, **kwargs)


def salesforce_session(credentials: SalesforceCredentials) -> requests.Session:
    """A ``requests.Session`` that honours ``login_url`` and ``ca_file``.

    Raises:
        ConfigError: If the CA file does not exist.
    """
    if credentials.ca_file and not Path(credentials.ca_file).is_file():
        raise ConfigError(f"Salesforce CA file {credentials.ca_file} does not exist")
    session = requests.Session()
    source = f"https://{credentials.domain}.salesforce.com" if credentials.login_url else None
    router = LoginRouter(
        source, credentials.login_url and credentials.login_url.rstrip("/"), credentials.ca_file
    )
    session.mount("https://", router)
    session.mount("http://", router)
    return session


class OrgClient(Salesforce):
    """simple-salesforce's client, reading JSON response bodies with
    :func:`~cmsf_core.jsontext.from_json` (the value ``json.loads`` gives, at a twentieth of
    the cost of its ``OrderedDict`` pairs hook: a query page of 2,000 records is the
    engine's largest Salesforce read). Records come back as plain dicts; a body that is not
    JSON raises what simple-salesforce raises."""

    def parse_result_to_json(self, result: requests.Response) -> Any:
        """The JSON value of a response body."""
        try:
            return from_json(result.text, result.content)
        except ValueError:
            return super().parse_result_to_json(result)


def salesforce_login(
    credentials: SalesforceCredentials, *, username: str | None = None
) -> Callable[[], Salesforce]:
    """A function that logs in to the org the credentials describe.

    Args:
        credentials: How to log in.
        username: Log in as this user through the JWT bearer flow instead (needs
            ``consumer_key`` and ``private_key_file``): how the engine runs as the sync user.

    Raises:
        ConfigError: If ``username`` is given without JWT bearer credentials.
    """
    if username is not None and not (credentials.consumer_key and credentials.private_key_file):
        raise ConfigError(
            "running as another Salesforce user needs the JWT bearer flow: give consumer_key "
            "and private_key_file (CMSF_SF_CONSUMER_KEY, CMSF_SF_PRIVATE_KEY_FILE)"
        )

    def login() -> Salesforce:
        session = salesforce_session(credentials)
        if username is not None or (credentials.private_key_file and not credentials.session_id):
            return OrgClient(
                username=username or credentials.username,
                consumer_key=credentials.consumer_key,
                privatekey_file=credentials.private_key_file,
                domain=credentials.domain,
                version=credentials.version,
                session=session,
            )
        if credentials.session_id:
            return OrgClient(
                instance_url=credentials.instance_url,
                session_id=credentials.session_id,
                version=credentials.version,
                session=session,
            )
        kwargs: dict[str, Any] = {
            "username": credentials.username,
            "password": credentials.password,
            "domain": credentials.domain,
            "version": credentials.version,
            "session": session,
        }
        if credentials.consumer_key:
            kwargs["consumer_key"] = credentials.consumer_key
            kwargs["consumer_secret"] = credentials.consumer_secret
            if credentials.security_token:
                kwargs["password"] = f"{credentials.password}{credentials.security_token}"
        else:
            kwargs["security_token"] = credentials.security_token or ""
        return OrgClient(**kwargs)

    return login


def _keeper(credentials: CampaignMonitorCredentials, verify: Any, store: Any) -> TokenKeeper | None:
    """The OAuth grant's keeper, when a refresh token and the app's credentials are given."""
    if not (credentials.refresh_token and credentials.client_id and credentials.client_secret):
        return None
    return TokenKeeper(
        access_token=credentials.access_token,
        refresh_token=credentials.refresh_token,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        token_url=credentials.base_url.split("/api/")[0] + "/oauth/token",
        store=store,
        verify=verify,
    )


def campaign_monitor_login(
    credentials: CampaignMonitorCredentials, clock: Clock, grants: Any = None
) -> Callable[[], CampaignMonitorClient]:
    """A function returning a client of the account the credentials describe.

    API key or OAuth token (refreshed when a refresh token and app credentials are
    given; the rotated grant is kept in ``grants``, the journal, for the next run: see
    :mod:`cmsf_core.cm_oauth`), every certificate checked against ``ca_file`` when one is
    given.

    Raises:
        ConfigError: If the CA file cannot be used.
    """
    verify = tls_verify(credentials.ca_file)
    keeper = None if credentials.api_key else _keeper(credentials, verify, grants)

    def connect() -> CampaignMonitorClient:
        return CampaignMonitorClient(
            api_key=credentials.api_key,
            access_token=keeper.access_token if keeper is not None else credentials.access_token,
            refresh_token=keeper.refresh if keeper is not None else None,
            base_url=credentials.base_url,
            verify=verify,
            clock=clock,
        )

    return connect


def tls_verify(ca_file: str | None) -> Any:
    """TLS verification for httpx: the system's trust store, or one CA file (a local server)."""
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
    journal = _journal(connection.journal)
    if connection.mode == "simulated":
        try:
            return _open_simulated(connection, journal, clock, progress, on_seed)
        except BaseException:
            journal.close()
            raise
    assert connection.salesforce is not None and connection.campaign_monitor is not None
    campaign_monitor = campaign_monitor_login(connection.campaign_monitor, clock, journal)
    sf_credentials = connection.salesforce
    jwt = bool(sf_credentials.consumer_key and sf_credentials.private_key_file)
    engine = Engine(
        salesforce=salesforce_login(sf_credentials),
        as_user=(lambda username: salesforce_login(sf_credentials, username=username))
        if jwt
        else None,
        campaign_monitor=campaign_monitor,
        journal=journal,
        clock=clock,
        progress=progress,
    )
    return OpenedEngine(engine=engine, connection=connection)


def _journal(path: Any) -> Journal:
    """Open the journal, turning a refused file into one clear line."""
    try:
        return Journal(path)
    except (OSError, sqlite3.Error) as exc:
        raise explain(exc, path) or ConfigError(f"cannot open the journal {path}: {exc}") from exc


KIND_TABLES = {"org": "_sf_meta", "account": "subscribers"}
"""A table only that kind of simulator file has (sf_sim's org, cm_sim's account)."""


def _probe(path: Path, kind: str) -> None:
    """Check that ``path`` is a SQLite file of ``kind`` this process may write, naming it if not.

    Args:
        path: The file.
        kind: ``org`` (an sf_sim file) or ``account`` (a cm_sim file).

    Raises:
        ConfigError: If it is missing, a folder, read-only, locked by another writer, not a
            SQLite database, or a simulator file of the other kind (options swapped).
    """
    if not path.exists():
        raise ConfigError(f"simulator file missing: {path} does not exist")
    if path.is_dir():
        raise explain(IsADirectoryError(str(path)), path) or ConfigError(f"{path} is a folder")
    try:
        probe = sqlite3.connect(str(path), isolation_level=None)
        try:
            tables = {row[0] for row in probe.execute("SELECT name FROM sqlite_master")}
            probe.execute("BEGIN IMMEDIATE")  # writable, and not locked by another writer
            probe.execute("ROLLBACK")
        finally:
            probe.close()
    except sqlite3.Error as exc:
        raise explain(exc, path) or ConfigError(f"cannot open {path}: {exc}") from exc
    other = "account" if kind == "org" else "org"
    if KIND_TABLES[kind] not in tables and KIND_TABLES[other] in tables:
        raise ConfigError(
            f"{path} is a simulated {'Campaign Monitor account' if other == 'account' else 'Salesforce org'}"
            f", not {'an org' if kind == 'org' else 'an account'}: --org-db and --account-db "
            "look swapped"
        )


STAGE = ".seeding"
"""Folder of ``<home>`` where the embedded default is built before it is moved into place."""
COMPLETE = "complete"
"""Marker file: the staged world is whole and only needs moving."""


def _seed_embedded(
    connection: Connection, clock: Clock, on_seed: Callable[[str], None] | None
) -> bool:
    """Make sure the embedded default's two files exist, whole; return True if created now.

    The world is built and connected in ``<home>/.seeding/``; a ``complete`` marker is
    written once both files are closed, then each is moved into place (``os.replace``
    is atomic). A run interrupted before the marker leaves a stage that is thrown away;
    one interrupted while moving is finished by the next run.

    Raises:
        ConfigError: If only one of the two files exists (made some other way), or the
            folder cannot be written.
    """
    org_db, account_db = connection.org_db, connection.account_db
    assert org_db is not None and account_db is not None
    home = org_db.parent
    stage = home / STAGE
    staged = {org_db: stage / org_db.name, account_db: stage / account_db.name}
    if (stage / COMPLETE).exists():  # interrupted while moving: finish the move
        for final, temp in staged.items():
            if temp.exists():
                os.replace(temp, final)
        shutil.rmtree(stage)
    elif stage.exists():  # interrupted while seeding: start again
        shutil.rmtree(stage)
    if org_db.exists() and account_db.exists():
        return False
    if org_db.exists() or account_db.exists():
        present, absent = (org_db, account_db) if org_db.exists() else (account_db, org_db)
        raise ConfigError(
            f"{present} exists but {absent} does not, so the embedded default is incomplete; "
            f"move {present} away (or give --home another folder) to create a new one"
        )
    if on_seed is not None:
        on_seed(f"creating a simulated org and account in {home}/")
    stage.mkdir(parents=True)
    try:
        _build_stage(stage, staged[org_db], staged[account_db], clock)
    except BaseException:  # failed or interrupted (Ctrl-C): leave nothing half-made
        shutil.rmtree(stage, ignore_errors=True)
        raise
    for final, temp in staged.items():
        os.replace(temp, final)
    shutil.rmtree(stage)
    return True


def _build_stage(stage: Path, org_path: Path, account_path: Path, clock: Clock) -> None:
    """Build, connect and close the embedded default's world in ``stage``, then mark it whole."""
    from scenarios.world import EVERY_OPTION, WorldSpec, build_world, engine_for

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
        org_path=org_path,
        account_path=account_path,
    )
    try:
        engine = engine_for(world, Journal())
        engine.connect(changed_by="cmsf (embedded default)")
        engine.change_settings(EVERY_OPTION, changed_by="cmsf (embedded default)")
    finally:
        world.close()
    (stage / COMPLETE).write_text("both files are whole\n", encoding="utf-8")


def _open_simulated(
    connection: Connection,
    journal: Journal,
    clock: Clock,
    progress: Callable[[str, int, int | None], None] | None,
    on_seed: Callable[[str], None] | None,
) -> OpenedEngine:
    from scenarios.world import engine_for, open_world

    assert connection.org_db is not None and connection.account_db is not None
    created = False
    if connection.embedded:
        try:
            created = _seed_embedded(connection, clock, on_seed)
        except (OSError, sqlite3.Error) as exc:
            home = connection.org_db.parent
            raise explain(exc, home) or ConfigError(
                f"cannot create the embedded default in {home}: {exc}"
            ) from exc
    _probe(connection.org_db, "org")
    _probe(connection.account_db, "account")
    try:
        world = open_world(connection.org_db, connection.account_db, clock=clock)
    except Exception as exc:  # an unreadable file: not a traceback for the user
        raise ConfigError(f"cannot open the simulator files: {type(exc).__name__}: {exc}") from exc
    engine = engine_for(world, journal, progress=progress)
    return OpenedEngine(
        engine=engine, connection=connection, created=created, closers=(world.close,)
    )
