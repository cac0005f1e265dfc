"""What playing a scenario produced: a plain, deterministic, comparable result.

:class:`ScenarioResult` holds only virtual times (offsets from the scenario's start) and
values derived from seeded simulators, so the same file gives an equal ``to_dict()`` on
any machine and in any process. :meth:`ScenarioResult.diff_text` renders failures the way
a person reads them: what was expected, what was found, at which virtual time, followed
by the timeline as played.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Failure", "RunSummary", "ScenarioResult", "TimelineEntry"]


@dataclass(frozen=True)
class Failure:
    """An expectation that did not hold, a figure out of bounds, or a step that broke.

    Attributes:
        kind: ``invariant``, ``figure`` or ``step``.
        check: The invariant or figure with its arguments (``member_state(...)``).
        expected: What was expected.
        found: What was found.
        at: Virtual time of the check, as an offset from the start (``+3h``).
        subject: What the mismatch is about (an email, an object), if anything.
        line: Line of the expectation in the scenario file.
    """

    kind: str
    check: str
    expected: Any
    found: Any
    at: str
    subject: str = ""
    line: int = 0


@dataclass(frozen=True)
class TimelineEntry:
    """One step as played.

    Attributes:
        at: The offset the scenario asked for.
        applied: The offset it was applied at (later when a run outlasted the gap).
        kind: ``setup``, ``event``, ``run``, ``check``, ``call`` or ``skipped``.
        name: Event, run kind, invariant list or function name.
        outcome: What happened, in words.
        line: Line in the scenario file (0 for setup).
        ended: For runs, the offset the run finished at.
        status: ``ok``, a run status, ``failed`` (a check) or ``error``.
    """

    at: str
    applied: str
    kind: str
    name: str
    outcome: str
    line: int = 0
    ended: str | None = None
    status: str = "ok"


@dataclass(frozen=True)
class RunSummary:
    """One sync run, summarised.

    Attributes:
        number: 1 for the first run.
        kind: ``primary_sync`` or ``full_sync``.
        started: Offset it began at.
        finished: Offset it ended at.
        started_s: ``started`` in seconds (for charts).
        finished_s: ``finished`` in seconds.
        status: Run status (``refused`` when the engine would not start).
        reason: Why it stopped or failed.
        calls: API calls per platform.
        written: Records written by object.
        failed: Records refused by object.
        deleted: Records deleted by object.
        jobs: ``{job, status, error}`` per job, in the journal's order.
        org: The org it ran against (``production`` or ``sandbox``).
    """

    number: int
    kind: str
    started: str
    finished: str
    started_s: int
    finished_s: int
    status: str
    reason: str | None
    calls: dict[str, int]
    written: dict[str, int]
    failed: dict[str, int]
    deleted: dict[str, int]
    jobs: list[dict[str, Any]]
    org: str


@dataclass
class ScenarioResult:
    """The outcome of playing one scenario.

    Attributes:
        name: Scenario name.
        purpose: Its sentence of purpose.
        path: Its file, relative to the working folder when possible.
        seed: The world's seed.
        start: The virtual instant it started at (ISO).
        duration: Offset of the last step played.
        passed: No failures.
        failures: Every failure, in the order found.
        timeline: Every step as played.
        runs: Every sync run.
        api_series: Per platform, ``[minute offset, calls in that minute]`` of the engine.
        messages: Maintenance messages raised by the runs.
        differences: The final org-vs-account comparison (``kind, key, expected, found``).
        comparison_error: Why the final comparison could not be made, if it could not.
        figures: Every bounded figure's value, by label.
        known_issue: The scenario's known issue, if it has one.
    """

    name: str
    purpose: str
    path: str
    seed: int
    start: str
    duration: str = "+0m"
    passed: bool = True
    failures: list[Failure] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    runs: list[RunSummary] = field(default_factory=list)
    api_series: dict[str, list[list[int]]] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    differences: list[dict[str, Any]] = field(default_factory=list)
    comparison_error: str | None = None
    figures: dict[str, float] = field(default_factory=dict)
    known_issue: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (equal for equal runs)."""
        return json.loads(json.dumps(asdict(self), sort_keys=True, default=str))  # type: ignore[no-any-return]

    def summary_line(self) -> str:
        """One line: name, verdict, runs and failures."""
        verdict = "passed" if self.passed else f"FAILED ({len(self.failures)} failure(s))"
        statuses = ", ".join(r.status for r in self.runs) or "no runs"
        return f"{self.name}: {verdict}; runs: {statuses}; virtual time {self.duration}"

    def diff_text(self) -> str:
        """Failures as expected/found/at, then the timeline: what a person reads first."""
        lines = [self.summary_line(), f"  purpose: {self.purpose}", f"  file: {self.path}", ""]
        for failure in self.failures:
            where = f"line {failure.line}, " if failure.line else ""
            lines.append(f"FAIL {failure.check}  [{where}at {failure.at}]")
            if failure.subject:
                lines.append(f"    {failure.subject}")
            lines.append(f"      expected: {_show(failure.expected)}")
            lines.append(f"      found:    {_show(failure.found)}")
        if self.failures:
            lines.append("")
        lines.append("timeline (virtual time from the start):")
        for entry in self.timeline:
            when = entry.applied if entry.applied == entry.at else f"{entry.at}->{entry.applied}"
            span = f" .. {entry.ended}" if entry.ended else ""
            label = f"{entry.kind} {entry.name}"
            lines.append(f"  {when + span:<18} {label:<38} {entry.outcome}")
        if self.messages:
            lines.append("maintenance messages:")
            for message in self.messages:
                lines.append(
                    f"  run {message['run']}: {message['severity']} {message['code']} "
                    f"({message['job']}) {message['summary']}"
                )
        return "\n".join(lines)


def _show(value: Any) -> str:
    if isinstance(value, list) and len(value) > 1:
        return "\n" + "\n".join(f"        - {_show(item)}" for item in value)
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value, default=str)
