"""What a partition of a dated read is: a range of change dates ``[from, to)``.

Shared by the jobs the celery runtime may read in parts (subscribers of a list, a
campaign's dated activity): the probe's page size, and how a part's edges are written
into its scope and read back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["PROBE_ROWS", "edge", "with_bounds"]

PROBE_ROWS = 10
"""Rows of a partition probe's page (Campaign Monitor's smallest page size)."""


def with_bounds(
    part: dict[str, Any], low: datetime | None, high: datetime | None
) -> dict[str, Any]:
    """``part`` with its edges (``from``, ``to``: ISO text; an open edge is left out)."""
    if low is not None:
        part["from"] = low.isoformat()
    if high is not None:
        part["to"] = high.isoformat()
    return part


def edge(value: Any) -> datetime | None:
    """An edge written by :func:`with_bounds` (None for an open edge)."""
    return datetime.fromisoformat(str(value)) if value else None
