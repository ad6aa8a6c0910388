"""The webhook receiver: signed deliveries end a job at once; forged, stale and replayed ones change
nothing; whichever of the webhook and the poller comes first ends the job, once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.workflow.harness import Workflow
from tests.support import HTTP
from videos_core.adapters.dynamodb import to_item


def upstream_id_of(workflow: Workflow, video_id: str) -> str:
    record = workflow.record(video_id)
    assert record is not None
    return str(record["upstream_id"])


def wait_upstream_done(workflow: Workflow, upstream_id: str) -> None:

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        video = HTTP.get(
            f"{workflow.engine_url}/v1/videos/{upstream_id}", headers={"Authorization": "Bearer k"}
        )
        if video.json()["status"] in ("completed", "failed"):
            return
        time.sleep(0.1)
    raise TimeoutError(upstream_id)


def test_a_completed_webhook_ends_the_job_once(workflow: Workflow) -> None:
    video = workflow.create("Finished by webhook")
    upstream_id = upstream_id_of(workflow, video["id"])
    wait_upstream_done(workflow, upstream_id)

    status, _ = workflow.webhook("video.completed", upstream_id)
    record = workflow.wait_terminal(video["id"])
    workflow.wait_execution(video["id"])

    assert status == 200
    assert record["status"] == "completed"
    assert set(workflow.objects(video["id"])) == {"video.mp4", "thumbnail.jpg", "spritesheet.jpg"}
    assert [e["detail-type"] for e in workflow.events_for(video["id"])] == ["Video Completed"]


def test_a_failed_webhook_ends_the_job_failed(workflow: Workflow) -> None:
    video = workflow.create("Failed by webhook [moderation]")
    upstream_id = upstream_id_of(workflow, video["id"])
    wait_upstream_done(workflow, upstream_id)

    assert workflow.webhook("video.failed", upstream_id)[0] == 200
    record = workflow.wait_terminal(video["id"])
    workflow.wait_execution(video["id"])

    assert record["error"]["code"] == "invalid_video_prompt"
    assert [e["detail-type"] for e in workflow.events_for(video["id"])] == ["Video Failed"]


def test_a_webhook_after_the_poller_changes_nothing(workflow: Workflow) -> None:
    video = workflow.create("Finished by the poller")
    record = workflow.wait_terminal(video["id"])
    workflow.wait_execution(video["id"])

    status, _ = workflow.webhook("video.completed", record["upstream_id"])

    assert status == 200
    assert workflow.record(video["id"]) == record
    assert len(workflow.events_for(video["id"])) == 1


def test_racing_webhooks_and_the_poller_end_the_job_once(workflow: Workflow) -> None:
    video = workflow.create("Everyone at once")
    upstream_id = upstream_id_of(workflow, video["id"])
    wait_upstream_done(workflow, upstream_id)

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: workflow.webhook("video.completed", upstream_id)[0], range(4)))
    record = workflow.wait_terminal(video["id"])
    workflow.wait_execution(video["id"])

    assert statuses == [200, 200, 200, 200]
    assert record["status"] == "completed"
    assert [e["detail-type"] for e in workflow.events_for(video["id"], settle=2)] == ["Video Completed"]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"secret": "whsec_Zm9yZ2VkLXNlY3JldC1mb3JnZWQtc2VjcmV0"}, 401, "unauthorized"),
        ({"age": 600}, 400, "invalid_request"),
        ({"age": -600}, 400, "invalid_request"),
    ],
)
def test_forged_and_stale_deliveries_change_nothing(
    workflow: Workflow, change: dict[str, object], status: int, code: str
) -> None:
    video = workflow.create("Not to be touched [stall]")
    upstream_id = upstream_id_of(workflow, video["id"])
    age = change.pop("age", None)
    if age is not None:
        change["timestamp"] = int(time.time()) - int(str(age))
    answered, body = workflow.webhook("video.completed", upstream_id, **change)  # type: ignore[arg-type]

    assert (answered, body["error_code"]) == (status, code)
    record = workflow.record(video["id"])
    assert record is not None
    # Only the poller's progress moves on a stalled job: nothing a webhook would write is there.
    assert record["status"] in ("queued", "in_progress")
    assert not record.get("assets")
    assert "completed_at" not in record
    assert "finaliser" not in record
    assert workflow.objects(video["id"]) == {}
    assert workflow.events_for(video["id"], settle=0.3) == []
    workflow.client("stepfunctions").stop_execution(executionArn=workflow.execution_arn(video["id"]))


def test_a_delivery_already_applied_is_acknowledged_and_changes_nothing(workflow: Workflow) -> None:
    """Senders retry any answer but a 2xx: a repeat of an applied delivery is 200, and nothing moves."""
    video = workflow.create("Delivered once")
    upstream_id = upstream_id_of(workflow, video["id"])
    wait_upstream_done(workflow, upstream_id)

    first, _ = workflow.webhook("video.completed", upstream_id, delivery_id="evt_replayed")
    ended = workflow.wait_terminal(video["id"])
    again, body = workflow.webhook("video.completed", upstream_id, delivery_id="evt_replayed")

    assert (first, again, body) == (200, 200, {"received": True})
    assert workflow.record(video["id"]) == ended
    workflow.wait_execution(video["id"])
    assert len(workflow.events_for(video["id"])) == 1


def test_a_delivery_still_in_flight_is_told_to_come_back(workflow: Workflow) -> None:
    """Another invocation holds the delivery (its lease live): a repeat is a retryable 503, and the
    delivery is applied once its holder lets it go."""
    video = workflow.create("Delivered while in flight")
    upstream_id = upstream_id_of(workflow, video["id"])
    wait_upstream_done(workflow, upstream_id)
    table = workflow.stack.application.tables["WebhookDeliveriesTable"]
    workflow.client("dynamodb").put_item(
        TableName=table,
        Item=to_item(
            {
                "webhook_id": "evt_held",
                "state": "in_flight",
                "holder": "another",
                "lease_until": int(time.time()) + 60,
            }
        ),
    )

    status, body = workflow.webhook("video.completed", upstream_id, delivery_id="evt_held")

    assert (status, body["error_code"]) == (503, "service_unavailable")
    assert int(body["retry_after_seconds"]) >= 1
    # A holder that died: its lease lapses, and the sender's next try applies the delivery.
    workflow.client("dynamodb").update_item(
        TableName=table,
        Key=to_item({"webhook_id": "evt_held"}),
        UpdateExpression="SET lease_until = :past",
        ExpressionAttributeValues=to_item({":past": 1}),
    )
    assert workflow.webhook("video.completed", upstream_id, delivery_id="evt_held")[0] == 200
    assert workflow.wait_terminal(video["id"])["status"] == "completed"


def test_a_webhook_about_an_unknown_job_is_acknowledged(workflow: Workflow) -> None:
    assert workflow.webhook("video.completed", "video_nobody_knows")[0] == 200


def test_a_completion_the_upstream_cannot_serve_yet_is_503_and_changes_nothing(workflow: Workflow) -> None:
    video = workflow.create("Not ready for download [stall]")
    upstream_id = upstream_id_of(workflow, video["id"])

    status, body = workflow.webhook("video.completed", upstream_id)

    assert (status, body["error_code"]) == (503, "service_unavailable")
    assert int(body["retry_after_seconds"]) >= 1
    record = workflow.record(video["id"])
    assert record is not None
    assert record["status"] in ("queued", "in_progress")
    assert "finaliser" not in record  # the claim was given back: the poller is not locked out
    workflow.client("stepfunctions").stop_execution(executionArn=workflow.execution_arn(video["id"]))


def test_a_failed_webhook_for_a_job_the_upstream_completed_completes_it(workflow: Workflow) -> None:
    """Out of order or mistaken: the upstream's own state decides how the job ends."""
    video = workflow.create("Completed upstream, reported failed")
    upstream_id = upstream_id_of(workflow, video["id"])
    wait_upstream_done(workflow, upstream_id)

    assert workflow.webhook("video.failed", upstream_id)[0] == 200
    record = workflow.wait_terminal(video["id"])
    workflow.wait_execution(video["id"])

    assert record["status"] == "completed"
    assert set(workflow.objects(video["id"])) == {"video.mp4", "thumbnail.jpg", "spritesheet.jpg"}
    assert [e["detail-type"] for e in workflow.events_for(video["id"])] == ["Video Completed"]


