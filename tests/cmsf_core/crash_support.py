"""Killing the engine between API calls, for the crash tests of the sync, the push and sends."""

from __future__ import annotations

__all__ = ["Crash", "Killer"]


class Crash(BaseException):
    """The process dies (not an error the engine could catch)."""


class Killer:
    """Counts API calls to both platforms and dies before call number ``at``.

    Given as ``on_request`` to the Campaign Monitor client and the Salesforce gateway.
    """

    def __init__(self, at: int | None) -> None:
        self.at = at
        self.calls = 0

    def __call__(self, method: str, path: str) -> None:
        self.calls += 1
        if self.at is not None and self.calls == self.at:
            raise Crash(f"killed before call {self.calls}: {method} {path}")
