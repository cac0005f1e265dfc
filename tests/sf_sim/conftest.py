"""Fixtures for the sf_sim suites: the plugin's ``sf_org`` and ``sf_client``, and ``metadata_dir``."""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = ["metadata_dir"]


@pytest.fixture
def metadata_dir() -> Path:
    """The DX source fixtures of this suite (custom objects and fields)."""
    return Path(__file__).parent / "metadata"
