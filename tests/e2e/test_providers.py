"""The providers' conformance suite: every registered provider (`videos_core.providers`), through the
built-in engine's dialect of it, behind `serve --routes`. Each is routed as a model of its own; its
videos are created with the openai SDK, polled (or called back) to completion, copied into S3 with all
three variants and downloaded with the SDK; a failure carries the provider's reason; what the model
lacks is refused before any call; a delete cancels where the provider offers it; a callback ends the
job where the provider makes one, and one it did not sign is refused where it signs them.

A provider added to the registry is in this suite without a line of it changing: its dialect names
the model the routes ask for (`Dialect.example_model`)."""

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

from local.engine.dialects import dialects
from local.serve.aws_endpoint import client as aws_client
from tests.conftest import DEV_KEY
from tests.e2e.browser import open_session
from tests.media import gray_frames, jpeg_size, png_bytes, probe_mp4
from tests.support import HTTP, ROOT, Served, serving
from videos_core.callbacks import token_for
from videos_core.capabilities import Capabilities
from videos_core.providers import registry
from videos_core.providers.plugin import Provider

POLL_MS = 200
ROUTES_MAX_AGE_SECONDS = 15
LANTERNS = "Lanterns rising over a dark lake"
PROVIDERS = sorted(registry())


def model_of(provider: str) -> str:
    """The model name clients send for the provider's example route."""
    return f"{provider}-example"


def profile_of(provider: str) -> Capabilities:
    plugin = registry()[provider]
    family = plugin.family_of(dialects()[provider].example_model)
    assert family is not None, f"{provider}: its dialect's example model has no profile"
    return plugin.profiles[family]


def shortest(provider: str) -> str:
    return min(profile_of(provider).seconds, key=int)


def size_of(provider: str) -> str:
    return profile_of(provider).sizes[0]


def providers_where(has: str) -> list[str]:
    """The providers whose plug-in says `has` (a truthy attribute), or whose profile does."""
    return [
        name
        for name, plugin in registry().items()
        if getattr(plugin, has, None) or getattr(profile_of(name), has, None)
    ]


ROUTES = {
    model_of(name): {
        "provider": name,
        "upstream_model": dialects()[name].example_model,
        "api_key": f"sk-{name}",
    }
    for name in PROVIDERS
}


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory, render_cache: Path) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("routed")
    routes = data_dir / "routes.json"
    routes.write_text(json.dumps(ROUTES))
    # The first status check waits 20 s: a job on a provider that calls back (2 s in the engine) is
    # ended by its callback first, however loaded the machine (the others' jobs wait for the check).
    args = ("--routes", str(routes), "--no-webhooks", "--parameter", "FirstCheckSeconds=20")
    # The shortest time the functions may keep the routes: a change is taken within it.
    max_age = ("--parameter", f"RoutesMaxAgeSeconds={ROUTES_MAX_AGE_SECONDS}")
    with serving(DEV_KEY, data_dir, *args, *max_age, render_cache=render_cache) as served:
        yield served


@pytest.fixture
def sdk(routed: Served) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{routed.api}/v1", api_key=DEV_KEY, max_retries=0, timeout=60) as client:
        yield client


RED = ("red.png", png_bytes(1280, 720, (220, 20, 20)), "image/png")
TAKE_IMAGES = providers_where("image_reference")


def _jobs() -> dict[tuple[str, str], dict[str, Any]]:
    """The jobs the tests below look at, by what they show and their provider: all created at once when
    the module starts, so that their waits overlap, and looked at last. A provider's stored video starts
    from the red image where the provider takes one."""
    stored = {
        ("variants", p): {"prompt": LANTERNS} | ({"input_reference": RED} if p in TAKE_IMAGES else {})
        for p in PROVIDERS
    }
    failed = {("failure", p): {"prompt": "A storm over the harbour [fail]"} for p in PROVIDERS}
    return stored | failed


