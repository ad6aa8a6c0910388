"""POST /api/videos and /v1/videos: validation as the seed's DTO, then upstream → record → execution."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.apigw import http_event, invoke, multipart
from tests.integration.api.contract import assert_error
from tests.integration.api.stack import APPLICATION, Stack, captured_logs, moto_client, quota_slots
from tests.media import png_bytes
from tests.support import HTTP
from videos_core.http import MAX_JSON_BYTES, MAX_MULTIPART_BYTES, MAX_REFERENCE_BYTES

MODELS = ("sora-2", "sora-2-pro")
SECONDS = ("4", "8", "12")
SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
SURFACES = ("/api/videos", "/v1/videos")


def create(
    stack: Stack,
    body: Any,
    *,
    path: str = "/v1/videos",
    owner: str = "alice",
    headers: dict[str, str] | None = None,
) -> tuple[Any, dict[str, Any]]:
    event = http_event(
        "create_json", path=path, route_key=f"POST {path}", key=stack.keys[owner], body=body, headers=headers
    )
    return invoke("create", event), event


@pytest.mark.parametrize("path", SURFACES)
def test_create_starts_a_job_on_both_surfaces(stack: Stack, path: str, engine_url: str) -> None:
    response, _ = create(
        stack,
        {"prompt": "A paper boat", "model": "sora-2-pro", "seconds": "8", "size": "1280x720"},
        path=path,
    )

    assert response.status == (201 if path.startswith("/api/") else 200)  # the seed's, and OpenAI's spec
    video = response.json()
    assert set(video) == {
        "id",
        "object",
        "status",
        "progress",
        "model",
        "seconds",
        "size",
        "prompt",
        "created_at",
        "completed_at",
        "expires_at",
        "remixed_from_video_id",
        "error",
        # the service's own, beside the seed's and OpenAI's
        "estimated_cost_usd",
        "provider",
        "attempts",
    }
    assert (video["provider"], [a["outcome"] for a in video["attempts"]]) == ("openai", ["running"])
    assert video["id"].startswith("vid_")
    assert len(video["id"]) == 30
    assert (video["object"], video["status"], video["progress"]) == ("video", "queued", 0)
    assert (video["model"], video["seconds"], video["size"], video["prompt"]) == (
        "sora-2-pro",
        "8",
        "1280x720",
        "A paper boat",
    )
    assert video["completed_at"] is None
    assert video["expires_at"] is None
    assert video["remixed_from_video_id"] is None
    assert video["error"] is None
    assert video["estimated_cost_usd"] == "3.2"  # 8 s of sora-2-pro at $0.40
    record = stack.record("alice", video["id"])
    assert record is not None
    assert record["status"] == "queued"
    assert str(record["cost_estimate"]) == "3.2000"
    upstream = stack.engine.videos.retrieve(record["upstream_id"])
    assert (upstream.prompt, upstream.model, upstream.seconds, upstream.size) == (
        "A paper boat",
        "sora-2-pro",
        "8",
        "1280x720",
    )
    assert stack.execution_status(video["id"]) == "RUNNING"
    execution = stack.stepfunctions.describe_execution(
        executionArn=stack.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + video["id"]
    )
    assert json.loads(execution["input"])["upstream_id"] == record["upstream_id"]


def test_defaults_are_sora_2_four_seconds_portrait(stack: Stack) -> None:
    response, _ = create(stack, {"prompt": "Defaults"})

    assert (response.json()["model"], response.json()["seconds"], response.json()["size"]) == (
        "sora-2",
        "4",
        "720x1280",
    )


@pytest.mark.parametrize(("model", "seconds", "size"), list(itertools.product(MODELS, SECONDS, SIZES)))
def test_every_valid_combination_is_accepted(stack: Stack, model: str, seconds: str, size: str) -> None:
    response, _ = create(stack, {"prompt": "Combination", "model": model, "seconds": seconds, "size": size})

    assert response.status == 200, response.text
    assert (response.json()["model"], response.json()["seconds"], response.json()["size"]) == (
        model,
        seconds,
        size,
    )


@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        ({}, 400, "invalid_video_prompt", "prompt"),
        ({"prompt": ""}, 400, "invalid_video_prompt", "prompt"),
        ({"prompt": "   \n"}, 400, "invalid_video_prompt", "prompt"),
        ({"prompt": 42}, 400, "invalid_video_prompt", "prompt"),
        ({"prompt": ["a"]}, 400, "invalid_video_prompt", "prompt"),
        ({"prompt": None}, 400, "invalid_video_prompt", "prompt"),
        ({"prompt": "x", "model": 2}, 400, "invalid_request", "model"),
        ({"prompt": "x", "seconds": 4}, 400, "invalid_video_duration", "seconds"),
        ({"prompt": "x", "seconds": "6"}, 400, "invalid_video_duration", "seconds"),
        ({"prompt": "x", "seconds": "4.0"}, 400, "invalid_video_duration", "seconds"),
        ({"prompt": "x", "size": "640x480"}, 400, "invalid_video_size", "size"),
        ({"prompt": "x", "size": 720}, 400, "invalid_video_size", "size"),
        ({"prompt": "x", "colour": "red"}, 400, "invalid_request", "colour"),
        (
            {"prompt": "x", "input_reference": "http://169.254.169.254/"},
            400,
            "invalid_request",
            "input_reference",
        ),
        # The service fetches nothing on a client's behalf: an image_url is a data: URL.
        (
            {"prompt": "x", "input_reference": {"image_url": "http://169.254.169.254/a.png"}},
            400,
            "invalid_request",
            "input_reference",
        ),
        ({"prompt": "x", "input_reference": {}}, 400, "invalid_request", "input_reference"),
        (
            {"prompt": "x", "input_reference": {"image_url": "data:image/png;base64,AAAA", "file_id": "f"}},
            400,
            "invalid_request",
            "input_reference",
        ),
        (
            {"prompt": "x", "input_reference": {"image_url": "data:image/png;base64,!!"}},
            400,
            "invalid_request",
            "input_reference",
        ),
        (
            {"prompt": "x", "input_reference": {"image_url": "data:text/plain;base64,aGVsbG8="}},
            400,
            "invalid_request",
            "input_reference",
        ),
    ],
)
@pytest.mark.parametrize("path", SURFACES)
def test_invalid_bodies_are_refused_before_any_upstream_call(
    stack: Stack, engine_url: str, path: str, body: Any, status: int, code: str, param: str
) -> None:
    before = HTTP.get(f"{engine_url}/_stats").json()["routes"].get("POST /v1/videos", 0)

    response, event = create(stack, body, path=path)

    assert_error(response, status, code, event, param=param)
    assert HTTP.get(f"{engine_url}/_stats").json()["routes"].get("POST /v1/videos", 0) == before
    assert stack.dynamodb.scan(TableName=stack.videos_table)["Count"] == 0


PROMPT_LIMITS = {"/api/videos": 500, "/v1/videos": 32_000}  # the seed's, and OpenAI's published spec


@pytest.mark.parametrize("path", SURFACES)
def test_each_surface_takes_prompts_up_to_its_own_limit(stack: Stack, engine_url: str, path: str) -> None:
    limit = PROMPT_LIMITS[path]
    before = HTTP.get(f"{engine_url}/_stats").json()["routes"].get("POST /v1/videos", 0)

    over, event = create(stack, {"prompt": "x" * (limit + 1)}, path=path)

    assert_error(over, 400, "invalid_video_prompt", event, param="prompt")
    assert HTTP.get(f"{engine_url}/_stats").json()["routes"].get("POST /v1/videos", 0) == before
    at_limit, _ = create(stack, {"prompt": "y" * limit}, path=path)
    assert at_limit.status in (200, 201), at_limit.text
    assert at_limit.json()["prompt"] == "y" * limit


@pytest.mark.parametrize(("snapshot", "price"), [("sora-2-2025-12-08", 0.5), ("sora-2-pro-2025-10-06", 1.6)])
def test_a_snapshot_is_accepted_and_priced_as_its_base_model_and_echoed_as_sent(
    stack: Stack, snapshot: str, price: float
) -> None:
    response, _ = create(stack, {"prompt": "A dated model", "model": snapshot})

    assert response.status == 200, response.text
    assert response.json()["model"] == snapshot
    record = stack.record("alice", response.json()["id"])
    assert record is not None
    assert (record["model"], float(record["cost_estimate"])) == (snapshot, price)
    upstream = stack.engine.videos.retrieve(record["upstream_id"])
    assert upstream.model == snapshot


@pytest.mark.parametrize("multipart_form", [False, True])
def test_an_input_reference_as_a_data_url_reaches_the_upstream(
    stack: Stack, engine_data_dir: Path, multipart_form: bool
) -> None:
    image = png_bytes(64, 48)
    data_url = "data:image/png;base64," + base64.b64encode(image).decode()
    if multipart_form:  # as the openai SDK sends an object in a form: input_reference[image_url]
        fields = {"prompt": "From a data URL", "input_reference[image_url]": data_url}
        body, content_type = multipart(fields, {})
        event = http_event("create_multipart", key=stack.keys["alice"], body=body, content_type=content_type)
        response = invoke("create", event)
    else:
        response, _ = create(stack, {"prompt": "From a data URL", "input_reference": {"image_url": data_url}})

    assert response.status == 200, response.text
    assert (engine_data_dir / "references" / hashlib.sha256(image).hexdigest()).read_bytes() == image


@pytest.mark.parametrize(
    ("raw", "content_type", "param"),
    [
        (None, "application/json", "body"),
        ("", "application/json", "body"),
        ("{not json", "application/json", "body"),
        ("[1, 2]", "application/json", "body"),
        ('"prompt"', "application/json", "body"),
        ("prompt=x", "text/plain", "content-type"),
        ("--nope\r\n", "multipart/form-data; boundary=nope", "body"),
    ],
)
def test_malformed_bodies_are_400_invalid_request(
    stack: Stack, raw: str | None, content_type: str, param: str
) -> None:
    event = http_event("create_json", key=stack.keys["alice"], body=raw, content_type=content_type)

    assert_error(invoke("create", event), 400, "invalid_request", event, param=param)


def test_multipart_create_forwards_the_input_reference(stack: Stack) -> None:
    event = http_event("create_multipart", key=stack.keys["alice"])

    response = invoke("create", event)

    assert response.status == 200, response.text
    record = stack.record("alice", response.json()["id"])
    assert record is not None
    upstream = stack.engine.videos.poll(record["upstream_id"], poll_interval_ms=100)
    assert upstream.status == "completed"


@pytest.mark.parametrize(
    "content", [b"not an image", b"GIF89a" + b"\0" * 64, b"<svg xmlns='http://www.w3.org/2000/svg'/>"]
)
def test_an_input_reference_that_is_not_png_jpeg_or_webp_is_refused(stack: Stack, content: bytes) -> None:
    body, content_type = multipart({"prompt": "x"}, {"input_reference": ("a.png", content, "image/png")})
    event = http_event("create_multipart", key=stack.keys["alice"], body=body, content_type=content_type)

    assert_error(invoke("create", event), 400, "invalid_request", event, param="input_reference")
    assert stack.dynamodb.scan(TableName=stack.videos_table)["Count"] == 0


def test_an_input_reference_is_judged_by_its_bytes_not_its_name(stack: Stack) -> None:
    body, content_type = multipart(
        {"prompt": "x"}, {"input_reference": ("photo.gif", png_bytes(), "image/gif")}
    )
    event = http_event("create_multipart", key=stack.keys["alice"], body=body, content_type=content_type)

    assert invoke("create", event).status == 200


@pytest.mark.parametrize(
    ("body", "content_type", "param"),
    [
        (json.dumps({"prompt": "x" * MAX_JSON_BYTES}), "application/json", "body"),
        (b"x" * (MAX_MULTIPART_BYTES + 1), "multipart/form-data; boundary=b", "body"),
    ],
)
def test_oversized_bodies_are_413(stack: Stack, body: str | bytes, content_type: str, param: str) -> None:
    event = http_event("create_json", key=stack.keys["alice"], body=body, content_type=content_type)

    assert_error(invoke("create", event), 413, "request_too_large", event, param=param)


def test_an_oversized_input_reference_is_413(stack: Stack) -> None:
    big = png_bytes() + b"\0" * MAX_REFERENCE_BYTES
    body, content_type = multipart({"prompt": "x"}, {"input_reference": ("big.png", big, "image/png")})
    event = http_event("create_multipart", key=stack.keys["alice"], body=body, content_type=content_type)

    assert_error(invoke("create", event), 413, "request_too_large", event, param="input_reference")


@pytest.mark.parametrize("depth", [17, 5000, 200_000, MAX_JSON_BYTES // 2])
def test_deep_nesting_is_a_400_never_a_recursion_error(stack: Stack, depth: int) -> None:
    nested = '{"prompt": "x", "extra": ' + "[" * depth + "]" * depth + "}"
    event = http_event("create_json", key=stack.keys["alice"], body=nested)

    response = invoke("create", event)

    assert_error(
        response,
        413 if len(nested) > MAX_JSON_BYTES else 400,
        "request_too_large" if len(nested) > MAX_JSON_BYTES else "invalid_request",
        event,
        param="body",
    )


@pytest.mark.parametrize(("path", "status"), [("/api/videos", 404), ("/v1/videos", 400)])
@pytest.mark.parametrize("model", ["sora-3", "gpt-4o"])
def test_an_unknown_model_is_the_seeds_404_and_openais_400_on_model(
    stack: Stack, engine_url: str, path: str, status: int, model: str
) -> None:
    before = creates_sent(engine_url)

    response, event = create(stack, {"prompt": "x", "model": model}, path=path)

    # OpenAI answers a model it does not offer with a 400 on `model` (the SDK's BadRequestError).
    body = assert_error(response, status, "video_model_not_available", event, param="model")
    assert "sora-2, sora-2-pro" in body["message"]
    assert creates_sent(engine_url) == before


@pytest.mark.parametrize("path", SURFACES)
def test_an_upstream_rate_limit_is_429_of_its_own_with_the_upstreams_retry_after(
    stack: Stack, path: str
) -> None:
    response, event = create(stack, {"prompt": "Busy [rate-limit]"}, path=path)

    # The provider is busy, not the owner over a quota of theirs (video_quota_exceeded).
    body = assert_error(response, 429, "upstream_rate_limited", event, upstream=True)
    assert body["retry_after_seconds"] == 2
    assert body["openai_error"]["code"] == "rate_limit_exceeded"
    assert stack.dynamodb.scan(TableName=stack.videos_table)["Count"] == 0
    assert quota_slots(stack, "alice") == set()


@pytest.mark.parametrize("path", SURFACES)
def test_a_route_whose_key_is_not_stored_is_503_telling_the_operator_alone_where_it_goes(
    stack: Stack, path: str
) -> None:
    parameter = APPLICATION.parameters["UpstreamApiKeyParameter"]
    moto_client("ssm").delete_parameter(Name=parameter)

    with captured_logs() as logs:
        response, event = create(stack, {"prompt": "No key yet"}, path=path)

    body = assert_error(response, 503, "service_unavailable", event)
    assert body["retry_after_seconds"] == 60
    assert parameter not in response.text
    assert any(line.get("parameter") == parameter for line in logs)
    assert quota_slots(stack, "alice") == set()


def creates_sent(engine_url: str) -> int:
    return int(HTTP.get(f"{engine_url}/_stats").json()["routes"].get("POST /v1/videos", 0))


@pytest.mark.parametrize(
    "fault", [{"kind": "status", "status": 503}, {"kind": "status", "status": 500}, {"kind": "reset"}]
)
def test_a_failed_upstream_create_is_sent_once_and_given_back(
    stack: Stack, engine_url: str, fault: dict[str, Any]
) -> None:
    """An upstream create that failed may still have made a video: it is never sent again blindly.
    The client is answered 503 with Retry-After, the quota is given back, and its retry with the same
    Idempotency-Key makes the job."""
    HTTP.delete(f"{engine_url}/_stats")
    HTTP.post(f"{engine_url}/_faults", json=fault | {"method": "POST", "path": "/v1/videos", "times": 1})
    headers = {"idempotency-key": "retry-me"}

    response, event = create(stack, {"prompt": "Once"}, headers=headers)

    assert_error(response, 503, "service_unavailable", event, upstream=fault["kind"] == "status")
    assert int(response.headers["retry-after"]) >= 1
    assert creates_sent(engine_url) == 1
    assert stack.dynamodb.scan(TableName=stack.videos_table)["Count"] == 0
    assert quota_slots(stack, "alice") == set()
    retried, _ = create(stack, {"prompt": "Once"}, headers=headers)
    assert retried.status == 200
    assert creates_sent(engine_url) == 2


def test_an_upstream_too_slow_for_the_invocation_gets_503_in_time_and_one_job_per_key(
    stack: Stack, engine_url: str
) -> None:
    """The upstream's create hangs past what the invocation may wait: 503 in time, with nothing kept
    (no record, slot and spend given back); the retry with the same Idempotency-Key reaches the same
    upstream job, so one create is one video."""
    HTTP.post(
        f"{engine_url}/_faults",
        json={"kind": "delay", "seconds": 5, "method": "POST", "path": "/v1/videos", "times": 1},
    )
    before = set(engine_jobs(engine_url))
    event = http_event(
        "create_json", key=stack.keys["alice"], body={"prompt": "Slow"}, headers={"idempotency-key": "slow"}
    )

    started = time.monotonic()
    response = invoke("create", event, remaining_ms=8_000)

    assert_error(response, 503, "service_unavailable", event)
    assert time.monotonic() - started < 8
    assert stack.dynamodb.scan(TableName=stack.videos_table)["Count"] == 0
    assert quota_slots(stack, "alice") == set()
    retried = invoke("create", event)
    assert retried.status == 200
    time.sleep(max(0.0, 5.5 - (time.monotonic() - started)))  # the first request reaches the engine
    record = stack.record("alice", retried.json()["id"])
    assert record is not None
    assert set(engine_jobs(engine_url)) - before == {record["upstream_id"]}


def engine_jobs(engine_url: str) -> list[str]:
    listed = HTTP.get(f"{engine_url}/v1/videos", params={"limit": 100}, headers={"Authorization": "Bearer k"})
    return [video["id"] for video in listed.json()["data"]]


def test_an_unstartable_workflow_leaves_nothing_behind(
    stack: Stack, engine_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job is taken back whole: no record, its slot and spend given back, the upstream's job deleted."""
    monkeypatch.setenv("STATE_MACHINE_ARN", stack.state_machine_arn + "-missing")
    from videos_core import wiring

    wiring.reset()
    HTTP.delete(f"{engine_url}/_stats")

    response, event = create(stack, {"prompt": "Orphan"})

    assert_error(response, 503, "service_unavailable", event)
    assert stack.dynamodb.scan(TableName=stack.videos_table)["Count"] == 0
    assert quota_slots(stack, "alice") == set()
    assert HTTP.get(f"{engine_url}/_stats").json()["routes"].get("DELETE /v1/videos/{video_id}") == 1


def test_create_emits_videos_created_by_model(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    create(stack, {"prompt": "Counted", "model": "sora-2-pro"})

    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [blob] = [b for b in blobs if "VideosCreated" in b]
    assert blob["VideosCreated"] == [1.0] or blob["VideosCreated"] == 1.0
    assert blob["model"] == "sora-2-pro"
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "VideosApiTest"


def test_the_upstream_interaction_is_logged_without_secrets(stack: Stack) -> None:
    with captured_logs() as lines:
        response, _ = create(stack, {"prompt": "Logged", "seconds": "8"})

    [record] = [line for line in lines if line.get("message") == "upstream interaction"]
    assert record["api"] == "videos"
    assert record["endpoint"] == "/v1/videos"
    assert record["video_id"] == response.json()["id"]
    assert record["cost_estimate"] == 1.0
    assert (record["model"], record["duration_seconds"]) == ("sora-2", 8)
    assert record["latency_ms"] > 0
    assert record["request"]["prompt"] == "Logged"
    assert record["response"]["id"].startswith("video_")
    assert stack.keys["alice"] not in json.dumps(lines)
