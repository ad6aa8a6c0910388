"""xAI's video API (Grok Imagine), as docs.x.ai and its REST reference have it, under `/xai`.

`POST /xai/v1/videos/generations` (bearer key) starts a deferred request from `model` (default
grok-imagine-video), `prompt`, `duration` (1 to 15, default 8), `aspect_ratio` (default 16:9; from an
image, the image's nearest), `resolution` (480p default, 720p; 1080p on grok-imagine-video-1.5's text
to video) and `image: {"url"}` (a data URI: the engine fetches no URL), and answers `{"request_id"}`.
`GET /xai/v1/videos/{request_id}` reads it: `pending` with `progress` (0 to 100) while the engine's
job runs, `done` with `video: {url, duration, respect_moderation}` and `usage.cost_in_usd_ticks` (a
USD cent is 10^8 ticks), or `failed` with `error: {code, message}` (`[fail]`). A `[moderation]` prompt
ends `done` with `respect_moderation: false` and no URL, as xAI withholds a moderated video. The video
is at a signed URL on the engine's storage path (`/xai/vidgen/…`) that needs no key and expires; a
request whose result has been kept RESULT_LIFETIME_SECONDS (a day, xAI's URL lifetime) reads
`expired` after, its video gone.

Errors are `{"code", "error"}`: a body that is not JSON is a 400, a field of the wrong type or value
(a missing prompt, an unknown aspect ratio or resolution) a 422 as the body's deserialization fails,
a value out of range (duration, prompt length, 1080p where the model or an image rules it out) a 400,
an unknown model a 404. No `Authorization: Bearer` is a 401; an incorrect key is a 400, as xAI answers.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import time
from fractions import Fraction
from typing import Any

from PIL import Image, UnidentifiedImageError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.engine.dialects import Dialect, MediaFile, key_matches, nearest_ratio, speaking, start
from local.engine.errors import EngineError
from local.engine.jobs import Job
from local.engine.params import CreateParams
from local.engine.service import Engine
from local.engine.signed_urls import SignedUrls

PREFIX = "/xai"
DEFAULT_MODEL = "grok-imagine-video"
MAX_PROMPT_CHARS = 4096
DURATIONS = range(1, 16)
DEFAULT_DURATION = 8
DEFAULT_ASPECT_RATIO = "16:9"
DEFAULT_RESOLUTION = "480p"
# How long a finished request's result is kept: after it, the request reads `expired`.
RESULT_LIFETIME_SECONDS = 24 * 3600
TICKS_PER_CENT = 10**8
IMAGE_RESOLUTIONS = ("480p", "720p")
RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3")
RESOLUTIONS = ("480p", "720p", "1080p")
# The longer side of each ratio's picture at each resolution (the shorter is the resolution's).
LONG_SIDES = {
    "480p": {"16:9": 848, "4:3": 640, "3:2": 720, "1:1": 480},
    "720p": {"16:9": 1280, "4:3": 960, "3:2": 1080, "1:1": 720},
    "1080p": {"16:9": 1920, "4:3": 1440, "3:2": 1620, "1:1": 1080},
}
# Each model's price in US cents a second, by the resolutions it makes.
MODELS = {
    "grok-imagine-video": {"480p": Fraction(5), "720p": Fraction(7)},
    "grok-imagine-video-1.5": {"480p": Fraction(8), "720p": Fraction(14), "1080p": Fraction(25)},
    "grok-imagine-video-1.5-lite": {"480p": Fraction(2), "720p": Fraction(7, 2)},
}
_GRPC_CODES = {
    400: "invalid-argument",
    401: "unauthenticated",
    403: "permission-denied",
    404: "not-found",
    415: "invalid-argument",
    422: "invalid-argument",
    429: "resource-exhausted",
}


def _xai_error(error: EngineError) -> Response:
    code = _GRPC_CODES.get(error.status, "internal" if error.status >= 500 else "failed-precondition")
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return JSONResponse({"code": code, "error": error.message}, error.status, headers=headers)


def _bad(message: str) -> EngineError:
    return EngineError(400, message)


def _undeserializable(message: str) -> EngineError:
    return EngineError(422, f"Failed to deserialize the JSON body into the target type: {message}")


def size_of(aspect_ratio: str, resolution: str) -> str:
    """The picture xAI makes for an aspect ratio at a resolution: 16:9 at 480p is 848x480."""
    short = int(resolution.removesuffix("p"))
    width, _, height = aspect_ratio.partition(":")
    landscape = aspect_ratio if int(width) >= int(height) else f"{height}:{width}"
    long = LONG_SIDES[resolution][landscape]
    return f"{long}x{short}" if int(width) >= int(height) else f"{short}x{long}"


class XaiVideos:
    def __init__(self, engine: Engine, api_key: str | None) -> None:
        self.engine, self.api_key = engine, api_key
        self.signed = SignedUrls()
        self.requests: dict[str, str] = {}  # request id -> the engine's job id
        self.cents: dict[str, Fraction] = {}  # job id -> the request's price

    def _check(self, request: Request) -> None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise EngineError(401, "Missing or invalid Authorization header: use Bearer <XAI_API_KEY>.")
        if not key_matches(key, self.api_key):
            masked = f"{key.strip()[:2]}***{key.strip()[-2:]}"
            raise _bad(
                f"Incorrect API key provided: {masked}. You can obtain an API key from https://console.x.ai."
            )

    async def generate(self, request: Request) -> Response:
        self._check(request)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise EngineError(415, "Expected request with `Content-Type: application/json`.")
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise _bad(f"Failed to parse the request body as JSON: {e}") from e
        if not isinstance(body, dict):
            raise _undeserializable("invalid type: expected a JSON object")
        model = body.get("model") or DEFAULT_MODEL
        if not isinstance(model, str):
            raise _undeserializable("model: invalid type: expected a string")
        prices = MODELS.get(model)
        if prices is None:
            raise EngineError(
                404, f"The model {model} does not exist or your team does not have access to it."
            )
        prompt = _prompt(body)
        duration = _duration(body.get("duration", DEFAULT_DURATION))
        image = _image(body.get("image"))
        # xAI follows the image's shape.
        shape = nearest_ratio(image, RATIOS) if image is not None else DEFAULT_ASPECT_RATIO
        aspect_ratio = _choice(body, "aspect_ratio", RATIOS, shape)
        resolution = _choice(body, "resolution", RESOLUTIONS, DEFAULT_RESOLUTION)
        if resolution not in prices:
            raise _bad(f"Model {model} does not support resolution {resolution}.")
        if image is not None and resolution not in IMAGE_RESOLUTIONS:
            raise _bad(f"Resolution {resolution} is for text to video only: an image takes 480p or 720p.")
        size = size_of(aspect_ratio, resolution)
        job = start(self.engine, CreateParams(prompt, model, str(duration), size, reference=image))
        self.requests[_request_id(job)] = job.id
        self.cents[job.id] = prices[resolution] * duration
        return JSONResponse({"request_id": _request_id(job)})

    def _job(self, request_id: str) -> Job:
        job_id = self.requests.get(request_id)
        if job_id is None:
            raise EngineError(404, f"No video generation request with id {request_id} was found.")
        try:
            return self.engine.read_status(job_id)
        except EngineError as e:
            if e.status == 404:
                raise EngineError(404, f"No video generation request with id {request_id} was found.") from e
            raise

    async def result(self, request: Request) -> Response:
        self._check(request)
        job = self._job(request.path_params["request_id"])
        return JSONResponse(self._view(job, str(request.base_url)))

    def _view(self, job: Job, base_url: str) -> dict[str, Any]:
        state, progress = job.live_status()
        if state in ("queued", "in_progress"):
            return {"status": "pending", "model": job.model, "progress": progress}
        if _expired(job):
            return {"status": "expired", "model": job.model}
        error = job.error or {}
        if error.get("code") == "moderation_blocked":
            withheld = {"duration": 0, "respect_moderation": False}
            return {"status": "done", "video": withheld, "model": job.model, "progress": 100}
        if state == "failed":
            failure = {"code": "internal_error", "message": error.get("message", "Video generation failed.")}
            unmade = {"duration": 0, "respect_moderation": True}
            return {"status": "failed", "video": unmade, "model": job.model, "error": failure}
        path = f"{PREFIX}/vidgen/xai-video-{_request_id(job)}.mp4"
        url = f"{base_url.rstrip('/')}{path}?{self.signed.query(path)}"
        video = {"url": url, "duration": int(job.seconds), "respect_moderation": True}
        ticks = int(self.cents[job.id] * TICKS_PER_CENT)
        usage = {"cost_in_usd_ticks": ticks}
        return {"status": "done", "video": video, "model": job.model, "usage": usage, "progress": 100}

    async def video(self, request: Request) -> Response:
        """A video at its signed URL, as xAI's storage serves it: no key; a bad or expired signature,
        or a request past its lifetime, is refused."""
        self.signed.check(request.url.path, request.query_params)
        job_id = self.requests.get(request.path_params["request_id"])
        job = self.engine.jobs.get(job_id) if job_id else None
        if job is None or _expired(job):
            raise EngineError(404, "Not found.")
        path, media_type = self.engine.asset(job.id, "video")
        return MediaFile(path, media_type=media_type)

    def routes(self) -> list[Route]:
        return [
            Route(PREFIX + "/v1/videos/generations", speaking(_xai_error, self.generate), methods=["POST"]),
            Route(PREFIX + "/v1/videos/{request_id}", speaking(_xai_error, self.result), methods=["GET"]),
            Route(
                PREFIX + "/vidgen/xai-video-{request_id}.mp4",
                speaking(_xai_error, self.video),
                methods=["GET"],
            ),
        ]


def _request_id(job: Job) -> str:
    """A request id as xAI writes them (a UUID), from the engine's job id."""
    hexa = job.id.removeprefix("video_")[:32]
    return f"{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:32]}"


