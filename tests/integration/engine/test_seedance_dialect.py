"""The engine's Seedance dialect driven by ModelArk's official SDK, volcengine-ark-runtime, pointed at the
engine with `base_url` (the SDK puts `/contents/generations/tasks` after it): a task walked from queued
through running to succeeded and called back as it runs and ends, its video and last frame downloaded
without the key, the older text commands taken loosely, a first frame's picture, 400s in ModelArk's
error shape, `[fail]` and `[moderation]` listed and deleted, a queued task cancelled and a running one
refused, unknown ids and models, the key's check; then the service's adapter against the dialect."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

# The SDK ships no type information (no py.typed).
from volcenginesdkarkruntime import Ark  # type: ignore[import-untyped]
from volcenginesdkarkruntime._exceptions import (  # type: ignore[import-untyped]
    ArkAPIStatusError,
    ArkBadRequestError,
)

from tests.integration.engine.test_provider_adapters import ended, routed
from tests.media import png_bytes, probe_mp4
from tests.support import HTTP
from tests.webhook_receiver import WebhookReceiver
from videos_core.errors import InvalidVideoSize
from videos_core.ports import Reference, UpstreamCreate, UpstreamNotFoundError

PROMPT = "A paper lantern drifting over a night market"
FAST = "seedance-1-0-pro-fast-251015"
PRO_1_5 = "seedance-1-5-pro-251215"
ENDED = ("succeeded", "failed", "cancelled", "expired")


@pytest.fixture
def client(engine_url: str) -> Iterator[Ark]:
    sdk = Ark(base_url=f"{engine_url}/seedance/api/v3", api_key="ark-test", max_retries=0, timeout=30)
    yield sdk
    sdk.close()


def text(prompt: str) -> dict[str, Any]:
    return {"type": "text", "text": prompt}


def first_frame(image: bytes) -> dict[str, Any]:
    url = "data:image/png;base64," + base64.b64encode(image).decode()
    return {"type": "image_url", "image_url": {"url": url}, "role": "first_frame"}


def walked(client: Ark, task_id: str) -> list[Any]:
    """Each read of the task until it ended."""
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen.append(client.content_generation.tasks.get(task_id=task_id))
        if seen[-1].status in ENDED:
            break
        time.sleep(0.05)
    return seen


def test_a_task_runs_to_succeeded_calls_back_and_its_files_download_without_the_key(
    client: Ark, webhook_receiver: WebhookReceiver
) -> None:
    created = client.content_generation.tasks.create(
        model=FAST,
        content=[text(PROMPT)],
        resolution="720p",
        ratio="9:16",
        duration=2,
        return_last_frame=True,
        callback_url=webhook_receiver.url,
    )

    seen = walked(client, created.id)
    called = [json.loads(delivery.body) for delivery in webhook_receiver.for_video(created.id, count=2)]

    statuses = [task.status for n, task in enumerate(seen) if n == 0 or seen[n - 1].status != task.status]
    assert created.id.startswith("cgt-")
    assert statuses[-2:] == ["running", "succeeded"]
    task = seen[-1]
    assert (task.resolution, task.ratio, task.duration, task.framespersecond) == ("720p", "9:16", 2, 24)
    assert task.usage.completion_tokens == 704 * 1248 * 24 * 2 // 1024
    facts = probe_mp4(HTTP.get(task.content.video_url, timeout=30).content)  # no key sent
    assert (facts.width, facts.height) == (704, 1248)
    assert facts.duration == pytest.approx(2, abs=0.2)
    last_frame = HTTP.get(task.content.last_frame_url, timeout=30)
    assert Image.open(io.BytesIO(last_frame.content)).size == (704, 1248)
    forged = HTTP.get(task.content.video_url.replace("signature=", "signature=0"))
    assert forged.status_code == 403
    # Called back as it started running and as it ended, with the task as a GET reads it.
    assert [(body["id"], body["status"]) for body in called] == [
        (created.id, "running"),
        (created.id, "succeeded"),
    ]
    assert called[-1]["content"]["video_url"].startswith("http")


def test_the_prompts_text_commands_are_taken_loosely_and_the_fields_win(client: Ark) -> None:
    commanded = client.content_generation.tasks.create(
        model=PRO_1_5, content=[text(f"{PROMPT} --rs 480p --rt 1:1 --dur 6 --wm false --cf true")]
    )
    loose = client.content_generation.tasks.create(
        model=PRO_1_5, content=[text(f"{PROMPT} --rs 4k --rt 2:1 --dur 60")], generate_audio=False
    )
    overridden = client.content_generation.tasks.create(
        model=PRO_1_5, content=[text(f"{PROMPT} --rt 1:1 --dur 6")], ratio="21:9", duration=4
    )

    tasks = [client.content_generation.tasks.get(task_id=t.id) for t in (commanded, loose, overridden)]

    assert [(t.resolution, t.ratio, t.duration) for t in tasks] == [
        ("480p", "1:1", 6),
        ("720p", "16:9", 5),  # the defaults: 720p, adaptive (16:9 from text), 5 seconds
        ("720p", "21:9", 4),
    ]
    assert [t.generate_audio for t in tasks] == [True, False, True]


def test_a_first_frame_makes_the_picture_of_its_nearest_ratio(client: Ark) -> None:
    created = client.content_generation.tasks.create(
        model=FAST,
        content=[text("The blue square comes alive"), first_frame(png_bytes(400, 400, (20, 20, 220)))],
        resolution="480p",
        duration=2,
    )

    task = walked(client, created.id)[-1]

    assert (task.status, task.ratio) == ("succeeded", "1:1")  # adaptive, the default from an image
    facts = probe_mp4(HTTP.get(task.content.video_url, timeout=30).content)
    assert (facts.width, facts.height) == (640, 640)
    assert facts.duration == pytest.approx(2, abs=0.2)


@pytest.mark.parametrize(
    ("change", "code", "param"),
    [
        ({"duration": 13}, "InvalidParameter", "duration"),
        ({"duration": "5"}, "InvalidParameter", "duration"),
        ({"ratio": "2:1"}, "InvalidParameter", "ratio"),
        (
            {"model": "dreamina-seedance-2-0-fast-260128", "resolution": "1080p"},
            "InvalidParameter",
            "resolution",
        ),
        ({"generate_audio": "yes", "model": PRO_1_5}, "InvalidParameter", "generate_audio"),
        ({"content": []}, "MissingParameter", "content"),
        (
            {"content": [text(PROMPT), first_frame(png_bytes(100, 100))]},
            "InvalidParameter",
            "content.image_url.url",
        ),
        (
            {"content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]},
            "InvalidParameter",
            "content.image_url.url",
        ),
        ({"callback_url": "ftp://example.com/hook"}, "InvalidParameter", "callback_url"),
    ],
)
def test_an_invalid_request_is_modelarks_400(
    client: Ark, engine_url: str, change: dict[str, Any], code: str, param: str
) -> None:
    request = {"model": FAST, "content": [text(PROMPT)]} | change

    with pytest.raises(ArkBadRequestError) as refused:
        client.content_generation.tasks.create(**request)
    raw = HTTP.post(
        f"{engine_url}/seedance/api/v3/contents/generations/tasks",
        json=request,
        headers={"Authorization": "Bearer ark-test"},
    )

    assert (refused.value.code, refused.value.param, refused.value.type) == (code, param, "BadRequest")
    error = raw.json()["error"]
    assert sorted(error) == ["code", "message", "param", "type"]
    assert "Request id: 02" in error["message"]


def test_failed_and_moderated_tasks_carry_modelarks_error_are_listed_and_deleted(client: Ark) -> None:
    failed = client.content_generation.tasks.create(
        model=FAST, content=[text(f"{PROMPT} [fail]")], duration=2
    )
    moderated = client.content_generation.tasks.create(
        model=FAST, content=[text(f"{PROMPT} [moderation]")], duration=2
    )

    outcomes = [walked(client, task.id)[-1] for task in (failed, moderated)]
    listed = client.content_generation.tasks.list(task_ids=[failed.id, moderated.id], status="failed")
    client.content_generation.tasks.delete(failed.id)

    assert [task.status for task in outcomes] == ["failed", "failed"]
    assert [task.error.code for task in outcomes] == [
        "InternalServiceError",
        "OutputVideoSensitiveContentDetected",
    ]
    assert "Video generation failed" in outcomes[0].error.message
    assert getattr(outcomes[0], "content", None) is None
    assert (listed.total, [task.id for task in listed.items]) == (2, [moderated.id, failed.id])
    with pytest.raises(ArkAPIStatusError) as gone:
        client.content_generation.tasks.get(task_id=failed.id)
    assert gone.value.status_code == 404


def test_a_queued_task_is_cancelled_and_a_running_one_refused(
    client: Ark, webhook_receiver: WebhookReceiver
) -> None:
    # A flex task waits in the queue long enough to be cancelled there.
    queued = client.content_generation.tasks.create(
        model=FAST,
        content=[text(f"{PROMPT} [stall]")],
        service_tier="flex",
        callback_url=webhook_receiver.url,
    )
    running = client.content_generation.tasks.create(model=FAST, content=[text(f"{PROMPT} [stall]")])

    client.content_generation.tasks.delete(queued.id)
    while client.content_generation.tasks.get(task_id=running.id).status == "queued":
        time.sleep(0.05)
    with pytest.raises(ArkBadRequestError) as refused:
        client.content_generation.tasks.delete(running.id)

    assert client.content_generation.tasks.get(task_id=queued.id).status == "cancelled"
    [delivery] = webhook_receiver.for_video(queued.id)
    assert json.loads(delivery.body)["status"] == "cancelled"
    assert (refused.value.code, refused.value.param) == ("InvalidParameter", "id")
    assert client.content_generation.tasks.get(task_id=running.id).status == "running"


def test_unknown_tasks_and_models_are_404_and_a_missing_key_401(client: Ark, engine_url: str) -> None:
    with pytest.raises(ArkAPIStatusError) as unknown:
        client.content_generation.tasks.get(task_id="cgt-20250101000000-abcde")
    with pytest.raises(ArkAPIStatusError) as no_model:
        client.content_generation.tasks.create(model="seedance-9-0-pro-990101", content=[text(PROMPT)])
    anonymous = HTTP.get(f"{engine_url}/seedance/api/v3/contents/generations/tasks/cgt-20250101000000-abcde")

    assert (unknown.value.status_code, unknown.value.code) == (404, "NotFound")
    assert (no_model.value.status_code, no_model.value.code) == (404, "InvalidEndpointOrModel.NotFound")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "AuthenticationError"
    assert anonymous.json()["error"]["type"] == "Unauthorized"


def test_the_adapter_makes_downloads_fails_and_deletes_as_the_contract_says(engine_url: str) -> None:
    base = f"{engine_url}/seedance/api/v3"
    routes = {
        "fast": {"provider": "seedance", "upstream_model": FAST, "base_url": base, "seconds": ["2"]},
        "odd": {"provider": "seedance", "upstream_model": FAST, "base_url": base, "sizes": ["1280x720"]},
    }
    red = Reference("red.png", png_bytes(1280, 720, (220, 20, 20)), "image/png")
    with routed(engine_url, routes) as upstream:
        made = upstream.create(UpstreamCreate("A heron", "fast", "2", "1248x704", reference=red))
        moderated = upstream.create(UpstreamCreate("A heron [moderation]", "fast", "2", "1248x704"))
        failed = upstream.create(UpstreamCreate("A heron [fail]", "fast", "2", "1248x704"))
        stalled = upstream.create(UpstreamCreate("A heron [stall]", "fast", "2", "1248x704"))
        with pytest.raises(InvalidVideoSize):
            upstream.create(UpstreamCreate("A heron", "odd", "2", "1280x720"))

        assert ended(upstream, "fast", made).status == "completed"
        with upstream.open_content("fast", made.id, "video") as content:
            facts = probe_mp4(b"".join(content.chunks()))
        outcomes = [ended(upstream, "fast", job).error for job in (moderated, failed)]
        while upstream.retrieve("fast", stalled.id).status == "queued":
            time.sleep(0.05)
        upstream.delete("fast", stalled.id)  # not ended: left to run out
        still = upstream.retrieve("fast", stalled.id)
        upstream.delete("fast", made.id)
        with pytest.raises(UpstreamNotFoundError):
            upstream.retrieve("fast", made.id)

    assert (facts.width, facts.height) == (1248, 704)
    assert [error.code if error else None for error in outcomes] == [
        "moderation_blocked",
        "video_generation_failed",
    ]
    assert outcomes[1] is not None
    assert "Video generation failed" in outcomes[1].message
    assert still.status == "in_progress"
