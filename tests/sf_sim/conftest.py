"""Fixtures for the sf_sim suites: the plugin's ``sf_org`` and ``sf_client``, and ``metadata_dir``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# pytest puts tests/ on sys.path, where tests/sf_sim would pass for a namespace package
# named sf_sim; put the repository first so ``import sf_sim`` is the real package.
_ROOT = str(Path(__file__).resolve().parents[2])
if getattr(sys.modules.get("sf_sim"), "__file__", None) is None:
    sys.modules.pop("sf_sim", None)
    sys.path.insert(0, _ROOT)

from sf_sim.pytest_plugin import sf_client, sf_org  # noqa: E402

__all__ = ["metadata_dir", "sf_client", "sf_org"]


@pytest.fixture
def metadata_dir() -> Path:
    """The DX source fixtures of this suite (custom objects and fields)."""
    return Path(__file__).parent / "metadata"
