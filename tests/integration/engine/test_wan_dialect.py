"""The engine's Wan dialect driven by Model Studio's official SDK, dashscope, pointed at the engine with
`dashscope.base_http_api_url` (the SDK puts `/services/…` and `/tasks/…` after it): a task walked from
PENDING through RUNNING to SUCCEEDED, its video downloaded without the key, an image started from in
its own shape, the gateway's refusals and a task's parameter failures in DashScope's
`{request_id, code, message}`, `[fail]` and `[moderation]`, a PENDING task cancelled and a RUNNING one
refused, an unknown or expired task's UNKNOWN, the key's checks; then the service's adapter against the
dialect."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dashscope
import pytest
import uvicorn
from dashscope import VideoSynthesis

from local.engine.app import create_app
from local.engine.dialects import wan
from local.engine.service import EngineConfig
from tests.integration.engine.test_provider_adapters import ended, routed
from tests.media import png_bytes, probe_mp4
from tests.support import HTTP, free_port
from videos_core.errors import VideoModelNotAvailable
from videos_core.ports import Reference, UpstreamCreate

if TYPE_CHECKING:
    # The SDK's stubs name it here; at run time it lives in dashscope.api_entities.
    from dashscope import VideoSynthesisResponse

PROMPT = "A paper boat drifting down a rain gutter"
KEY = "sk-test"
ENDED = ("SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN")


def point_sdk_at(monkeypatch: pytest.MonkeyPatch, engine: str, key: str = KEY) -> None:
    monkeypatch.setattr(dashscope, "base_http_api_url", f"{engine}/wan/api/v1")
    monkeypatch.setattr(dashscope, "api_key", key)


@pytest.fixture(scope="module")
def sdk(engine_url: str) -> Iterator[str]:
    """The SDK pointed at the shared engine: its URL."""
    with pytest.MonkeyPatch.context() as patch:
        point_sdk_at(patch, engine_url)
        yield engine_url


@pytest.fixture(scope="module")
def started(sdk: str) -> dict[str, str]:
    """The tasks the tests below look at once they end, by what they show: all created when the module
    starts, so that their waits overlap."""
    image = data_uri(png_bytes(400, 400, (20, 20, 220)))
    created = {
        "image": VideoSynthesis.async_call(
            model="wan2.6-i2v",
            prompt="The blue square comes alive",
            img_url=image,
            resolution="720P",
            duration=2,
        ),
        "fail": VideoSynthesis.async_call(model="wan2.6-t2v", prompt=f"{PROMPT} [fail]", duration=2),
        "moderation": VideoSynthesis.async_call(
            model="wan2.6-t2v", prompt=f"{PROMPT} [moderation]", duration=2
        ),
    }
    return {kind: task.output.task_id for kind, task in created.items()}


@pytest.fixture
def queueing(tmp_path: Path, render_cache: Path) -> Iterator[str]:
    """An engine of its own, in this process, whose tasks stay PENDING for seconds (a minute's latency),
    which takes one key only: DashScope cancels a task only while it is PENDING. Its tasks here are
    `[fail]` ones: they render nothing."""
    config = EngineConfig(data_dir=tmp_path, latency=60, api_key=KEY, render_cache=render_cache)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join()


def data_uri(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode()


def walked(task_id: str) -> list[VideoSynthesisResponse]:
    """Each state the task read, fetched until it ended."""
    seen, deadline = [], time.monotonic() + 30
    while time.monotonic() < deadline:
        state = VideoSynthesis.fetch(task_id)
        assert state.status_code == 200, state
        seen.append(state)
        if state.output.task_status in ENDED:
            break
        time.sleep(0.05)
    return seen


@pytest.mark.usefixtures("started")  # the module's other tasks run meanwhile
def test_a_task_runs_from_pending_to_succeeded_and_its_video_downloads_without_the_key() -> None:
    created = VideoSynthesis.async_call(model="wan2.6-t2v", prompt=PROMPT, size="720*1280", duration=2)
    assert (created.status_code, created.output.task_status) == (200, "PENDING")

    seen = walked(created.output.task_id)

    # The task is PENDING for a moment only: a busy machine's first read may find it RUNNING.
    statuses = [state.output.task_status for state in seen]
    assert statuses[0] in ("PENDING", "RUNNING")
    assert [s for n, s in enumerate(statuses) if n == 0 or statuses[n - 1] != s][-2:] == [
        "RUNNING",
        "SUCCEEDED",
    ]
    done = seen[-1]
    assert done.output.orig_prompt == PROMPT
    assert {"submit_time", "scheduled_time", "end_time"} <= set(done.output)
    assert (done.usage["duration"], done.usage["size"], done.usage["SR"]) == (2, "720*1280", 720)
    facts = probe_mp4(HTTP.get(done.output.video_url, timeout=30).content)  # no key sent
    assert (facts.width, facts.height) == (720, 1280)
    assert facts.duration == pytest.approx(2, abs=0.2)
    url = done.output.video_url
    assert HTTP.get(url[:-4] + ("0000" if not url.endswith("0000") else "1111")).status_code == 403


def test_an_image_starts_the_video_in_its_shape_at_the_resolution_tier(started: dict[str, str]) -> None:
    done = VideoSynthesis.wait(started["image"])

    assert done.output.task_status == "SUCCEEDED"
    facts = probe_mp4(HTTP.get(done.output.video_url, timeout=30).content)
    assert (facts.width, facts.height) == (960, 960)  # 720P's 1:1 picture


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b"{", {}, 400, "BadRequest.IllegalInput"),
        (b'{"input": {"prompt": "a kite"}}', {}, 400, "BadRequest.EmptyModel"),
        (b'{"model": "wan9-t2v", "input": {"prompt": "a kite"}}', {}, 400, "InvalidParameter"),
        (b'{"model": "wan2.5-t2v-preview"}', {}, 400, "BadRequest.EmptyInput"),
        (
            b'{"model": "wan2.5-t2v-preview", "input": {"prompt": "a kite"}}',
            {"X-DashScope-Async": ""},
            403,
            "AccessDenied",
        ),
    ],
)
def test_the_gateway_refuses_in_dashscopes_shape(
    engine_url: str, body: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    sent = {"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "enable"} | headers
    url = f"{engine_url}/wan/api/v1/services/aigc/video-generation/video-synthesis"

    refused = HTTP.post(url, content=body, headers=sent)

    assert refused.status_code == status
    assert set(refused.json()) == {"request_id", "code", "message"}
    assert refused.json()["code"] == code


def test_the_sdk_reads_an_unknown_models_refusal(sdk: str) -> None:
    refused = VideoSynthesis.async_call(model="wan9-t2v", prompt=PROMPT)

    assert (refused.status_code, refused.code, refused.message) == (
        400,
        "InvalidParameter",
        "Model not exist.",
    )
    assert refused.request_id


@pytest.mark.parametrize(
    ("model", "arguments", "code", "named"),
    [
        ("wan2.2-t2v-plus", {"prompt": PROMPT, "size": "1280*720"}, "InvalidParameter", "size"),
        ("wan2.5-t2v-preview", {"prompt": PROMPT, "duration": 3}, "InvalidParameter", "duration"),
        ("wan2.5-t2v-preview", {"prompt": ""}, "InvalidParameter", "input.prompt"),
        ("wan2.6-i2v", {"prompt": PROMPT, "resolution": "480P"}, "InvalidParameter", "input.img_url"),
        (
            "wan2.6-i2v",
            {"img_url": "data:image/png;base64,AAAA", "resolution": "720P"},
            "InvalidImage.FileFormat",
            "image",
        ),
        ("wan2.6-i2v", {"img_url": "https://example.com/cat.png"}, "InvalidParameter", "URL"),
    ],
)
def test_a_parameter_the_model_does_not_take_fails_its_task_with_the_reason(
    sdk: str, model: str, arguments: dict[str, Any], code: str, named: str
) -> None:
    created = VideoSynthesis.async_call(model=model, **arguments)
    assert (created.status_code, created.output.task_status) == (200, "PENDING")

    failed = VideoSynthesis.fetch(created)

    assert failed.output.task_status == "FAILED"
    assert failed.output.code == code
    assert named in failed.output.message
    assert failed.usage is None


def test_failed_and_moderated_tasks_carry_dashscopes_code(started: dict[str, str]) -> None:
    outcomes = [walked(started[kind])[-1].output for kind in ("fail", "moderation")]

    assert [(o.task_status, o.code) for o in outcomes] == [
        ("FAILED", "InternalError.Algo"),
        ("FAILED", "DataInspectionFailed"),
    ]
    assert outcomes[0].message == "Video generation failed."
    assert "inappropriate content" in outcomes[1].message


def test_a_pending_task_is_cancelled(queueing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    point_sdk_at(monkeypatch, queueing)
    created = VideoSynthesis.async_call(model="wan2.5-t2v-preview", prompt=f"{PROMPT} [fail]")

    cancelled = VideoSynthesis.cancel(created)

    assert cancelled.status_code == 200
    assert cancelled.request_id
    assert VideoSynthesis.fetch(created).output.task_status == "CANCELED"
    assert VideoSynthesis.cancel(created).code == "UnsupportedOperation"


def test_a_running_task_refuses_its_cancel(sdk: str) -> None:
    # A `[stall]` task is scheduled at once and never ends.
    created = VideoSynthesis.async_call(model="wan2.6-t2v", prompt=f"{PROMPT} [stall]", duration=2)

    refused = VideoSynthesis.cancel(created)

    assert (refused.status_code, refused.code) == (400, "UnsupportedOperation")
    assert "PENDING" in refused.message
    assert VideoSynthesis.fetch(created).output.task_status == "RUNNING"


def test_an_unknown_task_and_one_past_its_24_hours_read_unknown(
    queueing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_sdk_at(monkeypatch, queueing)
    created = VideoSynthesis.async_call(model="wan2.5-t2v-preview", prompt=f"{PROMPT} [fail]")
    unknown = VideoSynthesis.fetch("00000000-0000-0000-0000-000000000000")

    monkeypatch.setattr(wan, "TASK_LIFETIME_SECONDS", 0)

    assert (unknown.status_code, unknown.output.task_status) == (200, "UNKNOWN")
    assert VideoSynthesis.fetch(created).output.task_status == "UNKNOWN"
    assert VideoSynthesis.cancel(created).status_code == 404


def test_no_key_and_another_key_are_invalid_api_key(queueing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    point_sdk_at(monkeypatch, queueing, "sk-wrong")
    anonymous = HTTP.get(f"{queueing}/wan/api/v1/tasks/00000000-0000-0000-0000-000000000000")

    wrong = VideoSynthesis.async_call(model="wan2.5-t2v-preview", prompt=PROMPT)

    assert (wrong.status_code, wrong.code, wrong.message) == (
        401,
        "InvalidApiKey",
        "Invalid API-key provided.",
    )
    assert anonymous.status_code == 401
    assert (anonymous.json()["code"], anonymous.json()["message"]) == (
        "InvalidApiKey",
        "No API-key provided.",
    )


def test_the_adapter_makes_downloads_cancels_and_fails_as_the_contract_says(
    engine_url: str, queueing: str
) -> None:
    base = f"{engine_url}/wan"
    routes = {
        "wan": {"provider": "wan", "upstream_model": "wan2.6-t2v", "base_url": base},
        "wan-3s": {
            "provider": "wan",
            "upstream_model": "wan2.5-t2v-preview",
            "base_url": base,
            "seconds": ["3"],
        },
        "wan-9": {"provider": "wan", "upstream_model": "wan9-t2v", "profile": "wan2.6-t2v", "base_url": base},
        "queued": {"provider": "wan", "upstream_model": "wan2.5-t2v-preview", "base_url": f"{queueing}/wan"},
    }
    red = Reference("red.png", png_bytes(1280, 720, (220, 20, 20)), "image/png")
    with routed(engine_url, routes) as upstream:
        made = upstream.create(UpstreamCreate(PROMPT, "wan", "2", "720x1280"))  # the render of the first test
        from_image = upstream.create(UpstreamCreate("A heron", "wan", "2", "1280x720", reference=red))
        moderated = upstream.create(UpstreamCreate("A heron [moderation]", "wan", "2", "1280x720"))
        failed = upstream.create(UpstreamCreate("A heron [fail]", "wan", "2", "1280x720"))
        refused = upstream.create(UpstreamCreate("A heron", "wan-3s", "3", "1280x720"))
        running = upstream.create(UpstreamCreate("A heron [stall]", "wan", "2", "1280x720"))
        with pytest.raises(VideoModelNotAvailable):
            upstream.create(UpstreamCreate("A heron", "wan-9", "2", "1280x720"))

        assert [ended(upstream, "wan", job).status for job in (made, from_image)] == ["completed"] * 2
        with upstream.open_content("wan", made.id, "video") as content:
            made_facts = probe_mp4(b"".join(content.chunks()))
        with upstream.open_content("wan", from_image.id, "video") as content:
            image_facts = probe_mp4(b"".join(content.chunks()))
        outcomes = [
            ended(upstream, model, job).error
            for model, job in (("wan", moderated), ("wan", failed), ("wan-3s", refused))
        ]
        upstream.delete("wan", running.id)  # RUNNING: refused, it runs out
        still = upstream.retrieve("wan", running.id)
        queued = upstream.create(UpstreamCreate("A heron [fail]", "queued", "5", "1280x720"))
        upstream.delete("queued", queued.id)
        cancelled = upstream.retrieve("queued", queued.id)

    assert (made_facts.width, made_facts.height) == (720, 1280)
    assert (image_facts.width, image_facts.height) == (1280, 720)
    assert [error.code if error else None for error in outcomes] == [
        "moderation_blocked",
        "video_generation_failed",
        "video_generation_failed",
    ]
    messages = [error.message if error else "" for error in outcomes]
    assert "(DataInspectionFailed)" in messages[0]
    assert "Video generation failed" in messages[1]
    assert "duration" in messages[2]
    assert still.status == "in_progress"
    assert cancelled.status == "failed"
    assert cancelled.error is not None
    assert "canceled" in cancelled.error.message
