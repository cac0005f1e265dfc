"""Each exit code of the contract, from ``cmsf`` run as a user runs it (a subprocess)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from cmsf_core.errors import (
    AccessError,
    AuthenticationError,
    BudgetExhaustedError,
    CmsfError,
    ConfigError,
    FatalError,
    PlatformError,
    RateLimitedError,
    RetriableError,
    SafetyError,
    StorageFullError,
    WaitingError,
)
from cmsf_core.exit_codes import ExitCode, for_run_status
from tests.cmsf_core.cli_support import (
    CMSF,
    clean_env,
    interruptible,
    no_traceback,
    run_cmsf,
    running_job_done,
)


def test_the_codes_are_distinct_and_documented_values() -> None:
    assert [int(code) for code in ExitCode] == [0, 1, 2, 3, 4, 5, 130]
    statuses = ("completed", "completed_with_errors", "stopped", "waiting", "failed")
    assert {for_run_status(s) for s in statuses} == {
        ExitCode.COMPLETED, ExitCode.COMPLETED_WITH_ERRORS, ExitCode.STOPPED, ExitCode.WAITING,
        ExitCode.FAILED,
    }  # fmt: skip
    assert for_run_status("running") is ExitCode.FAILED


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigError("x"), ExitCode.USAGE),
        (SafetyError("x"), ExitCode.STOPPED),
        (BudgetExhaustedError("x"), ExitCode.STOPPED),
        (RateLimitedError("x"), ExitCode.STOPPED),
        (RetriableError("x"), ExitCode.FAILED),
        (FatalError("x"), ExitCode.FAILED),
        (AuthenticationError("x"), ExitCode.FAILED),
        (PlatformError("x"), ExitCode.FAILED),
        (WaitingError("x", job_id="750", state="InProgress"), ExitCode.WAITING),
        (StorageFullError("x"), ExitCode.STOPPED),
        (AccessError("x", object_name="Lead"), ExitCode.FAILED),
    ],
    ids=[
        "config",
        "safety",
        "budget",
        "rate-limit",
        "retriable",
        "fatal",
        "auth",
        "platform",
        "waiting",
        "storage-full",
        "access",
    ],
)
def test_errors_carry_the_code_of_what_the_user_does_next(error: CmsfError, code: ExitCode) -> None:
    assert error.exit_code == code


def test_completed_sync_exits_0(cmsf_home: Path) -> None:
    result = run_cmsf("--home", str(cmsf_home), "sync", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "Run completed" in result.stdout


def test_failed_run_exits_1(cmsf_home: Path) -> None:
    result = run_cmsf("--home", str(cmsf_home), "sync", "--json", fault="cm-auth")
    assert result.returncode == 1, result.stderr
    assert '"status": "failed"' in result.stdout and '"CMSF-CM-AUTH"' in result.stdout
    assert no_traceback(result)


def test_usage_and_configuration_mistakes_exit_2(cmsf_home: Path) -> None:
    typo = run_cmsf("--home", str(cmsf_home), "sync", "--fulll")
    assert typo.returncode == 2 and "No such option" in typo.stderr
    unknown = run_cmsf("--home", str(cmsf_home), "synk")
    assert unknown.returncode == 2 and "No such command" in unknown.stderr
    invalid = run_cmsf("--home", str(cmsf_home), "settings", "set", "frequency=Weekly")
    assert invalid.returncode == 2 and invalid.stderr.startswith("error: frequency must be one of")
    assert no_traceback(invalid)


def test_completed_with_errors_exits_3(cmsf_home: Path) -> None:
    result = run_cmsf("--home", str(cmsf_home), "sync", "--quiet", fault="sf-task-field-hidden")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Run completed with errors" in result.stdout and "smart_email_tasks" in result.stdout
    assert "CMSF-SF-ACCESS" in result.stdout  # the job failed on a field hidden from the sync user


def test_stopped_run_exits_4_and_says_it_resumes(cmsf_home: Path) -> None:
    assert (
        run_cmsf("--home", str(cmsf_home), "settings", "set", "run_api_share=0.5%").returncode == 0
    )
    result = run_cmsf("--home", str(cmsf_home), "sync", "--quiet")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "Run stopped" in result.stdout and "resumes" in result.stdout
    assert "(0.5% of 15,000 a day" in result.stdout  # the share as set, not rounded to 0%


def test_a_run_waiting_for_a_bulk_api_job_exits_5_and_status_shows_the_job(
    cmsf_home: Path,
) -> None:
    limits = '{"bulk_threshold": 200, "bulk_wait_minutes": 2}'
    assert (
        run_cmsf(
            "--home", str(cmsf_home), "settings", "set", f"governor_limits={limits}"
        ).returncode
        == 0
    )
    result = run_cmsf("--home", str(cmsf_home), "sync", "--json", fault="sf-bulk-busy")
    assert result.returncode == 5, result.stdout + result.stderr
    assert '"status": "waiting"' in result.stdout and '"CMSF-SF-BULK-WAIT"' in result.stdout
    assert "after 2 minute(s); the next run collects its results" in result.stdout
    quiet = run_cmsf("--home", str(cmsf_home), "sync", "--quiet", fault="sf-bulk-busy")
    assert quiet.returncode == 5, quiet.stdout + quiet.stderr
    assert "Run waiting (resumed)" in quiet.stdout and "writes nothing twice" in quiet.stdout
    status = run_cmsf("--home", str(cmsf_home), "status")
    assert "waiting for Salesforce (resumes next run)" in status.stdout
    assert "waiting for Salesforce, collected by the next run" in status.stdout
    assert no_traceback(result) and no_traceback(status)


def test_ctrl_c_exits_130_and_the_run_resumes(cmsf_home: Path) -> None:
    process = subprocess.Popen(
        [CMSF, "--home", str(cmsf_home), "sync", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        preexec_fn=interruptible,
    )
    deadline = time.monotonic() + 120
    while not running_job_done(cmsf_home / "journal.db") and time.monotonic() < deadline:
        assert process.poll() is None, "the sync ended before it could be interrupted"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, out + err
    assert "interrupted" in err and "Traceback" not in out + err
    status = run_cmsf("--home", str(cmsf_home), "status")
    assert "interrupted (resumes next run)" in status.stdout
    resumed = run_cmsf("--home", str(cmsf_home), "sync", "--quiet")
    assert resumed.returncode == 0 and "Run completed (resumed)" in resumed.stdout


def test_declined_confirmation_exits_130(cmsf_home: Path) -> None:
    result = run_cmsf("--home", str(cmsf_home), "reset-settings", input="n\n")
    assert result.returncode == 130 and "aborted" in result.stderr
