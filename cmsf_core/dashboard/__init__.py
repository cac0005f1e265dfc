"""The local dashboard (``cmsf dashboard``): Sync Settings and Maintenance in a browser."""

from __future__ import annotations

from cmsf_core.dashboard.app import BackgroundSync, create_app, serve_command

__all__ = ["BackgroundSync", "create_app", "serve_command"]
