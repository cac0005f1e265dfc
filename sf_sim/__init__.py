"""sf_sim: an in-process Salesforce org that simple-salesforce talks to unchanged."""

from __future__ import annotations

__all__: list[str] = []
