"""OpenRouter's video generation API (POST /api/v1/videos, then polling).

Sources: OpenRouter's API reference ("Video Generation": submit, poll, content, models) and its
official Python SDK, openrouter (`video_generation.generate`, `get_generation`,
`get_video_content`, `list_videos_models`); prices from OpenRouter's model pages.
"""

from __future__ import annotations

from videos_core.capabilities import Capabilities, profile
from videos_core.providers.plugin import Callbacks, Provider

_PROMPT_CHARS = 4000


def _model(seconds: tuple[str, ...], sizes: tuple[str, ...], reference: bool, price: str) -> Capabilities:
    return profile(seconds, sizes, prompt=_PROMPT_CHARS, reference=reference, audio=True, price=price)


_SORA_PRO = ("1280x720", "720x1280", "1792x1024", "1024x1792")
_HD = ("1280x720", "720x1280", "1920x1080", "1080x1920")
PROFILES = {
    "google/veo-3.1": _model(("8", "4", "6"), _HD, True, "0.40"),
    "openai/sora-2-pro": _model(("4", "8", "12"), _SORA_PRO, True, "0.30"),
    "alibaba/wan": _model(("5", "10"), _HD, True, "0.05"),
}

PROVIDER = Provider(
    name="openrouter",
    title="OpenRouter's video generation API",
    profiles=PROFILES,
    adapter="videos_core.providers.openrouter.adapter:OpenRouterUpstream",
    default_base_url="https://openrouter.ai/api/v1",
    # OpenRouter signs nothing: the callback URL's per-job token authenticates its calls.
    callbacks=Callbacks(job_id_field="id"),
)