@pytest.fixture(scope="module")
def started(routed: Served) -> dict[tuple[str, str], str]:
    """Each job created with the openai SDK: its video id. The webhook function is warmed first, as a
    deployed stack's is by its traffic: MiniMax wants its challenge echoed within 3 s, which a function's
    cold start on this machine, loaded by the whole suite, can pass."""
    forged = HTTP.post(f"{routed.api}/webhooks/minimax/vid_01JZ0000000000000000000000.notthetoken", json={})
    assert forged.status_code == 401
    with OpenAI(base_url=f"{routed.api}/v1", api_key=DEV_KEY, max_retries=0, timeout=60) as client:
        return {
            (kind, provider): client.videos.create(
                model=model_of(provider),
                seconds=shortest(provider),  # type: ignore[arg-type]
                size=size_of(provider),  # type: ignore[arg-type]
                **job,
            ).id
            for (kind, provider), job in _jobs().items()
        }


def made(sdk: OpenAI, started: dict[tuple[str, str], str], kind: str, provider: str) -> Video:
    """One of the module's jobs, polled to its end with the openai SDK."""
    return sdk.videos.poll(started[(kind, provider)], poll_interval_ms=POLL_MS)


def engine_calls(routed: Served) -> dict[str, int]:
    """The engine's calls by route, but reads: the module's jobs are polled meanwhile (Vertex's polls are
    POSTs, each after a token of its own)."""
    routes: dict[str, int] = HTTP.get(f"{routed.engine}/_stats").json()["routes"]
    return {
        route: count
        for route, count in routes.items()
        if not route.startswith("GET ") and not route.endswith((":fetchPredictOperation", "/vertex/token"))
    }


def callbacks_applied(routed: Served) -> dict[str, dict[str, object]]:
    """The callbacks the webhook function applied, by video id, from its log."""
    applied = {}
    for line in (routed.data_dir / "logs" / "WebhookFunction.log").read_text().splitlines():
        if line.startswith("{") and '"webhook"' in line:
            entry = json.loads(line)
            if str(entry.get("type", "")).endswith(".callback") and entry.get("video_id"):
                applied[entry["video_id"]] = entry
    return applied


def _engine_job(routed: Served, prompt: str) -> dict[str, Any] | None:
    """The engine's own job for a prompt (whatever the dialect), None once the provider deleted it."""
    jobs = HTTP.get(f"{routed.engine}/v1/videos?limit=100", headers={"Authorization": "Bearer k"}).json()
    found = [job for job in jobs["data"] if job["prompt"] == prompt]
    return found[0] if found else None


def test_every_provider_has_a_dialect_in_the_engine() -> None:
    assert sorted(dialects()) == PROVIDERS
    assert all(isinstance(plugin, Provider) for plugin in registry().values())


def test_the_models_endpoint_lists_each_route_with_its_capabilities_and_price(
    routed: Served, started: dict[tuple[str, str], str]
) -> None:
    """First with the module's jobs (`started`): they run while the tests that need none go on."""
    # A cold function's first answer, while the module's jobs start: as long as API Gateway waits.
    headers = {"Authorization": f"Bearer {DEV_KEY}"}
    listed = HTTP.get(f"{routed.api}/v1/videos/models", headers=headers, timeout=30).json()

    by_id = {model["id"]: model for model in listed["data"]}
    assert sorted(by_id) == sorted(ROUTES)
    for provider in PROVIDERS:
        card, profile = by_id[model_of(provider)], profile_of(provider)
        assert card["provider"] == provider
        assert card["seconds"] == list(profile.seconds)
        assert card["default_seconds"] == profile.seconds[0]
        assert card["price_per_second"] == str(profile.price_per_second)
        assert card["remix"] is profile.remix
    assert HTTP.get(f"{routed.api}/v1/videos/models").status_code == 401


@pytest.mark.parametrize("provider", providers_where("callbacks"))
def test_a_providers_callback_ends_the_job_before_any_status_check(
    sdk: OpenAI, routed: Served, started: dict[tuple[str, str], str], provider: str
) -> None:
    video = made(sdk, started, "variants", provider)

    assert video.status == "completed"
    # The function's log line is written once its invocation returns, just after the job completed.
    deadline = time.monotonic() + 10
    while video.id not in callbacks_applied(routed) and time.monotonic() < deadline:
        time.sleep(0.1)
    entry = callbacks_applied(routed)[video.id]
    assert entry["type"] == f"{provider}.callback"
    assert entry["finalised"] is True


