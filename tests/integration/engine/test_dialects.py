"""The engine's other dialects driven by each provider's official SDK, pointed at the engine: the
google-genai SDK (2.x, Gemini API mode) for Veo, fal-client for fal's queue, and OpenRouter's SDK.
A mistake in an emulation shows as the SDK failing to parse, poll or download."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import fal_client
import fal_client.client
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types
from openrouter import OpenRouter
from openrouter import errors as openrouter_errors

from tests.media import png_bytes, probe_mp4
from tests.support import HTTP

PROMPT = "A lighthouse beam sweeping over a night sea"
T = TypeVar("T")


def polled(first: T, again: Callable[[T], T], running: Callable[[T], bool]) -> T:
    """What a client sees once a job stops running, reading it again every 0.2 s (for 60 s at most)."""
    deadline, job = time.monotonic() + 60, first
    while running(job) and time.monotonic() < deadline:
        time.sleep(0.2)
        job = again(job)
    return job


def gemini_done(gemini: genai.Client, operation: Any) -> Any:
    return polled(operation, gemini.operations.get, lambda op: not op.done)


def openrouter_done(openrouter: OpenRouter, job: Any) -> Any:
    return polled(
        job,
        lambda j: openrouter.video_generation.get_generation(job_id=j.id),
        lambda j: j.status in ("pending", "in_progress"),
    )


@pytest.fixture
def gemini(engine_url: str) -> Iterator[genai.Client]:
    client = genai.Client(api_key="sk-test", http_options=genai_types.HttpOptions(base_url=f"{engine_url}/"))
    yield client
    client.close()


def test_veo_through_the_gemini_sdk_makes_downloadable_video(gemini: genai.Client) -> None:
    config = genai_types.GenerateVideosConfig(duration_seconds=4, aspect_ratio="16:9", resolution="720p")
    source = genai_types.GenerateVideosSource(prompt=PROMPT)
    operation = gemini.models.generate_videos(model="veo-3.1-generate-preview", source=source, config=config)
    assert operation.name is not None
    assert "/operations/" in operation.name
    operation = gemini_done(gemini, operation)

    assert operation.done
    assert operation.response
    assert operation.response.generated_videos
    video = operation.response.generated_videos[0].video
    assert video is not None
    assert video.uri is not None
    file_name = video.uri.split("/files/")[1].split(":")[0]
    data = gemini.files.download(file=f"files/{file_name}")
    facts = probe_mp4(data)
    assert (facts.width, facts.height) == (1280, 720)
    assert facts.duration == pytest.approx(4, abs=0.2)

    # As the Gemini API does, the download is a redirect to a signed URL that needs no key.
    redirect = HTTP.get(video.uri, headers={"x-goog-api-key": "sk-test"}, follow_redirects=False)
    assert redirect.status_code == 302
    signed = redirect.headers["location"]
    assert "/files/" in signed
    assert "signature=" in signed
    assert HTTP.get(signed).content == data
    forged = HTTP.get(signed[:-4] + ("0000" if not signed.endswith("0000") else "1111"))
    assert forged.status_code == 403
    assert forged.json()["error"]["status"] == "PERMISSION_DENIED"


def test_the_gemini_dialect_starts_from_an_image_and_refuses_what_veo_refuses(gemini: genai.Client) -> None:
    image = genai_types.Image(image_bytes=png_bytes(), mime_type="image/png")
    config = genai_types.GenerateVideosConfig(duration_seconds=6, aspect_ratio="9:16")
    source = genai_types.GenerateVideosSource(prompt=PROMPT, image=image)
    started = gemini.models.generate_videos(model="veo-3.0-generate-001", source=source, config=config)
    assert started.name is not None

    with pytest.raises(genai_errors.ClientError) as bad_length:
        gemini.models.generate_videos(
            model="veo-3.1-generate-preview",
            source=genai_types.GenerateVideosSource(prompt=PROMPT),
            config=genai_types.GenerateVideosConfig(duration_seconds=5),
        )
    assert bad_length.value.code == 400
    assert "durationSeconds" in str(bad_length.value.message)
    with pytest.raises(genai_errors.ClientError) as unknown:
        gemini.models.generate_videos(model="veo-9", source=genai_types.GenerateVideosSource(prompt=PROMPT))
    assert unknown.value.code == 404
    assert unknown.value.status == "NOT_FOUND"


def test_a_filtered_veo_prompt_ends_without_a_video_and_with_the_reason(gemini: genai.Client) -> None:
    source = genai_types.GenerateVideosSource(prompt=f"{PROMPT} [moderation]")
    operation = gemini.models.generate_videos(model="veo-3.1-fast-generate-preview", source=source)
    operation = gemini_done(gemini, operation)

    assert operation.response is not None
    assert not operation.response.generated_videos
    assert operation.response.rai_media_filtered_count == 1
    assert "Responsible AI" in (operation.response.rai_media_filtered_reasons or [""])[0]


@pytest.fixture
def fal(engine_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[fal_client.SyncClient]:
    # fal-client takes its queue's address from FAL_QUEUE_RUN_HOST when imported, always over https;
    # the address it builds every URL from is set here instead.
    monkeypatch.setattr(fal_client.client, "QUEUE_URL_FORMAT", f"{engine_url}/fal/")
    client = fal_client.SyncClient(key="sk-test", default_timeout=30)
    yield client
    client._client.close()


def test_a_fal_request_walks_the_queue_and_its_result_names_the_file(fal: fal_client.SyncClient) -> None:
    handle = fal.submit(
        "fal-ai/kling-video/v2.1/standard/text-to-video",
        arguments={"prompt": PROMPT, "duration": "5", "aspect_ratio": "16:9"},
    )
    assert "/fal-ai/kling-video/requests/" in handle.status_url  # the app's sub-path dropped
    seen = {type(status).__name__ for status in handle.iter_events(interval=0.1)}
    result = handle.get()

    assert seen >= {"InProgress", "Completed"}
    assert result["video"]["content_type"] == "video/mp4"
    facts = probe_mp4(HTTP.get(result["video"]["url"], timeout=30).content)
    assert (facts.width, facts.height) == (1920, 1080)
    assert facts.duration == pytest.approx(5, abs=0.2)


def test_fal_validates_input_fails_with_a_type_and_cancels(fal: fal_client.SyncClient) -> None:
    with pytest.raises(fal_client.client.FalClientHTTPError) as bad:
        fal.submit("fal-ai/veo3", arguments={"prompt": PROMPT, "duration": "5s"})
    assert bad.value.status_code == 422

    failed = fal.submit("fal-ai/veo3", arguments={"prompt": f"{PROMPT} [moderation]", "duration": "4s"})
    final = list(failed.iter_events(interval=0.1))[-1]
    assert isinstance(final, fal_client.Completed)
    assert final.error_type == "content_policy_violation"
    assert final.error
    with pytest.raises(fal_client.client.FalClientHTTPError):
        failed.get()

    stalled = fal.submit("fal-ai/veo3", arguments={"prompt": f"{PROMPT} [stall]", "duration": "4s"})
    stalled.cancel()
    cancelled = stalled.status()
    assert isinstance(cancelled, fal_client.Completed)
    assert cancelled.error_type == "request_cancelled"


@pytest.fixture
def openrouter(engine_url: str) -> Iterator[OpenRouter]:
    with OpenRouter(api_key="sk-test", server_url=f"{engine_url}/api/v1") as client:
        yield client


def test_an_openrouter_job_is_polled_to_completion_and_its_content_downloaded(openrouter: OpenRouter) -> None:
    models = openrouter.video_generation.list_videos_models()
    veo = next(m for m in models.data if m.id == "google/veo-3.1")
    assert veo.supported_durations == [4, 6, 8]

    job = openrouter.video_generation.generate(
        model="google/veo-3.1", prompt=PROMPT, duration=4, aspect_ratio="9:16", resolution="720p"
    )
    assert job.status == "pending"
    assert job.polling_url.endswith(job.id)
    job = openrouter_done(openrouter, job)

    assert job.status == "completed"
    assert job.unsigned_urls
    assert job.usage is not None
    content = openrouter.video_generation.get_video_content(job_id=job.id)
    facts = probe_mp4(content.read())
    assert (facts.width, facts.height) == (720, 1280)


def test_openrouter_refuses_a_length_its_model_lacks_and_reports_a_failure(openrouter: OpenRouter) -> None:
    with pytest.raises(openrouter_errors.BadRequestResponseError) as bad:
        openrouter.video_generation.generate(model="alibaba/wan-2.6", prompt=PROMPT, duration=4)
    assert "duration" in str(bad.value)

    job = openrouter.video_generation.generate(model="alibaba/wan-2.6", prompt=f"{PROMPT} [fail]", duration=5)
    job = openrouter_done(openrouter, job)
    assert job.status == "failed"
    assert job.error
