"""A served org (``sf-sim serve``) processes a closed Bulk API 2.0 job after the close answered.

The close request answers ``UploadComplete`` (as the platform does: the job is queued), the
job is processed by the org's worker, and every later request waits for that processing to
finish, so what it reads is the same whatever the timing.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from scenarios.served import _start

_SERVE = re.compile(r"instance URL:\s+(\S+)|session id:\s+(\S+)")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    process, (url, session_id) = _start(
        [
            "from sf_sim.cli import main; main()",
            "serve",
            "--port",
            "0",
            "--http",
            "--db",
            str(tmp_path / "org.db"),
        ],
        _SERVE,
        2,
    )
    try:
        yield url, {"Authorization": f"Bearer {session_id}"}
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _job(base: str, headers: dict[str, str], rows: int, *, close: bool = True) -> dict[str, str]:
    job = requests.post(
        base, json={"object": "Contact", "operation": "insert"}, headers=headers, timeout=30
    ).json()
    body = "LastName,Email\n" + "".join(f"Worker {n},w{n}@worker.example\n" for n in range(rows))
    upload = requests.put(
        f"{base}/{job['id']}/batches",
        data=body.encode(),
        headers={**headers, "Content-Type": "text/csv"},
        timeout=30,
    )
    assert upload.status_code == 201
    if not close:
        return dict(job)
    closed = requests.patch(
        f"{base}/{job['id']}", json={"state": "UploadComplete"}, headers=headers, timeout=30
    )
    assert closed.status_code == 200
    return dict(closed.json())


def test_a_closed_job_answers_queued_and_the_next_request_sees_it_processed(
    served: tuple[str, dict[str, str]],
) -> None:
    url, headers = served
    base = f"{url}/services/data/v59.0/jobs/ingest"
    closed = _job(base, headers, 2500)
    assert closed["state"] == "UploadComplete"  # queued, not processed inside the close
    # The very next request (no polling, no waiting) reads the org after the job ran.
    count = requests.get(
        f"{url}/services/data/v59.0/query",
        params={"q": "SELECT COUNT() FROM Contact WHERE Email LIKE '%@worker.example'"},
        headers=headers,
        timeout=60,
    ).json()
    assert count["totalSize"] == 2500
    info = requests.get(f"{base}/{closed['id']}", headers=headers, timeout=30).json()
    assert (info["state"], info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (
        "JobComplete",
        2500,
        0,
    )
    results = requests.get(f"{base}/{closed['id']}/successfulResults", headers=headers, timeout=30)
    assert len(results.text.splitlines()) == 2501


def test_jobs_closed_back_to_back_are_processed_in_the_order_they_were_closed(
    served: tuple[str, dict[str, str]],
) -> None:
    url, headers = served
    base = f"{url}/services/data/v59.0/jobs/ingest"
    first = _job(base, headers, 300)
    second = _job(base, headers, 300)
    ids = []
    for job in (first, second):
        info = requests.get(f"{base}/{job['id']}", headers=headers, timeout=30).json()
        assert info["state"] == "JobComplete"
        rows = requests.get(f"{base}/{job['id']}/successfulResults", headers=headers, timeout=30)
        ids.append([line.split(",")[0].strip('"') for line in rows.text.splitlines()[1:]])
    # Ids are handed out in processing order: every Id of the first job precedes the second's.
    assert len(ids[0]) == len(ids[1]) == 300
    assert max(ids[0]) < min(ids[1])


def test_a_job_that_fails_in_the_background_is_reported_failed(
    served: tuple[str, dict[str, str]],
) -> None:
    url, headers = served
    base = f"{url}/services/data/v59.0/jobs/ingest"
    job = requests.post(
        base, json={"object": "Contact", "operation": "insert"}, headers=headers, timeout=30
    ).json()
    requests.put(
        f"{base}/{job['id']}/batches",
        data=b"LastName,NoSuchField__c\nA,1\n",
        headers={**headers, "Content-Type": "text/csv"},
        timeout=30,
    )
    closed = requests.patch(
        f"{base}/{job['id']}", json={"state": "UploadComplete"}, headers=headers, timeout=30
    ).json()
    assert closed["state"] == "UploadComplete"
    info = requests.get(f"{base}/{job['id']}", headers=headers, timeout=30).json()
    assert info["state"] == "Failed"
    assert info["errorMessage"] == "InvalidBatch : Field name not found : NoSuchField__c"
