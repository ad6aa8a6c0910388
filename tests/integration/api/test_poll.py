"""GET /api/videos/{id}/poll: waits on the record (never the upstream) for a terminal status."""

from __future__ import annotations

import threading
import time

import pytest

from tests.apigw import http_event, invoke
from tests.integration.api.contract import assert_error
from tests.integration.api.stack import Stack
from tests.support import HTTP
from videos_core import wiring
from videos_core.adapters.dynamodb import to_item
from videos_core.errors import VideoGenerationTimeout


def poll_event(stack: Stack, video_id: str, **query: str) -> dict[str, object]:
    return http_event("poll", path=f"/api/videos/{video_id}/poll", key=stack.keys["alice"], query=query)


def hold_for(monkeypatch: pytest.MonkeyPatch, seconds: str) -> None:
    """The poll function's hold (POLL_HOLD_SECONDS, 0.6 in the test stack) for one test."""
    monkeypatch.setenv("POLL_HOLD_SECONDS", seconds)
    wiring.reset()


def test_a_finished_video_answers_200_at_once(stack: Stack) -> None:
    video_id = stack.seed_video("alice", status="completed")

    response = invoke("poll", poll_event(stack, video_id))

    assert response.status == 200
    assert response.json()["status"] == "completed"


def test_a_failed_video_answers_200_with_its_error(stack: Stack) -> None:
    video_id = stack.seed_video("alice", status="failed")

    response = invoke("poll", poll_event(stack, video_id))

    assert response.status == 200
    assert response.json()["error"]["code"] == "video_generation_failed"


def test_a_running_video_answers_202_with_retry_after_once_the_hold_ends(
    stack: Stack, engine_url: str
) -> None:
    video_id = stack.seed_video("alice", status="in_progress", progress=20)
    calls = HTTP.get(f"{engine_url}/_stats").json()["total"]

    started = time.monotonic()
    response = invoke("poll", poll_event(stack, video_id))

    assert time.monotonic() - started >= 0.5  # POLL_HOLD_SECONDS=0.6 in the test stack
    assert response.status == 202
    assert response.headers["retry-after"] == "1"
    assert response.json()["status"] == "in_progress"
    assert HTTP.get(f"{engine_url}/_stats").json()["total"] == calls


def test_a_video_finishing_during_the_hold_answers_200(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    hold_for(monkeypatch, "5")
    video_id = stack.seed_video("alice", status="in_progress")

    def finish() -> None:
        time.sleep(0.3)
        stack.dynamodb.update_item(
            TableName=stack.videos_table,
            Key=to_item({"owner": "alice", "video_id": video_id}),
            UpdateExpression="SET #s = :c, progress = :p",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=to_item({":c": "completed", ":p": 100}),
        )

    finisher = threading.Thread(target=finish)
    finisher.start()
    started = time.monotonic()
    response = invoke("poll", poll_event(stack, video_id))
    finisher.join()

    assert response.status == 200
    assert response.json()["status"] == "completed"
    assert time.monotonic() - started < 2


def test_the_hold_ends_in_time_for_the_function_to_answer(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a 20 s hold, but an invocation with only 3 s left to run
    hold_for(monkeypatch, "20")
    video_id = stack.seed_video("alice", status="in_progress")

    started = time.monotonic()
    response = invoke("poll", poll_event(stack, video_id), remaining_ms=3_000)

    # Then it answers 202 with the time it had left, not cut off by its own time limit
    assert response.status == 202
    assert 0.8 <= time.monotonic() - started < 2.5


def test_a_spent_max_wait_answers_504_saying_the_job_is_fine_and_how_to_keep_waiting(stack: Stack) -> None:
    video_id = stack.seed_video("alice", status="in_progress", created_at=int(time.time()) - 120)
    event = poll_event(stack, video_id, maxWaitMs="60000")

    body = assert_error(invoke("poll", event), 504, "video_generation_timeout", event, param="maxWaitMs")

    # Nothing about the prompt (the seed's "Simplify prompt"): the job runs on, and a longer wait sees it end.
    assert body["hint"] == VideoGenerationTimeout.default_hint
    assert "prompt" not in body["hint"].lower()
    assert f"Video '{video_id}' is still in_progress (30%)" in body["message"]
    assert "poll again with a maxWaitMs above 12" in body["message"]
    assert f"GET /api/videos/{video_id}" in body["message"]


def test_a_max_wait_shorter_than_the_hold_ends_the_request_early(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a 5 s hold, and a maxWaitMs of 200 from a job created now
    hold_for(monkeypatch, "5")
    video_id = stack.seed_video("alice", status="queued", created_at=int(time.time()))
    event = poll_event(stack, video_id, maxWaitMs="200")

    started = time.monotonic()
    response = invoke("poll", event)

    # Then the request ends with the client's wait, well before the hold would
    assert_error(response, 504, "video_generation_timeout", event)
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("value", ["0", "3600001", "-5", "soon", "1e3"])
def test_bad_max_wait_is_400_invalid_request(stack: Stack, value: str) -> None:
    video_id = stack.seed_video("alice")
    event = poll_event(stack, video_id, maxWaitMs=value)

    assert_error(invoke("poll", event), 400, "invalid_request", event, param="maxWaitMs")


def test_polling_another_owners_video_is_404(stack: Stack) -> None:
    video_id = stack.seed_video("bob", status="in_progress")
    event = poll_event(stack, video_id)

    assert_error(invoke("poll", event), 404, "video_not_found", event)


def test_polling_without_a_key_is_401(stack: Stack) -> None:
    event = http_event("poll")

    assert_error(invoke("poll", event), 401, "unauthorized", event)
