"""What a reference image is, told by its bytes (never by its name or the type a client claims)."""

from __future__ import annotations

from videos_core.errors import InvalidRequest

_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def image_type(content: bytes) -> str:
    """The media type of a PNG, JPEG or WebP image, from its bytes; InvalidRequest for anything else."""
    for signature, media_type in _SIGNATURES:
        if content.startswith(signature):
            return media_type
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    raise InvalidRequest("input_reference must be a PNG, JPEG or WebP image.", param="input_reference")
