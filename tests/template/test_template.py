"""template.yaml: transformable by SAM, and in agreement with the code it deploys (`make lint` runs
cfn-lint on it)."""

from __future__ import annotations

import importlib
import json
import re
from decimal import Decimal
from typing import Any

import pytest

from local.iam.policy import Statement
from local.iam.roles import MANAGED_POLICIES, SAM_RESOLVED_PARAMETERS, _transform, transformed
from local.serve.application import declared_application
from local.template import application_template, resources_of_type
from tests.apigw import http_event, invoke
from tests.support import ROOT
from videos_core.providers.bedrock import PROVIDER as BEDROCK
from videos_core.routes import ROUTES

FUNCTIONS = resources_of_type(application_template(), "AWS::Serverless::Function")
# Functions behind the HTTP API; the others are the state machine's tasks.
API_FUNCTIONS = sorted(
    logical_id
    for logical_id, function in FUNCTIONS.items()
    if any(event["Type"] == "HttpApi" for event in function["Properties"].get("Events", {}).values())
)
SCHEDULED_FUNCTIONS = sorted(
    logical_id
    for logical_id, function in FUNCTIONS.items()
    if any(event["Type"] == "Schedule" for event in function["Properties"].get("Events", {}).values())
)
# Functions an SQS queue feeds (through an event source mapping of their own).
QUEUE_FUNCTIONS = sorted(
    mapping["Properties"]["FunctionName"]["Ref"]
    for mapping in resources_of_type(application_template(), "AWS::Lambda::EventSourceMapping").values()
)


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


