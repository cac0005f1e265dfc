"""What the simulators' ``serve`` commands set up before serving (both CLIs' tests use it)."""

from __future__ import annotations

import gc

import click
import pytest
from click.testing import CliRunner

from cmsf_core.serving import LoopbackServer


def thresholds_while_serving(
    main: click.Group, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[int, int, int]]:
    """Run ``serve --port 0 --http`` of ``main`` from Python's default collector thresholds
    (its server closed as soon as it would serve); the thresholds it served with."""
    seen: list[tuple[int, int, int]] = []

    def serve(self: LoopbackServer) -> None:
        seen.append(gc.get_threshold())
        self._server.server_close()

    before = gc.get_threshold()
    monkeypatch.setattr(LoopbackServer, "serve_forever", serve)
    gc.set_threshold(700, 10, 10)  # Python's default
    try:
        result = CliRunner().invoke(main, ["serve", "--port", "0", "--http"])
    finally:
        gc.set_threshold(*before)
    assert result.exit_code == 0, result.output
    return seen
