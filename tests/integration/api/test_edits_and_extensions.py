"""POST /v1/videos/edits and /v1/videos/extensions: a new job from the caller's completed video, the
video named by id in JSON or as a form's `video[id]` field (as the openai SDK sends an object)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.apigw import http_event, invoke, multipart
from tests.integration.api.contract import assert_error
from tests.integration.api.stack import Stack

PATHS = {"edit": "/v1/videos/edits", "extend": "/v1/videos/extensions"}


def derive_event(stack: Stack, function: str, body: Any, *, owner: str = "alice") -> dict[str, object]:
    path = PATHS[function]
    return http_event("create_json", path=path, route_key=f"POST {path}", key=stack.keys[owner], body=body)


@pytest.fixture
def finished(stack: Stack) -> str:
    """A video completed upstream and recorded as completed here."""
    upstream = stack.engine.videos.create_and_poll(
        prompt="A source to build on", size="1280x720", seconds="8", poll_interval_ms=100
    )
    return stack.seed_video("alice", upstream_id=upstream.id, model="sora-2", seconds="8", size="1280x720")


def test_an_edit_is_a_new_job_of_the_sources_model_size_and_length(stack: Stack, finished: str) -> None:
    response = invoke(
        "edit", derive_event(stack, "edit", {"prompt": "Make it snow", "video": {"id": finished}})
    )

    assert response.status == 200, response.text
    video = response.json()
    assert video["id"] != finished
    assert (video["model"], video["seconds"], video["size"], video["prompt"], video["status"]) == (
        "sora-2",
        "8",
        "1280x720",
        "Make it snow",
        "queued",
    )
    record = stack.record("alice", video["id"])
    assert record is not None
    assert Decimal(record["cost_estimate"]) == Decimal("1.0")  # 8 s of sora-2, made anew
    upstream = stack.engine.videos.retrieve(record["upstream_id"])
    assert (upstream.prompt, upstream.seconds) == ("Make it snow", "8")
    assert stack.execution_status(video["id"]) == "RUNNING"


def test_an_extension_is_the_stitched_total_priced_as_its_new_segment(stack: Stack, finished: str) -> None:
    body, content_type = multipart({"prompt": "And on", "seconds": "12", "video[id]": finished}, {})
    path = PATHS["extend"]
    event = http_event(
        "create_multipart",
        path=path,
        route_key=f"POST {path}",
        key=stack.keys["alice"],
        body=body,
        content_type=content_type,
    )

    response = invoke("extend", event)

    assert response.status == 200, response.text
    video = response.json()
    assert video["seconds"] == "20"
    assert video["estimated_cost_usd"] == "1.5"
    record = stack.record("alice", video["id"])
    assert record is not None
    assert Decimal(record["cost_estimate"]) == Decimal("1.5")  # the 12 new seconds of sora-2
    assert stack.engine.videos.retrieve(record["upstream_id"]).seconds == "20"


@pytest.mark.parametrize("function", ["edit", "extend"])
def test_another_owners_video_is_404_and_an_unfinished_one_409(
    stack: Stack, finished: str, function: str
) -> None:
    extra = {"seconds": "4"} if function == "extend" else {}
    theirs = derive_event(stack, function, {"prompt": "x", "video": {"id": finished}} | extra, owner="bob")
    running = stack.seed_video("alice", status="in_progress")
    early = derive_event(stack, function, {"prompt": "x", "video": {"id": running}} | extra)
    gone = stack.seed_video("alice", upstream_id="video_gone_from_the_upstream")
    late = derive_event(stack, function, {"prompt": "x", "video": {"id": gone}} | extra)

    assert_error(invoke(function, theirs), 404, "video_not_found", theirs)
    assert_error(invoke(function, early), 409, "video_not_ready", early)
    assert_error(invoke(function, late), 410, "video_expired", late)


@pytest.mark.parametrize(
    ("function", "body", "param"),
    [
        ("edit", {"prompt": "x"}, "video"),
        ("edit", {"prompt": "x", "video": "vid_1"}, "video"),
        ("edit", {"prompt": "x", "video": {"id": "vid_1", "url": "http://x"}}, "video"),
        ("edit", {"video": {"id": "vid_1"}}, "prompt"),
        ("extend", {"prompt": "x", "video": {"id": "vid_1"}}, "seconds"),
        ("extend", {"prompt": "x", "video": {"id": "vid_1"}, "seconds": "6"}, "seconds"),
        ("extend", {"prompt": "x" * 32_001, "video": {"id": "vid_1"}, "seconds": "4"}, "prompt"),
    ],
)
def test_bad_bodies_are_400_naming_the_parameter(
    stack: Stack, function: str, body: dict[str, Any], param: str
) -> None:
    event = derive_event(stack, function, body)

    response = invoke(function, event)

    assert response.status == 400, response.text
    assert response.json()["error"]["param"] == param


@pytest.fixture
def clip(stack: Stack) -> bytes:
    """An MP4 of the caller's own, 4 s, portrait."""
    upstream = stack.engine.videos.create_and_poll(prompt="A clip of my own", poll_interval_ms=100)
    return stack.engine.videos.download_content(upstream.id).content


def upload_event(stack: Stack, function: str, fields: dict[str, str], video: bytes) -> dict[str, object]:
    body, content_type = multipart(fields, {"video": ("clip.mp4", video, "video/mp4")})
    path = PATHS[function]
    return http_event(
        "create_multipart",
        path=path,
        route_key=f"POST {path}",
        key=stack.keys["alice"],
        body=body,
        content_type=content_type,
    )


def test_an_uploaded_mp4_is_edited_and_extended_as_the_upstream_gets_it(stack: Stack, clip: bytes) -> None:
    edited = invoke("edit", upload_event(stack, "edit", {"prompt": "In sepia"}, clip))
    extended = invoke("extend", upload_event(stack, "extend", {"prompt": "Onwards", "seconds": "8"}, clip))

    assert (edited.status, extended.status) == (200, 200), (edited.text, extended.text)
    assert (edited.json()["seconds"], edited.json()["size"]) == ("4", "720x1280")
    assert (extended.json()["seconds"], extended.json()["size"]) == ("12", "720x1280")
    for video in (edited.json(), extended.json()):
        record = stack.record("alice", video["id"])
        assert record is not None
        upstream = stack.engine.videos.retrieve(record["upstream_id"])
        assert (upstream.seconds, upstream.size, upstream.prompt) == (
            video["seconds"],
            "720x1280",
            video["prompt"],
        )
    assert Decimal(stack.record("alice", extended.json()["id"])["cost_estimate"]) == Decimal("1.0")  # type: ignore[index]


def test_an_upload_that_is_not_an_mp4_or_comes_with_an_id_is_refused(stack: Stack, clip: bytes) -> None:
    not_mp4 = upload_event(stack, "edit", {"prompt": "x"}, b"\x00\x00\x00\x18notavideo" * 10)
    both = upload_event(stack, "edit", {"prompt": "x", "video[id]": "vid_1"}, clip)

    assert_error(invoke("edit", not_mp4), 400, "invalid_request", not_mp4, param="video")
    assert_error(invoke("edit", both), 400, "invalid_request", both, param="video")
