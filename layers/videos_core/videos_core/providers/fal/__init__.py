"""fal's queue (queue.fal.run), one key for many video models.

Sources: fal's queue documentation (docs.fal.ai, "Queue") and its Python client, fal-client (request
ids, status, response and cancel URLs; `Authorization: Key …`), and each model's page on fal.ai for
its input (`duration` as "8s" for Veo 3, "5" for Kling and MiniMax) and its price.
"""

from __future__ import annotations

from videos_core.capabilities import Capabilities, profile
from videos_core.providers.plugin import Callbacks, Provider

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

PROVIDER = Provider(
    name="fal",
    title="fal's queue (queue.fal.run): one key for many video models",
    profiles=PROFILES,
    adapter="videos_core.providers.fal.adapter:FalUpstream",
    default_base_url="https://queue.fal.run",
    cancels=True,
    # fal signs its webhooks and publishes the keys (fal's webhook documentation).
    callbacks=Callbacks(
        job_id_field="request_id",
        keys_url="https://rest.alpha.fal.ai/.well-known/jwks.json",
        verifier="videos_core.providers.fal.signatures:verify",
    ),
)
