"""The engine's Luma dialect driven by Luma's official SDK, lumaai, pointed at the engine with `base_url`
(the SDK puts `/generations/...` after it): a generation walked from queued through dreaming to
completed, called back at each, its video downloaded without the key; one started from a keyframe read
from its URL, and ones whose keyframe cannot be read; Luma's 400 `{"detail"}` refusals; `[fail]` and
`[moderation]` with their `failure_reason`; a delete that removes a generation without stopping it;
unknown ids and the key's check; then the service's adapter against the dialect."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from lumaai import BadRequestError, LumaAI, NotFoundError
from lumaai.types import Generation

from tests.integration.engine.test_provider_adapters import ended, routed
from tests.media import gray_frames, png_bytes, probe_mp4
from tests.stub_server import StubHandler, stub_server
from tests.support import HTTP
from tests.webhook_receiver import WebhookReceiver
from videos_core.errors import InvalidRequest, InvalidVideoDuration, InvalidVideoSize
from videos_core.ports import Reference, UpstreamCreate, UpstreamNotFoundError

PROMPT = "A paper boat drifting down a rain gutter"
ENDED = ("completed", "failed")
BLUE = png_bytes(540, 540, (20, 20, 220))


@pytest.fixture
def luma(engine_url: str) -> Iterator[LumaAI]:
    base_url = f"{engine_url}/luma/dream-machine/v1"
    with LumaAI(auth_token="luma-test", base_url=base_url, max_retries=0, timeout=30) as client:
        yield client


def walked(luma: LumaAI, generation_id: str) -> tuple[list[str], Generation]:
    """Each state the generation read in turn, and the generation once it ended (or after 30 s)."""
    states: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        generation = luma.generations.get(generation_id)
        if not states or states[-1] != generation.state:
            states.append(str(generation.state))
        if generation.state in ENDED:
            break
        time.sleep(0.05)
    return states, generation


class _Pictures(StubHandler):
    """Where a keyframe's picture is kept: any path is the blue square."""

    def do_GET(self) -> None:
        self.answer(200, BLUE, "image/png")


def test_a_generation_walks_to_completed_calls_back_and_downloads_without_the_key(
    luma: LumaAI, webhook_receiver: WebhookReceiver
) -> None:
    created = luma.generations.video.create(
        model="ray-2",
        prompt=PROMPT,
        aspect_ratio="9:16",
        resolution="540p",
        duration="5s",
        callback_url=webhook_receiver.url,
    )
    assert created.state == "queued"
    assert created.id is not None

    states, generation = walked(luma, created.id)

    assert states in (["queued", "dreaming", "completed"], ["dreaming", "completed"])
    request = generation.model_dump()["request"]
    assert (request["model"], request["resolution"], request["duration"]) == ("ray-2", "540p", "5s")
    assert generation.assets is not None
    assert generation.assets.video is not None
    facts = probe_mp4(HTTP.get(generation.assets.video, timeout=30).content)  # no key sent
    assert (facts.width, facts.height) == (540, 960)
    assert facts.duration == pytest.approx(5, abs=0.2)
    video = generation.assets.video
    assert HTTP.get(video[:-4] + ("0000" if not video.endswith("0000") else "1111")).status_code == 403
    deliveries = webhook_receiver.for_video(created.id, count=2)
    assert [json.loads(delivery.body)["state"] for delivery in deliveries] == ["dreaming", "completed"]
    assert json.loads(deliveries[-1].body)["assets"]["video"].startswith("http")


def test_a_generation_starts_from_its_keyframe_read_from_its_url(luma: LumaAI) -> None:
    def from_frame(url: str) -> str:
        frame0: Any = {"type": "image", "url": url}
        made = luma.generations.video.create(
            model="ray-flash-2",
            prompt="The blue square comes alive",
            aspect_ratio="1:1",
            resolution="540p",
            keyframes={"frame0": frame0},
        )
        assert made.id is not None
        return str(made.id)

    with stub_server(_Pictures) as pictures:
        read = from_frame(f"{pictures}/blue.png")
    elsewhere = from_frame("https://example.com/blue.png")
    inline = from_frame("data:image/png;base64," + base64.b64encode(BLUE).decode())

    _, generation = walked(luma, read)
    unread = [walked(luma, generation_id)[1] for generation_id in (elsewhere, inline)]

    assert generation.state == "completed"
    assert generation.assets is not None
    assert generation.assets.video is not None
    first = gray_frames(HTTP.get(generation.assets.video, timeout=30).content)[0]
    # The engine draws on the keyframe: most of the picture is the blue square's luma (about 43).
    assert first.shape == (540, 540)
    assert 30 < float(np.median(first)) < 60
    assert [(g.state, g.failure_reason) for g in unread] == [
        ("failed", "Failed to read user input frames")
    ] * 2


