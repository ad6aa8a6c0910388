"""Luma's Dream Machine API, as docs.lumalabs.ai, its OpenAPI document and its official SDK (lumaai) have
it, under `/luma` (the SDK's base URL is `…/luma/dream-machine/v1`).

`POST /luma/dream-machine/v1/generations/video` (bearer key; `/generations`, as the guides write it,
too) starts a generation of `model` (ray-2 or ray-flash-2) from `prompt` (3 to 5000 characters; not
needed with a keyframe), `aspect_ratio` (16:9 when left out), `resolution` (540p, 720p, 1080p or 4k;
720p), `duration` ("5s" or "9s"; 5s), `loop` and `keyframes` (`frame0`, `frame1`: `{"type": "image",
"url"}`), and answers 201 with the generation, state `queued`. `GET
/luma/dream-machine/v1/generations/{id}` reads it: queued, dreaming, completed with `assets.video` (a
URL on the engine's storage path, `/luma/storage/…`, that needs no key and expires) or failed with
`failure_reason` (`[fail]`: the engine's reason; `[moderation]`: "Advanced prompt moderation failed";
a keyframe that could not be read: "Failed to read user input frames"). `DELETE
/luma/dream-machine/v1/generations/{id}` answers 204 and removes the generation (a 404 after); one still
dreaming runs on, as Luma documents no cancel. A create's `callback_url` is POSTed the generation when
it starts dreaming and when it ends (Luma retries a refused call 3 times 100 ms apart; the engine
retries as it does every callback).

As Luma's servers do, the engine reads a keyframe from its URL, here from this machine only (it
reaches nothing else): any other URL, a data URI included, fails the generation. Generations from
another generation (`{"type": "generation"}`: extend, interpolate) are not made here. Errors are
`{"detail": "…"}`, in Luma's words where its documentation lists them ("Invalid API key is provided",
"Prompt is required", "Prompt is too short, minimum length is 3 characters", "Loop is not supported
for keyframes"), a 400 naming the field otherwise.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from PIL import Image, UnidentifiedImageError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.engine.dialects import Dialect, job_video, key_matches, size_of, speaking, start
from local.engine.errors import EngineError
from local.engine.jobs import QUEUED_SHARE, Job
from local.engine.luma_ray import ASPECT_RATIOS, DEFAULTS, DURATIONS, MAX_PROMPT_CHARS
from local.engine.params import CreateParams
from local.engine.service import Engine
from local.engine.signed_urls import SignedUrls

PREFIX = "/luma"
API = PREFIX + "/dream-machine/v1"
MODELS = ("ray-2", "ray-flash-2")
# Luma's resolutions, each as the picture's shorter side.
RESOLUTIONS = {"540p": "540p", "720p": "720p", "1080p": "1080p", "4k": "2160p"}
MIN_PROMPT_CHARS = 3
KEYFRAMES = ("frame0", "frame1")
# What the engine renders a generation made from keyframes alone with.
KEYFRAMES_PROMPT = "A keyframe set in motion"
UNAUTHORIZED = "Invalid API key is provided"
NOT_FOUND = "Generation not found"
MODERATED = "Advanced prompt moderation failed"
UNREAD_FRAMES = "Failed to read user input frames"
PICTURE_FORMATS = ("PNG", "JPEG", "WEBP")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
FRAME_TIMEOUT_SECONDS = 5.0


def _luma_error(error: EngineError) -> Response:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return JSONResponse({"detail": error.message}, error.status, headers=headers)


def _bad(message: str) -> EngineError:
    return EngineError(400, message)


@dataclass(frozen=True)
class Submitted:
    """A create's body, as Luma takes it."""

    model: str
    prompt: str | None
    aspect_ratio: str
    resolution: str
    duration: str
    loop: bool
    frames: dict[str, str]  # keyframe -> its picture's URL
    callback_url: str | None

    def echoed(self) -> dict[str, Any]:
        """The generation's `request`, as Luma gives it back."""
        keyframes = {name: {"type": "image", "url": url} for name, url in self.frames.items()}
        return {
            "generation_type": "video",
            "model": self.model,
            "prompt": self.prompt,
            "aspect_ratio": self.aspect_ratio,
            "resolution": self.resolution,
            "duration": self.duration,
            "loop": self.loop,
            "keyframes": keyframes or None,
            "callback_url": self.callback_url,
        }


