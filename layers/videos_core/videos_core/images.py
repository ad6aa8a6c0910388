"""What a reference image is, told by its bytes (never by its name or the type a client claims)."""

from __future__ import annotations

import base64
import binascii

from videos_core.errors import InvalidRequest, RequestTooLarge
from videos_core.ports import Reference

_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def image_type_of(content: bytes) -> str | None:
    """The media type of a PNG, JPEG or WebP image, from its first 12 bytes; None for anything else."""
    for signature, media_type in _SIGNATURES:
        if content.startswith(signature):
            return media_type
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_type(content: bytes) -> str:
    """The media type of a PNG, JPEG or WebP image, from its bytes; InvalidRequest for anything else."""
    media_type = image_type_of(content)
    if media_type is None:
        raise InvalidRequest("input_reference must be a PNG, JPEG or WebP image.", param="input_reference")
    return media_type


def data_url_image(url: str, max_bytes: int) -> Reference:
    """The image a base64 `data:` URL carries (`data:image/png;base64,…`), told by its bytes."""
    header, comma, data = url.partition(",")
    if not comma or not header.endswith(";base64"):
        raise InvalidRequest(
            "input_reference.image_url must be a base64 data: URL (data:image/png;base64,…).",
            param="input_reference",
        )
    try:
        content = base64.b64decode(data, validate=True)
    except binascii.Error as e:
        raise InvalidRequest("input_reference.image_url is not valid base64.", param="input_reference") from e
    if len(content) > max_bytes:
        raise RequestTooLarge(f"input_reference may be at most {max_bytes:,} bytes.", param="input_reference")
    return Reference(filename="reference", content=content, content_type=image_type(content))
