"""Play a scenario over virtual time and check what it expects.

:func:`run_scenario` builds the world on a fresh :class:`VirtualClock` at the scenario's
start, applies the org tweaks, connects the engine and applies the settings, calls the
hook, then plays the timeline in time order: the clock is set to each step's time (a run
that outlasted the gap leaves it later; the step is then applied when the run ended and
the report shows both times), events act on the simulators, ``run`` steps call
:meth:`Engine.sync`, ``check`` steps evaluate invariants there and then. At the end every
expectation and figure is checked and the org is compared with the account.

A step that cannot be applied (an unknown name, a refused control call) fails the
scenario with a ``step`` failure and the rest of the timeline is skipped; nothing raises
out of the runner for a scenario's own mistakes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import httpx
from simple_salesforce.exceptions import SalesforceError

from cm_sim import Account, CmSimError
from cmsf_core.clock import Clock, VirtualClock
from cmsf_core.connection import Connection
from cmsf_core.errors import CmsfError
from scenarios.catalogue import find_scenario
from scenarios.compare import compare
from scenarios.errors import ScenarioError, ScenarioStepError
from scenarios.events import EVENTS
from scenarios.events_account import add_second_account
from scenarios.events_sf import apply_org_tweaks
from scenarios.figures import FIGURES
from scenarios.invariants import INVARIANTS, Mismatch
from scenarios.live import live_engine
from scenarios.loader import load_hook_module
from scenarios.play import Play
from scenarios.result import Failure, ScenarioResult, TimelineEntry
from scenarios.runs import api_series, run_outcome, summaries, sync
from scenarios.spec import Check, Scenario, Step
from scenarios.world import World, build_world
from sf_sim import Org, SfSimError

__all__ = ["play_scenario", "run_scenario"]

STEP_ERRORS = (
    ScenarioError,
    CmSimError,
    SfSimError,
    CmsfError,
    SalesforceError,
    httpx.HTTPError,
    ValueError,
    KeyError,
)
"""What a step may raise for a scenario's own mistake (reported, never propagated)."""


class _Session:
    """Bookkeeping of one play: the timeline as played and the failures."""

    def __init__(self, play: Play) -> None:
        self.play = play
        self.timeline: list[TimelineEntry] = []
        self.failures: list[Failure] = []

    def note(self, step: Step | None, kind: str, name: str, outcome: str, **extra: Any) -> None:
        """Add a timeline entry applied now."""
        at = step.at if step else "+0m"
        self.timeline.append(
            TimelineEntry(
                at=at,
                applied=self.play.offset_text(),
                kind=kind,
                name=name,
                outcome=outcome,
                line=step.line if step else 0,
                **extra,
            )
        )

    def check(self, check: Check) -> bool:
        """Evaluate one invariant now; record its mismatches as failures."""
        entry = INVARIANTS.get(check.name)
        assert entry is not None, check.name
        try:
            mismatches: list[Mismatch] = entry.fn(self.play, dict(check.args))
        except STEP_ERRORS as exc:
            mismatches = [Mismatch("a check that can be made", f"error: {exc}")]
        for m in mismatches:
            self.failures.append(
                Failure(
                    "invariant",
                    check.label(),
                    m.expected,
                    m.found,
                    self.play.offset_text(),
                    m.subject,
                    check.line,
                )
            )
        return not mismatches


def _setup(session: _Session, scenario: Scenario) -> None:
    play = session.play
    if "second_account" in scenario.org:
        second = scenario.org["second_account"] or {}
        done = add_second_account(play, test_account=bool(second.get("test_account", True)))
        session.note(None, "setup", "second account", done)
    for done in apply_org_tweaks(play, scenario.org):
        session.note(None, "setup", "org", done)
    clients = scenario.connect.clients
    ids = ("*",) if clients == ("*",) else tuple(play.ref(c, "client") for c in clients)
    play.engine.connect(clients=ids, test_account=scenario.connect.test_account)
    session.note(
        None, "setup", "connect", f"clients: {'all' if ids == ('*',) else ', '.join(clients)}"
    )
    if scenario.settings:
        changed = play.engine.change_settings(dict(scenario.settings), changed_by="scenario")
        session.note(
            None, "setup", "settings", ", ".join(changed) or "as given (already the defaults)"
        )
    if scenario.hook:
        if ":" in scenario.hook:
            import importlib

            module_name, function = scenario.hook.split(":", 1)
            fn = getattr(importlib.import_module(module_name), function)
        else:
            fn = play.hook(scenario.hook)
        session.note(None, "setup", "hook", str(fn(play) or scenario.hook))


def _step(session: _Session, step: Step) -> None:
    play = session.play
    play.move_clock_to(play.start + step.offset)
    if not play.live:
        play.org.tick()  # what the platform does on its own time (bulk and Apex queues)
    if step.kind == "event":
        entry = EVENTS.get(step.name)
        assert entry is not None, step.name
        session.note(step, "event", step.name, str(entry.fn(play, dict(step.args), step.alias)))
    elif step.kind == "run":
        applied = play.offset_text()
        record = sync(play, step.name)
        session.timeline.append(
            TimelineEntry(
                step.at,
                applied,
                "run",
                step.name,
                run_outcome(record),
                step.line,
                ended=play.offset_text(),
                status=record.status,
            )
        )
    elif step.kind == "check":
        ok = [session.check(c) for c in step.checks]
        names = ", ".join(c.name for c in step.checks)
        outcome = "held" if all(ok) else f"{ok.count(False)} of {len(ok)} failed"
        session.note(step, "check", names, outcome, status="ok" if all(ok) else "failed")
    else:
        result = play.hook(step.name)(play, **step.args)
        session.note(step, "call", step.name, str(result) if result is not None else "called")


