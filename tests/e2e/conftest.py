from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from openai import OpenAI
from playwright.sync_api import Browser

from local.keys import create_key
from local.serve.aws_endpoint import client as aws_client
from tests.e2e.browser import launched_chromium
from tests.support import free_port, running, serve_args

DEV_KEY = "sk-e2e-development-key-0123456789"


@dataclass(frozen=True)
class Served:
    api: str
    aws: str
    engine: str
    data_dir: Path
    ports: tuple[int, int, int]


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`videos-api serve --fast` on free ports, as a user starts it."""
    data_dir = tmp_path_factory.mktemp("serve")
    ports = (free_port(), free_port(), free_port())
    api, aws, engine = (f"http://127.0.0.1:{port}" for port in ports)
    args = serve_args(ports, DEV_KEY, data_dir)
    with running(args, f"{api}/openapi.json", data_dir / "serve.log"):
        yield Served(api, aws, engine, data_dir, ports)


@pytest.fixture
def sdk(served: Served) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{served.api}/v1", api_key=DEV_KEY, max_retries=0, timeout=60) as client:
        yield client


@pytest.fixture
def fresh_sdk(served: Served) -> Iterator[OpenAI]:
    """The openai SDK with the key of a new owner, who has no videos yet."""
    dynamodb = aws_client("dynamodb", served.aws)
    key = create_key(dynamodb, "videos-api-KeysTable", "owner-" + secrets.token_hex(4))
    with OpenAI(base_url=f"{served.api}/v1", api_key=key, max_retries=0, timeout=60) as client:
        yield client


@pytest.fixture
def api(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=served.api, headers={"Authorization": f"Bearer {DEV_KEY}"}, timeout=60
    ) as client:
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_chromium() as chromium:
        yield chromium
