"""The org's Bulk API queue: jobs wait their turn and take time on the virtual clock."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
import requests

from cmsf_core.clock import VirtualClock
from sf_sim import Org


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def org(clock: VirtualClock) -> Org:
    return Org(clock=clock)


class Raw:
    """Raw Bulk API 2.0 requests through the org's own session (what any client sends)."""

    def __init__(self, org: Org) -> None:
        self.session: requests.Session = org.session()
        sid = org.sessions.open(org.running_user_id)
        self.base = f"{org.instance_url}/services/data/v59.0/jobs"
        self.headers = {"Authorization": f"Bearer {sid}"}

    def ingest(self, csv_text: str, obj: str = "Contact") -> str:
        job = self.session.post(
            f"{self.base}/ingest",
            json={"object": obj, "operation": "insert", "lineEnding": "LF"},
            headers=self.headers,
        ).json()
        upload = self.session.put(
            f"{self.base}/ingest/{job['id']}/batches",
            data=csv_text,
            headers={**self.headers, "Content-Type": "text/csv"},
        )
        assert upload.status_code == 201
        closed = self.session.patch(
            f"{self.base}/ingest/{job['id']}",
            json={"state": "UploadComplete"},
            headers=self.headers,
        )
        assert closed.status_code == 200
        return str(job["id"])

    def state(self, job_id: str, kind: str = "ingest") -> dict[str, Any]:
        reply = self.session.get(f"{self.base}/{kind}/{job_id}", headers=self.headers)
        assert reply.status_code == 200
        return dict(reply.json())

    def get(self, path: str) -> requests.Response:
        return self.session.get(f"{self.base}/{path}", headers=self.headers)


def test_a_quiet_org_completes_a_job_when_it_is_closed(org: Org) -> None:
    raw = Raw(org)
    job = raw.ingest("LastName\nA\nB\n")
    info = raw.state(job)
    assert info["state"] == "JobComplete" and info["numberRecordsProcessed"] == 2
    assert org.count("Contact") == 2


def test_a_busy_queue_keeps_a_job_upload_complete_then_in_progress(
    org: Org, clock: VirtualClock
) -> None:
    org.bulk.queue.seconds_per_batch = 600
    other = org.bulk.add_foreign_job(timedelta(minutes=30))
    raw = Raw(org)
    job = raw.ingest("LastName\nA\n")
    assert raw.state(job)["state"] == "UploadComplete"
    assert org.count("Contact") == 0
    clock.advance(minutes=31)
    assert raw.state(job)["state"] == "InProgress"
    assert raw.state(other.id)["state"] == "JobComplete"
    assert raw.get(f"ingest/{job}/successfulResults").status_code == 400
    clock.advance(minutes=10)
    info = raw.state(job)
    assert info["state"] == "JobComplete" and info["numberRecordsProcessed"] == 1
    assert org.count("Contact") == 1


def test_jobs_are_processed_in_the_order_they_were_closed(org: Org, clock: VirtualClock) -> None:
    org.bulk.queue.seconds_per_batch = 60
    raw = Raw(org)
    first = raw.ingest("LastName\nFirst\n")
    second = raw.ingest("LastName\nSecond\n")
    assert [raw.state(j)["state"] for j in (first, second)] == ["InProgress", "UploadComplete"]
    clock.advance(seconds=60)
    assert [raw.state(j)["state"] for j in (first, second)] == ["JobComplete", "InProgress"]
    clock.advance(seconds=60)
    assert raw.state(second)["state"] == "JobComplete"


def test_another_apps_jobs_are_listed_and_hold_the_queue(org: Org, clock: VirtualClock) -> None:
    foreign = [org.bulk.add_foreign_job(timedelta(minutes=20)) for _ in range(3)]
    raw = Raw(org)
    listed = raw.get("ingest").json()["records"]
    assert {j["id"] for j in listed} == {j.id for j in foreign}
    assert [j["state"] for j in listed] == ["InProgress", "UploadComplete", "UploadComplete"]
    job = raw.ingest("LastName\nLate\n")
    clock.advance(minutes=59)
    assert raw.state(job)["state"] == "UploadComplete"
    clock.advance(minutes=1)
    assert raw.state(job)["state"] == "JobComplete"
    assert org.count("Contact") == 1


def test_aborting_a_queued_job_writes_nothing_and_frees_its_turn(
    org: Org, clock: VirtualClock
) -> None:
    org.bulk.add_foreign_job(timedelta(minutes=10))
    raw = Raw(org)
    stuck = raw.ingest("LastName\nNever\n")
    after = raw.ingest("LastName\nAfter\n")
    aborted = raw.session.patch(
        f"{raw.base}/ingest/{stuck}", json={"state": "Aborted"}, headers=raw.headers
    ).json()
    assert aborted["state"] == "Aborted"
    clock.advance(minutes=10)
    assert raw.state(after)["state"] == "JobComplete"
    assert raw.state(stuck)["state"] == "Aborted"
    names = {r["LastName"] for r in org.query("SELECT LastName FROM Contact")}
    assert names == {"After"}


def test_records_appear_when_the_job_ends_even_if_nobody_polls(
    org: Org, clock: VirtualClock
) -> None:
    org.bulk.queue.seconds_per_batch = 300
    raw = Raw(org)
    raw.ingest("LastName\nA\n")
    clock.advance(minutes=5)
    assert raw.session.get(f"{org.instance_url}/services/data/v59.0/limits", headers=raw.headers).ok
    assert org.count("Contact") == 1


def test_a_query_job_waits_its_turn_then_serves_results(org: Org, clock: VirtualClock) -> None:
    org.insert("Contact", [{"LastName": "Q"}])
    org.bulk.add_foreign_job(timedelta(minutes=5))
    raw = Raw(org)
    created = raw.session.post(
        f"{raw.base}/query",
        json={"operation": "query", "query": "SELECT LastName FROM Contact"},
        headers=raw.headers,
    ).json()
    assert created["state"] == "UploadComplete"
    waiting = raw.state(created["id"], "query")
    assert waiting["state"] == "UploadComplete"
    assert raw.get(f"query/{created['id']}/results").status_code == 400
    clock.advance(minutes=5)
    done = raw.state(created["id"], "query")
    assert done["state"] == "JobComplete" and done["numberRecordsProcessed"] == 1
    page = raw.get(f"query/{created['id']}/results")
    assert list(csv.DictReader(io.StringIO(page.text))) == [{"LastName": "Q"}]
    assert page.headers["Sforce-Locator"] == "null"


def test_the_client_waits_for_a_slow_job_on_its_own_polls(
    org: Org, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """simple-salesforce polls until JobComplete; its sleeps move the virtual clock here."""
    import simple_salesforce.bulk2 as bulk2

    org.bulk.queue.seconds_per_batch = 20
    monkeypatch.setattr(bulk2, "sleep", lambda seconds: clock.advance(seconds=max(seconds, 1)))
    results = org.client().bulk2.Contact.insert(records=[{"LastName": "Polled"}], wait=5)
    assert results[0]["numberRecordsProcessed"] == 1
    assert clock.now() >= VirtualClock().now() + timedelta(seconds=20)
    assert org.count("Contact") == 1
