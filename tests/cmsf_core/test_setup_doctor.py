"""``cmsf setup`` and ``cmsf doctor`` against an org without the data model (in process)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from cm_sim import Account
from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import VirtualClock
from cmsf_core.doctor import FAIL, PASS, Report, run_doctor
from cmsf_core.engine import Engine
from cmsf_core.setup import DeployFailedError, setup_org
from cmsf_core.state import Journal
from sf_sim import Org


@pytest.fixture
def empty_org(clock: VirtualClock) -> Iterator[Org]:
    org = Org(clock=clock)
    yield org
    org.close()


@pytest.fixture
def account(clock: VirtualClock) -> Iterator[Account]:
    acct = Account(clock=clock, seed=1, test_account=False)
    acct.create_client("Acme")
    yield acct
    acct.close()


def _engine(org: Org, account: Account, clock: VirtualClock, key: str | None = None) -> Engine:
    return Engine(
        salesforce=org.client,
        campaign_monitor=lambda: CampaignMonitorClient(
            api_key=key or account.api_key, transport=account.transport(), clock=clock
        ),
        journal=Journal(),
        clock=clock,
    )


def _check(report: Report, name: str) -> tuple[str, str, str]:
    found = [c for c in report.checks if c.name == name]
    assert found, [c.name for c in report.checks]
    return found[0].status, found[0].detail, found[0].fix


def test_setup_deploys_the_model_and_assigns_full_access_once(
    empty_org: Org, account: Account, clock: VirtualClock
) -> None:
    engine = _engine(empty_org, account, clock)
    first = setup_org(engine.gateway(), clock)
    assert first.deploy_id and first.deployed > 20 and first.assigned
    assert "CMSF_List__c" in first.missing_objects
    assert empty_org.schema.object("CMSF_List_Member__c") is not None
    rows = empty_org.query(
        "SELECT Assignee.Username FROM PermissionSetAssignment "
        "WHERE PermissionSet.Name = 'CMSF_Full_Access'"
    )
    assert [r["Assignee"]["Username"] for r in rows] == [empty_org.admin_username]
    second = setup_org(engine.gateway(), clock)
    assert not second.changed and second.deploy_id is None
    assert empty_org.count("PermissionSetAssignment") == 1


def test_setup_reports_every_component_failure(
    empty_org: Org, account: Account, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import zipfile

    from cmsf_core import setup as setup_module
    from cmsf_core.metadata_package import Package, build_package

    good = build_package()
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good.data)) as source, zipfile.ZipFile(buffer, "w") as out:
        for name in source.namelist():
            data = source.read(name)
            if name == "objects/CMSF_List__c.object":
                data = data.replace(b"<type>Number</type>", b"<type>Decimal</type>", 1)
            out.writestr(name, data)
    monkeypatch.setattr(
        setup_module, "build_package", lambda: Package(buffer.getvalue(), "59.0", good.members)
    )
    with pytest.raises(DeployFailedError) as failed:
        setup_org(_engine(empty_org, account, clock).gateway(), clock)
    assert failed.value.state == "Failed"
    assert any("objects/CMSF_List__c.object" in f and "Decimal" in f for f in failed.value.failures)
    assert empty_org.schema.object("CMSF_Client__c") is None  # all or nothing


def _length(org: Org, object_name: str, field_name: str) -> int:
    definition = org.schema.object(object_name)
    assert definition is not None
    field = definition.field(field_name)
    assert field is not None
    return field.length


def test_setup_updates_fields_an_older_version_deployed_shorter(
    empty_org: Org, account: Account, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgrade that lengthens a field: doctor says the model is older, setup deploys it."""
    import io
    import zipfile

    from cmsf_core import setup as setup_module
    from cmsf_core.metadata_package import Package, build_package

    current = build_package()
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(current.data)) as source, zipfile.ZipFile(buffer, "w") as out:
        for name in source.namelist():
            data = source.read(name)
            if name == "objects/CMSF_List__c.object":
                field = data.index(b"<fullName>Lead_Company__c</fullName>")
                cut = data.index(b"<length>255</length>", field)
                data = data[:cut] + b"<length>80</length>" + data[cut + 20 :]
            out.writestr(name, data)
    older = Package(buffer.getvalue(), current.api_version, current.members)
    monkeypatch.setattr(setup_module, "build_package", lambda: older)
    engine = _engine(empty_org, account, clock)
    setup_org(engine.gateway(), clock)
    assert _length(empty_org, "CMSF_List__c", "Lead_Company__c") == 80
    engine.connect(test_account=False)
    status, detail, fix = _check(run_doctor(_engine(empty_org, account, clock)), "data model")
    assert (
        status == FAIL
        and "CMSF_List__c.Lead_Company__c (length 80, this version has 255)" in detail
    )
    assert "cmsf setup" in fix

    monkeypatch.setattr(setup_module, "build_package", lambda: current)
    upgrade = setup_org(_engine(empty_org, account, clock).gateway(), clock)
    assert upgrade.deploy_id and upgrade.changed_fields == [
        "CMSF_List__c.Lead_Company__c (length 80, this version has 255)"
    ]
    assert _length(empty_org, "CMSF_List__c", "Lead_Company__c") == 255
    again = setup_org(_engine(empty_org, account, clock).gateway(), clock)
    assert again.deploy_id is None and not again.changed_fields
    status, _, _ = _check(run_doctor(_engine(empty_org, account, clock)), "data model")
    assert status == PASS


