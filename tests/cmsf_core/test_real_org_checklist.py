"""The README's real-org checklist, verbatim, against served simulators with a password login.

``sf-sim serve`` (an empty org: no data model) and ``cm-sim serve`` run as real HTTPS
processes. The checklist's ``export`` lines name what the admin sets; here the values come
from the servers (plus the simulators' CA files and Campaign Monitor address). Every other
line of the README's block is run as written, in order, as a user runs it; then the org is
checked through simple-salesforce.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from simple_salesforce.api import Salesforce

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def checklist() -> list[str]:
    """The bash block of the README's "A real org, step by step" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### A real org, step by step", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None, "the README's real-org section has no bash block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def _start(
    command: list[str], wanted: list[str], cwd: Path
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert proc.stdout is not None
    found: dict[str, str] = {}
    deadline = time.monotonic() + 120
    while set(wanted) - set(found) and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        key, sep, value = line.partition(":")
        if sep and key.strip() in wanted:
            found[key.strip()] = value.strip()
        elif line.startswith("cm-sim serving"):
            found["url"] = line.split()[-1]
    assert not set(wanted) - set(found), found
    return proc, found


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, str]]:
    sf, sf_out = _start(
        [str(BIN / "sf-sim"), "serve", "--port", "0", "--ca-file", str(tmp_path / "sf-ca.pem")],
        ["instance URL", "username", "password", "security token"], tmp_path,
    )  # fmt: skip
    try:
        cm, cm_out = _start(
            [str(BIN / "cm-sim"), "serve", "--port", "0", "--seed", "3", "--subscribers", "10",
             "--ca-file", str(tmp_path / "cm-ca.pem")],
            ["url", "API key"], tmp_path,
        )  # fmt: skip
        try:
            yield {**sf_out, **cm_out}
        finally:
            cm.terminate()
            cm.wait(timeout=30)
    finally:
        sf.terminate()
        sf.wait(timeout=30)


