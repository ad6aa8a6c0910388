"""Runway's API (api.dev.runwayml.com): text or an image to video, then a task to poll.

Sources: Runway's API reference and guides (docs.dev.runwayml.com: "API Getting Started Guide",
"API Errors", "Handle Task Failures", "Inputs") and its official Python SDK, runwayml 5.24
(`text_to_video.create`, `image_to_video.create`, `tasks.retrieve`, `tasks.delete`; the
`X-Runway-Version: 2024-11-06` header it sends; each model's `duration`, `ratio` and `promptText` of
at most 1000 UTF-16 code units); prices from Runway's API reference of its models (credits per
second, a credit at $0.01: gen4.5 12, gen4_turbo 5, veo3.1 40 with audio, veo3.1_fast 15 with
audio). gen4_turbo makes video from an image only (image_to_video); Runway names sizes as pixel
ratios ("1280:720"). Runway's video-to-video models (Aleph) edit a video and are not offered here,
nor are its third-party models other than Veo 3.1. Runway calls nothing back: tasks are polled.
"""

from __future__ import annotations

from videos_core.capabilities import Capabilities, profile
from videos_core.providers.plugin import Provider

# promptText: "a non-empty string up to 1000 characters (measured in UTF-16 code units)".
_PROMPT_CHARS = 1000
# gen4.5 and gen4_turbo make 2 to 10 seconds; 5 is Runway's own examples' length.
_GEN4_SECONDS = ("5", "2", "3", "4", "6", "7", "8", "9", "10")
_VEO_SECONDS = ("8", "4", "6")
_LANDSCAPE_PORTRAIT = ("1280x720", "720x1280")
_GEN4_TURBO_SIZES = (*_LANDSCAPE_PORTRAIT, "1104x832", "832x1104", "960x960", "1584x672")
_VEO_SIZES = (*_LANDSCAPE_PORTRAIT, "1920x1080", "1080x1920")


def _model(seconds: tuple[str, ...], sizes: tuple[str, ...], audio: bool, price: str) -> Capabilities:
    return profile(seconds, sizes, prompt=_PROMPT_CHARS, reference=True, audio=audio, price=price)


PROFILES = {
    # Text to video takes 1280:720 and 720:1280 only (image to video takes four ratios more).
    "gen4.5": _model(_GEN4_SECONDS, _LANDSCAPE_PORTRAIT, False, "0.12"),
    # An image is required: a create without one is refused before Runway is called.
    "gen4_turbo": _model(_GEN4_SECONDS, _GEN4_TURBO_SIZES, False, "0.05"),
    # Sent with `audio: true`, the price listed (20 and 10 credits a second without audio).
    "veo3.1": _model(_VEO_SECONDS, _VEO_SIZES, True, "0.40"),
    "veo3.1_fast": _model(_VEO_SECONDS, _VEO_SIZES, True, "0.15"),
}
# The families that make video from an image only.
IMAGE_ONLY = frozenset({"gen4_turbo"})
# The families that take `audio`.
WITH_AUDIO = frozenset({"veo3.1", "veo3.1_fast"})
# The API version this adapter speaks, sent as X-Runway-Version (the SDK's default).
API_VERSION = "2024-11-06"

PROVIDER = Provider(
    name="runway",
    title="Runway's API (text and image to video, polled tasks)",
    profiles=PROFILES,
    adapter="videos_core.providers.runway.adapter:RunwayUpstream",
    default_base_url="https://api.dev.runwayml.com",
    # DELETE /v1/tasks/{id} cancels a pending, throttled or running task.
    cancels=True,
)
