"""The engine's Kling dialect driven in plain HTTP, as Kling's API reference sends it (Kling has no
official Python SDK), with tokens made by a JWT library as Kling's own example makes them: a task
walked from submitted through processing to succeed, its signed video downloaded without the token,
image to video at the image's shape, each refusal in Kling's `{code, message, request_id}` shape and
HTTP status, `[fail]` and `[moderation]`, the callbacks of a task's status changes, the token's checks
(its signature with a keyed engine); then the service's adapter against the dialect."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from PIL import Image
from starlette.testclient import TestClient

from local.engine.app import create_app
from local.engine.service import EngineConfig
from tests.integration.engine.test_provider_adapters import ended, routed
from tests.media import png_bytes, probe_mp4
from tests.support import HTTP
from tests.webhook_receiver import WebhookReceiver
from videos_core.errors import (
    InvalidRequest,
    InvalidVideoDuration,
    InvalidVideoPrompt,
    VideoModelNotAvailable,
)
from videos_core.ports import Reference, UpstreamCreate

PROMPT = "A paper boat drifting down a rain gutter"
TURBO = "kling-v2-5-turbo"
ACCESS_KEY, SECRET_KEY = "ak-engine-test", "sk-engine-test-0123456789"
ENDED = ("succeed", "failed")


def token(secret: str = SECRET_KEY, alg: str = "HS256", **claims: Any) -> str:
    """A token as Kling's example makes one (its example uses PyJWT; joserfc makes the same)."""
    now = int(time.time())
    payload = {"iss": ACCESS_KEY, "exp": now + 1800, "nbf": now - 5} | claims
    return jwt.encode({"alg": alg, "typ": "JWT"}, payload, OctKey.import_key(secret), algorithms=[alg])


def b64(image: bytes) -> str:
    return base64.b64encode(image).decode()


@pytest.fixture
def api(engine_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{engine_url}/kling/v1/videos", headers={"Authorization": f"Bearer {token()}"}, timeout=30
    ) as client:
        yield client


def walked(client: httpx.Client | TestClient, path: str) -> list[dict[str, Any]]:
    """Each state the task read (its `data`), polled until it ended."""
    seen, deadline = [], time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = client.get(path).json()
        assert (answer["code"], answer["message"]) == (0, "SUCCEED")
        seen.append(answer["data"])
        if answer["data"]["task_status"] in ENDED:
            break
        time.sleep(0.05)
    return seen


def created(client: httpx.Client | TestClient, endpoint: str, body: dict[str, Any]) -> str:
    answer = client.post(f"/{endpoint}", json=body)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["task_status"] == "submitted"
    assert set(data) == {"task_id", "task_status", "task_info", "created_at", "updated_at"}
    return str(data["task_id"])


def test_tasks_run_from_submitted_to_succeed_and_their_videos_download_without_the_token(
    api: httpx.Client,
) -> None:
    body = {"model_name": TURBO, "prompt": PROMPT, "mode": "std", "duration": "5", "aspect_ratio": "9:16"}
    square = {
        "model_name": TURBO,
        "prompt": "The blue square comes alive",
        "image": b64(png_bytes(400, 400, (20, 20, 220))),
        "external_task_id": "square-1",
    }
    task_id, from_image = created(api, "text2video", body), created(api, "image2video", square)

    seen = walked(api, f"/text2video/{task_id}")
    done = walked(api, f"/image2video/{from_image}")[-1]

    statuses = [state["task_status"] for n, state in enumerate(seen) if n == 0 or seen[n - 1] != state]
    assert statuses[-2:] == ["processing", "succeed"]
    [video] = seen[-1]["task_result"]["videos"]
    assert video["duration"] == "5"
    facts = probe_mp4(HTTP.get(video["url"], timeout=30).content)  # no token sent
    assert (facts.width, facts.height) == (720, 1280)  # 9:16 at std's 720p
    assert facts.duration == pytest.approx(5, abs=0.2)
    forged = HTTP.get(video["url"][:-4] + ("0000" if not video["url"].endswith("0000") else "1111"))
    assert forged.status_code == 403
    # Image to video: the image's shape at the mode's resolution.
    assert (done["task_status"], done["task_info"]) == ("succeed", {"external_task_id": "square-1"})
    facts = probe_mp4(HTTP.get(done["task_result"]["videos"][0]["url"], timeout=30).content)
    assert (facts.width, facts.height) == (720, 720)
    # Each path knows its own tasks.
    elsewhere = api.get(f"/image2video/{task_id}")
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, 1203)
    listed = api.get("/text2video", params={"pageNum": 1, "pageSize": 500}).json()["data"]
    assert task_id in [task["task_id"] for task in listed]
    assert from_image not in [task["task_id"] for task in listed]


