"""Errors of the scenarios package.

::

    ScenarioError                  root: every error this package raises
    ├── ScenarioFormatError        a scenario file is malformed (file, line, what is wrong)
    ├── UnknownScenarioError       no scenario has that name or path
    └── ScenarioStepError          a timeline step could not be applied (bad reference, refused)

Each carries an ``exit_code`` for the CLI. None of them ever holds a credential: they
are built from scenario text and simulator state only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cmsf_core.exit_codes import ExitCode

__all__ = [
    "FormatProblem",
    "ScenarioError",
    "ScenarioFormatError",
    "ScenarioStepError",
    "UnknownScenarioError",
]


class ScenarioError(Exception):
    """Root of every error of the scenarios package."""

    exit_code: int = ExitCode.USAGE


@dataclass(frozen=True)
class FormatProblem:
    """One thing wrong in a scenario file.

    Attributes:
        path: The file.
        line: 1-based line (0 when unknown).
        where: Where in the document (``timeline[2].at``), empty for the whole file.
        message: What is wrong, in words a scenario author understands.
    """

    path: str
    line: int
    where: str
    message: str

    def __str__(self) -> str:
        location = f"{self.path}:{self.line}" if self.line else self.path
        return f"{location}: {self.where + ': ' if self.where else ''}{self.message}"


class ScenarioFormatError(ScenarioError):
    """A scenario file is malformed; ``problems`` says where and what, one per line."""

    def __init__(self, problems: list[FormatProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, path: Path | str, line: int, where: str, message: str) -> ScenarioFormatError:
        """An error with one problem."""
        return cls([FormatProblem(str(path), line, where, message)])


class UnknownScenarioError(ScenarioError):
    """No scenario file has that name or path."""


class ScenarioStepError(ScenarioError):
    """A timeline step could not be applied (an unknown alias, a refused control call)."""

    exit_code = ExitCode.FAILED
