from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest
from openai import OpenAI
from playwright.sync_api import Browser

from local.keys import create_key
from local.serve.aws_endpoint import client as aws_client
from tests.e2e.browser import launched_chromium
from tests.support import Served, serving

DEV_KEY = "sk-e2e-development-key-0123456789"


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`videos-api serve --fast` on free ports, as a user starts it."""
    with serving(DEV_KEY, tmp_path_factory.mktemp("serve")) as service:
        yield service


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
