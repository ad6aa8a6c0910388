"""The IAM lab: a stack whose every AWS call is judged by its caller's policy, with statements taken
away on demand (the `revoked` file its processes read), and what each test needs to run a scenario.

The statements are tested in two files, each with its lab, so that the two halves run side by side."""

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
from tests.integration.iam.scenarios import (
    BEDROCK_MODEL,
    FAILOVER_MODEL,
    FAL_MODEL,
    NOT_CALLED_OFFLINE,
    PROMPT,
    Lab,
    Scenario,
    scenario_for,
)
from tests.integration.workflow.harness import new_owner, running_stack

_APPLICATION = declared_application()
POLICIES = [f.policy for f in _APPLICATION.functions.values()] + [
    m.policy for m in _APPLICATION.state_machines.values()
]
STATEMENTS = {statement.name: statement for policy in POLICIES for statement in policy.statements}
THAT_MATTER = sorted(name for name in STATEMENTS if not name.endswith(NOT_CALLED_OFFLINE))
# The roles of what runs a job after its create (the state machine, its functions, the webhook and the
# reconciler); the others are the API's.
_JOB_ROLES = (
    "JobStateMachineRole",
    "CheckStatusFunctionRole",
    "StoreAssetsFunctionRole",
    "EndFailedFunctionRole",
    "WebhookFunctionRole",
    "ReconcileFunctionRole",
)
OF_JOBS = [name for name in THAT_MATTER if name.startswith(_JOB_ROLES)]
OF_THE_API = [name for name in THAT_MATTER if not name.startswith(_JOB_ROLES)]
# Each file runs its own statements' scenarios as granted too.
JOB_SCENARIOS = list(dict.fromkeys(scenario_for(name) for name in OF_JOBS))
API_SCENARIOS = list(dict.fromkeys(scenario_for(name) for name in OF_THE_API))


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
def lab_parameters() -> dict[str, str]:
    """The template's parameters the module's lab takes beyond the tests' fast ones."""
    return {}


@pytest.fixture(scope="module")
def stack(
    audit_dir: Path,
    engine_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    lab_parameters: dict[str, str],
) -> Iterator[LocalStack]:
    # A model on fal's queue too: a create routed there names a callback URL, made with the webhook secret.
    routes = {
        "sora-2": {},
        "sora-2-pro": {},
        FAL_MODEL: {"provider": "fal", "upstream_model": "fal-ai/veo3"},
        BEDROCK_MODEL: {"provider": "bedrock", "upstream_model": "luma.ray-v2:0"},
        FAILOVER_MODEL: [
            {"provider": "luma", "upstream_model": "ray-2", "api_key": "luma-test-key"},
            {"provider": "bedrock", "upstream_model": "luma.ray-v2:0"},
        ],
    }
    file = tmp_path_factory.mktemp("iam-routes") / "routes.json"
    file.write_text(json.dumps(routes))
    # The scenarios fail Luma's jobs again and again: its breaker must not open and send them elsewhere.
    never_open = {"RouteBreakerFailures": "1000", "RouteBreakerMinimumAttempts": "100000"}
    # A refused delivery is tried again within a second, and given up after 26 s (of 72 h).
    quick_retries = {"WebhookRetryScale": "0.0001"}
    with running_stack(
        engine_url, tmp_path_factory.mktemp("iam-logs"), file, **(never_open | quick_retries | lab_parameters)
    ) as local:
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


def revoke(audit_dir: Path, names: list[str]) -> None:
    written = audit_dir / "revoked.tmp"
    written.write_text("".join(f"{name}\n" for name in names))
    written.replace(audit_dir / "revoked")


def assert_statement_matters(lab: Lab, audit_dir: Path, statement: str) -> None:
    """With `statement` taken away, its scenario fails, and the call it allowed was refused."""
    role = statement.split(".", 1)[0]
    function = _APPLICATION.functions.get(role.removesuffix("Role"))
    actions = STATEMENTS[statement].actions
    if function is not None and any(action.startswith(("ssm:", "appconfig:")) for action in actions):
        # A warm container keeps the secret or the routes it read; a new one must read them under
        # the new policy.
        lab.stack.functions.pools[function.name].close()
    (audit_dir / "denied").write_text("")
    revoke(audit_dir, [statement])
    try:
        with pytest.raises((AssertionError, TimeoutError)):
            scenario_for(statement)(lab)
    finally:
        revoke(audit_dir, [])

    denied = (audit_dir / "denied").read_text()
    assert any(f"perform: {action} on" in denied for action in actions), denied


def passes_as_granted(lab: Lab, audit_dir: Path, scenario: Scenario) -> None:
    (audit_dir / "denied").write_text("")
    revoke(audit_dir, [])

    scenario(lab)

    assert (audit_dir / "denied").read_text() == ""
