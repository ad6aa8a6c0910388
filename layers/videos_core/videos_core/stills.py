"""A thumbnail and a spritesheet made from an MP4, for upstreams that give the video only.

Decoded in one pass, holding one frame and sixteen small tiles at a time, whatever the video's length
or size: the thumbnail is the middle frame at the video's size, the spritesheet a 4x4 grid of frames
spread evenly over it, the video's size in all (each tile a quarter of each side, to the pixel: a side
of 1366 has tiles of 341 and 342), as the engine makes them. PyAV and Pillow come from the media
layer, which only the finalising functions carry.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from videos_core.errors import UpstreamFileUnusable
from videos_core.observability import logger

COLUMNS = ROWS = 4
JPEG_QUALITY = 85


@dataclass(frozen=True)
class Stills:
    thumbnail: bytes
    spritesheet: bytes


def _frame_count(stream: Any, container: Any) -> int:
    if stream.frames:
        return int(stream.frames)
    rate = float(stream.average_rate or 24)
    return max(1, round(float(container.duration or 0) / 1_000_000 * rate))


def make_stills(path: str) -> Stills:
    """The stills of the MP4 at `path`; UpstreamFileUnusable when PyAV cannot decode a picture of it
    (its boxes were whole, its media is not)."""
    import av

    try:
        return _decoded(path)
    except (av.error.FFmpegError, IndexError, _NoFramesError) as e:
        logger.warning("the video cannot be decoded: %s", e)
        raise UpstreamFileUnusable("The provider's file is not a video: it cannot be decoded.") from e


class _NoFramesError(ValueError):
    pass


def _decoded(path: str) -> Stills:
    import av
    from PIL import Image

    with av.open(path) as container:
        stream = container.streams.video[0]
        total = _frame_count(stream, container)
        tiles = COLUMNS * ROWS
        wanted = {round(i * (total - 1) / (tiles - 1)): i for i in range(tiles)}
        middle = total // 2
        width, height = stream.codec_context.width, stream.codec_context.height
        sheet = Image.new("RGB", (width, height))
        thumbnail = None
        last = None
        for index, frame in enumerate(container.decode(stream)):
            if index not in wanted and index != middle:
                continue
            picture = frame.to_image()  # type: ignore[no-untyped-call]
            if index == middle:
                thumbnail = picture
            if index in wanted:
                left, top, right, bottom = _cell(wanted[index], width, height)
                sheet.paste(picture.resize((right - left, bottom - top)), (left, top))
            last = picture
        if last is None:
            raise _NoFramesError("the video has no frames")
    return Stills(_jpeg(thumbnail or last), _jpeg(sheet))


def _cell(tile: int, width: int, height: int) -> tuple[int, int, int, int]:
    """The box of the sheet a tile fills (left, top, right, bottom)."""
    column, row = tile % COLUMNS, tile // COLUMNS
    left, right = column * width // COLUMNS, (column + 1) * width // COLUMNS
    top, bottom = row * height // ROWS, (row + 1) * height // ROWS
    return left, top, right, bottom


def _jpeg(picture: Any) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()
