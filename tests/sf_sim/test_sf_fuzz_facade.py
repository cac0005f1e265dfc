"""Fuzzing the Salesforce facade: no request gets a 5xx the platform would not send, nor a traceback.

The platform answers 5xx in one place here: SOAP faults (HTTP 500 with an XML fault).
``python -m sf_sim.fuzz`` runs the same property with many more examples.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from sf_sim.fuzz import FuzzRequest, FuzzTarget, requests

FUZZ = settings(max_examples=150, deadline=None, database=None)


@pytest.fixture(scope="module")
def target() -> FuzzTarget:
    return FuzzTarget()


@FUZZ
@given(request=requests())
def test_no_request_makes_the_facade_fail(target: FuzzTarget, request: FuzzRequest) -> None:
    status, platform_5xx, logged = target.send(request)
    assert status < 500 or platform_5xx, (status, ascii(request)[:500])
    assert not logged, (logged, ascii(request)[:500])


def test_fuzz_target_sees_a_crash(target: FuzzTarget, monkeypatch: pytest.MonkeyPatch) -> None:
    """The oracle is not blind: a handler that crashes shows as a JSON 500 with a log line."""
    import sf_sim.handlers as handlers

    def broken(ctx: object) -> object:
        raise KeyError("boom")

    from sf_sim import urls

    routes = tuple(
        urls.Route(r.method, r.pattern, broken, r.auth, r.cost, r.composable, r.bulk1, r.json_body)
        if r.handler is handlers.limits
        else r
        for r in urls.ROUTES
    )
    monkeypatch.setattr("sf_sim.app.ROUTES", routes)
    status, platform_5xx, logged = target.send(
        ("GET", "/services/data/v59.0/limits", {}, None, "", "valid")
    )
    assert (status, platform_5xx) == (500, False) and logged


@pytest.mark.parametrize("index", range(len(__import__("sf_sim.urls").urls.ROUTES)))
def test_every_route_draws_plain_paths(target: FuzzTarget, index: int) -> None:
    """A route's drawn paths are plain text: no regex syntax of its pattern leaks into them."""
    from hypothesis import find

    from sf_sim import urls
    from sf_sim.fuzz import _path_strategy

    pattern = urls.ROUTES[index].pattern.pattern
    path = find(_path_strategy(pattern), lambda _: True)
    path = path.format(**target.ids) if "{" in path else path
    assert not set(path) & set("()[]{}*?+|^$\\"), (pattern, path)
