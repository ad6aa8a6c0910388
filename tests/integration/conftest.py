from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from moto import mock_aws
from openai import OpenAI

from tests.integration.engine_process import LATENCY, WEBHOOK_SECRET
from tests.support import HTTP, free_port, running
from tests.webhook_receiver import WebhookReceiver


@pytest.fixture(scope="session")
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="session")
def engine_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engine-data")


@pytest.fixture(scope="session")
def engine_url(engine_data_dir: Path, webhook_receiver: WebhookReceiver, render_cache: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        "engine",
        "--port",
        str(port),
        "--latency",
        str(LATENCY),
        "--data-dir",
        str(engine_data_dir),
        "--webhook-url",
        webhook_receiver.url,
        "--webhook-secret",
        WEBHOOK_SECRET,
        "--render-cache",
        str(render_cache),
    ]
    with running(args, f"{url}/_stats", engine_data_dir / "engine.log"):
        yield url


@pytest.fixture
def client(engine_url: str) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{engine_url}/v1", api_key="sk-test", max_retries=0, timeout=30) as c:
        yield c


@pytest.fixture
def http(engine_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=engine_url, headers={"Authorization": "Bearer sk-test"}, timeout=30) as c:
        yield c


@pytest.fixture(autouse=True)
def _disarm_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "engine_url" in request.fixturenames:
        HTTP.delete(f"{request.getfixturevalue('engine_url')}/_faults")


@pytest.fixture
def moto_account(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An in-process moto account (us-east-1) with fake credentials, no endpoint override."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield
