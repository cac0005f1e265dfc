"""Invariants report what they expected and what they found when they do not hold."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scenarios.runner import run_scenario
from tests.scenarios.conftest import tiny

SYNCED = """
timeline:
  - {at: +1m, event: subscribers_added, as: people,
     with: {list: list1, emails: [ada@i.example], salesforce: contact}}
  - {at: +5m, event: list_created, as: extra, with: {client: client1, name: Extra}}
  - {at: +10m, run: primary_sync}
  - {at: +20m, event: list_deleted, with: {list: extra}}
  - {at: +1h, run: primary_sync}
"""


@pytest.mark.parametrize(
    ("expectation", "expected", "found"),
    [
        ("opted_out: [ada@i.example]", "HasOptedOutOfEmail = True", [False]),
        ("opted_out: [zed@i.example]", "a Contact or Lead", "nobody with this email"),
        ("member_state: {list: list1, email: zed@i.example, state: Active}", "Active", "absent"),
        (
            "member_state: {list: list1, emails: people, state: Active, linked_to: lead}",
            "linked to a lead",
            "linked to contact",
        ),
        ("maintenance_messages: {none: true}", "no messages", ["CMSF-LIST-GONE"]),
        ("maintenance_messages: [CMSF-SANDBOX]", ["CMSF-SANDBOX"], ["CMSF-LIST-GONE"]),
        (
            "maintenance_messages: {includes: [CMSF-CM-DOWN]}",
            "including CMSF-CM-DOWN",
            ["CMSF-LIST-GONE"],
        ),
        (
            "maintenance_messages: {excludes: [CMSF-LIST-GONE]}",
            "none of CMSF-LIST-GONE",
            ["CMSF-LIST-GONE"],
        ),
        ("run_status: {sequence: [completed, failed]}", ["completed", "failed"], ["completed"] * 2),
        ("run_status: {status: stopped, run: 1}", "stopped", "completed"),
        ("run_status: {run: 3}", "run 3", "2 run(s)"),
        ("records: {object: CMSF_List__c, count: 2}", 2, 1),
        ("records: {object: Contact, where: \"Email = 'ada@i.example'\", max: 0}", "<= 0", 1),
        ("org_differs_from_account: member", "some members", "none"),
        ("field_value: {object: CMSF_List__c, field: Name, equals: Nope}", "Nope", "List 1"),
        (
            "field_value: {object: CMSF_List__c, field: Name, contains: Zed}",
            "contains 'Zed'",
            "List 1",
        ),
        (
            "field_value: {object: CMSF_List__c, field: Name, not_contains: List}",
            "without 'List'",
            "List 1",
        ),
        (
            "field_value: {object: CMSF_List__c, where: \"Name = 'X'\", field: Name, equals: X}",
            "at least one record",
            "none",
        ),
        (
            "record_owner: {object: CMSF_List__c, owner: nobody@acme.example}",
            "a user nobody@acme.example",
            "no such user",
        ),
        ("run_messages: {run: 2, exactly: [CMSF-SANDBOX]}", ["CMSF-SANDBOX"], ["CMSF-LIST-GONE"]),
        ("run_messages: {run: 1, includes: [CMSF-LIST-GONE]}", "including CMSF-LIST-GONE", []),
        ("run_messages: {run: 2, none: true}", "no messages", ["CMSF-LIST-GONE"]),
        (
            "run_messages: {run: 2, code: CMSF-LIST-GONE, text: was renamed}",
            "a message saying 'was renamed'",
            ["CMSF-LIST-GONE: List 'Extra' was deleted in Campaign Monitor"],
        ),
        ("run_messages: {run: 5}", "run 5", "2 run(s)"),
    ],
    ids=[
        "opted-out",
        "opted-out-nobody",
        "member-absent",
        "member-linked",
        "messages-none",
        "messages-exactly",
        "messages-includes",
        "messages-excludes",
        "run-sequence",
        "run-status",
        "run-missing",
        "records-count",
        "records-max",
        "differs",
        "field-equals",
        "field-contains",
        "field-not-contains",
        "field-no-record",
        "owner-unknown",
        "run-messages-exactly",
        "run-messages-includes",
        "run-messages-none",
        "run-messages-text",
        "run-messages-no-run",
    ],
)
def test_invariant_that_does_not_hold_reports_expected_and_found(
    scenario_file: Callable[..., Path], expectation: str, expected: Any, found: Any
) -> None:
    result = run_scenario(scenario_file(tiny(SYNCED + f"expect:\n  - {expectation}\n")))
    [failure] = result.failures
    assert (failure.expected, failure.found, failure.at) == (expected, found, "+1h")


def test_the_same_invariants_hold_when_the_facts_agree(scenario_file: Callable[..., Path]) -> None:
    result = run_scenario(
        scenario_file(
            tiny(
                SYNCED
                + """
