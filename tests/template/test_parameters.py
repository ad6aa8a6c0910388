"""template.yaml's Parameters and `Settings` state each bound once between them: a Parameter that
reaches the functions' environment (Globals or a function's own) as a variable `Settings` reads
(`ENVIRONMENT`) must have the Default, MinValue/MaxValue, AllowedValues and AllowedPattern of the
field it becomes, so that a stack CloudFormation accepts is one every function starts with, and the
reverse.

Not checked here:
- UpstreamBaseUrl: a URL `Settings` checks as every route's base URL is checked (https, or http to
  this machine), more than the template's pattern can say.
- ContentCredentialsKeyArn: CONTENT_CREDENTIALS_KEY through a condition (the stack's own key's ARN
  when empty), which `Settings` checks with the Parameter's pattern.
- Parameters that reach no `Settings` field, listed in ELSEWHERE with where they go: the state
  machine's own (FirstCheckSeconds, RetryIntervalSeconds, filled into the definition), Powertools'
  (MetricsNamespace, XRaySdkTracing), and the template's own resources (log retention, alarms, the
  API's throttle and CORS, the reconciler's schedule, reserved concurrency).
- Whole numbers: CloudFormation's Number takes 1.5 where an `int` field refuses it; a Parameter has
  no integer type to say so.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, get_args, get_origin

import annotated_types
import pytest
from pydantic.fields import FieldInfo

from local.template import application_template, resources_of_type
from tests.support import SETTINGS_ENV
from videos_core.settings import ENVIRONMENT, Settings, load_settings

TEMPLATE = application_template()
PARAMETERS: dict[str, dict[str, Any]] = TEMPLATE["Parameters"]

CHECKED_BY_SETTINGS_ALONE = {"UpstreamBaseUrl", "ContentCredentialsKeyArn"}
ELSEWHERE = {
    "WebhookDeliveryMaxReceives": "the delivery queue's RedrivePolicy (maxReceiveCount)",
    "MetricsNamespace": "POWERTOOLS_METRICS_NAMESPACE and the state machine's metric, for Powertools",
    "XRaySdkTracing": "POWERTOOLS_TRACE_DISABLED, through a condition, for Powertools",
    "FirstCheckSeconds": "the state machine's definition",
    "RetryIntervalSeconds": "the state machine's definition",
    "LogRetentionDays": "the log groups",
    "AlarmTopicArn": "the alarms",
    "PollRequestsPerSecond": "the API's throttle on /poll",
    "ReconcileEveryMinutes": "the reconciler's schedule",
    "WorkflowReservedConcurrency": "the workflow functions' reserved concurrency",
    "UpstreamKeysKmsKeyArn": "the key the upstream keys' readers may decrypt with, through a condition",
    "CorsAllowOrigins": "the API's CorsConfiguration, through a condition",
}


def _referenced(value: Any) -> set[str]:
    """The Parameters a template value names (`Ref`, or `${Name}` in a `Fn::Sub`)."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return {value["Ref"]} & set(PARAMETERS)
        if set(value) == {"Fn::Sub"}:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            return {name for name in PARAMETERS if "${" + name + "}" in text}
        return set().union(*(_referenced(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_referenced(v) for v in value))
    return set()


def _environments() -> dict[str, dict[str, Any]]:
    """Where each function's variables are set: Globals, and each function's own."""
    places = {"Globals": TEMPLATE["Globals"]["Function"].get("Environment", {}).get("Variables", {})}
    for logical_id, function in resources_of_type(TEMPLATE, "AWS::Serverless::Function").items():
        places[logical_id] = function["Properties"].get("Environment", {}).get("Variables", {})
    return places


def _variables_by_parameter() -> dict[str, set[str]]:
    """Parameter -> every environment variable set from it, in any function."""
    found: dict[str, set[str]] = {}
    for variables in _environments().values():
        for variable, value in variables.items():
            for parameter in _referenced(value):
                found.setdefault(parameter, set()).add(variable)
    return found


VARIABLES = _variables_by_parameter()
REACHING_SETTINGS = sorted(
    parameter
    for parameter, variables in VARIABLES.items()
    if variables & set(ENVIRONMENT) and parameter not in CHECKED_BY_SETTINGS_ALONE
)


def _field(parameter: str) -> tuple[str, str, FieldInfo]:
    (variable,) = VARIABLES[parameter] & set(ENVIRONMENT)
    name = ENVIRONMENT[variable]
    return variable, name, Settings.model_fields[name]


def _bound(field: FieldInfo, kind: type[Any]) -> Any:
    return next((getattr(m, kind.__name__.lower()) for m in field.metadata if isinstance(m, kind)), None)


def _number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _pattern(field: FieldInfo) -> str | None:
    return next((m.pattern for m in field.metadata if getattr(m, "pattern", None)), None)


def _finite_values(field: FieldInfo) -> set[Any] | None:
    """Every value the field can take, when there are few (a bool, a Literal); else None."""
    annotation = field.annotation
    if annotation is bool:
        return {True, False}
    if get_origin(annotation) is Literal:
        return set(get_args(annotation))
    return None


def _loaded(variable: str, name: str, raw: Any) -> Any:
    """The field's value when the function's environment sets `variable` to `raw`, as the template does."""
    text = str(raw).lower() if isinstance(raw, bool) else str(raw)
    return getattr(load_settings(SETTINGS_ENV | {variable: text}), name)


def test_every_parameter_reaches_settings_or_is_said_to_go_elsewhere() -> None:
    """A new Parameter is either compared below or listed with where it goes."""
    assert set(PARAMETERS) == set(REACHING_SETTINGS) | CHECKED_BY_SETTINGS_ALONE | set(ELSEWHERE)
    assert not set(REACHING_SETTINGS) & set(ELSEWHERE)
    for parameter in ELSEWHERE:
        assert not VARIABLES.get(parameter, set()) & set(ENVIRONMENT), parameter


@pytest.mark.parametrize("parameter", REACHING_SETTINGS)
def test_a_parameter_is_passed_untouched_to_one_variable(parameter: str) -> None:
    """A value the template changes on the way (a `Fn::Sub`, a condition) could not be compared."""
    for variables in _environments().values():
        for variable, value in variables.items():
            if parameter in _referenced(value):
                assert value == {"Ref": parameter}, (variable, value)
    assert len(VARIABLES[parameter] & set(ENVIRONMENT)) == 1, VARIABLES[parameter]


@pytest.mark.parametrize("parameter", REACHING_SETTINGS)
def test_the_default_is_the_fields(parameter: str) -> None:
    variable, name, field = _field(parameter)
    declared = PARAMETERS[parameter]
    assert "Default" in declared, f"{parameter} has no Default; {variable} would be required"
    loaded = _loaded(variable, name, declared["Default"])
    if field.is_required() or field.default is None:
        # The field has no value of its own (functions without the variable go without the feature):
        # the template's is one it accepts.
        return
    assert loaded == field.default, (parameter, declared["Default"], name, field.default)


@pytest.mark.parametrize("parameter", REACHING_SETTINGS)
def test_numeric_bounds_are_the_fields(parameter: str) -> None:
    _, name, field = _field(parameter)
    declared = PARAMETERS[parameter]
    assert (declared["Type"] == "Number") == (field.annotation in (int, float, Decimal)), name
    # CloudFormation's MinValue and MaxValue hold their own value: the field's bounds must too.
    assert _bound(field, annotated_types.Gt) is None, f"{name}: use ge, as MinValue includes its value"
    assert _bound(field, annotated_types.Lt) is None, f"{name}: use le, as MaxValue includes its value"
    for key, kind in (("MinValue", annotated_types.Ge), ("MaxValue", annotated_types.Le)):
        mine = declared.get(key)
        theirs = _bound(field, kind)
        assert _number(mine) == _number(theirs), (parameter, key, mine, name, theirs)


@pytest.mark.parametrize("parameter", REACHING_SETTINGS)
def test_allowed_values_are_what_the_field_takes(parameter: str) -> None:
    variable, name, field = _field(parameter)
    allowed = PARAMETERS[parameter].get("AllowedValues")
    finite = _finite_values(field)
    if allowed is None:
        assert finite is None, f"{parameter} takes any value, {name} only {finite}"
        return
    assert finite is not None, f"{parameter} takes only {allowed}, {name} more"
    assert {_loaded(variable, name, value) for value in allowed} == finite


@pytest.mark.parametrize("parameter", REACHING_SETTINGS)
def test_the_allowed_pattern_is_the_fields(parameter: str) -> None:
    _, name, field = _field(parameter)
    assert PARAMETERS[parameter].get("AllowedPattern") == _pattern(field), name
