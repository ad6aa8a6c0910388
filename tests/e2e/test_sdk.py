"""Every `client.videos.*` call the service supports, through `serve --fast` with the real openai SDK."""

from __future__ import annotations

import asyncio
import io
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types import Video

from local.credentials_check import read_credentials
from local.serve.aws_endpoint import client as aws_client
from local.serve.development_certificate import CA_FILE, CREDENTIALS_DIR
from tests.conftest import DEV_KEY
from tests.media import jpeg_size, png_bytes, probe_mp4
from tests.support import Served

POLL_MS = 200
KINDS: dict[Any, str] = {"video": "video/mp4", "thumbnail": "image/jpeg", "spritesheet": "image/jpeg"}


def test_create_and_poll_then_download_every_variant(served: Served, sdk: OpenAI) -> None:
    video = sdk.videos.create_and_poll(
        prompt="A glass of water on a windowsill", seconds="4", size="1280x720", poll_interval_ms=POLL_MS
    )

    assert video.status == "completed"
    assert video.progress == 100
    assert video.expires_at is not None
    files = {variant: sdk.videos.download_content(video.id, variant=variant).content for variant in KINDS}
    facts = probe_mp4(files["video"])
    assert (facts.video_codec, facts.audio_codec, facts.width, facts.height) == ("h264", "aac", 1280, 720)
    assert facts.duration == pytest.approx(4.0, abs=0.1)
    assert jpeg_size(files["thumbnail"]) == (1280, 720)
    assert jpeg_size(files["spritesheet"]) == (1280, 720)
    # Each carries Content Credentials that serve's development CA trusts, and a changed byte breaks.
    anchor = (served.data_dir / CREDENTIALS_DIR / CA_FILE).read_text()
    for variant, content in files.items():
        found = read_credentials(io.BytesIO(content), KINDS[variant], anchor)
        assert found is not None, variant
        assert (found.state, found.actions, found.job, found.model) == (
            "Trusted",
            ["c2pa.created"],
            video.id,
            video.model,
        ), found.failures
        # A byte of the picture (a JPEG's manifest is in its first segments, an MP4's ahead of its media).
        changed = bytearray(content)
        changed[-100] ^= 0x01
        changed_found = read_credentials(io.BytesIO(bytes(changed)), KINDS[variant], anchor)
        assert changed_found is not None
        assert changed_found.state == "Invalid", variant


def test_create_with_an_input_reference(sdk: OpenAI) -> None:
    video = sdk.videos.create(
        prompt="A red square, animated",
        input_reference=("square.png", png_bytes(96, 96, (220, 20, 20)), "image/png"),
    )

    video = sdk.videos.poll(video.id, poll_interval_ms=POLL_MS)

    assert video.status == "completed"
    probe_mp4(sdk.videos.download_content(video.id).content)


def test_retrieve_shows_the_record(sdk: OpenAI) -> None:
    created = sdk.videos.create(prompt="Retrieved", model="sora-2-pro", seconds="8")

    video = sdk.videos.retrieve(created.id)

    assert (video.id, video.model, video.seconds, video.size) == (created.id, "sora-2-pro", "8", "720x1280")


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_list_auto_pages_in_both_orders(fresh_sdk: OpenAI, order: str) -> None:
    ids = [fresh_sdk.videos.create(prompt="Paged").id for _ in range(5)]

    listed = [video.id for video in fresh_sdk.videos.list(limit=2, order=order)]  # type: ignore[arg-type]

    assert listed == (ids if order == "asc" else ids[::-1])


def test_delete_removes_the_video(sdk: OpenAI) -> None:
    video = sdk.videos.create_and_poll(prompt="Soon gone", poll_interval_ms=POLL_MS)

    deleted = sdk.videos.delete(video.id)

    assert (deleted.id, deleted.deleted) == (video.id, True)
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve(video.id)


def test_remix_makes_a_new_video_from_a_completed_one(served: Served, sdk: OpenAI) -> None:
    source = sdk.videos.create_and_poll(prompt="A lighthouse by day", poll_interval_ms=POLL_MS)

    remix = sdk.videos.remix(source.id, prompt="The lighthouse by night")
    remix = sdk.videos.poll(remix.id, poll_interval_ms=POLL_MS)

    assert remix.status == "completed"
    assert remix.remixed_from_video_id == source.id
    video = sdk.videos.download_content(remix.id).content
    probe_mp4(video)
    # Its Content Credentials name the source's manifest as their parent.
    anchor = (served.data_dir / CREDENTIALS_DIR / CA_FILE).read_text()
    found = read_credentials(io.BytesIO(video), "video/mp4", anchor)
    assert found is not None
    assert (found.state, found.job, found.actions) == ("Trusted", remix.id, ["c2pa.opened", "c2pa.edited"])
    parent = read_credentials(io.BytesIO(sdk.videos.download_content(source.id).content), "video/mp4", anchor)
    assert parent is not None
    assert [(i["relationship"], i["manifest"]) for i in found.ingredients] == [("parentOf", parent.label)]


