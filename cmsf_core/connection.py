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
``consumer_secret`` for the OAuth password flow; or ``instance_url`` + ``session_id``.
Campaign Monitor: ``api_key``, or ``access_token`` (+ ``refresh_token``, ``client_id``,
``client_secret``); ``base_url`` and ``ca_file`` point at another server (``cm-sim
serve``). Secrets are never printed: :meth:`Connection.describe` masks them.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from cmsf_core.errors import ConfigError

__all__ = [
    "DEFAULT_HOME",
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

    def validate(self) -> None:
        """Raise if the combination cannot log in.

        Raises:
            ConfigError: Naming what is missing.
        """
        if self.session_id or self.instance_url:
            if not (self.session_id and self.instance_url):
                raise ConfigError("Salesforce: give both instance_url and session_id, or neither")
            return
        if not self.username or not self.password:
            raise ConfigError(
                "Salesforce: give username and password (and security_token), or "
                "instance_url and session_id (CMSF_SF_USERNAME, CMSF_SF_PASSWORD, ...)"
            )
        if bool(self.consumer_key) != bool(self.consumer_secret):
            raise ConfigError("Salesforce: consumer_key and consumer_secret go together")


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
        auth = "API key" if cm.api_key else "OAuth token"
        return f"Salesforce {who} ({sf.domain}) and Campaign Monitor {cm.base_url} ({auth})"


def _section(data: Mapping[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return dict(value)


def _from_env(env: Mapping[str, str], prefix: str, known: set[str]) -> dict[str, str]:
    out = {}
    for name in known:
        value = env.get(f"{prefix}{name.upper()}")
        if value:
            out[name] = value
    return out


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
    if (org_db is None) != (account_db is None):
        raise ConfigError("give both --org-db and --account-db, or neither")
    data: dict[str, Any] = {}
    if config is not None:
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"configuration file {config} does not exist") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config} is not valid TOML: {exc}") from exc
    runner = _section(data, "runner", config or Path("config")) if data else {}
    journal_path = journal or (Path(runner["journal"]) if runner.get("journal") else None)
    if org_db is not None and account_db is not None:
        return Connection(
            mode="simulated",
            journal=journal_path or org_db.parent / "journal.db",
            org_db=org_db,
            account_db=account_db,
        )
    sf_keys = {f.name for f in fields(SalesforceCredentials)}
    cm_keys = {f.name for f in fields(CampaignMonitorCredentials)}
    sf_data = _section(data, "salesforce", config or Path("config")) if data else {}
    cm_data = _section(data, "campaign_monitor", config or Path("config")) if data else {}
    for name, section, keys in (
        ("salesforce", sf_data, sf_keys),
        ("campaign_monitor", cm_data, cm_keys),
    ):
        unknown = set(section) - keys
        if unknown:
            raise ConfigError(f"[{name}]: unknown key(s) {', '.join(sorted(unknown))}")
    sf_data.update(_from_env(env, "CMSF_SF_", sf_keys))
    cm_data.update(_from_env(env, "CMSF_CM_", cm_keys))
    if not sf_data and not cm_data:
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
