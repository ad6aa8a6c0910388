from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from schemathesis.schemas import BaseSchema

from tests.support import free_port, running, serve_args

FUZZ_KEY = "sk-fuzz-development-key-0123456789"


@pytest.fixture(scope="session")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `serve --fast` of its own, so the fuzzer's jobs and keys touch nothing else."""
    data: Path = tmp_path_factory.mktemp("fuzz")
    ports = (free_port(), free_port(), free_port())
    url = f"http://127.0.0.1:{ports[0]}"
    args = serve_args(ports, FUZZ_KEY, data)
    with running(args, f"{url}/openapi.json", data / "serve.log"):
        yield url


@pytest.fixture(scope="session")
def api_schema(fuzz_target: str) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_target}/openapi.json")
