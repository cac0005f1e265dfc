"""User and machine mistakes end in one clear line and exit code 2, never a traceback;
seeding the embedded default is atomic; global options work after the command.

Each runs ``cmsf`` in a subprocess, as a user would meet the problem.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from cmsf_core.platforms import COMPLETE, STAGE
from tests.cmsf_core.cli_support import CMSF, clean_env, interruptible, no_traceback, run_cmsf


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert no_traceback(result)
    lines = [line for line in result.stderr.splitlines() if line.lower().startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _read_only(path: Path) -> None:
    for root, dirs, files in os.walk(path):
        for name in files:
            os.chmod(Path(root) / name, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        for name in dirs:
            os.chmod(Path(root) / name, 0o555)
    os.chmod(path, 0o555)


def _without_root_override() -> list[str]:
    """A prefix that makes root obey file permissions (as any user does), if needed."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot be made to apply")
    return [
        setpriv,
        "--inh-caps=-all",
        "--bounding-set=-dac_override,-dac_read_search,-fowner",
        "--",
    ]


def test_a_read_only_home_is_one_line_with_a_fix(cmsf_home: Path) -> None:
    _read_only(cmsf_home)
    try:
        for args in (["status"], ["sync", "--quiet"], ["settings", "show"]):
            result = subprocess.run(
                [*_without_root_override(), CMSF, "--home", str(cmsf_home), *args],
                capture_output=True, text=True, env=clean_env(), timeout=120,
            )  # fmt: skip
            line = _one_error_line(result)
            assert "read-only" in line and "--home" in line, line
    finally:
        for root, dirs, _ in os.walk(cmsf_home):
            for name in dirs:
                os.chmod(Path(root) / name, 0o755)
        os.chmod(cmsf_home, 0o755)


def _small_files() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))


def test_a_full_disk_while_seeding_leaves_nothing_half_made(tmp_path: Path) -> None:
    home = tmp_path / ".cmsf"
    result = run_cmsf("--home", str(home), "sync", preexec_fn=_small_files)
    line = _one_error_line(result)
    assert "disk is full" in line, line
    assert not (home / "org.db").exists() and not (home / "account.db").exists()
    assert not (home / STAGE).exists()


def test_a_locked_simulator_file_is_named(cmsf_home: Path) -> None:
    holder = sqlite3.connect(cmsf_home / "org.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        line = _one_error_line(run_cmsf("--home", str(cmsf_home), "status"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "org.db is locked by another program" in line, line


def test_files_of_the_wrong_type_are_named(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database, just notes\n" * 100)
    line = _one_error_line(run_cmsf("--org-db", str(notes), "--account-db", str(notes), "status"))
    assert "notes.txt is not a cmsf SQLite file" in line
    line = _one_error_line(run_cmsf("--home", str(notes), "status"))
    assert "is a file" in line  # click checks --home itself
    line = _one_error_line(run_cmsf("--config", str(tmp_path), "status"))
    assert "is a directory" in line  # click checks the option's path
    line = _one_error_line(
        run_cmsf("--home", str(tmp_path / "h"), "--log-file", str(tmp_path), "status")
    )
    assert "is a directory" in line


def test_interrupted_seeding_leaves_nothing_and_the_next_run_seeds(tmp_path: Path) -> None:
    home = tmp_path / ".cmsf"
    process = subprocess.Popen(
        [CMSF, "--home", str(home), "status"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
        preexec_fn=interruptible,
    )  # fmt: skip
    assert process.stderr is not None
    first = process.stderr.readline()
    assert "creating a simulated org and account" in first
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert not (home / "org.db").exists() and not (home / "account.db").exists()
    assert not (home / STAGE).exists()
    again = run_cmsf("--home", str(home), "status")
    assert again.returncode == 0, again.stderr
    assert "connected to" in again.stdout


def test_seeding_interrupted_while_moving_the_files_is_finished(cmsf_home: Path) -> None:
    stage = cmsf_home / STAGE
    stage.mkdir()
    (cmsf_home / "account.db").rename(stage / "account.db")  # org.db was moved, account.db not
    (stage / COMPLETE).write_text("both files are whole\n")
    result = run_cmsf("--home", str(cmsf_home), "status")
    assert result.returncode == 0, result.stderr
    assert (cmsf_home / "account.db").exists() and not stage.exists()
    assert "creating" not in result.stderr


def test_half_an_embedded_default_is_refused_with_a_fix(cmsf_home: Path) -> None:
    (cmsf_home / "account.db").unlink()
    line = _one_error_line(run_cmsf("--home", str(cmsf_home), "status"))
    assert "org.db exists but" in line and "move" in line


def test_global_options_work_after_the_command(cmsf_home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    before = run_cmsf("--home", str(cmsf_home), "settings", "show", "--json")
    after = run_cmsf("settings", "show", "--json", "--home", str(cmsf_home), cwd=elsewhere)
    assert before.returncode == after.returncode == 0, after.stderr
    assert before.stdout == after.stdout
    assert not (elsewhere / ".cmsf").exists()  # the option after the command was used
    log = tmp_path / "after.jsonl"
    run_cmsf("status", "--home", str(cmsf_home), "--log-file", str(log))
    assert '"command": "cmsf status"' in log.read_text()