_BOTH_FRAMES = {
    "frame0": {"type": "image", "url": "https://example.com/first.png"},
    "frame1": {"type": "image", "url": "https://example.com/last.png"},
}


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"resolution": "8k"}, "resolution"),
        ({"duration": "7s"}, "duration"),
        ({"aspect_ratio": "2:1"}, "aspect_ratio"),
        ({"model": "ray-9"}, "model"),
        ({"prompt": "hi"}, "Prompt is too short, minimum length is 3 characters"),
        ({"prompt": "x" * 5001}, "Prompt is too long, maximum length is 5000 characters"),
        ({"prompt": None}, "Prompt is required"),
        ({"loop": True, "keyframes": _BOTH_FRAMES}, "Loop is not supported for keyframes"),
    ],
)
def test_an_invalid_request_is_lumas_400_with_its_detail(
    luma: LumaAI, change: dict[str, Any], detail: str
) -> None:
    fields = {name: value for name, value in ({"model": "ray-2", "prompt": PROMPT} | change).items() if value}

    with pytest.raises(BadRequestError) as refused:
        luma.generations.video.create(**fields)

    assert refused.value.status_code == 400
    assert isinstance(refused.value.body, dict)
    assert list(refused.value.body) == ["detail"]
    assert detail in refused.value.body["detail"]


def test_failed_and_moderated_generations_carry_lumas_failure_reason(luma: LumaAI) -> None:
    failed = luma.generations.video.create(model="ray-2", prompt=f"{PROMPT} [fail]", resolution="540p")
    moderated = luma.generations.video.create(
        model="ray-2", prompt=f"{PROMPT} [moderation]", resolution="540p"
    )
    assert failed.id is not None
    assert moderated.id is not None

    ended_ = [walked(luma, generation_id)[1] for generation_id in (failed.id, moderated.id)]

    assert [(g.state, g.failure_reason, g.assets) for g in ended_] == [
        ("failed", "Video generation failed.", None),
        ("failed", "Advanced prompt moderation failed", None),
    ]


def test_a_delete_removes_the_generation_without_stopping_it(luma: LumaAI, engine_url: str) -> None:
    prompt = f"A clock that never stops, on Luma {uuid.uuid4()} [stall]"
    created = luma.generations.video.create(model="ray-2", prompt=prompt, resolution="540p")
    assert created.id is not None

    luma.generations.delete(created.id)

    with pytest.raises(NotFoundError) as gone:
        luma.generations.get(created.id)
    assert gone.value.body == {"detail": "Generation not found"}
    listed = HTTP.get(f"{engine_url}/v1/videos?limit=100", headers={"Authorization": "Bearer k"}).json()
    [job] = [job for job in listed["data"] if job["prompt"] == prompt]
    assert job["status"] in ("queued", "in_progress")


def test_unknown_generations_are_404_and_a_missing_key_401(luma: LumaAI, engine_url: str) -> None:
    unknown = str(uuid.uuid4())
    with pytest.raises(NotFoundError):
        luma.generations.get(unknown)
    anonymous = HTTP.get(f"{engine_url}/luma/dream-machine/v1/generations/{unknown}")

    assert anonymous.status_code == 401
    assert anonymous.json() == {"detail": "Invalid API key is provided"}


def test_the_adapter_makes_calls_back_downloads_fails_and_deletes_as_the_contract_says(
    engine_url: str, webhook_receiver: WebhookReceiver
) -> None:
    route = {"provider": "luma", "upstream_model": "ray-2", "base_url": f"{engine_url}/luma"}
    routes = {
        "ray": route,
        # Routes that claim more than Luma takes, so that its own refusals show.
        "ray-7s": route | {"seconds": ["7"]},
        "ray-480p": route | {"sizes": ["640x480"]},
        "ray-images": route | {"image_reference": True},
    }
    blue = Reference("blue.png", BLUE, "image/png")
    # The first test's prompt and size: its render is the engine's already.
    with routed(engine_url, routes) as upstream:
        made = upstream.create(
            UpstreamCreate(PROMPT, "ray", "5", "540x960", callback_url=webhook_receiver.url)
        )
        moderated = upstream.create(UpstreamCreate("A heron [moderation]", "ray", "5", "540x960"))
        failed = upstream.create(UpstreamCreate("A heron [fail]", "ray", "5", "540x960"))
        with pytest.raises(InvalidVideoDuration) as too_long:
            upstream.create(UpstreamCreate("A heron", "ray-7s", "7", "540x960"))
        with pytest.raises(InvalidVideoSize) as too_small:
            upstream.create(UpstreamCreate("A heron", "ray-480p", "5", "640x480"))
        with pytest.raises(InvalidRequest) as with_image:
            upstream.create(UpstreamCreate("A heron", "ray-images", "5", "540x960", reference=blue))

        assert ended(upstream, "ray", made).status == "completed"
        with upstream.open_content("ray", made.id, "video") as content:
            facts = probe_mp4(b"".join(content.chunks()))
        outcomes = [ended(upstream, "ray", job).error for job in (moderated, failed)]
        upstream.delete("ray", made.id)
        with pytest.raises(UpstreamNotFoundError):
            upstream.retrieve("ray", made.id)

    assert (facts.width, facts.height) == (540, 960)
    assert (too_long.value.param, too_small.value.param, with_image.value.param) == (
        "seconds",
        "size",
        "input_reference",
    )
    assert too_long.value.upstream is not None
    assert "duration" in too_long.value.upstream.message
    assert [(error.code, error.message) if error else None for error in outcomes] == [
        ("moderation_blocked", "Advanced prompt moderation failed"),
        ("video_generation_failed", "Video generation failed."),
    ]
    states = [json.loads(d.body)["state"] for d in webhook_receiver.for_video(made.id, count=2)]
    assert states == ["dreaming", "completed"]
