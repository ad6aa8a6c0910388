"""DELETE /api/videos/{id} and /v1/videos/{id}: execution stopped, upstream copy, files and record gone."""

from __future__ import annotations

import time

import openai
import pytest

from tests.apigw import http_event, invoke
from tests.integration.api.contract import assert_error
from tests.integration.api.stack import BUCKET, Stack, quota_slots, table_of
from tests.support import HTTP
from videos_core.models.api import Variant


def delete_event(
    stack: Stack, video_id: str, *, surface: str = "/v1/videos", owner: str = "alice"
) -> dict[str, object]:
    return http_event(
        "delete",
        path=f"{surface}/{video_id}",
        route_key=f"DELETE {surface}/{{video_id}}",
        key=stack.keys[owner],
    )


def create(stack: Stack, prompt: str) -> str:
    event = http_event("create_json", key=stack.keys["alice"], body={"prompt": prompt})
    video_id: str = invoke("create", event).json()["id"]
    return video_id


@pytest.mark.parametrize("surface", ["/api/videos", "/v1/videos"])
def test_deleting_a_running_job_stops_its_execution_and_upstream_job(stack: Stack, surface: str) -> None:
    video_id = create(stack, "Deleted while running")
    record = stack.record("alice", video_id)
    assert record is not None

    response = invoke("delete", delete_event(stack, video_id, surface=surface))

    assert response.status == 200
    assert response.json() == {"id": video_id, "object": "video.deleted", "deleted": True}
    assert stack.execution_status(video_id) == "ABORTED"
    assert stack.record("alice", video_id) is None
    with pytest.raises(openai.NotFoundError):
        stack.engine.videos.retrieve(record["upstream_id"])


def test_deleting_a_completed_video_removes_its_files(stack: Stack, media: dict[Variant, bytes]) -> None:
    video_id = stack.seed_video("alice", assets=media)

    assert invoke("delete", delete_event(stack, video_id)).status == 200

    assert stack.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"videos/{video_id}/")["KeyCount"] == 0
    event = http_event("get", path=f"/v1/videos/{video_id}", key=stack.keys["alice"])
    assert_error(invoke("get", event), 404, "video_not_found", event)


def test_deleting_twice_is_404_the_second_time(stack: Stack) -> None:
    video_id = stack.seed_video("alice")
    invoke("delete", delete_event(stack, video_id))
    event = delete_event(stack, video_id)

    assert_error(invoke("delete", event), 404, "video_not_found", event)


def test_another_owner_cannot_delete(stack: Stack, media: dict[Variant, bytes]) -> None:
    video_id = stack.seed_video("alice", assets=media)
    event = delete_event(stack, video_id, owner="bob")

    assert_error(invoke("delete", event), 404, "video_not_found", event)
    assert stack.record("alice", video_id) is not None
    assert stack.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"videos/{video_id}/")["KeyCount"] == 3


def test_deleting_without_a_key_is_401(stack: Stack) -> None:
    event = http_event("delete")

    assert_error(invoke("delete", event), 401, "unauthorized", event)


def test_a_delete_against_a_hanging_upstream_ends_the_job_and_answers_in_time(
    stack: Stack, engine_url: str
) -> None:
    """The job ends first, in one write (record gone, slot and spend back, its event out); the
    upstream's DELETE, hanging past the invocation's time, is given up in time to answer."""
    video_id = create(stack, "Deleted while the upstream hangs")
    HTTP.post(
        f"{engine_url}/_faults",
        json={"kind": "delay", "seconds": 10, "method": "DELETE", "path": "/v1/videos/*", "times": 1},
    )

    started = time.monotonic()
    response = invoke("delete", delete_event(stack, video_id), remaining_ms=8_000)

    assert response.status == 200, response.text
    assert time.monotonic() - started < 8
    assert stack.record("alice", video_id) is None
    assert quota_slots(stack, "alice") == set()
    assert stack.dynamodb.scan(TableName=table_of(stack, "OutboxTable"))["Count"] == 0