def test_edits_and_extensions_of_a_completed_video_are_copied_like_any_other(fresh_sdk: OpenAI) -> None:
    """By id in JSON, through the client's `post`: the SDK's `videos.edit` and `videos.extend` send a
    form and take only a file for `video` (an object raises before anything is sent)."""
    sdk = fresh_sdk
    source = sdk.videos.create_and_poll(prompt="A harbour at noon", poll_interval_ms=POLL_MS)

    edit = sdk.post("/videos/edits", body={"prompt": "In fog", "video": {"id": source.id}}, cast_to=Video)
    extension = sdk.post(
        "/videos/extensions",
        body={"prompt": "The boats leave", "seconds": "8", "video": {"id": source.id}},
        cast_to=Video,
    )
    edit, extension = (sdk.videos.poll(v.id, poll_interval_ms=POLL_MS) for v in (edit, extension))

    assert (edit.status, edit.seconds) == ("completed", "4")
    assert (extension.status, extension.seconds) == ("completed", "12")
    assert probe_mp4(sdk.videos.download_content(extension.id).content).frames == 12 * 24
    assert [v.id for v in sdk.videos.list(limit=3)] == [extension.id, edit.id, source.id]


def test_the_sdks_edit_and_extend_upload_an_mp4(fresh_sdk: OpenAI) -> None:
    sdk = fresh_sdk
    source = sdk.videos.create_and_poll(prompt="A harbour at dusk", poll_interval_ms=POLL_MS)
    clip = ("clip.mp4", sdk.videos.download_content(source.id).content, "video/mp4")

    edit = sdk.videos.edit(prompt="In rain", video=clip)
    extension = sdk.videos.extend(prompt="Night falls", seconds="4", video=clip)
    edit, extension = (sdk.videos.poll(v.id, poll_interval_ms=POLL_MS) for v in (edit, extension))

    assert (edit.status, edit.seconds, edit.size) == ("completed", "4", "720x1280")
    assert (extension.status, extension.seconds) == ("completed", "8")
    assert probe_mp4(sdk.videos.download_content(extension.id).content).frames == 8 * 24


def test_every_videos_method_of_the_async_client(fresh_sdk: OpenAI) -> None:
    async def run() -> None:
        base_url, key = str(fresh_sdk.base_url), fresh_sdk.api_key
        async with AsyncOpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=60) as client:
            videos = client.videos
            source = await videos.create_and_poll(prompt="A harbour at dusk", poll_interval_ms=POLL_MS)
            assert (await videos.retrieve(source.id)).status == "completed"
            clip = ("clip.mp4", (await videos.download_content(source.id)).content, "video/mp4")
            remix = await videos.remix(source.id, prompt="The harbour at dawn")
            edit = await videos.edit(prompt="In rain", video=clip)
            extension = await videos.extend(prompt="Night falls", seconds="4", video=clip)
            character = await videos.create_character(name="Harbour", video=clip)
            assert character.id is not None
            assert (await videos.get_character(character.id)).name == "Harbour"
            created = await videos.create(prompt="Harbour", extra_body={"characters": [{"id": character.id}]})
            ended = [
                await videos.poll(v.id, poll_interval_ms=POLL_MS) for v in (remix, edit, extension, created)
            ]
            assert [v.status for v in ended] == ["completed"] * 4
            assert [v.seconds for v in ended] == ["4", "4", "8", "4"]
            listed = [video.id async for video in videos.list(order="asc", limit=2)]
            assert listed == [source.id, remix.id, edit.id, extension.id, created.id]
            assert (await videos.delete(created.id)).deleted is True

    asyncio.run(run())


def test_a_character_is_made_read_back_and_named_in_a_create(served: Served, fresh_sdk: OpenAI) -> None:
    sdk = fresh_sdk
    source = sdk.videos.create_and_poll(prompt="A gull on a post", poll_interval_ms=POLL_MS)
    clip = ("gull.mp4", sdk.videos.download_content(source.id).content, "video/mp4")

    character = sdk.videos.create_character(name="Captain Gull", video=clip)
    assert character.id is not None
    fetched = sdk.videos.get_character(character.id)
    # The SDK's create has no `characters` parameter; extra_body sends it (as characters[][id]).
    video = sdk.videos.create(
        prompt="Captain Gull over the harbour", extra_body={"characters": [{"id": character.id}]}
    )
    video = sdk.videos.poll(video.id, poll_interval_ms=POLL_MS)

    assert (fetched.id, fetched.name, fetched.created_at) == (
        character.id,
        "Captain Gull",
        character.created_at,
    )
    assert video.status == "completed"
    with pytest.raises(openai.NotFoundError):
        OpenAI(base_url=str(sdk.base_url), api_key=DEV_KEY, max_retries=0).videos.get_character(character.id)


