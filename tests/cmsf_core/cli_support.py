"""Running ``cmsf`` as a user does: the installed console script, in a subprocess.

``faulty`` runs the same CLI through :mod:`tests.cmsf_core.faulty_cmsf`, which opens the
simulator files as ``cmsf`` does and then injects a platform fault into them (faults
live in the simulators' memory, not in their files).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

CMSF = str(Path(sys.executable).parent / "cmsf")
FAULTY = str(Path(__file__).with_name("faulty_cmsf.py"))


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any CMSF_* variable of the caller, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMSF_")}
    env.update({"TZ": "UTC", "COLUMNS": "200", **extra})
    return env


def run_cmsf(
    *args: str,
    env: dict[str, str] | None = None,
    fault: str | None = None,
    timeout: float = 180,
    cwd: Path | None = None,
    **popen: object,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmsf ARGS`` (optionally with an injected ``fault``) and capture its output."""
    command = [CMSF, *args] if fault is None else [sys.executable, FAULTY, fault, *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or clean_env(),
        cwd=cwd,
        **popen,  # type: ignore[arg-type]
    )


def interruptible() -> None:
    """``preexec_fn`` of a child a test interrupts with SIGINT: Ctrl-C at its default.

    A test run started in the background by a shell without job control ignores SIGINT, and
    its children would inherit that; a user's ``cmsf`` in a terminal has the default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def running_job_done(journal: Path) -> bool:
    """True once a job of the run in progress (in ``journal``) has completed."""
    try:
        with sqlite3.connect(journal, timeout=0.1) as db:
            row = db.execute(
                "SELECT COUNT(*) FROM job_runs j JOIN runs r USING (run_id) "
                "WHERE r.status = 'running' AND j.status = 'completed'"
            ).fetchone()
        return bool(row and row[0])
    except sqlite3.Error:
        return False


def no_traceback(result: subprocess.CompletedProcess[str]) -> bool:
    """True when neither stream shows a Python traceback."""
    return "Traceback" not in result.stdout + result.stderr
