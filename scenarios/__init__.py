"""scenarios: declarative regression scenarios played over virtual time, and their runner."""

from __future__ import annotations

__all__: list[str] = []
