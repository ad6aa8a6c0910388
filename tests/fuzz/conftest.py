from __future__ import annotations

import pytest
import schemathesis
from schemathesis.schemas import BaseSchema

from tests.conftest import new_owner_key
from tests.support import Served


@pytest.fixture(scope="session")
def fuzz_key(served: Served) -> str:
    """The fuzzer's own owner on the shared `serve`, so its jobs touch no other test's."""
    return new_owner_key(served, "fuzz")


@pytest.fixture(scope="session")
def api_schema(served: Served) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{served.api}/openapi.json")
