"""What an upstream's file must be before it is stored: an MP4 whose boxes are whole and which PyAV
decodes for the video, an image for a thumbnail or spritesheet; what came instead, named."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from tests.media import jpeg_size, png_bytes
from videos_core import upstream_files
from videos_core.errors import UpstreamFileUnusable
from videos_core.stills import make_stills
from videos_core.upstream_files import checked

HTML = b"\n<!DOCTYPE html><html><body>Sign in to continue</body></html>"


def encoded(width: int, height: int) -> bytes:
    """A tiny H.264 MP4 (16 frames), its moov after its mdat as PyAV writes it."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        for i in range(16):
            picture = np.full((height, width, 3), i * 10, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode())
    return out.getvalue()


@pytest.fixture(scope="module")
def mp4() -> bytes:
    return encoded(64, 64)


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    return (data[at : at + size] for at in range(0, len(data), size))


def passed_on(variant: str, data: bytes, chunk: int = 1000) -> tuple[bytes, str | None]:
    """What `checked` passed on before it ended, and its error's message if it refused the file."""
    out = bytearray()
    try:
        for piece in checked(variant, pieces(data, chunk)):
            out += piece
    except UpstreamFileUnusable as e:
        return bytes(out), e.message
    return bytes(out), None


@pytest.mark.parametrize("chunk", [1, 7, 500, 1 << 20])
def test_a_whole_mp4_passes_unchanged_however_it_is_cut(mp4: bytes, chunk: int) -> None:
    assert passed_on("video", mp4, chunk) == (mp4, None)


def test_an_image_passes_as_a_thumbnail_or_spritesheet() -> None:
    png = png_bytes()
    assert passed_on("thumbnail", png) == (png, None)
    assert passed_on("spritesheet", png, 3) == (png, None)


def test_what_is_not_a_video_is_named_and_never_passed_on_whole(mp4: bytes) -> None:
    mdat = mp4.index(b"mdat") - 4
    no_moov = mp4[: mp4.index(b"moov") - 4]
    cases = {
        HTML: "it is HTML.",
        b"": "it is empty.",
        b'{"error": "expired"}': "it is JSON.",
        png_bytes(): "it is an image (image/png).",
        mp4[: len(mp4) // 2]: "the MP4 is cut short, inside its 'mdat' box",
        no_moov: "the MP4 has no movie header (moov box).",
        mp4[:mdat] + mp4[mp4.index(b"moov") - 4 :]: "the MP4 has no media",
        b"\x00" * 64: "its first bytes are 00 00",
    }
    for data, what in cases.items():
        sent, error = passed_on("video", data)
        assert error is not None, what
        assert error.startswith(f"The provider's file is not a video: {what}")
        assert len(sent) < max(len(data), 1)


def test_what_is_not_an_image_is_named() -> None:
    assert passed_on("spritesheet", HTML)[1] == "The provider's spritesheet is not an image: it is HTML."
    assert passed_on("thumbnail", b"")[1] == "The provider's thumbnail is not an image: it is empty."


def test_a_file_past_the_limit_is_refused_as_it_comes(mp4: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upstream_files, "MAX_STORED_FILE_BYTES", len(mp4) - 1)
    sent, error = passed_on("video", mp4)
    assert error is not None
    assert "it is larger than" in error
    assert len(sent) < len(mp4)


def test_whole_boxes_of_media_pyav_cannot_decode_are_not_a_video(mp4: bytes, tmp_path: Path) -> None:
    at = mp4.index(b"mdat") - 4
    (size,) = struct.unpack_from(">I", mp4, at)
    zeroed = mp4[: at + 8] + bytes(size - 8) + mp4[at + size :]
    assert passed_on("video", zeroed) == (zeroed, None)
    (tmp_path / "zeroed.mp4").write_bytes(zeroed)

    with pytest.raises(UpstreamFileUnusable, match="it cannot be decoded"):
        make_stills(str(tmp_path / "zeroed.mp4"))


def test_the_stills_are_the_videos_size_when_its_sides_are_no_multiple_of_four(tmp_path: Path) -> None:
    # As 1366x768 is: each tile a quarter of each side, to the pixel.
    (tmp_path / "odd.mp4").write_bytes(encoded(90, 50))

    stills = make_stills(str(tmp_path / "odd.mp4"))

    assert jpeg_size(stills.thumbnail) == jpeg_size(stills.spritesheet) == (90, 50)
