"""``cmsf dashboard``: serve the Sync Settings and Maintenance screens on localhost."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from cmsf_core.cli.base import connection_of, global_args, global_options, opened, options
from cmsf_core.clock import SystemClock
from cmsf_core.dashboard import create_app, serve_command
from cmsf_core.distributed.config import load_runtime
from cmsf_core.errors import ConfigError
from cmsf_core.local_errors import explain
from cmsf_core.platforms import OpenedEngine, open_engine
from cmsf_core.serving import LoopbackServer

__all__ = ["dashboard"]


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port on 127.0.0.1 (0 picks a free one).",
)
@global_options()
@click.pass_context
def dashboard(ctx: click.Context, port: int) -> None:
    """Serve a local dashboard: Sync Settings (Sync Now, Full Sync), Maintenance, runs, API budget.

    It listens on 127.0.0.1 only and runs until Ctrl-C. The buttons start 'cmsf sync' in
    the background with the same options; the page refreshes until the run ends.

    \b
    Examples:
      cmsf dashboard                 # then open http://127.0.0.1:8765/
      cmsf --home /srv/cmsf/.cmsf dashboard --port 9000
    """
    given = options(ctx)
    with opened(ctx):  # creates the embedded default and checks the configuration now
        pass

    @contextmanager
    def open_for_request() -> Iterator[OpenedEngine]:
        engine = open_engine(connection_of(given), clock=SystemClock())
        try:
            engine.engine.use_runtime(load_runtime(given["config"]))  # the runs it keeps
            yield engine
        finally:
            engine.close()

    app = create_app(open_for_request, serve_command(global_args(given)))
    try:
        server = LoopbackServer(app, port=port, tls=False)
    except OSError as exc:
        raise explain(exc) or ConfigError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); choose another --port"
        ) from exc
    click.echo(f"dashboard at {server.url}/ (Ctrl-C to stop)", err=False)
    try:
        server.serve_forever()
    finally:
        app.extensions["cmsf.background"].stop()
    click.echo("dashboard stopped")
