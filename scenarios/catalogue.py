"""Finding scenarios: the bundled catalogue (``scenarios/*.yaml``) or any file or folder.

A scenario is found by path, or by name: first ``<dir>/<name>.yaml``, then any file of
the folder whose ``name:`` is that name. Unknown names raise an error listing the known
ones.
"""

from __future__ import annotations

from pathlib import Path

from scenarios.errors import ScenarioFormatError, UnknownScenarioError
from scenarios.loader import load_scenario
from scenarios.spec import Scenario

__all__ = ["CATALOGUE_DIR", "find_scenario", "scenario_paths"]

CATALOGUE_DIR = Path(__file__).resolve().parent
"""Where the bundled scenarios live (next to the runner)."""

SUFFIXES = (".yaml", ".yml")


def scenario_paths(directory: Path | None = None) -> list[Path]:
    """Scenario files of a folder (the catalogue by default), sorted by file name."""
    folder = directory or CATALOGUE_DIR
    return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())


def find_scenario(name_or_path: str | Path, *, near: Path | None = None) -> Scenario:
    """Load a scenario by path or by name.

    Args:
        name_or_path: A file path, or a scenario name.
        near: Folder to look in for names (the catalogue by default).

    Raises:
        UnknownScenarioError: If no file has that path or name.
        ScenarioFormatError: If the file found is malformed.
    """
    text = str(name_or_path)
    candidate = Path(text)
    if candidate.suffix in SUFFIXES or candidate.is_file():
        if not candidate.is_file():
            raise UnknownScenarioError(f"no scenario file {text}")
        return load_scenario(candidate)
    folder = near or CATALOGUE_DIR
    direct = folder / f"{text}.yaml"
    if direct.is_file():
        scenario = load_scenario(direct)
        if scenario.name == text:
            return scenario
    names = []
    for path in scenario_paths(folder):
        try:
            scenario = load_scenario(path)
        except ScenarioFormatError:
            continue
        if scenario.name == text:
            return scenario
        names.append(scenario.name)
    raise UnknownScenarioError(
        f"no scenario is called {text!r}; known scenarios: {', '.join(sorted(names)) or 'none'}"
    )
