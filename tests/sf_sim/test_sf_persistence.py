from __future__ import annotations

from pathlib import Path

import pytest
from simple_salesforce.api import Salesforce

from cmsf_core.clock import VirtualClock
from sf_sim import Org
from sf_sim.exceptions import SfSimError


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
    username, password, token = first.admin_credentials()
    first.close()
    second = Org(path)
    sf = Salesforce(
        username=username, password=password, security_token=token, session=second.session()
    )
    assert sf.query("SELECT COUNT() FROM Organization")["totalSize"] == 1
    assert second.client().query("SELECT COUNT() FROM Organization")["totalSize"] == 1


def test_org_file_keeps_only_hashes_of_credentials(tmp_path: Path) -> None:
    path = tmp_path / "org.sqlite"
    first = Org(path)
    _, password, token = first.admin_credentials()
    with first.store.lock:
        session_id = first.sessions.open(first.running_user_id)
    first.close()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (password, token, session_id, session_id.split("!", 1)[1]):
        assert secret.encode() not in data
    second = Org(path)
    with pytest.raises(SfSimError, match="not kept in the org file"):
        second.admin_credentials()
    assert second.sessions.authenticate(session_id) == second.running_user_id


def test_a_file_with_raw_credentials_loses_them_on_open(tmp_path: Path) -> None:
    path = tmp_path / "org.sqlite"
    first = Org(path)
    _, password, token = first.admin_credentials()
    first.store.set_meta("admin_credentials", [password, token])  # as older versions kept them
    first.close()
    second = Org(path)
    assert second.admin_credentials()[1:] == (password, token)
    assert second.store.meta("admin_credentials") is None
    second.close()
    third = Org(path)
    assert third.admin_secret is None


def test_unopenable_path_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from sf_sim.store import StoreError

    with pytest.raises(StoreError, match="cannot open the org database"):
        Org(tmp_path / "missing" / "org.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database, just some text" * 100)
    with pytest.raises(StoreError, match="cannot open the org database"):
        Org(junk)
