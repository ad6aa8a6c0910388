from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from schemathesis.schemas import BaseSchema

from tests.support import serving

FUZZ_KEY = "sk-fuzz-development-key-0123456789"


@pytest.fixture(scope="session")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `serve --fast` of its own, so the fuzzer's jobs and keys touch nothing else."""
    with serving(FUZZ_KEY, tmp_path_factory.mktemp("fuzz")) as service:
        yield service.api


@pytest.fixture(scope="session")
def api_schema(fuzz_target: str) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_target}/openapi.json")
