"""Every statement of every policy the template grants is needed: for each in turn, the stack runs with
that one statement taken away, and the scenario of its function (or of the state machine) fails, with
the AWS call it allowed refused as AccessDenied. Together with the suite passing under the policies as
granted, this is the proof that the offline stack denies what AWS would deny.

This file: the API functions' scenarios under the policies as granted, and their statements
(`test_job_statements_matter.py` has the rest). The jobs these scenarios start are not looked at past
their create: their first status check waits the longest the template allows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.iam.conftest import (
    API_SCENARIOS,
    OF_THE_API,
    THAT_MATTER,
    assert_statement_matters,
    passes_as_granted,
)
from tests.integration.iam.scenarios import Lab, Scenario, scenario_for


@pytest.fixture(scope="module")
def lab_parameters() -> dict[str, str]:
    return {"FirstCheckSeconds": "60"}


def test_every_statement_is_shown_to_matter_or_is_not_called_offline() -> None:
    assert len(THAT_MATTER) > 40
    for name in THAT_MATTER:
        scenario_for(name)  # raises for a statement no scenario covers


@pytest.mark.parametrize("scenario", API_SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_each_scenario_passes_under_the_policies_as_granted(
    lab: Lab, audit_dir: Path, scenario: Scenario
) -> None:
    passes_as_granted(lab, audit_dir, scenario)


@pytest.mark.parametrize("statement", OF_THE_API)
def test_taking_a_statement_away_fails_its_scenario(lab: Lab, audit_dir: Path, statement: str) -> None:
    assert_statement_matters(lab, audit_dir, statement)
