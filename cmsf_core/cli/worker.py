"""``cmsf worker``: a Celery worker executing the distributed runtime's tasks.

It reaches the platforms exactly as ``cmsf sync`` does (the same global options and
``CMSF_SF_*``/``CMSF_CM_*`` variables), and the broker and journal through
``CMSF_BROKER_URL`` and ``CMSF_DATABASE_URL`` (or the ``[runtime]`` table of
``--config``). Start as many as the platforms' limits make useful, on any machines.
"""

from __future__ import annotations

import logging
import os
import socket

import click

from cmsf_core.cli.base import connection_of, console, global_options, options
from cmsf_core.distributed.config import load_runtime, redact
from cmsf_core.errors import ConfigError

__all__ = ["worker"]


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Tasks this worker runs at once (1: one process; more: a pool of processes).",
)
@click.option("--name", default=None, help="Worker name (default cmsf@<host>:<pid>).")
@click.option(
    "--loglevel",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="INFO",
    show_default=True,
    help="Celery's log level.",
)
@global_options()
@click.pass_context
def worker(ctx: click.Context, concurrency: int, name: str | None, loglevel: str) -> None:
    """Start a worker that runs sync tasks of the celery runtime until stopped (Ctrl-C).

    \b
    Examples:
      CMSF_BROKER_URL=redis://localhost:6379/0 \\
      CMSF_DATABASE_URL=postgresql://cmsf@localhost/cmsf cmsf worker
      cmsf --config /etc/cmsf/cmsf.toml worker --concurrency 4
    """
    given = options(ctx)
    config = load_runtime(given["config"], kind="celery")
    connection = connection_of(given)
    if connection.embedded:
        raise ConfigError(
            "a worker needs the platforms every worker shares: give --org-db/--account-db, "
            "--config or CMSF_SF_*/CMSF_CM_* variables (the embedded default is one machine's)"
        )
    from cmsf_core.distributed import tasks
    from cmsf_core.distributed.pgjournal import PgJournal

    PgJournal(config.database_url).close()  # the schema exists, the URL works: say so now
    tasks.WORKER = tasks.WorkerState(connection=connection, config=config)
    app = tasks.configure(config)
    console().print(
        f"[bold]cmsf worker[/bold] on {connection.describe()}; broker "
        f"{redact(config.broker_url)}, journal {redact(config.database_url)}, "
        f"queue {config.queue}"
    )
    logging.getLogger("cmsf").setLevel(loglevel.upper())
    argv = [
        "worker",
        f"--loglevel={loglevel.upper()}",
        f"--concurrency={concurrency}",
        f"--pool={'solo' if concurrency == 1 else 'prefork'}",
        f"--queues={config.queue}",
        f"--hostname={name or f'cmsf@{socket.gethostname()}:{os.getpid()}'}",
        "--without-gossip",
        "--without-mingle",
    ]
    app.worker_main(argv)
