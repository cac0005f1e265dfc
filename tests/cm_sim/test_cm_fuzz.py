"""Fuzzing the Campaign Monitor facade: any request gets a 2xx/4xx answer, never a 5xx or a traceback.

Every route of the table is hit with generated paths, query strings, credentials and
bodies (any JSON, including deep nesting, lone surrogates, huge numbers and wrong
types, and bytes that are not JSON at all). The platform answers such input with a 4xx
``{"Code", "Message"}``; a 5xx here is a simulator bug. ``python -m cm_sim.fuzz`` runs
the same property with many more examples.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from cm_sim.fuzz import FuzzTarget, requests

FUZZ = settings(max_examples=150, deadline=None, database=None)


@pytest.fixture(scope="module")
def target() -> FuzzTarget:
    return FuzzTarget()


@FUZZ
@given(request=requests())
def test_no_request_makes_the_facade_fail(target: FuzzTarget, request: object) -> None:
    status, logged = target.send(request)  # type: ignore[arg-type]
    assert status < 500, (status, request)
    assert not logged, (logged, request)


def test_fuzz_target_reports_a_traceback(
    target: FuzzTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fuzz oracle is not blind: a handler that crashes shows as a 500 with a log line."""
    import cm_sim.handlers as handlers

    def broken(account: object, req: object) -> tuple[int, object]:
        raise KeyError("boom")

    monkeypatch.setattr(handlers, "get_clients", broken)
    from cm_sim import urls

    monkeypatch.setattr(
        target.app_module, "_API", urls.compiled([("GET", r"/clients\.json", broken)])
    )
    status, logged = target.send(("GET", "/api/v3.3/clients.json", {}, None, "key"))
    assert status == 500 and logged
