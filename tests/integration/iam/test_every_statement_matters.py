"""Every statement of every policy the template grants is needed: for each in turn, the stack runs with
that one statement taken away, and the scenario of its function (or of the state machine) fails, with
the AWS call it allowed refused as AccessDenied. Together with the suite passing under the policies as
granted, this is the proof that the offline stack denies what AWS would deny."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import OpenAI

from local.iam.enforce import AUDIT_DIR_ENV
from local.serve.application import declared_application
from local.serve.stack import LocalStack
from tests.integration.iam.scenarios import NOT_CALLED_OFFLINE, PROMPT, SCENARIOS, Lab, Scenario, scenario_for
from tests.integration.workflow.harness import new_owner, running_stack

_APPLICATION = declared_application()
POLICIES = [f.policy for f in _APPLICATION.functions.values()] + [
    m.policy for m in _APPLICATION.state_machines.values()
]
STATEMENTS = {statement.name: statement for policy in POLICIES for statement in policy.statements}
THAT_MATTER = sorted(name for name in STATEMENTS if not name.endswith(NOT_CALLED_OFFLINE))


@pytest.fixture(scope="module")
def audit_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("iam-audit")
    # The stack's processes (its workers and the AWS endpoint) read it from their environment.
    os.environ[AUDIT_DIR_ENV] = str(directory)
    try:
        yield directory
    finally:
        del os.environ[AUDIT_DIR_ENV]


@pytest.fixture(scope="module")
def stack(audit_dir: Path, engine_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(engine_url, tmp_path_factory.mktemp("iam-logs")) as local:
        yield local


@pytest.fixture(scope="module")
def engine(engine_url: str) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{engine_url}/v1", api_key="sk-test", max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def finished_upstream_id(engine: OpenAI) -> str:
    return str(engine.videos.create_and_poll(prompt=PROMPT, poll_interval_ms=100).id)


@pytest.fixture(scope="module")
def forced_machine_arn(stack: LocalStack) -> str:
    """The job state machine entered at its forced failure path, under the same role: the path is
    otherwise reached only after EndFailed's retries (about a minute)."""
    (machine,) = stack.application.state_machines.values()
    definition = json.loads(machine.definition) | {"StartAt": "ForcedCheck"}
    created = stack.aws.client("stepfunctions").create_state_machine(
        name=f"{machine.name}-forced-entry", definition=json.dumps(definition), roleArn=machine.role_arn
    )
    return str(created["stateMachineArn"])


@pytest.fixture
def lab(
    stack: LocalStack, engine_url: str, engine: OpenAI, finished_upstream_id: str, forced_machine_arn: str
) -> Iterator[Lab]:
    with new_owner(stack, engine_url) as flow:
        yield Lab(flow, engine, finished_upstream_id, forced_machine_arn)


def _name(scenario: Scenario) -> str:
    return scenario.__name__


def _revoke(audit_dir: Path, names: list[str]) -> None:
    written = audit_dir / "revoked.tmp"
    written.write_text("".join(f"{name}\n" for name in names))
    written.replace(audit_dir / "revoked")


def test_every_statement_is_shown_to_matter_or_is_not_called_offline() -> None:
    assert len(THAT_MATTER) > 40
    for name in THAT_MATTER:
        scenario_for(name)  # raises for a statement no scenario covers


@pytest.mark.parametrize("scenario", list(dict.fromkeys(SCENARIOS.values())), ids=_name)
def test_each_scenario_passes_under_the_policies_as_granted(
    lab: Lab, audit_dir: Path, scenario: Scenario
) -> None:
    _revoke(audit_dir, [])

    scenario(lab)

    assert not (audit_dir / "denied").exists() or (audit_dir / "denied").read_text() == ""


@pytest.mark.parametrize("statement", THAT_MATTER)
def test_taking_a_statement_away_fails_its_scenario(lab: Lab, audit_dir: Path, statement: str) -> None:
    role = statement.split(".", 1)[0]
    function = _APPLICATION.functions.get(role.removesuffix("Role"))
    actions = STATEMENTS[statement].actions
    if function is not None and any(action.startswith("ssm:") for action in actions):
        # A warm container keeps the secret it read; a new one must read it under the new policy.
        lab.stack.functions.pools[function.name].close()
    (audit_dir / "denied").write_text("")
    _revoke(audit_dir, [statement])
    try:
        with pytest.raises((AssertionError, TimeoutError)):
            scenario_for(statement)(lab)
    finally:
        _revoke(audit_dir, [])

    denied = (audit_dir / "denied").read_text()
    assert any(f"perform: {action} on" in denied for action in actions), denied
