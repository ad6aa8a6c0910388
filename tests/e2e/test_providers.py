"""Each provider's dialect through `serve --routes`: a Veo model on the Gemini API, a model on fal's
queue and one on OpenRouter, beside OpenAI's. Each video is created with the openai SDK, polled (or
announced) to completion, copied into S3 with all three variants (the thumbnail and spritesheet made
from the video, which these providers alone give) and downloaded with the SDK."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import openai
import pytest
from openai import OpenAI
from openai.types import Video
from PIL import Image
from playwright.sync_api import Browser

from local.serve.aws_endpoint import client as aws_client
from tests.conftest import DEV_KEY
from tests.e2e.browser import open_session
from tests.media import gray_frames, jpeg_size, png_bytes, probe_mp4
from tests.support import HTTP, ROOT, Served, serving
from videos_core.callbacks import token_for

POLL_MS = 200
LANTERNS = "Lanterns rising over a dark lake"
ROUTES = {
    "sora-2": {},
    "veo-3.1": {"provider": "gemini", "upstream_model": "veo-3.1-generate-preview", "api_key": "sk-gemini"},
    "veo-3-fal": {"provider": "fal", "upstream_model": "fal-ai/veo3", "api_key": "sk-fal"},
    "wan-2.6": {"provider": "openrouter", "upstream_model": "alibaba/wan-2.6", "api_key": "sk-openrouter"},
}


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory, render_cache: Path) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("routed")
    routes = data_dir / "routes.json"
    routes.write_text(json.dumps(ROUTES))
    # The first status check waits 20 s: a job on fal or OpenRouter (2 s in the engine) is ended by the
    # provider's callback first, however loaded the machine (Veo's jobs, never called back, wait).
    args = ("--routes", str(routes), "--no-webhooks", "--parameter", "FirstCheckSeconds=20")
    with serving(DEV_KEY, data_dir, *args, render_cache=render_cache) as served:
        yield served


@pytest.fixture
def sdk(routed: Served) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{routed.api}/v1", api_key=DEV_KEY, max_retries=0, timeout=60) as client:
        yield client


RED = ("red.png", png_bytes(1280, 720, (220, 20, 20)), "image/png")
# The jobs the tests below look at, by what they show and their model: all created at once when the
# module starts, so that their waits (a Veo job waits 20 s for its first status check) overlap.
JOBS: dict[tuple[str, str], dict[str, Any]] = {
    **{
        ("variants", m): {"prompt": LANTERNS, "seconds": s}
        for m, s in (("veo-3.1", "4"), ("veo-3-fal", "4"), ("wan-2.6", "5"))
    },
    # The variants' videos again: their render is shared, so these end in the engine's 2 s.
    **{
        ("callback", m): {"prompt": LANTERNS, "seconds": s} for m, s in (("veo-3-fal", "4"), ("wan-2.6", "5"))
    },
    ("failure", "veo-3.1"): {"prompt": "A storm over the harbour [moderation]", "seconds": "4"},
    ("failure", "veo-3-fal"): {"prompt": "A storm over the harbour [fail]", "seconds": "4"},
    ("failure", "wan-2.6"): {"prompt": "A storm over the harbour [fail]", "seconds": "5"},
    **{
        ("reference", m): {"prompt": "The red square comes alive", "seconds": s, "input_reference": RED}
        for m, s in (("veo-3.1", "4"), ("wan-2.6", "5"))
    },
}


@pytest.fixture(scope="module")
def started(routed: Served) -> dict[tuple[str, str], str]:
    """Each of JOBS created with the openai SDK: its video id."""
    with OpenAI(base_url=f"{routed.api}/v1", api_key=DEV_KEY, max_retries=0, timeout=60) as client:
        return {
            (kind, model): client.videos.create(model=model, size="1280x720", **job).id
            for (kind, model), job in JOBS.items()
        }


def made(sdk: OpenAI, started: dict[tuple[str, str], str], kind: str, model: str) -> Video:
    """One of the module's jobs, polled to its end with the openai SDK."""
    return sdk.videos.poll(started[(kind, model)], poll_interval_ms=POLL_MS)


def engine_calls(routed: Served) -> dict[str, int]:
    routes: dict[str, int] = HTTP.get(f"{routed.engine}/_stats").json()["routes"]
    return routes