def _expired(job: Job) -> bool:
    """Whether a finished request's result has been kept past its lifetime."""
    ended = job.completed_at
    return job.terminal and ended is not None and time.time() >= ended + RESULT_LIFETIME_SECONDS


def _prompt(body: dict[str, Any]) -> str:
    if "prompt" not in body:
        raise _undeserializable("missing field `prompt`")
    prompt = body["prompt"]
    if not isinstance(prompt, str):
        raise _undeserializable("prompt: invalid type: expected a string")
    if not prompt.strip():
        raise _bad("The prompt must not be empty.")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise _bad(f"The prompt is {len(prompt)} characters long; at most {MAX_PROMPT_CHARS} are allowed.")
    return prompt


def _duration(duration: Any) -> int:
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise _undeserializable(f"duration: invalid type: {json.dumps(duration)}, expected an integer")
    if duration not in DURATIONS:
        raise _bad(f"duration must be between {DURATIONS[0]} and {DURATIONS[-1]} seconds, got {duration}.")
    return duration


def _choice(body: dict[str, Any], field: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(field)
    if value is None:
        return default
    if value not in allowed:
        expected = ", ".join(f"`{a}`" for a in allowed)
        raise _undeserializable(f"{field}: unknown variant `{value}`, expected one of {expected}")
    return str(value)


def _image(image: Any) -> bytes | None:
    """`image: {"url"}`: a base64 data URI of a PNG, JPEG or WebP picture."""
    if image is None:
        return None
    url = image.get("url") if isinstance(image, dict) else None
    if not isinstance(url, str):
        raise _undeserializable("image: missing field `url`")
    if not url.startswith("data:"):
        raise _bad("image: the engine fetches no URL; give the image as a base64 data URI.")
    header, _, data = url.partition(",")
    if not header.endswith(";base64"):
        raise _bad("image: the data URI must be base64-encoded.")
    try:
        content = base64.b64decode(data, validate=True)
        with Image.open(io.BytesIO(content)) as picture:
            if picture.format not in ("PNG", "JPEG", "WEBP"):
                raise _bad("image: the picture must be a PNG, JPEG or WebP image.")
    except (binascii.Error, ValueError, UnidentifiedImageError) as e:
        raise _bad("image: the data URI is not a readable image.") from e
    return content


DIALECT = Dialect(
    "xai",
    PREFIX,
    lambda engine, api_key: XaiVideos(engine, api_key).routes(),
    example_model="grok-imagine-video",
    errors=_xai_error,
)
