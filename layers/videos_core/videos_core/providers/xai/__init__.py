"""xAI's video API (api.x.ai): Grok Imagine, text or an image to video, then a deferred request to poll.

Sources: xAI's documentation (docs.x.ai: "Video Generation" and "Image-to-Video" under Model
Capabilities, the video overview's limits, "Debugging Errors", the REST API reference's videos
endpoints and its models page), and xAI's official SDK, xai-sdk (`video.generate`: `duration` of 1 to 15
seconds, default 8; `aspect_ratio` 1:1, 16:9, 9:16, 4:3, 3:4, 3:2 or 2:3, default 16:9; `resolution`
480p or 720p, and 1080p on grok-imagine-video-1.5's text to video, default 480p; `image_url` a URL or
a base64 data URI; the deferred statuses PENDING, DONE, EXPIRED and FAILED; `respect_moderation`; every
video with its audio track; the URL valid for 24 hours). A prompt takes at most 4096 characters. The
pictures each ratio makes (848x480 is 16:9 at 480p) are the sizes xAI's own size list and its
resellers' tables give. Prices are xAI's list prices per second of output: grok-imagine-video $0.05 at
480p and $0.07 at 720p; grok-imagine-video-1.5 $0.08, $0.14 and $0.25 at 1080p; its lite model a
quarter of those ($0.02 and $0.035). xAI documents no cancel and calls nothing back: requests are
polled. Its video edits and extensions (`/v1/videos/edits`, `/v1/videos/extensions`, which take a
video's URL) are not offered here.
"""

from __future__ import annotations

from videos_core.capabilities import profile
from videos_core.providers.plugin import Provider
from videos_core.sizes import COMMON_RATIOS, PHOTO_RATIOS

_PROMPT_CHARS = 4096
# 1 to 15 seconds; 8 is xAI's default.
_SECONDS = ("8", *(str(n) for n in range(1, 16) if n != 8))
# The aspect ratios xAI takes.
RATIOS = COMMON_RATIOS + PHOTO_RATIOS
# The longer side of each ratio's picture at each resolution (the shorter side is the resolution).
_LONG_SIDES = {
    "480p": {"16:9": 848, "1:1": 480, "4:3": 640, "3:2": 720},
    "720p": {"16:9": 1280, "1:1": 720, "4:3": 960, "3:2": 1080},
    "1080p": {"16:9": 1920, "1:1": 1080, "4:3": 1440, "3:2": 1620},
}


def sizes_at(resolution: str) -> tuple[str, ...]:
    """Each aspect ratio's picture at a resolution, landscape before portrait (16:9's first)."""
    short = int(resolution.removesuffix("p"))
    found: list[str] = []
    for long in _LONG_SIDES[resolution].values():
        found.append(f"{long}x{short}")
        if long != short:
            found.append(f"{short}x{long}")
    return tuple(found)


# The resolutions xAI makes from an image (1080p is text to video only).
IMAGE_RESOLUTIONS = frozenset({"480p", "720p"})
_UP_TO_720P = sizes_at("480p") + sizes_at("720p")

PROFILES = {
    # 480p first: xAI's default.
    "grok-imagine-video": profile(
        _SECONDS, _UP_TO_720P, prompt=_PROMPT_CHARS, reference=True, audio=True, price="0.05"
    ),
    "grok-imagine-video-1.5": profile(
        _SECONDS,
        _UP_TO_720P + sizes_at("1080p"),
        prompt=_PROMPT_CHARS,
        reference=True,
        audio=True,
        price="0.08",
    ),
    "grok-imagine-video-1.5-lite": profile(
        _SECONDS, _UP_TO_720P, prompt=_PROMPT_CHARS, reference=True, audio=True, price="0.02"
    ),
}


def _priced(prices: dict[str, str]) -> dict[str, str]:
    """A family's prices by size, from its prices by resolution above its 480p one."""
    return {size: price for resolution, price in prices.items() for size in sizes_at(resolution)}


PRICES_BY_SIZE = {
    "grok-imagine-video": _priced({"720p": "0.07"}),
    "grok-imagine-video-1.5": _priced({"720p": "0.14", "1080p": "0.25"}),
    "grok-imagine-video-1.5-lite": _priced({"720p": "0.035"}),
}

PROVIDER = Provider(
    name="xai",
    title="xAI's video API (Grok Imagine: text and image to video, polled deferred requests)",
    profiles=PROFILES,
    adapter="videos_core.providers.xai.adapter:XaiUpstream",
    default_base_url="https://api.x.ai",
    prices_by_size=PRICES_BY_SIZE,
)
