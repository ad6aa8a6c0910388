"""GET /api/videos/{id}/download and /v1/videos/{id}/content: 302 to a presigned S3 URL."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.apigw import http_event, invoke
from tests.integration.api.contract import assert_error
from tests.integration.api.stack import BUCKET, Stack
from tests.media import jpeg_size, probe_mp4
from videos_core.models.api import Variant

SURFACES = {
    "/api/videos/{}/download": "GET /api/videos/{video_id}/download",
    "/v1/videos/{}/content": "GET /v1/videos/{video_id}/content",
}


def download_event(
    stack: Stack, video_id: str, *, surface: str = "/v1/videos/{}/content", owner: str = "alice", **query: str
) -> dict[str, object]:
    return http_event(
        "download",
        path=surface.format(video_id),
        route_key=SURFACES[surface],
        key=stack.keys[owner],
        query=query,
    )


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize(
    ("variant", "content_type", "extension"),
    [("video", "video/mp4", "mp4"), ("thumbnail", "image/jpeg", "jpg"), ("spritesheet", "image/jpeg", "jpg")],
)
def test_a_completed_video_redirects_to_a_presigned_url_with_type_and_name(
    stack: Stack, media: dict[Variant, bytes], surface: str, variant: str, content_type: str, extension: str
) -> None:
    video_id = stack.seed_video("alice", assets=media)

    response = invoke("download", download_event(stack, video_id, surface=surface, variant=variant))

    assert response.status == 302
    assert response.headers["cache-control"] == "no-store"
    url = response.headers["location"]
    query = parse_qs(urlparse(url).query)
    assert query["response-content-type"] == [content_type]
    assert query["response-content-disposition"] == [f'attachment; filename="{video_id}.{extension}"']
    assert query["X-Amz-Expires"] == ["900"]
    assert BUCKET in url
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == content_type
    assert hashlib.sha256(fetched.content).digest() == hashlib.sha256(media[variant]).digest()  # type: ignore[index]


def test_the_default_variant_is_the_mp4(stack: Stack, media: dict[Variant, bytes]) -> None:
    video_id = stack.seed_video("alice", assets=media)

    url = invoke("download", download_event(stack, video_id)).headers["location"]

    facts = probe_mp4(requests.get(url, timeout=10).content)
    assert (facts.video_codec, facts.width, facts.height) == ("h264", 720, 1280)


def test_redirect_false_returns_the_link_as_json(stack: Stack, media: dict[Variant, bytes]) -> None:
    video_id = stack.seed_video("alice", assets=media)

    response = invoke("download", download_event(stack, video_id, variant="thumbnail", redirect="false"))

    assert response.status == 200
    link = response.json()
    assert set(link) == {"url", "expires_at", "content_type"}
    assert link["content_type"] == "image/jpeg"
    assert abs(link["expires_at"] - (time.time() + 900)) < 5
    assert jpeg_size(requests.get(link["url"], timeout=10).content) == (720, 1280)


@pytest.mark.parametrize("status", ["queued", "in_progress", "failed"])
def test_a_video_without_files_is_409_video_not_ready(stack: Stack, status: str) -> None:
    video_id = stack.seed_video("alice", status=status)
    event = download_event(stack, video_id)

    assert_error(invoke("download", event), 409, "video_not_ready", event)


def test_past_retention_is_410_video_expired(stack: Stack, media: dict[Variant, bytes]) -> None:
    video_id = stack.seed_video("alice", assets=media, expires_at=int(time.time()) - 1)
    event = download_event(stack, video_id)

    assert_error(invoke("download", event), 410, "video_expired", event)


@pytest.mark.parametrize(
    ("query", "param"),
    [({"variant": "poster"}, "variant"), ({"redirect": "maybe"}, "redirect"), ({"format": "mp4"}, "format")],
)
def test_bad_download_queries_are_400(
    stack: Stack, media: dict[Variant, bytes], query: dict[str, str], param: str
) -> None:
    video_id = stack.seed_video("alice", assets=media)
    event = download_event(stack, video_id, **query)

    assert_error(invoke("download", event), 400, "invalid_request", event, param=param)


def test_another_owners_video_is_404_and_mints_no_url(stack: Stack, media: dict[Variant, bytes]) -> None:
    video_id = stack.seed_video("alice", assets=media)
    event = download_event(stack, video_id, owner="bob")

    response = invoke("download", event)

    assert_error(response, 404, "video_not_found", event)
    assert "location" not in response.headers
    assert "X-Amz" not in response.text
