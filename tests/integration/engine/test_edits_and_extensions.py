"""The engine's edits and extensions, driven with the openai SDK as OpenAI's API would be: an
extension is its base video's frames followed by a new segment (its `seconds` the sum), an edit is
its base's frames with the new prompt laid over them; the base is a completed video or an upload.

The SDK (3.57) sends `videos.edit` and `videos.extend` as multipart and refuses `video={"id": …}`
before sending (it takes the object for a file); a video named by id goes as JSON through the
client's own `post`, as the spec's JSON body allows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
import openai
import pytest
from openai import OpenAI
from openai.types import Video

from tests.media import gray_frames, probe_mp4

# What re-encoding changes: a few levels of luma on average, where another picture differs by tens.
SAME_PICTURE = 4.0


@pytest.fixture(scope="module")
def module_client(engine_url: str) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{engine_url}/v1", api_key="sk-test", max_retries=0, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def base(module_client: OpenAI) -> tuple[Video, bytes]:
    video = module_client.videos.create_and_poll(
        prompt=f"A lighthouse at dusk {uuid.uuid4()}", size="1280x720", poll_interval_ms=100
    )
    assert video.status == "completed"
    return video, module_client.videos.download_content(video.id).content


def difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def by_id(client: OpenAI, path: str, **body: object) -> Video:
    """POST /videos/edits or /videos/extensions in JSON, naming the video by id."""
    return client.post(path, body=body, cast_to=Video)


def test_an_extension_is_its_base_then_a_new_segment(
    module_client: OpenAI, base: tuple[Video, bytes]
) -> None:
    source, source_bytes = base

    extended = by_id(module_client, "/videos/extensions", prompt="On", seconds="4", video={"id": source.id})
    extended = module_client.videos.poll(extended.id, poll_interval_ms=100)

    assert (extended.status, extended.seconds, extended.size) == ("completed", "8", "1280x720")
    data = module_client.videos.download_content(extended.id).content
    facts = probe_mp4(data)
    assert (facts.width, facts.height, facts.frames) == (1280, 720, 8 * 24)
    assert facts.duration == pytest.approx(8, abs=0.1)
    frames, originals = gray_frames(data), gray_frames(source_bytes)
    assert all(difference(frames[i], originals[i]) < SAME_PICTURE for i in (0, 47, 95))
    assert difference(frames[96], originals[95]) > SAME_PICTURE  # the new segment is drawn anew


def test_an_edit_is_its_base_with_the_new_prompt_over_it(
    module_client: OpenAI, base: tuple[Video, bytes]
) -> None:
    source, source_bytes = base

    edited = by_id(module_client, "/videos/edits", prompt="Make it snow", video={"id": source.id})
    edited = module_client.videos.poll(edited.id, poll_interval_ms=100)

    assert (edited.status, edited.seconds, edited.size) == ("completed", "4", "1280x720")
    assert edited.prompt == "Make it snow"
    frames = gray_frames(module_client.videos.download_content(edited.id).content)
    originals = gray_frames(source_bytes)
    assert len(frames) == len(originals)
    top = slice(0, 720 // 3)  # above the caption band: the base's own pictures
    band = slice(720 - 720 // 10 - 720 // 6, 720 - 720 // 10)
    for i in (0, 50):
        assert difference(frames[i][top], originals[i][top]) < SAME_PICTURE
        assert difference(frames[i][band], originals[i][band]) > SAME_PICTURE


def test_an_uploaded_video_can_be_edited_and_extended(
    module_client: OpenAI, base: tuple[Video, bytes]
) -> None:
    _, source_bytes = base

    edited = module_client.videos.edit(prompt="From a file", video=("clip.mp4", source_bytes, "video/mp4"))
    extended = module_client.videos.extend(
        prompt="And onwards", seconds="8", video=("clip.mp4", source_bytes, "video/mp4")
    )

    edited, extended = (module_client.videos.poll(v.id, poll_interval_ms=100) for v in (edited, extended))
    assert (edited.status, edited.seconds, edited.size) == ("completed", "4", "1280x720")
    assert (extended.status, extended.seconds) == ("completed", "12")
    assert probe_mp4(module_client.videos.download_content(extended.id).content).frames == 12 * 24


def test_what_cannot_be_edited_or_extended(module_client: OpenAI, base: tuple[Video, bytes]) -> None:
    source, _ = base
    with pytest.raises(openai.BadRequestError) as bad_seconds:
        by_id(module_client, "/videos/extensions", prompt="x", seconds="6", video={"id": source.id})
    assert bad_seconds.value.param == "seconds"
    with pytest.raises(openai.NotFoundError):
        by_id(module_client, "/videos/edits", prompt="x", video={"id": "video_nope"})
    running = module_client.videos.create(prompt="Still going [stall]")
    with pytest.raises(openai.ConflictError):
        by_id(module_client, "/videos/extensions", prompt="x", seconds="4", video={"id": running.id})
    with pytest.raises(openai.BadRequestError):
        module_client.videos.edit(prompt="x", video=("clip.mp4", b"not a video", "video/mp4"))
    module_client.videos.delete(running.id)