def test_a_failed_webhook_for_a_job_still_running_is_503_and_changes_nothing(workflow: Workflow) -> None:
    video = workflow.create("Still rendering [stall]")
    upstream_id = upstream_id_of(workflow, video["id"])

    assert workflow.webhook("video.failed", upstream_id)[0] == 503

    record = workflow.record(video["id"])
    assert record is not None
    assert record["status"] in ("queued", "in_progress")
    assert workflow.events_for(video["id"], settle=0.5) == []
    workflow.client("stepfunctions").stop_execution(executionArn=workflow.execution_arn(video["id"]))


def test_a_webhook_leaves_a_job_another_finaliser_is_storing_to_it(workflow: Workflow) -> None:
    """The poller's StoreAssets holds the job's claim: the webhook acknowledges the delivery and
    leaves the job to it, without asking the upstream (here still running: asked, it would be 503)."""
    video = workflow.create("Being stored by the poller [stall]")
    table = workflow.stack.application.tables["VideosTable"]
    workflow.client("dynamodb").update_item(
        TableName=table,
        Key=to_item({"owner": workflow.owner, "video_id": video["id"]}),
        UpdateExpression="SET finaliser = :other, finalise_until = :until",
        ExpressionAttributeValues=to_item({":other": "store-assets", ":until": int(time.time()) + 60}),
    )

    status, body = workflow.webhook("video.completed", upstream_id_of(workflow, video["id"]))

    assert (status, body) == (200, {"received": True})
    record = workflow.record(video["id"])
    assert record is not None
    assert (record["status"], record["finaliser"]) in {
        ("queued", "store-assets"),
        ("in_progress", "store-assets"),
    }
    workflow.client("stepfunctions").stop_execution(executionArn=workflow.execution_arn(video["id"]))
