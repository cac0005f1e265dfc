"""Bulk API 1.0 with XML job information and CSV or XML batches, over raw HTTP."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
import requests

from sf_sim import Org

NS = "{http://www.force.com/2009/06/asyncapi/dataload}"
JOB = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
    "<operation>{operation}</operation><object>{object}</object>{extra}"
    "<contentType>{content}</contentType></jobInfo>"
)


class Bulk:
    """A raw Bulk 1.0 client: what jsforce and Data Loader send."""

    def __init__(self, org: Org) -> None:
        self.http: requests.Session = org.session()
        self.base = f"{org.instance_url}/services/async/59.0"
        self.session_id = org.sessions.open(org.running_user_id)

    def send(self, method: str, path: str, body: str = "", media: str = "") -> requests.Response:
        headers = {"X-SFDC-Session": self.session_id}
        if media:
            headers["Content-Type"] = media
        return self.http.request(method, self.base + path, data=body.encode(), headers=headers)

    def job(
        self, operation: str, content: str = "CSV", obj: str = "Contact", extra: str = ""
    ) -> str:
        reply = self.send(
            "POST",
            "/job",
            JOB.format(operation=operation, object=obj, extra=extra, content=content),
            "application/xml; charset=utf-8",
        )
        assert reply.status_code == 201, reply.text
        return _value(reply, "id")

    def batch(self, job_id: str, data: str, media: str = "text/csv") -> str:
        reply = self.send("POST", f"/job/{job_id}/batch", data, media)
        assert reply.status_code == 201, reply.text
        assert _value(reply, "state") == "Queued"
        return _value(reply, "id")

    def info(self, job_id: str, batch_id: str) -> ET.Element:
        reply = self.send("GET", f"/job/{job_id}/batch/{batch_id}")
        assert reply.status_code == 200 and reply.headers["Content-Type"].startswith(
            "application/xml"
        )
        return ET.fromstring(reply.content)


def _value(reply: requests.Response, name: str) -> str:
    return ET.fromstring(reply.content).findtext(NS + name) or ""


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def bulk(sf_org: Org) -> Bulk:
    return Bulk(sf_org)


def test_xml_job_with_csv_batch_inserts_and_reports_csv_results(sf_org: Org, bulk: Bulk) -> None:
    job_id = bulk.job("insert")
    data = 'LastName,Email,Title\nLee,lee@example.com,#N/A\n"Ng, Jr.",,Chief\n,x@example.com,\n'
    batch_id = bulk.batch(job_id, data)
    info = bulk.info(job_id, batch_id)
    assert info.findtext(NS + "state") == "Completed"
    assert (info.findtext(NS + "numberRecordsProcessed"), info.findtext(NS + "numberRecordsFailed")) == ("3", "1")  # fmt: skip
    results = bulk.send("GET", f"/job/{job_id}/batch/{batch_id}/result")
    assert results.headers["Content-Type"].startswith("text/csv")
    assert results.text.splitlines()[0] == '"Id","Success","Created","Error"'
    rows = _rows(results.text)
    assert [(r["Success"], r["Created"]) for r in rows] == [
        ("true", "true"),
        ("true", "true"),
        ("false", "false"),
    ]
    assert rows[2]["Id"] == "" and rows[2]["Error"].startswith("REQUIRED_FIELD_MISSING:")
    second = sf_org.get("Contact", rows[1]["Id"])
    assert (second["LastName"], second["Email"], second["Title"]) == ("Ng, Jr.", None, "Chief")
    sent = bulk.send("GET", f"/job/{job_id}/batch/{batch_id}/request")
    assert sent.text == data and sent.headers["Content-Type"].startswith("text/csv")
    closed = bulk.send(
        "POST",
        f"/job/{job_id}",
        '<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/'
        'asyncapi/dataload"><state>Closed</state></jobInfo>',
        "application/xml; charset=utf-8",
    )
    assert _value(closed, "state") == "Closed" and _value(closed, "numberRecordsProcessed") == "3"
    assert (
        _value(closed, "contentType") == "CSV" and _value(closed, "concurrencyMode") == "Parallel"
    )


def test_csv_update_upsert_and_delete(sf_org: Org, bulk: Bulk) -> None:
    first = sf_org.create("Contact", {"LastName": "A", "Title": "Old"})
    update = bulk.job("update")
    bulk.batch(update, f"Id,Title\n{first},#N/A\n")
    assert sf_org.get("Contact", first)["Title"] is None
    upsert = bulk.job("upsert", extra="<externalIdFieldName>Id</externalIdFieldName>")
    batch = bulk.batch(upsert, f"Id,LastName\n{first},A2\n,Fresh\n")
    created = [r["Created"] for r in _rows(bulk.send("GET", f"/job/{upsert}/batch/{batch}/result").text)]  # fmt: skip
    assert created == ["false", "true"] and sf_org.get("Contact", first)["LastName"] == "A2"
    delete = bulk.job("delete")
    batch = bulk.batch(delete, f"Id\n{first}\n003000000000000AAA\n")
    rows = _rows(bulk.send("GET", f"/job/{delete}/batch/{batch}/result").text)
    assert [r["Success"] for r in rows] == ["true", "false"]
    assert sf_org.count("Contact") == 1 and sf_org.count("Contact", include_deleted=True) == 2


def test_csv_query_lists_result_ids_in_xml_and_pages_in_csv(sf_org: Org, bulk: Bulk) -> None:
    account = sf_org.create("Account", {"Name": "Acme"})
    sf_org.create("Contact", {"LastName": "Lee", "AccountId": account, "Birthdate": "1990-01-02"})
    sf_org.create("Contact", {"LastName": "Ng"})
    job_id = bulk.job("query")
    batch_id = bulk.batch(
        job_id,
        "SELECT LastName, Birthdate, CreatedDate, Account.Name FROM Contact ORDER BY LastName",
    )
    listed = bulk.send("GET", f"/job/{job_id}/batch/{batch_id}/result")
    root = ET.fromstring(listed.content)
    assert root.tag == NS + "result-list"
    [result_id] = [element.text for element in root.findall(NS + "result")]
    page = bulk.send("GET", f"/job/{job_id}/batch/{batch_id}/result/{result_id}")
    assert page.headers["Content-Type"].startswith("text/csv")
    assert page.text.splitlines()[0] == '"LastName","Birthdate","CreatedDate","Account.Name"'
    rows = _rows(page.text)
    assert rows[0]["Birthdate"] == "1990-01-02" and rows[0]["Account.Name"] == "Acme"
    assert rows[0]["CreatedDate"].endswith(".000Z") and rows[1]["Account.Name"] == ""


def test_csv_query_with_a_child_subquery_fails_the_batch(sf_org: Org, bulk: Bulk) -> None:
    job_id = bulk.job("query", obj="Account")
    batch_id = bulk.batch(job_id, "SELECT Name, (SELECT LastName FROM Contacts) FROM Account")
    info = bulk.info(job_id, batch_id)
    assert info.findtext(NS + "state") == "Failed"
    assert (info.findtext(NS + "stateMessage") or "").startswith(
        "FeatureNotEnabled : Aggregate Relationships not supported in Bulk Query"
    )
    refused = bulk.send("GET", f"/job/{job_id}/batch/{batch_id}/result")
    assert refused.status_code == 400 and _value(refused, "exceptionCode") == "InvalidBatch"


def test_xml_batches_insert_and_query_in_xml(sf_org: Org, bulk: Bulk) -> None:
    job_id = bulk.job("insert", content="XML")
    data = (
        '<?xml version="1.0" encoding="UTF-8"?><sObjects xmlns="http://www.force.com/2009/06/'
        'asyncapi/dataload" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<sObject><LastName>Xml</LastName><Title xsi:nil="true"/></sObject>'
        "<sObject><FirstName>NoLast</FirstName></sObject></sObjects>"
    )
    batch_id = bulk.batch(job_id, data, "application/xml")
    results = ET.fromstring(bulk.send("GET", f"/job/{job_id}/batch/{batch_id}/result").content)
    found = results.findall(NS + "result")
    assert [r.findtext(NS + "success") for r in found] == ["true", "false"]
    assert found[1].findtext(f"{NS}errors/{NS}statusCode") == "REQUIRED_FIELD_MISSING"
    query = bulk.job("query", content="XML")
    batch_id = bulk.batch(query, "SELECT Id, LastName, Title FROM Contact", "application/xml")
    [result_id] = [
        element.text
        for element in ET.fromstring(
            bulk.send("GET", f"/job/{query}/batch/{batch_id}/result").content
        )
    ]
    page = ET.fromstring(bulk.send("GET", f"/job/{query}/batch/{batch_id}/result/{result_id}").content)  # fmt: skip
    [record] = page.findall(NS + "records")
    assert record.findtext(NS + "type") == "Contact" and record.findtext(NS + "LastName") == "Xml"
    title = record.find(NS + "Title")
    assert title is not None
    assert title.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("LastName,Nope__c\nA,b\n", "InvalidBatch : Field name not found : Nope__c"),
        ("LastName\nA,extra\n", "InvalidBatch : Row 2 has 2 values but the header has 1 columns"),
        ("LastName,LastName\nA,B\n", "InvalidBatch : Invalid CSV header: LastName"),
        ("", "InvalidBatch : Records not found: the CSV has no header row"),
        (
            "LastName\n\x00\n",
            "InvalidBatch : Failed to parse CSV: the data contains a null character",
        ),
    ],
    ids=["unknown-column", "too-many-values", "repeated-column", "empty", "nul"],
)
def test_unreadable_csv_fails_the_batch_and_writes_nothing(
    sf_org: Org, bulk: Bulk, data: str, message: str
) -> None:
    job_id = bulk.job("insert")
    info = bulk.info(job_id, bulk.batch(job_id, data))
    assert info.findtext(NS + "state") == "Failed"
    assert info.findtext(NS + "stateMessage") == message
    assert sf_org.count("Contact") == 0


def test_non_utf8_and_hostile_xml_fail_the_batch(sf_org: Org, bulk: Bulk) -> None:
    job_id = bulk.job("insert")
    reply = bulk.send("POST", f"/job/{job_id}/batch", "", "text/csv")
    assert reply.status_code == 201
    reply = bulk.http.post(
        f"{bulk.base}/job/{job_id}/batch",
        data="LastName\nM\xfcller\n".encode("latin-1"),
        headers={"X-SFDC-Session": bulk.session_id, "Content-Type": "text/csv"},
    )
    info = bulk.info(job_id, _value(reply, "id"))
    assert info.findtext(NS + "stateMessage") == "InvalidBatch : CSV data must be UTF-8"
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">'
        "]><sObjects><sObject><LastName>&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;</LastName></sObject></sObjects>"
    )
    xml_job = bulk.job("insert", content="XML")
    info = bulk.info(xml_job, bulk.batch(xml_job, laughs, "application/xml"))
    assert info.findtext(NS + "state") == "Failed"
    assert "DOCTYPE is not allowed" in (info.findtext(NS + "stateMessage") or "")
    assert sf_org.count("Contact") == 0


def test_job_mistakes_are_xml_errors(bulk: Bulk) -> None:
    bad_xml = bulk.send("POST", "/job", "<jobInfo><operation>insert", "application/xml")
    assert bad_xml.status_code == 400 and _value(bad_xml, "exceptionCode") == "InvalidXML"
    entity = bulk.send(
        "POST",
        "/job",
        '<?xml version="1.0"?><!DOCTYPE j [<!ENTITY o SYSTEM "file:///etc/passwd">]>'
        "<jobInfo><operation>insert</operation><object>&o;</object></jobInfo>",
        "application/xml",
    )
    assert entity.status_code == 400 and _value(entity, "exceptionCode") == "InvalidXML"
    zipped = bulk.send(
        "POST",
        "/job",
        JOB.format(operation="insert", object="Contact", extra="", content="ZIP_CSV"),
        "application/xml",
    )
    assert zipped.status_code == 400 and _value(zipped, "exceptionCode") == "InvalidJob"
    job_id = bulk.job("insert")
    wrong_media = bulk.send("POST", f"/job/{job_id}/batch", "[]", "application/json")
    assert wrong_media.status_code == 400 and _value(wrong_media, "exceptionCode") == "InvalidBatch"
    huge = bulk.send("POST", f"/job/{job_id}/batch", "LastName\n" + "x\n" * 5_000_001, "text/csv")
    assert huge.status_code == 400 and "10000000" in _value(huge, "exceptionMessage")
    bulk.session_id = "00Dnonsense"
    expired = bulk.send("GET", f"/job/{job_id}")
    assert expired.status_code == 400
    assert expired.headers["Content-Type"].startswith("application/xml")
    assert b"<exceptionCode>InvalidSessionId</exceptionCode>" in expired.content


def test_batch_list_is_xml_for_a_csv_job(bulk: Bulk) -> None:
    job_id = bulk.job("insert")
    first = bulk.batch(job_id, "LastName\nA\n")
    second = bulk.batch(job_id, "LastName\nB\n")
    listed = ET.fromstring(bulk.send("GET", f"/job/{job_id}/batch").content)
    assert listed.tag == NS + "batchInfoList"
    assert [b.findtext(NS + "id") for b in listed.findall(NS + "batchInfo")] == [first, second]
