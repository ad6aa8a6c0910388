"""Luma's Dream Machine API (api.lumalabs.ai): Ray 2 and Ray Flash 2, text to video, then a generation
polled or called back about.

Sources: Luma's API documentation (docs.lumalabs.ai: "Video Generation", "Errors", "Rate Limits",
"FAQ" and the changelog's "Callbacks & Credits Balance"), its OpenAPI document
(github.com/lumalabs/lumaai-api, `openapi.yaml`: `POST /dream-machine/v1/generations/video` answered
201 with the generation, `GET` and `DELETE /dream-machine/v1/generations/{id}`, an error as
`{"detail"}`), and its official Python SDK, lumaai 1.21.0 (`LumaAI(auth_token, base_url)`,
`generations.video.create`: `model` ray-2 or ray-flash-2, `aspect_ratio` 1:1, 16:9, 9:16, 4:3, 3:4,
21:9 or 9:21, `resolution` 540p, 720p, 1080p or 4k, `duration` "5s" or "9s", `keyframes`,
`callback_url`; `generations.get`, `generations.delete`; the states queued, dreaming, completed and
failed with `failure_reason`; the video at `assets.video`). A prompt takes 3 to 5000 characters. Ray
1.6 (ray-1-6), still in the OpenAPI document, is gone from the SDK's models and is not offered.

Luma bills a video by its pixels: $0.0064 a million on Ray 2 and $0.0022 on Ray Flash 2, at 24 frames
a second (its API price list for these models as published; the list now shows the Agents API's
models, and resellers' tables quote the same figures: 5 s of 16:9 at 720p is $0.71 on Ray 2, 5 s at
4k $6.37 on Ray 2 and $2.19 on Ray Flash 2). Each size's price per second is its pixels times 24 times
the rate.

Image to video is not offered: Luma reads a keyframe only from a URL its servers fetch ("You should
upload and use your own cdn image urls, currently this is the only way to pass an image") and
documents no data URI, and this service hands a provider a reference's bytes, not a URL of them.

Luma calls `callback_url` with the generation, as a GET reads it, when it starts dreaming and when it
ends; it signs nothing, so the callback URL's per-job token authenticates a call. `DELETE
/generations/{id}` removes a generation: Luma documents no way to stop one, so a deleted job is not
cancelled there.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from videos_core.capabilities import profile
from videos_core.providers.plugin import Callbacks, Provider
from videos_core.sizes import COMMON_RATIOS, WIDE_RATIOS

_PROMPT_CHARS = 5000
_SECONDS = ("5", "9")
# The aspect ratios Luma takes, each a named ratio of `videos_core.sizes`.
RATIOS = (*COMMON_RATIOS, "4:3", "3:4", *WIDE_RATIOS)
# The shorter side of a picture at each of Luma's resolutions, 720p first (Luma's own examples').
_SHORT_SIDES = {"720p": 720, "540p": 540, "1080p": 1080, "4k": 2160}
# Luma's name of a resolution where it is not the picture's shorter side (`videos_core.sizes` names it).
RESOLUTION_NAMES = {"2160p": "4k"}
_FRAMES_PER_SECOND = 24
# USD per million pixels of video.
_RATES = {"ray-2": Decimal("0.0064"), "ray-flash-2": Decimal("0.0022")}


def _picture(ratio: str, short: int) -> str:
    """A ratio's picture whose shorter side is `short`, the longer side to an even pixel count (4:3 at
    540 is 720x540, 21:9 at 720 is 1680x720)."""
    width, _, height = ratio.partition(":")
    across, down = int(width), int(height)
    long = round(Fraction(short * max(across, down), min(across, down)) / 2) * 2
    return f"{long}x{short}" if across >= down else f"{short}x{long}"


_SIZES = tuple(_picture(ratio, short) for short in _SHORT_SIDES.values() for ratio in RATIOS)


def _price_of(family: str, size: str) -> Decimal:
    """USD per second of a size: its pixels at 24 frames a second, at the family's rate."""
    width, _, height = size.partition("x")
    pixels_per_second = int(width) * int(height) * _FRAMES_PER_SECOND
    return (_RATES[family] * pixels_per_second / 1_000_000).quantize(Decimal("0.000001"))


def _other_prices(family: str) -> dict[str, str]:
    """The sizes whose price differs from the first size's (the family's price), with theirs."""
    prices = {size: _price_of(family, size) for size in _SIZES}
    return {size: str(price) for size, price in prices.items() if price != prices[_SIZES[0]]}


PROFILES = {
    family: profile(
        _SECONDS,
        _SIZES,
        prompt=_PROMPT_CHARS,
        reference=False,
        audio=False,
        price=str(_price_of(family, _SIZES[0])),
    )
    for family in _RATES
}

PROVIDER = Provider(
    name="luma",
    title="Luma's Dream Machine API (Ray 2 and Ray Flash 2: generations polled or called back)",
    profiles=PROFILES,
    adapter="videos_core.providers.luma.adapter:LumaUpstream",
    default_base_url="https://api.lumalabs.ai",
    # DELETE /generations/{id} removes a generation; Luma documents no cancel of one dreaming.
    cancels=False,
    # The callback's body is the generation: its `id` names it.
    callbacks=Callbacks(job_id_field="id"),
    prices_by_size={family: _other_prices(family) for family in _RATES},
)
