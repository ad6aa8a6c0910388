"""Replicate's HTTP API (api.replicate.com): official models run by name, then a prediction to poll or
to be called back about.

Sources: Replicate's HTTP API reference (replicate.com/docs/reference/http: "Create a prediction using
an official model", `POST /v1/models/{owner}/{name}/predictions`; "Get a prediction", `GET
/v1/predictions/{id}`; "Cancel a prediction", `POST /v1/predictions/{id}/cancel`; the statuses
starting, processing, succeeded, failed and canceled; errors as problem details), its webhooks topic
(`webhook`, `webhook_events_filter`, the body a prediction as a GET reads it) and its official Python
client, replicate 1.0 (`Client(api_token, base_url)`, `models.predictions.create`, `predictions.get`,
`predictions.cancel`, the progress it reads from `logs`). Each model's input is its page's API schema
on replicate.com: google/veo-3.1 and google/veo-3.1-fast take `prompt`, `duration` (4, 6 or 8),
`aspect_ratio` (16:9 or 9:16), `resolution` (720p or 1080p), `image` (the first frame) and
`generate_audio`; minimax/hailuo-02 takes `prompt`, `duration` (6, or 10 at 768p only),
`resolution` (512p, 768p or 1080p; its text to video is 16:9) and `first_frame_image`. Prices are
Replicate's list prices per second of output: Veo 3.1 $0.40 with audio, Veo 3.1 Fast $0.15 with
audio, Hailuo 02 $0.045 at 768p and $0.08 at 1080p. Replicate documents no prompt limit for these
models: Veo's is the Gemini API's, Hailuo's MiniMax's own (2000 characters).

Replicate signs its webhooks (its "Verify webhooks" topic; Standard Webhooks) with a per-account
secret it gives the account's API token at `GET /v1/webhooks/default/secret` (`{"key": "whsec_…"}`,
its client's `webhooks.default.secret()`): a call must carry the callback URL's per-job token and a
signature under the secret of the route's own account (`signatures.py`).
"""

from __future__ import annotations

from videos_core.capabilities import profile
from videos_core.providers.plugin import Callbacks, Provider

_VEO_PROMPT_CHARS = 4000
_HAILUO_PROMPT_CHARS = 2000
# 1280x720 first: the cheaper of Veo's resolutions, 1080p being Replicate's default.
_VEO_SIZES = ("1280x720", "720x1280", "1920x1080", "1080x1920")
_VEO_SECONDS = ("8", "4", "6")

PROFILES = {
    # Sent with `generate_audio: true`, the price listed ($0.20 and $0.10 a second without audio).
    "google/veo-3.1": profile(
        _VEO_SECONDS, _VEO_SIZES, prompt=_VEO_PROMPT_CHARS, reference=True, audio=True, price="0.40"
    ),
    "google/veo-3.1-fast": profile(
        _VEO_SECONDS, _VEO_SIZES, prompt=_VEO_PROMPT_CHARS, reference=True, audio=True, price="0.15"
    ),
    # 768p first: the resolution 10 seconds are made at.
    "minimax/hailuo-02": profile(
        ("6", "10"),
        ("1366x768", "1920x1080"),
        prompt=_HAILUO_PROMPT_CHARS,
        reference=True,
        audio=False,
        price="0.045",
    ),
}
# The families whose input is Veo's (`aspect_ratio`, `image`, `generate_audio`); the others' is
# Hailuo's (`first_frame_image`, 16:9 from text).
VEO_FAMILIES = frozenset({"google/veo-3.1", "google/veo-3.1-fast"})
# The resolutions a Hailuo video of 10 seconds is made at.
HAILUO_LONG_RESOLUTIONS = frozenset({"768p"})

PROVIDER = Provider(
    name="replicate",
    title="Replicate's HTTP API (official video models: predictions, polled or called back)",
    profiles=PROFILES,
    adapter="videos_core.providers.replicate.adapter:ReplicateUpstream",
    default_base_url="https://api.replicate.com",
    # POST /v1/predictions/{id}/cancel stops a prediction that is starting or processing.
    cancels=True,
    # The webhook's body is the prediction: its `id` names it. The signing secret is the account's,
    # read with the route's key.
    callbacks=Callbacks(
        job_id_field="id",
        keys_url="https://api.replicate.com/v1/webhooks/default/secret",
        verifier="videos_core.providers.replicate.signatures:verify",
        keys_reader="videos_core.providers.replicate.signatures:signing_secret",
        keys_need_route_key=True,
    ),
    prices_by_size={"minimax/hailuo-02": {"1920x1080": "0.08"}},
)