def _image(width: int, height: int, kind: str = "PNG") -> str:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 20)).save(out, kind)
    return b64(out.getvalue())


@pytest.mark.parametrize(
    ("endpoint", "change", "status", "code", "named"),
    [
        ("text2video", {"duration": 5}, 400, 1201, "duration"),
        ("text2video", {"duration": "7"}, 400, 1201, "duration"),
        ("text2video", {"mode": "hd"}, 400, 1201, "mode"),
        ("text2video", {"aspect_ratio": "4:3"}, 400, 1201, "aspect_ratio"),
        ("text2video", {"prompt": None}, 400, 1201, "prompt"),
        ("text2video", {"prompt": "x" * 2501}, 400, 1201, "2500"),
        ("text2video", {"negative_prompt": "x" * 2501}, 400, 1201, "negative_prompt"),
        ("text2video", {"cfg_scale": 2}, 400, 1201, "cfg_scale"),
        ("text2video", {"sound": "on"}, 400, 1201, "sound"),  # kling-v2-5-turbo has none
        ("text2video", {"model_name": "kling-v2-6", "sound": "on"}, 400, 1201, "pro"),
        ("text2video", {"model_name": "kling-v9"}, 404, 1203, "kling-v9"),
        ("text2video", {"prompt": f"{PROMPT} [moderation]"}, 400, 1301, "content security"),
        ("image2video", {}, 400, 1201, "image"),
        ("image2video", {"image": "https://example.com/cat.png"}, 400, 1201, "URL"),
        ("image2video", {"image": "data:image/png;base64," + _image(400, 400)}, 400, 1201, "prefix"),
        ("image2video", {"image": _image(400, 400, "WEBP")}, 400, 1201, "PNG"),
        ("image2video", {"image": _image(200, 400)}, 400, 1201, "300px"),
        ("image2video", {"image": _image(1200, 300)}, 400, 1201, "2.5"),
    ],
)
def test_kling_refuses_each_invalid_field_in_its_shape(
    api: httpx.Client, endpoint: str, change: dict[str, Any], status: int, code: int, named: str
) -> None:
    body = {"model_name": TURBO, "prompt": PROMPT} | change
    body = {field: value for field, value in body.items() if value is not None}

    refused = api.post(f"/{endpoint}", json=body)

    assert refused.status_code == status
    error = refused.json()
    assert set(error) == {"code", "message", "request_id"}
    assert error["code"] == code
    assert named in error["message"]


def test_a_body_that_is_not_a_json_object_is_1200(api: httpx.Client) -> None:
    not_json = api.post("/text2video", content=b"{", headers={"Content-Type": "application/json"})
    a_list = api.post("/text2video", json=[PROMPT])

    assert [(r.status_code, r.json()["code"]) for r in (not_json, a_list)] == [(400, 1200), (400, 1200)]


