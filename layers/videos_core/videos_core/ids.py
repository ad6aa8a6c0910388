"""Video ids: `vid_` followed by a 26-character ULID, so ids sort by creation time."""

from __future__ import annotations

import re
import secrets
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VIDEO_ID = re.compile(r"vid_[0-7][0-9A-HJKMNP-TV-Z]{25}")
PREFIX = "vid_"


def new_ulid(now_ms: int | None = None) -> str:
    timestamp = int(time.time() * 1000) if now_ms is None else now_ms
    value = (timestamp << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def new_video_id(now_ms: int | None = None) -> str:
    return PREFIX + new_ulid(now_ms)


def is_video_id(value: str) -> bool:
    return _VIDEO_ID.fullmatch(value) is not None


def new_file_id() -> str:
    """An upload's id: `file_` and a ULID."""
    return "file_" + new_ulid()


def new_character_id() -> str:
    """A character's id: `char_` and a ULID."""
    return "char_" + new_ulid()


def created_at(video_id: str) -> float:
    """When a video id was minted (epoch seconds), read from its ULID's time."""
    value = 0
    for char in video_id.removeprefix(PREFIX)[:10]:
        value = value * 32 + _CROCKFORD.index(char)
    return value / 1000


def new_webhook_endpoint_id() -> str:
    """A webhook endpoint's id: `we_` and a ULID, so an owner's endpoints list newest first by id."""
    return "we_" + new_ulid()
