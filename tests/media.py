"""Decoding of the media the engine renders, so tests check real bytes."""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Mp4Facts:
    video_codec: str
    audio_codec: str
    width: int
    height: int
    duration: float
    frames: int
    fps: float


def probe_mp4(data: bytes) -> Mp4Facts:
    with av.open(io.BytesIO(data), mode="r") as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        frames = sum(1 for _ in container.decode(video=0))
        return Mp4Facts(
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name,
            width=video.codec_context.width,
            height=video.codec_context.height,
            duration=float(container.duration or 0) / av.time_base,
            frames=frames,
            fps=float(video.average_rate or 0),
        )


def jpeg_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        image.load()
        return image.size


def png_bytes(width: int = 64, height: int = 64, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def gray_frames(data: bytes) -> list[np.ndarray]:
    """Every frame of an MP4's video, as luma planes (float, for comparing)."""
    with av.open(io.BytesIO(data), mode="r") as container:
        return [frame.to_ndarray(format="gray").astype(np.float32) for frame in container.decode(video=0)]