@pytest.mark.parametrize("provider", providers_where("callbacks"))
def test_a_callback_with_a_forged_token_is_refused(routed: Served, provider: str) -> None:
    url = f"{routed.api}/webhooks/{provider}/vid_01JZ0000000000000000000000.notthetoken"
    refused = HTTP.post(url, json={"request_id": "x", "id": "x", "status": "OK"})

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_what_the_model_lacks_is_refused_before_any_upstream_call(
    sdk: OpenAI, routed: Served, provider: str
) -> None:
    profile, model = profile_of(provider), model_of(provider)
    before = engine_calls(routed)

    with pytest.raises(openai.BadRequestError) as refused:
        sdk.videos.create(prompt="A kite", model=model, seconds="999")  # type: ignore[arg-type]
    error = refused.value.body
    assert isinstance(error, dict)
    assert (error["code"], error["param"]) == ("invalid_video_duration", "seconds")
    assert all(f"'{s}'" in error["message"] for s in profile.seconds)
    with pytest.raises(openai.BadRequestError) as wrong_size:
        sdk.videos.create(prompt="A kite", model=model, size="640x640")  # type: ignore[arg-type]
    assert "size" in str(wrong_size.value)
    too_long = "x" * (profile.max_prompt_chars + 1)
    with pytest.raises(openai.BadRequestError, match=str(profile.max_prompt_chars)):
        sdk.videos.create(prompt=too_long, model=model, seconds=shortest(provider))  # type: ignore[arg-type]
    assert engine_calls(routed) == before


@pytest.mark.parametrize("provider", PROVIDERS)
def test_deleting_a_running_job_cancels_it_where_the_provider_offers_a_cancel(
    sdk: OpenAI, routed: Served, provider: str
) -> None:
    prompt = f"A clock that never stops, on {provider} [stall]"
    video = sdk.videos.create(prompt=prompt, model=model_of(provider), seconds=shortest(provider))  # type: ignore[arg-type]

    deleted = sdk.videos.delete(video.id)

    assert deleted.deleted is True
    job = _engine_job(routed, prompt)
    if registry()[provider].cancels:
        assert job is None or (job["status"], job["error"]["code"]) == ("failed", "cancelled")
    else:
        # Nothing to cancel it with: the provider's job runs out on its own.
        assert job is not None
        assert job["status"] in ("queued", "in_progress")


