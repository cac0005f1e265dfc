"""The npm lane: third-party JavaScript clients work unchanged against the served simulators.

The Salesforce CLI (``sf``), jsforce and createsend-node are installed from npm, pinned
(``tests/npm_clients/package.json``), into ``.cache/npm-clients/`` once for all xdist
workers (a file lock), then driven against ``sf-sim serve`` and ``cm-sim serve`` started
as real processes over HTTPS, trusting the local CA through ``NODE_EXTRA_CA_CERTS``.
Without ``npm`` on the machine these tests skip and say why.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = ROOT / "tests" / "npm_clients"
CACHE = ROOT / ".cache" / "npm-clients"

pytestmark = pytest.mark.skipif(
    shutil.which("npm") is None or shutil.which("node") is None,
    reason="npm/node not installed: the third-party JavaScript client lane needs them",
)


def _install() -> Path:
    """Install the pinned clients once (shared by xdist workers through a file lock)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    manifest = (CLIENTS / "package.json").read_bytes()
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = CACHE / ".installed"
        if not stamp.exists() or stamp.read_bytes() != manifest:
            (CACHE / "package.json").write_bytes(manifest)
            subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                cwd=CACHE, check=True, capture_output=True, timeout=900,
            )  # fmt: skip
            stamp.write_bytes(manifest)
    return CACHE / "node_modules"


def _serve(command: list[str], wanted: int, tmp: Path) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tmp
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while len(lines) < wanted and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        if line.strip():
            lines.append(line.strip())
    assert len(lines) >= wanted, lines
    return proc, lines


def _field(lines: list[str], name: str) -> str:
    for line in lines:
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{name} not printed: {lines}")


@pytest.fixture(scope="module")
def node_modules() -> Path:
    return _install()


