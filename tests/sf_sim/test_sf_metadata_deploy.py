"""Metadata API deploys through simple-salesforce's metadata client (SOAP deploy + checkDeployStatus)."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest
from simple_salesforce.api import Salesforce

from cmsf_core.metadata_package import build_package
from sf_sim import Org
from sf_sim.transport import call_wsgi

NS = "http://soap.sforce.com/2006/04/metadata"


def _zip(files: dict[str, str]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    buffer.seek(0)
    return buffer


def _deploy(sf: Salesforce, data: io.BytesIO, *, sandbox: bool = False) -> dict[str, object]:
    started = sf.deploy(data, sandbox=sandbox)
    assert started["state"] == "Queued" and str(started["asyncId"]).startswith("0Af")
    return dict(sf.checkDeployStatus(str(started["asyncId"])))


def test_deploying_the_data_model_creates_objects_fields_and_permission_sets(sf_org: Org) -> None:
    package = build_package()
    with sf_org.activate() as sf:
        result = _deploy(sf, io.BytesIO(package.data))
        assert result["state"] == "Succeeded", result
        detail = result["deployment_detail"]
        assert detail["failed_count"] == "0"  # type: ignore[index]
        assert int(detail["deployed_count"]) == int(detail["total_count"]) > 20  # type: ignore[index]
        sf.CMSF_List__c.create({"Name": "Newsletter", "CM_Id__c": "l1"})
        assert sf.query("SELECT Name FROM CMSF_List__c")["records"][0]["Name"] == "Newsletter"
        names = {r["Name"] for r in sf.query("SELECT Name FROM PermissionSet")["records"]}
        assert {"CMSF_Full_Access", "CMSF_Standard_Access", "CMSF_Limited_Access"} <= names
        fields = {f["name"] for f in sf.Campaign.describe()["fields"]}
        assert "CMSF_Num_Opens__c" in fields


def test_a_second_deploy_changes_nothing(sf_org: Org) -> None:
    package = build_package()
    with sf_org.activate() as sf:
        _deploy(sf, io.BytesIO(package.data))
        before = sf.query("SELECT Id, Name FROM PermissionSet")["records"]
        again = _deploy(sf, io.BytesIO(package.data))
        assert again["state"] == "Succeeded"
        assert sf.query("SELECT Id, Name FROM PermissionSet")["records"] == before


def test_a_bad_component_fails_the_deploy_and_rolls_everything_back(sf_org: Org) -> None:
    files = {
        "package.xml": f'<Package xmlns="{NS}"><version>59.0</version></Package>',
        "objects/Good__c.object": f'<CustomObject xmlns="{NS}"><label>Good</label>'
        "<nameField><label>Name</label><type>Text</type></nameField>"
        "<pluralLabel>Goods</pluralLabel></CustomObject>",
        "objects/Bad__c.object": f'<CustomObject xmlns="{NS}"><label>Bad</label>'
        "<nameField><label>Name</label><type>Text</type></nameField>"
        "<fields><fullName>Size__c</fullName><label>Size</label><type>Number</type>"
        "<precision>40</precision><scale>0</scale></fields></CustomObject>",
    }
    with sf_org.activate() as sf:
        result = _deploy(sf, _zip(files))
        assert result["state"] == "Failed"
        errors = result["deployment_detail"]["errors"]  # type: ignore[index]
        assert [e["file"] for e in errors] == ["objects/Bad__c.object"]
        assert "precision 40" in errors[0]["message"]
    assert sf_org.schema.object("Good__c") is None


def test_without_rollback_the_good_components_are_applied(sf_org: Org) -> None:
    files = {
        "package.xml": f'<Package xmlns="{NS}"><version>59.0</version></Package>',
        "objects/Good__c.object": f'<CustomObject xmlns="{NS}"><label>Good</label>'
        "<nameField><label>Name</label><type>Text</type></nameField></CustomObject>",
        "flows/Thing.flow": "<Flow/>",
    }
    with sf_org.activate() as sf:
        result = _deploy(sf, _zip(files), sandbox=True)
    assert result["state"] == "SucceededPartial"
    assert "Unknown type name" in result["deployment_detail"]["errors"][0]["message"]  # type: ignore[index]
    assert sf_org.schema.object("Good__c") is not None


def _envelope(operation: str, inner: str, session: str) -> bytes:
    return (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:met="{NS}"><soapenv:Header><met:SessionHeader><met:sessionId>{session}'
        f"</met:sessionId></met:SessionHeader></soapenv:Header><soapenv:Body><met:{operation}>"
        f"{inner}</met:{operation}></soapenv:Body></soapenv:Envelope>"
    ).encode()


@pytest.mark.parametrize(
    ("operation", "inner", "fault"),
    [
        ("deploy", "<met:ZipFile>not base64!</met:ZipFile>", "INVALID_ZIP"),
        (
            "deploy",
            f"<met:ZipFile>{base64.b64encode(b'not a zip').decode()}</met:ZipFile>",
            "INVALID_ZIP",
        ),
        ("deploy", "", "INVALID_ZIP"),
        (
            "checkDeployStatus",
            "<met:asyncProcessId>0Af000000000000AAA</met:asyncProcessId>",
            "INVALID_ID_FIELD",
        ),
        ("describeMetadata", "", "UNKNOWN_EXCEPTION"),
    ],
    ids=["bad-base64", "not-a-zip", "no-zip", "unknown-deploy", "not-modelled"],
)
def test_malformed_metadata_calls_answer_soap_faults(
    sf_org: Org, operation: str, inner: str, fault: str
) -> None:
    session = sf_org.sessions.open(sf_org.running_user_id)
    status, _, body = call_wsgi(
        sf_org.app, "POST", "https://acme.my.salesforce.com/services/Soap/m/59.0",
        {"Content-Type": "text/xml", "SOAPAction": operation}, _envelope(operation, inner, session),
    )  # fmt: skip
    assert status == 500 and f"<faultcode>sf:{fault}</faultcode>".encode() in body


def test_a_metadata_call_without_a_valid_session_is_refused(sf_org: Org) -> None:
    status, _, body = call_wsgi(
        sf_org.app, "POST", "https://acme.my.salesforce.com/services/Soap/m/59.0",
        {"Content-Type": "text/xml"}, _envelope("checkDeployStatus", "", "00Dbogus!AQ"),
    )  # fmt: skip
    assert status == 500 and b"sf:INVALID_SESSION_ID" in body
