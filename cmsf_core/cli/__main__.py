"""``python -m cmsf_core.cli``: the ``cmsf`` command (how the dashboard starts background syncs)."""

from __future__ import annotations

from cmsf_core.cli import main

main(prog_name="cmsf")