def test_the_models_endpoint_lists_each_route_with_its_capabilities_and_price(routed: Served) -> None:
    listed = HTTP.get(f"{routed.api}/v1/videos/models", headers={"Authorization": f"Bearer {DEV_KEY}"}).json()

    by_id = {model["id"]: model for model in listed["data"]}
    assert sorted(by_id) == ["sora-2", "veo-3-fal", "veo-3.1", "wan-2.6"]
    assert {m: by_id[m]["provider"] for m in by_id} == {
        "sora-2": "openai",
        "veo-3.1": "gemini",
        "veo-3-fal": "fal",
        "wan-2.6": "openrouter",
    }
    assert by_id["veo-3.1"]["seconds"] == ["8", "4", "6"]
    assert by_id["veo-3.1"]["default_seconds"] == "8"
    assert by_id["wan-2.6"]["seconds"] == ["5", "10"]
    assert by_id["veo-3.1"]["price_per_second"] == "0.40"
    assert by_id["sora-2"]["remix"] is True
    assert by_id["veo-3.1"]["remix"] is False
    assert HTTP.get(f"{routed.api}/v1/videos/models").status_code == 401


@pytest.mark.parametrize(
    ("model", "seconds"),
    [("veo-3.1", "4"), ("veo-3-fal", "4"), ("wan-2.6", "5")],
)
def test_a_providers_video_is_stored_with_every_variant(
    sdk: OpenAI, started: dict[tuple[str, str], str], model: str, seconds: str
) -> None:
    video = made(sdk, started, "variants", model)

    assert video.status == "completed", video.error
    assert (video.model, video.seconds, video.size) == (model, seconds, "1280x720")
    clip = sdk.videos.download_content(video.id).content
    facts = probe_mp4(clip)
    assert (facts.width, facts.height) == (1280, 720)
    assert facts.duration == pytest.approx(int(seconds), abs=0.2)
    thumbnail = sdk.videos.download_content(video.id, variant="thumbnail").content
    assert jpeg_size(thumbnail) == (1280, 720)
    assert jpeg_size(sdk.videos.download_content(video.id, variant="spritesheet").content) == (1280, 720)
    # The thumbnail is the video's middle frame, made from the stored video.
    frames = gray_frames(clip)
    middle = frames[len(frames) // 2].astype(float)
    picture = np.asarray(Image.open(io.BytesIO(thumbnail)).convert("L"), dtype=float)
    assert abs(picture - middle).mean() < 12


def callbacks_applied(routed: Served) -> dict[str, dict[str, object]]:
    """The callbacks the webhook function applied, by video id, from its log."""
    applied = {}
    for line in (routed.data_dir / "logs" / "WebhookFunction.log").read_text().splitlines():
        if line.startswith("{") and '"webhook"' in line:
            entry = json.loads(line)
            if str(entry.get("type", "")).endswith(".callback") and entry.get("video_id"):
                applied[entry["video_id"]] = entry
    return applied


@pytest.mark.parametrize("model", ["veo-3-fal", "wan-2.6"])
def test_a_providers_callback_ends_the_job_before_any_status_check(
    sdk: OpenAI, routed: Served, started: dict[tuple[str, str], str], model: str
) -> None:
    video = made(sdk, started, "callback", model)

    assert video.status == "completed"
    # The function's log line is written once its invocation returns, just after the job completed.
    deadline = time.monotonic() + 10
    while video.id not in callbacks_applied(routed) and time.monotonic() < deadline:
        time.sleep(0.1)
    entry = callbacks_applied(routed)[video.id]
    assert entry["type"] == f"{ROUTES[model]['provider']}.callback"
    assert entry["finalised"] is True


def test_a_callback_with_a_forged_token_is_refused(routed: Served) -> None:
    url = f"{routed.api}/webhooks/fal/vid_01JZ0000000000000000000000.notthetoken"
    refused = HTTP.post(url, json={"request_id": "x", "status": "OK"})

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"


def test_a_length_the_model_lacks_is_refused_before_any_upstream_call(sdk: OpenAI, routed: Served) -> None:
    before = engine_calls(routed)

    with pytest.raises(openai.BadRequestError) as refused:
        sdk.videos.create(prompt="A kite", model="veo-3.1", seconds="12")

    error = refused.value.body
    assert isinstance(error, dict)
    assert error["code"] == "invalid_video_duration"
    assert error["param"] == "seconds"
    assert "'8', '4' or '6'" in error["message"]
    with pytest.raises(openai.BadRequestError) as wrong_size:
        sdk.videos.create(prompt="A kite", model="wan-2.6", seconds="5", size="1024x1792")  # type: ignore[arg-type]
    assert "size" in str(wrong_size.value)
    assert engine_calls(routed) == before


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ("veo-3.1", "Responsible AI"),
        ("veo-3-fal", "Video generation failed"),
        ("wan-2.6", "Video generation failed"),
    ],
)
def test_a_failed_generation_carries_the_providers_reason(
    sdk: OpenAI, started: dict[tuple[str, str], str], model: str, reason: str
) -> None:
    video = made(sdk, started, "failure", model)

    assert video.status == "failed"
    assert video.error is not None
    assert reason in video.error.message


