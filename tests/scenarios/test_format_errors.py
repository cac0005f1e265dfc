"""Malformed scenario files fail to load with ``file:line: where: what`` for every problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scenarios.errors import ScenarioFormatError
from scenarios.loader import MAX_FILE_BYTES, load_scenario
from tests.scenarios.conftest import tiny

GOOD_TIMELINE = "timeline:\n  - {at: +1h, run: primary_sync}\n"


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioFormatError) as exc:
        load_scenario(path)
    return [str(p) for p in exc.value.problems]


def test_yaml_syntax_error_names_line_and_column(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(tiny("timeline:\n  - {at: +1h, run: primary_sync\nexpect: []\n"))
    [problem] = problems_of(path)
    assert problem == f"{path}:6: YAML syntax error, column 7: expected ',' or '}}', but got ':'"


def test_unknown_top_level_key_points_at_its_line(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(tiny(GOOD_TIMELINE + "expectations: [org_matches_account]\n"))
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:6: expectations: unknown key 'expectations'")
    assert "allowed keys:" in problem and "expect" in problem


def test_missing_purpose_is_reported(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file("name: no-purpose\n" + GOOD_TIMELINE)
    [problem] = problems_of(path)
    assert problem == f"{path}:1: missing required key 'purpose'"


def test_purpose_of_two_sentences_is_refused(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(tiny(GOOD_TIMELINE, purpose="It syncs. Then it syncs again."))
    [problem] = problems_of(path)
    assert problem == f"{path}:2: purpose: must be one sentence"


@pytest.mark.parametrize(
    ("at", "line"),
    [("+10x", 5), ("10m", 5), ("+1.5h", 5), ("soon", 5)],
    ids=["bad-unit", "no-plus", "decimal", "word"],
)
def test_bad_times_are_reported_with_the_rule(
    scenario_file: Callable[..., Path], at: str, line: int
) -> None:
    path = scenario_file(tiny(f"timeline:\n  - at: {at}\n    run: primary_sync\n"))
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line}: timeline[0].at: {at!r} is not a time")
    assert "+10m, +2h, +1d" in problem


def test_unknown_event_lists_the_known_ones(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(tiny("timeline:\n  - {at: +1h, event: list_exploded}\n"))
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:5: timeline[0].event: unknown event 'list_exploded'")
    assert "known events:" in problem and "spam_filter_scan" in problem and "cm_outage" in problem


def test_unknown_invariant_lists_the_known_ones(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(GOOD_TIMELINE + "expect:\n  - org_matches_account\n  - org_is_happy\n")
    )
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:8: expect[1]: unknown invariant 'org_is_happy'")
    assert "known invariants:" in problem and "no_duplicate_members" in problem


def test_unknown_figure_lists_the_known_ones(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(tiny(GOOD_TIMELINE + "figures:\n  happiness: {max: 1}\n"))
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:7: figures.happiness: unknown figure 'happiness'")
    assert "salesforce_calls" in problem


def test_figure_without_bounds_is_refused(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(tiny(GOOD_TIMELINE + "figures:\n  salesforce_calls: {run: last}\n"))
    [problem] = problems_of(path)
    assert problem == f"{path}:7: figures.salesforce_calls: give at least one of min, max, equals"


@pytest.mark.parametrize(
    ("with_", "message"),
    [
        ("{list: list1, emails: [a@x.example], colour: red}", "unknown key 'colour'"),
        ("{list: list1, emails: [not-an-email]}", "'not-an-email' must be an email address"),
        ("{emails: [a@x.example]}", "missing required key 'list'"),
        (
            "{list: list1, emails: [a@x.example], salesforce: account}",
            "use one of: contact, lead, none",
        ),
    ],
    ids=["unknown-argument", "bad-email", "missing-argument", "bad-choice"],
)
def test_event_arguments_are_checked_against_the_event(
    scenario_file: Callable[..., Path], with_: str, message: str
) -> None:
    path = scenario_file(
        tiny(f"timeline:\n  - at: +1m\n    event: subscribers_added\n    with: {with_}\n")
    )
    found = problems_of(path)
    assert any(p.startswith(f"{path}:") and message in p for p in found), found


@pytest.mark.parametrize(
    "with_",
    [
        "{list: list1, domain: scan.example, resubscribe: 2}",
        "{list: list1, domain: scan.example, delay_seconds: -5}",
        "{list: list1, domain: scan.example, delay_seconds: 99999999}",
        "{list: list1, domain: '<script>'}",
    ],
    ids=["resubscribe-over-1", "negative-delay", "oversized-delay", "hostile-domain"],
)
def test_spam_filter_scan_arguments_are_checked(
    scenario_file: Callable[..., Path], with_: str
) -> None:
    path = scenario_file(
        tiny(f"timeline:\n  - at: +1m\n    event: spam_filter_scan\n    with: {with_}\n")
    )
    found = problems_of(path)
    assert found and all(p.startswith(f"{path}:") for p in found), found


def test_invariant_arguments_are_checked(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            GOOD_TIMELINE
            + "expect:\n  - member_state: {list: list1, email: a@x.example, state: Gone}\n"
        )
    )
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:7: expect[0].member_state.state: 'Gone' is not allowed")


def test_a_step_needs_exactly_one_kind(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(tiny("timeline:\n  - {at: +1h, run: primary_sync, event: time_passes}\n"))
    [problem] = problems_of(path)
    assert problem == (
        f"{path}:5: timeline[0]: a step needs exactly one of: event, run, check, call"
    )


def test_with_on_a_run_step_is_refused(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny("timeline:\n  - at: +1h\n    run: primary_sync\n    with: {full: true}\n")
    )
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:7: timeline[0].with: 'with' goes with event or call")


def test_invalid_setting_names_the_setting_and_its_line(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            "settings:\n  opt_out_sync: true\n  tracking_retention_days: forever\n" + GOOD_TIMELINE
        )
    )
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:6: settings.tracking_retention_days: setting")
    assert "whole number" in problem


def test_unknown_setting_in_an_event_is_refused(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny("timeline:\n  - at: +1h\n    event: settings_changed\n    with: {opt_out: true}\n")
    )
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:7: timeline[0].with.opt_out: unknown setting 'opt_out'")


def test_world_values_out_of_range_are_refused(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        "name: big-world\npurpose: Far too big for a test.\n"
        "world: {subscribers_per_list: 1000000, kind: galactic}\n" + GOOD_TIMELINE
    )
    found = problems_of(path)
    assert any("world.subscribers_per_list" in p and "out of range" in p for p in found), found
    assert any("world.kind" in p and "agency, direct" in p for p in found), found


def test_every_problem_is_reported_at_once(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            "timeline:\n  - {at: +1h, event: nope}\n  - {at: +2h, run: primary_sync}\n"
            "expect: [nothing_at_all]\n"
        )
    )
    found = problems_of(path)
    assert len(found) == 2
    assert "timeline[0].event" in found[0] and "expect[0]" in found[1]


def test_duplicate_keys_are_refused(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(tiny(GOOD_TIMELINE + "figures:\n  runs: {min: 1}\n  runs: {max: 2}\n"))
    [problem] = problems_of(path)
    assert problem == f"{path}:8: figures: duplicate key 'runs' (first on line 7)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("- just\n- a list\n", "a scenario is a mapping"),
        ("name: [unterminated\n", "YAML syntax error"),
        ("---\nname: a\n---\nname: b\n", "YAML syntax error"),
    ],
    ids=["empty", "not-a-mapping", "unterminated", "two-documents"],
)
def test_files_that_are_not_one_mapping_are_refused(
    scenario_file: Callable[..., Path], text: str, message: str
) -> None:
    [problem] = problems_of(scenario_file(text))
    assert message in problem


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert problems_of(path) == [f"{path}: is not UTF-8 text (byte 9)"]


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("# " + "x" * MAX_FILE_BYTES, encoding="utf-8")
    assert problems_of(path) == [f"{path}: larger than 256 KB"]


def test_yaml_alias_bomb_is_refused_before_expanding(tmp_path: Path) -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    [problem] = problems_of(path)
    assert "once YAML aliases are expanded" in problem


def test_deep_nesting_is_refused_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    assert problems_of(path) == [f"{path}:1: nested too deeply to be a scenario"]


def test_missing_file_is_a_format_error(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path / "absent.yaml")
    assert problem.startswith(f"{tmp_path / 'absent.yaml'}: cannot be read")


def test_live_scenario_cannot_use_simulator_events(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny("live: true\ntimeline:\n  - {at: +1m, event: cm_outage, with: {duration: 5m}}\n")
    )
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:6: timeline[0]: a live scenario cannot use 'cm_outage'")


def test_call_step_needs_the_hook_module(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(tiny("timeline:\n  - {at: +1m, call: do_something}\n"))
    [problem] = problems_of(path)
    assert problem == f"{path}:5: timeline[0].call: needs case.py next to the scenario"


def test_hook_module_that_fails_to_import_is_reported(
    scenario_file: Callable[..., Path], tmp_path: Path
) -> None:
    path = scenario_file(tiny("hook: prepare\n" + GOOD_TIMELINE))
    (tmp_path / "case.py").write_text("raise RuntimeError('broken hook')\n", encoding="utf-8")
    [problem] = problems_of(path)
    assert (
        problem
        == f"{tmp_path / 'case.py'}: the hook module failed to import: RuntimeError: broken hook"
    )


@pytest.mark.parametrize(
    ("step", "where", "message"),
    [
        (
            "{at: +1m, event: fault_in_run, with: {platform: mainframe, at_call: 1, fault: timeout}}",
            "timeline[0].with.platform",
            "use one of: campaign_monitor, salesforce",
        ),
        (
            "{at: +1m, event: fault_in_run, with: {platform: salesforce, at_call: 0, fault: timeout}}",
            "timeline[0].with.at_call",
            "out of range",
        ),
        (
            "{at: +1m, event: fault_in_run, with: {platform: salesforce, at_call: 1, fault: meteor}}",
            "timeline[0].with.fault",
            "is not allowed",
        ),
        (
            "{at: +1m, event: fault_in_run, with: {platform: salesforce, at_call: 1, fault: timeout,"
            " after: '(unclosed'}}",
            "timeline[0].with.after",
            "regex",
        ),
        (
            "{at: +1m, event: fault_in_run, with: {platform: salesforce, fault: timeout}}",
            "timeline[0].with",
            "missing required key 'at_call'",
        ),
        (
            "{at: +1m, event: client_time_zone_changed, with: {client: client1, time_zone: Mars}}",
            "timeline[0].with.time_zone",
            "does not match",
        ),
        (
            "{at: +1m, event: connect, with: {account: third}}",
            "timeline[0].with.account",
            "use one of: first, second",
        ),
        (
            "{at: +1m, event: sf_duplicates_merged, with: {object: Account,"
            " emails: [a@b.example, c@b.example]}}",
            "timeline[0].with.object",
            "use one of: Contact, Lead",
        ),
        (
            "{at: +1m, event: sf_duplicates_merged, with: {object: Lead,"
            " emails: [a@b.example, c@b.example, d@b.example, e@b.example]}}",
            "timeline[0].with.emails",
            "too long",
        ),
        (
            "{at: +1m, event: sf_user_added, with: {username: not-a-username}}",
            "timeline[0].with.username",
            "must be an email address",
        ),
        (
            "{at: +1m, event: subscriber_edited, with: {list: list1, email: a@b.example,"
            " fields: {website: {nested: 1}}}}",
            "timeline[0].with.fields.website",
            "must be a value, or a list of values",
        ),
        (
            "{at: +1m, event: spam_filter_scan, with: {list: list1, domain: s.example,"
            " delay_seconds: -5}}",
            "timeline[0].with.delay_seconds",
            "out of range",
        ),
        (
            "{at: +1m, event: sandbox_refreshed, with: {journal: shared}}",
            "timeline[0].with.journal",
            "use one of: new, kept",
        ),
    ],
    ids=[
        "fault-platform",
        "fault-call-zero",
        "fault-kind",
        "fault-bad-regex",
        "fault-no-call",
        "zone-not-gmt",
        "connect-third-account",
        "merge-accounts",
        "merge-too-many",
        "user-not-username",
        "nested-field-value",
        "negative-delay",
        "sandbox-journal",
    ],
)
def test_arguments_of_the_issue_8_events_are_checked(
    scenario_file: Callable[..., Path], step: str, where: str, message: str
) -> None:
    path = scenario_file(tiny(f"timeline:\n  - {step}\n"))
    found = problems_of(path)
    assert any(p.startswith(f"{path}:5: {where}") and message in p for p in found), found


@pytest.mark.parametrize(
    ("expectation", "where", "message"),
    [
        ("field_value: {object: Contact}", "expect[0].field_value", "missing required key 'field'"),
        (
            "field_value: {object: Contact, field: 'Email; DROP'}",
            "expect[0].field_value.field",
            "must be a field API name",
        ),
        (
            "record_owner: {object: Contact, owner: 'the boss!'}",
            "expect[0].record_owner.owner",
            "running user",
        ),
        ("run_messages: {code: sandbox}", "expect[0].run_messages.code", "does not match"),
        ("run_messages: {run: zero}", "expect[0].run_messages.run", "must be first, last, each"),
        (
            "journal_holds_no_addresses: {deep: true}",
            "expect[0].journal_holds_no_addresses",
            "unknown key 'deep'",
        ),
    ],
    ids=[
        "field-missing",
        "field-injection",
        "owner-not-a-name",
        "code-pattern",
        "run-word",
        "journal-args",
    ],
)
def test_arguments_of_the_issue_8_invariants_are_checked(
    scenario_file: Callable[..., Path], expectation: str, where: str, message: str
) -> None:
    path = scenario_file(tiny(GOOD_TIMELINE + f"expect:\n  - {expectation}\n"))
    found = problems_of(path)
    assert any(p.startswith(f"{path}:7: {where}") and message in p for p in found), found


def test_an_unknown_key_of_the_second_account_is_refused(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        "name: two\npurpose: Two accounts.\nworld: {second_account: {clients: 3}}\n" + GOOD_TIMELINE
    )
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:3: world.second_account.clients: unknown key 'clients'")


def test_as_on_an_event_that_names_nothing_is_refused(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file(
        tiny(
            "timeline:\n"
            "  - {at: +1h, event: sandbox_refreshed, as: box}\n"
            "  - {at: +2h, event: list_changed, as: renamed, with: {list: list1, name: New}}\n"
            "  - {at: +3h, event: list_created, as: fresh, with: {client: client1, name: Fresh}}\n"
        )
    )
    problems = problems_of(path)
    assert len(problems) == 2, problems  # list_created names the list it creates: accepted
    assert problems[0].startswith(
        f"{path}:5: timeline[0].as: event 'sandbox_refreshed' names nothing"
    )
    assert problems[1].startswith(f"{path}:6: timeline[1].as: event 'list_changed' names nothing")
