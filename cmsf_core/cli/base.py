"""The ``cmsf`` group, its global options, and how every command ends.

- **Global options** (``--config``, ``--org-db``, ``--account-db``, ``--journal``,
  ``--home``, ``--log-file``) are accepted before the command and after it
  (``cmsf status --home x`` as well as ``cmsf --home x status``); the last one given wins.
- **Endings**: every command exits with a code of :class:`~cmsf_core.exit_codes.ExitCode`.
  Errors a user or the machine can fix (:class:`~cmsf_core.errors.CmsfError`, local file
  trouble explained by :mod:`cmsf_core.local_errors`) print one ``error:`` line, never a
  traceback; Ctrl-C and declined confirmations exit 130.
- **Logs**: with ``--log-file`` or ``CMSF_LOG`` the run's events and one line per command
  go to a JSON-lines file (:mod:`cmsf_core.runlog`).
"""

from __future__ import annotations

import importlib
import json
import logging
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.table import Table

from cmsf_core.clock import SystemClock
from cmsf_core.collector import COLLECTOR_THRESHOLDS, collect_less
from cmsf_core.connection import DEFAULT_HOME, SECRET_FIELDS, Connection, load_connection
from cmsf_core.distributed.config import load_runtime
from cmsf_core.errors import CmsfError
from cmsf_core.exit_codes import ExitCode
from cmsf_core.local_errors import explain
from cmsf_core.platforms import OpenedEngine, open_engine
from cmsf_core.runlog import EVENT_LOGGER, attach, detach

__all__ = [
    "COLLECTOR_THRESHOLDS",
    "GLOBAL_OPTIONS",
    "CmsfGroup",
    "collect_less",
    "connection_of",
    "console",
    "emit_json",
    "fail",
    "global_args",
    "global_options",
    "opened",
    "options",
    "table",
]

F = TypeVar("F", bound=Callable[..., Any])

META = "cmsf.options"
GLOBAL_OPTIONS = ("config", "org_db", "account_db", "journal", "home", "log_file")
"""Names of the options every command accepts, before or after its name."""


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None and param.name is not None:
        ctx.find_root().meta.setdefault(META, {})[param.name] = value
    return value


def global_options(*, root: bool = False) -> Callable[[F], F]:
    """Add the global options to a command (and, with ``root``, read ``CMSF_LOG``)."""
    file_path = click.Path(dir_okay=False, path_type=Path)
    declared = [
        click.option("--config", type=file_path, help="TOML file for a real org and account."),
        click.option("--org-db", type=file_path, help="Simulated org file (sf_sim)."),
        click.option("--account-db", type=file_path, help="Simulated account file (cm_sim)."),
        click.option("--journal", type=file_path, help="The runner's journal file."),
        click.option(
            "--home",
            type=click.Path(file_okay=False, path_type=Path),
            help=f"Folder of the embedded default [default: {DEFAULT_HOME}].",
        ),
        click.option(
            "--log-file",
            type=file_path,
            envvar="CMSF_LOG" if root else None,
            help="Append JSON-lines events (run, job, message, command) to this file"
            + (" [env: CMSF_LOG]." if root else "."),
        ),
    ]

    def decorate(function: F) -> F:
        for option in reversed(declared):
            function = option(function)
        for param in function.__click_params__:  # type: ignore[attr-defined]
            if param.name in GLOBAL_OPTIONS:
                param.expose_value = False
                param.callback = _remember
        return function

    return decorate


def options(ctx: click.Context) -> dict[str, Any]:
    """The global options given anywhere on the command line, with defaults."""
    given = dict(ctx.find_root().meta.get(META, {}))
    given.setdefault("home", DEFAULT_HOME)
    for name in GLOBAL_OPTIONS:
        given.setdefault(name, None)
    return given


def global_args(values: dict[str, Any]) -> list[str]:
    """The global options as command-line arguments (to start ``cmsf`` again)."""
    out: list[str] = []
    for name in GLOBAL_OPTIONS:
        value = values.get(name)
        if value is not None:
            out += [f"--{name.replace('_', '-')}", str(value)]
    return out


def console() -> Console:
    """A console for tables: wide enough outside a terminal that nothing is cut."""
    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=200)
    return out


