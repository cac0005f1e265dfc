"""The pytest plugin: one item per scenario file, readable failures, xfail, live skips, xdist.

Each test runs pytest (pytester) on a folder of scenario files, as a user would; the
plugin is found through its ``pytest11`` entry point.
"""

from __future__ import annotations

import pytest

from tests.scenarios.conftest import tiny

PASSING = tiny(
    "timeline:\n  - {at: +5m, run: primary_sync}\nexpect: [run_status: completed]\n", name="tiny-ok"
)
FAILING = tiny(
    "timeline:\n  - {at: +5m, run: primary_sync}\nexpect: [run_status: stopped]\n", name="tiny-bad"
)


@pytest.fixture
def folder(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester folder with a ``scenarios/`` directory and no live credentials."""
    for name in (
        "CMSF_SF_USERNAME",
        "CMSF_SF_SESSION_ID",
        "CMSF_SF_INSTANCE_URL",
        "CMSF_CM_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    pytester.mkdir("scenarios")
    return pytester


def write(pytester: pytest.Pytester, **files: str) -> None:
    for stem, text in files.items():
        (pytester.path / "scenarios" / f"{stem}.yaml").write_text(text, encoding="utf-8")


def test_each_scenario_file_is_one_test_named_after_the_scenario(folder: pytest.Pytester) -> None:
    write(folder, ok=PASSING, other=PASSING.replace("tiny-ok", "tiny-two"))
    result = folder.runpytest("--collect-only", "-q", "scenarios")
    result.stdout.fnmatch_lines(["scenarios/ok.yaml::tiny-ok", "scenarios/other.yaml::tiny-two"])


def test_yaml_outside_a_scenarios_folder_is_not_collected(folder: pytest.Pytester) -> None:
    folder.makefile(".yaml", config=PASSING)
    result = folder.runpytest("--collect-only", "-q", "config.yaml")
    assert "tiny-ok" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*no tests*"])


def test_failing_scenario_prints_expected_found_and_time(folder: pytest.Pytester) -> None:
    write(folder, ok=PASSING, bad=FAILING)
    result = folder.runpytest("scenarios")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*tiny-bad: FAILED (1 failure(s)); runs: completed; virtual time +5m",
            "FAIL run_status(status='stopped')  [[]line 6, at +5m[]]",
            "*expected: 'stopped'",
            "*found:    'completed'",
            "timeline (virtual time from the start):",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_malformed_file_fails_with_file_and_line(folder: pytest.Pytester) -> None:
    write(folder, broken=tiny("timeline:\n  - {at: +5x, run: primary_sync}\n", name="broken"))
    result = folder.runpytest("scenarios")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["malformed scenario file:", "*broken.yaml:5: timeline[[]0[]].at: '+5x' is not a time*"]
    )


def test_known_issue_is_reported_as_xfail_without_running(folder: pytest.Pytester) -> None:
    write(folder, issue="known_issue: the engine cannot do this yet\n" + FAILING)
    result = folder.runpytest("scenarios", "-rx")
    result.assert_outcomes(xfailed=1)
    result.stdout.fnmatch_lines(["*known issue: the engine cannot do this yet*"])


def test_known_issues_can_be_run_on_request_and_are_strict(folder: pytest.Pytester) -> None:
    write(folder, issue="known_issue: fixed by now\n" + PASSING)
    result = folder.runpytest("scenarios", "--run-known-issues")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*XPASS(strict)*known issue: fixed by now*"])


def test_live_scenario_is_skipped_without_credentials(folder: pytest.Pytester) -> None:
    write(folder, smoke="live: true\n" + PASSING)
    result = folder.runpytest("scenarios", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*a live run needs Salesforce (CMSF_SF_*) and Campaign Monitor*"])


def test_scenarios_run_in_parallel_under_xdist(folder: pytest.Pytester) -> None:
    write(folder, one=PASSING, two=PASSING.replace("tiny-ok", "tiny-two"), bad=FAILING)
    result = folder.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "scenarios")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*2 workers*"])


def test_report_option_writes_one_report_per_scenario(folder: pytest.Pytester) -> None:
    write(folder, ok=PASSING)
    result = folder.runpytest("scenarios", "--scenario-report", "reports")
    result.assert_outcomes(passed=1)
    assert (folder.path / "reports" / "tiny-ok" / "index.html").is_file()
