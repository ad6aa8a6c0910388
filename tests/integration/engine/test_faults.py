"""Faults armed through /_faults reach clients as the fault's kind says; /_stats counts requests."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from tests.support import HTTP


def arm(engine_url: str, **fault: Any) -> dict[str, Any]:
    response = HTTP.post(f"{engine_url}/_faults", json=fault)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, openai.RateLimitError), (500, openai.InternalServerError), (503, openai.InternalServerError)],
)
def test_status_faults_answer_the_status_then_stop(
    engine_url: str, client: OpenAI, status: int, error: type[openai.APIStatusError]
) -> None:
    video = client.videos.create(prompt="faulty status")
    arm(engine_url, kind="status", status=status, method="GET", path="/v1/videos/*", times=2)

    for _ in range(2):
        with pytest.raises(error) as caught:
            client.videos.retrieve(video.id)
        assert caught.value.status_code == status
        if status in (429, 503):
            assert caught.value.response.headers["retry-after"] == "1"
    assert client.videos.retrieve(video.id).id == video.id


def test_a_fault_matches_only_its_method_and_path(engine_url: str, client: OpenAI) -> None:
    arm(engine_url, kind="status", status=500, method="GET", path="/v1/videos/*/content")

    video = client.videos.create(prompt="untouched")
    client.videos.retrieve(video.id)
    client.videos.list()

    assert HTTP.get(f"{engine_url}/_faults").json()["faults"][0]["times"] == 1


def test_a_delay_fault_causes_a_client_read_timeout(engine_url: str, client: OpenAI) -> None:
    arm(engine_url, kind="delay", seconds=2, method="GET", path="/v1/videos")

    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.5).videos.list()

    assert time.monotonic() - started < 1.9


def test_a_reset_fault_drops_the_connection(engine_url: str, client: OpenAI) -> None:
    arm(engine_url, kind="reset", method="POST", path="/v1/videos")

    with pytest.raises(openai.APIConnectionError):
        client.videos.create(prompt="reset")
    arm(engine_url, kind="reset", path="/v1/videos")
    with pytest.raises(httpx.TransportError):
        HTTP.get(f"{engine_url}/v1/videos", headers={"Authorization": "Bearer k"})


def test_a_malformed_fault_answers_200_with_broken_json(engine_url: str, http: httpx.Client) -> None:
    arm(engine_url, kind="malformed", method="GET", path="/v1/videos")

    response = http.get("/v1/videos")

    assert response.status_code == 200
    with pytest.raises(ValueError, match=r"Expecting|Invalid"):
        response.json()


def _collect(chunks: Iterator[bytes], into: bytearray) -> Iterator[bytes]:
    """Keeps what arrived before the connection broke."""
    for chunk in chunks:
        into.extend(chunk)
        yield b""


def test_a_truncate_fault_cuts_a_content_download_short(engine_url: str, client: OpenAI) -> None:
    video = client.videos.create_and_poll(prompt="truncated download", poll_interval_ms=100)
    arm(engine_url, kind="truncate", path=f"/v1/videos/{video.id}/content")

    received = bytearray()
    with httpx.stream(
        "GET", f"{engine_url}/v1/videos/{video.id}/content", headers={"Authorization": "Bearer k"}
    ) as response:
        announced = int(response.headers["content-length"])
        chunks = response.iter_bytes()
        with pytest.raises(httpx.RemoteProtocolError):
            received.extend(b"".join(_collect(chunks, received)))

    assert 0 < len(received) < announced
    assert len(client.videos.download_content(video.id).content) == announced


def test_a_pause_fault_holds_the_second_half_of_a_download(engine_url: str, client: OpenAI) -> None:
    video = client.videos.create_and_poll(prompt="paused download", poll_interval_ms=100)
    whole = client.videos.download_content(video.id).content
    arm(engine_url, kind="pause", seconds=0.6, path=f"/v1/videos/{video.id}/content")

    arrivals: list[tuple[float, int]] = []
    with httpx.stream(
        "GET", f"{engine_url}/v1/videos/{video.id}/content", headers={"Authorization": "Bearer k"}
    ) as response:
        started = time.monotonic()
        body = bytearray()
        for chunk in response.iter_raw():
            body.extend(chunk)
            arrivals.append((time.monotonic() - started, len(body)))

    assert bytes(body) == whole
    half = len(whole) // 2
    before = max(t for t, received in arrivals if received <= half)
    after = min(t for t, received in arrivals if received > half)
    assert after - before >= 0.5


def test_body_faults_answer_a_whole_body_that_is_not_the_file(engine_url: str, client: OpenAI) -> None:
    video = client.videos.create_and_poll(prompt="bad bodies", poll_interval_ms=100)
    whole = client.videos.download_content(video.id).content
    url = f"{engine_url}/v1/videos/{video.id}/content"
    for body in ("html", "empty", "half"):
        arm(engine_url, kind="body", body=body, path=f"/v1/videos/{video.id}/content")

    page, empty, half = (HTTP.get(url, headers={"Authorization": "Bearer k"}) for _ in range(3))

    assert (page.status_code, page.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert page.text.startswith("<!DOCTYPE html>")
    assert (empty.status_code, empty.content) == (200, b"")
    assert (half.status_code, half.content) == (200, whole[: len(whole) // 2])


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "explode"},
        {"kind": "body", "body": "zeros"},
        {"kind": "status", "status": 200},
        {"times": 0},
        {"seconds": -1},
        {"colour": "red"},
        [],
    ],
)
def test_an_invalid_fault_is_refused(engine_url: str, fault: Any) -> None:
    response = HTTP.post(f"{engine_url}/_faults", json=fault)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_fault"


def test_stats_count_requests_by_route_and_video(engine_url: str, client: OpenAI) -> None:
    video = client.videos.create(prompt="counted")
    HTTP.delete(f"{engine_url}/_stats")
    arm(engine_url, kind="status", status=503, path=f"/v1/videos/{video.id}")

    for _ in range(3):
        with contextlib.suppress(openai.InternalServerError):
            client.videos.retrieve(video.id)
    client.videos.list()
    stats = HTTP.get(f"{engine_url}/_stats").json()

    assert stats["routes"] == {"GET /v1/videos/{video_id}": 3, "GET /v1/videos": 1}
    assert stats["videos"] == {video.id: {"GET /v1/videos/{video_id}": 3}}
    assert stats["total"] == 4
    assert stats["faults_triggered"] == 1


def test_a_peek_at_a_job_meets_no_fault_and_is_not_counted(engine_url: str, client: OpenAI) -> None:
    video = client.videos.create(prompt="looked at from the side")
    arm(engine_url, kind="status", status=500, path=f"/v1/videos/{video.id}")
    before = HTTP.get(f"{engine_url}/_stats").json()["videos"].get(video.id, {})

    peeked = HTTP.get(f"{engine_url}/_videos/{video.id}")

    assert peeked.status_code == 200
    assert peeked.json()["id"] == video.id
    assert HTTP.get(f"{engine_url}/_stats").json()["videos"].get(video.id, {}) == before
    assert len(HTTP.get(f"{engine_url}/_faults").json()["faults"]) == 1
    assert HTTP.get(f"{engine_url}/_videos/video_unknown").status_code == 404