expect:
  - not_opted_out: people
  - member_state: {list: list1, emails: people, state: Active, linked_to: contact}
  - maintenance_messages: [CMSF-LIST-GONE]
  - run_status: {sequence: [completed, completed]}
  - records: {object: CMSF_List__c, count: 1}
  - org_matches_account
  - no_duplicate_members
  - nothing_written_to_campaign_monitor
  - field_value: {object: CMSF_List__c, field: Name, equals: List 1}
  - field_value: {object: CMSF_List_Member__c, where: "Email__c = 'ada@i.example'", field: Contact__r.Email, contains: ada@}
  - record_owner: {object: CMSF_List__c, owner: running user}
  - run_messages: {run: 1, none: true}
  - run_messages: {run: 2, exactly: [CMSF-LIST-GONE], text: deleted in Campaign Monitor}
  - journal_holds_no_addresses
"""
            )
        )
    )
    assert result.passed, result.diff_text()


def test_writes_to_campaign_monitor_are_caught(
    scenario_file: Callable[..., Path], tmp_path: Path
) -> None:
    (tmp_path / "case.py").write_text(
        "def add_through_the_api(play, email):\n"
        "    list_id = play.ref('list1', 'list')\n"
        "    with play.account.client() as http:\n"
        "        http.post(f'/subscribers/{list_id}.json',"
        " json={'EmailAddress': email, 'ConsentToTrack': 'Yes'})\n",
        encoding="utf-8",
    )
    path = scenario_file(
        tiny(
            "timeline:\n  - {at: +1h, call: add_through_the_api, with: {email: eve@i.example}}\n"
            "expect: [nothing_written_to_campaign_monitor]\n"
        )
    )
    result = run_scenario(path)
    [failure] = result.failures
    assert failure.expected == "no writes" and failure.subject == "1 write(s)"
    assert result.timeline[1].outcome == "called"
    [write] = failure.found
    assert write.startswith("POST /api/v3.3/subscribers/") and write.endswith(".json at +1h")


def test_hook_check_returning_false_fails(
    scenario_file: Callable[..., Path], tmp_path: Path
) -> None:
    (tmp_path / "case.py").write_text("def never(play):\n    return False\n", encoding="utf-8")
    path = scenario_file(tiny("timeline: []\nexpect:\n  - call: never\n"))
    [failure] = run_scenario(path).failures
    assert (failure.check, failure.expected, failure.found) == (
        "call(function='never')",
        True,
        False,
    )


def test_invariant_that_cannot_be_checked_reports_the_error(
    scenario_file: Callable[..., Path],
) -> None:
    path = scenario_file(
        tiny('timeline: []\nexpect:\n  - records: {object: Contact, where: "Nope = 1", count: 0}\n')
    )
    [failure] = run_scenario(path).failures
    assert failure.expected == "a check that can be made"
    assert failure.found.startswith("error: ") and "Nope" in failure.found


def test_an_address_in_the_journal_is_found(scenario_file: Callable[..., Path]) -> None:
    from scenarios.invariants_runs import journal_holds_no_addresses
    from scenarios.loader import load_scenario
    from scenarios.runner import play_scenario

    play = play_scenario(load_scenario(scenario_file(tiny(SYNCED))))
    try:
        assert journal_holds_no_addresses(play, {}) == []
        play.journal.db["leak"].insert({"note": "wrote to ada@i.example"})
        [mismatch] = journal_holds_no_addresses(play, {})
    finally:
        play.close()
    assert (mismatch.expected, mismatch.found) == ("no address", ["ada@i.example"])
