"""Real Redis and PostgreSQL for the distributed lane (skipped, saying why, without them)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmsf_core.distributed.services import (
    PostgresService,
    RedisService,
    start_postgres,
    start_redis,
    unavailable,
)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresService]:
    reason = unavailable()
    if reason:
        pytest.skip(f"distributed lane: {reason}")
    try:
        service = start_postgres(tmp_path_factory.mktemp("pg") / "data")
    except Exception as exc:  # a server that cannot start here: skip with the reason
        pytest.skip(f"distributed lane: PostgreSQL cannot start here: {exc}")
    yield service
    service.stop()


@pytest.fixture
def database(postgres: PostgresService) -> str:
    """A fresh database of the session's server, as a URL."""
    import uuid

    import psycopg

    name = f"cmsf_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres.url.replace("/postgres?", f"/{name}?")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisService]:
    reason = unavailable()
    if reason:
        pytest.skip(f"distributed lane: {reason}")
    try:
        service = start_redis(tmp_path / "redis")
    except Exception as exc:
        pytest.skip(f"distributed lane: Redis cannot start here: {exc}")
    yield service
    service.stop()


@pytest.fixture
def clean_env() -> dict[str, str]:
    """The environment without any CMSF_* variable of the caller."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CMSF_")}
