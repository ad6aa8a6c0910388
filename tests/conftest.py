import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.iam import enforce
from local.keys import create_key
from local.serve import botocore_data
from local.serve.aws_endpoint import client as aws_client
from tests.support import Served, serving

DEV_KEY = "sk-e2e-development-key-0123456789"

# Lambda's environment exists before a function's module is imported; so it does here, for the
# Powertools singletons the layer creates at import time.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "VideosApiTest")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "videos-api")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

# Every client the tests make can then be judged by a role: the in-process tests act as a function's.
enforce.install()

# The tests make a new boto3 session for each moto account (moto resets the default session): one
# loader for them all parses botocore's service models and endpoint rules once, not for each session.
botocore_data.share_loaders()


@pytest.fixture(scope="session")
def render_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One render cache for every engine of the run, on every xdist worker: renders are atomic and
    keyed by what determines them, so a request another test already made is not rendered again."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if "PYTEST_XDIST_WORKER" in os.environ else base) / "renders"


# The one origin besides its own whose pages may call the shared `serve` (its CorsAllowOrigins).
CORS_ORIGIN = "http://localhost:5173"
# The shared `serve`'s deliveries: a retry within a second or two, given up after 26 s (of 72 h).
WEBHOOK_RETRY_SCALE = "0.0001"


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory, render_cache: Path) -> Iterator[Served]:
    """`videos-api serve --fast` on free ports, as a user starts it; the e2e and fuzz suites share it.
    The fuzzer sends requests back to back, faster than the /poll route's throttle takes them (API
    Gateway's own 429 there has its own body, not the contract's): the throttle is raised, as a
    deployment would raise it. Pages of CORS_ORIGIN may call it (the playground, on the API's own
    origin, needs no CORS). Tenants' webhook endpoints may be receivers on this machine, and a failed
    delivery is tried again within a second or two (WEBHOOK_RETRY_SCALE)."""
    parameters = (
        "--parameter",
        "PollRequestsPerSecond=100",
        "--parameter",
        f"CorsAllowOrigins={CORS_ORIGIN}",
        "--parameter",
        f"WebhookRetryScale={WEBHOOK_RETRY_SCALE}",
        "--allow-loopback-webhooks",
    )
    with serving(
        DEV_KEY, tmp_path_factory.mktemp("serve"), *parameters, render_cache=render_cache
    ) as service:
        yield service


def new_owner_key(served: Served, owner: str) -> str:
    """A key of a new owner of `served`, who has no videos yet."""
    owner = f"{owner}-{secrets.token_hex(4)}"
    return create_key(aws_client("dynamodb", served.aws), "videos-api-KeysTable", owner)


# The e2e suites that start a `serve` of their own rather than share `served`.
OWN_SERVE = ("tests/e2e/test_stop.py", "tests/e2e/test_providers.py", "tests/e2e/test_restart.py")


# The suites that take longest, handed out first (with --no-loadscope-reorder, xdist gives the workers
# test files in collection order), so that the workers end together; the rest in testpaths' order.
LONGEST_FIRST = ("tests/faults/", "tests/e2e/", "tests/fuzz/", "tests/integration/iam/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((n for n, p in enumerate(LONGEST_FIRST) if item.nodeid.startswith(p)), len(LONGEST_FIRST))

    items.sort(key=rank)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """What a test worker takes at a time: a test file, so that its fixtures are made once — but the
    suites that share `served` all together, so that one `serve` is started for them."""
    from xdist.scheduler import LoadScopeScheduling

    class ByFileServeTogether(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            shared = path.startswith(("tests/e2e/", "tests/fuzz/")) and path not in OWN_SERVE
            return "serve" if shared else path

    return ByFileServeTogether(config, log)
