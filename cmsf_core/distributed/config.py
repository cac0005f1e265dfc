"""How the distributed runtime is configured: broker and database URLs, limits, redaction.

The settings come from ``CMSF_BROKER_URL`` / ``CMSF_DATABASE_URL`` (and the other
``CMSF_*`` variables below), or from the ``[runtime]`` table of the TOML file given with
``--config`` (variables win)::

    [runtime]
    kind = "celery"                      # "local" (default) or "celery"
    broker_url = "redis://redis.internal:6379/0"
    database_url = "postgresql://cmsf@db.internal/cmsf"
    max_attempts = 3                     # deliveries of a task before it is poison
    visibility_timeout = 300             # seconds before an unacknowledged task is redelivered
    claim_seconds = 60                   # a task's claim on its scopes, renewed while it runs
    broker_outage_seconds = 120          # how long a Redis outage is waited out before a run stops
    partition_size = 50000               # subscribers of one list and state per task (0: never split)

A password inside a URL is never printed: :func:`redact` replaces it with ``***``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from cmsf_core.errors import ConfigError

__all__ = ["RUNTIME_VARIABLES", "RuntimeConfig", "load_runtime", "redact"]

MIN_PARTITION = 100
"""The smallest ``partition_size``: a part is read in pages and probed in pages of 10."""

_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@?#]*:)(?P<secret>[^@/?#]*)@", re.I)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)(?P<secret>[^&]*)", re.I)


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***`` (safe to log or print)."""
    url = _PASSWORD.sub(lambda m: f"{m.group('head')}***@", url)
    return _QUERY_PASSWORD.sub(lambda m: f"{m.group('head')}***", url)


@dataclass(frozen=True)
class RuntimeConfig:
    """The runtime to run syncs on.

    Attributes:
        kind: ``local`` (this process, SQLite journal) or ``celery``.
        broker_url: The Celery broker (Redis), also the store of the shared API budget.
        database_url: The PostgreSQL database of the journal.
        queue: The Celery queue the tasks go to.
        max_attempts: Deliveries of one task (a job's scopes of one client) before it is
            reported as poison and given up.
        visibility_timeout: Seconds before Redis redelivers a task whose worker died.
        claim_seconds: How long a task's claim on its scopes lasts without renewal.
        lease_seconds: How long the runner lease lasts without renewal.
        wait_seconds: How long a run waits for one job's tasks before it stops.
        broker_outage_seconds: How long a process waits out a Redis outage (reconnecting
            with back-off) before the call that needed it fails and the run stops.
        partition_size: A list's subscribers in one state are read by several tasks at
            once (*list partitions*, by change date) when there are more than this many
            to read; each part has about this many. 0 never splits a list.
    """

    kind: str = "local"
    broker_url: str = ""
    database_url: str = ""
    queue: str = "cmsf"
    max_attempts: int = 3
    visibility_timeout: float = 300.0
    claim_seconds: float = 60.0
    lease_seconds: float = 60.0
    wait_seconds: float = 3600.0
    broker_outage_seconds: float = 120.0
    partition_size: int = 50_000

    def validate(self) -> RuntimeConfig:
        """Check the values; return self.

        Raises:
            ConfigError: Naming what is wrong and how to fix it.
        """
        if self.kind not in {"local", "celery"}:
            raise ConfigError(f"[runtime] kind must be 'local' or 'celery', not {self.kind!r}")
        if self.kind == "celery":
            if not self.broker_url:
                raise ConfigError(
                    "the celery runtime needs a broker: set CMSF_BROKER_URL "
                    "(e.g. redis://localhost:6379/0) or [runtime] broker_url"
                )
            if not self.broker_url.startswith(("redis://", "rediss://", "redis+socket://")):
                raise ConfigError(
                    f"the broker must be Redis (redis://...), not {redact(self.broker_url)}"
                )
            if not self.database_url:
                raise ConfigError(
                    "the celery runtime needs a PostgreSQL journal: set CMSF_DATABASE_URL "
                    "(e.g. postgresql://cmsf@localhost/cmsf) or [runtime] database_url"
                )
            if not self.database_url.startswith(("postgresql://", "postgres://")):
                raise ConfigError(
                    "the journal database must be PostgreSQL (postgresql://...), not "
                    f"{redact(self.database_url)}"
                )
        for name in ("max_attempts", "visibility_timeout", "claim_seconds", "lease_seconds",
                     "wait_seconds", "broker_outage_seconds"):  # fmt: skip
            if getattr(self, name) <= 0:
                raise ConfigError(f"[runtime] {name} must be positive")
        if self.partition_size != 0 and self.partition_size < MIN_PARTITION:
            raise ConfigError(
                f"[runtime] partition_size must be 0 (never split a list) or at least "
                f"{MIN_PARTITION}, not {self.partition_size}"
            )
        return self


RUNTIME_VARIABLES: dict[str, str] = {
    "CMSF_RUNTIME": "kind",
    "CMSF_BROKER_URL": "broker_url",
    "CMSF_DATABASE_URL": "database_url",
    "CMSF_QUEUE": "queue",
    "CMSF_MAX_ATTEMPTS": "max_attempts",
    "CMSF_VISIBILITY_TIMEOUT": "visibility_timeout",
    "CMSF_CLAIM_SECONDS": "claim_seconds",
    "CMSF_LEASE_SECONDS": "lease_seconds",
    "CMSF_WAIT_SECONDS": "wait_seconds",
    "CMSF_BROKER_OUTAGE_SECONDS": "broker_outage_seconds",
    "CMSF_PARTITION_SIZE": "partition_size",
}
"""Environment variables of the runtime and the ``[runtime]`` key each sets."""


def _typed(name: str, value: Any, source: str) -> Any:
    kinds = {f.name: f.type for f in fields(RuntimeConfig)}
    kind = kinds[name]
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: {name} must be a number, not {value!r}") from None
    if not isinstance(value, str):
        raise ConfigError(f"{source}: {name} must be text, not {value!r}")
    return value


def load_runtime(
    config: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    kind: str | None = None,
) -> RuntimeConfig:
    """The runtime configuration from a TOML file's ``[runtime]`` table and the environment.

    Args:
        config: The ``--config`` file, if any.
        env: Environment variables (``os.environ`` by default).
        kind: An explicit choice (``cmsf sync --runtime``), over everything else.

    Raises:
        ConfigError: For an unknown key, a value of the wrong type, or a missing URL.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    if config is not None and config.is_file():
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            data = {}  # the connection loader reports an unreadable file
        table = data.get("runtime", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{config}: [runtime] must be a table")
        known = {f.name for f in fields(RuntimeConfig)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(
                f"{config}: [runtime]: unknown key(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        values.update({k: _typed(k, v, f"{config}: [runtime]") for k, v in table.items()})
    for variable, name in RUNTIME_VARIABLES.items():
        if env.get(variable):
            values[name] = _typed(name, env[variable], variable)
    result = RuntimeConfig(**values)
    if kind is not None:
        result = replace(result, kind=kind)
    return result.validate()
