from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from schemathesis.schemas import BaseSchema

from tests.support import serving

FUZZ_KEY = "sk-fuzz-development-key-0123456789"


@pytest.fixture(scope="session")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `serve --fast` of its own, so the fuzzer's jobs and keys touch nothing else. The fuzzer sends
    requests back to back, faster than the /poll route's throttle takes them (API Gateway's own 429
    there has its own body, not the contract's): the throttle is raised as a deployment would."""
    poll_rate = ("--parameter", "PollRequestsPerSecond=100")
    with serving(FUZZ_KEY, tmp_path_factory.mktemp("fuzz"), *poll_rate) as service:
        yield service.api


@pytest.fixture(scope="session")
def api_schema(fuzz_target: str) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_target}/openapi.json")
