"""Every accepted job ends exactly once — record, slot, spend and event agreeing — when the upstream is
slow or rate limiting, when AWS throttles or refuses, and when executions or functions die mid-job."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import httpx

from tests.apigw import http_event
from tests.integration.workflow.harness import Workflow
from videos_core.adapters.dynamodb import from_item, to_item
from videos_core.adapters.quotas import spend_period
from videos_core.ids import new_video_id
from videos_core.logic.history import EVENTS_PER_CHECK

FILES = {"video.mp4", "thumbnail.jpg", "spritesheet.jpg"}


def slots(workflow: Workflow) -> set[str]:
    table = workflow.stack.application.tables["QuotasTable"]
    item = workflow.client("dynamodb").get_item(
        TableName=table, Key=to_item({"owner": workflow.owner, "period": "running"})
    )
    return set(from_item(item.get("Item", {})).get("video_ids", set()))


def spent(workflow: Workflow) -> Decimal:
    table = workflow.stack.application.tables["QuotasTable"]
    key = to_item({"owner": workflow.owner, "period": spend_period(int(time.time()))})
    item = workflow.client("dynamodb").get_item(TableName=table, Key=key)
    return Decimal(from_item(item.get("Item", {})).get("spent_usd", 0))


def upstream_id_of(workflow: Workflow, video_id: str) -> str:
    record = workflow.record(video_id)
    assert record is not None
    return str(record["upstream_id"])


def arm_upstream(workflow: Workflow, **fault: Any) -> None:
    httpx.post(f"{workflow.engine_url}/_faults", json=fault).raise_for_status()


def reconcile(workflow: Workflow) -> dict[str, Any]:
    invocation = workflow.stack.invoke(workflow.function_name("ReconcileFunction"), {})
    assert invocation.error is None, invocation.output
    return dict(invocation.result)


def test_a_429_on_a_download_is_retried_and_the_job_completes(workflow: Workflow) -> None:
    video = workflow.create("Rate limited download")
    path = f"/v1/videos/{upstream_id_of(workflow, video['id'])}/content"
    arm_upstream(workflow, kind="status", status=429, retry_after=1, method="GET", path=path, times=2)

    record = workflow.wait_terminal(video["id"])

    assert record["status"] == "completed", record
    assert set(workflow.objects(video["id"])) == FILES
    assert [e["detail-type"] for e in workflow.events_for(video["id"])] == ["Video Completed"]


def test_throttled_ends_and_a_refused_event_still_end_the_job_once(workflow: Workflow) -> None:
    """The end's transaction throttled past the clients' retry, then the bus refusing the event: the
    job completes once, its slot freed, its spend kept, its one event published by the retry."""
    aws = workflow.stack.aws
    video = workflow.create("Throttled end")
    aws.arm_fault(
        service="dynamodb",
        error="ProvisionedThroughputExceededException",
        operation="TransactWriteItems",
        times=3,
    )
    aws.arm_fault(service="events", error="FailedEntry", operation="PutEvents", times=2)

    record = workflow.wait_terminal(video["id"])
    execution = workflow.wait_execution(video["id"])

    assert (record["status"], execution["status"]) == ("completed", "SUCCEEDED")
    assert slots(workflow) == set()
    assert spent(workflow) == Decimal("0.5")
    assert [e["detail-type"] for e in workflow.events_for(video["id"])] == ["Video Completed"]
    assert [f["times"] for f in aws.faults()][-2:] == [0, 0]


def test_a_webhook_whose_event_the_bus_refuses_still_announces_the_job_once(workflow: Workflow) -> None:
    """The webhook ends the job, the bus refuses its event: the delivery is answered 503, and the
    upstream's redelivery publishes the event that waited in the outbox — once. (The execution is
    stopped first, so the webhook alone ends the job.)"""
    video = workflow.create("Webhook, bus down")
    workflow.client("stepfunctions").stop_execution(executionArn=workflow.execution_arn(video["id"]))
    upstream_id = upstream_id_of(workflow, video["id"])
    while httpx.get(f"{workflow.engine_url}/_videos/{upstream_id}").json()["status"] != "completed":
        time.sleep(0.1)
    workflow.stack.aws.arm_fault(service="events", error="FailedEntry", operation="PutEvents", times=1)

    first, body = workflow.webhook("video.completed", upstream_id, delivery_id="evt_bus_down")
    again, _ = workflow.webhook("video.completed", upstream_id, delivery_id="evt_bus_down")

    assert (first, body["error_code"]) == (503, "service_unavailable")
    assert again == 200
    assert workflow.wait_terminal(video["id"])["status"] == "completed"
    assert slots(workflow) == set()
    assert [e["detail-type"] for e in workflow.events_for(video["id"])] == ["Video Completed"]


def test_a_delete_against_a_slow_upstream_ends_the_job_in_time(workflow: Workflow) -> None:
    """The upstream's DELETE hangs past the function's 29 s: the job has already ended (record gone,
    slot and spend given back, its execution stopped, one Video Failed event) and the answer comes
    within the function's time."""
    video = workflow.create("[stall] Deleted while the upstream hangs")
    arm_upstream(workflow, kind="delay", seconds=40, method="DELETE", path="/v1/videos/*", times=1)
    event = http_event("delete", key=workflow.key, path=f"/v1/videos/{video['id']}")
    event["pathParameters"] = {"video_id": video["id"]}

    started = time.monotonic()
    status, _, body = workflow.call("DeleteFunction", event)

    assert (status, body["deleted"]) == (200, True)
    assert time.monotonic() - started < 29
    assert workflow.record(video["id"]) is None
    assert slots(workflow) == set()
    assert spent(workflow) == 0
    assert workflow.wait_execution(video["id"])["status"] in ("ABORTED", "SUCCEEDED")
    [ended] = workflow.events_for(video["id"])
    assert (ended["detail-type"], ended["detail"]["video"]["error"]["code"]) == (
        "Video Failed",
        "video_deleted",
    )


