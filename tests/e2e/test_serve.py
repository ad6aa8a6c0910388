"""`serve` runs the application template.yaml declares, offline, over real HTTP."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import boto3
import httpx
import openai
import pytest
from openai import OpenAI

from tests.conftest import CORS_ORIGIN, DEV_KEY
from tests.media import png_bytes, probe_mp4
from tests.support import HTTP, ROOT, Served


def test_the_openai_sdk_creates_retrieves_and_lists(sdk: OpenAI) -> None:
    video = sdk.videos.create(prompt="A kite over the dunes", seconds="4", size="1280x720")

    assert video.id.startswith("vid_")
    assert sdk.videos.retrieve(video.id).id == video.id
    assert video.id in [v.id for v in sdk.videos.list(limit=100)]


def test_the_seed_surface_creates_over_plain_http(api: httpx.Client) -> None:
    response = api.post(
        "/api/videos",
        json={"prompt": "A serene beach at sunset", "model": "sora-2", "seconds": "4", "size": "1280x720"},
    )

    assert response.status_code == 201
    assert response.json()["status"] == "queued"
    listed = api.get("/api/videos").json()
    assert isinstance(listed, list)
    assert response.json()["id"] in [video["id"] for video in listed]


def create_key(served: Served, owner: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "local", "keys", "create", "--owner", owner, "--aws-endpoint", served.aws],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip().splitlines()[-1]


def test_a_second_owners_key_cannot_see_the_first_owners_video(served: Served, sdk: OpenAI) -> None:
    video = sdk.videos.create(prompt="Mine alone")
    key = create_key(served, "second-owner")

    with OpenAI(base_url=f"{served.api}/v1", api_key=key, max_retries=0) as other:
        with pytest.raises(openai.NotFoundError):
            other.videos.retrieve(video.id)
        assert video.id not in [v.id for v in other.videos.list(limit=100)]
        with pytest.raises(openai.NotFoundError):
            other.videos.delete(video.id)
    assert sdk.videos.retrieve(video.id).id == video.id


def test_a_wrong_key_is_401(served: Served) -> None:
    with (
        OpenAI(
            base_url=f"{served.api}/v1", api_key="sk-not-a-key-anybody-was-given", max_retries=0
        ) as client,
        pytest.raises(openai.AuthenticationError),
    ):
        client.videos.list()


def test_unmatched_routes_answer_in_the_contract(served: Served) -> None:
    missing = HTTP.get(f"{served.api}/v2/videos")
    wrong_method = HTTP.put(f"{served.api}/v1/videos")

    assert (missing.status_code, missing.json()["error_code"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["error_code"]) == (405, "method_not_allowed")
    assert wrong_method.headers["allow"] == "GET, POST"


def test_a_page_of_an_allowed_origin_may_call_both_surfaces_and_no_other_origin_may(served: Served) -> None:
    # `served` runs with --parameter CorsAllowOrigins=CORS_ORIGIN.
    preflight = HTTP.options(
        f"{served.api}/v1/videos",
        headers={
            "Origin": CORS_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    key = {"Authorization": f"Bearer {DEV_KEY}"}
    listed = {
        surface: HTTP.get(f"{served.api}{surface}?limit=1", headers=key | {"Origin": CORS_ORIGIN})
        for surface in ("/api/videos", "/v1/videos")
    }
    elsewhere = HTTP.get(
        f"{served.api}/v1/videos?limit=1", headers=key | {"Origin": "https://elsewhere.example"}
    )

    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == CORS_ORIGIN
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    assert "POST" in preflight.headers["access-control-allow-methods"]
    for answer in listed.values():
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == CORS_ORIGIN
        assert "x-request-id" in answer.headers["access-control-expose-headers"]
        assert answer.headers["x-request-id"] == answer.headers["apigw-requestid"]
    assert elsewhere.status_code == 200
    assert not [name for name in elsewhere.headers if name.startswith("access-control-")]


def test_the_openapi_document_is_served(served: Served) -> None:
    document = HTTP.get(f"{served.api}/openapi.json").json()

    assert document["openapi"] == "3.1.0"
    assert "/v1/videos/{video_id}/content" in document["paths"]


def test_created_videos_are_counted_in_the_local_cloudwatch(served: Served, sdk: OpenAI) -> None:
    sdk.videos.create(prompt="Counted", model="sora-2-pro")
    cloudwatch = boto3.client(
        "cloudwatch",
        endpoint_url=served.aws,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )

    now = datetime.now(UTC)
    statistics = cloudwatch.get_metric_statistics(
        Namespace="VideosApi",
        MetricName="VideosCreated",
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
        Period=3600,
        Statistics=["Sum"],
        Dimensions=[{"Name": "model", "Value": "sora-2-pro"}, {"Name": "service", "Value": "videos-api"}],
    )

    assert sum(point["Sum"] for point in statistics["Datapoints"]) >= 1


def test_a_taken_port_fails_in_one_clear_line(served: Served) -> None:
    api_port = served.ports[0]

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "local",
            "serve",
            "--port",
            str(api_port),
            "--aws-port",
            "0",
            "--engine-port",
            "0",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"error: port {api_port} on 127.0.0.1 is already in use; choose another with --port"
    )


def test_a_video_completes_and_downloads_through_the_whole_stack(api: httpx.Client) -> None:
    video = api.post("/api/videos", json={"prompt": "A paper boat, end to end", "seconds": "4"}).json()

    polled = api.get(f"/api/videos/{video['id']}/poll", params={"maxWaitMs": "60000"})
    while polled.status_code == 202:
        polled = api.get(f"/api/videos/{video['id']}/poll", params={"maxWaitMs": "60000"})
    download = api.get(f"/api/videos/{video['id']}/download", follow_redirects=True)

    assert polled.status_code == 200
    assert polled.json()["status"] == "completed"
    assert download.status_code == 200
    assert download.headers["content-type"] == "video/mp4"
    assert download.headers["content-disposition"] == f'attachment; filename="{video["id"]}.mp4"'
    facts = probe_mp4(download.content)
    assert (facts.width, facts.height) == (720, 1280)


def test_keys_are_listed_and_a_revoked_key_stops_working(served: Served) -> None:
    key = create_key(served, "revocable")
    with OpenAI(base_url=f"{served.api}/v1", api_key=key, max_retries=0) as client:
        client.videos.list()
        listed = subprocess.run(
            [sys.executable, "-m", "local", "keys", "list", "--aws-endpoint", served.aws],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        [line] = [line for line in listed.splitlines() if "\trevocable\t" in line]
        key_id = line.split()[0]
        assert key not in listed
        assert line.split()[-1] == "-"  # not revoked

        revoked = subprocess.run(
            [sys.executable, "-m", "local", "keys", "revoke", key_id, "--aws-endpoint", served.aws],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        assert revoked.stdout.strip() == f"revoked {key_id} of owner 'revocable'"

    fresh = create_key(served, "revocable")
    subprocess.run(
        [sys.executable, "-m", "local", "keys", "revoke", fresh, "--aws-endpoint", served.aws],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )
    with (
        OpenAI(base_url=f"{served.api}/v1", api_key=fresh, max_retries=0) as client,
        pytest.raises(openai.AuthenticationError),
    ):
        client.videos.list()


def test_fifty_concurrent_duplicates_make_one_job(served: Served, api: httpx.Client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    key = create_key(served, "duplicator")
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "checkout-42"}

    def post(_: int) -> httpx.Response:
        return HTTP.post(
            f"{served.api}/v1/videos", json={"prompt": "Only once, please"}, headers=headers, timeout=120
        )

    with ThreadPoolExecutor(50) as pool:
        responses = list(pool.map(post, range(50)))

    created = {r.json()["id"] for r in responses if r.status_code == 200}
    in_flight = [r for r in responses if r.status_code == 409]
    assert len(created) == 1
    assert {r.status_code for r in responses} <= {200, 409}
    assert all(
        r.json()["error_code"] == "idempotency_in_progress" and int(r.headers["retry-after"]) >= 1
        for r in in_flight
    )
    listed = HTTP.get(
        f"{served.api}/v1/videos", params={"limit": "100"}, headers={"Authorization": f"Bearer {key}"}
    ).json()
    assert [video["id"] for video in listed["data"]] == list(created)


def test_a_reference_larger_than_a_body_goes_in_through_an_upload_and_renders(
    api: httpx.Client, sdk: OpenAI
) -> None:
    """Over real HTTP: the signed PUT goes to the local endpoint as it would to S3, the create names the
    upload, and the video is rendered from the image (a 413 for the same image in a multipart body)."""
    image = png_bytes(1280, 720) + b"\0" * (4 * 1024 * 1024)
    files = {"input_reference": ("big.png", image, "image/png")}
    too_large = api.post("/v1/videos", data={"prompt": "Too large inline"}, files=files)
    assert too_large.status_code == 413

    pending = api.post(
        "/v1/uploads", json={"filename": "big.png", "bytes": len(image), "mime_type": "image/png"}
    )
    assert pending.status_code == 201, pending.text
    upload = pending.json()
    assert HTTP.put(upload["upload_url"], content=image, headers=upload["upload_headers"]).status_code == 200
    created = api.post(
        "/v1/videos",
        json={
            "prompt": "From an uploaded frame",
            "size": "1280x720",
            "input_reference": {"file_id": upload["id"]},
        },
    )

    assert created.status_code == 200, created.text
    video = sdk.videos.poll(created.json()["id"], poll_interval_ms=200)
    assert video.status == "completed"
    facts = probe_mp4(sdk.videos.download_content(video.id).content)
    assert (facts.width, facts.height) == (1280, 720)
