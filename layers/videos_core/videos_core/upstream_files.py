"""What a file from an upstream must be before it is stored: the video an MP4 (its boxes whole, a movie
with a video track), a thumbnail or spritesheet a JPEG, PNG or WebP image; none empty, none larger
than MAX_STORED_FILE_BYTES. Checked while the bytes stream into S3, holding back the last chunk until
the whole file has passed: a bad file fails the copy before its upload completes (a multipart one is
aborted), and only the movie's header boxes are held, never the media."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from videos_core.errors import UpstreamFileUnusable
from videos_core.images import image_type_of
from videos_core.mp4 import Mp4Stream, NotAnMp4Error

# The largest file stored from an upstream: far past any provider's video (minutes of 1080p are some
# 100 MB), and within the smaller disk of the two finalisers that keep a video there while they make
# its stills (the webhook function's 512 MB of /tmp; StoreAssets has 2 GB).
MAX_STORED_FILE_BYTES = 400 * 1024 * 1024
# How much of a file's start is kept to say what it is when it is not what it should be.
_HEAD_BYTES = 64


def checked(variant: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """`chunks` passed on as they come, but the last only once the whole file has been found to be
    what `variant` names; UpstreamFileUnusable, naming what it is instead, otherwise."""
    check = _Check(variant)
    held: bytes | None = None
    for chunk in chunks:
        if chunk:
            check.feed(chunk)
            if held is not None:
                yield held
            held = chunk
    check.finish()
    if held is not None:
        yield held


class _Check:
    """One file's check: its size and start as it comes (an MP4's boxes too), then the whole."""

    def __init__(self, variant: str) -> None:
        self._variant = variant
        self._mp4 = Mp4Stream() if variant == "video" else None
        self._head = b""
        self._size = 0

    def feed(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > MAX_STORED_FILE_BYTES:
            raise self._unusable(f"it is larger than {MAX_STORED_FILE_BYTES // 2**20} MiB")
        if len(self._head) < _HEAD_BYTES:
            self._head += chunk[: _HEAD_BYTES - len(self._head)]
        if self._mp4 is not None:
            self._read_mp4(self._mp4.feed, chunk)

    def finish(self) -> None:
        if not self._size:
            raise self._unusable("it is empty")
        mp4 = self._mp4
        if mp4 is not None:
            self._read_mp4(lambda _: mp4.finish(), b"")
        elif image_type_of(self._head) is None:
            raise self._unusable(what_it_is(self._head, None))

    def _read_mp4(self, step: Callable[[bytes], object], chunk: bytes) -> None:
        try:
            step(chunk)
        except NotAnMp4Error as e:
            raise self._unusable(what_it_is(self._head, e)) from e

    def _unusable(self, what: str) -> UpstreamFileUnusable:
        if self._variant == "video":
            return UpstreamFileUnusable(f"The provider's file is not a video: {what}.")
        return UpstreamFileUnusable(f"The provider's {self._variant} is not an image: {what}.")


def what_it_is(head: bytes, error: NotAnMp4Error | None) -> str:
    """What a file that is not the media it should be is, from its first bytes (or what its MP4
    boxes lack)."""
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "it is HTML"
    if text.startswith(b"<"):
        return "it is XML"
    if text.startswith((b"{", b"[")):
        return "it is JSON"
    image = image_type_of(head)
    if image is not None:
        return f"it is an image ({image})"
    if error is not None and head[4:8] == b"ftyp":
        return f"the MP4 {error}"
    return f"its first bytes are {head[:8].hex(' ')}"
