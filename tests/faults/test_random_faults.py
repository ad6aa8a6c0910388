"""A randomised run of injected faults at every step of a job, after which every job must be terminal
with its record, its files in S3, its owner's quota and spend and its one event in agreement, and no
client must have seen a 5xx but a retryable 503 (with Retry-After) or a spent poll's 504.

Upstream faults (the engine's `/_faults`): 429 / 500 / 503, connection resets, read timeouts and
malformed JSON on the create call and the status checks, the same (429 included, and truncated
bodies) on the downloads StoreAssets copies; the StoreAssets worker is killed in the middle of a
multipart copy; signed webhooks arrive twice, early, late, out of order and racing each other and the
poller. AWS-side faults (the local AWS endpoint's `/_faults`): DynamoDB throttling of the ends'
transactions, the records, the claims and the outbox; S3 500 and SlowDown on the copies; EventBridge
failed entries; Lambda throttling of the state machine's invocations; Step Functions throttling of
StartExecution. Jobs run several at a time until at least MIN_FAULTS faults have taken effect; the
tally by kind is printed (`-s` shows it).

FAULT_SEED replays a run (the seed is printed); FAULT_MIN raises the number of faults.
"""

from __future__ import annotations

import os
import random
import secrets
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from local.serve.aws_endpoint import LocalAws
from tests.apigw import http_event
from tests.faults.conftest import UPSTREAM_TIMEOUT_SECONDS
from tests.integration.workflow.harness import Workflow, copying
from tests.media import jpeg_size, probe_mp4
from tests.support import HTTP
from videos_core.adapters.dynamodb import from_item, to_item
from videos_core.adapters.quotas import spend_period

SEED = int(os.environ.get("FAULT_SEED") or secrets.randbelow(2**32))
MIN_FAULTS = int(os.environ.get("FAULT_MIN", "50"))
MAX_JOBS = 200
IN_FLIGHT = 24
JOB_TIMEOUT = 240.0
FILES = {"video.mp4", "thumbnail.jpg", "spritesheet.jpg"}
JOB_COST = Decimal("0.5")  # sora-2, 4 s

UPSTREAM_FAULTS: dict[str, dict[str, Any]] = {
    "429": {"kind": "status", "status": 429, "retry_after": 1},
    "500": {"kind": "status", "status": 500},
    "503": {"kind": "status", "status": 503, "retry_after": 1},
    "reset": {"kind": "reset"},
    "read-timeout": {"kind": "delay", "seconds": UPSTREAM_TIMEOUT_SECONDS + 0.5},
    "malformed": {"kind": "malformed"},
    "truncated": {"kind": "truncate"},
}
# What each step can meet. Create retries 5xx and lost connections itself and answers an upstream
# 429 with 429 + Retry-After (the client then tries again); a read timeout or a garbled answer to a
# create cannot be retried blindly (it may have made a video), so those are left to the other steps.
CREATE = ("429", "500", "503", "reset")
STATUS = ("429", "500", "503", "reset", "read-timeout", "malformed")
CONTENT = ("429", "500", "503", "reset", "read-timeout", "truncated")
# AWS-side faults, each armed for the next 1-3 calls that match it, whichever job makes them. Two in a
# row get past the clients' own retry, so the domain's handling of them is exercised too.
AWS_FAULTS: dict[str, dict[str, Any]] = {
    "DynamoDB throttle: ending transactions": {
        "service": "dynamodb",
        "error": "ProvisionedThroughputExceededException",
        "operation": "TransactWriteItems",
    },
    "DynamoDB throttle: record writes": {
        "service": "dynamodb",
        "error": "ThrottlingException",
        "operation": "UpdateItem",
        "resource": "VideosTable",
    },
    "DynamoDB throttle: record reads": {
        "service": "dynamodb",
        "error": "ProvisionedThroughputExceededException",
        "operation": "GetItem",
        "resource": "VideosTable",
    },
    "DynamoDB throttle: outbox": {
        "service": "dynamodb",
        "error": "ThrottlingException",
        "operation": "DeleteItem",
        "resource": "OutboxTable",
    },
    # The engine's files are each within a part: a copy is one PutObject.
    "S3 SlowDown: copies": {"service": "s3", "error": "SlowDown", "operation": "PutObject"},
    "S3 500: copies": {"service": "s3", "error": "InternalError", "operation": "PutObject"},
    "EventBridge failed entry": {"service": "events", "error": "FailedEntry", "operation": "PutEvents"},
    "Lambda throttle: status checks": {
        "service": "lambda",
        "error": "TooManyRequestsException",
        "resource": "CheckStatusFunction",
    },
    "Lambda throttle: StoreAssets": {
        "service": "lambda",
        "error": "TooManyRequestsException",
        "resource": "StoreAssetsFunction",
    },
    "Step Functions throttle: StartExecution": {
        "service": "states",
        "error": "ThrottlingException",
        "operation": "StartExecution",
    },
}
WEBHOOKS = ("duplicate", "early", "late", "out-of-order", "racing")


