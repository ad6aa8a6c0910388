"""The roles the template gives its functions and its state machine, as CloudFormation creates them: the
template goes through SAM's own transform (samtranslator), and each role's inline policies, with their
intrinsics resolved to the local resources' names, and its managed policies become one `Policy`."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from local.iam.policy import Policy, PolicyError, Statement, parse_document, raw_statements
from local.serve.intrinsics import Resolver

_AWS_POLICIES = "arn:aws:iam::aws:policy/"
CACHE_DIR = Path(__file__).resolve().parents[2] / ".videos-api" / "cache"
# The template's parameters whose values SAM writes into what it makes (the HTTP API's CORS origins);
# it keeps a reference to every other (tests/template/test_template.py fails when one is missing).
SAM_RESOLVED_PARAMETERS = ("CorsAllowOrigins",)
# The managed policies SAM attaches by itself (logs for every function, X-Ray where tracing is on), as
# AWS publishes them. Nothing offline calls these services through boto3, but they are the role's.
MANAGED_POLICIES: dict[str, dict[str, Any]] = {
    "service-role/AWSLambdaBasicExecutionRole": {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            }
        ]
    },
    "AWSXrayWriteOnlyAccess": {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "xray:GetSamplingStatisticSummaries",
                ],
                "Resource": "*",
            }
        ]
    },
}


class _ManagedPolicyArns:
    """samtranslator asks IAM for the ARNs of managed policies named in a template; offline it gets
    the ones SAM itself attaches."""

    def load(self) -> dict[str, str]:
        return {path.rsplit("/", 1)[-1]: _AWS_POLICIES + path for path in MANAGED_POLICIES}


def packaged(template: Mapping[str, Any]) -> dict[str, Any]:
    """The template as `sam package` hands it to the transform: local paths become S3 URIs."""
    result = copy.deepcopy(dict(template))
    for resource in result["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://artifacts/{properties[key].strip('/')}"
    return result


def transformed(template: Mapping[str, Any], parameters: Mapping[str, str], region: str) -> dict[str, Any]:
    """The CloudFormation template SAM makes of `template`, kept by what it was made of: samtranslator
    takes ~1.3 s to import and ~0.8 s to transform, and every local stack would pay it again for the
    same answer. Of the parameters, only those SAM resolves into its output are part of it (every stack
    passes values of its own to the others, which SAM copies as references)."""
    from importlib.metadata import version

    resolved = {name: parameters.get(name) for name in SAM_RESOLVED_PARAMETERS}
    made_of = json.dumps([template, resolved, region, version("aws-sam-translator")], sort_keys=True)
    cached = CACHE_DIR / f"sam-{hashlib.sha256(made_of.encode()).hexdigest()[:32]}.json"
    with contextlib.suppress(OSError, ValueError):
        output: dict[str, Any] = json.loads(cached.read_text())
        return output
    output = _transform(template, parameters, region)
    with contextlib.suppress(OSError):
        cached.parent.mkdir(parents=True, exist_ok=True)
        temporary = cached.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(output))
        temporary.replace(cached)
    return output


def _transform(template: Mapping[str, Any], parameters: Mapping[str, str], region: str) -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region  # samtranslator reads the region from the environment
    try:
        output: dict[str, Any] = transform(packaged(template), dict(parameters), _ManagedPolicyArns())
    finally:
        if previous is None:
            del os.environ["AWS_DEFAULT_REGION"]
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous
    return output


def _role_policy(role_id: str, resources: Mapping[str, Any], resolver: Resolver, role_arn: str) -> Policy:
    properties = resources[role_id]["Properties"]
    statements: list[Statement] = []
    for inline in properties.get("Policies", []):
        prefix = role_id if _all_named(inline["PolicyDocument"]) else f"{role_id}.{inline['PolicyName']}"
        statements.extend(parse_document(prefix, resolver.resolve(inline["PolicyDocument"])))
    for arn in properties.get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and set(arn) == {"Ref"}:
            managed = resources.get(arn["Ref"], {})
            if managed.get("Type") != "AWS::IAM::ManagedPolicy":
                raise PolicyError(f"{role_id}: {arn['Ref']} is not a managed policy of the template")
            document = resolver.resolve(managed["Properties"]["PolicyDocument"])
            statements.extend(parse_document(f"{role_id}.{arn['Ref']}", document))
            continue
        path = str(arn).removeprefix(_AWS_POLICIES)
        if path not in MANAGED_POLICIES:
            raise PolicyError(f"{role_id}: managed policy {arn} is not known offline")
        statements.extend(parse_document(f"{role_id}.{path.rsplit('/', 1)[-1]}", MANAGED_POLICIES[path]))
    names = [statement.name for statement in statements]
    if len(names) != len(set(names)):
        raise PolicyError(f"{role_id}: two statements share a Sid")
    return Policy(role_arn, tuple(statements))


def _all_named(document: Mapping[str, Any]) -> bool:
    return all("Sid" in statement for statement in raw_statements(document))


def role_policies(
    output: Mapping[str, Any], resolver: Resolver, role_arn: Callable[[str], str]
) -> dict[str, Policy]:
    """Logical id of each function and state machine -> its role's policy. `role_arn(role_id)` names
    a role the way the local account does."""
    resources = output["Resources"]
    policies: dict[str, Policy] = {}
    for logical_id, resource in resources.items():
        role_property = {"AWS::Lambda::Function": "Role", "AWS::StepFunctions::StateMachine": "RoleArn"}.get(
            resource["Type"]
        )
        if role_property is None:
            continue
        reference = resource["Properties"][role_property]
        if not (isinstance(reference, dict) and "Fn::GetAtt" in reference):
            raise PolicyError(f"{logical_id}: a role given as {reference!r} is not supported offline")
        role_id = reference["Fn::GetAtt"][0]
        policies[logical_id] = _role_policy(role_id, resources, resolver, role_arn(role_id))
    return policies
