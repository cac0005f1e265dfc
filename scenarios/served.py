"""A world served over HTTPS by real ``sf-sim serve`` and ``cm-sim serve`` processes.

The engine then reaches both simulators exactly as it reaches real platforms — over the
network, with credentials from the environment — which is how the benchmark measures the
engine's own memory apart from the simulators', and how tests check the real-mode wiring
(``CMSF_SF_*``/``CMSF_CM_*`` variables, CA files).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ServedWorld", "serve_world"]

SF_PROGRAM = "from sf_sim.cli import main; main()"
"""The code that runs ``sf-sim`` (``python -c``)."""

_SF = re.compile(r"instance URL:\s+(\S+)|session id:\s+(\S+)|trust CA file:\s+(\S+)")
_CM = re.compile(r"cm-sim serving\s+(\S+)|API key:\s+(\S+)|CA file:\s+(\S+)")


@dataclass(frozen=True)
class ServedWorld:
    """Where the served simulators listen, how to reach them (secrets included), and
    their process ids (for measurements)."""

    instance_url: str
    session_id: str
    sf_ca_file: str
    cm_base_url: str
    cm_api_key: str
    cm_ca_file: str
    sf_pid: int = 0
    cm_pid: int = 0

    def environment(self) -> dict[str, str]:
        """``CMSF_*`` variables (and the CA bundle for requests) pointing cmsf at them."""
        return {
            "CMSF_SF_INSTANCE_URL": self.instance_url,
            "CMSF_SF_SESSION_ID": self.session_id,
            "CMSF_CM_API_KEY": self.cm_api_key,
            "CMSF_CM_BASE_URL": self.cm_base_url,
            "CMSF_CM_CA_FILE": self.cm_ca_file,
            "REQUESTS_CA_BUNDLE": self.sf_ca_file,
        }


def _start(
    args: list[str], pattern: re.Pattern[str], wanted: int
) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", args[0], *args[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    found: list[str | None] = [None] * wanted
    assert process.stdout is not None
    for line in process.stdout:
        match = pattern.search(line)
        if match:
            for index, value in enumerate(match.groups()):
                if value:
                    found[index] = value
        if all(found):
            return process, [str(v) for v in found]
    process.kill()
    raise RuntimeError(f"simulator server exited before it was ready: {args[0]}")


@contextmanager
def serve_world(
    org_db: Path, account_db: Path, work_dir: Path, *, sf_program: str = SF_PROGRAM
) -> Iterator[ServedWorld]:
    """Serve the world kept in ``org_db`` and ``account_db`` until the block ends.

    Args:
        org_db: The org file (sf_sim).
        account_db: The account file (cm_sim).
        work_dir: Where the CA files are written.
        sf_program: The Python code that runs ``sf-sim`` (a test's variant may set the
            org up first, as a timeline event would).
    """
    sf, (instance_url, session_id, sf_ca) = _start(
        [
            sf_program,
            "serve",
            "--port",
            "0",
            "--db",
            str(org_db),
            "--ca-file",
            str(work_dir / "sf-ca.pem"),
        ],
        _SF,
        3,
    )
    try:
        cm, (base_url, api_key, cm_ca) = _start(
            [
                "from cm_sim.cli import main; main()",
                "serve",
                "--port",
                "0",
                "--db",
                str(account_db),
                "--ca-file",
                str(work_dir / "cm-ca.pem"),
            ],
            _CM,
            3,
        )
    except BaseException:
        sf.kill()
        raise
    try:
        yield ServedWorld(
            instance_url, session_id, sf_ca, base_url, api_key, cm_ca, sf_pid=sf.pid, cm_pid=cm.pid
        )
    finally:
        for process in (cm, sf):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
