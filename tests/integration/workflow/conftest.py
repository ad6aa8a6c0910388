from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from local.serve.stack import LocalStack
from tests.integration.workflow.harness import Workflow, new_owner, running_stack
from videos_core.catalog import DEFAULT_MODELS

VEO = {"provider": "gemini", "upstream_model": "veo-3.1-generate-preview", "api_key": "sk-gemini"}
# The default models, a Veo model on the engine's Gemini dialect (its downloads are redirected), and a
# model with two routes: OpenAI's dialect first (a job may run there 10 s), Veo's next.
ROUTES = {
    **{model: {} for model in DEFAULT_MODELS},
    "veo-3.1": VEO,
    "two-routes": [
        {"name": "first", "upstream_model": "sora-2", "max_seconds": 10},
        VEO | {"name": "second", "profile": "veo-3.1-generate"},
    ],
}
BREAKER_COOLDOWN_SECONDS = 3


@pytest.fixture(scope="session")
def local_stack(engine_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    routes = tmp_path_factory.mktemp("workflow-routes") / "routes.json"
    routes.write_text(json.dumps(ROUTES))
    # A route's breaker opens after 3 refusals in a row (no failure share: the other tests' failures on
    # `two-routes` never open it) and cools down in 3 s.
    breaker = {
        "RouteBreakerFailures": "3",
        "RouteBreakerMinimumAttempts": "100000",
        "RouteBreakerCooldownSeconds": str(BREAKER_COOLDOWN_SECONDS),
    }
    with running_stack(engine_url, tmp_path_factory.mktemp("workflow-logs"), routes, **breaker) as stack:
        yield stack


@pytest.fixture
def workflow(local_stack: LocalStack, engine_url: str) -> Iterator[Workflow]:
    with new_owner(local_stack, engine_url) as flow:
        yield flow