@pytest.fixture(scope="module")
def sf_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("sf-serve")
    proc, lines = _serve(
        [str(Path(sys.executable).parent / "sf-sim"), "serve", "--port", "0", "--seed-data", "20",
         "--ca-file", str(tmp / "ca.pem")], 6, tmp,
    )  # fmt: skip
    try:
        yield {
            "url": _field(lines, "instance URL"), "session": _field(lines, "session id"),
            "username": _field(lines, "username"), "password": _field(lines, "password"),
            "token": _field(lines, "security token"), "ca": str(tmp / "ca.pem"), "home": str(tmp),
        }  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def cm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("cm-serve")
    proc, lines = _serve(
        [str(Path(sys.executable).parent / "cm-sim"), "serve", "--port", "0", "--seed", "3",
         "--subscribers", "10", "--ca-file", str(tmp / "ca.pem")], 3, tmp,
    )  # fmt: skip
    try:
        url = lines[0].split()[-1]
        yield {"host": url.split("://", 1)[1].split("/", 1)[0], "key": _field(lines, "API key"),
               "ca": str(tmp / "ca.pem")}  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _node_env(node_modules: Path, ca: str, home: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SF_", "SFDX_"))}
    env.update(NODE_PATH=str(node_modules), NODE_EXTRA_CA_CERTS=ca, SF_DISABLE_TELEMETRY="true",
               SF_AUTOUPDATE_DISABLE="true", SF_SKIP_NEW_VERSION_CHECK="true",
               SF_USE_GENERIC_UNIX_KEYCHAIN="true", SF_CONTAINER_MODE="true")  # fmt: skip
    if home is not None:
        env["HOME"] = home
    return env


def _node(script: str, args: list[str], env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        ["node", str(CLIENTS / script), *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_createsend_node_workflow(node_modules: Path, cm_server: dict[str, str]) -> None:
    seen = _node(
        "createsend_workflow.js", [cm_server["host"], cm_server["key"]],
        _node_env(node_modules, cm_server["ca"]),
    )  # fmt: skip
    assert seen["clients"] == 2 and seen["lists"] == 2
    assert seen["subscriberState"] == "Active"
    assert seen["sentCampaignsIsArray"] is True  # /api/v3: a bare array, as before v3.3
    assert seen["smartEmails"] == 1 and seen["smartSendStatus"] == "Received"
    assert seen["classicSendStatus"] == "Received" and seen["classicSubject"] == "Receipt"
    assert seen["messages"] == 2
    assert seen["missingSubscriber"] == 203


def test_jsforce_workflow(node_modules: Path, sf_server: dict[str, str]) -> None:
    seen = _node(
        "jsforce_workflow.js",
        [sf_server["url"], sf_server["username"], sf_server["password"] + sf_server["token"]],
        _node_env(node_modules, sf_server["ca"]),
    )
    assert seen["identityUser"] == sf_server["username"]
    assert seen["created"] is True and seen["updated"] is True and seen["deleted"] is True
    assert seen["retrievedName"] == "Js" and seen["upserted"] is True
    assert seen["collectionCreated"] == 5
    assert seen["queryTotal"] == seen["queryAllFetched"]
    assert seen["bulk2Successful"] == 2 and seen["bulk2Queried"] == 2


def test_jsforce_bulk1_and_query_paging(node_modules: Path, sf_server: dict[str, str]) -> None:
    """``conn.bulk.load`` (XML jobs, CSV batches) and queries spanning several batches."""
    seen = _node(
        "jsforce_bulk1_workflow.js",
        [sf_server["url"], sf_server["username"], sf_server["password"] + sf_server["token"]],
        _node_env(node_modules, sf_server["ca"]),
    )
    assert seen["insertOk"] == 2100 and seen["insertJobState"] == "Closed"
    assert seen["insertRefused"] == [
        "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"
    ]
    assert seen["updateOk"] == 5 and seen["upsertCreated"] == [False, True]
    # 2,101 rows: autoFetch follows nextRecordsUrl past the first 2,000-record batch
    assert seen["autoFetched"] == seen["autoFetchTotal"] == 2101
    assert (seen["autoFetchFirst"], seen["autoFetchLast"]) == ("Bulk1_0000", "Bulk1_new")
    # Sforce-Query-Options: batchSize=200, then queryMore over each nextRecordsUrl
    assert seen["pageSizes"] == [200] * 10 + [101] and seen["distinctPaged"] == 2101
    assert seen["bulkQueried"] == 5
    assert seen["bulkQueryColumns"] == ["CreatedDate", "Id", "LastName", "Title"]
    assert str(seen["bulkQueryCreatedDate"]).endswith("Z")
    assert seen["deleteOk"] == 2100
    assert seen["unknownObject"] == "InvalidJob: Unable to find object: NoSuchObject__c"


def test_jsforce_web_server_flow_and_refresh(node_modules: Path, sf_server: dict[str, str]) -> None:
    """PKCE code flow for PlatformCLI, a refresh when the session ends, then revocation."""
    seen = _node(
        "jsforce_oauth_workflow.js",
        [sf_server["url"], sf_server["session"]],
        _node_env(node_modules, sf_server["ca"]),
    )
    assert seen["authorizeStatus"] == 302 and seen["state"] == "st-1"
    assert seen["hasRefreshToken"] is True and str(seen["userId"]).startswith("005")
    assert seen["refreshes"] == 1 and int(str(seen["countAfterRefresh"])) >= 0
    assert seen["afterRevoke"] == "Unable to refresh session due to: expired access/refresh token"


def _refresh_token(server: dict[str, str]) -> str:
    """What a browser and ``sf org login web`` do: approve PlatformCLI, exchange the code."""
    http = requests.Session()
    http.trust_env = False  # a REQUESTS_CA_BUNDLE of the machine would override verify
    http.verify = server["ca"]
    callback = "http://localhost:1717/OauthRedirect"
    approved = http.get(
        f"{server['url']}/services/oauth2/authorize",
        params={"response_type": "code", "client_id": "PlatformCLI", "redirect_uri": callback},
        cookies={"sid": server["session"]}, allow_redirects=False, timeout=30,
    )  # fmt: skip
    code = parse_qs(urlsplit(approved.headers["Location"]).query)["code"][0]
    token = http.post(
        f"{server['url']}/services/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": "PlatformCLI",
              "redirect_uri": callback}, timeout=30,
    ).json()  # fmt: skip
    return str(token["refresh_token"])


def test_salesforce_cli_logs_in_with_an_sfdx_auth_url(
    node_modules: Path, sf_server: dict[str, str], tmp_path: Path
) -> None:
    """``sf org login sfdx-url``: the CLI turns a refresh token into a session (refresh grant)."""
    host = sf_server["url"].removeprefix("https://")
    (tmp_path / "auth.txt").write_text(f"force://PlatformCLI::{_refresh_token(sf_server)}@{host}\n")
    login = _sf(node_modules, sf_server, "org", "login", "sfdx-url", "--sfdx-url-file",
                str(tmp_path / "auth.txt"), "--alias", "by-refresh")["result"]  # fmt: skip
    assert login["username"] == sf_server["username"] and login["clientId"] == "PlatformCLI"  # type: ignore[index]
    count = _sf(node_modules, sf_server, "data", "query", "-o", "by-refresh", "-q",
                "SELECT COUNT() FROM Organization")["result"]  # fmt: skip
    assert count["totalSize"] == 1  # type: ignore[index]


def _sf(node_modules: Path, server: dict[str, str], *args: str) -> dict[str, object]:
    env = _node_env(node_modules, server["ca"], server["home"])
    env["SF_ACCESS_TOKEN"] = server["session"]
    done = subprocess.run(
        [str(node_modules / ".bin" / "sf"), *args, "--json"], env=env, capture_output=True,
        text=True, timeout=300, cwd=server["home"],
    )  # fmt: skip
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-1000:])
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def test_salesforce_cli_workflow(node_modules: Path, sf_server: dict[str, str]) -> None:
    home = Path(sf_server["home"])
    login = _sf(node_modules, sf_server, "org", "login", "access-token", "--instance-url",
                sf_server["url"], "--no-prompt", "--alias", "sim")  # fmt: skip
    assert login["result"]["username"] == sf_server["username"]  # type: ignore[index]
    rows = _sf(node_modules, sf_server, "data", "query", "-o", "sim", "-q",
               "SELECT Name, Owner.Name, (SELECT LastName FROM Contacts) FROM Account LIMIT 3")  # fmt: skip
    assert rows["status"] == 0
    created = _sf(node_modules, sf_server, "data", "create", "record", "-o", "sim", "-s", "Contact",
                  "-v", "LastName=Cli Email=cli@example.com")["result"]  # fmt: skip
    record_id = created["id"]  # type: ignore[index]
    _sf(node_modules, sf_server, "data", "update", "record", "-o", "sim", "-s", "Contact",
        "-i", record_id, "-v", "LastName=Cli2")  # fmt: skip
    check = _sf(node_modules, sf_server, "data", "query", "-o", "sim", "-q",
                f"SELECT LastName FROM Contact WHERE Id = '{record_id}'")  # fmt: skip
    assert check["result"]["records"][0]["LastName"] == "Cli2"  # type: ignore[index]
    _sf(
        node_modules,
        sf_server,
        "data",
        "delete",
        "record",
        "-o",
        "sim",
        "-s",
        "Contact",
        "-i",
        record_id,
    )
    describe = _sf(node_modules, sf_server, "sobject", "describe", "-o", "sim", "-s", "Contact")
    assert describe["result"]["name"] == "Contact"  # type: ignore[index]
    limits = _sf(node_modules, sf_server, "limits", "api", "display", "-o", "sim")
    assert any(item["name"] == "DailyApiRequests" for item in limits["result"])  # type: ignore[attr-defined,index]
    display = _sf(node_modules, sf_server, "org", "display", "-o", "sim")
    assert display["result"]["connectedStatus"] == "Connected"  # type: ignore[index]
    (home / "in.csv").write_text(
        "LastName,Email\nZzNpmBulkA,a@example.com\nZzNpmBulkB,b@example.com\n"
    )
    imported = _sf(node_modules, sf_server, "data", "import", "bulk", "-o", "sim", "-s", "Contact",
                   "-f", str(home / "in.csv"), "--wait", "5")["result"]  # fmt: skip
    assert imported["successfulRecords"] == 2  # type: ignore[index]
    _sf(node_modules, sf_server, "data", "export", "bulk", "-o", "sim", "-q",
        "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'ZzNpmBulk%'",
        "--output-file", str(home / "out.csv"), "--wait", "5")  # fmt: skip
    exported = (home / "out.csv").read_text().splitlines()
    assert len(exported) == 3
    ids = [line.split(",")[0].strip('"') for line in exported[1:]]
    (home / "up.csv").write_text("Id,Title\n" + "".join(f"{i},Upserted\n" for i in ids))
    upserted = _sf(node_modules, sf_server, "data", "upsert", "bulk", "-o", "sim", "-s", "Contact",
                   "-f", str(home / "up.csv"), "-i", "Id", "--wait", "5")["result"]  # fmt: skip
    assert upserted["jobInfo"]["numberRecordsProcessed"] == 2  # type: ignore[index]
    (home / "del.csv").write_text("Id\n" + "".join(f"{i}\n" for i in ids))
    deleted = _sf(node_modules, sf_server, "data", "delete", "bulk", "-o", "sim", "-s", "Contact",
                  "-f", str(home / "del.csv"), "--wait", "5")["result"]  # fmt: skip
    assert deleted["jobInfo"]["numberRecordsProcessed"] == 2  # type: ignore[index]


