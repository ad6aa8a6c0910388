"""POST /v1/uploads, then a create naming the upload: the way in for a reference image larger than a
request body can carry to a function (4 MiB), up to the upstream's 10 MiB."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.apigw import LambdaResponse, http_event, invoke
from tests.integration.api.contract import assert_error
from tests.integration.api.stack import BUCKET, Stack
from tests.media import png_bytes
from videos_core.http import MAX_MULTIPART_BYTES
from videos_core.models.api import MAX_UPLOAD_BYTES, MAX_VIDEO_UPLOAD_BYTES


def upload(stack: Stack, body: Any, owner: str = "alice") -> LambdaResponse:
    event = http_event(
        "create_json", path="/v1/uploads", route_key="POST /v1/uploads", key=stack.keys[owner], body=body
    )
    return invoke("uploads", event)


def create(stack: Stack, body: Any, owner: str = "alice") -> LambdaResponse:
    return invoke("create", http_event("create_json", key=stack.keys[owner], body=body))


def arrive(stack: Stack, url: str, content: bytes, content_type: str) -> None:
    """What a client's PUT to the signed URL stores (the bucket and key it names)."""
    parsed = urlparse(url)
    key = parsed.path.lstrip("/").removeprefix(f"{BUCKET}/")
    assert BUCKET in parsed.netloc or parsed.path.startswith(f"/{BUCKET}/")
    stack.s3.put_object(Bucket=BUCKET, Key=key, Body=content, ContentType=content_type)


def test_an_image_larger_than_a_body_takes_goes_in_through_an_upload(
    stack: Stack, engine_data_dir: Path
) -> None:
    image = png_bytes() + b"\0" * MAX_MULTIPART_BYTES  # a valid PNG, then padding past 4 MiB
    response = upload(stack, {"filename": "big.png", "bytes": len(image), "mime_type": "image/png"})

    assert response.status == 201, response.text
    pending = response.json()
    assert pending["id"].startswith("file_")
    assert (pending["object"], pending["status"], pending["upload_method"]) == ("upload", "pending", "PUT")
    assert pending["upload_headers"] == {"Content-Type": "image/png", "Content-Length": str(len(image))}
    assert pending["expires_at"] - pending["created_at"] == 900
    owner_hash = hashlib.sha256(b"alice").hexdigest()[:32]
    assert f"uploads/{owner_hash}/{pending['id']}" in pending["upload_url"]
    assert "alice" not in pending["upload_url"]
    arrive(stack, pending["upload_url"], image, "image/png")

    created = create(
        stack, {"prompt": "From a large reference", "input_reference": {"file_id": pending["id"]}}
    )

    assert created.status == 200, created.text
    # The upstream received the uploaded image itself (the engine keeps what it is sent, by digest).
    assert (engine_data_dir / "references" / hashlib.sha256(image).hexdigest()).read_bytes() == image


def test_a_file_not_uploaded_yet_or_of_another_owner_is_refused(stack: Stack) -> None:
    pending = upload(stack, {"filename": "a.png", "bytes": 100, "mime_type": "image/png"}).json()
    body = {"prompt": "x", "input_reference": {"file_id": pending["id"]}}

    event = http_event("create_json", key=stack.keys["alice"], body=body)
    assert_error(invoke("create", event), 400, "invalid_request", event, param="input_reference")
    arrive(stack, pending["upload_url"], png_bytes(), "image/png")
    event = http_event("create_json", key=stack.keys["bob"], body=body)
    assert_error(invoke("create", event), 400, "invalid_request", event, param="input_reference")
    assert stack.dynamodb.scan(TableName=stack.videos_table)["Count"] == 0


def test_what_arrived_is_judged_by_its_bytes(stack: Stack) -> None:
    pending = upload(stack, {"filename": "a.png", "bytes": 12, "mime_type": "image/png"}).json()
    arrive(stack, pending["upload_url"], b"GIF89a......", "image/png")
    event = http_event(
        "create_json",
        key=stack.keys["alice"],
        body={"prompt": "x", "input_reference": {"file_id": pending["id"]}},
    )

    assert_error(invoke("create", event), 400, "invalid_request", event, param="input_reference")


@pytest.mark.parametrize(
    "reference",
    ["https://example.com/cat.png", {"url": "https://example.com/cat.png"}, {"file_id": "file_nope"}],
)
def test_a_reference_that_is_neither_a_file_nor_an_upload_is_refused(stack: Stack, reference: Any) -> None:
    event = http_event(
        "create_json", key=stack.keys["alice"], body={"prompt": "x", "input_reference": reference}
    )

    assert_error(invoke("create", event), 400, "invalid_request", event, param="input_reference")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"filename": "a.png", "bytes": MAX_UPLOAD_BYTES + 1, "mime_type": "image/png"}, "bytes"),
        ({"filename": "a.gif", "bytes": 10, "mime_type": "image/gif"}, "mime_type"),
        ({"filename": "", "bytes": 10, "mime_type": "image/png"}, "filename"),
        ({"filename": "a.png", "bytes": 10, "mime_type": "image/png", "purpose": "x"}, "purpose"),
    ],
)
def test_an_upload_the_upstream_could_not_take_is_refused_before_anything_is_signed(
    stack: Stack, body: dict[str, Any], param: str
) -> None:
    event = http_event(
        "create_json", path="/v1/uploads", route_key="POST /v1/uploads", key=stack.keys["alice"], body=body
    )

    assert_error(invoke("uploads", event), 400, "invalid_request", event, param=param)


def test_an_upload_needs_a_key(stack: Stack) -> None:
    event = http_event(
        "create_json",
        path="/v1/uploads",
        route_key="POST /v1/uploads",
        body={"filename": "a.png", "bytes": 1, "mime_type": "image/png"},
    )

    assert_error(invoke("uploads", event), 401, "unauthorized", event)


def test_a_video_larger_than_a_body_takes_is_extended_through_an_upload(
    stack: Stack, engine_data_dir: Path
) -> None:
    """An MP4 padded past 4 MiB with a `free` box (still a valid MP4) is uploaded, then extended by id."""
    clip = stack.engine.videos.download_content(
        stack.engine.videos.create_and_poll(prompt="A long clip", poll_interval_ms=100).id
    ).content
    padding = MAX_MULTIPART_BYTES + 8
    video = clip + padding.to_bytes(4, "big") + b"free" + b"\0" * (padding - 8)
    pending = upload(stack, {"filename": "long.mp4", "bytes": len(video), "mime_type": "video/mp4"}).json()
    arrive(stack, pending["upload_url"], video, "video/mp4")
    body = {"prompt": "And on", "seconds": "4", "video": {"id": pending["id"]}}

    response = invoke(
        "extend", http_event("create_json", path="/v1/videos/extensions", key=stack.keys["alice"], body=body)
    )

    assert response.status == 200, response.text
    assert response.json()["seconds"] == "8"
    assert (engine_data_dir / "bases" / f"{hashlib.sha256(video).hexdigest()}.mp4").read_bytes() == video


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"filename": "a.mp4", "bytes": MAX_VIDEO_UPLOAD_BYTES + 1, "mime_type": "video/mp4"}, "bytes"),
        ({"filename": "a.png", "bytes": MAX_UPLOAD_BYTES + 1, "mime_type": "image/png"}, "bytes"),
        ({"filename": "a.mov", "bytes": 10, "mime_type": "video/quicktime"}, "mime_type"),
    ],
)
def test_uploads_are_bounded_by_kind(stack: Stack, body: dict[str, Any], param: str) -> None:
    response = upload(stack, body)

    assert response.status == 400, response.text
    assert response.json()["error"]["param"] == param
