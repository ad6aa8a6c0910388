"""AppConfig on the local endpoint as AWS answers it: the control plane's deployments and validation,
the data plane's sessions, Powertools' AppConfigProvider reading it, the template's resources under the
ids their Ref answers, and IAM judging each read on the configuration it reads."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parameters import AppConfigProvider
from botocore.exceptions import ClientError

from local.iam.enforce import Revocations, Role, guard_client
from local.iam.policy import Policy, parse_document
from local.serve.appconfig_ids import stack_resource_id
from local.serve.application import LOCAL_ACCOUNT, STACK, load_application
from local.serve.aws_endpoint import LocalAws, client

SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "required": ["routes"],
    "properties": {"routes": {"type": "object", "additionalProperties": {"type": "string"}}},
}


_MADE: list[Any] = []


def data_client(aws: LocalAws) -> Any:
    """An appconfigdata client of its own (a reader's session), closed with the module."""
    made = client("appconfigdata", aws.endpoint)
    _MADE.append(made)
    return made


@pytest.fixture(scope="module", autouse=True)
def _close_clients() -> Any:
    yield
    for made in _MADE:
        made.close()
    _MADE.clear()


@dataclass
class Configured:
    application: str
    environment: str
    profile: str
    now: str  # a strategy of no duration and no bake


def configured(aws: LocalAws, name: str) -> Configured:
    appconfig = aws.client("appconfig")
    application = appconfig.create_application(Name=name)["Id"]
    environment = appconfig.create_environment(ApplicationId=application, Name="local")["Id"]
    profile = appconfig.create_configuration_profile(
        ApplicationId=application,
        Name="routes",
        LocationUri="hosted",
        Validators=[{"Type": "JSON_SCHEMA", "Content": json.dumps(SCHEMA)}],
    )["Id"]
    now = appconfig.create_deployment_strategy(
        Name=f"{name}-now", DeploymentDurationInMinutes=0, FinalBakeTimeInMinutes=0, GrowthFactor=100
    )["Id"]
    return Configured(application, environment, profile, now)


def version(aws: LocalAws, at: Configured, document: object, label: str | None = None) -> str:
    extra = {"VersionLabel": label} if label else {}
    made = aws.client("appconfig").create_hosted_configuration_version(
        ApplicationId=at.application,
        ConfigurationProfileId=at.profile,
        Content=json.dumps(document).encode(),
        ContentType="application/json",
        **extra,
    )
    return str(made["VersionNumber"])


def deploy(aws: LocalAws, at: Configured, number: str, strategy: str | None = None) -> dict[str, Any]:
    deployment: dict[str, Any] = aws.client("appconfig").start_deployment(
        ApplicationId=at.application,
        EnvironmentId=at.environment,
        DeploymentStrategyId=strategy or at.now,
        ConfigurationProfileId=at.profile,
        ConfigurationVersion=number,
    )
    return deployment


def session(aws: LocalAws, at: Configured, **extra: Any) -> str:
    token: str = aws.client("appconfigdata").start_configuration_session(
        ApplicationIdentifier=at.application,
        EnvironmentIdentifier="local",  # by name
        ConfigurationProfileIdentifier="routes",
        **extra,
    )["InitialConfigurationToken"]
    return token


def body(raised: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    """The error's modeled members (Reason, Details, ResourceType), beside `Error`."""
    return dict(raised.value.response)


def error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# ---- control plane -------------------------------------------------------------------------------


def test_a_document_its_schema_refuses_is_not_stored_and_aws_says_why(aws: LocalAws) -> None:
    at = configured(aws, "validation")
    with pytest.raises(ClientError) as refused:
        version(aws, at, {"routes": {"sora-2": 3}})

    assert error(refused) == ("BadRequestException", 400)
    assert body(refused)["Reason"] == "InvalidConfiguration"
    [detail] = body(refused)["Details"]["InvalidConfiguration"]
    assert detail["Constraint"] == "type"
    assert detail["Location"] == "#/routes/sora-2"
    assert "is not of type 'string'" in detail["Reason"]
    listed = aws.client("appconfig").list_hosted_configuration_versions(
        ApplicationId=at.application, ConfigurationProfileId=at.profile
    )
    assert listed["Items"] == []


def test_a_deployment_validates_the_version_against_the_profile_as_it_is_then(aws: LocalAws) -> None:
    # Given a version stored under the profile's first schema, and a stricter schema since
    at = configured(aws, "revalidation")
    number = version(aws, at, {"routes": {}})
    stricter = SCHEMA | {"properties": {"routes": {"type": "object", "minProperties": 1}}}
    aws.client("appconfig").update_configuration_profile(
        ApplicationId=at.application,
        ConfigurationProfileId=at.profile,
        Validators=[{"Type": "JSON_SCHEMA", "Content": json.dumps(stricter)}],
    )

    with pytest.raises(ClientError) as refused:
        deploy(aws, at, number)

    assert error(refused) == ("BadRequestException", 400)
    [detail] = body(refused)["Details"]["InvalidConfiguration"]
    assert (detail["Constraint"], detail["Location"]) == ("minProperties", "#/routes")
    listed = aws.client("appconfig").list_deployments(
        ApplicationId=at.application, EnvironmentId=at.environment
    )
    assert listed["Items"] == []


def test_a_deployment_of_no_duration_is_complete_at_once_and_the_environment_ready(aws: LocalAws) -> None:
    at = configured(aws, "instant")
    deployment = deploy(aws, at, version(aws, at, {"routes": {}}))

    assert (deployment["DeploymentNumber"], deployment["State"]) == (1, "COMPLETE")
    assert deployment["PercentageComplete"] == 100.0
    environment = aws.client("appconfig").get_environment(
        ApplicationId=at.application, EnvironmentId=at.environment
    )
    assert environment["State"] == "READY_FOR_DEPLOYMENT"
    deploy(aws, at, "1")  # another is welcome


def test_a_second_deployment_while_one_is_in_progress_is_a_conflict_and_a_stop_rolls_back(
    aws: LocalAws,
) -> None:
    # Given v1 deployed, and v2 deploying over a minute
    at = configured(aws, "conflict")
    appconfig, data = aws.client("appconfig"), aws.client("appconfigdata")
    deploy(aws, at, version(aws, at, {"routes": {"a": "one"}}))
    slow = appconfig.create_deployment_strategy(Name="slow", DeploymentDurationInMinutes=1, GrowthFactor=50)[
        "Id"
    ]
    token = session(aws, at)
    deploying = deploy(aws, at, version(aws, at, {"routes": {"a": "two"}}), strategy=slow)
    assert deploying["State"] == "DEPLOYING"

    # Then the environment is deploying, refuses another, and already serves v2 (offline: at once)
    with pytest.raises(ClientError) as refused:
        deploy(aws, at, "1")
    assert error(refused) == ("ConflictException", 409)
    assert appconfig.get_environment(ApplicationId=at.application, EnvironmentId=at.environment)["State"] == (
        "DEPLOYING"
    )
    first = data.get_latest_configuration(ConfigurationToken=token)
    assert json.loads(first["Configuration"].read()) == {"routes": {"a": "two"}}

    # When it is stopped, it is rolled back and v1 is served again
    stopped = appconfig.stop_deployment(
        ApplicationId=at.application, EnvironmentId=at.environment, DeploymentNumber=2
    )
    assert stopped["State"] == "ROLLED_BACK"
    assert appconfig.get_environment(ApplicationId=at.application, EnvironmentId=at.environment)["State"] == (
        "ROLLED_BACK"
    )
    after = data.get_latest_configuration(ConfigurationToken=first["NextPollConfigurationToken"])
    assert json.loads(after["Configuration"].read()) == {"routes": {"a": "one"}}


def test_the_predefined_strategies_are_there(aws: LocalAws) -> None:
    strategy = aws.client("appconfig").get_deployment_strategy(DeploymentStrategyId="AppConfig.AllAtOnce")
    assert (strategy["DeploymentDurationInMinutes"], strategy["GrowthFactor"]) == (0, 100.0)


# ---- data plane ----------------------------------------------------------------------------------


def test_a_session_gets_the_content_once_then_empty_answers_until_it_changes(aws: LocalAws) -> None:
    at = configured(aws, "polling")
    data = aws.client("appconfigdata")
    deploy(aws, at, version(aws, at, {"routes": {"a": "one"}}, label="v1"))
    token = session(aws, at, RequiredMinimumPollIntervalInSeconds=15)

    first = data.get_latest_configuration(ConfigurationToken=token)
    assert json.loads(first["Configuration"].read()) == {"routes": {"a": "one"}}
    assert (first["ContentType"], first["VersionLabel"], first["NextPollIntervalInSeconds"]) == (
        "application/json",
        "v1",
        15,
    )
    # A second poll inside the interval the session asked for is refused
    with pytest.raises(ClientError) as early:
        data.get_latest_configuration(ConfigurationToken=first["NextPollConfigurationToken"])
    assert error(early) == ("BadRequestException", 400)
    assert body(early)["Details"]["InvalidParameters"]["ConfigurationToken"]["Problem"] == (
        "PollIntervalNotSatisfied"
    )


def test_unchanged_configuration_is_an_empty_answer_and_a_used_token_is_refused(aws: LocalAws) -> None:
    at = configured(aws, "tokens")
    data = aws.client("appconfigdata")
    deploy(aws, at, version(aws, at, {"routes": {}}, label="v1"))
    token = session(aws, at)
    first = data.get_latest_configuration(ConfigurationToken=token)
    assert json.loads(first["Configuration"].read()) == {"routes": {}}

    unchanged = data.get_latest_configuration(ConfigurationToken=first["NextPollConfigurationToken"])

    assert unchanged["Configuration"].read() == b""
    assert "VersionLabel" not in unchanged
    assert unchanged["NextPollConfigurationToken"] not in (token, first["NextPollConfigurationToken"])
    for used in (token, first["NextPollConfigurationToken"], "made-up"):
        with pytest.raises(ClientError) as refused:
            data.get_latest_configuration(ConfigurationToken=used)
        assert error(refused) == ("BadRequestException", 400)


def test_a_session_with_nothing_deployed_is_not_found_until_something_is(aws: LocalAws) -> None:
    at = configured(aws, "undeployed")
    data = aws.client("appconfigdata")
    token = session(aws, at)

    with pytest.raises(ClientError) as missing:
        data.get_latest_configuration(ConfigurationToken=token)
    assert error(missing) == ("ResourceNotFoundException", 404)

    deploy(aws, at, version(aws, at, {"routes": {}}))
    assert json.loads(data.get_latest_configuration(ConfigurationToken=token)["Configuration"].read()) == {
        "routes": {}
    }


def test_a_session_names_what_exists_and_a_poll_interval_aws_allows(aws: LocalAws) -> None:
    at = configured(aws, "names")
    data = aws.client("appconfigdata")
    with pytest.raises(ClientError) as unknown:
        data.start_configuration_session(
            ApplicationIdentifier="names",
            EnvironmentIdentifier="nowhere",
            ConfigurationProfileIdentifier="routes",
        )
    assert error(unknown) == ("ResourceNotFoundException", 404)
    assert body(unknown)["ResourceType"] == "Environment"
    with pytest.raises(ClientError) as too_long:
        session(aws, at, RequiredMinimumPollIntervalInSeconds=86_401)
    assert error(too_long) == ("BadRequestException", 400)


def test_powertools_picks_up_a_new_deployment_after_max_age_and_keeps_an_unchanged_one(aws: LocalAws) -> None:
    at = configured(aws, "powertools")
    deploy(aws, at, version(aws, at, {"routes": {"a": "one"}}))
    provider = AppConfigProvider(environment="local", application="powertools", boto3_client=data_client(aws))

    def routes() -> Any:
        return provider.get("routes", transform="json", max_age=1)

    assert routes() == {"routes": {"a": "one"}}
    deploy(aws, at, version(aws, at, {"routes": {"a": "two"}}))
    assert routes() == {"routes": {"a": "one"}}  # within max_age: not asked
    time.sleep(1.1)
    assert routes() == {"routes": {"a": "two"}}
    time.sleep(1.1)
    assert routes() == {"routes": {"a": "two"}}  # asked again: an empty answer, the last value kept
    assert provider.last_returned_value["routes"] == json.dumps({"routes": {"a": "two"}}).encode()


# ---- provisioning and IAM ------------------------------------------------------------------------

TEMPLATE: dict[str, Any] = {
    "Transform": "AWS::Serverless-2016-10-31",
    "Resources": {
        "Routes": {
            "Type": "AWS::AppConfig::Application",
            "Properties": {"Name": {"Fn::Sub": "${AWS::StackName}"}},
        },
        "Local": {
            "Type": "AWS::AppConfig::Environment",
            "Properties": {"ApplicationId": {"Ref": "Routes"}, "Name": "local"},
        },
        "RoutesProfile": {
            "Type": "AWS::AppConfig::ConfigurationProfile",
            "Properties": {
                "ApplicationId": {"Ref": "Routes"},
                "Name": "routes",
                "LocationUri": "hosted",
                "Validators": [{"Type": "JSON_SCHEMA", "Content": json.dumps(SCHEMA)}],
            },
        },
        "Instant": {
            "Type": "AWS::AppConfig::DeploymentStrategy",
            "Properties": {
                "Name": "instant",
                "DeploymentDurationInMinutes": 0,
                "FinalBakeTimeInMinutes": 0,
                "GrowthFactor": 100,
                "ReplicateTo": "NONE",
            },
        },
        "RoutesV1": {
            "Type": "AWS::AppConfig::HostedConfigurationVersion",
            "Properties": {
                "ApplicationId": {"Ref": "Routes"},
                "ConfigurationProfileId": {"Ref": "RoutesProfile"},
                "Content": json.dumps({"routes": {"sora-2": "openai"}}),
                "ContentType": "application/json",
            },
        },
        "RoutesDeployment": {
            "Type": "AWS::AppConfig::Deployment",
            "Properties": {
                "ApplicationId": {"Ref": "Routes"},
                "EnvironmentId": {"Ref": "Local"},
                "ConfigurationProfileId": {"Ref": "RoutesProfile"},
                "DeploymentStrategyId": {"Ref": "Instant"},
                "ConfigurationVersion": {"Ref": "RoutesV1"},
            },
        },
    },
}


@pytest.fixture(scope="module")
def provisioned(aws: LocalAws) -> dict[str, str]:
    """The ids the template's Refs resolved to (as the deployment's properties carry them)."""
    application = load_application(TEMPLATE, {}, {})
    aws.provision(application, "unused")
    [deployment] = [r for r in application.appconfig if r.kind == "AWS::AppConfig::Deployment"]
    return deployment.properties


def test_provisioning_creates_the_template_resources_under_the_ids_their_ref_answers(
    aws: LocalAws, provisioned: dict[str, str]
) -> None:
    appconfig = aws.client("appconfig")
    assert provisioned["ApplicationId"] == stack_resource_id(STACK, "Routes")
    assert appconfig.get_application(ApplicationId=provisioned["ApplicationId"])["Name"] == STACK
    environment = appconfig.get_environment(
        ApplicationId=provisioned["ApplicationId"], EnvironmentId=provisioned["EnvironmentId"]
    )
    assert environment["Name"] == "local"
    profile = appconfig.get_configuration_profile(
        ApplicationId=provisioned["ApplicationId"],
        ConfigurationProfileId=provisioned["ConfigurationProfileId"],
    )
    assert profile["Validators"][0]["Type"] == "JSON_SCHEMA"
    assert appconfig.get_deployment_strategy(DeploymentStrategyId=provisioned["DeploymentStrategyId"])[
        "Name"
    ] == ("instant")
    assert provisioned["ConfigurationVersion"] == "1"
    deployment = appconfig.get_deployment(
        ApplicationId=provisioned["ApplicationId"],
        EnvironmentId=provisioned["EnvironmentId"],
        DeploymentNumber=1,
    )
    assert (deployment["State"], deployment["ConfigurationVersion"]) == ("COMPLETE", "1")


def reader(*resources: str) -> Role:
    statements = [
        {
            "Effect": "Allow",
            "Action": ["appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration"],
            "Resource": list(resources),
        }
    ]
    policy = Policy(
        "arn:aws:iam::123456789012:role/videos-api-RoutesReader",
        parse_document("T", {"Statement": statements}),
    )
    return Role("videos-api-Reader", policy, LOCAL_ACCOUNT, Revocations(None))


def configuration_arn(ids: dict[str, str]) -> str:
    return (
        f"arn:aws:appconfig:us-east-1:123456789012:application/{ids['ApplicationId']}"
        f"/environment/{ids['EnvironmentId']}/configuration/{ids['ConfigurationProfileId']}"
    )


def test_a_role_granted_the_configuration_reads_it_by_name(
    aws: LocalAws, provisioned: dict[str, str]
) -> None:
    data = guard_client(data_client(aws), reader(configuration_arn(provisioned)))
    provider = AppConfigProvider(environment="local", application=STACK, boto3_client=data)

    assert provider.get("routes", transform="json") == {"routes": {"sora-2": "openai"}}


def test_a_role_without_the_grant_is_refused_as_aws_refuses_it(
    aws: LocalAws, provisioned: dict[str, str]
) -> None:
    other = dict(provisioned, ConfigurationProfileId="zzzzzzz")
    data = guard_client(data_client(aws), reader(configuration_arn(other)))

    with pytest.raises(ClientError) as denied:
        data.start_configuration_session(
            ApplicationIdentifier=STACK,
            EnvironmentIdentifier="local",
            ConfigurationProfileIdentifier="routes",
        )

    assert error(denied) == ("AccessDeniedException", 403)
    message = denied.value.response["Error"]["Message"]
    assert f"appconfig:StartConfigurationSession on resource: {configuration_arn(provisioned)}" in message


def test_a_token_is_judged_on_the_configuration_its_session_reads(
    aws: LocalAws, provisioned: dict[str, str]
) -> None:
    # Given a token from a session started by a role that may read the configuration
    token = aws.client("appconfigdata").start_configuration_session(
        ApplicationIdentifier=STACK, EnvironmentIdentifier="local", ConfigurationProfileIdentifier="routes"
    )["InitialConfigurationToken"]
    other = dict(provisioned, ConfigurationProfileId="zzzzzzz")
    data = guard_client(data_client(aws), reader(configuration_arn(other)))

    # When a role without the grant uses it, it is refused, and the token is still good
    with pytest.raises(ClientError) as denied:
        data.get_latest_configuration(ConfigurationToken=token)
    assert error(denied) == ("AccessDeniedException", 403)
    assert "appconfig:GetLatestConfiguration" in denied.value.response["Error"]["Message"]
    answer = aws.client("appconfigdata").get_latest_configuration(ConfigurationToken=token)
    assert json.loads(answer["Configuration"].read()) == {"routes": {"sora-2": "openai"}}