def test_salesforce_cli_query_follows_several_batches(
    node_modules: Path, sf_server: dict[str, str], tmp_path: Path
) -> None:
    """``sf data query`` over 2,100 rows: more than one 2,000-record batch."""
    _sf(node_modules, sf_server, "org", "login", "access-token", "--instance-url",
        sf_server["url"], "--no-prompt", "--alias", "many")  # fmt: skip
    home = tmp_path
    (home / "many.csv").write_text(
        "LastName\n" + "".join(f"ZzNpmMany{i:04d}\n" for i in range(2100))
    )
    _sf(node_modules, sf_server, "data", "import", "bulk", "-o", "many", "-s", "Contact",
        "-f", str(home / "many.csv"), "--wait", "5")  # fmt: skip
    many = _sf(node_modules, sf_server, "data", "query", "-o", "many", "-q",
               "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'ZzNpmMany%'")["result"]  # fmt: skip
    # more than one 2,000-record batch: the CLI follows nextRecordsUrl to the end
    assert many["totalSize"] == 2100 and many["done"] is True  # type: ignore[index]
    names = {r["LastName"] for r in many["records"]}  # type: ignore[index]
    assert len(names) == 2100 and "ZzNpmMany2099" in names


def test_salesforce_cli_deploys_the_project_metadata(
    node_modules: Path, sf_server: dict[str, str], tmp_path: Path
) -> None:
    """``sf project deploy start`` sends the DX project to sf-sim serve's Metadata API."""
    project = tmp_path / "cmsf-metadata"
    shutil.copytree(ROOT / "cmsf_core" / "metadata", project)
    _sf(node_modules, sf_server, "org", "login", "access-token", "--instance-url",
        sf_server["url"], "--no-prompt", "--alias", "deploy-target")  # fmt: skip
    env = _node_env(node_modules, sf_server["ca"], sf_server["home"])
    env["SF_ACCESS_TOKEN"] = sf_server["session"]
    done = subprocess.run(
        [str(node_modules / ".bin" / "sf"), "project", "deploy", "start", "--source-dir",
         "force-app", "-o", "deploy-target", "--wait", "5", "--json"],
        env=env, capture_output=True, text=True, timeout=600, cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-2000:])
    result = json.loads(done.stdout)["result"]
    assert result["status"] == "Succeeded" and result["success"] is True
    deployed = {(f["type"], f["fullName"]) for f in result["files"]}
    assert ("CustomObject", "CMSF_List_Member__c") in deployed
    assert ("PermissionSet", "CMSF_Full_Access") in deployed
    check = _sf(node_modules, sf_server, "data", "query", "-o", "deploy-target", "-q",
                "SELECT Name FROM PermissionSet WHERE Name LIKE 'CMSF%' ORDER BY Name")  # fmt: skip
    names = [r["Name"] for r in check["result"]["records"]]  # type: ignore[index]
    assert names == ["CMSF_Full_Access", "CMSF_Limited_Access", "CMSF_Standard_Access"]
    described = _sf(node_modules, sf_server, "sobject", "describe", "-o", "deploy-target",
                    "-s", "CMSF_List_Member__c")  # fmt: skip
    assert "Email__c" in {f["name"] for f in described["result"]["fields"]}  # type: ignore[index]