def test_deleting_a_running_fal_job_cancels_it_upstream(sdk: OpenAI, routed: Served) -> None:
    prompt = "A clock that never stops [stall]"
    video = sdk.videos.create(prompt=prompt, model="veo-3-fal", seconds="4", size="1280x720")
    cancels = "PUT /fal/{owner}/{alias}/requests/{request_id}/cancel"
    before = engine_calls(routed).get(cancels, 0)

    deleted = sdk.videos.delete(video.id)

    assert deleted.deleted is True
    assert engine_calls(routed).get(cancels, 0) == before + 1
    upstream_jobs = HTTP.get(
        f"{routed.engine}/v1/videos?limit=100", headers={"Authorization": "Bearer k"}
    ).json()
    (job,) = [job for job in upstream_jobs["data"] if job["prompt"] == prompt]
    assert job["status"] == "failed"
    assert job["error"]["code"] == "cancelled"


def test_the_command_line_lists_the_models(routed: Served) -> None:
    env = os.environ | {"VIDEOS_API_BASE_URL": routed.api, "VIDEOS_API_KEY": DEV_KEY}
    listed = subprocess.run(
        [sys.executable, "-m", "local", "models"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert listed.returncode == 0, listed.stderr
    rows = {line.split("\t")[0]: line.split("\t") for line in listed.stdout.splitlines()}
    assert rows["veo-3-fal"][1:3] == ["fal", "8,4,6"]
    assert rows["wan-2.6"][1] == "openrouter"


def test_the_playground_offers_each_models_own_lengths_and_sizes(browser: Browser, routed: Served) -> None:
    for session in open_session(browser, f"{routed.api}/", "models"):
        page = session.page
        page.wait_for_selector("body[data-ready]")
        page.select_option("#model", "wan-2.6")
        page.wait_for_function("() => document.getElementById('seconds').options[0].value === '5'")

        seconds = page.eval_on_selector_all("#seconds option", "os => os.map(o => o.value)")
        sizes = page.eval_on_selector_all("#size option", "os => os.map(o => o.value)")
        assert seconds == ["5", "10"]
        assert sizes == ["1280x720", "720x1280", "1920x1080", "1080x1920"]
        page.select_option("#model", "sora-2")
        assert page.eval_on_selector_all("#seconds option", "os => os.map(o => o.value)") == ["4", "8", "12"]


@pytest.mark.parametrize("model", ["veo-3.1", "wan-2.6"])
def test_a_reference_image_reaches_the_providers_that_take_one(
    sdk: OpenAI, started: dict[tuple[str, str], str], model: str
) -> None:
    video = made(sdk, started, "reference", model)

    assert video.status == "completed", video.error
    first = gray_frames(sdk.videos.download_content(video.id).content)[0]
    # The engine draws on the reference: most of the picture is the red image's luma (about 84).
    assert 70 < float(np.median(first)) < 100


def test_a_model_without_reference_images_refuses_one(sdk: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.videos.create(
            prompt="A kite",
            model="veo-3-fal",
            seconds="4",
            size="1280x720",
            input_reference=("square.png", png_bytes(), "image/png"),
        )
    error = refused.value.body
    assert isinstance(error, dict)
    assert (error["code"], error["param"]) == ("invalid_request", "input_reference")
    assert "takes no reference image" in error["message"]


def test_a_fal_callback_without_fals_signature_is_refused(sdk: OpenAI, routed: Served) -> None:
    """Even with the job's own token: fal signs its calls, so one it did not sign is not from fal."""
    video = sdk.videos.create(prompt="An hourglass [stall]", model="veo-3-fal", seconds="4", size="1280x720")
    secret = aws_client("ssm", routed.aws).get_parameter(
        Name="/videos-api/webhook-secret", WithDecryption=True
    )
    record = aws_client("dynamodb", routed.aws).get_item(
        TableName="videos-api-VideosTable", Key={"owner": {"S": "dev"}, "video_id": {"S": video.id}}
    )["Item"]
    url = f"{routed.api}/webhooks/fal/{token_for(secret['Parameter']['Value'], video.id)}"

    unsigned = HTTP.post(url, json={"request_id": record["upstream_id"]["S"], "status": "OK", "payload": {}})

    assert unsigned.status_code == 401
    assert "signature" in unsigned.json()["message"]
    sdk.videos.delete(video.id)