class LumaApi:
    def __init__(self, engine: Engine, api_key: str | None) -> None:
        self.engine, self.api_key = engine, api_key
        self.signed = SignedUrls()
        self.generations: dict[str, str] = {}  # generation id -> the engine's job id
        self.requests: dict[str, dict[str, Any]] = {}  # job id -> the generation's request

    def _check(self, request: Request) -> None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key_matches(key, self.api_key):
            raise EngineError(401, UNAUTHORIZED)

    async def create(self, request: Request) -> Response:
        self._check(request)
        try:
            body = json.loads(await request.body() or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise _bad("The request body is not valid JSON") from e
        if not isinstance(body, dict):
            raise _bad("The request body must be a JSON object")
        submitted = _submitted(body)
        pictures = [await _picture(url) for url in submitted.frames.values()]
        seconds = submitted.duration.removesuffix("s")
        size = size_of(submitted.aspect_ratio, RESOLUTIONS[submitted.resolution])
        prompt = submitted.prompt or KEYFRAMES_PROMPT
        # The first keyframe's picture is the one the engine draws on.
        reference = pictures[0] if pictures else None
        job = start(self.engine, CreateParams(prompt, submitted.model, seconds, size, reference=reference))
        self.generations[_generation_id(job)] = job.id
        self.requests[job.id] = submitted.echoed()
        base = str(request.base_url)
        created = self._view(job, base)
        if submitted.callback_url is not None:
            self.engine.call_back(job, submitted.callback_url, lambda ended: self._view(ended, base))
            self.engine.in_background(self._dreaming(job, submitted.callback_url, base))
        if None in pictures:
            self._fail(job, UNREAD_FRAMES)
        return JSONResponse(created, 201)

    def _fail(self, job: Job, reason: str) -> None:
        """Fails a generation at once (a keyframe its servers could not read), as its run would end."""
        if job.task is not None:
            job.task.cancel()
        job.fail("video_generation_failed", reason)
        self.engine.announce_end(job)

    async def _dreaming(self, job: Job, url: str, base_url: str) -> None:
        """Calls back once the generation starts dreaming (its end is called back by the engine)."""
        dreaming_at = job.started + job.latency * QUEUED_SHARE
        # A hundredth of a second past it: a timer may wake a little early.
        await asyncio.sleep(max(0.0, dreaming_at - time.monotonic()) + 0.01)
        view = self._view(job, base_url)
        if view["state"] == "dreaming":
            await self.engine.callback_sender.send(url, view)

    def _job(self, request: Request) -> Job:
        self._check(request)
        job_id = self.generations.get(request.path_params["generation_id"])
        if job_id is None:
            raise EngineError(404, NOT_FOUND)
        return self.engine.read_status(job_id)

    async def get(self, request: Request) -> Response:
        return JSONResponse(self._view(self._job(request), str(request.base_url)))

    async def delete(self, request: Request) -> Response:
        """Removes the generation (a 404 after); one still dreaming runs on, uncancelled."""
        job = self._job(request)
        del self.generations[_generation_id(job)]
        if job.terminal:
            self.requests.pop(job.id, None)
            self.engine.delete(job.id)
        return Response(status_code=204)

    def _view(self, job: Job, base_url: str) -> dict[str, Any]:
        """The generation, as a GET and a callback carry it."""
        state, _ = job.live_status()
        generation_id = _generation_id(job)
        view: dict[str, Any] = {
            "id": generation_id,
            "generation_type": "video",
            "state": "queued",
            "failure_reason": None,
            "created_at": datetime.fromtimestamp(job.created_at, UTC).isoformat().replace("+00:00", "Z"),
            "assets": None,
            "model": job.model,
            "request": self.requests.get(job.id),
        }
        if state == "queued":
            return view
        if state == "in_progress":
            return view | {"state": "dreaming"}
        if state == "completed":
            path = f"{PREFIX}/storage/{generation_id}/video.mp4"
            url = f"{base_url.rstrip('/')}{path}?{self.signed.query(path)}"
            return view | {"state": "completed", "assets": {"video": url}}
        error = job.error or {}
        reason = MODERATED if error.get("code") == "moderation_blocked" else error.get("message")
        return view | {"state": "failed", "failure_reason": reason or "Job failed"}

    async def video(self, request: Request) -> Response:
        """A generation's video at its signed URL, as Luma's storage serves it: no key; a bad or expired
        signature is refused."""
        self.signed.check(request.url.path, request.query_params)
        job_id = self.generations.get(request.path_params["generation_id"])
        return job_video(self.engine, job_id, EngineError(404, NOT_FOUND))

    def routes(self) -> list[Route]:
        generation = API + "/generations/{generation_id}"
        return [
            Route(API + "/generations/video", speaking(_luma_error, self.create), methods=["POST"]),
            Route(API + "/generations", speaking(_luma_error, self.create), methods=["POST"]),
            Route(generation, speaking(_luma_error, self.get), methods=["GET"]),
            Route(generation, speaking(_luma_error, self.delete), methods=["DELETE"]),
            Route(
                PREFIX + "/storage/{generation_id}/video.mp4",
                speaking(_luma_error, self.video),
                methods=["GET"],
            ),
        ]


def _generation_id(job: Job) -> str:
    """A generation id as Luma writes them (a UUID v4), from the engine's job id."""
    return str(uuid.UUID(hex=job.id.removeprefix("video_")[:32], version=4))


def _submitted(body: dict[str, Any]) -> Submitted:
    """A create's body checked as Luma checks it, or its 400."""
    if body.get("generation_type", "video") != "video":
        raise _bad("Unknown request type")
    model = body.get("model")
    if model not in MODELS:
        raise _bad(f"Invalid model {model!r}: use one of {', '.join(MODELS)}")
    frames = _keyframes(body.get("keyframes"))
    loop = body.get("loop", DEFAULTS["loop"])
    if not isinstance(loop, bool):
        raise _bad("Invalid loop: expected a boolean")
    if loop and len(frames) == len(KEYFRAMES):
        raise _bad("Loop is not supported for keyframes")
    callback_url = body.get("callback_url")
    if callback_url is not None and not (
        isinstance(callback_url, str) and callback_url.startswith(("https://", "http://"))
    ):
        raise _bad("Invalid callback_url: expected a URL")
    return Submitted(
        model=str(model),
        prompt=_prompt(body.get("prompt"), frames),
        aspect_ratio=_choice(body, "aspect_ratio", ASPECT_RATIOS),
        resolution=_choice(body, "resolution", tuple(RESOLUTIONS)),
        duration=_choice(body, "duration", DURATIONS),
        loop=loop,
        frames=frames,
        callback_url=callback_url,
    )


def _choice(body: dict[str, Any], field: str, allowed: tuple[str, ...]) -> str:
    value = body.get(field, DEFAULTS[field])
    if not isinstance(value, str) or value not in allowed:
        raise _bad(f"Invalid {field} {value!r}: use one of {', '.join(allowed)}")
    return value


def _prompt(prompt: Any, frames: dict[str, str]) -> str | None:
    if prompt is None or prompt == "":
        if frames:
            return None
        raise _bad("Prompt is required")
    if not isinstance(prompt, str):
        raise _bad("Invalid prompt: expected a string")
    if len(prompt) < MIN_PROMPT_CHARS:
        raise _bad(f"Prompt is too short, minimum length is {MIN_PROMPT_CHARS} characters")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise _bad(f"Prompt is too long, maximum length is {MAX_PROMPT_CHARS} characters")
    return prompt


def _keyframes(keyframes: Any) -> dict[str, str]:
    """`keyframes`: each of frame0 and frame1 an image by its URL."""
    if keyframes is None:
        return {}
    if not isinstance(keyframes, dict) or any(name not in KEYFRAMES for name in keyframes):
        raise _bad("Invalid keyframes: expected frame0 and frame1 only")
    frames: dict[str, str] = {}
    for name, frame in keyframes.items():
        if frame is None:
            continue
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "generation":
            raise _bad(f"Invalid keyframes.{name}: the engine makes no generation from another")
        url = frame.get("url") if kind == "image" else None
        if not isinstance(url, str):
            raise _bad(f'Invalid keyframes.{name}: expected {{"type": "image", "url": …}}')
        frames[name] = url
    if not frames:
        raise _bad("No keyframes provided")
    return frames


async def _picture(url: str) -> bytes | None:
    """A keyframe's picture, read from its URL as Luma's servers read it (from this machine only);
    None when it cannot be read."""
    try:
        if httpx.URL(url).host not in LOOPBACK:
            return None
        async with httpx.AsyncClient(timeout=FRAME_TIMEOUT_SECONDS) as client:
            response = await client.get(url)
        content = response.content if response.is_success else b""
        with Image.open(io.BytesIO(content)) as picture:
            return content if picture.format in PICTURE_FORMATS else None
    except (httpx.HTTPError, httpx.InvalidURL, UnidentifiedImageError, OSError, ValueError):
        return None


DIALECT = Dialect(
    "luma",
    PREFIX,
    lambda engine, api_key: LumaApi(engine, api_key).routes(),
    example_model="ray-2",
    errors=_luma_error,
)
