"""cm_sim's own Campaign Monitor time zones, checked against the reference list of names."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cm_sim import Account
from cm_sim.zones import WINDOWS_ZONES, fixed_offset, standard_offset, zone_for

REFERENCE = Path(__file__).parent / "fixtures" / "timezones.json"
NAMES: list[str] = json.loads(REFERENCE.read_text("utf-8"))


def test_every_reference_name_has_a_zone() -> None:
    assert sorted(WINDOWS_ZONES) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_zone_keeps_the_offset_its_name_states(name: str) -> None:
    # The names date from before 2011; their zones kept exactly the stated standard
    # offset then (places that moved later, such as Minsk or Caracas, did so after).
    stated = fixed_offset(name)
    assert stated is not None
    assert standard_offset(zone_for(name), 2010) == stated.utcoffset(None)


def test_sydney_observes_daylight_saving() -> None:
    zone = zone_for("(GMT+10:00) Canberra, Melbourne, Sydney")
    january = datetime(2026, 1, 15, tzinfo=UTC).astimezone(zone)
    july = datetime(2026, 7, 15, tzinfo=UTC).astimezone(zone)
    assert january.utcoffset() == timedelta(hours=11)
    assert july.utcoffset() == timedelta(hours=10)


def test_unknown_name_falls_back_to_its_prefix() -> None:
    zone = zone_for("(GMT+05:30) Somewhere new")
    assert datetime(2026, 1, 1, tzinfo=zone).utcoffset() == timedelta(hours=5, minutes=30)


@pytest.mark.parametrize("name", ["Sydney", "", "GMT+10", "(GMT+1:00) x"], ids=repr)
def test_name_without_prefix_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a Campaign Monitor time zone"):
        zone_for(name)


def test_cm_sim_does_not_import_the_engines_time_code() -> None:
    package = Path(__file__).resolve().parents[2] / "cm_sim"
    for source in package.rglob("*.py"):
        tree = ast.parse(source.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("cmsf_core.cm_time"), source.name
            if isinstance(node, ast.Import):
                assert all(not a.name.startswith("cmsf_core.cm_time") for a in node.names)


def test_wire_dates_follow_daylight_saving(account: Account) -> None:
    client_id = account.create_client("Sydney Co", "(GMT+10:00) Canberra, Melbourne, Sydney")
    list_id = account.create_list(client_id, "Summer")
    summer = datetime(2026, 1, 10, 1, 30, tzinfo=UTC)
    account.clock.set(summer)  # type: ignore[attr-defined]
    account.add_subscriber_at(list_id, "ann@example.com", "Ann")
    with account.client() as http:
        rows = http.get(f"/lists/{list_id}/active.json").json()["Results"]
        # 01:30 UTC is 12:30 in Sydney in January (AEDT, +11)
        assert rows[0]["Date"] == "2026-01-10 12:30:00"
        later = http.get(
            f"/lists/{list_id}/active.json", params={"date": "2026-01-10 12:31"}
        ).json()
        assert later["Results"] == []
