"""Every statement of every policy the template grants is needed: for each in turn, the stack runs with
that one statement taken away, and the scenario of its function (or of the state machine) fails, with
the AWS call it allowed refused as AccessDenied. Together with the suite passing under the policies as
granted, this is the proof that the offline stack denies what AWS would deny.

This file: every scenario under the policies as granted, and the API functions' statements
(`test_job_statements_matter.py` has the rest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.iam.conftest import OF_THE_API, THAT_MATTER, assert_statement_matters, revoke
from tests.integration.iam.scenarios import SCENARIOS, Lab, Scenario, scenario_for


def _name(scenario: Scenario) -> str:
    return scenario.__name__


def test_every_statement_is_shown_to_matter_or_is_not_called_offline() -> None:
    assert len(THAT_MATTER) > 40
    for name in THAT_MATTER:
        scenario_for(name)  # raises for a statement no scenario covers


@pytest.mark.parametrize("scenario", list(dict.fromkeys(SCENARIOS.values())), ids=_name)
def test_each_scenario_passes_under_the_policies_as_granted(
    lab: Lab, audit_dir: Path, scenario: Scenario
) -> None:
    revoke(audit_dir, [])

    scenario(lab)

    assert not (audit_dir / "denied").exists() or (audit_dir / "denied").read_text() == ""


@pytest.mark.parametrize("statement", OF_THE_API)
def test_taking_a_statement_away_fails_its_scenario(lab: Lab, audit_dir: Path, statement: str) -> None:
    assert_statement_matters(lab, audit_dir, statement)
