"""template.yaml: transformable by SAM, and in agreement with the code it deploys (`make lint` runs
cfn-lint on it)."""

from __future__ import annotations

import copy
import importlib
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from local.template import application_template, resources_of_type
from tests.apigw import http_event, invoke
from tests.support import ROOT
from videos_core.routes import ROUTES

FUNCTIONS = resources_of_type(application_template(), "AWS::Serverless::Function")
# Functions behind the HTTP API; the others are the state machine's tasks.
API_FUNCTIONS = sorted(
    logical_id
    for logical_id, function in FUNCTIONS.items()
    if any(event["Type"] == "HttpApi" for event in function["Properties"].get("Events", {}).values())
)


class _ManagedPolicies:
    """samtranslator asks IAM for managed policy ARNs; offline, it gets the ones SAM adds itself."""

    def load(self) -> dict[str, str]:
        base = "arn:aws:iam::aws:policy/"
        return {
            name: base + path
            for name, path in {
                "AWSLambdaBasicExecutionRole": "service-role/AWSLambdaBasicExecutionRole",
                "AWSXrayWriteOnlyAccess": "AWSXrayWriteOnlyAccess",
                "AWSXRayDaemonWriteAccess": "AWSXRayDaemonWriteAccess",
            }.items()
        }


def packaged(template: dict[str, Any]) -> dict[str, Any]:
    """The template as `sam package` hands it to the transform: local paths become S3 URIs."""
    result = copy.deepcopy(template)
    for resource in result["Resources"].values():
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = f"s3://artifacts/{resource['Properties'][key].strip('/')}"
    return result


def function_module(logical_id: str) -> Any:
    code_uri = FUNCTIONS[logical_id]["Properties"]["CodeUri"].strip("/")
    return importlib.import_module(code_uri.replace("/", ".") + ".app")


def template_routes() -> dict[str, str]:
    """ "METHOD /path" -> logical id of the function the template points it to."""
    return {
        f"{event['Properties']['Method']} {event['Properties']['Path']}": logical_id
        for logical_id, function in FUNCTIONS.items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "HttpApi"
    }


def test_sam_transforms_the_template_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    parameters = {"UpstreamBaseUrl": "https://videos.example.com/v1"}

    output = transform(packaged(application_template()), parameters, _ManagedPolicies())

    kinds = [resource["Type"] for resource in output["Resources"].values()]
    assert kinds.count("AWS::Lambda::Function") == len(FUNCTIONS)
    assert kinds.count("AWS::StepFunctions::StateMachine") == 1
    assert kinds.count("AWS::Lambda::LayerVersion") == 1
    assert "AWS::ApiGatewayV2::Api" in kinds
    api = next(r for r in output["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Api")
    body_routes = {
        f"{method.upper()} {path}"
        for path, methods in api["Properties"]["Body"]["paths"].items()
        for method in methods
    }
    assert "X-AMAZON-APIGATEWAY-ANY-METHOD $default" in body_routes
    assert {f"{route.method} {route.path}" for route in ROUTES} <= body_routes


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_function_has_an_importable_handler(logical_id: str) -> None:
    properties = FUNCTIONS[logical_id]["Properties"]
    assert (ROOT / properties["CodeUri"] / "app.py").is_file()

    assert callable(function_module(logical_id).handler)


def test_the_route_table_is_the_templates() -> None:
    declared = {
        key: logical_id for key, logical_id in template_routes().items() if not key.endswith("$default")
    }
    code_uri = {
        logical_id: FUNCTIONS[logical_id]["Properties"]["CodeUri"].strip("/").split("/")[-1]
        for logical_id in FUNCTIONS
    }

    assert {key: code_uri[logical_id] for key, logical_id in declared.items()} == {
        route.key: route.function for route in ROUTES
    }


def _route_event(method: str, path: str) -> dict[str, Any]:
    concrete = path.replace("{video_id}", "vid_01JDQ2X8Y3K4M5N6P7Q8R9S0TV")
    return http_event(
        "get",
        path=concrete,
        route_key=f"{method} {path}",
        method=method,
        key=None,
        headers={"authorization": None},
    )


def test_the_tasks_are_the_state_machines_and_have_no_routes() -> None:
    tasks = set(FUNCTIONS) - set(API_FUNCTIONS)
    substitutions = application_template()["Resources"]["JobStateMachine"]["Properties"][
        "DefinitionSubstitutions"
    ]

    assert tasks == {value["Fn::GetAtt"][0] for value in substitutions.values() if "Fn::GetAtt" in value}


@pytest.mark.parametrize("logical_id", API_FUNCTIONS)
def test_each_handler_serves_exactly_the_routes_the_template_gives_it(logical_id: str) -> None:
    """Every route is answered by its function (401 before the key, or the document); every other
    route of the API, sent to this function, is an unknown route to it."""
    function = FUNCTIONS[logical_id]["Properties"]["CodeUri"].strip("/").split("/")[-1]
    mine = {
        key
        for key, owner in template_routes().items()
        if owner == logical_id and not key.endswith("$default")
    }

    for route in ROUTES:
        response = invoke(function, _route_event(route.method, route.path))
        if route.key in mine:
            assert response.json().get("error_code") != "not_found", route.key
            assert response.status in (200, 401), (route.key, response.text)
        else:
            assert response.status in (404, 405), (route.key, response.text)
            assert response.json()["error_code"] in ("not_found", "method_not_allowed"), route.key


def statements_of(logical_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in FUNCTIONS[logical_id]["Properties"].get("Policies", [])
        for statement in policy["Statement"]
    ]


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_function_policies_are_least_privilege(logical_id: str) -> None:
    for statement in statements_of(logical_id):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        assert statement["Effect"] == "Allow"
        assert all("*" not in action for action in actions), actions
        assert "*" not in resources
        assert not any(
            action.startswith("dynamodb:") and action in ("dynamodb:Scan", "dynamodb:DeleteTable")
            for action in actions
        )


def test_read_only_functions_cannot_write_videos() -> None:
    """They may only record a key's last use (an UpdateItem on the keys table)."""
    for logical_id in ("GetFunction", "PollFunction", "ListFunction", "DownloadFunction"):
        for statement in statements_of(logical_id):
            allowed = {"dynamodb:GetItem", "dynamodb:Query", "s3:GetObject"}
            if statement["Resource"] == {"Fn::GetAtt": ["KeysTable", "Arn"]}:
                allowed.add("dynamodb:UpdateItem")
            assert set(statement["Action"]) <= allowed, (logical_id, statement)


def test_the_bucket_is_private_encrypted_and_tls_only() -> None:
    resources = application_template()["Resources"]
    bucket = resources["AssetsBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    [retention] = [rule for rule in bucket["LifecycleConfiguration"]["Rules"] if rule["Id"] == "retention"]
    assert retention["ExpirationInDays"] == {"Ref": "RetentionDays"}
    [deny] = resources["AssetsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_tables_are_encrypted_and_the_videos_table_expires_records() -> None:
    for table in resources_of_type(application_template(), "AWS::DynamoDB::Table").values():
        assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True}
    videos = application_template()["Resources"]["VideosTable"]["Properties"]
    assert videos["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert [index["IndexName"] for index in videos["GlobalSecondaryIndexes"]] == ["by-upstream-id"]