@dataclass
class Plan:
    prompt: str
    create: list[str]
    status: list[str]
    content: list[str]
    webhooks: list[str]
    crash: bool
    aws: list[tuple[str, int]]  # AWS-side faults armed while the job runs, and how many calls each


def make_plan(rng: random.Random) -> Plan:
    ending = rng.choices(["", " [fail]", " [flaky]"], weights=[8, 1, 1])[0]
    return Plan(
        # One prompt per ending: the jobs' faults are armed by their upstream ids, and their videos are
        # then one render each (the engine renders a prompt once).
        prompt=f"Fault run {SEED}{ending}",
        create=rng.choices(CREATE, k=rng.randint(0, 2)),
        status=rng.choices(STATUS, k=rng.randint(2, 4)),
        content=rng.choices(CONTENT, k=rng.randint(0, 2)),
        webhooks=rng.sample(WEBHOOKS, k=rng.choice([0, 0, 1, 2])),
        crash=rng.random() < 0.15,
        aws=[(label, rng.randint(1, 3)) for label in rng.sample(sorted(AWS_FAULTS), k=rng.randint(2, 4))],
    )


@dataclass
class Tally:
    """Faults armed at the engine (by id, counted once spent) and those the suite did itself."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    armed: dict[str, str] = field(default_factory=dict)  # fault id -> label; each armed for one request
    aws_armed: dict[str, str] = field(default_factory=dict)  # AWS-side rule id -> label
    done: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)  # "<what> <status>" seen by clients

    def arm(self, engine: str, label: str, spec: dict[str, Any]) -> None:
        fault = HTTP.post(f"{engine}/_faults", json=spec | {"times": 1}).raise_for_status().json()
        with self.lock:
            self.armed[fault["id"]] = label

    def arm_aws(self, aws: LocalAws, label: str, times: int) -> None:
        fault_id = aws.arm_fault(**AWS_FAULTS[label], times=times)
        with self.lock:
            self.aws_armed[fault_id] = label

    def did(self, label: str, count: int = 1) -> None:
        with self.lock:
            self.done[label] += count

    def answered(self, what: str, status: int) -> None:
        with self.lock:
            self.answers[f"{what} {status}"] += 1

    def injected(self, engine: str, aws: LocalAws) -> Counter[str]:
        pending = {f["id"]: f["times"] for f in HTTP.get(f"{engine}/_faults").json()["faults"]}
        aws_triggered = {f["id"]: f["triggered"] for f in aws.faults()}
        counts: Counter[str] = Counter(self.done)
        with self.lock:
            for fault_id, label in self.armed.items():
                counts[f"upstream: {label}"] += 1 - pending.get(fault_id, 0)
            for fault_id, label in self.aws_armed.items():
                counts[f"AWS: {label}"] += aws_triggered.get(fault_id, 0)
        return counts


class Run:
    def __init__(self, workflow: Workflow, tally: Tally) -> None:
        self.flow = workflow
        self.engine = workflow.engine_url
        self.tally = tally
        self.aws = workflow.stack.aws
        self.bucket = workflow.stack.application.buckets["AssetsBucket"]
        self.store_pool = workflow.stack.functions.pools[workflow.function_name("StoreAssetsFunction")]

    def create(self, plan: Plan) -> str:
        # Create faults match any POST /v1/videos: another job's create may meet them (each counts once).
        for kind in plan.create:
            spec = UPSTREAM_FAULTS[kind] | {"method": "POST", "path": "/v1/videos"}
            self.tally.arm(self.engine, f"create: upstream {kind}", spec)
        # A client's retries, with one Idempotency-Key: a 503 or a 429 is tried again after Retry-After.
        key = secrets.token_hex(8)
        for _ in range(len(plan.create) + 20):
            event = http_event(
                "create_json",
                key=self.flow.key,
                body={"prompt": plan.prompt},
                headers={"idempotency-key": key},
            )
            status, headers, body = self.flow.call("CreateFunction", event)
            self.tally.answered("create", status)
            if status == 200:
                return str(body["id"])
            assert status in (429, 503), body
            assert int(headers["Retry-After"]) >= 1
            time.sleep(1)
        raise AssertionError(f"no 200 for {plan}")

    def upstream_id(self, video_id: str) -> str:
        record = self.flow.record(video_id)
        assert record is not None
        return str(record["upstream_id"])

    def upstream_status(self, upstream_id: str) -> str:
        return str(HTTP.get(f"{self.engine}/_videos/{upstream_id}").json()["status"])

    def job(self, plan: Plan) -> str:
        video_id = self.create(plan)
        # Armed once the job is in: they meet this job's steps and the creates and steps of others.
        for label, times in plan.aws:
            self.tally.arm_aws(self.aws, label, times)
        upstream_id = self.upstream_id(video_id)
        for kind in plan.status:
            spec = UPSTREAM_FAULTS[kind] | {"method": "GET", "path": f"/v1/videos/{upstream_id}"}
            self.tally.arm(self.engine, f"status check: upstream {kind}", spec)
        for kind in plan.content:
            spec = UPSTREAM_FAULTS[kind] | {"method": "GET", "path": f"/v1/videos/{upstream_id}/content"}
            self.tally.arm(self.engine, f"download: upstream {kind}", spec)
        if plan.crash:
            self.crash_mid_copy(video_id, upstream_id)
        if "early" in plan.webhooks:
            self.early_webhook(upstream_id)
        self.wait_upstream(upstream_id)
        if "racing" in plan.webhooks:
            self.racing_webhooks(upstream_id)
        if "duplicate" in plan.webhooks:
            self.duplicate_webhook(upstream_id)
        if "out-of-order" in plan.webhooks:
            self.out_of_order_webhook(upstream_id)
        self.watch(video_id)
        if "late" in plan.webhooks:
            self.late_webhook(upstream_id)
        return video_id

    def event_type(self, upstream_id: str) -> str:
        return "video.completed" if self.upstream_status(upstream_id) == "completed" else "video.failed"

    def wait_upstream(self, upstream_id: str) -> None:
        deadline = time.monotonic() + JOB_TIMEOUT
        while self.upstream_status(upstream_id) not in ("completed", "failed"):
            assert time.monotonic() < deadline, upstream_id
            time.sleep(0.1)

    def deliver(self, event_type: str, upstream_id: str, delivery_id: str, what: str) -> tuple[int, Any]:
        """Delivers a signed event as the upstream does: again, with the same id, after each 503,
        waiting 0.5, 1, 2, 4, then 8 s (the engine's own webhook schedule, stretched to a minute).
        Whatever the attempts met, the delivery ends acknowledged."""
        for attempt in range(12):
            status, body = self.flow.webhook(event_type, upstream_id, delivery_id=delivery_id)
            self.tally.answered(what, status)
            if status != 503:
                return status, body
            assert int(body["retry_after_seconds"]) >= 1
            time.sleep(min(8.0, 0.5 * 2**attempt))
        raise AssertionError(f"{delivery_id} kept answering 503 for a minute")

    def early_webhook(self, upstream_id: str) -> None:
        if self.upstream_status(upstream_id) in ("completed", "failed"):
            return
        self.tally.did("webhook: early")
        status, body = self.deliver("video.completed", upstream_id, new_delivery(), "webhook (early)")
        assert status == 200, body

    def racing_webhooks(self, upstream_id: str) -> None:
        event_type = self.event_type(upstream_id)
        self.tally.did("webhook: racing deliveries", 3)
        with ThreadPoolExecutor(3) as pool:
            answers = list(
                pool.map(lambda _: self.deliver(event_type, upstream_id, new_delivery(), "webhook"), range(3))
            )
        assert [status for status, _ in answers] == [200, 200, 200]

    def duplicate_webhook(self, upstream_id: str) -> None:
        delivery = new_delivery()
        event_type = self.event_type(upstream_id)
        self.tally.did("webhook: duplicate")
        first, _ = self.deliver(event_type, upstream_id, delivery, "webhook")
        second, body = self.deliver(event_type, upstream_id, delivery, "webhook (replayed)")
        assert (first, second, body) == (200, 200, {"received": True})

    def out_of_order_webhook(self, upstream_id: str) -> None:
        wrong = "video.failed" if self.event_type(upstream_id) == "video.completed" else "video.completed"
        self.tally.did("webhook: out of order")
        assert self.deliver(wrong, upstream_id, new_delivery(), "webhook")[0] == 200

    def late_webhook(self, upstream_id: str) -> None:
        self.tally.did("webhook: late")
        assert self.deliver(self.event_type(upstream_id), upstream_id, new_delivery(), "webhook")[0] == 200

    def crash_mid_copy(self, video_id: str, upstream_id: str) -> None:
        """Holds the video's download half-way, kills StoreAssets while it holds the job's claim."""
        path = f"/v1/videos/{upstream_id}/content"
        spec = {"kind": "pause", "seconds": UPSTREAM_TIMEOUT_SECONDS * 0.75, "method": "GET", "path": path}
        self.tally.arm(self.engine, "download: held half-way", spec)
        deadline = time.monotonic() + JOB_TIMEOUT
        while time.monotonic() < deadline:
            record = self.flow.record(video_id) or {}
            if record.get("status") in ("completed", "failed"):
                return
            # The worker copying this job killed while it holds the claim: a crash mid-copy.
            if record.get("finaliser") and self.store_pool.crash_busy(copying(video_id)):
                self.tally.did("StoreAssets crashed mid-copy")
                return
            time.sleep(0.02)

    def watch(self, video_id: str) -> None:
        """What a client sees while the job ends: GET and a short poll, never a 5xx but a retryable
        503 when the job store was throttled past the clients' own retry."""
        deadline = time.monotonic() + JOB_TIMEOUT
        while True:
            status, headers, body = self.flow.call("GetFunction", get_event(self.flow.key, video_id))
            self.tally.answered("get", status)
            assert status in (200, 503), body
            poll_status, poll_headers, _ = self.flow.call("PollFunction", poll_event(self.flow.key, video_id))
            self.tally.answered("poll", poll_status)
            assert poll_status in (
                200,
                202,
                503,
                504,
            )  # 504: this short poll's wait was spent (the contract's)
            for answered, answer_headers in ((status, headers), (poll_status, poll_headers)):
                if answered == 503:
                    assert int(answer_headers["Retry-After"]) >= 1
            if status == 200 and body["status"] in ("completed", "failed") and poll_status == 200:
                return
            assert time.monotonic() < deadline, f"{video_id} still {body['status']}"
            # Every 2 s, as a client would: each look is two invocations, and 24 jobs look at once.
            time.sleep(2.0)


def new_delivery() -> str:
    return f"evt_{secrets.token_hex(8)}"


def get_event(key: str, video_id: str) -> dict[str, Any]:
    event = http_event("get", key=key, path=f"/v1/videos/{video_id}")
    return event | {"pathParameters": {"video_id": video_id}}


def poll_event(key: str, video_id: str) -> dict[str, Any]:
    event = http_event("poll", key=key, path=f"/api/videos/{video_id}/poll", query={"maxWaitMs": "200"})
    return event | {"pathParameters": {"video_id": video_id}}


def check_job(flow: Workflow, video_id: str, plan: Plan) -> str:
    """The record, its files and its one event agree, and only a job asked to fail failed: its outcome."""
    record = flow.wait_terminal(video_id, timeout=JOB_TIMEOUT)
    failed = record["status"] == "failed"
    assert failed == plan.prompt.endswith("[fail]"), (record.get("error"), plan, record)
    execution = flow.wait_execution(video_id, timeout=JOB_TIMEOUT)
    # Ended completed or failed, or found ended: the workflow did its work either way.
    assert execution["status"] == "SUCCEEDED", execution
    files = flow.objects(video_id)
    events = flow.events_for(video_id, settle=0)
    if record["status"] == "completed":
        assert set(files) == FILES
        assets = record["assets"]
        for variant, asset in assets.items():
            assert len(files[asset["key"].rsplit("/", 1)[-1]]) == int(asset["size"]), variant
        probe_mp4(files["video.mp4"])
        jpeg_size(files["thumbnail.jpg"])
        assert [e["detail-type"] for e in events] == ["Video Completed"], events
    else:
        assert files == {}
        assert record["error"]["code"]
        assert [e["detail-type"] for e in events] == ["Video Failed"], events
    return str(record["status"])


def check_owner(flow: Workflow, outcomes: Counter[str]) -> None:
    """The owner's running slots are all free, today's spend is the completed jobs' (failed ones were
    refunded), and no event waits in the outbox."""
    stack = flow.stack
    dynamodb = flow.client("dynamodb")
    quotas = stack.application.tables["QuotasTable"]
    running = dynamodb.get_item(TableName=quotas, Key=to_item({"owner": flow.owner, "period": "running"}))
    assert from_item(running.get("Item", {})).get("video_ids", set()) == set()
    day = dynamodb.get_item(
        TableName=quotas, Key=to_item({"owner": flow.owner, "period": spend_period(int(time.time()))})
    )
    assert from_item(day["Item"])["spent_usd"] == JOB_COST * outcomes["completed"]
    assert dynamodb.scan(TableName=stack.application.tables["OutboxTable"])["Count"] == 0


@pytest.mark.timeout(600)
def test_randomised_faults_leave_every_job_terminal_and_consistent(workflow: Workflow) -> None:
    rng = random.Random(SEED)
    tally = Tally()
    run = Run(workflow, tally)
    aws = workflow.stack.aws
    print(f"\nfault suite: FAULT_SEED={SEED}")
    started = time.monotonic()
    created: dict[str, Plan] = {}
    plans = 0
    # IN_FLIGHT jobs at all times; a new one starts as one ends, until enough faults took effect.
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        running: dict[Future[str], Plan] = {}
        while running or sum(tally.injected(run.engine, aws).values()) < MIN_FAULTS:
            while len(running) < IN_FLIGHT and sum(tally.injected(run.engine, aws).values()) < MIN_FAULTS:
                assert plans < MAX_JOBS, f"too few faults took effect in {plans} jobs"
                plan = make_plan(rng)
                plans += 1
                running[pool.submit(run.job, plan)] = plan
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                created[future.result()] = running.pop(future)
    injected = tally.injected(run.engine, aws)
    # What is still armed goes; what the faults left for later (an event still in the outbox, a job
    # whose last resort failed its execution) is the reconciler's, as on AWS at its next pass.
    HTTP.delete(f"{aws.endpoint}/_faults")
    HTTP.delete(f"{run.engine}/_faults")
    for video_id in created:
        workflow.wait_execution(video_id, timeout=JOB_TIMEOUT)
    reconciled = workflow.stack.invoke(workflow.function_name("ReconcileFunction"), {})
    assert reconciled.error is None, reconciled.output

    outcomes = Counter(check_job(workflow, video_id, plan) for video_id, plan in created.items())
    check_owner(workflow, outcomes)
    s3 = workflow.client("s3")
    assert s3.list_multipart_uploads(Bucket=run.bucket).get("Uploads", []) == []
    # Allowed: a spent poll (504), and "try again later" (503, with Retry-After) to clients and webhooks.
    server_errors = [a for a in tally.answers if a.split()[-1].startswith("5")]
    assert [a for a in server_errors if a != "poll 504" and not a.endswith(" 503")] == []

    print(
        f"fault suite: {len(created)} jobs in {time.monotonic() - started:.0f} s, outcomes {dict(outcomes)}, "
        f"reconciled {reconciled.result}"
    )
    print(f"fault suite: {sum(injected.values())} faults injected")
    for label, count in sorted(injected.items()):
        print(f"  {count:4d}  {label}")
    print("fault suite: what clients were answered")
    for answer, count in sorted(tally.answers.items()):
        print(f"  {count:4d}  {answer}")
    assert sum(injected.values()) >= MIN_FAULTS
