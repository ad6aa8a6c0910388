from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from schemathesis.schemas import BaseSchema

from tests.support import free_port, running

FUZZ_KEY = "sk-fuzz-development-key-0123456789"


@pytest.fixture(scope="session")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `serve --fast` of its own, so the fuzzer's jobs and keys touch nothing else."""
    data: Path = tmp_path_factory.mktemp("fuzz")
    port, aws, engine = free_port(), free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        "serve",
        "--fast",
        "--port",
        str(port),
        "--aws-port",
        str(aws),
        "--engine-port",
        str(engine),
        "--api-key",
        FUZZ_KEY,
        "--data-dir",
        str(data),
    ]
    with running(args, f"{url}/openapi.json", data / "serve.log"):
        yield url


@pytest.fixture(scope="session")
def api_schema(fuzz_target: str) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_target}/openapi.json")
