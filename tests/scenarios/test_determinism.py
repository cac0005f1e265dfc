"""Same file and seed, same result: in one process, and across processes and hash seeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from scenarios.catalogue import find_scenario
from scenarios.compare import org_state
from scenarios.runner import play_scenario, run_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_two_runs_of_a_scenario_give_identical_results() -> None:
    scenario = find_scenario("spam-filter-one-click")
    first, second = run_scenario(scenario), run_scenario(scenario)
    assert first.passed
    assert first.to_dict() == second.to_dict()


def test_two_plays_end_in_the_same_org_state() -> None:
    scenario = find_scenario("campaign-member-status-mapping")
    states = []
    for _ in range(2):
        play = play_scenario(scenario)
        try:
            states.append(org_state(play.world))
        finally:
            play.close()
    assert states[0] == states[1]
    assert states[0]["CampaignMember"], "the scenario should have produced campaign members"


def _result_json(hash_seed: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    out = subprocess.run(
        [sys.executable, "-m", "scenarios.cli", "run", "cm-rate-limit-storm", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_results_do_not_depend_on_the_process_or_its_hash_seed() -> None:
    first, second = _result_json("1"), _result_json("2024")
    assert first["passed"] is True
    assert first == second
