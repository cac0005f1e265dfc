"""How the runner reaches both platforms: the only configuration kept outside the org.

Three ways, chosen in this order:

1. **explicit simulator files** (``--org-db FILE --account-db FILE``): a simulated org and a
   simulated Campaign Monitor account kept in SQLite files (the account's API key is
   read from its file);
2. **a real org and account**, from a TOML file (``--config cmsf.toml``) and/or ``CMSF_*``
   environment variables (environment wins);
3. **the embedded default**: with neither, simulator files in ``./.cmsf/`` (created and
   seeded on first use).

Salesforce: ``username`` + ``password`` (+ ``security_token``) with an optional
``domain`` (``login``, ``test`` or a My Domain), optionally with ``consumer_key`` and
``consumer_secret`` for the OAuth password flow; ``username`` + ``consumer_key`` +
``private_key_file`` for the JWT bearer flow; or ``instance_url`` + ``session_id``.
``login_url`` sends every login to another host than ``https://<domain>.salesforce.com``
(``sf-sim serve``, a proxy) and ``ca_file`` is the CA bundle its certificate is checked
against. Campaign Monitor: ``api_key``, or ``access_token`` (+ ``refresh_token``,
``client_id``, ``client_secret``); ``base_url`` and ``ca_file`` point at another server
(``cm-sim serve``). Secrets are never printed: :meth:`Connection.describe` masks them.

Mistakes are errors, never a silent fallback: an unknown table or key in the TOML file, an
unknown ``CMSF_*`` variable, a configuration that names no real platform, or simulator
files given the wrong way round (checked when they are opened).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cmsf_core.distributed.config import RUNTIME_VARIABLES
from cmsf_core.errors import ConfigError

__all__ = [
    "DEFAULT_HOME",
    "ENVIRONMENT_VARIABLES",
    "CampaignMonitorCredentials",
    "Connection",
    "SalesforceCredentials",
    "load_connection",
]

DEFAULT_HOME = Path(".cmsf")
"""Where the embedded default keeps its simulator files and the journal."""

SECRET_FIELDS = {
    "password",
    "security_token",
    "consumer_secret",
    "session_id",
    "api_key",
    "access_token",
    "refresh_token",
    "client_secret",
}


@dataclass(frozen=True)
class SalesforceCredentials:
    """How to log in to a real org (never printed)."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security_token: str | None = field(default=None, repr=False)
    domain: str = "login"
    consumer_key: str | None = None
    consumer_secret: str | None = field(default=None, repr=False)
    instance_url: str | None = None
    session_id: str | None = field(default=None, repr=False)
    version: str = "59.0"
    login_url: str | None = None
    ca_file: str | None = None
    private_key_file: str | None = None

    def validate(self) -> None:
        """Raise if the combination cannot log in.

        Raises:
            ConfigError: Naming what is missing.
        """
        if self.login_url is not None:
            parts = urlsplit(self.login_url)
            if parts.scheme not in ("https", "http") or not parts.netloc:
                raise ConfigError(
                    f"Salesforce: login_url must be an https:// URL such as "
                    f"https://acme.my.salesforce.com, got {self.login_url!r}"
                )
        if self.session_id or self.instance_url:
            if not (self.session_id and self.instance_url):
                raise ConfigError("Salesforce: give both instance_url and session_id, or neither")
            return
        if self.private_key_file:
            if not (self.username and self.consumer_key):
                raise ConfigError(
                    "Salesforce: the JWT bearer flow needs username, consumer_key and "
                    "private_key_file"
                )
            return
        if not self.username or not self.password:
            raise ConfigError(
                "Salesforce: give username and password (and security_token), or "
                "instance_url and session_id (CMSF_SF_USERNAME, CMSF_SF_PASSWORD, ...)"
            )
        if bool(self.consumer_key) != bool(self.consumer_secret):
            raise ConfigError("Salesforce: consumer_key and consumer_secret go together")

    @property
    def login_host(self) -> str:
        """Where logins go: ``login_url`` or ``https://<domain>.salesforce.com``."""
        if self.login_url:
            return self.login_url.rstrip("/")
        return f"https://{self.domain}.salesforce.com"


@dataclass(frozen=True)
class CampaignMonitorCredentials:
    """How to reach a real Campaign Monitor account (never printed)."""

    api_key: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    base_url: str = "https://api.createsend.com/api/v3.3"
    ca_file: str | None = None

    def validate(self) -> None:
        """Raise if no credential is given.

        Raises:
            ConfigError: Naming what is missing.
        """
        if not self.api_key and not self.access_token:
            raise ConfigError(
                "Campaign Monitor: give api_key (CMSF_CM_API_KEY) or access_token (CMSF_CM_ACCESS_TOKEN)"
            )


@dataclass(frozen=True)
class Connection:
    """Where the runner's platforms and journal are.

    Attributes:
        mode: ``simulated`` (SQLite simulator files) or ``real``.
        org_db: Simulated org file (simulated mode).
        account_db: Simulated account file (simulated mode).
        salesforce: Real org credentials (real mode).
        campaign_monitor: Real account credentials (real mode).
        journal: The runner's journal file.
        embedded: The embedded default in ``./.cmsf/`` (seeded on first use).
    """

    mode: str
    journal: Path
    org_db: Path | None = None
    account_db: Path | None = None
    salesforce: SalesforceCredentials | None = None
    campaign_monitor: CampaignMonitorCredentials | None = None
    embedded: bool = False

    def describe(self) -> str:
        """A one-line description safe to print (no secrets)."""
        if self.mode == "simulated":
            return f"simulated org {self.org_db} and account {self.account_db}"
        sf = self.salesforce or SalesforceCredentials()
        cm = self.campaign_monitor or CampaignMonitorCredentials()
        who = sf.username or sf.instance_url or "?"
        where = sf.instance_url if sf.session_id else sf.login_host
        auth = "API key" if cm.api_key else "OAuth token"
        return f"Salesforce {who} at {where} and Campaign Monitor {cm.base_url} ({auth})"


