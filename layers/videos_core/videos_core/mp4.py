"""What an uploaded MP4 is, read from its boxes (ISO/IEC 14496-12) without decoding it: its length
(the movie header's duration over its timescale) and its picture's size (the video track header's
width and height), for pricing and sizing a job made from it before the upstream is asked."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from videos_core.errors import InvalidRequest

_CONTAINERS = {b"moov", b"trak", b"mdia"}


@dataclass(frozen=True)
class Mp4Facts:
    seconds: float
    width: int
    height: int


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, body end) of each box in data[start:end]."""
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1 and at + 16 <= end:
            (size,) = struct.unpack_from(">Q", data, at + 8)
            header = 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            return
        yield kind, at + header, at + size
        at += size


def _find(data: bytes, start: int, end: int, path: list[bytes]) -> Iterator[tuple[int, int]]:
    for kind, body, stop in _boxes(data, start, end):
        if kind == path[0]:
            if len(path) == 1:
                yield body, stop
            elif kind in _CONTAINERS:
                yield from _find(data, body, stop, path[1:])


def _duration(data: bytes, body: int) -> float:
    version = data[body]
    if version == 1:
        timescale, duration = struct.unpack_from(">IQ", data, body + 20)
    else:
        timescale, duration = struct.unpack_from(">II", data, body + 12)
    return duration / timescale if timescale else 0.0


def _picture(data: bytes, stop: int) -> tuple[int, int]:
    """A track header's width and height (16.16 fixed point, its last eight bytes)."""
    width, height = struct.unpack_from(">II", data, stop - 8)
    return width >> 16, height >> 16


def mp4_facts(content: bytes, param: str = "video") -> Mp4Facts:
    """The length and picture size of an MP4 with a video track; InvalidRequest for anything else."""
    try:
        if content[4:8] != b"ftyp":
            raise ValueError("no ftyp box")
        end = len(content)
        seconds = next(_duration(content, body) for body, _ in _find(content, 0, end, [b"moov", b"mvhd"]))
        pictures = [
            _picture(content, stop) for _, stop in _find(content, 0, end, [b"moov", b"trak", b"tkhd"])
        ]
        width, height = next(p for p in pictures if p[0] and p[1])
    except (ValueError, StopIteration, struct.error, IndexError) as e:
        raise InvalidRequest(f"{param} must be an MP4 video with a video track.", param=param) from e
    if seconds <= 0:
        raise InvalidRequest(f"{param} has no length.", param=param)
    return Mp4Facts(seconds, width, height)


def mp4_type(content: bytes) -> str:
    """The media type of an uploaded video that is an MP4; InvalidRequest for anything else."""
    mp4_facts(content)
    return "video/mp4"
