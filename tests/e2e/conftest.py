from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from openai import OpenAI
from playwright.sync_api import Browser

from tests.conftest import DEV_KEY, new_owner_key
from tests.e2e.browser import launched_chromium
from tests.support import Served


@pytest.fixture
def sdk(served: Served) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{served.api}/v1", api_key=DEV_KEY, max_retries=0, timeout=60) as client:
        yield client


@pytest.fixture
def fresh_sdk(served: Served) -> Iterator[OpenAI]:
    """The openai SDK with the key of a new owner, who has no videos yet."""
    key = new_owner_key(served, "owner")
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
