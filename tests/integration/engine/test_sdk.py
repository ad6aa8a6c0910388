"""The engine driven over real HTTP by the real openai SDK, as a service calls its upstream."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI

from tests.media import jpeg_size, png_bytes, probe_mp4

PROMPT = "A paper boat drifting down a rainy street"


def test_create_returns_a_queued_video_shaped_as_openai(client: OpenAI) -> None:
    video = client.videos.create(prompt=PROMPT, model="sora-2-pro", seconds="8", size="1280x720")

    assert video.id.startswith("video_")
    assert video.object == "video"
    assert video.status == "queued"
    assert video.progress == 0
    assert (video.model, video.seconds, video.size, video.prompt) == ("sora-2-pro", "8", "1280x720", PROMPT)
    assert video.created_at > 0
    assert video.completed_at is None
    assert video.expires_at is None
    assert video.remixed_from_video_id is None
    assert video.error is None


def test_create_uses_the_defaults(client: OpenAI) -> None:
    video = client.videos.create(prompt=PROMPT)

    assert (video.model, video.seconds, video.size) == ("sora-2", "4", "720x1280")


def test_create_and_poll_walks_queued_to_completed_with_rising_progress(client: OpenAI) -> None:
    video = client.videos.create(prompt=PROMPT)
    seen = [(video.status, video.progress)]
    while video.status in ("queued", "in_progress"):
        video = client.videos.retrieve(video.id)
        seen.append((video.status, video.progress))

    assert video.status == "completed"
    assert video.progress == 100
    assert video.completed_at is not None
    assert video.completed_at >= video.created_at
    assert video.expires_at == video.completed_at + 3600
    progresses = [p for _, p in seen]
    assert progresses == sorted(progresses)
    assert {"queued", "in_progress", "completed"} <= {s for s, _ in seen}


def test_create_and_poll_helper(client: OpenAI) -> None:
    video = client.videos.create_and_poll(prompt=PROMPT, poll_interval_ms=100)

    assert video.status == "completed"


def test_retrieve_sends_the_poll_interval_hint_while_running(client: OpenAI) -> None:
    video = client.videos.create(prompt=PROMPT)

    raw = client.videos.with_raw_response.retrieve(video.id)

    assert raw.parse().status in ("queued", "in_progress")
    assert int(raw.headers["openai-poll-after-ms"]) > 0


def test_download_content_of_each_variant(client: OpenAI) -> None:
    video = client.videos.create_and_poll(prompt=PROMPT, seconds="4", size="1280x720", poll_interval_ms=100)

    mp4 = client.videos.download_content(video.id)
    thumbnail = client.videos.download_content(video.id, variant="thumbnail")
    sheet = client.videos.download_content(video.id, variant="spritesheet")

    facts = probe_mp4(mp4.content)
    assert (facts.video_codec, facts.audio_codec) == ("h264", "aac")
    assert (facts.width, facts.height) == (1280, 720)
    assert facts.duration == pytest.approx(4.0, abs=0.1)
    assert mp4.response.headers["content-type"] == "video/mp4"
    assert int(mp4.response.headers["content-length"]) == len(mp4.content)
    assert jpeg_size(thumbnail.content) == (1280, 720)
    assert thumbnail.response.headers["content-type"] == "image/jpeg"
    assert jpeg_size(sheet.content) == (1280, 720)


def test_create_with_an_input_reference_file(client: OpenAI) -> None:
    video = client.videos.create(
        prompt="A red square comes alive", input_reference=("reference.png", png_bytes(), "image/png")
    )
    video = client.videos.poll(video.id, poll_interval_ms=100)

    assert video.status == "completed"
    facts = probe_mp4(client.videos.download_content(video.id).content)
    assert (facts.width, facts.height) == (720, 1280)


def test_remix_inherits_the_source_and_names_it(client: OpenAI) -> None:
    source = client.videos.create_and_poll(prompt=PROMPT, seconds="4", size="1280x720", poll_interval_ms=100)

    remix = client.videos.remix(source.id, prompt="The same boat, now in snow")
    remix = client.videos.poll(remix.id, poll_interval_ms=100)

    assert remix.id != source.id
    assert remix.remixed_from_video_id == source.id
    assert (remix.model, remix.seconds, remix.size) == (source.model, source.seconds, source.size)
    assert remix.status == "completed"


def test_remix_of_an_unfinished_video_is_refused(client: OpenAI) -> None:
    source = client.videos.create(prompt=PROMPT)

    with pytest.raises(openai.ConflictError) as caught:
        client.videos.remix(source.id, prompt="too early")

    assert caught.value.code == "video_not_ready"


def test_delete_removes_the_video(client: OpenAI) -> None:
    video = client.videos.create(prompt=PROMPT)

    deleted = client.videos.delete(video.id)

    assert (deleted.id, deleted.object, deleted.deleted) == (video.id, "video.deleted", True)
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve(video.id)


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_list_pages_through_every_video_in_order(client: OpenAI, order: str) -> None:
    created = [client.videos.create(prompt=f"{PROMPT} #{i}").id for i in range(7)]

    first = client.videos.list(limit=3, order=order)  # type: ignore[arg-type]
    listed = [video.id for video in client.videos.list(limit=3, order=order)]  # type: ignore[arg-type]

    assert len(first.data) == 3
    assert first.has_more is True
    assert first.last_id == first.data[-1].id
    mine = [video_id for video_id in listed if video_id in created]
    assert mine == (created if order == "asc" else created[::-1])
    assert len(listed) == len(set(listed))
