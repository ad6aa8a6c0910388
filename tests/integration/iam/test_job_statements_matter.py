"""Every statement of the roles that run a job after its create — the state machine's, its functions',
the webhook's and the reconciler's — is needed: taken away, its scenario fails with the call it allowed
refused (`test_api_statements_matter.py` has the API's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.iam.conftest import (
    JOB_SCENARIOS,
    OF_JOBS,
    OF_THE_API,
    THAT_MATTER,
    assert_statement_matters,
    passes_as_granted,
)
from tests.integration.iam.scenarios import Lab, Scenario


def test_the_two_files_cover_every_statement_once() -> None:
    assert sorted(OF_JOBS + OF_THE_API) == THAT_MATTER
    assert OF_JOBS
    assert OF_THE_API


@pytest.mark.parametrize("statement", OF_JOBS)
def test_taking_a_statement_away_fails_its_scenario(lab: Lab, audit_dir: Path, statement: str) -> None:
    assert_statement_matters(lab, audit_dir, statement)


@pytest.mark.parametrize("scenario", JOB_SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_each_scenario_passes_under_the_policies_as_granted(
    lab: Lab, audit_dir: Path, scenario: Scenario
) -> None:
    passes_as_granted(lab, audit_dir, scenario)
