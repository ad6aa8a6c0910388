"""Driving the offline application in workflow tests: create jobs through the create function, wait
for records, read executions, events and objects from the local endpoint."""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from local.engine.webhooks import secret_key, sign
from local.serve.command import FAST_PARAMETERS
from local.serve.routes_file import read_routes, stack_defaults
from local.serve.stack import LocalStack
from tests.apigw import http_event
from tests.support import HTTP, free_port
from videos_core.adapters.dynamodb import from_item, to_item
from videos_core.adapters.quotas import spend_period

# How long to go on reading after a job's first event: the time a second publisher would take.
STRAGGLERS_SECONDS = 0.3
WEBHOOK_SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5"
# The shortest the functions may keep the routes (AppConfig serves a session at most every 15 s).
ROUTES_MAX_AGE_SECONDS = 15


@dataclass
class Workflow:
    stack: LocalStack
    engine_url: str
    owner: str
    key: str
    queue_url: str = ""
    _events: list[dict[str, Any]] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return self.stack.aws.client(service)

    def function_name(self, logical_id: str) -> str:
        return self.stack.application.functions[logical_id].name

    def call(self, logical_id: str, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        invocation = self.stack.invoke(self.function_name(logical_id), event)
        assert invocation.error is None, invocation.output
        result = invocation.result
        body = result.get("body") or ""
        return int(result["statusCode"]), result.get("headers") or {}, json.loads(body) if body else None

    def create(self, prompt: str, **fields: str) -> dict[str, Any]:
        status, _, video = self.call(
            "CreateFunction", http_event("create_json", key=self.key, body={"prompt": prompt} | fields)
        )
        assert status == 200, video
        return dict(video)

    def record(self, video_id: str) -> dict[str, Any] | None:
        table = self.stack.application.tables["VideosTable"]
        item = self.client("dynamodb").get_item(
            TableName=table, Key=to_item({"owner": self.owner, "video_id": video_id})
        )
        return from_item(item["Item"]) if "Item" in item else None

    def wait_terminal(self, video_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = self.record(video_id)
            if record is not None and record["status"] in ("completed", "failed"):
                return record
            time.sleep(0.2)
        raise TimeoutError(f"{video_id} did not end within {timeout}s: {self.record(video_id)}")

    def execution_arn(self, video_id: str) -> str:
        machine = next(iter(self.stack.application.state_machines.values()))
        return machine.arn.replace(":stateMachine:", ":execution:") + ":" + video_id

    def wait_execution(self, video_id: str, timeout: float = 60) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            execution = sfn.describe_execution(executionArn=self.execution_arn(video_id))
            if execution["status"] != "RUNNING":
                return dict(execution)
            time.sleep(0.2)
        raise TimeoutError(f"the execution of {video_id} still runs after {timeout}s")

    def history(self, video_id: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        events = sfn.get_execution_history(executionArn=self.execution_arn(video_id), maxResults=1000)[
            "events"
        ]
        return list(events)

    def events_for(self, video_id: str, settle: float = 1.0) -> list[dict[str, Any]]:
        """Every bus event about `video_id` the owner's queue received: read until one has come (or
        `settle` seconds passed without one), then for STRAGGLERS_SECONDS more, so that a second
        event for the same job would be seen too."""
        sqs = self.client("sqs")
        deadline = time.monotonic() + settle
        while True:
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            for message in messages.get("Messages", []):
                self._events.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            found = any(event["detail"]["video"]["id"] == video_id for event in self._events)
            if found:
                deadline = min(deadline, time.monotonic() + STRAGGLERS_SECONDS)
            if not messages.get("Messages") and time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return [event for event in self._events if event["detail"]["video"]["id"] == video_id]

    def upstream_id(self, video_id: str) -> str:
        record = self.record(video_id)
        assert record is not None
        return str(record["upstream_id"])

    def arm_upstream(self, **fault: Any) -> None:
        """A fault at the engine (its `/_faults`)."""
        HTTP.post(f"{self.engine_url}/_faults", json=fault).raise_for_status()

    def slots(self) -> set[str]:
        """The video ids holding the owner's running-job slots."""
        table = self.stack.application.tables["QuotasTable"]
        item = self.client("dynamodb").get_item(
            TableName=table, Key=to_item({"owner": self.owner, "period": "running"})
        )
        return set(from_item(item.get("Item", {})).get("video_ids", set()))

    def spent(self) -> Decimal:
        """The owner's estimated spend today."""
        table = self.stack.application.tables["QuotasTable"]
        key = to_item({"owner": self.owner, "period": spend_period(int(time.time()))})
        item = self.client("dynamodb").get_item(TableName=table, Key=key)
        return Decimal(from_item(item.get("Item", {})).get("spent_usd", 0))

    def reconcile(self) -> dict[str, Any]:
        """One pass of the reconciler, as its schedule runs it."""
        invocation = self.stack.invoke(self.function_name("ReconcileFunction"), {})
        assert invocation.error is None, invocation.output
        return dict(invocation.result)

    def objects(self, video_id: str) -> dict[str, bytes]:
        s3 = self.client("s3")
        bucket = self.stack.application.buckets["AssetsBucket"]
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"videos/{video_id}/").get("Contents", [])
        return {
            item["Key"].rsplit("/", 1)[-1]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            for item in listed
        }

    def webhook(
        self,
        event_type: str,
        upstream_id: str,
        *,
        delivery_id: str | None = None,
        timestamp: int | None = None,
        secret: str = WEBHOOK_SECRET,
    ) -> tuple[int, Any]:
        """Delivers a signed upstream webhook to the receiver, as the upstream would."""
        delivery_id = delivery_id or f"evt_{time.time_ns()}"
        timestamp = int(time.time()) if timestamp is None else timestamp
        body = json.dumps(
            {
                "id": delivery_id,
                "object": "event",
                "created_at": timestamp,
                "type": event_type,
                "data": {"id": upstream_id},
            }
        )
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret_key(secret), delivery_id, timestamp, body.encode()),
        }
        event = http_event(
            "create_json",
            path="/webhooks/openai",
            route_key="POST /webhooks/openai",
            body=body,
            headers=headers,
        )
        status, _, payload = self.call("WebhookFunction", event)
        return status, payload


