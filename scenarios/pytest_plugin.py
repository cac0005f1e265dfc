"""pytest plugin: every ``scenarios/*.yaml`` file is a test, with a readable failure.

Registered through the ``pytest11`` entry point, so installing cmsf is enough. Any YAML
file in a folder named ``scenarios`` under the test paths becomes one test item whose id
is the scenario's name. Items are independent (each builds its own world on its own
clock), so they spread over pytest-xdist workers. A failing scenario prints what was
expected, what was found and at which virtual time, then the timeline as played; a
malformed file fails with ``file:line: what is wrong``.

A scenario with ``known_issue:`` is reported as xfail with that reason and not run
(``--run-known-issues`` runs it, strictly). A ``live: true`` scenario gets a second item,
``<name>[live]``, run against real platforms when ``CMSF_SF_*``/``CMSF_CM_*``
credentials exist and skipped with that reason otherwise. ``--scenario-report DIR``
writes each scenario's HTML report to ``DIR/<name>/index.html``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scenarios.errors import ScenarioError, ScenarioFormatError
from scenarios.live import LIVE_SKIP_REASON, live_connection
from scenarios.loader import load_scenario
from scenarios.result import ScenarioResult
from scenarios.runner import run_scenario
from scenarios.spec import Scenario

__all__ = ["ScenarioFailedError", "ScenarioFile", "ScenarioItem"]

SUFFIXES = (".yaml", ".yml")


class ScenarioFailedError(Exception):
    """A scenario's expectations did not hold (carries the result for the report)."""

    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(result.summary_line())
        self.result = result


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--run-known-issues`` and ``--scenario-report DIR``."""
    group = parser.getgroup("scenarios", "cmsf regression scenarios")
    group.addoption(
        "--run-known-issues",
        action="store_true",
        default=False,
        help="also run scenarios marked known_issue (they must then pass: strict xfail)",
    )
    group.addoption(
        "--scenario-report",
        metavar="DIR",
        default=None,
        help="write each scenario's HTML report to DIR/<name>/index.html",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the markers scenario items carry."""
    config.addinivalue_line("markers", "scenario: a regression scenario file (scenarios/*.yaml)")
    config.addinivalue_line("markers", "live: a scenario run against real platforms")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect YAML files of folders named ``scenarios``."""
    if file_path.suffix in SUFFIXES and file_path.parent.name == "scenarios":
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    """One scenario file: one item (two for live scenarios)."""

    def collect(self) -> Iterator[pytest.Item]:
        """Load the file; a malformed one becomes an item that fails with the problems."""
        try:
            scenario = load_scenario(self.path)
        except ScenarioFormatError as exc:
            yield BrokenScenarioItem.from_parent(self, name=self.path.stem, error=exc)
            return
        item = ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)
        item.add_marker(pytest.mark.scenario)
        if scenario.known_issue:
            run = bool(self.config.getoption("--run-known-issues"))
            item.add_marker(
                pytest.mark.xfail(
                    reason=f"known issue: {scenario.known_issue}", run=run, strict=run
                )
            )
        yield item
        if scenario.live:
            live = LiveScenarioItem.from_parent(
                self, name=f"{scenario.name}[live]", scenario=scenario
            )
            live.add_marker(pytest.mark.live)
            yield live


class ScenarioItem(pytest.Item):
    """Plays one scenario on the simulators."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def _report_dir(self) -> Path | None:
        root = self.config.getoption("--scenario-report")
        return Path(root) / self.scenario.name if root else None

    def runtest(self) -> None:
        """Run the scenario; fail with its result when an expectation does not hold."""
        result = run_scenario(self.scenario, report_dir=self._report_dir())
        if not result.passed:
            raise ScenarioFailedError(result)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        """The readable diff for scenario failures; pytest's usual report otherwise."""
        if isinstance(excinfo.value, ScenarioFailedError):
            return excinfo.value.result.diff_text()
        if isinstance(excinfo.value, ScenarioError):
            return f"{self.scenario.path}: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where the scenario is, for pytest's headers."""
        return self.path, self.scenario.lines.get("name", 1) - 1, f"scenario: {self.name}"


class LiveScenarioItem(ScenarioItem):
    """Plays a live scenario against the real platforms named in the environment."""

    def runtest(self) -> None:
        """Skip without credentials; otherwise run live and fail like any scenario."""
        connection = live_connection()
        if connection is None:
            pytest.skip(LIVE_SKIP_REASON)
        result = run_scenario(self.scenario, report_dir=self._report_dir(), live=connection)
        if not result.passed:
            raise ScenarioFailedError(result)


class BrokenScenarioItem(pytest.Item):
    """Stands for a malformed scenario file: fails with its problems, one per line."""

    def __init__(self, *, error: ScenarioFormatError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        """Fail with the format error."""
        raise self.error

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        """The problems, without a traceback."""
        return f"malformed scenario file:\n{self.error}"

    def reportinfo(self) -> tuple[Path, int, str]:
        """The file."""
        return self.path, 0, f"scenario file: {self.path.name}"
