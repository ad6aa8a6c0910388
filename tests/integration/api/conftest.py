from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws
from openai import OpenAI

from local.aws_resources import create_tables
from local.serve.application import STACK
from local.template import application_template
from tests.integration.api.stack import (
    APPLICATION,
    BUCKET,
    CONTENT_TYPES,
    IDLE_DEFINITION,
    REGION,
    STATE_MACHINE,
    Stack,
    moto_client,
)
from tests.media import jpeg_size
from videos_core import idempotency, wiring
from videos_core.models.api import Variant
from videos_core.observability import metrics


@pytest.fixture(scope="session")
def engine_sdk(engine_url: str) -> Iterator[OpenAI]:
    """The engine through the openai SDK, for every test of a worker (a client costs a TLS context)."""
    with OpenAI(base_url=f"{engine_url}/v1", api_key="sk-engine-test", max_retries=0) as engine:
        yield engine


@pytest.fixture(scope="session")
def functions_aws_clients() -> None:
    """The functions' AWS clients, made afresh once per worker and then kept from case to case: every
    case sets the same AWS environment, and moto answers a client made before its mock started."""
    wiring.reset()


@pytest.fixture
def stack(
    monkeypatch: pytest.MonkeyPatch, engine_url: str, engine_sdk: OpenAI, functions_aws_clients: None
) -> Iterator[Stack]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        tables = create_tables(moto_client("dynamodb"), application_template(), STACK)
        moto_client("s3").create_bucket(Bucket=BUCKET)
        moto_client("events").create_event_bus(Name=APPLICATION.event_buses["EventBus"])
        (machine,) = APPLICATION.state_machines.values()
        state_machine_arn = moto_client("stepfunctions").create_state_machine(
            name=STATE_MACHINE, definition=json.dumps(IDLE_DEFINITION), roleArn=machine.role_arn
        )["stateMachineArn"]
        # The upstream key where the template says it is: the functions read it from SSM, as deployed.
        key_parameter = APPLICATION.parameters["UpstreamApiKeyParameter"]
        moto_client("ssm").put_parameter(Name=key_parameter, Value="sk-engine-test", Type="SecureString")
        for name, value in {
            "VIDEOS_TABLE": tables["VideosTable"],
            "KEYS_TABLE": tables["KeysTable"],
            "ASSETS_BUCKET": BUCKET,
            "STATE_MACHINE_ARN": state_machine_arn,
            "IDEMPOTENCY_TABLE": tables["IdempotencyTable"],
            "QUOTAS_TABLE": tables["QuotasTable"],
            "OUTBOX_TABLE": tables["OutboxTable"],
            "EVENT_BUS_NAME": APPLICATION.event_buses["EventBus"],
            "UPSTREAM_BASE_URL": f"{engine_url}/v1",
            "UPSTREAM_API_KEY_PARAMETER": key_parameter,
            "POLL_HOLD_SECONDS": "0.6",
            "POLL_INTERVAL_SECONDS": "0.05",
            "POWERTOOLS_METRICS_NAMESPACE": "VideosApiTest",
            "POWERTOOLS_SERVICE_NAME": "videos-api",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }.items():
            monkeypatch.setenv(name, value)
        wiring.reset(aws_clients=False)
        idempotency.reset()
        stack = Stack(tables["VideosTable"], tables["KeysTable"], state_machine_arn, engine_sdk)
        stack.keys = {"alice": stack.add_key("alice"), "bob": stack.add_key("bob")}
        yield stack
        wiring.reset(aws_clients=False)
    metrics.clear_metrics()


@pytest.fixture(scope="session")
def media(engine_sdk: OpenAI) -> dict[Variant, bytes]:
    """Real engine-rendered files, for records seeded as completed."""
    video = engine_sdk.videos.create_and_poll(prompt="Seeded media", poll_interval_ms=100)
    files = {
        variant: engine_sdk.videos.download_content(video.id, variant=variant).content
        for variant in CONTENT_TYPES
    }
    assert jpeg_size(files["thumbnail"]) == (720, 1280)
    return files
