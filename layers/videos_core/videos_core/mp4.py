"""What an MP4 is, read from its boxes (ISO/IEC 14496-12) without decoding it: its length (the movie
header's duration over its timescale) and its picture's size (the video track header's width and
height), for pricing and sizing a job made from an uploaded one before the upstream is asked; and
whether a file streaming in from an upstream is a whole MP4 (`Mp4Stream`), before it is stored."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from videos_core.errors import InvalidRequest

_CONTAINERS = {b"moov", b"trak", b"mdia"}
# The top-level boxes an Mp4Stream keeps to read the movie from (the media, in mdat, is only counted),
# and how large it lets them be: a movie header is a few KiB to a few MiB, even for long videos.
_KEPT = {b"ftyp", b"moov"}
MAX_KEPT_BOX_BYTES = 64 * 1024 * 1024


class NotAnMp4Error(ValueError):
    """Why bytes are not an MP4 with a video track (the message completes "it …")."""


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


def read_facts(content: bytes) -> Mp4Facts:
    """The length and picture size of an MP4 with a video track (its moov box is enough: the media
    is not read); NotAnMp4Error saying what it lacks."""
    if content[4:8] != b"ftyp":
        raise NotAnMp4Error("does not start with an ftyp box")
    end = len(content)
    try:
        seconds = next(
            (_duration(content, body) for body, _ in _find(content, 0, end, [b"moov", b"mvhd"])), None
        )
        if seconds is None:
            raise NotAnMp4Error("has no movie header (moov/mvhd)")
        pictures = [
            _picture(content, stop) for _, stop in _find(content, 0, end, [b"moov", b"trak", b"tkhd"])
        ]
    except (struct.error, IndexError) as e:
        raise NotAnMp4Error("has a malformed movie header") from e
    picture = next((p for p in pictures if p[0] and p[1]), None)
    if picture is None:
        raise NotAnMp4Error("has no video track")
    if seconds <= 0:
        raise NotAnMp4Error("has no length")
    return Mp4Facts(seconds, *picture)


def mp4_facts(content: bytes, param: str = "video") -> Mp4Facts:
    """The length and picture size of an MP4 with a video track; InvalidRequest for anything else."""
    try:
        return read_facts(content)
    except NotAnMp4Error as e:
        if str(e) == "has no length":
            raise InvalidRequest(f"{param} has no length.", param=param) from e
        raise InvalidRequest(f"{param} must be an MP4 video with a video track.", param=param) from e


def mp4_type(content: bytes) -> str:
    """The media type of an uploaded video that is an MP4; InvalidRequest for anything else."""
    mp4_facts(content)
    return "video/mp4"


class Mp4Stream:
    """An MP4 read as it streams in, chunk by chunk: its top-level boxes followed across chunks, the
    ftyp and moov boxes kept, the rest (the media) only counted. `feed` refuses a start that is not an
    MP4's at once; `finish` says whether what came is a whole MP4 with a video track."""

    def __init__(self) -> None:
        self.size = 0
        self.kinds: list[bytes] = []
        self._header = bytearray()
        self._kind = b""
        self._left = 0  # bytes of the current box still to come
        self._to_end = False  # the current box runs to the end of the file (size 0)
        self._kept: dict[bytes, bytearray] = {}

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        view = memoryview(chunk)
        while view:
            if self._left or self._to_end:
                taken = view if self._to_end else view[: self._left]
                if self._kind in self._kept:
                    self._kept[self._kind] += taken
                self._left -= 0 if self._to_end else len(taken)
                view = view[len(taken) :]
                continue
            need = 16 if len(self._header) >= 8 and self._header[:4] == b"\0\0\0\1" else 8
            taken = view[: need - len(self._header)]
            self._header += taken
            view = view[len(taken) :]
            if len(self._header) == need and not (need == 8 and self._header[:4] == b"\0\0\0\1"):
                self._open_box()

    def _open_box(self) -> None:
        header = bytes(self._header)
        self._header.clear()
        size, kind = struct.unpack_from(">I4s", header)
        if len(header) == 16:
            (size,) = struct.unpack_from(">Q", header, 8)
        if not self.kinds and kind != b"ftyp":
            raise NotAnMp4Error("does not start with an ftyp box")
        if size and size < len(header):
            raise NotAnMp4Error(f"has a malformed {_name(kind)} box")
        self.kinds.append(kind)
        self._kind, self._to_end, self._left = kind, size == 0, max(0, size - len(header))
        if kind in _KEPT:
            if size == 0 or size > MAX_KEPT_BOX_BYTES:
                raise NotAnMp4Error(f"has a {_name(kind)} box of {size:,} bytes")
            self._kept[kind] = bytearray(header)

    def finish(self) -> Mp4Facts:
        """The facts of the whole MP4 that came; NotAnMp4Error saying what is wrong with it."""
        if self._left or self._header:
            kind, size = _name(self._kind), self.size
            raise NotAnMp4Error(f"is cut short, inside its {kind} box, after {size:,} bytes")
        if not self.kinds:
            raise NotAnMp4Error("is too short to be an MP4")
        if b"mdat" not in self.kinds:
            raise NotAnMp4Error("has no media (mdat box)")
        if b"moov" not in self.kinds:
            raise NotAnMp4Error("has no movie header (moov box)")
        return read_facts(bytes(self._kept[b"ftyp"] + self._kept[b"moov"]))


def _name(kind: bytes) -> str:
    return repr(kind.decode("latin-1"))
