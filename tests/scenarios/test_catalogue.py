"""The bundled catalogue: well formed, covers the situations of issue 5, listed in the README."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from scenarios.catalogue import CATALOGUE_DIR, find_scenario, scenario_paths
from scenarios.errors import UnknownScenarioError
from scenarios.loader import EVENTS, FIGURES, INVARIANTS, load_scenario
from scenarios.registry import Registry
from scenarios.runner import run_scenario

README = Path(__file__).resolve().parents[2] / "README.md"

SITUATIONS = {
    "first connection and initial sync": "first-connection",
    "hourly incremental sync": "hourly-incremental-sync",
    "spam filter, one-click unsubscribe": "spam-filter-one-click",
    "spam filter, two-click unsubscribe": "spam-filter-two-click",
    "bounces": "bounces",
    "unsubscribe from all lists, opt-out on": "unsubscribe-all-lists-opt-out-on",
    "unsubscribe from all lists, opt-out off": "unsubscribe-all-lists-opt-out-off",
    "list deleted in Campaign Monitor": "list-deleted",
    "hidden campaign": "hidden-campaign",
    "campaign start-date and tag filters": "campaign-filters",
    "retention days changed and set to 0": "tracking-retention",
    "activity-type filter": "activity-type-filter",
    "status mapping, auto-created statuses, responded flags": "campaign-member-status-mapping",
    "older activity does not move a status": "older-activity-keeps-status",
    "create rule creating Leads or Contacts": "create-rule-contacts-and-leads",
    "create rule failing on a restricted field": "create-rule-restricted-field",
    "agency clients selected and deselected": "agency-client-selection",
    "Campaign Monitor outage and recovery": "cm-outage-recovery",
    "429 storm": "cm-rate-limit-storm",
    "Salesforce API budget nearly spent": "sf-api-budget-nearly-spent",
    "expired session": "sf-session-expired",
    "full sync after data deleted by hand": "full-sync-after-manual-deletes",
    "suppression list sync": "suppression-list-sync",
    "sandbox refresh": "sandbox-refresh",
}
"""Issue 5 section 6, and the sandbox refresh: each situation and its scenario."""


ISSUE_8 = {
    "1 refused writes are retried until written": "refused-memberships-retried",
    "2 a stopped full sync stays a full sync": "full-sync-stopped-stays-full",
    "3 bookmarks are instants, not local text": "time-zone-moved-west",
    "4 one session everywhere (Bulk API too)": "session-expires-during-bulk-job",
    "5 every setting does what it says": "governor-limits-steer-writes",
    "6 a journal belongs to one org and one connection": "journal-reused-for-a-sandbox",
    "6 a journal reused after connecting elsewhere": "journal-follows-the-connection",
    "7 links survive deselect and reselect": "campaign-links-survive-reselect",
    "8 lead conversion and merges move everything": "people-follow-conversion-and-merge",
    "9 owners must be active": "inactive-owner",
    "10 readable data": "custom-fields-stay-readable",
    "11 no personal data on the runner's disk": "journal-holds-no-addresses",
    "12 the sandbox guard trusts the account": "sandbox-test-account-claim",
}
"""Issue 8: each fixed case and the scenario that proves it (``cmsf sync --if-due`` with
``Never`` is proven by ``tests/cmsf_core/test_cli_process.py``, a CLI test)."""


def test_every_catalogue_file_loads_with_a_unique_name_matching_its_file() -> None:
    scenarios = [load_scenario(path) for path in scenario_paths()]
    assert [s.name for s in scenarios] == [p.stem for p in scenario_paths()]
    assert len({s.name for s in scenarios}) == len(scenarios)


@pytest.mark.parametrize(
    "situation", sorted(SITUATIONS), ids=[SITUATIONS[s] for s in sorted(SITUATIONS)]
)
def test_each_situation_of_the_issue_has_a_scenario(situation: str) -> None:
    scenario = find_scenario(SITUATIONS[situation])
    assert scenario.expect, f"{scenario.name} asserts nothing"


@pytest.mark.parametrize("case", sorted(ISSUE_8), ids=[ISSUE_8[c] for c in sorted(ISSUE_8)])
def test_each_fixed_case_of_issue_8_has_a_scenario_that_runs_by_default(case: str) -> None:
    scenario = find_scenario(ISSUE_8[case])
    assert scenario.expect and scenario.known_issue is None


def test_hook_modules_belong_to_a_scenario() -> None:
    stems = {p.stem for p in scenario_paths()}
    hooks = {p.stem for p in CATALOGUE_DIR.glob("*-*.py")}
    assert hooks <= stems


def test_a_scenario_is_found_by_path_as_well_as_by_name() -> None:
    by_path = find_scenario(CATALOGUE_DIR / "bounces.yaml")
    assert by_path.name == "bounces" == find_scenario("bounces").name


def test_an_unknown_name_lists_the_catalogue() -> None:
    with pytest.raises(UnknownScenarioError) as exc:
        find_scenario("bouncez")
    assert "no scenario is called 'bouncez'; known scenarios: activity-type-filter" in str(
        exc.value
    )


def test_the_readme_lists_every_catalogue_scenario() -> None:
    section = _readme_section().split("### Catalogue", 1)[1]
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, flags=re.MULTILINE))
    assert listed == {p.stem for p in scenario_paths()}


def _readme_section() -> str:
    return README.read_text(encoding="utf-8").split("## Scenarios", 1)[1].split("\n## ", 1)[0]


def test_the_readme_example_is_a_passing_scenario(tmp_path: Path) -> None:
    block = re.search(r"```yaml\n(.*?)```", _readme_section(), flags=re.DOTALL)
    assert block is not None
    path = tmp_path / "readme-example.yaml"
    path.write_text(block.group(1), encoding="utf-8")
    result = run_scenario(load_scenario(path))
    assert result.passed, result.diff_text()


@pytest.mark.parametrize(
    "registry", [EVENTS, INVARIANTS, FIGURES], ids=["events", "invariants", "figures"]
)
def test_the_readme_documents_every_name(registry: Registry[Any]) -> None:
    section = _readme_section()
    missing = [name for name in registry.names() if f"`{name}`" not in section]
    assert not missing, f"README's Scenarios section does not mention {missing}"