def _ready(org: Org, account: Account, clock: VirtualClock) -> Engine:
    engine = _engine(org, account, clock)
    setup_org(engine.gateway(), clock)
    engine.connect(test_account=False)
    return engine


def test_doctor_passes_on_a_ready_org(
    empty_org: Org, account: Account, clock: VirtualClock
) -> None:
    report = run_doctor(_ready(empty_org, account, clock))
    assert not report.failed, [(c.name, c.detail) for c in report.checks if c.status != PASS]
    names = [c.name for c in report.checks]
    assert names == [
        "login", "API budget", "permission queries", "data model", "object and field access",
        "sync user", "apex queue", "data storage", "journal", "bulk API jobs", "Campaign Monitor",
        "sandbox safety",
    ]  # fmt: skip


def test_doctor_fails_when_the_objects_are_not_deployed(
    empty_org: Org, account: Account, clock: VirtualClock
) -> None:
    report = run_doctor(_engine(empty_org, account, clock))
    status, detail, fix = _check(report, "data model")
    assert status == FAIL and "CMSF_List__c" in detail and "cmsf setup" in fix


def test_doctor_fails_without_the_permission_set(
    empty_org: Org, account: Account, clock: VirtualClock
) -> None:
    engine = _ready(empty_org, account, clock)
    empty_org.delete([r["Id"] for r in empty_org.query("SELECT Id FROM PermissionSetAssignment")])
    status, detail, fix = _check(run_doctor(engine), "sync user")
    assert status == FAIL and "CMSF_Full_Access" in detail and "cmsf setup" in fix


def test_doctor_fails_for_a_missing_object_permission(
    empty_org: Org, account: Account, clock: VirtualClock
) -> None:
    engine = _ready(empty_org, account, clock)
    empty_org.control.set_object_permissions("CampaignMember", edit=False)
    status, detail, fix = _check(run_doctor(engine), "object and field access")
    assert status == FAIL and "CampaignMember: no edit permission" in detail
    assert "grant Edit on CampaignMember" in fix


def test_doctor_fails_for_a_hidden_field(
    empty_org: Org, account: Account, clock: VirtualClock
) -> None:
    engine = _ready(empty_org, account, clock)
    empty_org.control.hide_field("Contact", "HasOptedOutOfEmail")
    status, detail, fix = _check(run_doctor(engine), "object and field access")
    assert status == FAIL and "Contact.HasOptedOutOfEmail hidden" in detail
    assert "field-level security" in fix