def test_a_failed_job_ends_failed_with_its_error(sdk: OpenAI) -> None:
    video = sdk.videos.create_and_poll(prompt="A castle of glass [fail]", poll_interval_ms=POLL_MS)

    assert video.status == "failed"
    assert video.error is not None
    assert video.error.code == "video_generation_failed"


@pytest.mark.parametrize(
    ("call", "error", "code"),
    [
        (
            lambda c: c.videos.create(prompt="x", seconds="6"),
            openai.BadRequestError,
            "invalid_video_duration",
        ),
        (lambda c: c.videos.create(prompt=""), openai.BadRequestError, "invalid_video_prompt"),
        (
            lambda c: c.videos.create(prompt="x", model="sora-3"),
            openai.BadRequestError,
            "video_model_not_available",
        ),
        (
            lambda c: c.videos.retrieve("vid_01JDQ2X8Y3K4M5N6P7Q8R9S0TV"),
            openai.NotFoundError,
            "video_not_found",
        ),
        (
            lambda c: c.videos.create(prompt="Too busy [rate-limit]"),
            openai.RateLimitError,
            "upstream_rate_limited",
        ),
    ],
)
def test_errors_surface_as_the_sdks_error_classes_with_the_request_id(
    sdk: OpenAI, call: object, error: type[openai.APIStatusError], code: str
) -> None:
    with pytest.raises(error) as caught:
        call(sdk)  # type: ignore[operator]

    assert caught.value.code == code
    # The SDK reads x-request-id; it is API Gateway's id of the request, which every log line carries.
    assert caught.value.request_id
    assert caught.value.request_id == caught.value.response.headers["apigw-requestid"]
    assert caught.value.request_id == caught.value.response.json()["request_id"]


def test_a_successful_answer_carries_the_request_id_too(sdk: OpenAI) -> None:
    raw = sdk.videos.with_raw_response.list(limit=1)

    assert raw.request_id
    assert raw.request_id == raw.headers["apigw-requestid"]
    assert raw.parse().data is not None


def test_downloading_an_unfinished_video_is_a_conflict(sdk: OpenAI) -> None:
    video = sdk.videos.create(prompt="Still running [stall]")

    with pytest.raises(openai.ConflictError) as caught:
        sdk.videos.download_content(video.id)

    assert caught.value.code == "video_not_ready"
    sdk.videos.delete(video.id)  # stops its execution, which would otherwise poll to the end of the session


@pytest.mark.parametrize("key", ["sk-nobody-was-given-this-key", "sk-bad"])
def test_a_bad_key_is_an_authentication_error(served: Served, key: str) -> None:
    with (
        OpenAI(base_url=f"{served.api}/v1", api_key=key, max_retries=0) as client,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        client.videos.list()

    assert caught.value.code == "unauthorized"
    assert caught.value.message.endswith(" - The API key is not valid.")


def test_a_completion_is_observed_on_the_bus(served: Served, sdk: OpenAI) -> None:
    sqs, events = aws_client("sqs", served.aws), aws_client("events", served.aws)
    queue = sqs.create_queue(QueueName="e2e-completions")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="e2e-completions",
        EventBusName="videos-api-videos",
        EventPattern=json.dumps({"source": ["videos-api"], "detail-type": ["Video Completed"]}),
    )
    events.put_targets(
        Rule="e2e-completions", EventBusName="videos-api-videos", Targets=[{"Id": "q", "Arn": arn}]
    )

    video = sdk.videos.create_and_poll(prompt="Announced", poll_interval_ms=POLL_MS)

    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while not found and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            event = json.loads(message["Body"])
            if event["detail"]["video"]["id"] == video.id:
                found.append(event)
        time.sleep(0.2)
    [event] = found
    assert event["detail"]["video"]["status"] == "completed"
    assert event["detail"]["estimated_cost_usd"] == 0.5


def test_the_cost_metric_reaches_the_local_cloudwatch(served: Served, sdk: OpenAI) -> None:
    sdk.videos.create_and_poll(prompt="Priced", model="sora-2-pro", seconds="8", poll_interval_ms=POLL_MS)
    cloudwatch = aws_client("cloudwatch", served.aws)
    now = datetime.now(UTC)

    statistics = cloudwatch.get_metric_statistics(
        Namespace="VideosApi",
        MetricName="EstimatedCostUSD",
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
        Period=3600,
        Statistics=["Sum"],
        Dimensions=[{"Name": "model", "Value": "sora-2-pro"}, {"Name": "service", "Value": "videos-api"}],
    )

    assert sum(point["Sum"] for point in statistics["Datapoints"]) >= 3.2