def table(*columns: str, title: str | None = None) -> Table:
    """A borderless table whose cells wrap rather than lose text."""
    grid = Table(title=title, show_edge=False, title_justify="left")
    for column in columns:
        grid.add_column(column, overflow="fold")
    return grid


def emit_json(value: Any) -> None:
    """Print ``value`` as indented JSON (for scripts)."""
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False))


def fail(message: str, code: int = ExitCode.USAGE) -> NoReturn:
    """Print one ``error:`` line and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(int(code))


def _secrets(connection: Connection) -> list[str]:
    values = []
    for credentials in (connection.salesforce, connection.campaign_monitor):
        if credentials is None:
            continue
        for f in fields(credentials):
            value = getattr(credentials, f.name)
            if f.name in SECRET_FIELDS and isinstance(value, str):
                values.append(value)
    return values


def connection_of(given: dict[str, Any]) -> Connection:
    """The connection the global options (and ``CMSF_*`` variables) describe.

    Raises:
        ConfigError: For half-given simulator files, an unreadable config, incomplete
            credentials.
    """
    return load_connection(
        config=given["config"],
        org_db=given["org_db"],
        account_db=given["account_db"],
        journal=given["journal"],
        home=given["home"],
    )


@contextmanager
def opened(
    ctx: click.Context, progress: Callable[[str, int, int | None], None] | None = None
) -> Iterator[OpenedEngine]:
    """Open the engine the global options describe (closed on exit).

    Errors are left to :class:`CmsfGroup`, which turns them into one line and an exit code.
    """
    given = options(ctx)
    connection = connection_of(given)
    root = ctx.find_root()
    if given["log_file"] is not None and "cmsf.log" not in root.meta:
        handler = attach(given["log_file"], secrets=_secrets(connection))
        root.meta["cmsf.log"] = handler
        root.call_on_close(lambda: detach(handler))
    root.meta["cmsf.command"] = ctx.command_path
    engine = open_engine(
        connection,
        clock=SystemClock(),
        progress=progress,
        on_seed=lambda note: Console(stderr=True).print(f"[dim]{note}[/dim]"),
    )
    try:
        # the configured runtime's journal ([runtime] / CMSF_RUNTIME): status, doctor and
        # the dashboard then read the runs a celery runtime keeps in PostgreSQL
        engine.engine.use_runtime(load_runtime(given["config"]))
        yield engine
    finally:
        engine.close()


def _log_command(ctx: click.Context, code: int) -> None:
    root = ctx.find_root()
    if "cmsf.log" in root.meta:
        logging.getLogger(EVENT_LOGGER).info(
            "command finished",
            extra={
                "event": "command_finished",
                "command": root.meta.get("cmsf.command"),
                "exit_code": code,
            },
        )


class CmsfGroup(click.Group):
    """The ``cmsf`` group: every ending is an exit code of the contract, never a traceback.

    Commands that pull in much the others never need (``scenario`` loads the simulators
    and the catalogue, ``dashboard`` Flask) are registered with :meth:`add_lazy` and
    imported when named: every ``cmsf sync`` would otherwise pay for importing them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, str] = {}
        """Command name -> ``module:attribute`` of commands not imported yet."""

    def add_lazy(self, name: str, target: str) -> None:
        """Register command ``name``, found at ``target`` (``module:attribute``) when used."""
        self.lazy[name] = target

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, the lazy ones too."""
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name`` (imported now if it was lazy), or None."""
        target = self.lazy.pop(cmd_name, None)
        if target is not None:
            module, _, attribute = target.partition(":")
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; turn errors and Ctrl-C into one line and their exit code."""
        code: int = ExitCode.COMPLETED
        try:
            try:
                return super().invoke(ctx)
            except CmsfError as error:
                fail(str(error), error.exit_code)
            except (OSError, sqlite3.Error) as exc:
                explained = explain(exc)
                if explained is None:
                    raise
                fail(str(explained), explained.exit_code)
            except KeyboardInterrupt:
                click.echo(
                    "\ninterrupted; an interrupted sync resumes with the next 'cmsf sync'",
                    err=True,
                )
                sys.exit(int(ExitCode.INTERRUPTED))
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else ExitCode.FAILED
            raise
        finally:
            _log_command(ctx, code)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Parse and run; usage mistakes exit 2, Ctrl-C and declined prompts exit 130."""
        collect_less()
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("aborted", err=True)
            sys.exit(int(ExitCode.INTERRUPTED))
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)
