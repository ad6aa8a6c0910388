"""POST /api/videos/{id}/remix and /v1/videos/{id}/remix: a new job from the caller's completed video."""

from __future__ import annotations

from typing import Any

import pytest

from tests.apigw import http_event, invoke
from tests.integration.api.contract import assert_error
from tests.integration.api.stack import Stack


def remix_event(
    stack: Stack, video_id: str, body: Any, *, surface: str = "/v1/videos", owner: str = "alice"
) -> dict[str, object]:
    return http_event(
        "remix",
        path=f"{surface}/{video_id}/remix",
        route_key=f"POST {surface}/{{video_id}}/remix",
        key=stack.keys[owner],
        body=body,
    )


@pytest.fixture
def finished(stack: Stack) -> str:
    """A video completed upstream and recorded as completed here."""
    upstream = stack.engine.videos.create_and_poll(
        prompt="A source to remix", size="1280x720", seconds="8", poll_interval_ms=100
    )
    return stack.seed_video("alice", upstream_id=upstream.id, model="sora-2", seconds="8", size="1280x720")


@pytest.mark.parametrize("surface", ["/api/videos", "/v1/videos"])
def test_a_remix_inherits_the_source_and_names_it(stack: Stack, finished: str, surface: str) -> None:
    response = invoke("remix", remix_event(stack, finished, {"prompt": "Now in snow"}, surface=surface))

    assert response.status == (201 if surface == "/api/videos" else 200), response.text
    video = response.json()
    assert video["id"] != finished
    assert video["remixed_from_video_id"] == finished
    assert (video["model"], video["seconds"], video["size"], video["prompt"]) == (
        "sora-2",
        "8",
        "1280x720",
        "Now in snow",
    )
    assert video["status"] == "queued"
    record = stack.record("alice", video["id"])
    assert record is not None
    upstream = stack.engine.videos.retrieve(record["upstream_id"])
    assert upstream.remixed_from_video_id == stack.record("alice", finished)["upstream_id"]  # type: ignore[index]
    assert stack.execution_status(video["id"]) == "RUNNING"


@pytest.mark.parametrize("status", ["queued", "in_progress", "failed"])
def test_an_unfinished_source_is_409_video_not_ready(stack: Stack, status: str) -> None:
    video_id = stack.seed_video("alice", status=status)
    event = remix_event(stack, video_id, {"prompt": "Too early"})

    assert_error(invoke("remix", event), 409, "video_not_ready", event)


def test_another_owners_source_is_404(stack: Stack, finished: str) -> None:
    event = remix_event(stack, finished, {"prompt": "Not mine"}, owner="bob")

    assert_error(invoke("remix", event), 404, "video_not_found", event)


def test_a_source_the_upstream_no_longer_has_is_410_video_expired(stack: Stack) -> None:
    video_id = stack.seed_video("alice", upstream_id="video_gone_from_the_upstream")
    event = remix_event(stack, video_id, {"prompt": "Too late"})

    assert_error(invoke("remix", event), 410, "video_expired", event)


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({}, "invalid_video_prompt", "prompt"),
        ({"prompt": ""}, "invalid_video_prompt", "prompt"),
        ({"prompt": "x" * 32_001}, "invalid_video_prompt", "prompt"),  # OpenAI's limit on /v1
        ({"prompt": 7}, "invalid_video_prompt", "prompt"),
        ({"prompt": "x", "model": "sora-2-pro"}, "invalid_request", "model"),
        ({"prompt": "x", "seconds": "12"}, "invalid_request", "seconds"),
    ],
)
def test_invalid_remix_bodies_are_refused(
    stack: Stack, finished: str, body: Any, code: str, param: str
) -> None:
    event = remix_event(stack, finished, body)

    assert_error(invoke("remix", event), 400, code, event, param=param)


def test_remixing_without_a_key_is_401(stack: Stack) -> None:
    event = http_event("remix")

    assert_error(invoke("remix", event), 401, "unauthorized", event)
