"""Transactional email commands: ``send-smart-email``, ``watch``, ``delete-process``.

Thin commands over :mod:`cmsf_core.transactional.service`: a send request becomes queue
items (as a Flow inserts them) and is sent at once; ``watch`` drains the queue between
primary syncs; ``delete-process`` is the product's ``deleteProcess``.
"""

from __future__ import annotations

import signal
import sys
from collections import Counter
from types import FrameType
from typing import Any

import click
from rich.console import Console

from cmsf_core.cli.base import console, emit_json, fail, global_options, opened, table
from cmsf_core.errors import AuthenticationError, CmsfError, ConfigError, SafetyError
from cmsf_core.exit_codes import ExitCode
from cmsf_core.transactional.sender import SendOutcome
from cmsf_core.transactional.service import SendReport

__all__ = ["delete_process", "send_smart_email", "watch"]


def _outcome_json(outcome: SendOutcome) -> dict[str, Any]:
    return {
        "item_id": outcome.item_id,
        "record_id": outcome.record_id,
        "mapping": outcome.mapping,
        "status": outcome.status,
        "message_id": outcome.message_id,
        "recipient": outcome.recipient,
        "variables": outcome.data,
        "consent_to_track": outcome.consent,
        "reason": outcome.reason,
        "task_id": outcome.task_id,
    }


def _exit_code(outcomes: list[SendOutcome], busy: bool) -> ExitCode:
    """0 all sent; 4 some wait (deferred, in doubt, a run in progress); 3 some failed."""
    statuses = {o.status for o in outcomes}
    if busy or statuses & {"deferred", "in doubt"}:
        return ExitCode.STOPPED
    if "failed" in statuses:
        return ExitCode.COMPLETED_WITH_ERRORS
    return ExitCode.COMPLETED


def _print_report(out: Console, report: SendReport, test: bool) -> None:
    mapping = report.request.mapping
    if report.busy is not None:
        holder = report.busy
        out.print(
            f"queued {len(report.request.item_ids)} send(s) of mapping '{mapping.name}'; "
            f"a cmsf run in progress (pid {holder['pid']} on {holder['host']}) sends them"
        )
        return
    if report.request.process_id:
        out.print(f"bulk request: process {report.request.process_id}")
    for outcome in report.outcomes:
        where = f" to {outcome.recipient}" if outcome.recipient else ""
        line = f"{outcome.status}: {outcome.record_id}{where}"
        if outcome.message_id:
            line += f" (MessageID {outcome.message_id})"
        if outcome.reason:
            line += f": {outcome.reason}"
        out.print(line, markup=False)
    if test and report.outcomes and report.outcomes[0].data is not None:
        first = report.outcomes[0]
        grid = table("variable", "value", title=f"Run Test of '{mapping.name}': what was sent")
        for name, value in sorted((first.data or {}).items()):
            grid.add_row(name, str(value))
        out.print(grid)
        out.print(f"ConsentToTrack: {first.consent}; no Task is recorded for a test send.")


@click.command("send-smart-email")
@click.argument("mapping")
@click.argument("record_ids", metavar="RECORD_ID...", nargs=-1, required=True)
@click.option(
    "--test",
    is_flag=True,
    help="Run Test: send for one test record, show what was sent, record no Task.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what became of each send as JSON.")
@global_options()
@click.pass_context
def send_smart_email(
    ctx: click.Context, mapping: str, record_ids: tuple[str, ...], test: bool, as_json: bool
) -> None:
    """Send a smart email mapping for records now, as a Flow's request would.

    MAPPING is the smart email mapping's Id or unique name; each RECORD_ID a record of
    its root object. Several records make a bulk request, grouped under a process record.

    Exit code: 0 every send went; 3 some failed (the reasons are shown and on the queue
    items); 4 some wait (rate limit, Campaign Monitor unreachable, or a sync in progress
    sends them); 2 usage error.

    \b
    Examples:
      cmsf send-smart-email "Order shipped" 0035g00000AbCdEAAZ
      cmsf send-smart-email a0D5g000000000mEAA 0035g00000AbCdEAAZ --test
      cmsf send-smart-email "Order shipped" 0035g00000AbCdEAAZ 0035g00000AbCdFAAZ --json
    """
    with opened(ctx) as engine:
        report = engine.engine.send_smart_email(mapping, list(record_ids), test=test)
    code = _exit_code(report.outcomes, report.busy is not None)
    if as_json:
        emit_json(
            {
                "mapping": report.request.mapping.name,
                "process_id": report.request.process_id,
                "queued": report.request.item_ids,
                "busy": report.busy,
                "sends": [_outcome_json(o) for o in report.outcomes],
                "exit_code": int(code),
            }
        )
    else:
        _print_report(console(), report, test)
    sys.exit(int(code))


