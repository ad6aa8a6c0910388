"""The template's AWS::AppConfig resources: what `Ref` and `GetAtt` of each answer locally, and their
creation in the local endpoint, through AppConfig's own API, in the order AWS requires (application,
environment, profile, strategy, hosted version, deployment).

Each resource is created with the tags CloudFormation puts on it (its stack and logical id), from which
the local endpoint derives its id (`local.serve.appconfig_ids`): `Ref` of an Application, Environment,
ConfigurationProfile or DeploymentStrategy is that id before the resource exists, as CloudFormation's
`Ref` of these types answers the id. A HostedConfigurationVersion's `Ref` is its version number: the
versions of one profile are numbered from 1 in the template's order, the order they are created in."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.serve.appconfig_ids import stack_resource_id, stack_tags

# Creation order, and the attribute `GetAtt` names each type's id by.
KINDS = {
    "AWS::AppConfig::Application": "ApplicationId",
    "AWS::AppConfig::Environment": "EnvironmentId",
    "AWS::AppConfig::ConfigurationProfile": "ConfigurationProfileId",
    "AWS::AppConfig::DeploymentStrategy": "Id",
    "AWS::AppConfig::HostedConfigurationVersion": "VersionNumber",
    "AWS::AppConfig::Deployment": "DeploymentNumber",
}


@dataclass(frozen=True)
class AppConfigResource:
    logical_id: str
    kind: str
    properties: dict[str, Any]  # resolved


def appconfig_names(
    template: dict[str, Any], stack: str
) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """`Ref` and `GetAtt` of the template's AppConfig resources."""
    refs: dict[str, str] = {}
    attributes: dict[tuple[str, str], str] = {}
    numbered: dict[tuple[str, str], int] = {}
    for logical_id, resource in template["Resources"].items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind not in KINDS:
            continue
        if kind == "AWS::AppConfig::HostedConfigurationVersion":
            value = str(_next(numbered, properties, "ConfigurationProfileId"))
            refs[logical_id] = value
        elif kind == "AWS::AppConfig::Deployment":
            value = str(_next(numbered, properties, "EnvironmentId"))
        else:
            value = refs[logical_id] = stack_resource_id(stack, logical_id)
        attributes[(logical_id, KINDS[kind])] = value
    return refs, attributes


def _next(numbered: dict[tuple[str, str], int], properties: dict[str, Any], parent: str) -> int:
    """The next number under the parent the properties name (written as in the template: a `Ref`)."""
    key = (json.dumps(properties.get("ApplicationId"), sort_keys=True), json.dumps(properties.get(parent)))
    numbered[key] = numbered.get(key, 0) + 1
    return numbered[key]


def appconfig_resources(template: dict[str, Any], resolve: Callable[[Any], Any]) -> list[AppConfigResource]:
    """The template's AppConfig resources with their properties resolved, in creation order."""
    order = list(KINDS)
    found = [
        AppConfigResource(logical_id, resource["Type"], resolve(resource.get("Properties", {})))
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in KINDS
    ]
    return sorted(found, key=lambda r: order.index(r.kind))


def _tags(resource: AppConfigResource, stack: str) -> dict[str, str]:
    declared = {tag["Key"]: str(tag["Value"]) for tag in resource.properties.get("Tags", [])}
    return declared | stack_tags(stack, resource.logical_id)


def _some(properties: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: properties[name] for name in names if name in properties}


def create_appconfig(client: Any, resources: list[AppConfigResource], stack: str) -> None:
    """Creates `resources` (from `appconfig_resources`) through the AppConfig API `client` calls."""
    for resource in resources:
        p, tags = resource.properties, _tags(resource, stack)
        if resource.kind == "AWS::AppConfig::Application":
            client.create_application(**_some(p, "Name", "Description"), Tags=tags)
        elif resource.kind == "AWS::AppConfig::Environment":
            client.create_environment(
                **_some(p, "ApplicationId", "Name", "Description", "Monitors"), Tags=tags
            )
        elif resource.kind == "AWS::AppConfig::ConfigurationProfile":
            client.create_configuration_profile(
                **_some(p, "ApplicationId", "Name", "Description", "LocationUri", "RetrievalRoleArn", "Type"),
                **_some(p, "KmsKeyIdentifier", "Validators"),
                Tags=tags,
            )
        elif resource.kind == "AWS::AppConfig::DeploymentStrategy":
            client.create_deployment_strategy(
                **_some(p, "Name", "Description", "DeploymentDurationInMinutes", "FinalBakeTimeInMinutes"),
                **_some(p, "GrowthFactor", "GrowthType", "ReplicateTo"),
                Tags=tags,
            )
        elif resource.kind == "AWS::AppConfig::HostedConfigurationVersion":
            client.create_hosted_configuration_version(
                **_some(p, "ApplicationId", "ConfigurationProfileId", "ContentType", "Description"),
                **_some(p, "LatestVersionNumber", "VersionLabel"),
                Content=str(p["Content"]).encode(),
            )
        else:
            client.start_deployment(
                **_some(
                    p, "ApplicationId", "EnvironmentId", "DeploymentStrategyId", "ConfigurationProfileId"
                ),
                **_some(p, "Description", "KmsKeyIdentifier", "DynamicExtensionParameters"),
                ConfigurationVersion=str(p["ConfigurationVersion"]),
                Tags=tags,
            )
