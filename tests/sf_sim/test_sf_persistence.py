from __future__ import annotations

from pathlib import Path

from cmsf_core.clock import VirtualClock
from sf_sim import Org


def test_reopened_org_keeps_identity_records_limits_and_schema(
    tmp_path: Path, metadata_dir: Path
) -> None:
    path = tmp_path / "org.sqlite"
    clock = VirtualClock()
    org = Org(path, clock=clock, metadata=[metadata_dir], api_limit=500)
    list_id = org.create("CMSF_List__c", {"Name": "Kept", "ListId__c": "L-1"})
    org.client().query("SELECT Id FROM Contact")
    org_id, used = org.org_id, org.limits.used()
    org.close()

    again = Org(path, clock=clock)
    assert again.org_id == org_id
    assert again.get("CMSF_List__c", list_id)["ListId__c"] == "L-1"
    assert again.limits.daily_limit == 500 and again.limits.used() == used
    new_id = again.create("CMSF_List__c", {"Name": "New", "ListId__c": "L-2"})
    assert new_id != list_id and new_id > list_id
    assert again.client().CMSF_List__c.describe()["keyPrefix"] == "a00"


def test_reopened_org_accepts_the_same_credentials(tmp_path: Path) -> None:
    path = tmp_path / "org.sqlite"
    first = Org(path)
    credentials = first.admin_credentials()
    first.close()
    second = Org(path)
    assert second.admin_credentials() == credentials
    assert second.client().query("SELECT COUNT() FROM Organization")["totalSize"] == 1


def test_unopenable_path_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from sf_sim.store import StoreError

    with pytest.raises(StoreError, match="cannot open the org database"):
        Org(tmp_path / "missing" / "org.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database, just some text" * 100)
    with pytest.raises(StoreError, match="cannot open the org database"):
        Org(junk)
