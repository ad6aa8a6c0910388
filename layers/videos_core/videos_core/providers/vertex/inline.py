"""A finished operation's video as Vertex AI returns it without a `storageUri`: inline, a base64 string
(`response.videos[0].bytesBase64Encoded`) inside the operation's JSON. `InlineVideo` reads the JSON as
it streams and decodes that string as it arrives, a few bytes held between chunks, so neither the
document nor the video is ever whole in memory; the rest of the document (the string emptied) is kept
and parsed once read.

The string is found by its key and read to its closing quote: base64 has no character JSON escapes but
`/`, which an encoder may write `\\/`."""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Iterator
from typing import Any

from videos_core.errors import UpstreamRetryableError

# The inline video's key, its colon and the string's opening quote (an escaped key, `\\"…\\"`, is
# inside another string, and never matches: the character before its closing quote is a backslash).
_OPENING = re.compile(rb'"bytesBase64Encoded"\s*:\s*"')
# How much of the document's end is held back while the key is looked for: a key split across chunks.
_HELD_BYTES = 64


class InlineVideo:
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._document = bytearray()
        self.found = False
        self.decoded_bytes = 0

    def chunks(self) -> Iterator[bytes]:
        """The inline video's bytes as they stream (none when the document has no inline video)."""
        pending = self._before_video()
        if pending is None:
            return
        self.found = True
        carried = b""
        while True:
            end = pending.find(b'"')
            encoded, carried = _usable(carried + (pending if end < 0 else pending[:end]), end >= 0)
            if encoded:
                decoded = _decode(encoded)
                self.decoded_bytes += len(decoded)
                yield decoded
            if end >= 0:
                self._document += pending[end:]
                return
            pending = next(self._chunks, None)
            if pending is None:
                raise UpstreamRetryableError("The upstream's operation ended inside its video.")

    def document(self) -> Any:
        """The whole operation, its inline video's string emptied (read to its end first)."""
        for _ in self.chunks():
            pass
        for chunk in self._chunks:
            self._document += chunk
        try:
            return json.loads(self._document)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise UpstreamRetryableError("The upstream answered with a malformed operation.") from e

    def _before_video(self) -> bytes | None:
        """Reads the document up to its inline video's opening quote; what follows it of the chunk
        that held it, or None when the document has no inline video."""
        if self.found:
            return None
        held = b""
        for chunk in self._chunks:
            held += chunk
            opening = _OPENING.search(held)
            if opening is not None:
                self._document += held[: opening.end()]
                return held[opening.end() :]
            self._document += held[:-_HELD_BYTES]
            held = held[-_HELD_BYTES:]
        self._document += held
        return None


def _usable(text: bytes, ended: bool) -> tuple[bytes, bytes]:
    """The base64 that decodes now (whole groups of four, or all of it at the end) and what is held
    for the next chunk; `\\/` read as `/`."""
    if text.endswith(b"\\") and not ended:
        text, escape = text[:-1], b"\\"
    else:
        escape = b""
    text = text.replace(b"\\/", b"/")
    if b"\\" in text:
        raise UpstreamRetryableError("The upstream's inline video is not base64.")
    whole = len(text) if ended else len(text) // 4 * 4
    return text[:whole], text[whole:] + escape


def _decode(encoded: bytes) -> bytes:
    try:
        return binascii.a2b_base64(encoded, strict_mode=True)
    except binascii.Error as e:
        raise UpstreamRetryableError("The upstream's inline video is not base64.") from e
