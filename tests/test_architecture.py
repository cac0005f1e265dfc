"""Each simulator reads as backend -> facade -> activation (DESIGN.md), with no import circle.

The layering lives in pyproject's import-linter contracts (every module in a layer, a
layer importing only those below it, type-only imports included); ``lint-imports`` runs
here as in a shell. Circles are checked on the imports that run (module level and inside
functions; ``TYPE_CHECKING`` blocks left out: a part naming its org in a type hint is not
a dependency at run time).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_layering_contracts_hold() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint is not None, "import-linter is a test dependency (pyproject)"
    done = subprocess.run(
        [lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def _circles(graph: grimp.ImportGraph, package: str) -> list[set[str]]:
    """Strongly connected groups of more than one module inside ``package`` (Tarjan)."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph.find_modules_directly_imported_by(module):
            if not target.startswith(package):
                continue
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = set()
            while True:
                item = stack.pop()
                group.add(item)
                if item == module:
                    break
            if len(group) > 1:
                found.append(group)

    for module in modules:
        if module not in index:
            visit(module)
    return found


@pytest.mark.parametrize("package", ["sf_sim", "cm_sim"], ids=["sf_sim", "cm_sim"])
def test_no_import_circle_runs_inside_a_simulator(package: str) -> None:
    graph = grimp.build_graph(package, exclude_type_checking_imports=True, cache_dir=None)
    assert _circles(graph, package) == []


def test_the_circle_check_sees_a_circle() -> None:
    """The check is not blind: the same graph with one upward import added has a circle."""
    graph = grimp.build_graph("sf_sim", exclude_type_checking_imports=True, cache_dir=None)
    graph.add_import(importer="sf_sim.store", imported="sf_sim.models")
    circles = _circles(graph, "sf_sim")
    assert any({"sf_sim.store", "sf_sim.models"} <= group for group in circles)
