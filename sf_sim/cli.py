"""The ``sf-sim`` command: serve an org on loopback, or run a short demo.

``sf-sim serve --port 8443`` serves a simulated org over HTTPS (certificate from a
locally generated CA) or plain HTTP, and prints the instance URL, a session id it
accepts and the CA file to trust. ``sf-sim demo`` seeds an org and talks to it through
simple-salesforce, in-process and over HTTPS, then prints what it saw.
"""

from __future__ import annotations

import logging
import random
import secrets
import tempfile
from pathlib import Path

import click
import requests
from rich.console import Console
from rich.table import Table
from simple_salesforce.api import Salesforce

from cmsf_core.clock import Clock, SystemClock, VirtualClock
from cmsf_core.collector import collect_less
from cmsf_core.serving import LoopbackServer
from sf_sim.activation import Org
from sf_sim.app import SalesforceApp
from sf_sim.exceptions import SfSimError
from sf_sim.seed import seed_org

__all__ = ["main"]


@click.group()
def main() -> None:
    """Salesforce simulator: an org that simple-salesforce talks to unchanged."""


@main.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8443,
    show_default=True,
    help="TCP port (0 picks one).",
)
@click.option("--http", "plain", is_flag=True, help="Serve plain HTTP instead of HTTPS.")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the org in this SQLite file.",
)
@click.option(
    "--ca-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the CA certificate (PEM).",
)
@click.option("--name", default="acme", show_default=True, help="My Domain name of a new org.")
@click.option(
    "--virtual-clock",
    is_flag=True,
    help="Freeze time at the virtual epoch instead of the wall clock.",
)
@click.option(
    "--password",
    default=None,
    help="Fixed password of the admin (default: a new random one at every start).",
)
@click.option(
    "--security-token",
    default=None,
    help="Fixed security token of the admin (default: a new random one at every start).",
)
@click.option(
    "--seed-data",
    type=int,
    default=0,
    show_default=True,
    help="Contacts to seed a new org with (faker).",
)
def serve(
    port: int,
    plain: bool,
    db: Path | None,
    ca_file: Path | None,
    name: str,
    virtual_clock: bool,
    password: str | None,
    security_token: str | None,
    seed_data: int,
) -> None:
    """Serve an org on 127.0.0.1 until Ctrl-C.

    Example: sf-sim serve --port 8443 --db org.sqlite --ca-file sf-ca.pem
    """
    clock: Clock = VirtualClock() if virtual_clock else SystemClock()
    try:
        org = Org(db, name=name, clock=clock)
    except (SfSimError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if seed_data and org.count("Contact") == 0:
        seed_org(
            org,
            seed=0,
            accounts=max(seed_data // 10, 1),
            contacts=seed_data,
            leads=seed_data // 5,
            campaigns=2,
        )
    ca_path = None if plain else (ca_file or Path(tempfile.mkdtemp(prefix="sf-sim-")) / "ca.pem")
    server = LoopbackServer(SalesforceApp(org), port=port, tls=not plain, ca_path=ca_path)
    org.base_url_override = server.url
    org.bulk.process_in_background()  # closed jobs answer at once, as the platform's do
    # Data and ids follow the org's seed; credentials are new at every start unless fixed.
    org.credential_random = random.SystemRandom()
    password = password or secrets.token_urlsafe(12)
    security_token = security_token or secrets.token_urlsafe(18)
    with org.store.lock:
        org.sessions.set_password(org.admin_username, password, security_token)
        session_id = org.sessions.open(org.running_user_id)
    click.echo(f"instance URL:  {server.url}")
    click.echo(f"session id:    {session_id}")
    click.echo(f"username:      {org.admin_username}")
    click.echo(f"password:      {password}")
    click.echo(f"security token: {security_token}")
    if ca_path is not None:
        click.echo(f"trust CA file: {ca_path}")
    click.echo("Ctrl-C to stop.")
    collect_less()  # a long-lived server parsing large acyclic data
    try:
        server.serve_forever()
    finally:
        org.bulk.settle()
        org.close()


@main.command()
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the fake data.")
@click.option(
    "--contacts",
    type=click.IntRange(1, 100_000),
    default=2500,
    show_default=True,
    help="Contacts to create.",
)
def demo(seed: int, contacts: int) -> None:
    """Seed an org, query it through simple-salesforce, print a summary.

    Example: sf-sim demo --seed 7 --contacts 2500
    """
    console = Console()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    org = Org(clock=VirtualClock())
    seeded = seed_org(
        org,
        seed=seed,
        accounts=max(contacts // 50, 1),
        contacts=contacts,
        leads=contacts // 10,
        campaigns=3,
        members_per_campaign=25,
    )
    console.print(f"[bold]Simulated org[/bold] {org.name} ({org.org_id}) at {org.instance_url}")
    with org.activate() as sf:
        total = sf.query("SELECT COUNT() FROM Contact")["totalSize"]
        everyone = sf.query_all("SELECT Id, Name, Email, Account.Name FROM Contact ORDER BY Name")
        table = Table(
            title=f"Contacts ({total} in the org, {len(everyone['records'])} read via query_all, pages of 2,000)"
        )
        for column in ("Id", "Name", "Email", "Account"):
            table.add_column(column)
        for record in everyone["records"][:5]:
            account = record["Account"]["Name"] if record["Account"] else ""
            table.add_row(record["Id"], record["Name"], record["Email"], account)
        console.print(table)
        campaigns = sf.query(
            "SELECT Name, NumberOfContacts, NumberOfLeads, NumberOfResponses FROM Campaign ORDER BY Name"
        )["records"]
        summary = Table(title="Campaigns (roll-ups kept by the org)")
        for column in ("Campaign", "Contacts", "Leads", "Responses"):
            summary.add_column(column)
        for row in campaigns:
            summary.add_row(
                row["Name"],
                str(row["NumberOfContacts"]),
                str(row["NumberOfLeads"]),
                str(row["NumberOfResponses"]),
            )
        console.print(summary)
        limits = sf.limits()["DailyApiRequests"]
        used = limits["Max"] - limits["Remaining"]
        console.print(
            f"API usage: {used} of {limits['Max']} daily requests; created {sum(len(v) for v in seeded.ids.values())} records"
        )
    with tempfile.TemporaryDirectory() as folder:
        ca_path = Path(folder) / "ca.pem"
        with LoopbackServer(org.app, tls=True, ca_path=ca_path) as server:
            org.base_url_override = server.url
            with org.store.lock:
                session_id = org.sessions.open(org.running_user_id)
            session = requests.Session()
            session.trust_env = False  # REQUESTS_CA_BUNDLE would override the CA we trust here
            session.verify = str(ca_path)
            remote = Salesforce(instance_url=server.url, session_id=session_id, session=session)
            leads = remote.query("SELECT COUNT() FROM Lead")["totalSize"]
            session.close()
            console.print(
                f"Over HTTPS at {server.url}: {leads} leads (simple-salesforce with a session id)"
            )
    org.close()
