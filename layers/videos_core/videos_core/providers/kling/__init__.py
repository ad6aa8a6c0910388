"""Kling AI's API (api-singapore.klingai.com): text or an image to video, then a task to poll or to be
called back about.

Sources: Kling's API reference (app.klingai.com/global/dev/document-api: "General Information" for the
domain, the JWT its keys make and the error codes; "Video Generation", text to video and image to
video, for `model_name`, `prompt` and `negative_prompt` of at most 2500 characters, `mode` std or
pro, `duration` "5" or "10", `aspect_ratio` 16:9, 9:16 or 1:1, `image` in base64 without a prefix or
a URL (JPEG or PNG, at least 300 px a side, 1:2.5 to 2.5:1), `sound` on V2.6, `cfg_scale` (not on
the V2 models), `callback_url`; the task statuses submitted, processing, succeed and failed; the
query paths `GET /v1/videos/text2video/{id}` and `/v1/videos/image2video/{id}`; "Callback Protocol",
the task POSTed to `callback_url` when its status changes; the "Capability Map": std is 720p, pro
1080p, kling-v2-1-master 1080p alone, sound on V2.6 in pro only). Kling has no official Python SDK.
Prices are Kling's API list prices per video, here per second: kling-v2-5-turbo $0.21 (std) and
$0.35 (pro) for 5 seconds, kling-v2-6 $0.70 for 5 seconds in pro with sound, kling-v2-1-master $1.40
for 5 seconds (10 seconds cost twice as much). Kling's API has no cancel.

A route's key is one string, `ACCESS_KEY:SECRET_KEY` (both of Kling's secrets), stored like any other
provider's key; the adapter signs each call's token with it (`tokens.py`). Kling signs nothing it
calls back with: the callback URL's per-job token authenticates its calls.
"""

from __future__ import annotations

from videos_core.capabilities import Capabilities, profile
from videos_core.providers.plugin import Callbacks, Provider

# prompt: "Cannot exceed 2500 characters".
_PROMPT_CHARS = 2500
# 5 first: Kling's default.
_SECONDS = ("5", "10")
# Kling's three aspect ratios at std's 720p and at pro's 1080p.
_STD_SIZES = ("1280x720", "720x1280", "720x720")
_PRO_SIZES = ("1920x1080", "1080x1920", "1080x1080")
# The mode a resolution is made in.
MODES = {"720p": "std", "1080p": "pro"}


def _model(sizes: tuple[str, ...], audio: bool, price: str) -> Capabilities:
    return profile(_SECONDS, sizes, prompt=_PROMPT_CHARS, reference=True, audio=audio, price=price)


PROFILES = {
    # std first: Kling's default mode, the cheaper ($0.35 for 5 seconds at pro's 1080p).
    "kling-v2-5-turbo": _model(_STD_SIZES + _PRO_SIZES, False, "0.042"),
    # Sent with `sound: "on"`, which V2.6 makes in pro only ($0.35 for 5 seconds without it).
    "kling-v2-6": _model(_PRO_SIZES, True, "0.14"),
    "kling-v2-1-master": _model(_PRO_SIZES, False, "0.28"),
}
# The families with no mode to choose (one resolution).
MODELESS = frozenset({"kling-v2-1-master"})
# The families that take `sound`.
WITH_SOUND = frozenset({"kling-v2-6"})

PROVIDER = Provider(
    name="kling",
    title="Kling AI's API (text and image to video: tasks polled or called back)",
    profiles=PROFILES,
    adapter="videos_core.providers.kling.adapter:KlingUpstream",
    # Kling's domain for servers outside China (api.klingai.com was its former one).
    default_base_url="https://api-singapore.klingai.com",
    # The callback's body is the task: its `task_id` names it.
    callbacks=Callbacks(job_id_field="task_id"),
    prices_by_size={"kling-v2-5-turbo": dict.fromkeys(_PRO_SIZES, "0.07")},
)
