"""The state machine's definition: lint-clean as CloudFormation sees it, and every transition lands."""

from __future__ import annotations

import json
from typing import Any

from cfnlint.api import ManualArgs, lint

from local.serve.application import declared_application
from local.template import TEMPLATE
from videos_core import errors
from videos_core.logic.history import STORE_RETRIES

DEFINITION = TEMPLATE.parent / "statemachine" / "jobs.asl.json"


def definition() -> dict[str, Any]:
    """The definition as the template's DefinitionSubstitutions make it, with the parameters' defaults."""
    (machine,) = declared_application().state_machines.values()
    parsed: dict[str, Any] = json.loads(machine.definition)
    return parsed


def test_cfn_lint_finds_nothing_in_the_definition() -> None:
    """cfn-lint skips DefinitionUri files, so the definition is linted inside a plain state machine."""
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Jobs": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"Definition": definition(), "RoleArn": "arn:aws:iam::123456789012:role/jobs"},
            }
        },
    }

    assert [
        str(match) for match in lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
    ] == []


def test_every_transition_lands_on_a_state() -> None:
    states = definition()["States"]
    targets = []
    for state in states.values():
        targets += [state[key] for key in ("Next", "Default") if key in state]
        targets += [choice["Next"] for choice in state.get("Choices", [])]
        targets += [catch["Next"] for catch in state.get("Catch", [])]

    assert definition()["StartAt"] in states
    assert set(targets) <= set(states)
    assert set(states) - {definition()["StartAt"]} <= set(targets)


def test_every_upstream_status_has_its_branch_and_the_loop_a_default() -> None:
    route = definition()["States"]["RouteStatus"]
    statuses = {choice.get("StringEquals") for choice in route["Choices"]}

    assert {"queued", "in_progress", "completed", "failed", "finalised"} <= statuses
    assert route["Default"] == "WaitForUpstream"
    assert definition()["States"]["WaitForUpstream"]["SecondsPath"] == "$.check.wait_seconds"


def test_every_task_is_caught() -> None:
    for name, state in definition()["States"].items():
        if state["Type"] == "Task":
            assert any("States.ALL" in catch["ErrorEquals"] for catch in state.get("Catch", [])), name


def test_every_arn_names_its_partition_through_the_template() -> None:
    """No `arn:aws:` written out: the definition deploys in every partition (aws-cn, aws-us-gov)."""
    assert "arn:aws:" not in DEFINITION.read_text()
    assert "arn:aws:" not in (TEMPLATE.parent / "template.yaml").read_text()


def test_the_history_budget_counts_store_assets_retries_as_the_definition_allows() -> None:
    (retry,) = definition()["States"]["StoreAssets"]["Retry"]
    assert retry["MaxAttempts"] == STORE_RETRIES


def test_every_error_the_definition_names_is_aws_own_or_a_class_the_functions_raise() -> None:
    """Lambda names a function's error by its exception's class: a class renamed in the code and not
    in the definition would silently stop being retried."""
    named = {
        error
        for state in definition()["States"].values()
        for rule in [*state.get("Retry", []), *state.get("Catch", [])]
        for error in rule["ErrorEquals"]
    }
    ours = {error for error in named if not error.startswith(("States.", "Lambda.", "Sandbox.", "Runtime."))}

    assert ours == {"UpstreamRetryableError", "ServiceUnavailable", "UpstreamRateLimited"}
    assert all(issubclass(getattr(errors, name), errors.ApiError) for name in ours)