def _prepare(scenario: Scenario) -> Play:
    clock = VirtualClock(scenario.start)
    world = build_world(scenario.world, clock=clock)
    world.org.apex.clocked = True  # the org's Apex queue moves on the virtual clock
    try:
        hook_module = load_hook_module(scenario.hook_path) if _needs_hook(scenario) else None
    except ScenarioError:
        world.close()
        raise
    return Play(scenario, world, clock, hook_module)


def _prepare_live(scenario: Scenario, connection: Connection, clock: Clock | None) -> Play:
    engine, org, account = live_engine(connection, clock=clock)
    # The live adapters provide the part of Org and Account the runner and the live
    # invariants use (queries, API clients, request logs); the loader keeps live
    # scenarios to those.
    world = World(engine.clock, cast(Org, org), cast(Account, account), scenario.world, {})
    return Play(scenario, world, engine.clock, engine=engine, live=True)


def _play_timeline(session: _Session, scenario: Scenario, *, strict: bool) -> None:
    """Set up, then play every step; a broken step fails the play (or raises when strict)."""
    play = session.play
    steps: list[Step | None] = [None, *scenario.timeline]
    for index, step in enumerate(steps):
        try:
            if step is None:
                _setup(session, scenario)
            else:
                _step(session, step)
        except STEP_ERRORS as exc:
            what = f"{step.kind} {step.name}" if step else "setup"
            if strict:
                raise ScenarioStepError(f"{step.at if step else '+0m'} {what}: {exc}") from exc
            session.failures.append(
                Failure(
                    "step",
                    what,
                    "the step to apply",
                    f"error: {exc}",
                    play.offset_text(),
                    "",
                    step.line if step else 0,
                )
            )
            session.note(
                step, step.kind if step else "setup", what, f"error: {exc}", status="error"
            )
            for later in scenario.timeline[index:]:
                session.note(later, "skipped", later.name, "not played (an earlier step broke)")
            return


def play_scenario(scenario: Scenario) -> Play:
    """Build the world and play the timeline, checking nothing at the end.

    The caller closes the play (``play.close()``).

    Raises:
        ScenarioStepError: If a step cannot be applied.
    """
    play = _prepare(scenario)
    try:
        _play_timeline(_Session(play), scenario, strict=True)
    except BaseException:
        play.close()
        raise
    return play


def _needs_hook(scenario: Scenario) -> bool:
    checks = [*scenario.expect, *(c for s in scenario.timeline for c in s.checks)]
    return (
        bool(scenario.hook and ":" not in scenario.hook)
        or any(s.kind == "call" for s in scenario.timeline)
        or any(c.name == "call" for c in checks)
    )


def _figures(session: _Session, scenario: Scenario) -> dict[str, float]:
    values = {}
    for bound in scenario.figures:
        entry = FIGURES.get(bound.name)
        assert entry is not None, bound.name
        value = float(entry.fn(session.play, dict(bound.args)))
        values[bound.label()] = value
        if not bound.holds(value):
            session.failures.append(
                Failure(
                    "figure",
                    bound.label(),
                    bound.bounds(),
                    value,
                    session.play.offset_text(),
                    "",
                    bound.line,
                )
            )
    return values


def run_scenario(
    scenario: Scenario | str | Path,
    *,
    report_dir: Path | None = None,
    live: Connection | None = None,
    clock: Clock | None = None,
) -> ScenarioResult:
    """Play a scenario and check its expectations.

    Args:
        scenario: A loaded scenario, a path, or a catalogue name.
        report_dir: Write an HTML report there (see :mod:`scenarios.report`).
        live: Play against these real platforms instead of simulators (``live: true``
            scenarios only).
        clock: The clock of a live run (the wall clock by default).

    Returns:
        The result (``passed`` False with failures when an expectation did not hold).

    Raises:
        ScenarioFormatError: If a file or name given is malformed.
        UnknownScenarioError: If a name is unknown.
    """
    if not isinstance(scenario, Scenario):
        scenario = find_scenario(scenario)
    if live is not None and not scenario.live:
        raise ScenarioStepError(f"{scenario.name} is not marked live: true")
    play = _prepare_live(scenario, live, clock) if live is not None else _prepare(scenario)
    session = _Session(play)
    try:
        _play_timeline(session, scenario, strict=False)
        for check in scenario.expect:
            session.check(check)
        figures = _figures(session, scenario)
        differences: list[dict[str, Any]] = []
        comparison_error = None
        try:
            differences = [
                {"kind": d.kind, "key": d.key, "expected": d.expected, "found": d.found}
                for d in compare(play.world, play.settings())
            ]
        except STEP_ERRORS as exc:
            comparison_error = str(exc)
        result = ScenarioResult(
            name=scenario.name,
            purpose=scenario.purpose,
            path=_relative(scenario.path),
            seed=scenario.world.seed,
            start=play.start.isoformat(),
            duration=play.offset_text(),
            passed=not session.failures,
            failures=list(session.failures),
            timeline=list(session.timeline),
            runs=summaries(play),
            api_series=api_series(play),
            messages=[
                {
                    "run": run.number,
                    "severity": m.severity,
                    "job": m.job,
                    "code": m.code,
                    "summary": m.summary,
                    "occurrences": m.occurrences,
                }
                for run in play.runs
                if run.report is not None
                for m in run.report.messages
            ],
            differences=differences,
            comparison_error=comparison_error,
            figures=figures,
            known_issue=scenario.known_issue,
        )
    finally:
        play.close()
    if report_dir is not None:
        from scenarios.report import write_report

        write_report(result, report_dir)
    return result


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name
