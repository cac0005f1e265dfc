"""Fixtures for the scenario tests: scenario files written to a temporary folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

TINY_WORLD = (
    "world: {seed: 5, clients: 1, lists_per_client: 1, subscribers_per_list: 4, "
    "campaigns_per_client: 1, other_contacts: 1}"
)
"""A world small enough for a test to build in a fraction of a second."""


@pytest.fixture
def scenario_file(tmp_path: Path) -> Callable[..., Path]:
    """Write YAML text (dedented) to ``<tmp>/<name>.yaml`` and return the path."""

    def write(text: str, name: str = "case") -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write


def tiny(
    body: str, *, name: str = "tiny-case", purpose: str = "A tiny scenario for a test."
) -> str:
    """A whole scenario: name, purpose, the tiny world, then ``body`` (dedented YAML)."""
    return f"name: {name}\npurpose: {purpose}\n{TINY_WORLD}\n" + textwrap.dedent(body).lstrip()