def test_the_readme_checklist_works_verbatim_against_served_simulators(
    served: dict[str, str], tmp_path: Path
) -> None:
    values = {
        "CMSF_SF_LOGIN_URL": served["instance URL"],
        "CMSF_SF_USERNAME": served["username"],
        "CMSF_SF_PASSWORD": served["password"],
        "CMSF_SF_SECURITY_TOKEN": served["security token"],
        "CMSF_CM_API_KEY": served["API key"],
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMSF_")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        CMSF_SF_CA_FILE=str(tmp_path / "sf-ca.pem"),
        CMSF_CM_BASE_URL=served["url"],
        CMSF_CM_CA_FILE=str(tmp_path / "cm-ca.pem"),
    )
    exported: set[str] = set()
    outputs: dict[str, str] = {}
    for line in checklist():
        if line.startswith("#"):
            continue
        if line.startswith("export "):
            for assignment in shlex.split(line)[1:]:
                name = assignment.split("=", 1)[0]
                assert name in values, f"the checklist exports {name}, which the test cannot fill"
                env[name] = values[name]
                exported.add(name)
            continue
        done = subprocess.run(
            shlex.split(line), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, (line, done.stdout[-3000:], done.stderr[-3000:])
        outputs[line] = done.stdout
        for secret in (served["password"], served["security token"], served["API key"]):
            assert secret not in done.stdout + done.stderr
    assert exported == set(values)
    assert list(outputs) == ["cmsf setup", "cmsf doctor", "cmsf connect", "cmsf sync"]
    assert "assigned CMSF_Full_Access" in outputs["cmsf setup"]
    assert "0 failed" in outputs["cmsf doctor"]
    print(outputs["cmsf doctor"])  # the README's sample (pytest -s shows it)
    again = subprocess.run(
        ["cmsf", "setup"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0 and "nothing changed" in again.stdout

    sf = _login(served, str(tmp_path / "sf-ca.pem"))
    members = sf.query("SELECT COUNT() FROM CMSF_List_Member__c")["totalSize"]
    assert members > 0
    assigned = sf.query(
        "SELECT Assignee.Username FROM PermissionSetAssignment "
        "WHERE PermissionSet.Name = 'CMSF_Full_Access'"
    )["records"]
    assert [r["Assignee"]["Username"] for r in assigned] == [served["username"]]
    settings = sf.query("SELECT Connected__c, Last_Sync_Status__c FROM CMSF_Settings__c")["records"]
    assert settings[0]["Connected__c"] is True and settings[0]["Last_Sync_Status__c"] == "Completed"

    # Uninstall as the README says: the data, then the model; setup installs it again.
    sf.restful("sobjects/Contact", method="POST", json={"LastName": "Stays"})
    refused = _cmsf(env, tmp_path, "uninstall")
    assert (
        refused.returncode != 0
        and sf.query("SELECT COUNT() FROM CMSF_List_Member__c")["totalSize"] == members
    ), "uninstall without --yes asks and changes nothing"
    data = _cmsf(env, tmp_path, "uninstall", "--yes")
    assert data.returncode == 0, data.stderr
    assert sf.query("SELECT COUNT() FROM CMSF_List_Member__c")["totalSize"] == 0
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Stays'")["totalSize"] == 1
    model = _cmsf(env, tmp_path, "uninstall", "--metadata", "--yes")
    assert model.returncode == 0 and "deleted the data model" in model.stdout, model.stderr
    doctor = _cmsf(env, tmp_path, "doctor")
    assert doctor.returncode == 1 and "objects not deployed" in doctor.stdout
    reinstall = _cmsf(env, tmp_path, "setup")
    assert reinstall.returncode == 0 and "deployed the data model" in reinstall.stdout


def _login(served: dict[str, str], ca_file: str) -> Salesforce:
    """A simple-salesforce client: SOAP password login at the served host, local CA trusted."""
    from cmsf_core.connection import SalesforceCredentials
    from cmsf_core.platforms import salesforce_login

    credentials = SalesforceCredentials(
        username=served["username"], password=served["password"],
        security_token=served["security token"], login_url=served["instance URL"],
        ca_file=ca_file,
    )  # fmt: skip
    return salesforce_login(credentials)()


def _env(served: dict[str, str], tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMSF_")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        CMSF_SF_LOGIN_URL=served["instance URL"],
        CMSF_SF_USERNAME=served["username"],
        CMSF_SF_PASSWORD=served["password"],
        CMSF_SF_SECURITY_TOKEN=served["security token"],
        CMSF_SF_CA_FILE=str(tmp_path / "sf-ca.pem"),
        CMSF_CM_API_KEY=served["API key"],
        CMSF_CM_BASE_URL=served["url"],
        CMSF_CM_CA_FILE=str(tmp_path / "cm-ca.pem"),
    )
    env.update(overrides)
    return env


def _cmsf(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["cmsf", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_mistakes_on_a_real_org_are_one_line_or_a_failed_check(
    served: dict[str, str], tmp_path: Path
) -> None:
    wrong = _env(served, tmp_path, CMSF_SF_PASSWORD="wrong-password")
    setup = _cmsf(wrong, tmp_path, "setup")
    assert setup.returncode == 1 and setup.stderr.startswith("error: Salesforce refused the login")
    assert "Traceback" not in setup.stderr and "wrong-password" not in setup.stderr
    doctor = _cmsf(wrong, tmp_path, "doctor", "--json")
    assert doctor.returncode == 1, doctor.stderr
    import json

    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["login"]["status"] == "fail" and "password" in checks["login"]["fix"]
    empty = _cmsf(_env(served, tmp_path), tmp_path, "doctor")
    assert empty.returncode == 1 and "objects not deployed" in empty.stdout
    no_ca = _cmsf(
        _env(served, tmp_path, CMSF_SF_CA_FILE=str(tmp_path / "nope.pem")), tmp_path, "setup"
    )
    assert no_ca.returncode == 2 and "CA file" in no_ca.stderr
    typo = _cmsf(_env(served, tmp_path, CMSF_SF_LOGIN_UR="x"), tmp_path, "doctor")
    assert typo.returncode == 2 and "did you mean CMSF_SF_LOGIN_URL" in typo.stderr
    wrong_cm = _cmsf(_env(served, tmp_path, CMSF_CM_API_KEY="nope"), tmp_path, "doctor", "--json")
    cm_check = {c["name"]: c for c in json.loads(wrong_cm.stdout)["checks"]}["Campaign Monitor"]
    assert wrong_cm.returncode == 1 and cm_check["status"] == "fail"
