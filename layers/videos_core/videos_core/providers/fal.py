"""fal's queue (queue.fal.run), one key for many video models.

Sources: fal's queue documentation (docs.fal.ai, "Queue") and its Python client, fal-client (request
ids, status, response and cancel URLs; `Authorization: Key …`), and each model's page on fal.ai for
its input (`duration` as "8s" for Veo 3, "5" for Kling and MiniMax) and its price.
"""

from __future__ import annotations

from videos_core.capabilities import Capabilities, profile

DEFAULT_BASE_URL = "https://queue.fal.run"
# The keys fal signs its webhooks with (fal's webhook documentation).
WEBHOOK_KEYS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json"
_PROMPT_CHARS = 2500


def _model(seconds: tuple[str, ...], sizes: tuple[str, ...], audio: bool, price: str) -> Capabilities:
    return profile(seconds, sizes, prompt=_PROMPT_CHARS, reference=False, audio=audio, price=price)


PROFILES = {
    "fal-ai/veo3": _model(("8", "4", "6"), ("1280x720", "720x1280", "1920x1080", "1080x1920"), True, "0.40"),
    "fal-ai/kling-video": _model(("5", "10"), ("1920x1080", "1080x1920", "1080x1080"), False, "0.07"),
    "fal-ai/minimax/hailuo-02": _model(("6", "10"), ("1366x768", "768x1366"), False, "0.045"),
}
# How each family writes its duration: Veo 3 as "8s", the others as the bare number.
DURATION_FORMATS = {"fal-ai/veo3": "{}s"}
ASPECT_RATIOS = {
    "1280x720": ("16:9", "720p"),
    "720x1280": ("9:16", "720p"),
    "1920x1080": ("16:9", "1080p"),
    "1080x1920": ("9:16", "1080p"),
    "1080x1080": ("1:1", "1080p"),
    "1366x768": ("16:9", "768p"),
    "768x1366": ("9:16", "768p"),
}
