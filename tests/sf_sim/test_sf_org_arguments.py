from __future__ import annotations

from datetime import timedelta

import pytest

from sf_sim import Org


@pytest.mark.parametrize(
    "name", ["", "has space", "dot.ted", "x/y"], ids=["empty", "space", "dot", "slash"]
)
def test_org_name_must_be_a_host_label(name: str) -> None:
    with pytest.raises(ValueError, match="host name"):
        Org(name=name)


def test_negative_api_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Org(api_limit=-5)


def test_zero_session_idle_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        Org(session_idle=timedelta(0))


@pytest.mark.parametrize(
    "name", ["", "has space", "waytoolongname"], ids=["empty", "space", "too-long"]
)
def test_sandbox_name_is_validated(name: str) -> None:
    with pytest.raises(ValueError, match="sandbox name"):
        Org().refresh_sandbox(name)


def test_lock_needs_a_target_and_a_duration() -> None:
    org = Org()
    with pytest.raises(ValueError, match="records or an object_name"):
        org.control.lock(attempts=1)
    with pytest.raises(ValueError, match="attempts or until"):
        org.control.lock(object_name="Contact")


def test_unknown_permission_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown permissions"):
        Org().control.set_object_permissions("Contact", fly=True)


def test_set_password_for_unknown_user_is_refused_without_echoing_the_password() -> None:
    with pytest.raises(ValueError) as exc:
        Org().sessions.set_password("ghost@example.com", "hunter2")
    assert "hunter2" not in str(exc.value)