def test_sam_transforms_the_template_offline() -> None:
    parameters = {"UpstreamBaseUrl": "https://videos.example.com/v1"}

    output = transformed(application_template(), parameters, "us-east-1")

    kinds = [resource["Type"] for resource in output["Resources"].values()]
    assert kinds.count("AWS::Lambda::Function") == len(FUNCTIONS)
    assert kinds.count("AWS::StepFunctions::StateMachine") == 1
    assert kinds.count("AWS::Lambda::LayerVersion") == 2
    assert "AWS::ApiGatewayV2::Api" in kinds
    api = next(r for r in output["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Api")
    body_routes = {
        f"{method.upper()} {path}"
        for path, methods in api["Properties"]["Body"]["paths"].items()
        for method in methods
    }
    assert "X-AMAZON-APIGATEWAY-ANY-METHOD $default" in body_routes
    assert {f"{route.method} {route.path}" for route in ROUTES} <= body_routes


def test_sams_output_depends_on_no_parameters_values_but_those_it_resolves() -> None:
    """But for those SAM resolves: what lets `transformed` keep one output per template and values of
    those, whatever else a stack's parameters say."""
    declared = application_template()["Parameters"]
    others = {
        name: _another_value(parameter)
        for name, parameter in declared.items()
        if name not in SAM_RESOLVED_PARAMETERS
    }

    assert _transform(application_template(), others, "us-east-1") == _transform(
        application_template(), {}, "us-east-1"
    )


def _another_value(parameter: dict[str, Any]) -> str:
    """A value of the parameter's type other than its default."""
    default = str(parameter.get("Default", ""))
    if "AllowedValues" in parameter:
        return str(next(value for value in parameter["AllowedValues"] if str(value) != default))
    if parameter["Type"] == "Number":
        low = int(parameter.get("MinValue", 0))
        return str(low + 1 if default != str(low + 1) else low + 2)
    return default + "-other" if default else "other"


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
    others = {*API_FUNCTIONS, *SCHEDULED_FUNCTIONS, *QUEUE_FUNCTIONS, "ValidateRoutesFunction"}
    tasks = set(FUNCTIONS) - others
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


APPLICATION = declared_application()
AWS_MANAGED = tuple(path.rsplit("/", 1)[-1] for path in MANAGED_POLICIES)


def statements_of(logical_id: str) -> list[Statement]:
    """The statements of the function's role as CloudFormation creates it, but for the AWS-managed
    policies SAM attaches to every role (logs, traces)."""
    return [
        statement
        for statement in APPLICATION.functions[logical_id].policy.statements
        if not any(f".{managed}[" in statement.name for managed in AWS_MANAGED)
    ]


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_function_policies_are_least_privilege(logical_id: str) -> None:
    for statement in statements_of(logical_id):
        assert statement.effect == "Allow"
        assert not statement.not_actions
        assert not statement.not_resources
        assert all("*" not in action for action in statement.actions), statement
        for resource in statement.resources:
            # Only the bucket's prefixes, a state machine's executions, the SSM path of the routes' own
            # keys and Bedrock's invocations are patterns; and Bedrock's model families, in whichever
            # region a route's base_url names.
            prefixes = (
                "/videos/*",
                "/uploads/*",
                "/characters/*",
                "/upstream/bedrock/*",
                "-jobs:*",
                ":parameter/videos-api/upstream-keys/*",
                ":async-invoke/*",
            )
            bounded = next((resource.removesuffix(p) for p in prefixes if resource.endswith(p)), resource)
            if bounded.startswith("arn:aws:bedrock:*::foundation-model/"):
                family = bounded.removeprefix("arn:aws:bedrock:*::foundation-model/").removesuffix("*")
                assert family in BEDROCK.profiles, statement
                continue
            assert "*" not in bounded.replace("arn:aws:bedrock:*:", "arn:aws:bedrock::"), statement
        assert "dynamodb:DeleteTable" not in statement.actions
        if "dynamodb:Scan" in statement.actions:
            # Only the reconciler walks a table: the slots and the outbox, both small by design.
            assert logical_id == "ReconcileFunction", statement
            tables = {APPLICATION.tables["QuotasTable"], APPLICATION.tables["OutboxTable"]}
            assert {r.rsplit("/", 1)[-1] for r in statement.resources} <= tables, statement


def test_the_deliveries_are_fed_by_their_queue_reporting_each_failed_message() -> None:
    """Lambda deletes a batch's messages but those the function names (ReportBatchItemFailures): without
    it one failed delivery would send the whole batch again."""
    assert QUEUE_FUNCTIONS == ["DeliverWebhooksFunction"]
    (mapping,) = resources_of_type(application_template(), "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["WebhookDeliveryQueue", "Arn"]}


def test_the_reconciler_runs_on_a_schedule() -> None:
    assert SCHEDULED_FUNCTIONS == ["ReconcileFunction"]
    [event] = FUNCTIONS["ReconcileFunction"]["Properties"]["Events"].values()
    assert event["Properties"]["Schedule"] == {"Fn::Sub": "rate(${ReconcileEveryMinutes} minutes)"}


def test_read_only_functions_cannot_write_videos() -> None:
    """They may only record a key's last use: an UpdateItem on the keys table of that one attribute."""
    keys_table = APPLICATION.tables["KeysTable"]
    for logical_id in ("GetFunction", "PollFunction", "ListFunction", "DownloadFunction"):
        for statement in statements_of(logical_id):
            if statement.name.endswith(".RecordKeyUse"):
                assert statement.actions == ("dynamodb:UpdateItem",)
                assert [r.rsplit("/", 1)[-1] for r in statement.resources] == [keys_table]
                assert {(c.operator, c.values) for c in statement.conditions} == {
                    ("ForAllValues:StringEquals", ("key_hash", "last_used_at")),
                    ("StringEquals", ("NONE",)),
                }
                continue
            assert set(statement.actions) <= {"dynamodb:GetItem", "dynamodb:Query", "s3:GetObject"}, statement


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


def test_every_finding_of_the_security_scan_accepted_in_the_template_says_why() -> None:
    """checkov runs in `make lint`; a check skipped for a resource is skipped there, with its reason."""
    skipped = [
        (logical_id, skip)
        for logical_id, resource in application_template()["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]

    assert skipped
    for logical_id, skip in skipped:
        assert skip["id"].startswith("CKV_"), logical_id
        assert len(skip.get("comment", "")) > 40, (logical_id, skip)


def test_the_routes_store_validates_documents_by_the_routes_schema() -> None:
    """The AppConfig profile's JSON Schema validator is `videos-api routes schema`: the store refuses
    what the functions would refuse, before a document is deployed."""
    import json

    from videos_core.routes_schema import schema

    resources = application_template()["Resources"]
    validators = {v["Type"]: v["Content"] for v in resources["RoutesProfile"]["Properties"]["Validators"]}

    assert json.loads(validators["JSON_SCHEMA"]) == schema(), (
        "paste `videos-api routes schema` into RoutesProfile"
    )
    # AppConfig takes a validator's content up to 32,768 characters.
    assert len(validators["JSON_SCHEMA"]) <= 32_768
    # The catalog's own rules, run by a function AppConfig may invoke (and nothing else may).
    assert validators["LAMBDA"] == {"Fn::GetAtt": ["ValidateRoutesFunction", "Arn"]}
    permission = resources["ValidateRoutesPermission"]["Properties"]
    assert (permission["Principal"], permission["FunctionName"]) == (
        "appconfig.amazonaws.com",
        validators["LAMBDA"],
    )
    assert "Events" not in FUNCTIONS["ValidateRoutesFunction"]["Properties"]


def test_the_bedrock_grants_name_each_family_of_the_providers_profiles_and_nothing_else() -> None:
    policy = application_template()["Resources"]["StartBedrockInvocationsPolicy"]["Properties"]
    (invoke_models,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Sid"] == "InvokeBedrockModels"]
    resources = [resource["Fn::Sub"] for resource in invoke_models["Resource"]]
    assert resources == [
        f"arn:${{AWS::Partition}}:bedrock:*::foundation-model/{family}*" for family in BEDROCK.profiles
    ]


def test_the_dashboard_and_the_readme_show_every_alarm_of_the_template() -> None:
    """The template's alarms are the one list: the dashboard's alarm widget names each by its logical
    id, in the template's order, and the README's table has a row for each."""
    alarms = list(resources_of_type(application_template(), "AWS::CloudWatch::Alarm"))
    dashboard = application_template()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    widget = next(w for w in json.loads(dashboard)["widgets"] if w["type"] == "alarm")
    operations = (ROOT / "README.md").read_text().split("### Operations", 1)[1].split("\n## ", 1)[0]

    assert widget["properties"]["alarms"] == [f"${{{alarm}.Arn}}" for alarm in alarms]
    assert sorted(re.findall(r"^\| `(\w+Alarm)` \|", operations, re.MULTILINE)) == sorted(alarms)


def _dashboard_metrics() -> list[tuple[str, str, frozenset[str], dict[str, str]]]:
    """Each metric a widget of the dashboard names: its namespace, name, dimension names and the
    dimensions' values (a SEARCH names the dimensions only)."""
    body = json.loads(
        application_template()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    )
    named: list[tuple[str, str, frozenset[str], dict[str, str]]] = []
    for widget in body["widgets"]:
        for entry in widget["properties"].get("metrics", []):
            if isinstance(entry[0], dict):
                found = re.fullmatch(
                    r"(?:SUM\()?SEARCH\('\{([^,]+),([\w,]+)\} MetricName=\"(\w+)\"', '\w+', \d+\)\)?",
                    entry[0]["expression"],
                )
                assert found, entry
                named.append((found[1], found[3], frozenset(found[2].split(",")), {}))
                continue
            pairs = [value for value in entry[2:] if isinstance(value, str)]
            dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
            named.append((entry[0], entry[1], frozenset(dimensions), dimensions))
    return named


def test_the_dashboard_names_only_metrics_the_code_emits_and_queues_the_template_makes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A widget naming a metric nothing emits (or under other dimensions: a SEARCH matches a metric's
    exact set) stays empty without a word: each of the stack's own metrics is a name the code writes,
    each delivery metric has the dimensions its recorder gives it, and each SQS metric is of a queue
    of the template."""
    from aws_lambda_powertools.metrics import MetricUnit

    from videos_core import outcomes
    from videos_core.models.record import AttemptRecord

    template = application_template()
    substitutions = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][1]
    queues = resources_of_type(template, "AWS::SQS::Queue")
    sources = "\n".join(
        path.read_text()
        for folder in ("layers/videos_core/videos_core", "functions", "statemachine")
        for path in (ROOT / folder).rglob("*")
        if path.suffix in (".py", ".json")
    )
    # Each recorder of a metric in its own EMF blob (their dimensions are not the invocation's).
    outcomes.record_webhook_attempt("video.completed", "delivered", 0.1)
    attempt = AttemptRecord(
        route="r", provider="openai", outcome="completed", cost=Decimal(1), charged=True, started_at=0
    )
    outcomes.record_attempt("sora-2", attempt)
    for name in ("RouteAcceptSeconds", "RouteGenerationSeconds", "RouteBreakerOpened", "RouteBreakerClosed"):
        outcomes.route_metric(name, MetricUnit.Count, 1, "sora-2", "r")
    outcomes.route_metric("RouteFailures", MetricUnit.Count, 1, "sora-2", "r", reason="status")
    emitted = {
        metric["Name"]: frozenset(blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0])
        for blob in (json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line)
        for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    }
    named = _dashboard_metrics()

    assert {"WebhookAttempts", "WebhookAttemptSeconds"} <= {name for _, name, _, _ in named}
    queue_metrics = set()
    for namespace, name, dimensions, values in named:
        if namespace == "${Namespace}":
            assert f'"{name}"' in sources, f"nothing emits {name}"
            assert emitted.get(name, dimensions) == dimensions, (name, dimensions, emitted[name])
        elif namespace == "AWS/SQS":
            queue = substitutions[values["QueueName"].removeprefix("${").removesuffix("}")]["Fn::GetAtt"]
            assert queue[0] in queues, (name, queue)
            assert queue[1] == "QueueName", (name, queue)
            queue_metrics.add((name, queue[0]))
        else:
            assert namespace in ("AWS/ApiGateway", "AWS/States"), namespace
    assert queue_metrics == {
        ("ApproximateAgeOfOldestMessage", "WebhookDeliveryQueue"),
        ("ApproximateNumberOfMessagesVisible", "WebhookDeliveryDeadLetterQueue"),
    }
