"""Google's Veo models through the Gemini API (`predictLongRunning`).

Sources: the Gemini API's video guide (ai.google.dev/gemini-api/docs/video) and the google-genai
SDK's request mapping (`_GenerateVideosParameters_to_mldev`): durations, aspect ratios 16:9 and
9:16, resolutions 720p and 1080p, an image to start from; prices from the Gemini API's pricing page.
"""

from __future__ import annotations

from videos_core.capabilities import Capabilities, profile
from videos_core.providers.plugin import Provider

_720P = ("1280x720", "720x1280")
_1080P = ("1920x1080", "1080x1920")
# About 1,024 tokens, the documented limit.
_PROMPT_CHARS = 4000


def _veo(seconds: tuple[str, ...], sizes: tuple[str, ...], audio: bool, price: str) -> Capabilities:
    return profile(seconds, sizes, prompt=_PROMPT_CHARS, reference=True, audio=audio, price=price)


PROFILES = {
    "veo-3.1-generate": _veo(("8", "4", "6"), _720P + _1080P, True, "0.40"),
    "veo-3.1-fast-generate": _veo(("8", "4", "6"), _720P + _1080P, True, "0.15"),
    "veo-3.0-generate": _veo(("8", "4", "6"), _720P + _1080P, True, "0.40"),
    "veo-3.0-fast-generate": _veo(("8", "4", "6"), _720P + _1080P, True, "0.15"),
    "veo-2.0-generate": _veo(("8", "5", "6"), _720P, False, "0.35"),
}

PROVIDER = Provider(
    name="gemini",
    title="Google's Veo through the Gemini API (predictLongRunning)",
    profiles=PROFILES,
    adapter="videos_core.providers.gemini.adapter:GeminiUpstream",
    default_base_url="https://generativelanguage.googleapis.com",
)
