"""The routes document in AWS AppConfig: checked as the store checks it (its JSON Schema) and as the
functions build it (every rule of the catalog), then put there and deployed. `videos-api routes apply`
does this for a deployed stack, `serve --routes` for the local one: the same calls either way."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from videos_core.adapters.routes import RoutesDocumentError, parse
from videos_core.catalog import Catalog, Defaults
from videos_core.routes_schema import schema

# The template's AppConfig resources, by logical id; a stack's Outputs name their ids the same way.
RESOURCES = ("RoutesApplication", "RoutesEnvironment", "RoutesProfile", "RoutesDeploymentStrategy")
DEPLOYMENT_WAIT_SECONDS = 120


@dataclass(frozen=True)
class RoutesStore:
    application: str
    environment: str
    profile: str
    strategy: str


def check(content: bytes, defaults: Defaults) -> Catalog:
    """The catalog a document makes; RoutesDocumentError naming the first thing wrong with it: by the
    catalog's rules (the clearer words), then by the store's schema, which must take it too."""
    import jsonschema  # a development dependency: the functions never check a document

    catalog = parse(content, defaults)
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft4Validator(schema()).iter_errors(json.loads(content))
    )
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "the document"
        raise RoutesDocumentError(f"{where}: {error.message}")
    return catalog


def deploy(appconfig: Any, store: RoutesStore, content: bytes, description: str) -> str:
    """Puts the document in the store as a new version and deploys it; the version, once deployed.
    The store's own validator refuses a document that breaks the schema (BadRequestException)."""
    version = appconfig.create_hosted_configuration_version(
        ApplicationId=store.application,
        ConfigurationProfileId=store.profile,
        Content=content,
        ContentType="application/json",
        Description=description[:1024],
    )["VersionNumber"]
    deployment = appconfig.start_deployment(
        ApplicationId=store.application,
        EnvironmentId=store.environment,
        DeploymentStrategyId=store.strategy,
        ConfigurationProfileId=store.profile,
        ConfigurationVersion=str(version),
        Description=description[:1024],
    )
    number = deployment["DeploymentNumber"]
    deadline = time.monotonic() + DEPLOYMENT_WAIT_SECONDS
    while deployment["State"] not in ("COMPLETE", "ROLLED_BACK"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"deployment {number} is still {deployment['State']}")
        time.sleep(1)
        deployment = appconfig.get_deployment(
            ApplicationId=store.application, EnvironmentId=store.environment, DeploymentNumber=number
        )
    if deployment["State"] == "ROLLED_BACK":
        raise RuntimeError(f"deployment {number} was rolled back")
    return str(version)


def stack_store(cloudformation: Any, stack: str) -> RoutesStore:
    """A deployed stack's routes store, from its Outputs (`<logical id>Id`)."""
    outputs = cloudformation.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    found = {o["OutputKey"]: o["OutputValue"] for o in outputs}
    return RoutesStore(*(found[f"{resource}Id"] for resource in RESOURCES))
