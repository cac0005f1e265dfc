"""``cm-sim``: serve a simulated Campaign Monitor account, or build one in a file.

Commands:

* ``cm-sim serve --port 8443`` serves an account over HTTPS (local CA) or ``--http``;
* ``cm-sim seed --db world.db --seed 7`` writes a seeded account to a file;
* ``cm-sim info --db world.db`` prints what an account file holds.
"""

from __future__ import annotations

import secrets
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import click

from cm_sim.activation import Account
from cm_sim.exceptions import ControlError
from cm_sim.seed import SeedSizes, seed_account
from cmsf_core.clock import SystemClock
from cmsf_core.collector import collect_less
from cmsf_core.serving import LoopbackServer

__all__ = ["main"]


@click.group(
    help="Campaign Monitor simulator (API v3.3).\n\nExample: cm-sim serve --port 8443 --seed 7"
)
def main() -> None:
    """Entry point of the ``cm-sim`` console script."""


def _open(db: Path | None, **kwargs: Any) -> Account:
    """Open an account, turning unusable files into a clean CLI error."""
    try:
        return Account(db, **kwargs)
    except (sqlite3.Error, OSError, ControlError) as exc:
        raise click.ClickException(f"cannot open account file {db}: {exc}") from None


def _sizes(clients: int, lists: int, subscribers: int, campaigns: int) -> SeedSizes:
    return SeedSizes(
        clients=clients,
        lists_per_client=lists,
        subscribers_per_list=subscribers,
        campaigns_per_client=campaigns,
    )


@main.command(help="Serve an account on 127.0.0.1 until Ctrl-C.\n\n"
              "Example: cm-sim serve --port 8443 --seed 7 --ca-file ca.pem")  # fmt: skip
@click.option(
    "--port", type=int, default=0, show_default=True, help="TCP port (0 picks a free one)."
)
@click.option("--http", "plain_http", is_flag=True, help="Serve plain HTTP instead of HTTPS.")
@click.option(
    "--api-key",
    default=None,
    help="Use this fixed account API key (default: a new random key at every start).",
)
@click.option("--seed", type=int, default=None, help="Seed a realistic account from this number.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Keep the account in this SQLite file (reopened if it exists).")  # fmt: skip
@click.option("--ca-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the local CA certificate (HTTPS only).")  # fmt: skip
@click.option(
    "--subscribers",
    type=int,
    default=200,
    show_default=True,
    help="Subscribers per list when seeding.",
)
def serve(port: int, plain_http: bool, api_key: str | None, seed: int | None, db: Path | None,
          ca_file: Path | None, subscribers: int) -> None:  # fmt: skip
    """Run ``cm-sim serve``."""
    existing = db is not None and db.exists()
    # data and ids follow the seed; the credential is new at every start unless fixed
    api_key = api_key or secrets.token_hex(24)
    account = _open(db, clock=SystemClock(), seed=seed or 0, api_key=api_key)
    if seed is not None and not existing:
        seed_account(account, _sizes(2, 2, subscribers, 2))
    if not plain_http and ca_file is None:
        ca_file = Path(tempfile.mkdtemp(prefix="cm-sim-")) / "ca.pem"
    try:
        server = LoopbackServer(account.app(), port=port, tls=not plain_http, ca_path=ca_file)
    except OSError as exc:
        raise click.ClickException(f"cannot serve on port {port}: {exc.strerror or exc}") from None
    click.echo(f"cm-sim serving {server.url}/api/v3.3")
    click.echo(f"API key: {account.api_key}")
    if not plain_http:
        click.echo(f"CA file: {ca_file}")
    click.echo("Press Ctrl-C to stop.", err=True)
    collect_less()  # a long-lived server parsing large acyclic data
    server.serve_forever()
    account.close()


@main.command(
    help="Write a seeded account to a SQLite file.\n\nExample: cm-sim seed --db world.db --seed 7 --subscribers 1000"
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="SQLite file to create.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generated world.")
@click.option(
    "--kind",
    type=click.Choice(["agency", "direct"]),
    default="agency",
    show_default=True,
    help="Account kind.",
)
@click.option(
    "--clients", type=int, default=2, show_default=True, help="Clients (agency accounts)."
)
@click.option("--lists", type=int, default=2, show_default=True, help="Lists per client.")
@click.option(
    "--subscribers", type=int, default=200, show_default=True, help="Subscribers per list."
)
@click.option(
    "--campaigns", type=int, default=2, show_default=True, help="Sent campaigns per client."
)
@click.option(
    "--test-account", is_flag=True, help="Mark the account as a pay-as-you-go test account."
)
def seed(db: Path, seed: int, kind: str, clients: int, lists: int, subscribers: int, campaigns: int,
         test_account: bool) -> None:  # fmt: skip
    """Run ``cm-sim seed``."""
    if db.exists():
        raise click.UsageError(f"{db} already exists; choose a new file")
    if min(clients, lists, subscribers, campaigns) < 0:
        raise click.UsageError("sizes must not be negative")
    account = _open(db, seed=seed, kind=kind, test_account=test_account)
    summary = seed_account(account, _sizes(clients, lists, subscribers, campaigns))
    click.echo(f"Seeded {db}: {len(summary['clients'])} clients, {len(summary['lists'])} lists, "
               f"{len(summary['campaigns'])} campaigns")  # fmt: skip
    click.echo(f"API key: {account.api_key}")
    account.close()


@main.command(help="Show what an account file holds.\n\nExample: cm-sim info --db world.db")
@click.option(
    "--db",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="SQLite file.",
)
def info(db: Path) -> None:
    """Run ``cm-sim info``."""
    account = _open(db)
    counts = {
        t: account.store.scalar(f'SELECT COUNT(*) FROM "{t}"')
        for t in ("clients", "lists", "subscribers", "campaigns")
    }
    click.echo(f"{account.kind} account, test account: {account.test_account}")
    click.echo(f"API key: {account.api_key}")
    for table, n in counts.items():
        click.echo(f"{table}: {n}")
    account.close()
