"""The application template.yaml declares, resolved to local names: functions (code, handler,
environment, routes), tables, bucket, event bus and state machine. Nothing here restates the
template; it only gives each declared resource a local name."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from local.iam.policy import Policy
from local.iam.requests import Account
from local.iam.roles import role_policies, transformed
from local.serve.appconfig_provision import AppConfigResource, appconfig_names, appconfig_resources
from local.serve.cors import Cors
from local.serve.intrinsics import Resolver
from local.template import TEMPLATE, application_template, resources_of_type

ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK = "videos-api"
PARTITION = "aws"
LOCAL_ACCOUNT = Account(PARTITION, REGION, ACCOUNT)


@dataclass(frozen=True)
class HttpRoute:
    method: str  # "ANY" for the $default route
    path: str  # "$default" for the route every unmatched request takes

    @property
    def is_default(self) -> bool:
        return self.path == "$default"

    @property
    def key(self) -> str:
        """Its route key, as API Gateway names it (in RouteSettings, in events' routeKey)."""
        return "$default" if self.is_default else f"{self.method} {self.path}"


@dataclass(frozen=True)
class LocalFunction:
    logical_id: str
    name: str
    code_dir: Path
    handler: str
    timeout: int
    environment: dict[str, str]
    routes: tuple[HttpRoute, ...]
    # Its execution role's policy, as CloudFormation would create it from the template.
    policy: Policy
    # Seconds between the invocations its Schedule event's `rate(...)` asks for, if it has one.
    schedule_seconds: int | None = None

    @property
    def arn(self) -> str:
        return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{self.name}"


@dataclass(frozen=True)
class LocalStateMachine:
    logical_id: str
    name: str
    arn: str
    definition: str
    policy: Policy

    @property
    def role_arn(self) -> str:
        return self.policy.principal


@dataclass(frozen=True)
class LocalQueue:
    """An SQS queue as the template declares it: its name and attributes (RedrivePolicy resolved)."""

    logical_id: str
    name: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class LocalRule:
    """An EventBridge rule: its bus, pattern and targets' ARNs."""

    logical_id: str
    name: str
    bus: str
    pattern: str
    targets: tuple[tuple[str, str], ...]  # (target id, ARN)


@dataclass(frozen=True)
class SqsSource:
    """An SQS event source mapping: which queue feeds which function, and how."""

    function: str  # the function's name
    queue: str  # the queue's name
    batch_size: int
    window_seconds: int
    report_failures: bool


@dataclass(frozen=True)
class Throttle:
    """An HTTP API route's throttling: a steady rate (requests per second) and a burst (the bucket)."""

    rate: float
    burst: int


@dataclass
class LocalApplication:
    functions: dict[str, LocalFunction]
    layer_dirs: list[Path]
    tables: dict[str, str]
    buckets: dict[str, str]
    event_buses: dict[str, str]
    state_machines: dict[str, LocalStateMachine]
    parameters: dict[str, str]
    # "METHOD /path" -> its throttle; "$default" -> the throttle of every other route.
    throttles: dict[str, Throttle]
    # The HTTP API's CorsConfiguration; None: no CORS.
    cors: Cors | None
    template: dict[str, Any] = field(repr=False)
    # What `Ref` answers for each resource, by logical id.
    refs: dict[str, str] = field(default_factory=dict, repr=False)
    # The AWS::AppConfig resources, resolved, in the order they are created.
    appconfig: list[AppConfigResource] = field(default_factory=list)
    # KMS keys by logical id -> their key ids, and each alias name -> the key id it points to.
    kms_keys: dict[str, str] = field(default_factory=dict)
    kms_aliases: dict[str, str] = field(default_factory=dict)
    queues: list[LocalQueue] = field(default_factory=list)
    rules: list[LocalRule] = field(default_factory=list)
    sqs_sources: list[SqsSource] = field(default_factory=list)

    def function_named(self, name_or_arn: str) -> LocalFunction:
        name = name_or_arn.rsplit(":function:", 1)[-1].split(":")[0]
        for function in self.functions.values():
            if function.name == name:
                return function
        raise KeyError(f"no function named {name}")


def _parameters(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, str]:
    declared = template.get("Parameters", {})
    unknown = set(overrides) - set(declared)
    if unknown:
        raise KeyError(f"template has no parameters {sorted(unknown)}")
    values = {name: str(spec["Default"]) for name, spec in declared.items() if "Default" in spec}
    values.update(overrides)
    missing = set(declared) - set(values)
    if missing:
        raise KeyError(f"no value for template parameters {sorted(missing)}")
    return values


def _names(template: dict[str, Any]) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Local physical names (what `Ref` answers) and attributes (what `GetAtt` answers)."""
    refs, attributes = appconfig_names(template, STACK)
    for logical_id, resource in template["Resources"].items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        name = f"{STACK}-{logical_id}"
        if kind.startswith("AWS::AppConfig::"):
            continue
        if kind == "AWS::S3::Bucket":
            name = f"{STACK}-{logical_id.lower()}"
            attributes[(logical_id, "Arn")] = f"arn:{PARTITION}:s3:::{name}"
        elif kind == "AWS::DynamoDB::Table":
            attributes[(logical_id, "Arn")] = f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        elif kind == "AWS::Serverless::Function":
            attributes[(logical_id, "Arn")] = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{name}"
        elif kind == "AWS::Logs::LogGroup":
            attributes[(logical_id, "Arn")] = f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{name}"
        elif kind == "AWS::KMS::Key":
            # CloudFormation's key ids are KMS's choice; a local one is derived from the stack and the
            # logical id, so that the roles' grants and the key made in the endpoint name the same.
            name = kms_key_id(logical_id)
            attributes[(logical_id, "Arn")] = f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/{name}"
        elif kind == "AWS::SQS::Queue":
            attributes[(logical_id, "Arn")] = f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{name}"
            attributes[(logical_id, "QueueName")] = name
            refs[logical_id] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
            continue
        elif kind == "AWS::KMS::Alias" or (
            kind in ("AWS::Events::EventBus", "AWS::Serverless::StateMachine") and "Name" in properties
        ):
            continue  # named by the template; resolved once the pseudo parameters are known
        refs[logical_id] = name
    return refs, attributes


def kms_key_id(logical_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"videos-api:{STACK}:{logical_id}"))


@cache
def declared_application() -> LocalApplication:
    """What template.yaml declares with its parameters' defaults, under the names serve gives it, with
    each function's role; the upstream is a placeholder (nothing here calls it)."""
    return load_application(application_template(), {"UpstreamBaseUrl": "http://127.0.0.1:9/v1"}, {})


def load_application(
    template: dict[str, Any], parameters: dict[str, str], extra_environment: dict[str, str]
) -> LocalApplication:
    params = _parameters(template, parameters)
    refs, attributes = _names(template)
    refs |= params | {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": PARTITION,
        "AWS::StackName": STACK,
        "AWS::URLSuffix": "amazonaws.com",
    }
    resolver = Resolver(refs, attributes, template.get("Conditions", {}))
    event_buses = {}
    for logical_id, resource in resources_of_type(template, "AWS::Events::EventBus").items():
        name = resolver.resolve(resource["Properties"]["Name"])
        refs[logical_id] = event_buses[logical_id] = name
        attributes[(logical_id, "Arn")] = f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:event-bus/{name}"
    kms_aliases = {}
    for logical_id, resource in resources_of_type(template, "AWS::KMS::Alias").items():
        name = resolver.resolve(resource["Properties"]["AliasName"])
        refs[logical_id] = name
        kms_aliases[name] = resolver.resolve(resource["Properties"]["TargetKeyId"])
    machines = {}
    for logical_id, resource in resources_of_type(template, "AWS::Serverless::StateMachine").items():
        properties = resource["Properties"]
        name = resolver.resolve(properties["Name"])
        arn = f"arn:{PARTITION}:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
        refs[logical_id] = attributes[(logical_id, "Arn")] = arn
        machines[logical_id] = (name, arn, properties)
    policies = role_policies(
        transformed(template, params, REGION),
        resolver,
        lambda role_id: LOCAL_ACCOUNT.arn("iam", f"role/{STACK}-{role_id}", regional=False),
    )
    state_machines = {
        logical_id: LocalStateMachine(
            logical_id, name, arn, _definition(properties, resolver), policies[logical_id]
        )
        for logical_id, (name, arn, properties) in machines.items()
    }
    globals_ = template.get("Globals", {}).get("Function", {})
    functions = {
        logical_id: _function(
            logical_id,
            resource["Properties"],
            globals_,
            resolver,
            refs[logical_id],
            extra_environment,
            policies[logical_id],
        )
        for logical_id, resource in resources_of_type(template, "AWS::Serverless::Function").items()
    }
    return LocalApplication(
        functions=functions,
        layer_dirs=[
            TEMPLATE.parent / r["Properties"]["ContentUri"]
            for r in resources_of_type(template, "AWS::Serverless::LayerVersion").values()
        ],
        tables={k: refs[k] for k in resources_of_type(template, "AWS::DynamoDB::Table")},
        buckets={k: refs[k] for k in resources_of_type(template, "AWS::S3::Bucket")},
        event_buses=event_buses,
        state_machines=state_machines,
        parameters=params,
        throttles=_throttles(template, resolver),
        cors=_cors(template, resolver),
        template=template,
        refs={name: str(value) for name, value in refs.items()},
        appconfig=appconfig_resources(template, resolver.resolve),
        kms_keys={k: refs[k] for k in resources_of_type(template, "AWS::KMS::Key")},
        kms_aliases=kms_aliases,
        queues=_queues(template, resolver),
        rules=_rules(template, resolver),
        sqs_sources=_sqs_sources(template, resolver),
    )


def _queues(template: dict[str, Any], resolver: Resolver) -> list[LocalQueue]:
    """The queues, those a redrive policy names first (SQS wants a dead-letter queue to exist)."""
    queues = []
    for logical_id, resource in resources_of_type(template, "AWS::SQS::Queue").items():
        properties = resolver.resolve(resource.get("Properties", {}))
        attributes = {
            name: json.dumps(value)
            if isinstance(value, dict)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
            for name, value in properties.items()
            if name in _QUEUE_ATTRIBUTES
        }
        queues.append(
            LocalQueue(logical_id, resolver.resolve({"Fn::GetAtt": [logical_id, "QueueName"]}), attributes)
        )
    return sorted(queues, key=lambda queue: "RedrivePolicy" in queue.attributes)


_QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy", "SqsManagedSseEnabled")


def _rules(template: dict[str, Any], resolver: Resolver) -> list[LocalRule]:
    rules = []
    for logical_id, resource in resources_of_type(template, "AWS::Events::Rule").items():
        properties = resolver.resolve(resource["Properties"])
        targets = tuple((str(t["Id"]), str(t["Arn"])) for t in properties.get("Targets", []))
        name = f"{STACK}-{logical_id}"
        rules.append(
            LocalRule(
                logical_id,
                name,
                str(properties["EventBusName"]),
                json.dumps(properties["EventPattern"]),
                targets,
            )
        )
    return rules


def _sqs_sources(template: dict[str, Any], resolver: Resolver) -> list[SqsSource]:
    sources = []
    for resource in resources_of_type(template, "AWS::Lambda::EventSourceMapping").values():
        properties = resolver.resolve(resource["Properties"])
        arn = str(properties["EventSourceArn"])
        if ":sqs:" not in arn:
            continue
        sources.append(
            SqsSource(
                function=str(properties["FunctionName"]),
                queue=arn.rsplit(":", 1)[-1],
                batch_size=int(properties.get("BatchSize", 10)),
                window_seconds=int(properties.get("MaximumBatchingWindowInSeconds", 0)),
                report_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
            )
        )
    return sources


def _throttles(template: dict[str, Any], resolver: Resolver) -> dict[str, Throttle]:
    """The HTTP API's DefaultRouteSettings and RouteSettings throttles (the template has one HTTP API)."""
    throttles: dict[str, Throttle] = {}
    for api in resources_of_type(template, "AWS::Serverless::HttpApi").values():
        properties = resolver.resolve(api.get("Properties", {}))
        settings = {"$default": properties.get("DefaultRouteSettings", {})} | properties.get(
            "RouteSettings", {}
        )
        for route_key, values in settings.items():
            if "ThrottlingRateLimit" in values:
                throttles[route_key] = Throttle(
                    float(values["ThrottlingRateLimit"]), int(values["ThrottlingBurstLimit"])
                )
    return throttles


def _cors(template: dict[str, Any], resolver: Resolver) -> Cors | None:
    """The HTTP API's CorsConfiguration, resolved (the template has one HTTP API)."""
    for api in resources_of_type(template, "AWS::Serverless::HttpApi").values():
        return Cors.from_template(resolver.resolve(api.get("Properties", {})).get("CorsConfiguration"))
    return None


def _definition(properties: dict[str, Any], resolver: Resolver) -> str:
    definition: str = (TEMPLATE.parent / properties["DefinitionUri"]).read_text()
    for key, value in properties.get("DefinitionSubstitutions", {}).items():
        definition = definition.replace("${" + key + "}", str(resolver.resolve(value)))
    if "${" in definition:
        raise ValueError(f"{properties['DefinitionUri']} has a placeholder its DefinitionSubstitutions lack")
    json.loads(definition)  # fail early on a broken definition
    return definition


def _function(
    logical_id: str,
    properties: dict[str, Any],
    globals_: dict[str, Any],
    resolver: Resolver,
    name: str,
    extra_environment: dict[str, str],
    policy: Policy,
) -> LocalFunction:
    variables = {
        **globals_.get("Environment", {}).get("Variables", {}),
        **properties.get("Environment", {}).get("Variables", {}),
    }
    environment = {key: str(resolver.resolve(value)) for key, value in variables.items()}
    events = properties.get("Events", {}).values()
    routes = tuple(
        HttpRoute(str(event["Properties"]["Method"]).upper(), str(event["Properties"]["Path"]))
        for event in events
        if event["Type"] == "HttpApi"
    )
    schedules = [
        rate_seconds(str(resolver.resolve(event["Properties"]["Schedule"])))
        for event in events
        if event["Type"] == "Schedule"
    ]
    return LocalFunction(
        logical_id=logical_id,
        name=name,
        code_dir=TEMPLATE.parent / properties["CodeUri"],
        handler=properties.get("Handler", globals_.get("Handler", "app.handler")),
        timeout=int(properties.get("Timeout", globals_.get("Timeout", 3))),
        # Each function signs its calls with credentials of its own, as each role's are on Lambda.
        environment=environment
        | extra_environment
        | {"AWS_LAMBDA_FUNCTION_NAME": name, "AWS_ACCESS_KEY_ID": logical_id},
        routes=routes,
        policy=policy,
        schedule_seconds=min(schedules) if schedules else None,
    )


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}


def rate_seconds(expression: str) -> int:
    """The period of an EventBridge `rate(...)` schedule expression."""
    found = _RATE.fullmatch(expression)
    if found is None:
        raise ValueError(f"not a rate expression this offline stack runs: {expression}")
    return int(found[1]) * _UNIT_SECONDS[found[2].removesuffix("s")]
