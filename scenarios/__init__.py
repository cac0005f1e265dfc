"""scenarios: declarative regression scenarios played over virtual time, and their runner.

The public API is imported on first use (so ``import scenarios.world`` stays light):
``run_scenario``, ``play_scenario``, ``load_scenario``, ``find_scenario``,
``write_report``, ``ScenarioResult`` and the errors.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ScenarioError",
    "ScenarioFormatError",
    "ScenarioResult",
    "UnknownScenarioError",
    "find_scenario",
    "load_scenario",
    "play_scenario",
    "run_scenario",
    "write_report",
]

_HOMES = {
    "ScenarioError": "scenarios.errors",
    "ScenarioFormatError": "scenarios.errors",
    "UnknownScenarioError": "scenarios.errors",
    "ScenarioResult": "scenarios.result",
    "find_scenario": "scenarios.catalogue",
    "load_scenario": "scenarios.loader",
    "play_scenario": "scenarios.runner",
    "run_scenario": "scenarios.runner",
    "write_report": "scenarios.report",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'scenarios' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