def test_doctor_fails_for_a_sandbox_connected_to_a_live_account(
    empty_org: Org, account: Account, clock: VirtualClock
) -> None:
    _ready(empty_org, account, clock)
    sandbox = empty_org.refresh_sandbox("uat")
    try:
        status, detail, fix = _check(run_doctor(_engine(sandbox, account, clock)), "sandbox safety")
    finally:
        sandbox.close()
    assert status == FAIL and "sandbox" in detail and "test account" in fix


def test_doctor_fails_for_stale_apex_token_jobs(
    empty_org: Org, account: Account, clock: VirtualClock
) -> None:
    engine = _ready(empty_org, account, clock)
    job = empty_org.apex.inject_stuck("TokenJob", job_type="ApexToken", status="Queued")
    clock.advance(hours=2)
    status, detail, fix = _check(run_doctor(engine), "apex queue")
    assert status == FAIL and str(job)[:15] in detail and "Salesforce Support" in fix


def test_doctor_fails_when_the_api_budget_is_nearly_spent(
    empty_org: Org, account: Account, clock: VirtualClock
) -> None:
    engine = _ready(empty_org, account, clock)
    empty_org.limits.charge(int(empty_org.limits.daily_limit * 0.95))
    status, detail, fix = _check(run_doctor(engine), "API budget")
    assert status == FAIL and "95%" in detail and "24-hour" in fix


def test_doctor_fails_for_a_wrong_campaign_monitor_key(
    empty_org: Org, account: Account, clock: VirtualClock
) -> None:
    _ready(empty_org, account, clock)
    report = run_doctor(_engine(empty_org, account, clock, key="not-the-key"))
    status, detail, fix = _check(report, "Campaign Monitor")
    assert status == FAIL and "refused" in detail and "CMSF_CM_API_KEY" in fix
    assert "not-the-key" not in str(report.to_json())


def test_doctor_warns_when_the_journal_belongs_to_another_org(
    empty_org: Org, account: Account, clock: VirtualClock
) -> None:
    engine = _ready(empty_org, account, clock)
    engine.journal.bind("00D000000000001AAA", "x", clock.now() - timedelta(days=1))
    status, detail, _ = _check(run_doctor(engine), "journal")
    assert status == "warn" and "00D000000000001" in detail


def test_uninstall_removes_the_data_then_the_model_and_setup_reinstalls(
    empty_org: Org, account: Account, clock: VirtualClock
) -> None:
    from cmsf_core.uninstall import uninstall

    engine = _ready(empty_org, account, clock)
    engine.sync()
    contacts = empty_org.count("Contact")
    assert empty_org.count("CMSF_Settings__c") == 1
    report = uninstall(engine.gateway(), clock)
    assert report.records["CMSF_Settings__c"] == 1 and report.assignments == 1
    assert empty_org.count("CMSF_List__c") == 0 and empty_org.count("Contact") == contacts
    uninstall(engine.gateway(), clock, metadata=True)
    assert empty_org.schema.object("CMSF_List__c") is None
    campaign = empty_org.schema.object("Campaign")
    assert campaign is not None and campaign.field("CMSF_Num_Opens__c") is None
    assert empty_org.query("SELECT Name FROM PermissionSet WHERE Name LIKE 'CMSF%'") == []
    status, _, _ = _check(run_doctor(_engine(empty_org, account, clock)), "data model")
    assert status == FAIL
    again = setup_org(_engine(empty_org, account, clock).gateway(), clock)
    assert again.deploy_id and again.assigned


def test_a_destructive_deploy_of_an_assigned_permission_set_is_refused(
    empty_org: Org, account: Account, clock: VirtualClock
) -> None:
    from cmsf_core.uninstall import destructive_package

    engine = _ready(empty_org, account, clock)
    gateway = engine.gateway()
    status = gateway.deploy_status(gateway.deploy(destructive_package()))
    assert status["state"] == "Failed"
    messages = [e["message"] for e in status["deployment_detail"]["errors"]]  # type: ignore[index]
    assert any("assigned to users" in m for m in messages)
    assert empty_org.schema.object("CMSF_List__c") is not None  # all or nothing