@pytest.mark.parametrize(
    "provider", [name for name in PROVIDERS if name not in providers_where("image_reference")]
)
def test_a_model_without_reference_images_refuses_one(sdk: OpenAI, provider: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.videos.create(
            prompt="A kite",
            model=model_of(provider),
            seconds=shortest(provider),  # type: ignore[arg-type]
            input_reference=("square.png", png_bytes(), "image/png"),
        )
    error = refused.value.body
    assert isinstance(error, dict)
    assert (error["code"], error["param"]) == ("invalid_request", "input_reference")
    assert "takes no reference image" in error["message"]


@pytest.mark.parametrize(
    "provider",
    [name for name, plugin in registry().items() if plugin.callbacks and plugin.callbacks.verifier],
)
def test_a_callback_its_provider_did_not_sign_is_refused(sdk: OpenAI, routed: Served, provider: str) -> None:
    """Even with the job's own token: a provider that signs its calls did not make an unsigned one."""
    video = sdk.videos.create(
        prompt="An hourglass [stall]",
        model=model_of(provider),
        seconds=shortest(provider),  # type: ignore[arg-type]
    )
    secret = aws_client("ssm", routed.aws).get_parameter(
        Name="/videos-api/webhook-secret", WithDecryption=True
    )
    record = aws_client("dynamodb", routed.aws).get_item(
        TableName="videos-api-VideosTable", Key={"owner": {"S": "dev"}, "video_id": {"S": video.id}}
    )["Item"]
    url = f"{routed.api}/webhooks/{provider}/{token_for(secret['Parameter']['Value'], video.id)}"
    field = registry()[provider].callbacks.job_id_field  # type: ignore[union-attr]

    unsigned = HTTP.post(url, json={field: record["upstream_id"]["S"], "status": "OK", "payload": {}})

    assert unsigned.status_code == 401
    assert "signature" in unsigned.json()["message"]
    sdk.videos.delete(video.id)


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
    for provider in PROVIDERS:
        assert rows[model_of(provider)][1:3] == [provider, ",".join(profile_of(provider).seconds)]


def test_the_playground_offers_each_models_own_lengths_and_sizes(browser: Browser, routed: Served) -> None:
    for session in open_session(browser, f"{routed.api}/", "models"):
        page = session.page
        page.wait_for_selector("body[data-ready]")
        for provider in PROVIDERS:
            profile = profile_of(provider)
            page.select_option("#model", model_of(provider))
            first = profile.seconds[0]
            page.wait_for_function(f"() => document.getElementById('seconds').options[0].value === '{first}'")
            seconds = page.eval_on_selector_all("#seconds option", "os => os.map(o => o.value)")
            sizes = page.eval_on_selector_all("#size option", "os => os.map(o => o.value)")
            assert seconds == list(profile.seconds)
            assert sizes == list(profile.sizes)


def test_routes_applied_to_a_running_serve_are_taken_within_their_max_age(routed: Served) -> None:
    """The routes change: a model is added, every other stays as it was. Before the tests that wait
    for the module's jobs: their wait and this one's overlap."""
    changed = routed.data_dir / "changed-routes.json"
    added = {"provider": "gemini", "upstream_model": "veo-3.0-fast-generate-001", "api_key": "sk-gemini"}
    changed.write_text(json.dumps(ROUTES | {"veo-fast": added}))
    env = os.environ | {"VIDEOS_API_BASE_URL": routed.api}
    command = [sys.executable, "-m", "local", "routes", "apply", str(changed)]
    endpoints = ["--aws-endpoint", routed.aws, "--engine-url", routed.engine]

    applied = subprocess.run(
        command + endpoints, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )

    assert applied.returncode == 0, applied.stderr
    assert "deployed version" in applied.stdout
    started = time.monotonic()
    while True:
        listed = HTTP.get(f"{routed.api}/v1/videos/models", headers={"Authorization": f"Bearer {DEV_KEY}"})
        if "veo-fast" in {model["id"] for model in listed.json()["data"]}:
            break
        assert time.monotonic() - started < ROUTES_MAX_AGE_SECONDS + 10, "the new route was not taken"
        time.sleep(1)
    changed.write_text(json.dumps({"veo": {"provider": "no-such-provider"}}))
    refused = subprocess.run(
        command + endpoints, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0
    assert "unknown provider 'no-such-provider'" in refused.stderr


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_failed_generation_carries_the_providers_reason(
    sdk: OpenAI, started: dict[tuple[str, str], str], provider: str
) -> None:
    video = made(sdk, started, "failure", provider)

    assert video.status == "failed"
    assert video.error is not None
    assert "Video generation failed" in video.error.message


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_providers_video_is_stored_with_every_variant(
    sdk: OpenAI, started: dict[tuple[str, str], str], provider: str
) -> None:
    video = made(sdk, started, "variants", provider)

    assert video.status == "completed", video.error
    seconds, size = shortest(provider), size_of(provider)
    assert (video.model, video.seconds, video.size) == (model_of(provider), seconds, size)
    width, height = (int(n) for n in size.split("x"))
    clip = sdk.videos.download_content(video.id).content
    facts = probe_mp4(clip)
    assert (facts.width, facts.height) == (width, height)
    assert facts.duration == pytest.approx(int(seconds), abs=0.2)
    thumbnail = sdk.videos.download_content(video.id, variant="thumbnail").content
    assert jpeg_size(thumbnail) == (width, height)
    assert jpeg_size(sdk.videos.download_content(video.id, variant="spritesheet").content) == (width, height)
    # The thumbnail is the video's middle frame (made from the stored video where the provider
    # makes the video alone).
    frames = gray_frames(clip)
    middle = frames[len(frames) // 2].astype(float)
    picture = np.asarray(Image.open(io.BytesIO(thumbnail)).convert("L"), dtype=float)
    assert abs(picture - middle).mean() < 12


@pytest.mark.parametrize("provider", TAKE_IMAGES)
def test_a_reference_image_reaches_the_providers_that_take_one(
    sdk: OpenAI, started: dict[tuple[str, str], str], provider: str
) -> None:
    video = made(sdk, started, "variants", provider)

    assert video.status == "completed", video.error
    first = gray_frames(sdk.videos.download_content(video.id).content)[0]
    # The engine draws on the reference: most of the picture is the red image's luma (about 84).
    assert 70 < float(np.median(first)) < 100
