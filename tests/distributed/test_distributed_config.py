"""The distributed runtime's configuration and interface (no servers needed)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from cmsf_core.distributed.config import load_runtime, redact
from cmsf_core.errors import ConfigError
from cmsf_core.state import Journal


def test_every_public_journal_method_is_implemented_on_postgresql() -> None:
    from cmsf_core.distributed.pgjournal import PgJournal

    public = {n for n, v in inspect.getmembers(Journal) if not n.startswith("_") and callable(v)}
    missing = sorted(n for n in public if n not in PgJournal.__dict__)
    assert missing == [], f"PgJournal would fall back to its scratch SQLite for {missing}"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@redis.internal:6379/0", "redis://:***@redis.internal:6379/0"),
        ("postgresql://cmsf:pa55@db/cmsf", "postgresql://cmsf:***@db/cmsf"),
        ("postgresql://db/cmsf?user=a&password=pa55", "postgresql://db/cmsf?user=a&password=***"),
        ("redis://localhost:6379/0", "redis://localhost:6379/0"),
    ],
    ids=["redis-password", "pg-password", "pg-query-password", "no-password"],
)
def test_urls_are_shown_without_their_password(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_variables_win_over_the_runtime_table(tmp_path: Path) -> None:
    config = tmp_path / "cmsf.toml"
    config.write_text(
        '[runtime]\nkind = "celery"\nbroker_url = "redis://a:6379/0"\n'
        'database_url = "postgresql://db/cmsf"\nmax_attempts = 5\n'
    )
    loaded = load_runtime(config, {"CMSF_BROKER_URL": "redis://b:6379/1"})
    assert (loaded.kind, loaded.broker_url, loaded.max_attempts) == (
        "celery",
        "redis://b:6379/1",
        5,
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"CMSF_RUNTIME": "celery"}, "CMSF_BROKER_URL"),
        ({"CMSF_RUNTIME": "celery", "CMSF_BROKER_URL": "redis://h/0"}, "CMSF_DATABASE_URL"),
        (
            {
                "CMSF_RUNTIME": "celery",
                "CMSF_BROKER_URL": "amqp://u:pw@h//",
                "CMSF_DATABASE_URL": "postgresql://h/d",
            },
            "must be Redis",
        ),
        (
            {
                "CMSF_RUNTIME": "celery",
                "CMSF_BROKER_URL": "redis://h/0",
                "CMSF_DATABASE_URL": "mysql://u:pw@h/d",
            },
            "must be PostgreSQL",
        ),
        ({"CMSF_RUNTIME": "kubernetes"}, "'local' or 'celery'"),
        ({"CMSF_MAX_ATTEMPTS": "many"}, "must be a number"),
        ({"CMSF_MAX_ATTEMPTS": "0"}, "must be positive"),
        ({"CMSF_PARTITION_SIZE": "50"}, "at least 100"),
        ({"CMSF_PARTITION_SIZE": "-1"}, "0 (never split a list)"),
        ({"CMSF_PARTITION_SIZE": "10k"}, "must be a number"),
        ({"CMSF_PARTITION_SIZE": "9" * 5000}, "must be a number"),
    ],
    ids=[
        "no-broker",
        "no-database",
        "not-redis",
        "not-postgresql",
        "unknown-kind",
        "not-a-number",
        "not-positive",
        "partition-too-small",
        "partition-negative",
        "partition-not-a-number",
        "partition-oversized",
    ],
)
def test_mistakes_are_refused_with_the_fix_and_no_password(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_runtime(None, env)
    assert says in str(caught.value)
    assert "pw" not in str(caught.value)


def test_an_unknown_runtime_key_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "cmsf.toml"
    config.write_text('[runtime]\nkind = "celery"\nbrokerurl = "redis://a/0"\n')
    with pytest.raises(ConfigError, match="unknown key"):
        load_runtime(config, {})


def test_the_partition_size_comes_from_the_table_or_its_variable(tmp_path: Path) -> None:
    config = tmp_path / "cmsf.toml"
    config.write_text("[runtime]\npartition_size = 20000\n")
    assert load_runtime(None, {}).partition_size == 50_000  # the default
    assert load_runtime(config, {}).partition_size == 20_000
    assert load_runtime(config, {"CMSF_PARTITION_SIZE": "0"}).partition_size == 0
    config.write_text('[runtime]\npartition_size = "lots"\n')
    with pytest.raises(ConfigError, match="partition_size must be a number"):
        load_runtime(config, {})
