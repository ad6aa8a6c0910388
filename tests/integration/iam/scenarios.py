"""What each function and the state machine do for a user, each as one scenario that passes on the
application as the template grants it. Taking away any one statement a scenario relies on must make
it fail: that is how the statement test shows that every statement of every policy matters."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError
from openai import OpenAI

from local.serve.sqs_sources import SqsPoller, sqs_event
from local.serve.workers import Invocation
from tests.apigw import http_event, multipart
from tests.integration.workflow.harness import Workflow
from tests.media import png_bytes
from tests.support import HTTP
from tests.webhook_receiver import WebhookReceiver
from videos_core.adapters.characters import character_key
from videos_core.adapters.dynamodb import from_item, to_item
from videos_core.adapters.stepfunctions import execution_input
from videos_core.adapters.uploads import upload_key
from videos_core.auth import hash_key
from videos_core.ids import new_character_id, new_file_id, new_video_id
from videos_core.models.record import VideoRecord
from videos_core.ports import StoredCharacter

# One prompt for every job, so that the engine renders it once and serves it from its cache after.
PROMPT = "A kite over the dunes"
# A model routed to fal's queue (the labs' stack routes it to the engine's fal dialect).
FAL_MODEL = "veo-3-fal"
# A model routed to Amazon Bedrock (the engine's dialect of it, writing into the stack's bucket).
BEDROCK_MODEL = "luma-ray-2"
BEDROCK_JOB = {"model": BEDROCK_MODEL, "seconds": "5", "size": "960x540"}
# Luma's Ray 2 first on Luma's own API, then on Amazon Bedrock: a job Luma fails is moved by
# CheckStatus to Bedrock.
FAILOVER_MODEL = "ray-2-anywhere"
FAILOVER_JOB = {"model": FAILOVER_MODEL, "seconds": "5", "size": "1280x720"}
JOB_SECONDS = 15
FAILED_EVENTS = frozenset(
    {"TaskFailed", "TaskTimedOut", "LambdaFunctionFailed", "LambdaFunctionTimedOut", "ExecutionFailed"}
)
CONTENT_TYPES = {"video": "video/mp4", "thumbnail": "image/jpeg", "spritesheet": "image/jpeg"}


@dataclass
class Lab:
    """A fresh owner on the running stack, and an upstream job the engine has completed."""

    flow: Workflow
    engine: OpenAI
    finished_upstream_id: str
    forced_machine_arn: str

    def finished_upstream_job(self) -> str:
        """A new job the engine has completed (a webhook finds its record by the upstream's id)."""
        return str(self.engine.videos.create_and_poll(prompt=PROMPT, poll_interval_ms=100).id)

    @property
    def stack(self) -> Any:
        return self.flow.stack

    def table(self, logical_id: str) -> str:
        return str(self.stack.application.tables[logical_id])

    def call(self, logical_id: str, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        return self.flow.call(logical_id, event)

    def api(self, logical_id: str, method: str, path: str, route: str, **options: Any) -> tuple[int, Any]:
        """A request with a key of its own (never in a warm worker's cache), which must be marked used."""
        key = "sk-" + secrets.token_urlsafe(24)
        self.stack.add_key(self.flow.owner, key)
        event = http_event(
            "create_json", path=path, method=method, route_key=f"{method} {route}", key=key, **options
        )
        status, _, body = self.call(logical_id, event)
        item = self.flow.client("dynamodb").get_item(
            TableName=self.table("KeysTable"), Key=to_item({"key_hash": hash_key(key)})
        )["Item"]
        assert "last_used_at" in item, "the key's use was not recorded"
        return status, body

    def uploaded_video(self) -> str:
        """A file id of this owner's whose bytes, an MP4, arrived through its signed PUT."""
        file_id = new_file_id()
        clip = self.engine.videos.download_content(self.finished_upstream_id).content
        self.flow.client("s3").put_object(
            Bucket=self.stack.application.buckets["AssetsBucket"],
            Key=upload_key(self.flow.owner, file_id),
            Body=clip,
            ContentType="video/mp4",
        )
        return file_id

    def seed_character(self) -> StoredCharacter:
        """A character of this owner's as POST /v1/videos/characters keeps it, made by the engine."""
        clip = self.engine.videos.download_content(self.finished_upstream_id).content
        made = self.engine.videos.create_character(name="Gull", video=("gull.mp4", clip, "video/mp4"))
        assert made.id is not None
        character = StoredCharacter(new_character_id(), "Gull", int(time.time()), made.id)
        self.flow.client("s3").put_object(
            Bucket=self.stack.application.buckets["AssetsBucket"],
            Key=character_key(self.flow.owner, character.id),
            Body=json.dumps(character.__dict__).encode(),
        )
        return character

    def character(self, character_id: str) -> dict[str, Any] | None:
        """A character as kept in the bucket, if it is."""
        s3 = self.flow.client("s3")
        bucket = self.stack.application.buckets["AssetsBucket"]
        try:
            found = s3.get_object(Bucket=bucket, Key=character_key(self.flow.owner, character_id))
        except s3.exceptions.NoSuchKey:
            return None
        return dict(json.loads(found["Body"].read()))

    def seed(
        self, status: str = "completed", upstream_id: str = "video_seeded", files: bool = True, age: int = 0
    ) -> str:
        """A record of this owner's as the workflow leaves it (with its files in S3 when completed),
        created `age` seconds ago."""
        now = int(time.time()) - age
        video_id = new_video_id(now * 1000)
        assets = {}
        if status == "completed" and files:
            s3 = self.flow.client("s3")
            bucket = self.stack.application.buckets["AssetsBucket"]
            for variant, content_type in CONTENT_TYPES.items():
                key = f"videos/{video_id}/{variant}"
                s3.put_object(
                    Bucket=bucket, Key=key, Body=b"seeded " + variant.encode(), ContentType=content_type
                )
                assets[variant] = {"key": key, "size": 7 + len(variant), "content_type": content_type}
        record = {
            "owner": self.flow.owner,
            "video_id": video_id,
            "upstream_id": upstream_id,
            "status": status,
            "progress": 100 if status == "completed" else 40,
            "model": "sora-2",
            "seconds": "4",
            "size": "720x1280",
            "prompt": PROMPT,
            "created_at": now,
            "completed_at": now if status == "completed" else None,
            "expires_at": now + 86_400 if status == "completed" else None,
            "cost_estimate": Decimal("0.5"),
            "assets": assets,
        }
        self.flow.client("dynamodb").put_item(TableName=self.table("VideosTable"), Item=to_item(record))
        return video_id

    def take_slot(self, video_id: str) -> None:
        self.flow.client("dynamodb").update_item(
            TableName=self.table("QuotasTable"),
            Key=to_item({"owner": self.flow.owner, "period": "running"}),
            UpdateExpression="ADD video_ids :id",
            ExpressionAttributeValues={":id": {"SS": [video_id]}},
        )

    def pending_event(self, video_id: str) -> None:
        """An ended job's event waiting in the outbox, its holder gone."""
        detail = {
            "video": {"id": video_id, "object": "video", "status": "completed"},
            "owner": self.flow.owner,
        }
        self.flow.client("dynamodb").put_item(
            TableName=self.table("OutboxTable"),
            Item=to_item(
                {
                    "video_id": video_id,
                    "detail_type": "Video Completed",
                    "detail": json.dumps(detail),
                    "holder": "gone",
                    "lease_until": 0,
                }
            ),
        )

    def start_execution(self, video_id: str) -> None:
        """The job's state machine execution, started as create starts it (for a seeded record)."""
        machine = next(iter(self.stack.application.state_machines.values()))
        self.flow.client("stepfunctions").start_execution(
            stateMachineArn=machine.arn,
            name=video_id,
            input=json.dumps({"owner": self.flow.owner, "video_id": video_id}),
        )

    def dead_attempt(self, video_id: str) -> None:
        """A finaliser that claimed the job and died mid-copy: its claim lapsed, its upload left open."""
        self.flow.client("dynamodb").update_item(
            TableName=self.table("VideosTable"),
            Key=to_item({"owner": self.flow.owner, "video_id": video_id}),
            UpdateExpression="SET finaliser = :gone, finalise_until = :lapsed ADD finalise_claims :one",
            ExpressionAttributeValues=to_item({":gone": "gone", ":lapsed": 0, ":one": 1}),
        )
        s3 = self.flow.client("s3")
        bucket = self.stack.application.buckets["AssetsBucket"]
        s3.create_multipart_upload(Bucket=bucket, Key=f"videos/{video_id}/video.mp4")

    def uploads_left(self, video_id: str) -> list[dict[str, Any]]:
        bucket = self.stack.application.buckets["AssetsBucket"]
        s3 = self.flow.client("s3")
        return list(s3.list_multipart_uploads(Bucket=bucket, Prefix=f"videos/{video_id}/").get("Uploads", []))

    def outbox(self, video_id: str) -> dict[str, Any] | None:
        item = self.flow.client("dynamodb").get_item(
            TableName=self.table("OutboxTable"), Key=to_item({"video_id": video_id})
        )
        return from_item(item["Item"]) if "Item" in item else None

    def no_task_failed(self, video_id: str) -> None:
        failed = [e["type"] for e in self.flow.history(video_id) if e["type"] in FAILED_EVENTS]
        assert not failed, f"a task of {video_id} failed: {failed}"

    def forced_failures(self) -> int:
        """The JobsForcedFailed count in the local CloudWatch (the forced path's alarm watches it)."""
        namespace = self.stack.application.parameters["MetricsNamespace"]
        now = time.time()
        points = self.flow.client("cloudwatch").get_metric_statistics(
            Namespace=namespace,
            MetricName="JobsForcedFailed",
            StartTime=now - 3600,
            EndTime=now + 60,
            Period=3600,
            Statistics=["Sum"],
        )["Datapoints"]
        return int(sum(point["Sum"] for point in points))

    def running_jobs(self) -> int:
        item = self.flow.client("dynamodb").get_item(
            TableName=self.table("QuotasTable"), Key=to_item({"owner": self.flow.owner, "period": "running"})
        )
        return len(from_item(item["Item"]).get("video_ids", ())) if "Item" in item else 0

    def route_counts(self, model: str) -> dict[str, tuple[int, int]]:
        """Each of the model's routes' breaker counts, attempts and failures, over every window kept."""
        items = self.flow.client("dynamodb").scan(TableName=self.table("RouteHealthTable"))["Items"]
        counts = {}
        for item in map(from_item, items):
            model_of, _, route = str(item["route"]).partition("/")
            if model_of == model:
                attempts = sum(int(v) for k, v in item.items() if k.startswith("a_"))
                failures = sum(int(v) for k, v in item.items() if k.startswith("f_"))
                counts[route] = (attempts, failures)
        return counts

    def create(self, prompt: str = PROMPT, **fields: str) -> str:
        body = {"prompt": prompt, **fields}
        status, body = self.api("CreateFunction", "POST", "/v1/videos", "/v1/videos", body=body)
        assert status == 200, body
        return str(body["id"])

    def wait_job(self, video_id: str) -> dict[str, Any]:
        """The job's record once terminal. A job here meets no upstream fault, so a task of its execution
        that fails (a refused call, most likely) fails the scenario at once, not at the time limit."""
        deadline = time.monotonic() + JOB_SECONDS
        while time.monotonic() < deadline:
            record = self.flow.record(video_id)
            if record is not None and record["status"] in ("completed", "failed"):
                return record
            failed = [e["type"] for e in self.flow.history(video_id) if e["type"] in FAILED_EVENTS]
            assert not failed, f"a task of {video_id} failed: {failed}"
            time.sleep(0.2)
        raise TimeoutError(f"{video_id} did not end within {JOB_SECONDS}s")

    def one_event(self, video_id: str, detail_type: str) -> None:
        events = self.flow.events_for(video_id, settle=2.0)
        assert [event["detail-type"] for event in events] == [detail_type], events

    def delivery_poller(self, invoke: Callable[[str, Any], Invocation]) -> SqsPoller:
        """Lambda's poller of the delivery queue for the Deliver function, acting as its role."""
        (source,) = self.stack.application.sqs_sources
        poller: SqsPoller = self.stack.queue_poller(source, invoke)
        return poller

    def dead_letter(self, video_id: str) -> bool:
        """Whether a message about `video_id` is on the deliveries' dead-letter queue."""
        sqs = self.flow.client("sqs")
        queue = next(
            q for q in self.stack.application.queues if q.logical_id == "WebhookDeliveryDeadLetterQueue"
        )
        url = sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
        for _ in range(5):
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
                "Messages", []
            )
            if any(video_id in message["Body"] for message in messages):
                return True
        return False

    def calls_by(self, logical_id: str, operation: str) -> int:
        """How many `service:Operation` calls a function has made that reached AWS (a refused one does
        not: the role's policy stops it before it leaves)."""
        count: int = self.stack.aws.calls().get(logical_id, {}).get(operation, 0)
        return count


# ---- the scenarios -------------------------------------------------------------------------------


def create(lab: Lab) -> None:
    """POST /v1/videos with an Idempotency-Key: the quota taken, the upstream asked, the job started."""
    status, video = lab.api(
        "CreateFunction",
        "POST",
        "/v1/videos",
        "/v1/videos",
        body={"prompt": PROMPT},
        headers={"idempotency-key": secrets.token_hex(8)},
    )
    assert status == 200, video
    assert lab.flow.record(video["id"]) is not None
    assert lab.flow.client("stepfunctions").describe_execution(
        executionArn=lab.flow.execution_arn(video["id"])
    )
    assert lab.running_jobs() == 1


def upload_reference(lab: Lab) -> None:
    """POST /v1/uploads signs a PUT; the image PUT to it; a create names it and the upstream gets it."""
    image = png_bytes()
    status, pending = lab.api(
        "UploadsFunction",
        "POST",
        "/v1/uploads",
        "/v1/uploads",
        body={"filename": "ref.png", "bytes": len(image), "mime_type": "image/png"},
    )
    assert status == 201, pending
    put = HTTP.put(pending["upload_url"], content=image, headers=pending["upload_headers"])
    assert put.status_code == 200, put.text
    status, video = lab.api(
        "CreateFunction",
        "POST",
        "/v1/videos",
        "/v1/videos",
        body={"prompt": PROMPT, "input_reference": {"file_id": pending["id"]}},
    )
    assert status == 200, video


def remix(lab: Lab) -> None:
    source = lab.seed(upstream_id=lab.finished_upstream_id)
    path = f"/v1/videos/{source}/remix"
    status, video = lab.api(
        "RemixFunction",
        "POST",
        path,
        "/v1/videos/{video_id}/remix",
        body={"prompt": "Again"},
        headers={"idempotency-key": secrets.token_hex(8)},
    )
    assert status == 200, video
    assert video["remixed_from_video_id"] == source
    assert lab.flow.client("stepfunctions").describe_execution(
        executionArn=lab.flow.execution_arn(video["id"])
    )


def edit(lab: Lab) -> None:
    """POST /v1/videos/edits starts a job from a completed video of the caller's."""
    _derive(lab, "EditFunction", "/v1/videos/edits", {})


def extend(lab: Lab) -> None:
    """POST /v1/videos/extensions starts a job whose seconds are the stitched total."""
    video = _derive(lab, "ExtendFunction", "/v1/videos/extensions", {"seconds": "4"})
    assert video["seconds"] == "8"


def edit_an_upload(lab: Lab) -> None:
    """An edit of a video uploaded beforehand reads it from the bucket."""
    _derive(lab, "EditFunction", "/v1/videos/edits", {}, source=lab.uploaded_video())


def extend_an_upload(lab: Lab) -> None:
    _derive(lab, "ExtendFunction", "/v1/videos/extensions", {"seconds": "4"}, source=lab.uploaded_video())


def _derive(
    lab: Lab, function: str, path: str, body: dict[str, str], source: str | None = None
) -> dict[str, Any]:
    source = source or lab.seed(upstream_id=lab.finished_upstream_id)
    status, video = lab.api(
        function,
        "POST",
        path,
        path,
        body={"prompt": "Once more", "video": {"id": source}} | body,
        headers={"idempotency-key": secrets.token_hex(8)},
    )
    assert status == 200, video
    assert lab.flow.client("stepfunctions").describe_execution(
        executionArn=lab.flow.execution_arn(video["id"])
    )
    return dict(video)


def create_character(lab: Lab) -> None:
    """POST /v1/videos/characters makes the character upstream and keeps it under its owner."""
    clip = lab.engine.videos.download_content(lab.finished_upstream_id).content
    body, content_type = multipart({"name": "Gull"}, {"video": ("gull.mp4", clip, "video/mp4")})
    path = "/v1/videos/characters"
    status, character = lab.api(
        "CreateCharacterFunction", "POST", path, path, body=body, content_type=content_type
    )
    assert status == 200, character
    assert lab.character(character["id"]) is not None


def create_character_from_an_upload(lab: Lab) -> None:
    """A character's video uploaded beforehand is read from the bucket."""
    body, content_type = multipart({"name": "Gull", "video[id]": lab.uploaded_video()}, {})
    path = "/v1/videos/characters"
    status, character = lab.api(
        "CreateCharacterFunction", "POST", path, path, body=body, content_type=content_type
    )
    assert status == 200, character


def get_character(lab: Lab) -> None:
    character = lab.seed_character()
    path = f"/v1/videos/characters/{character.id}"
    status, got = lab.api("GetCharacterFunction", "GET", path, "/v1/videos/characters/{character_id}")
    assert status == 200, got
    assert got["name"] == character.name


def list_models(lab: Lab) -> None:
    status, models = lab.api("ListModelsFunction", "GET", "/v1/videos/models", "/v1/videos/models")
    assert status == 200, models
    assert [model["id"] for model in models["data"]] == sorted(
        ["sora-2", "sora-2-pro", FAL_MODEL, BEDROCK_MODEL, FAILOVER_MODEL]
    )


def webhook_endpoints(lab: Lab) -> None:
    """An endpoint made (its secret sealed with the stack's key), read, listed, changed, its secret
    rotated, and deleted."""
    one = "/v1/webhook_endpoints/{webhook_endpoint_id}"
    body = {"name": "App", "url": "https://hooks.example.com/videos", "event_types": ["video.completed"]}
    status, made = lab.api(
        "WebhookEndpointsFunction", "POST", "/v1/webhook_endpoints", "/v1/webhook_endpoints", body=body
    )
    assert status == 200, made
    path = f"/v1/webhook_endpoints/{made['id']}"
    status, got = lab.api("WebhookEndpointsFunction", "GET", path, one)
    assert (status, got.get("signing_secret_hint")) == (200, made["signing_secret_hint"]), got
    status, page = lab.api(
        "WebhookEndpointsFunction", "GET", "/v1/webhook_endpoints", "/v1/webhook_endpoints"
    )
    assert (status, [e["id"] for e in page["data"]]) == (200, [made["id"]]), page
    status, changed = lab.api("WebhookEndpointsFunction", "POST", path, one, body={"name": "Renamed"})
    assert (status, changed.get("name")) == (200, "Renamed"), changed
    status, rotated = lab.api(
        "WebhookEndpointsFunction", "POST", f"{path}/rotate_secret", f"{one}/rotate_secret", body={}
    )
    assert status == 200, rotated
    assert rotated["signing_secret"] != made["signing_secret"]
    status, deleted = lab.api("WebhookEndpointsFunction", "DELETE", path, one)
    assert (status, deleted.get("deleted")) == (200, True), deleted


def _job_end(owner: str, video_id: str, detail_type: str) -> str:
    """A job's end as the outbox publishes it on the bus (and the rule puts it on the delivery queue)."""
    video = {"id": video_id, "created_at": int(time.time()), "completed_at": int(time.time())}
    return json.dumps(
        {"detail-type": detail_type, "source": "videos-api", "detail": {"owner": owner, "video": video}}
    )


def webhook_deliveries(lab: Lab) -> None:
    """A job's end reaches an endpoint through the rule, the queue and the Deliver function (its first
    attempt refused: its message hidden for its backoff, then delivered); the endpoint's owner sends it a
    test event, lists its deliveries and replays one; a delivery still refused after its retry window is
    given up to the dead-letter queue, and the endpoint is marked failing."""
    one = "/v1/webhook_endpoints/{webhook_endpoint_id}"
    receiver = WebhookReceiver()
    try:
        body = {"name": "Lab", "url": receiver.url, "event_types": ["video.completed", "video.failed"]}
        status, made = lab.api(
            "WebhookEndpointsFunction", "POST", "/v1/webhook_endpoints", "/v1/webhook_endpoints", body=body
        )
        assert status == 200, made
        path = f"/v1/webhook_endpoints/{made['id']}"
        status, tested = lab.api(
            "WebhookEndpointsFunction",
            "POST",
            f"{path}/test",
            f"{one}/test",
            body={"event_type": "video.completed"},
        )
        assert (status, tested.get("status_code")) == (200, 200), tested

        receiver.refuse_next = 1
        video_id = new_video_id()
        bus = next(iter(lab.stack.application.event_buses.values()))
        detail = json.loads(_job_end(lab.flow.owner, video_id, "Video Completed"))
        lab.flow.client("events").put_events(
            Entries=[
                {
                    "Source": "videos-api",
                    "DetailType": "Video Completed",
                    "Detail": json.dumps(detail["detail"]),
                    "EventBusName": bus,
                }
            ]
        )

        def invoke(name: str, event: Any) -> Invocation:
            """The Deliver function's invocation: one that fails, or gives the message back unsent, fails
            the scenario at once (the message would come back after the queue's visibility timeout)."""
            invocation: Invocation = lab.stack.invoke(name, event)
            mine = {r["messageId"] for r in event["Records"] if video_id in r["body"]}
            if mine:
                failures = (invocation.result or {}).get("batchItemFailures", [])
                unsent = not any(video_id.encode() in d.body for d in receiver.deliveries)
                assert invocation.error is None, invocation.output
                assert not (unsent and mine & {f["itemIdentifier"] for f in failures}), invocation.output
            return invocation

        poller = lab.delivery_poller(invoke)
        deadline = time.monotonic() + 20
        while not any(d.answered == 200 and video_id.encode() in d.body for d in receiver.deliveries):
            assert time.monotonic() < deadline, receiver.deliveries
            try:
                poller.poll_once()
            except ClientError as e:  # Lambda's poller, refused, leaves the message on the queue
                raise AssertionError(f"the poller was refused: {e}") from e
        status, page = lab.api("WebhookEndpointsFunction", "GET", f"{path}/deliveries", f"{one}/deliveries")
        assert status == 200, page
        [delivered] = page["data"]
        assert [a["status_code"] for a in delivered["attempts"]] == [503, 200], delivered
        replay = f"{path}/deliveries/{delivered['id']}/replay"
        status, replayed = lab.api(
            "WebhookEndpointsFunction", "POST", replay, f"{one}/deliveries/{{delivery_id}}/replay"
        )
        assert (status, replayed.get("status")) == (200, "delivered"), replayed

        receiver.refuse_next = 1
        lapsed = new_video_id()
        message = {
            "MessageId": f"lab-{lapsed}",
            "ReceiptHandle": "unused: a delivery given up is not hidden",
            "Body": _job_end(lab.flow.owner, lapsed, "Video Failed"),
            "MD5OfBody": "",
            # Sent longer ago than the retry window: this attempt is its last.
            "Attributes": {
                "ApproximateReceiveCount": "30",
                "SentTimestamp": str((int(time.time()) - 3600) * 1000),
            },
        }
        invocation = lab.stack.invoke(
            lab.flow.function_name("DeliverWebhooksFunction"), sqs_event([message], "q")
        )
        assert (invocation.error, invocation.result) == (None, {"batchItemFailures": []}), invocation.output
        assert lab.dead_letter(lapsed), "not on the dead-letter queue"
        endpoint = lab.flow.client("dynamodb").get_item(
            TableName=lab.table("WebhookEndpointsTable"),
            Key=to_item({"owner": lab.flow.owner, "endpoint_id": made["id"]}),
        )["Item"]
        assert "failing_since" in endpoint, endpoint
    finally:
        receiver.close()


def create_with_callback(lab: Lab) -> None:
    """A create routed to fal names a callback URL, whose token is made with the webhook secret."""
    body = {"prompt": "A heron", "model": FAL_MODEL, "seconds": "4", "size": "1280x720"}
    status, video = lab.api("CreateFunction", "POST", "/v1/videos", "/v1/videos", body=body)
    assert status == 200, video


def create_on_bedrock(lab: Lab) -> None:
    """A create routed to Amazon Bedrock starts an invocation with the role's own grants: the model, and
    the folder of the bucket Bedrock writes its output into (with its caller's permissions)."""
    assert lab.flow.record(lab.create(**BEDROCK_JOB)) is not None


def create_with_character(lab: Lab) -> None:
    """A create naming a character reads it and sends its upstream id."""
    character = lab.seed_character()
    body = {"prompt": f"{character.name} flies", "characters": [{"id": character.id}]}
    status, video = lab.api("CreateFunction", "POST", "/v1/videos", "/v1/videos", body=body)
    assert status == 200, video


def get(lab: Lab) -> None:
    video_id = lab.seed()
    status, video = lab.api("GetFunction", "GET", f"/v1/videos/{video_id}", "/v1/videos/{video_id}")
    assert status == 200, video
    assert video["status"] == "completed"


def poll(lab: Lab) -> None:
    video_id = lab.seed()
    status, video = lab.api(
        "PollFunction",
        "GET",
        f"/api/videos/{video_id}/poll",
        "/api/videos/{video_id}/poll",
        query={"maxWaitMs": "1000"},
    )
    assert status == 200, video
    assert video["status"] == "completed"


def download(lab: Lab) -> None:
    video_id = lab.seed()
    status, body = lab.api(
        "DownloadFunction",
        "GET",
        f"/v1/videos/{video_id}/content",
        "/v1/videos/{video_id}/content",
        query={"redirect": "false"},
    )
    assert status == 200, body
    assert lab.flow.owner not in body["url"]


def list_videos(lab: Lab) -> None:
    video_id = lab.seed()
    status, page = lab.api("ListFunction", "GET", "/v1/videos", "/v1/videos")
    assert status == 200, page
    assert [video["id"] for video in page["data"]] == [video_id]


def delete(lab: Lab) -> None:
    """A running job (its execution stopped, its slot freed) and a completed one (its files gone)."""
    running = lab.create("[stall] " + PROMPT)
    record = lab.flow.record(running)
    assert record is not None
    events_put = lab.calls_by("DeleteFunction", "events:PutEvents")
    stops = lab.calls_by("DeleteFunction", "states:StopExecution")
    status, body = lab.api("DeleteFunction", "DELETE", f"/v1/videos/{running}", "/v1/videos/{video_id}")
    assert status == 200, body
    assert body["deleted"] is True
    # Stopped by the delete; or ended by a status check that found the job ended first (the delete
    # ends the job before it stops the execution), its stop then too late to change anything.
    assert lab.flow.wait_execution(running, timeout=5)["status"] in ("ABORTED", "SUCCEEDED")
    assert lab.calls_by("DeleteFunction", "states:StopExecution") == stops + 1
    # The upstream's copy goes too (the delete asks the upstream, with the key it reads from SSM).
    assert HTTP.get(f"{lab.flow.engine_url}/_videos/{record['upstream_id']}").status_code == 404
    assert lab.running_jobs() == 0
    # The job ended here: the delete put its event on the bus itself (a status check of the job in
    # flight at that moment would publish an event left waiting, so the event's arrival alone does
    # not tell who sent it), and nothing is left in the outbox.
    assert lab.calls_by("DeleteFunction", "events:PutEvents") == events_put + 1
    lab.one_event(running, "Video Failed")
    assert lab.outbox(running) is None
    completed = lab.seed()
    status, body = lab.api("DeleteFunction", "DELETE", f"/v1/videos/{completed}", "/v1/videos/{video_id}")
    assert status == 200, body
    assert body["deleted"] is True
    assert lab.flow.objects(completed) == {}
    assert lab.flow.record(completed) is None


def webhook_completes(lab: Lab) -> None:
    """A signed video.completed after a finaliser died mid-copy: its upload aborted, the files copied,
    the record completed, the slot freed, the event out."""
    upstream_id = lab.finished_upstream_job()
    video_id = lab.seed(status="in_progress", upstream_id=upstream_id)
    lab.take_slot(video_id)
    lab.dead_attempt(video_id)
    status, body = lab.flow.webhook("video.completed", upstream_id, delivery_id=f"evt_{video_id}")
    assert status == 200, body
    # The same delivery again: acknowledged, nothing changes.
    assert lab.flow.webhook("video.completed", upstream_id, delivery_id=f"evt_{video_id}")[0] == 200
    record = lab.flow.record(video_id)
    assert record is not None
    assert record["status"] == "completed"
    assert set(lab.flow.objects(video_id)) == {"video.mp4", "thumbnail.jpg", "spritesheet.jpg"}
    assert lab.running_jobs() == 0
    assert lab.uploads_left(video_id) == []
    lab.one_event(video_id, "Video Completed")
    assert lab.outbox(video_id) is None


def store_after_a_dead_attempt(lab: Lab) -> None:
    """StoreAssets after a finaliser died mid-copy (its execution gone, a new one started): the upload
    it left is aborted before the copy, and the job completes."""
    video_id = lab.seed(status="in_progress", upstream_id=lab.finished_upstream_job())
    lab.take_slot(video_id)
    lab.dead_attempt(video_id)
    lab.start_execution(video_id)
    assert lab.wait_job(video_id)["status"] == "completed"
    assert lab.uploads_left(video_id) == []
    assert lab.flow.wait_execution(video_id, timeout=JOB_SECONDS)["status"] == "SUCCEEDED"
    lab.no_task_failed(video_id)


def job_completes(lab: Lab) -> None:
    """A job through the state machine: status checks, the files stored, the slot freed, the event out."""
    video_id = lab.create()
    record = lab.wait_job(video_id)
    assert record["status"] == "completed", record
    assert lab.running_jobs() == 0
    lab.one_event(video_id, "Video Completed")
    assert lab.flow.wait_execution(video_id, timeout=JOB_SECONDS)["status"] == "SUCCEEDED"
    lab.no_task_failed(video_id)


def remix_completes(lab: Lab) -> None:
    """A remix through the state machine: StoreAssets reads its source's stored video (here, one stored
    before signing was on), the parent ingredient of the remix's manifest."""
    source = lab.seed(upstream_id=lab.finished_upstream_id)
    video = lab.engine.videos.download_content(lab.finished_upstream_id).content
    bucket = lab.stack.application.buckets["AssetsBucket"]
    lab.flow.client("s3").put_object(Bucket=bucket, Key=f"videos/{source}/video", Body=video)
    path, route = f"/v1/videos/{source}/remix", "/v1/videos/{video_id}/remix"
    status, remix = lab.api("RemixFunction", "POST", path, route, body={"prompt": "Again"})
    assert status == 200, remix
    assert lab.wait_job(remix["id"])["status"] == "completed"
    lab.no_task_failed(remix["id"])


def bedrock_job_completes(lab: Lab) -> None:
    """A job on Amazon Bedrock: its invocation read until Completed, the video Bedrock wrote into the
    bucket read (checked, its stills made) and copied within the bucket by S3."""
    video_id = lab.create(**BEDROCK_JOB)
    record = lab.wait_job(video_id)
    assert record["status"] == "completed", record
    assert set(record["assets"]) == set(CONTENT_TYPES)
    lab.no_task_failed(video_id)


def create_on_two_routes(lab: Lab) -> None:
    """A create of a model with several routes counts the attempt on its route's breaker."""
    before = lab.route_counts(FAILOVER_MODEL).get("luma", (0, 0))
    assert lab.flow.record(lab.create(**FAILOVER_JOB)) is not None
    after = lab.route_counts(FAILOVER_MODEL).get("luma", (0, 0))
    assert (after[0] - before[0], after[1] - before[1]) == (1, 0)


def job_fails_over(lab: Lab) -> None:
    """A job its first provider fails is moved to the next route by CheckStatus: the next attempt
    charged to the owner's spend and the failed one refunded, the job created on Amazon Bedrock with
    CheckStatus's own grants, then completed there. Each route's breaker counts what it did: Luma's
    acceptance by Create, its failure and Bedrock's acceptance by CheckStatus."""
    before = lab.route_counts(FAILOVER_MODEL)
    video_id = lab.create("[fail:ray-2] " + PROMPT, **FAILOVER_JOB)
    record = lab.wait_job(video_id)
    assert record["status"] == "completed", record
    assert [(a["route"], a["outcome"]) for a in record["attempts"]] == [
        ("luma", "failed"),
        ("bedrock", "completed"),
    ]
    lab.no_task_failed(video_id)
    after = lab.route_counts(FAILOVER_MODEL)
    counted = {
        route: (
            after[route][0] - before.get(route, (0, 0))[0],
            after[route][1] - before.get(route, (0, 0))[1],
        )
        for route in after
    }
    assert counted == {"luma": (2, 1), "bedrock": (1, 0)}, counted


def job_fails(lab: Lab) -> None:
    """An upstream failure ends the job through EndFailed: its own error, the slot freed, the event out."""
    video_id = lab.create("[fail] " + PROMPT)
    record = lab.wait_job(video_id)
    assert record["status"] == "failed", record
    assert record["error"]["message"] != "The job could not be completed.", "it took the forced path"
    assert lab.running_jobs() == 0
    lab.one_event(video_id, "Video Failed")
    assert lab.flow.wait_execution(video_id, timeout=JOB_SECONDS)["status"] == "SUCCEEDED"
    lab.no_task_failed(video_id)


def forced_failure(lab: Lab) -> None:
    """The state machine's last resort, entered directly: the same atomic end as the functions', written
    by the state machine itself (the record failed, the slot freed, the spend refunded, the event in
    the outbox for the reconciler), and the execution failed for its alarm."""
    video_id = lab.seed(status="in_progress", files=False)
    lab.take_slot(video_id)
    counted = lab.forced_failures()
    sfn = lab.flow.client("stepfunctions")
    seeded = lab.flow.record(video_id)
    assert seeded is not None
    job = execution_input(VideoRecord.model_validate(seeded), False, 86_400)
    execution = sfn.start_execution(
        stateMachineArn=lab.forced_machine_arn, name=video_id, input=json.dumps({"job": job, "elapsed": 1})
    )["executionArn"]
    deadline = time.monotonic() + JOB_SECONDS
    while (ended := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the forced path did not end"
        history = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        # The path's own end, ExecutionFailed, may come between the two reads: a task failing is what
        # must not happen.
        failed = [e["type"] for e in history if e["type"] in FAILED_EVENTS and e["type"] != "ExecutionFailed"]
        assert not failed, f"a task of the forced path failed: {failed}"
        time.sleep(0.2)
    assert (ended["status"], ended.get("error")) == ("FAILED", "JobForcedFailed"), ended
    assert lab.forced_failures() == counted + 1
    record = lab.flow.record(video_id)
    assert record is not None
    assert record["status"] == "failed", record
    assert record["error"]["message"] == "The job could not be completed."
    assert lab.running_jobs() == 0
    pending = lab.outbox(video_id)
    assert pending is not None
    assert pending["detail_type"] == "Video Failed"
    assert json.loads(pending["detail"])["video"]["id"] == video_id


def check_status_publishes_a_waiting_event(lab: Lab) -> None:
    """A job another ended while its event still waits (the bus refused it): the state machine's next
    check publishes it, and the execution ends with no task failed."""
    video_id = lab.seed()
    lab.pending_event(video_id)
    lab.start_execution(video_id)
    assert lab.flow.wait_execution(video_id, timeout=JOB_SECONDS)["status"] == "SUCCEEDED"
    lab.no_task_failed(video_id)
    lab.one_event(video_id, "Video Completed")
    assert lab.outbox(video_id) is None


def reconcile(lab: Lab) -> None:
    """A job whose execution never ran is ended (slot freed, spend refunded, event out), a slot no job
    holds is freed, and an event left waiting is published."""
    orphan = lab.seed(status="in_progress", files=False, age=600)
    lab.take_slot(orphan)
    no_record = new_video_id((int(time.time()) - 600) * 1000)
    lab.take_slot(no_record)
    waiting = lab.seed()
    lab.pending_event(waiting)

    invocation = lab.stack.invoke(lab.flow.function_name("ReconcileFunction"), {})

    assert invocation.error is None, invocation.output
    record = lab.flow.record(orphan)
    assert record is not None
    assert record["status"] == "failed", record
    assert record["error"]["code"] == "video_generation_failed"
    assert lab.running_jobs() == 0
    lab.one_event(orphan, "Video Failed")
    lab.one_event(waiting, "Video Completed")
    assert lab.outbox(orphan) is None
    assert lab.outbox(waiting) is None


Scenario = Callable[[Lab], None]

# Which scenario shows that a role's statement matters (statements are named `<Role>.<Sid>`, or
# `<Role>.<ManagedPolicy>.<Sid>`); a role's every statement is covered by its function's scenario.
SCENARIOS: dict[str, Scenario] = {
    "CreateFunctionRole": create,
    "CreateFunctionRole.ReadUploads": upload_reference,
    "CreateFunctionRole.ReadCharacters": create_with_character,
    "CreateFunctionRole.ReadWebhookSecret": create_with_callback,
    "CreateFunctionRole.StartBedrockInvocationsPolicy": create_on_bedrock,
    "CreateCharacterFunctionRole": create_character,
    "CreateCharacterFunctionRole.ReadUploads": create_character_from_an_upload,
    "GetCharacterFunctionRole": get_character,
    "ListModelsFunctionRole": list_models,
    "WebhookEndpointsFunctionRole": webhook_endpoints,
    "WebhookEndpointsFunctionRole.OpenSecrets": webhook_deliveries,
    "WebhookEndpointsFunctionRole.ReadDeliveries": webhook_deliveries,
    "WebhookEndpointsFunctionRole.LogReplays": webhook_deliveries,
    "DeliverWebhooksFunctionRole": webhook_deliveries,
    "UploadsFunctionRole": upload_reference,
    "RemixFunctionRole": remix,
    "EditFunctionRole": edit,
    "EditFunctionRole.ReadUploads": edit_an_upload,
    "ExtendFunctionRole": extend,
    "ExtendFunctionRole.ReadUploads": extend_an_upload,
    "GetFunctionRole": get,
    "PollFunctionRole": poll,
    "DownloadFunctionRole": download,
    "ListFunctionRole": list_videos,
    "DeleteFunctionRole": delete,
    "WebhookFunctionRole": webhook_completes,
    "CheckStatusFunctionRole": job_completes,
    "CheckStatusFunctionRole.PublishPendingEvents": check_status_publishes_a_waiting_event,
    "CheckStatusFunctionRole.PublishEvents": check_status_publishes_a_waiting_event,
    "ReconcileFunctionRole": reconcile,
    "StoreAssetsFunctionRole": job_completes,
    "StoreAssetsFunctionRole.FindLeftUploads": store_after_a_dead_attempt,
    "StoreAssetsFunctionRole.ReadSourceVideos": remix_completes,
    "StoreAssetsFunctionRole.ReadBedrockInvocationsPolicy": bedrock_job_completes,
    "StoreAssetsFunctionRole.ReadBedrockOutputs": bedrock_job_completes,
    "CheckStatusFunctionRole.ReadBedrockInvocationsPolicy": bedrock_job_completes,
    "CheckStatusFunctionRole.ChargeAttempts": job_fails_over,
    "CheckStatusFunctionRole.StartBedrockInvocationsPolicy": job_fails_over,
    "CheckStatusFunctionRole.RouteBreakers": job_fails_over,
    "CreateFunctionRole.RouteBreakers": create_on_two_routes,
    "EndFailedFunctionRole": job_fails,
    "JobStateMachineRole.InvokeTasks": job_completes,
    "JobStateMachineRole.ForcedCheck": forced_failure,
    "JobStateMachineRole.ForcedEnd": forced_failure,
    "JobStateMachineRole.ForcedEvent": forced_failure,
    "JobStateMachineRole.CountWorkflowFaults": forced_failure,
}
# Statements no SDK call offline can use: on AWS, Lambda's runtime writes the functions' logs and the
# X-Ray daemon their traces with these (SAM attaches them to every role).
NOT_CALLED_OFFLINE = ("AWSLambdaBasicExecutionRole[0]", "AWSXrayWriteOnlyAccess[0]")


def scenario_for(statement: str) -> Scenario:
    for prefix in sorted(SCENARIOS, key=len, reverse=True):
        if statement == prefix or statement.startswith(prefix + "."):
            return SCENARIOS[prefix]
    raise KeyError(f"no scenario shows that {statement} matters")
