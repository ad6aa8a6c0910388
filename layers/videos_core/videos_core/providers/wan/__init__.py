"""Wan on Alibaba Cloud Model Studio (DashScope, dashscope-intl.aliyuncs.com): text or an image to video,
then an asynchronous task to poll.

Sources: Model Studio's API references "Wan - text-to-video API reference (2.1-2.6)" and "Wan -
image-to-video - first frame API reference (2.1-2.6)" (the legacy protocol: `POST
/api/v1/services/aigc/video-generation/video-synthesis` with `X-DashScope-Async: enable`; `input.prompt`,
`input.img_url`; `parameters.size` as `W*H` from each resolution tier's list for text, or
`parameters.resolution` as a tier for an image; `parameters.duration`; prompts of at most 1500
characters for wan2.6 and wan2.5, 800 for wan2.2, longer ones truncated; the task statuses PENDING,
RUNNING, SUCCEEDED, FAILED, CANCELED and UNKNOWN; `output.video_url` kept 24 hours), "Manage
asynchronous tasks" (`GET /api/v1/tasks/{task_id}`; `POST /api/v1/tasks/{task_id}/cancel`, for a
PENDING task only: any other is a 400 UnsupportedOperation), "Error messages" (`{request_id, code,
message}`; DataInspectionFailed and IPInfringementSuspect are content moderation, of the input or the
output), and the official Python SDK, dashscope 2.0 (`VideoSynthesis.async_call`, `fetch`, `wait`,
`cancel`; the body it sends). Prices are Model Studio's international list prices per second: wan2.6
$0.10 at 720P and $0.15 at 1080P; wan2.5 $0.05 at 480P, $0.10 at 720P and $0.15 at 1080P; wan2.2
$0.02 at 480P and $0.10 at 1080P.

Each family is a text-to-video model; a job with a reference image is made by the family's
image-to-video model (same tiers, lengths and prices) from that image, at the tier of the size asked
for and in the image's own shape. wan2.6 and wan2.5 make their videos with sound (the legacy protocol
has no switch for it), wan2.2 without. Model Studio sends no callback a create can name (its task
events go to an account's EventBridge rules): tasks are polled. Wan 2.7 speaks another protocol
(`input.media`, `parameters.ratio`) and is not offered here.
"""

from __future__ import annotations

from collections.abc import Mapping

from videos_core.capabilities import profile
from videos_core.providers.plugin import Provider

# The pictures of each resolution tier, as `size` names them (`832*480` here is 832x480).
TIERS: Mapping[str, tuple[str, ...]] = {
    "480P": ("832x480", "480x832", "624x624"),
    "720P": ("1280x720", "720x1280", "960x960", "1088x832", "832x1088"),
    "1080P": ("1920x1080", "1080x1920", "1440x1440", "1632x1248", "1248x1632"),
}
_WAN_PROMPT_CHARS = 1500
_WAN22_PROMPT_CHARS = 800
# 5 first: Model Studio's default length.
_WAN26_SECONDS = ("5", *(str(n) for n in range(2, 16) if n != 5))


def sizes_of(*tiers: str) -> tuple[str, ...]:
    return tuple(size for tier in tiers for size in TIERS[tier])


def tier_of(size: str) -> str | None:
    """The resolution tier a size belongs to (960x960 is 720P), or None."""
    return next((tier for tier, sizes in TIERS.items() if size in sizes), None)


def _priced(prices: Mapping[str, str]) -> dict[str, str]:
    """A family's prices by size, from its prices by tier."""
    return {size: price for tier, price in prices.items() for size in TIERS[tier]}


PROFILES = {
    # 720P first: the cheaper tier (Model Studio's default is 1080P).
    "wan2.6-t2v": profile(
        _WAN26_SECONDS,
        sizes_of("720P", "1080P"),
        prompt=_WAN_PROMPT_CHARS,
        reference=True,
        audio=True,
        price="0.10",
    ),
    "wan2.5-t2v-preview": profile(
        ("5", "10"),
        sizes_of("720P", "480P", "1080P"),
        prompt=_WAN_PROMPT_CHARS,
        reference=True,
        audio=True,
        price="0.10",
    ),
    # 480P first: the cheaper tier; wan2.2 makes 5 seconds only.
    "wan2.2-t2v-plus": profile(
        ("5",),
        sizes_of("480P", "1080P"),
        prompt=_WAN22_PROMPT_CHARS,
        reference=True,
        audio=False,
        price="0.02",
    ),
}
# Each family's image-to-video model, which makes its jobs that start from an image.
IMAGE_MODELS = {
    "wan2.6-t2v": "wan2.6-i2v",
    "wan2.5-t2v-preview": "wan2.5-i2v-preview",
    "wan2.2-t2v-plus": "wan2.2-i2v-plus",
}

PROVIDER = Provider(
    name="wan",
    title="Wan on Alibaba Cloud Model Studio (DashScope: text and image to video, polled tasks)",
    profiles=PROFILES,
    adapter="videos_core.providers.wan.adapter:WanUpstream",
    default_base_url="https://dashscope-intl.aliyuncs.com",
    # A cancel stops a task still PENDING only: a running one is not cancelled.
    cancels=False,
    prices_by_size={
        "wan2.6-t2v": _priced({"1080P": "0.15"}),
        "wan2.5-t2v-preview": _priced({"480P": "0.05", "1080P": "0.15"}),
        "wan2.2-t2v-plus": _priced({"1080P": "0.10"}),
    },
)