def test_tasks_post_themselves_to_their_callback_url_as_their_status_changes(
    api: httpx.Client, webhook_receiver: WebhookReceiver
) -> None:
    body = {"model_name": TURBO, "prompt": PROMPT, "callback_url": webhook_receiver.url}
    made = created(api, "text2video", body)
    failed = created(api, "text2video", body | {"prompt": f"{PROMPT} [fail]"})

    deliveries = {task_id: webhook_receiver.for_video(task_id, count=2) for task_id in (made, failed)}

    tasks = {task_id: [json.loads(d.body) for d in found] for task_id, found in deliveries.items()}
    assert [task["task_status"] for task in tasks[made]] == ["processing", "succeed"]
    assert [task["task_status"] for task in tasks[failed]] == ["processing", "failed"]
    assert {task["task_id"] for task in tasks[made]} == {made}
    assert tasks[made][-1]["task_result"]["videos"][0]["url"].startswith("http")
    assert (tasks[failed][-1]["task_status_msg"], tasks[failed][-1]["task_result"]) == (
        "Video generation failed.",
        {},
    )
    # The callback carries the task as a read's `data` does.
    assert api.get(f"/text2video/{failed}").json()["data"] == tasks[failed][-1]


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, 1001),
        ("Bearer not-a-token", 1002),
        (f"Basic {token()}", 1002),
        (f"Bearer {token(alg='HS512')}", 1002),
        (f"Bearer {token(nbf=int(time.time()) + 600)}", 1003),
        (f"Bearer {token(exp=int(time.time()) - 1)}", 1004),
    ],
)
def test_a_token_missing_malformed_early_or_expired_is_klings_401(
    engine_url: str, authorization: str | None, code: int
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    refused = HTTP.post(f"{engine_url}/kling/v1/videos/text2video", json={"prompt": PROMPT}, headers=headers)

    assert (refused.status_code, refused.json()["code"]) == (401, code)


@pytest.fixture
def keyed(tmp_path: Path, render_cache: Path) -> Iterator[TestClient]:
    """An engine of its own, in this process, that takes one key only (as a route holds it)."""
    config = EngineConfig(
        data_dir=tmp_path, latency=0.3, api_key=f"{ACCESS_KEY}:{SECRET_KEY}", render_cache=render_cache
    )
    with TestClient(create_app(config), base_url="http://testserver/kling/v1/videos") as engine:
        yield engine


def test_a_keyed_engine_takes_only_tokens_its_secret_signed_for_its_access_key(keyed: TestClient) -> None:
    body = {"model_name": TURBO, "prompt": PROMPT}

    def sent(bearer: str) -> tuple[int, int]:
        answer = keyed.post("/text2video", json=body, headers={"Authorization": f"Bearer {bearer}"})
        return answer.status_code, answer.json()["code"]

    assert sent(token()) == (200, 0)
    assert sent(token(secret="sk-another-secret-0123456789")) == (401, 1002)
    assert sent(token(iss="ak-another")) == (401, 1002)


def test_the_adapter_creates_reads_downloads_and_fails_as_the_contract_says(engine_url: str) -> None:
    base = f"{engine_url}/kling"
    route = {"provider": "kling", "upstream_model": TURBO, "base_url": base}
    routes = {
        "turbo": route,
        "turbo-7s": route | {"seconds": ["7"]},
        "ghost": route | {"upstream_model": "kling-v9", "profile": TURBO},
    }
    red = Reference("red.png", png_bytes(1280, 720, (220, 20, 20)), "image/png")
    webp = Reference("red.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp")
    with routed(engine_url, routes) as upstream:
        made = upstream.create(UpstreamCreate("A heron", "turbo", "5", "1280x720", reference=red))
        failed = upstream.create(UpstreamCreate("A heron [fail]", "turbo", "5", "1920x1080"))
        with pytest.raises(InvalidVideoPrompt) as moderated:
            upstream.create(UpstreamCreate("A heron [moderation]", "turbo", "5", "1280x720"))
        with pytest.raises(InvalidVideoDuration) as refused:
            upstream.create(UpstreamCreate("A heron", "turbo-7s", "7", "1280x720"))
        with pytest.raises(VideoModelNotAvailable):
            upstream.create(UpstreamCreate("A heron", "ghost", "5", "1280x720"))
        with pytest.raises(InvalidRequest) as not_png:
            upstream.create(UpstreamCreate("A heron", "turbo", "5", "1280x720", reference=webp))

        # An image to video task, read at text to video's path first, then at its own.
        assert ended(upstream, "turbo", made).status == "completed"
        with upstream.open_content("turbo", made.id, "video") as content:
            facts = probe_mp4(b"".join(content.chunks()))
        failure = ended(upstream, "turbo", failed).error
        upstream.delete("turbo", made.id)  # Kling has no cancel: nothing is asked

    assert (facts.width, facts.height) == (1280, 720)
    assert moderated.value.upstream is not None
    assert moderated.value.upstream.code == "1301"
    assert refused.value.param == "seconds"
    assert not_png.value.param == "input_reference"
    assert failure is not None
    assert (failure.code, failure.message) == ("video_generation_failed", "Video generation failed.")