@contextlib.contextmanager
def running_stack(
    engine_url: str, log_dir: Path, routes: Path | None = None, /, **parameters: str
) -> Iterator[LocalStack]:
    """The application offline (#4's harness): moto with the template's resources, the functions in
    worker processes, the state machine executing with its tasks answered by those workers; `routes`,
    a routes document as `serve --routes` takes it. Tenants' webhook endpoints may be receivers on this
    machine."""
    read = read_routes(routes, stack_defaults(f"{engine_url}/v1", parameters), engine_url) if routes else None
    stack = LocalStack(
        host="127.0.0.1",
        aws_port=free_port(),
        upstream_url=f"{engine_url}/v1",
        webhook_secret=WEBHOOK_SECRET,
        log_dir=log_dir,
        parameters=FAST_PARAMETERS
        | {"ReconcileAfterSeconds": "1", "RoutesMaxAgeSeconds": str(ROUTES_MAX_AGE_SECONDS)}
        | parameters,
        secrets=read.keys if read else None,
        allow_loopback_webhooks=True,
    )
    try:
        # The engine's Bedrock writes its outputs into this stack's S3, as Bedrock into the account's.
        HTTP.put(f"{engine_url}/_s3", json={"endpoint": stack.aws.endpoint}).raise_for_status()
        if read is not None:
            stack.deploy_routes(read.document, read.source)
        yield stack
    finally:
        stack.close()


def copying(video_id: str) -> Callable[[Any], bool]:
    """Whether a StoreAssets invocation's event is the copy of `video_id` (to kill its worker)."""
    return lambda event: isinstance(event, dict) and event.get("job", {}).get("video_id") == video_id


@contextlib.contextmanager
def new_owner(stack: LocalStack, engine_url: str) -> Iterator[Workflow]:
    """A fresh owner with a key, and a queue receiving every event the bus carries for that owner."""
    owner = "owner-" + secrets.token_hex(4)
    key = "sk-" + secrets.token_urlsafe(24)
    stack.add_key(owner, key)
    flow = Workflow(stack, engine_url, owner, key)
    sqs, events = flow.client("sqs"), flow.client("events")
    flow.queue_url = sqs.create_queue(QueueName=owner)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=flow.queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus = next(iter(stack.application.event_buses.values()))
    events.put_rule(
        Name=owner,
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["videos-api"], "detail": {"owner": [owner]}}),
    )
    events.put_targets(Rule=owner, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    try:
        yield flow
    finally:
        events.remove_targets(Rule=owner, EventBusName=bus, Ids=["queue"])
        events.delete_rule(Name=owner, EventBusName=bus)
