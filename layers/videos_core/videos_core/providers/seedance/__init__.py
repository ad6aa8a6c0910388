"""Seedance on BytePlus ModelArk (ark.ap-southeast.bytepluses.com): text or a first frame to video, a
task to poll or to be called back about.

Sources: BytePlus ModelArk's documentation (docs.byteplus.com/en/docs/ModelArk: the video generation
tutorial, 1366799; the video generation API, 1520757: "Create a video generation task" `POST
/api/v3/contents/generations/tasks`, "Query a video generation task" `GET …/tasks/{id}`, "Cancel or
delete a video generation task" `DELETE …/tasks/{id}`; the common error codes, 1299023; pricing,
1544106; the model list), and the official SDK, volcengine-ark-runtime 5.0.54 (`Ark(base_url,
api_key)`, `content_generation.tasks.create/get/list/delete`; the create's fields `model`, `content`,
`callback_url`, `return_last_frame`, `service_tier`, `execution_expires_after`, `generate_audio`,
`draft`, `camera_fixed`, `watermark`, `seed`, `resolution`, `ratio`, `duration`, `frames`; byteplus's
own byteplussdkarkruntime has the same resource). The models BytePlus lists now: seedance-1-0-pro
(250528) and seedance-1-0-pro-fast (251015), 2 to 12 seconds at 480p, 720p or 1080p, silent;
seedance-1-5-pro (251215), 4 to 12 seconds, with audio; dreamina-seedance-2-0 (260128), 4 to 15
seconds up to 1080p (and 4k, not offered here: H.265 in 10 bits), dreamina-seedance-2-0-fast (260128)
and -mini (260615) up to 720p, with audio. Every one takes a first frame; Seedance 1.0 lite was phased
out. Each resolution and ratio makes the picture the API reference tables (Seedance 1.0 at 720p 16:9 is
1248x704, Seedance 1.5 and 2.0 1280x720), at 24 frames a second. BytePlus publishes no hard prompt
limit (it recommends at most 500 Chinese characters or 1000 English words): 2000 characters is this
service's.

Prices are BytePlus's list prices for online inference, per million tokens of video, where a video's
tokens are width * height * 24 * seconds / 1024: Seedance 1.0 pro $2.50, 1.0 pro fast $1.00, 1.5 pro
$2.40 with audio (what is asked for here; $1.20 silent), 2.0 $7.00 (1080p $7.70), 2.0 fast $5.60, 2.0
mini $3.50 (without video input, which is not offered here). They are given per second of each picture
(`prices_by_size`).

ModelArk calls `callback_url` with the task, as a GET reads it, whenever its status changes; it signs
nothing, so the callback URL's per-job token authenticates a call. A DELETE cancels a task still
queued and deletes the record of one that has ended; a running task can be neither. A job deleted here
before it ends is left to run out (a delete cancels nothing, as for the providers without a cancel);
an ended one's record is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from videos_core.capabilities import Capabilities, profile
from videos_core.providers.plugin import Callbacks, Provider
from videos_core.sizes import COMMON_RATIOS, PHOTO_RATIOS, WIDE_RATIOS

FRAMES_PER_SECOND = 24
# A video's tokens: width * height * frames / 1024.
PIXELS_PER_TOKEN = 1024
_PROMPT_CHARS = 2000
# The ratios Seedance makes (and `adaptive`, the image's own, which is not a size here), in the order of
# the pictures below.
RATIOS = (*COMMON_RATIOS, *PHOTO_RATIOS[:2], WIDE_RATIOS[0])
# Each ratio's picture at each resolution, as the API reference tables them per generation.
_PICTURES_1_0 = {
    "480p": ("864x480", "480x864", "640x640", "736x544", "544x736", "960x416"),
    "720p": ("1248x704", "704x1248", "960x960", "1120x832", "832x1120", "1504x640"),
    "1080p": ("1920x1088", "1088x1920", "1440x1440", "1664x1248", "1248x1664", "2176x928"),
}
_PICTURES_1_5 = {
    "480p": ("864x496", "496x864", "640x640", "752x560", "560x752", "992x432"),
    "720p": ("1280x720", "720x1280", "960x960", "1112x834", "834x1112", "1470x630"),
    "1080p": ("1920x1080", "1080x1920", "1440x1440", "1664x1248", "1248x1664", "2206x946"),
}


@dataclass(frozen=True)
class Family:
    """A model family as ModelArk makes it: its pictures, lengths, audio and price per million tokens."""

    pictures: Mapping[str, tuple[str, ...]]
    # The resolutions it makes, and those offered by default (480p is for drafts: a route may add its
    # sizes, which are priced below).
    resolutions: tuple[str, ...]
    offered: tuple[str, ...]
    shortest: int
    longest: int
    audio: bool
    usd_per_million_tokens: Mapping[str, str]

    def picture(self, size: str) -> tuple[str, str] | None:
        """The ratio and resolution that make `size`, or None when none does."""
        for resolution in self.resolutions:
            if size in self.pictures[resolution]:
                return RATIOS[self.pictures[resolution].index(size)], resolution
        return None

    def sizes(self, resolutions: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(size for resolution in resolutions for size in self.pictures[resolution])

    def seconds(self) -> tuple[str, ...]:
        """Its lengths, 5 seconds (ModelArk's default) first."""
        return ("5", *(str(n) for n in range(self.shortest, self.longest + 1) if n != 5))

    def price(self, size: str) -> Decimal:
        """USD per second of `size`: 1248x704 is 1248 * 704 * 24 / 1024 = 20592 tokens a second, at
        $2.50 a million $0.05148 a second."""
        ratio_resolution = self.picture(size)
        assert ratio_resolution is not None, size
        width, _, height = size.partition("x")
        tokens = Decimal(int(width) * int(height) * FRAMES_PER_SECOND) / PIXELS_PER_TOKEN
        usd = Decimal(self.usd_per_million_tokens[ratio_resolution[1]])
        return (tokens * usd / 1_000_000).normalize()


def _flat(usd: str, resolutions: tuple[str, ...]) -> dict[str, str]:
    return dict.fromkeys(resolutions, usd)


_ALL = ("480p", "720p", "1080p")
_UP_TO_720P = ("480p", "720p")
_HIGH = ("720p", "1080p")

FAMILIES = {
    "seedance-1-0-pro": Family(_PICTURES_1_0, _ALL, _HIGH, 2, 12, False, _flat("2.50", _ALL)),
    "seedance-1-0-pro-fast": Family(_PICTURES_1_0, _ALL, _HIGH, 2, 12, False, _flat("1.00", _ALL)),
    "seedance-1-5-pro": Family(_PICTURES_1_5, _ALL, _HIGH, 4, 12, True, _flat("2.40", _ALL)),
    "dreamina-seedance-2-0": Family(
        _PICTURES_1_5, _ALL, _HIGH, 4, 15, True, _flat("7.00", _UP_TO_720P) | {"1080p": "7.70"}
    ),
    "dreamina-seedance-2-0-fast": Family(
        _PICTURES_1_5, _UP_TO_720P, ("720p",), 4, 15, True, _flat("5.60", _UP_TO_720P)
    ),
    "dreamina-seedance-2-0-mini": Family(
        _PICTURES_1_5, _UP_TO_720P, ("720p",), 4, 15, True, _flat("3.50", _UP_TO_720P)
    ),
}


def _profile(family: Family) -> Capabilities:
    sizes = family.sizes(family.offered)
    price = format(family.price(sizes[0]), "f")
    return profile(
        family.seconds(), sizes, prompt=_PROMPT_CHARS, reference=True, audio=family.audio, price=price
    )


def _prices_by_size(family: Family) -> dict[str, str]:
    """The price of each picture it makes that costs other than its first size."""
    first = family.price(family.sizes(family.offered)[0])
    every = {size: family.price(size) for size in family.sizes(family.resolutions)}
    return {size: format(price, "f") for size, price in every.items() if price != first}


PROVIDER = Provider(
    name="seedance",
    title="Seedance on BytePlus ModelArk (text or a first frame to video: tasks, polled or called back)",
    profiles={name: _profile(family) for name, family in FAMILIES.items()},
    adapter="videos_core.providers.seedance.adapter:SeedanceUpstream",
    default_base_url="https://ark.ap-southeast.bytepluses.com/api/v3",
    # ModelArk cancels a task only while it is queued, never a running one.
    cancels=False,
    # The callback's body is the task: its `id` names it.
    callbacks=Callbacks(job_id_field="id"),
    prices_by_size={name: _prices_by_size(family) for name, family in FAMILIES.items()},
)
