from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.serve.stack import LocalStack
from tests.integration.workflow.harness import WEBHOOK_SECRET, Workflow
from tests.support import free_port


@pytest.fixture(scope="session")
def local_stack(engine_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The application offline (#4's harness): moto with the template's resources, the functions in
    worker processes, the state machine executing with its tasks answered by those workers."""
    logs: Path = tmp_path_factory.mktemp("workflow-logs")
    stack = LocalStack(
        host="127.0.0.1",
        aws_port=free_port(),
        upstream_url=f"{engine_url}/v1",
        webhook_secret=WEBHOOK_SECRET,
        log_dir=logs,
        parameters={"BackoffScale": "0.1"},
    )
    yield stack
    stack.close()


@pytest.fixture
def workflow(local_stack: LocalStack, engine_url: str) -> Iterator[Workflow]:
    """A fresh owner with a key, and a queue receiving every event the bus carries for that owner."""
    owner = "owner-" + secrets.token_hex(4)
    key = "sk-" + secrets.token_urlsafe(24)
    local_stack.add_key(owner, key)
    flow = Workflow(local_stack, engine_url, owner, key)
    sqs, events = flow.client("sqs"), flow.client("events")
    queue_url = sqs.create_queue(QueueName=owner)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus = next(iter(local_stack.application.event_buses.values()))
    events.put_rule(
        Name=owner,
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["videos-api"], "detail": {"owner": [owner]}}),
    )
    events.put_targets(Rule=owner, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    flow.queue_url = queue_url
    yield flow
    events.remove_targets(Rule=owner, EventBusName=bus, Ids=["queue"])
    events.delete_rule(Name=owner, EventBusName=bus)
