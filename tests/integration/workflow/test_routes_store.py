"""The routes document in the local AppConfig, as deployed: a catalog of 200 routes deploys without
touching the functions' environment, a broken document is refused by the store's own validators (its
JSON Schema, and the ValidateRoutes function AppConfig invokes) before it is stored, and a changed
route takes effect within the functions' cache age, without a restart."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.routes_store import RESOURCES, RoutesStore
from tests.apigw import http_event
from tests.integration.workflow.harness import ROUTES_MAX_AGE_SECONDS, Workflow

# Lambda's limit on all of a function's environment variables together.
LAMBDA_ENVIRONMENT_BYTES = 4096


def _models(workflow: Workflow) -> dict[str, dict[str, Any]]:
    event = http_event("get", path="/v1/videos/models", route_key="GET /v1/videos/models", key=workflow.key)
    status, _, listed = workflow.call("ListModelsFunction", event)
    assert status == 200, listed
    return {card["id"]: card for card in listed["data"]}


def _store(workflow: Workflow) -> RoutesStore:
    return RoutesStore(*(workflow.stack.application.refs[resource] for resource in RESOURCES))


def _deployed(workflow: Workflow) -> dict[str, Any]:
    """The routes document the session deployed last."""
    store, appconfig = _store(workflow), workflow.client("appconfig")
    versions = appconfig.list_hosted_configuration_versions(
        ApplicationId=store.application, ConfigurationProfileId=store.profile
    )["Items"]
    latest = max(version["VersionNumber"] for version in versions)
    content = appconfig.get_hosted_configuration_version(
        ApplicationId=store.application, ConfigurationProfileId=store.profile, VersionNumber=latest
    )["Content"].read()
    found: dict[str, Any] = json.loads(content)
    return found


def _until(check: Any, seconds: float) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, "not taken in time"
        time.sleep(0.5)
    return time.monotonic() - started


def test_200_routes_deploy_and_are_taken_within_the_cache_age(workflow: Workflow) -> None:
    engine = f"{workflow.engine_url}/v1"
    # The session's own routes stay: the other tests of this stack create with them.
    document: dict[str, Any] = _deployed(workflow)
    document |= {
        f"house-{n:03}": {"base_url": engine, "profile": "vllm-omni", "price_per_second": "0.02"}
        for n in range(200 - len(document))
    }

    # A warm container, holding the routes it read: the new ones reach it within its cache age.
    assert len(_models(workflow)) < 200
    deployed_at = time.monotonic()
    workflow.stack.deploy_routes(json.dumps(document).encode(), "200 routes")

    _until(lambda: len(_models(workflow)) == 200, ROUTES_MAX_AGE_SECONDS + 10)
    assert time.monotonic() - deployed_at <= ROUTES_MAX_AGE_SECONDS + 5
    assert _models(workflow)["house-000"]["price_per_second"] == "0.02"
    for function in workflow.stack.application.functions.values():
        declared = {k: v for k, v in function.environment.items() if not k.startswith("AWS_")}
        assert sum(len(k) + len(v) for k, v in declared.items()) < LAMBDA_ENVIRONMENT_BYTES


@pytest.mark.parametrize(
    "broken",
    [
        # The JSON Schema's refusals (the document's shape)…
        {"veo": {"provider": "gemini", "base_url": "http://veo.example.com"}},
        {"veo": {"provider": "gemini", "colour": "red"}},
        # …and the validator function's (the catalog's rules: providers, profiles, key parameters).
        {"veo": {"provider": "no-such-provider"}},
        {"veo": {"provider": "gemini", "upstream_model": "veo-9"}},
        {"veo": {"provider": "gemini", "api_key_parameter": "/elsewhere/key"}},
    ],
)
def test_a_broken_document_is_refused_by_the_stores_validator(workflow: Workflow, broken: object) -> None:
    store, appconfig = _store(workflow), workflow.client("appconfig")
    before = appconfig.list_hosted_configuration_versions(
        ApplicationId=store.application, ConfigurationProfileId=store.profile
    )["Items"]

    with pytest.raises(ClientError) as refused:
        workflow.stack.deploy_routes(json.dumps(broken).encode(), "broken")

    assert refused.value.response["Error"]["Code"] == "BadRequestException"
    after = appconfig.list_hosted_configuration_versions(
        ApplicationId=store.application, ConfigurationProfileId=store.profile
    )["Items"]
    assert len(after) == len(before)