_SF_KEYS = frozenset(f.name for f in fields(SalesforceCredentials))
_CM_KEYS = frozenset(f.name for f in fields(CampaignMonitorCredentials))
_RUNNER_KEYS = frozenset({"journal"})
_SECTIONS = {"salesforce": _SF_KEYS, "campaign_monitor": _CM_KEYS, "runner": _RUNNER_KEYS}

ENVIRONMENT_VARIABLES: frozenset[str] = frozenset(
    {f"CMSF_SF_{name.upper()}" for name in _SF_KEYS}
    | {f"CMSF_CM_{name.upper()}" for name in _CM_KEYS}
    | {"CMSF_LOG"}
    | set(RUNTIME_VARIABLES)
)
"""Every ``CMSF_*`` variable cmsf reads; any other is refused as a typo."""


def _section(data: Mapping[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    unknown = sorted(set(value) - _SECTIONS[name])
    if unknown:
        raise ConfigError(
            f"{path}: [{name}]: unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_SECTIONS[name]))}"
        )
    return dict(value)


def _from_env(env: Mapping[str, str], prefix: str, known: frozenset[str]) -> dict[str, str]:
    out = {}
    for name in known:
        value = env.get(f"{prefix}{name.upper()}")
        if value:
            out[name] = value
    return out


def _check_environment(env: Mapping[str, str]) -> None:
    """Refuse ``CMSF_*`` variables cmsf does not read (a typo would be ignored otherwise).

    Raises:
        ConfigError: Naming the unknown variables and the closest known ones.
    """
    unknown = sorted(k for k in env if k.startswith("CMSF_") and k not in ENVIRONMENT_VARIABLES)
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, sorted(ENVIRONMENT_VARIABLES), n=1)
            hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
        raise ConfigError(
            f"unknown environment variable(s): {', '.join(hints)}; the README lists "
            "every CMSF_* variable"
        )


def load_connection(
    *,
    config: Path | None = None,
    env: Mapping[str, str] | None = None,
    org_db: Path | None = None,
    account_db: Path | None = None,
    journal: Path | None = None,
    home: Path = DEFAULT_HOME,
) -> Connection:
    """Work out how to connect, from options, a TOML file and the environment.

    Args:
        config: A TOML file with ``[salesforce]``, ``[campaign_monitor]`` and optional
            ``[runner]`` (``journal``) tables.
        env: Environment variables (``os.environ`` by default).
        org_db: Simulated org file.
        account_db: Simulated account file.
        journal: Journal file (default ``<home>/journal.db``).
        home: Folder of the embedded default.

    Raises:
        ConfigError: For an unreadable file, an unknown key, half-given simulator files
            or incomplete credentials.
    """
    env = os.environ if env is None else env
    _check_environment(env)
    if (org_db is None) != (account_db is None):
        raise ConfigError("give both --org-db and --account-db, or neither")
    data: dict[str, Any] = {}
    if config is not None:
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"configuration file {config} does not exist") from exc
        except IsADirectoryError as exc:
            raise ConfigError(f"configuration file {config} is a folder") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config} is not valid TOML: {exc}") from exc
        unknown = sorted(set(data) - set(_SECTIONS) - {"runtime"})  # [runtime]: see load_runtime
        if unknown:
            raise ConfigError(
                f"{config}: unknown table(s) or key(s) {', '.join(unknown)}; "
                f"known tables: {', '.join(f'[{name}]' for name in (*_SECTIONS, 'runtime'))}"
            )
    runner = _section(data, "runner", config or Path("config")) if data else {}
    journal_path = journal or (Path(runner["journal"]) if runner.get("journal") else None)
    if org_db is not None and account_db is not None:
        return Connection(
            mode="simulated",
            journal=journal_path or org_db.parent / "journal.db",
            org_db=org_db,
            account_db=account_db,
        )
    sf_data = _section(data, "salesforce", config or Path("config")) if data else {}
    cm_data = _section(data, "campaign_monitor", config or Path("config")) if data else {}
    sf_data.update(_from_env(env, "CMSF_SF_", _SF_KEYS))
    cm_data.update(_from_env(env, "CMSF_CM_", _CM_KEYS))
    if not sf_data and not cm_data:
        if config is not None:
            raise ConfigError(
                f"{config} names no Salesforce org or Campaign Monitor account: give "
                "[salesforce] and [campaign_monitor] (or CMSF_SF_*/CMSF_CM_* variables); "
                "without --config cmsf runs on the embedded simulators"
            )
        return Connection(
            mode="simulated",
            journal=journal_path or home / "journal.db",
            org_db=home / "org.db",
            account_db=home / "account.db",
            embedded=True,
        )
    salesforce = SalesforceCredentials(**{k: str(v) for k, v in sf_data.items()})
    campaign_monitor = CampaignMonitorCredentials(**{k: str(v) for k, v in cm_data.items()})
    salesforce.validate()
    campaign_monitor.validate()
    return Connection(
        mode="real",
        journal=journal_path or home / "journal.db",
        salesforce=salesforce,
        campaign_monitor=campaign_monitor,
    )