def test_a_create_the_upstream_is_too_slow_for_gives_everything_back_and_its_retry_makes_one_job(
    workflow: Workflow,
) -> None:
    """The upstream's create hangs past what the function may wait: the client is answered 503 in
    time with nothing kept (no record, slot and spend given back); its retry with the same
    Idempotency-Key reaches the same upstream job, so one create is one video."""
    arm_upstream(workflow, kind="delay", seconds=24, method="POST", path="/v1/videos", times=1)
    headers = {"idempotency-key": "slow-upstream"}
    event = http_event("create_json", key=workflow.key, body={"prompt": "Slow to accept"}, headers=headers)
    before = httpx.get(
        f"{workflow.engine_url}/v1/videos", params={"limit": 100}, headers={"Authorization": "Bearer k"}
    )

    started = time.monotonic()
    status, answer_headers, body = workflow.call("CreateFunction", event)

    assert (status, body["error_code"]) == (503, "service_unavailable"), body
    assert int(answer_headers["Retry-After"]) >= 1
    assert time.monotonic() - started < 29
    assert slots(workflow) == set()
    assert spent(workflow) == 0
    status, _, video = workflow.call("CreateFunction", event)
    assert status == 201, video
    time.sleep(max(0.0, 25 - (time.monotonic() - started)))  # the first request reaches the engine
    after = httpx.get(
        f"{workflow.engine_url}/v1/videos", params={"limit": 100}, headers={"Authorization": "Bearer k"}
    )
    new_jobs = {v["id"] for v in after.json()["data"]} - {v["id"] for v in before.json()["data"]}
    assert new_jobs == {upstream_id_of(workflow, video["id"])}


def test_a_loop_costs_the_history_events_the_budget_counts(workflow: Workflow) -> None:
    """The arithmetic of logic.history, checked against the execution's own history."""
    video = workflow.create("[stall] Counted")
    deadline = time.monotonic() + 30
    while True:
        entered = [
            event["id"]
            for event in workflow.history(video["id"])
            if event["type"] == "TaskStateEntered"
            and event["stateEnteredEventDetails"]["name"] == "CheckStatus"
        ]
        if len(entered) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    workflow.client("stepfunctions").stop_execution(executionArn=workflow.execution_arn(video["id"]))

    assert entered[2] - entered[1] == entered[1] - entered[0] == EVENTS_PER_CHECK
    reconcile(workflow)


def test_the_reconciler_ends_jobs_whose_execution_or_create_died(workflow: Workflow) -> None:
    """An execution stopped mid-job, and a create that died after taking its slot: the reconciler ends
    the first through the same atomic end (failed, slot and spend back, one event) and frees the
    second's slot; a second pass changes nothing."""
    video = workflow.create("[stall] Orphaned by its execution")
    workflow.client("stepfunctions").stop_execution(executionArn=workflow.execution_arn(video["id"]))
    assert workflow.wait_execution(video["id"])["status"] == "ABORTED"
    died = new_video_id((int(time.time()) - 10) * 1000)
    workflow.client("dynamodb").update_item(
        TableName=workflow.stack.application.tables["QuotasTable"],
        Key=to_item({"owner": workflow.owner, "period": "running"}),
        UpdateExpression="ADD video_ids :id",
        ExpressionAttributeValues={":id": {"SS": [died]}},
    )
    time.sleep(1.1)  # past ReconcileAfterSeconds

    first = reconcile(workflow)
    second = reconcile(workflow)

    record = workflow.record(video["id"])
    assert record is not None
    assert record["status"] == "failed", (record, first)
    assert record["error"]["code"] == "video_generation_failed"
    assert first["ended"] >= 1
    assert first["freed"] >= 1
    assert (second["ended"], second["freed"]) == (0, 0)
    assert slots(workflow) == set()
    assert spent(workflow) == 0
    assert [e["detail-type"] for e in workflow.events_for(video["id"])] == ["Video Failed"]


def test_the_reconciler_ends_a_job_whose_store_assets_died_with_its_execution(workflow: Workflow) -> None:
    """StoreAssets killed mid-copy and the execution gone with it: the claim it held does not keep
    the job from its end."""
    video = workflow.create("Copy killed")
    upstream_id = upstream_id_of(workflow, video["id"])
    path = f"/v1/videos/{upstream_id}/content"
    arm_upstream(workflow, kind="pause", seconds=3, method="GET", path=path, times=1)
    pool = workflow.stack.functions.pools[workflow.function_name("StoreAssetsFunction")]
    s3 = workflow.client("s3")
    bucket = workflow.stack.application.buckets["AssetsBucket"]
    deadline = time.monotonic() + 60
    while not s3.list_multipart_uploads(Bucket=bucket, Prefix=f"videos/{video['id']}/").get("Uploads"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    workflow.client("stepfunctions").stop_execution(executionArn=workflow.execution_arn(video["id"]))
    assert pool.crash_busy(only_if_alone=True)
    assert workflow.wait_execution(video["id"])["status"] == "ABORTED"
    time.sleep(1.1)

    reconcile(workflow)

    record = workflow.record(video["id"])
    assert record is not None
    assert record["status"] == "failed", record
    assert slots(workflow) == set()
    assert [e["detail-type"] for e in workflow.events_for(video["id"])] == ["Video Failed"]
