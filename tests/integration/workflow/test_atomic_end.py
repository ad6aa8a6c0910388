"""Every accepted job ends exactly once — record, slot, spend and event agreeing — when the upstream is
slow or rate limiting, when AWS throttles or refuses, and when executions or functions die mid-job."""

from __future__ import annotations

import time
from decimal import Decimal

from tests.integration.workflow.harness import Workflow
from tests.support import HTTP
from videos_core.logic.history import EVENTS_PER_CHECK

FILES = {"video.mp4", "thumbnail.jpg", "spritesheet.jpg"}


def test_a_429_on_a_download_is_retried_and_the_job_completes(workflow: Workflow) -> None:
    video = workflow.create("Rate limited download")
    path = f"/v1/videos/{workflow.upstream_id(video['id'])}/content"
    workflow.arm_upstream(kind="status", status=429, retry_after=1, method="GET", path=path, times=2)

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
    assert workflow.slots() == set()
    assert workflow.spent() == Decimal("0.5")
    assert [e["detail-type"] for e in workflow.events_for(video["id"])] == ["Video Completed"]
    assert [f["times"] for f in aws.faults()][-2:] == [0, 0]


def test_a_webhook_whose_event_the_bus_refuses_still_announces_the_job_once(workflow: Workflow) -> None:
    """The webhook ends the job, the bus refuses its event: the delivery is answered 503, and the
    upstream's redelivery publishes the event that waited in the outbox — once. (The execution is
    stopped first, so the webhook alone ends the job.)"""
    video = workflow.create("Webhook, bus down")
    workflow.client("stepfunctions").stop_execution(executionArn=workflow.execution_arn(video["id"]))
    upstream_id = workflow.upstream_id(video["id"])
    while HTTP.get(f"{workflow.engine_url}/_videos/{upstream_id}").json()["status"] != "completed":
        time.sleep(0.1)
    workflow.stack.aws.arm_fault(service="events", error="FailedEntry", operation="PutEvents", times=1)

    first, body = workflow.webhook("video.completed", upstream_id, delivery_id="evt_bus_down")
    again, _ = workflow.webhook("video.completed", upstream_id, delivery_id="evt_bus_down")

    assert (first, body["error_code"]) == (503, "service_unavailable")
    assert again == 200
    assert workflow.wait_terminal(video["id"])["status"] == "completed"
    assert workflow.slots() == set()
    assert [e["detail-type"] for e in workflow.events_for(video["id"])] == ["Video Completed"]


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
    workflow.reconcile()
