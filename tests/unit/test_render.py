"""The renderer: real H.264/AAC at the requested size and length, deterministic, derived for remixes."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from local.engine.render import (
    SPRITESHEET_FILE,
    THUMBNAIL_FILE,
    VIDEO_FILE,
    RenderSpec,
    _frames,
    render,
)
from tests.media import jpeg_size, png_bytes, probe_mp4

PROMPT = "A hummingbird hovering over a red flower"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("renders")


@pytest.mark.parametrize(
    ("width", "height", "seconds"),
    [
        *((720, 1280, 4), (1280, 720, 4), (1024, 1792, 4), (1792, 1024, 4), (1280, 720, 6)),
        # A shorter side whose fifth is 2 modulo 4 (Runway's 1104:832, 1584:672).
        *((1104, 832, 2), (1584, 672, 2)),
    ],
)
def test_a_render_is_h264_and_aac_at_the_requested_size_and_length(
    cache: Path, width: int, height: int, seconds: int
) -> None:
    result = render(RenderSpec(PROMPT, width, height, seconds), cache)

    facts = probe_mp4((result.directory / VIDEO_FILE).read_bytes())
    assert (facts.video_codec, facts.audio_codec) == ("h264", "aac")
    assert (facts.width, facts.height) == (width, height)
    assert facts.duration == pytest.approx(seconds, abs=0.1)
    assert facts.frames == seconds * 24
    assert facts.fps == 24
    assert jpeg_size((result.directory / THUMBNAIL_FILE).read_bytes()) == (width, height)
    assert jpeg_size((result.directory / SPRITESHEET_FILE).read_bytes()) == (width, height)
    assert result.sizes[VIDEO_FILE] == (result.directory / VIDEO_FILE).stat().st_size


def decoded_frames(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray().astype(np.int16) for frame in container.decode(video=0)])


def test_the_same_spec_renders_the_same_frames(tmp_path: Path) -> None:
    """The pictures are a function of the spec: the stills are byte-identical; the H.264 stream may
    code a few macroblocks differently from one encoder run to the next, never visibly."""
    first = render(RenderSpec(PROMPT, 720, 1280, 4), tmp_path / "a")
    second = render(RenderSpec(PROMPT, 720, 1280, 4), tmp_path / "b")

    for name in (THUMBNAIL_FILE, SPRITESHEET_FILE):
        assert (
            hashlib.sha256((first.directory / name).read_bytes()).digest()
            == hashlib.sha256((second.directory / name).read_bytes()).digest()
        )
    difference = np.abs(
        decoded_frames(first.directory / VIDEO_FILE) - decoded_frames(second.directory / VIDEO_FILE)
    )
    assert difference.shape[0] == 96
    assert float(difference.mean()) < 0.05


def test_a_cached_render_is_not_rendered_again(tmp_path: Path) -> None:
    first = render(RenderSpec(PROMPT, 720, 1280, 4), tmp_path)
    modified = (first.directory / VIDEO_FILE).stat().st_mtime_ns

    second = render(RenderSpec(PROMPT, 720, 1280, 4), tmp_path)

    assert second.directory == first.directory
    assert (second.directory / VIDEO_FILE).stat().st_mtime_ns == modified
    assert [p.name for p in tmp_path.iterdir()] == [first.directory.name]


def keyframe_seconds(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [
            float(p.pts * p.time_base) for p in container.demux(stream) if p.is_keyframe and p.pts is not None
        ]


@pytest.mark.parametrize("mode", ["generate", "extension"])
def test_each_picture_in_the_mp4_is_the_one_drawn_for_it(cache: Path, mode: str) -> None:
    """The encoder is handed one frame whose planes are refilled for every picture, and a drawn
    second is encoded once, its packets written again for the seconds after: each picture must still
    be its own, not a neighbour's or a mix, and each drawn second open on a keyframe — an extension's
    too, after the base it starts from (a small one: its pictures are compared one by one)."""
    spec = RenderSpec(PROMPT, 720, 1280, 4)
    if mode == "extension":
        base = render(RenderSpec(PROMPT, 640, 360, 2), cache).directory / VIDEO_FILE
        spec = RenderSpec(
            "On", 640, 360, 2, mode="extension", base_path=str(base), base_digest="b", base_seconds=2
        )
    drawn = [picture.astype(np.int16) for picture in _frames(spec)[0]]

    video = render(spec, cache).directory / VIDEO_FILE
    decoded = decoded_frames(video)

    drawn_seconds = range(spec.total_seconds - spec.seconds, spec.total_seconds)
    assert keyframe_seconds(video)[-spec.seconds :] == list(drawn_seconds)
    assert len(decoded) == len(drawn) == spec.total_seconds * 24
    own = [float(np.abs(decoded[i] - drawn[i]).mean()) for i in range(len(drawn))]
    neighbours = [float(np.abs(decoded[i] - drawn[i - 1]).mean()) for i in range(1, len(drawn))]
    assert max(own) < 0.5
    assert min(neighbours) > 2 * max(own)


def thumbnail_pixels(cache: Path, spec: RenderSpec) -> np.ndarray:
    data = (render(spec, cache).directory / THUMBNAIL_FILE).read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32)


def test_different_prompts_render_different_frames(cache: Path) -> None:
    a = thumbnail_pixels(cache, RenderSpec(PROMPT, 720, 1280, 4))
    b = thumbnail_pixels(cache, RenderSpec("A submarine under polar ice", 720, 1280, 4))

    assert np.abs(a - b).mean() > 10


def test_the_key_depends_only_on_what_determines_the_frames() -> None:
    base = RenderSpec(PROMPT, 720, 1280, 4)

    assert base.key() == RenderSpec(PROMPT, 720, 1280, 4).key()
    assert (
        len(
            {
                base.key(),
                RenderSpec(PROMPT + "!", 720, 1280, 4).key(),
                RenderSpec(PROMPT, 1280, 720, 4).key(),
                RenderSpec(PROMPT, 720, 1280, 8).key(),
                RenderSpec(PROMPT, 720, 1280, 4, source=base).key(),
            }
        )
        == 5
    )


def test_a_remix_visibly_derives_from_its_source(cache: Path) -> None:
    source = RenderSpec(PROMPT, 720, 1280, 4)
    remix = RenderSpec("The hummingbird in the rain", 720, 1280, 4, source=source)
    unrelated = RenderSpec("The hummingbird in the rain", 720, 1280, 4)

    source_pixels = thumbnail_pixels(cache, source)
    remix_distance = np.abs(thumbnail_pixels(cache, remix) - source_pixels).mean()
    unrelated_distance = np.abs(thumbnail_pixels(cache, unrelated) - source_pixels).mean()

    assert remix_distance < unrelated_distance
    assert remix.motion_seed == source.motion_seed != unrelated.motion_seed


def test_a_reference_image_becomes_the_backdrop(tmp_path: Path) -> None:
    reference = tmp_path / "red.png"
    reference.write_bytes(png_bytes(32, 32, (220, 20, 20)))
    spec = RenderSpec("Red", 720, 1280, 4, reference_path=str(reference), reference_digest="red")

    pixels = thumbnail_pixels(tmp_path / "cache", spec)

    corner = pixels[:100, :100].reshape(-1, 3).mean(axis=0)
    red, green, blue = corner
    assert red > 150
    assert max(green, blue) < 80
