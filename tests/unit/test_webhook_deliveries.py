"""Deliveries' pure parts: the job's end read from the bus's event, the webhook-id stable per event and
endpoint, the retries' backoff, and which messages of a batch Lambda deletes."""

from __future__ import annotations

import pytest

from local.serve.sqs_sources import handled
from local.serve.workers import Invocation
from videos_core.logic.deliveries import RETRY_CAP_SECONDS, event_of, retry_after_seconds, webhook_id

BUS_EVENT = {
    "detail-type": "Video Completed",
    "detail": {"owner": "o", "video": {"id": "vid_1", "created_at": 10, "completed_at": 20}},
}


def test_a_job_end_becomes_openai_s_event_with_one_id_per_end() -> None:
    event = event_of(BUS_EVENT)
    assert (event.owner, event.video_id, event.event_type, event.created_at) == (
        "o",
        "vid_1",
        "video.completed",
        20,
    )
    assert (
        event.event_id
        == event_of(BUS_EVENT).event_id
        != event_of(BUS_EVENT | {"detail-type": "Video Failed"}).event_id
    )
    with pytest.raises(ValueError, match="not a job's end"):
        event_of({"detail-type": "Scheduled Event", "detail": {}})


def test_the_webhook_id_is_the_same_on_every_attempt_and_another_per_endpoint() -> None:
    assert webhook_id("evt_1", "we_a") == webhook_id("evt_1", "we_a") != webhook_id("evt_1", "we_b")
    assert webhook_id("evt_1", "we_a").startswith("msg_")


def test_retries_wait_exponentially_with_jitter_up_to_sqs_s_longest_visibility() -> None:
    assert [retry_after_seconds(n, draw=lambda: 1.0) for n in (1, 2, 3)] == [30, 60, 120]
    assert retry_after_seconds(1, draw=lambda: 0.0) == 15
    assert retry_after_seconds(40, draw=lambda: 1.0) == RETRY_CAP_SECONDS
    assert retry_after_seconds(3, scale=0.01, draw=lambda: 1.0) == 2


def _invocation(result: object, error: dict[str, str] | None = None) -> Invocation:
    return Invocation(result, error, "", False, 0.0)


MESSAGES = [{"MessageId": "a"}, {"MessageId": "b"}]


@pytest.mark.parametrize(
    ("invocation", "deleted"),
    [
        (_invocation({"batchItemFailures": []}), ["a", "b"]),
        (_invocation({"batchItemFailures": [{"itemIdentifier": "b"}]}), ["a"]),
        (_invocation(None), ["a", "b"]),
        (_invocation({"batchItemFailures": [{"itemIdentifier": "zzz"}]}), []),  # not of the batch
        (_invocation({"batchItemFailures": [{}]}), []),
        (_invocation(None, {"errorType": "Runtime.ExitError"}), []),
    ],
)
def test_lambda_deletes_what_the_batch_handled(invocation: Invocation, deleted: list[str]) -> None:
    assert [m["MessageId"] for m in handled(MESSAGES, invocation, report_failures=True)] == deleted