class _Stop(Exception):
    """SIGTERM asked the watch to stop while it slept."""


class _Terminator:
    """SIGTERM stops the watch: at once while it sleeps, else once the poll at work ends."""

    def __init__(self) -> None:
        self.asked = False
        self.sleeping = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.asked = True
        if self.sleeping:
            raise _Stop


@click.command("watch")
@click.option(
    "--every",
    type=click.IntRange(1, 86_400),
    default=30,
    show_default=True,
    help="Seconds between polls of the queue.",
)
@click.option(
    "--polls",
    type=click.IntRange(1, None),
    help="Stop after this many polls (default: until stopped).",
)
@click.option("--quiet", is_flag=True, help="Print nothing for polls that sent nothing.")
@global_options()
@click.pass_context
def watch(ctx: click.Context, every: int, polls: int | None, quiet: bool) -> None:
    """Send queued smart emails promptly: poll the queue every N seconds until stopped.

    Between primary syncs, smart email queue items (from Flows, Apex or send requests)
    are sent within --every seconds. A poll with nothing due costs one Salesforce API
    call; a poll while a sync runs is skipped (the sync sends them). A poll that meets an
    outage says so and the next one tries again.

    Exit code: 0 stopped by SIGTERM or after --polls; 130 Ctrl-C; 2 not connected;
    1 credentials refused; 4 sandbox safety.

    \b
    Examples:
      cmsf watch                     # every 30 s until stopped
      cmsf watch --every 10 --quiet
      cmsf watch --polls 1           # one poll, e.g. from cron
    """
    out = console()
    term = _Terminator()
    previous = signal.signal(signal.SIGTERM, term)
    done = 0
    totals: Counter[str] = Counter()
    try:
        with opened(ctx) as engine:
            session = engine.engine.send_session("watch")
            if not quiet:
                out.print(
                    f"watching the smart email queue every {every}s (SIGTERM or Ctrl-C stops)"
                )
            while (polls is None or done < polls) and not term.asked:
                if done:
                    term.sleeping = True
                    try:
                        engine.engine.clock.sleep(every)
                    finally:
                        term.sleeping = False
                done += 1
                holder = engine.engine.journal.lock_holder()
                if holder is not None:
                    if not quiet:
                        out.print(
                            f"poll {done}: a cmsf run (pid {holder['pid']}) is at work; skipped"
                        )
                    continue
                try:
                    outcomes = session.drain()
                except (ConfigError, SafetyError, AuthenticationError):
                    raise
                except CmsfError as error:
                    out.print(f"poll {done}: {error}", markup=False)
                    continue
                counts = Counter(o.status for o in outcomes)
                totals.update(counts)
                if counts or not quiet:
                    shown = (
                        ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing due"
                    )
                    out.print(f"poll {done}: {shown}")
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    if term.asked:
        out.print("stopped (SIGTERM)")
    summary = ", ".join(f"{n} {s}" for s, n in sorted(totals.items())) or "nothing sent"
    out.print(f"{done} poll(s): {summary}")


@click.command("delete-process")
@click.option(
    "--count",
    type=int,
    default=1000,
    show_default=True,
    help="Delete at most this many finished process records (1-10,000).",
)
@global_options()
@click.pass_context
def delete_process(ctx: click.Context, count: int) -> None:
    """Delete finished process records of bulk smart email requests (``deleteProcess``).

    Only processes whose every send is done or failed go, oldest first; their queue
    items stay until the queue clean-up.

    \b
    Examples:
      cmsf delete-process
      cmsf delete-process --count 200
    """
    if not 1 <= count <= 10_000:
        fail("--count must be between 1 and 10,000")
    with opened(ctx) as engine:
        deleted = engine.engine.delete_processes(count)
    click.echo(f"deleted {deleted} finished process record(s)")
