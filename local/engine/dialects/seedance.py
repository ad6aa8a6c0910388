"""Seedance's video generation tasks on BytePlus ModelArk, as its API reference has them (and its official
SDK, volcengine-ark-runtime, sends them), under `/seedance/api/v3`.

`POST /seedance/api/v3/contents/generations/tasks` (bearer key) starts a task from `model` and
`content`: a `text` item (the prompt, whose older text commands `--rs`/`--resolution`, `--rt`/`--ratio`,
`--dur`/`--duration`, `--fps`, `--wm`, `--seed` and `--cf` are taken loosely, an unknown value being
the default) and `image_url` items (`role` first_frame, last_frame where the model takes a pair, or
reference_image on Seedance 2.0; data URIs: the engine fetches no URL). The request's own fields are
checked strictly and win over the commands: `resolution`, `ratio` (or `adaptive`: the image's nearest,
16:9 from text), `duration` (or -1, the model's choice, where the model takes it), `generate_audio`,
`callback_url`, `return_last_frame`, `service_tier` (`flex` tasks wait ten times as long), `seed`,
`watermark`, `camera_fixed`, `execution_expires_after`. `frames` and `draft` are not taken here. The
answer is `{"id"}`, a task id as ModelArk writes them (`cgt-20251201093000-a1b2c`).

`GET …/tasks/{id}` reads the task: queued, running (no progress is reported), succeeded with
`content.video_url` (a presigned URL on the engine's storage path, `/seedance/ark-content-generation/…`,
that needs no key and expires), `content.last_frame_url` when asked for, and `usage` (the video's tokens,
width * height * 24 * seconds / 1024), failed with `error: {code, message}` (`[fail]` an
InternalServiceError; `[moderation]` OutputVideoSensitiveContentDetected, the output's content check),
or cancelled. `GET …/tasks` lists them (`page_num`, `page_size`, `filter.status`, `filter.task_ids`,
`filter.model`). `DELETE …/tasks/{id}` cancels a queued task and deletes an ended one's record (a 404
after); a running or cancelled one is refused with a 400 (the reference says DELETE is not supported
then, not how it answers). A create's `callback_url` is called with the task, as a GET reads it, when
it starts running and when it ends.

Errors are `{"error": {"code", "message", "param", "type"}}`, each message ending with a request id:
a missing field is 400 MissingParameter, a bad value 400 InvalidParameter naming it in `param`, an
unknown model 404 InvalidEndpointOrModel.NotFound, an unknown task 404 NotFound, no or another key 401
AuthenticationError, the engine's `[rate-limit]` 429 RateLimitExceeded.EndpointRPMExceeded.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import random
import re
import secrets
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from PIL import Image, UnidentifiedImageError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.engine.dialects import Dialect, MediaFile, key_matches, nearest_ratio, speaking, start
from local.engine.errors import EngineError
from local.engine.jobs import QUEUED_SHARE, Job
from local.engine.params import CreateParams
from local.engine.service import Engine
from local.engine.signed_urls import SignedUrls

PREFIX = "/seedance"
TASKS = PREFIX + "/api/v3/contents/generations/tasks"
STORAGE = PREFIX + "/ark-content-generation"
FRAMES_PER_SECOND = 24
DEFAULT_DURATION = 5
DEFAULT_EXPIRY = 172_800
EXPIRY_RANGE = range(3600, 259_201)
SEED_RANGE = range(-1, 2**32)
FLEX_SLOWDOWN = 10
MAX_REFERENCE_IMAGES = 9
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")
IMAGE_SIDES = range(300, 6001)
IMAGE_SHAPES = (Fraction(2, 5), Fraction(5, 2))
RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9")
# Each ratio's picture (in RATIOS' order) at each resolution, as the API reference tables them.
PICTURES_1_0 = {
    "480p": ("864x480", "736x544", "640x640", "544x736", "480x864", "960x416"),
    "720p": ("1248x704", "1120x832", "960x960", "832x1120", "704x1248", "1504x640"),
    "1080p": ("1920x1088", "1664x1248", "1440x1440", "1248x1664", "1088x1920", "2176x928"),
}
PICTURES_1_5 = {
    "480p": ("864x496", "752x560", "640x640", "560x752", "496x864", "992x432"),
    "720p": ("1280x720", "1112x834", "960x960", "834x1112", "720x1280", "1470x630"),
    "1080p": ("1920x1080", "1664x1248", "1440x1440", "1248x1664", "1080x1920", "2206x946"),
}
FIRST_FRAME, LAST_FRAME, REFERENCE = "first_frame", "last_frame", "reference_image"


@dataclass(frozen=True)
class Model:
    pictures: Mapping[str, tuple[str, ...]]
    durations: range
    default_resolution: str
    # The ratio from text when none is given (from an image it is `adaptive`).
    default_ratio: str
    roles: frozenset[str]
    audio: bool = False
    # Whether `duration: -1` lets the model choose.
    auto_duration: bool = False
    flex: bool = True

    @property
    def resolutions(self) -> tuple[str, ...]:
        return tuple(self.pictures)


_FRAMES = frozenset({FIRST_FRAME, LAST_FRAME})
_SEEDANCE_2 = Model(
    PICTURES_1_5,
    range(4, 16),
    "720p",
    "adaptive",
    _FRAMES | {REFERENCE},
    audio=True,
    auto_duration=True,
    flex=False,
)
_SEEDANCE_2_LIGHT = Model(
    {r: PICTURES_1_5[r] for r in ("480p", "720p")},
    range(4, 16),
    "720p",
    "adaptive",
    _FRAMES | {REFERENCE},
    audio=True,
    auto_duration=True,
    flex=False,
)
MODELS = {
    "seedance-1-0-pro-250528": Model(PICTURES_1_0, range(2, 13), "1080p", "16:9", _FRAMES),
    "seedance-1-0-pro-fast-251015": Model(
        PICTURES_1_0, range(2, 13), "1080p", "16:9", frozenset({FIRST_FRAME})
    ),
    "seedance-1-5-pro-251215": Model(
        PICTURES_1_5, range(4, 13), "720p", "adaptive", _FRAMES, audio=True, auto_duration=True
    ),
    "dreamina-seedance-2-0-260128": _SEEDANCE_2,
    "dreamina-seedance-2-0-fast-260128": _SEEDANCE_2_LIGHT,
    "dreamina-seedance-2-0-mini-260615": _SEEDANCE_2_LIGHT,
}
# The older text commands, by their short and long names, as the fields they stand for.
_COMMANDS = {
    "rs": "resolution",
    "resolution": "resolution",
    "rt": "ratio",
    "ratio": "ratio",
    "dur": "duration",
    "duration": "duration",
    "fps": "framespersecond",
    "framespersecond": "framespersecond",
    "wm": "watermark",
    "watermark": "watermark",
    "seed": "seed",
    "cf": "camera_fixed",
    "camerafixed": "camera_fixed",
}
_COMMAND = re.compile(r"\s*--(" + "|".join(_COMMANDS) + r")\s+(\S+)")
_TYPES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 429: "TooManyRequests"}
_CODES = {
    400: "InvalidParameter",
    401: "AuthenticationError",
    403: "AccessDenied",
    404: "NotFound",
    429: "RateLimitExceeded.EndpointRPMExceeded",
}
FAILED = ("InternalServiceError", "Video generation failed: the service met an internal error.")
MODERATED = (
    "OutputVideoSensitiveContentDetected",
    "The request failed because the output video may contain sensitive information.",
)


class _ArkError(EngineError):
    """An error with ModelArk's own code, and the request field it names."""

    def __init__(self, status: int, code: str, message: str, param: str = "") -> None:
        super().__init__(status, message, code=code, param=param)


def _invalid(param: str, why: str) -> _ArkError:
    return _ArkError(
        400,
        "InvalidParameter",
        f"The parameter `{param}` specified in the request is not valid: {why}.",
        param,
    )


def _missing(param: str) -> _ArkError:
    message = f"The request failed because it is missing one or multiple required parameters: `{param}`."
    return _ArkError(400, "MissingParameter", message, param)


def _ark_error(error: EngineError) -> Response:
    """ModelArk's error body; an error of the engine's own (a fault, a `[rate-limit]`) by its status."""
    ark = isinstance(error, _ArkError)
    fallback = "InternalServiceError" if error.status >= 500 else "InvalidParameter"
    code = error.code if ark and error.code else _CODES.get(error.status, fallback)
    kind = _TYPES.get(error.status, "InternalServerError" if error.status >= 500 else "BadRequest")
    message = f"{error.message} Request id: {_request_id()}"
    body = {
        "error": {"code": code, "message": message, "param": (error.param or "") if ark else "", "type": kind}
    }
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return JSONResponse(body, error.status, headers=headers)


def _request_id() -> str:
    return "02" + secrets.token_hex(26)


@dataclass(frozen=True)
class Settings:
    """A create's parameters, from its fields and its text commands, as its task echoes them."""

    resolution: str
    ratio: str
    duration: int
    seed: int
    generate_audio: bool | None  # None for a model without audio
    service_tier: str
    execution_expires_after: int
    return_last_frame: bool
    callback_url: str | None


@dataclass(frozen=True)
class Task:
    id: str
    job_id: str
    model: str
    settings: Settings


class ModelArkTasks:
    def __init__(self, engine: Engine, api_key: str | None) -> None:
        self.engine, self.api_key = engine, api_key
        self.signed = SignedUrls()
        self.tasks: dict[str, Task] = {}
        self.cancelled: set[str] = set()  # the engine's job ids of tasks cancelled while queued

    def _check(self, request: Request) -> None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key_matches(key, self.api_key):
            raise _ArkError(
                401, "AuthenticationError", "The API key or AK/SK in the request is missing or invalid."
            )

    async def create(self, request: Request) -> Response:
        self._check(request)
        try:
            body = json.loads(await request.body() or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise _invalid("body", "the request body is not JSON") from e
        if not isinstance(body, dict):
            raise _invalid("body", "the request body must be a JSON object")
        name = body.get("model")
        if not isinstance(name, str) or not name:
            raise _missing("model")
        model = MODELS.get(name)
        if model is None:
            message = f"The model or endpoint {name} does not exist or you do not have access to it."
            raise _ArkError(404, "InvalidEndpointOrModel.NotFound", message, "model")
        text, images = _content(body.get("content"), model)
        prompt, commands = _commands(text)
        image = images[0] if images else None
        settings = _settings(body, commands, model, image)
        size = model.pictures[settings.resolution][RATIOS.index(settings.ratio)]
        job = start(self.engine, CreateParams(prompt, name, str(settings.duration), size, reference=image))
        if settings.service_tier == "flex":
            # Flex tasks run on idle capacity: they wait longer, and take longer, than default ones.
            job.latency *= FLEX_SLOWDOWN
        task = Task(_task_id(job), job.id, name, settings)
        self.tasks[task.id] = task
        if settings.callback_url is not None:
            self._call_back(task, job, settings.callback_url, str(request.base_url))
        return JSONResponse({"id": task.id})

    def _call_back(self, task: Task, job: Job, url: str, base_url: str) -> None:
        """The task to `url` once it runs, and once it ends."""
        self.engine.call_back(job, url, lambda ended: self._view(task, ended, base_url))

        async def running() -> None:
            await asyncio.sleep(max(0.0, job.started + QUEUED_SHARE * job.latency - time.monotonic()))
            if not job.terminal and job.id in self.engine.jobs:
                await self.engine.callback_sender.send(url, self._view(task, job, base_url))

        self.engine.in_background(running())

    def _task(self, request: Request) -> tuple[Task, Job]:
        self._check(request)
        task_id = request.path_params["task_id"]
        task = self.tasks.get(task_id)
        if task is None or task.job_id not in self.engine.jobs:
            raise _ArkError(404, "NotFound", f"The specified task {task_id} is not found.", "id")
        return task, self.engine.read_status(task.job_id)

    async def get(self, request: Request) -> Response:
        task, job = self._task(request)
        return JSONResponse(self._view(task, job, str(request.base_url)))

    async def listed(self, request: Request) -> Response:
        self._check(request)
        query = request.query_params
        page, size = (
            _page(query.get("page_num"), "page_num", 1),
            _page(query.get("page_size"), "page_size", 10),
        )
        wanted_ids = set(query.getlist("filter.task_ids"))
        base_url = str(request.base_url)
        items = []
        for task in reversed(list(self.tasks.values())):
            job = self.engine.jobs.get(task.job_id)
            if job is None or (wanted_ids and task.id not in wanted_ids):
                continue
            view = self._view(task, job, base_url)
            if (
                query.get("filter.status", view["status"]) == view["status"]
                and query.get("filter.model", task.model) == task.model
            ):
                items.append(view)
        return JSONResponse({"total": len(items), "items": items[(page - 1) * size : page * size]})

    async def delete(self, request: Request) -> Response:
        """Cancels a queued task, deletes an ended one; a running or cancelled task is refused."""
        task, job = self._task(request)
        status = self._status(job)
        if status == "queued":
            if job.task is not None:
                job.task.cancel()
            self.cancelled.add(job.id)
            job.fail("cancelled", "The task was cancelled.")
            self.engine.announce_end(job)
        elif status in ("running", "cancelled"):
            raise _invalid(
                "id", f"the task {task.id} is {status}: only a queued task is cancelled, an ended one deleted"
            )
        else:
            del self.tasks[task.id]
            self.engine.delete(job.id)
        return JSONResponse({})

    def _status(self, job: Job) -> str:
        if job.id in self.cancelled:
            return "cancelled"
        state, _ = job.live_status()
        return {"queued": "queued", "in_progress": "running", "completed": "succeeded"}.get(state, "failed")

    def _view(self, task: Task, job: Job, base_url: str) -> dict[str, Any]:
        """The task, as a GET and a callback carry it."""
        status = self._status(job)
        view: dict[str, Any] = {
            "id": task.id,
            "model": task.model,
            "status": status,
            "error": None,
            "created_at": job.created_at,
            "updated_at": job.completed_at or job.created_at,
            "seed": task.settings.seed,
            "resolution": task.settings.resolution,
            "ratio": task.settings.ratio,
            "duration": task.settings.duration,
            "framespersecond": FRAMES_PER_SECOND,
            "service_tier": task.settings.service_tier,
            "execution_expires_after": task.settings.execution_expires_after,
            "draft": False,
        }
        if task.settings.generate_audio is not None:
            view["generate_audio"] = task.settings.generate_audio
        if status == "succeeded":
            return view | {"content": self._content(task, base_url), "usage": _usage(job)}
        if status == "failed":
            code, message = MODERATED if (job.error or {}).get("code") == "moderation_blocked" else FAILED
            return view | {"error": {"code": code, "message": message}}
        return view

    def _content(self, task: Task, base_url: str) -> dict[str, str]:
        files = {"video_url": "video.mp4"} | (
            {"last_frame_url": "last_frame.png"} if task.settings.return_last_frame else {}
        )
        content = {}
        for field, name in files.items():
            path = f"{STORAGE}/{task.id}/{name}"
            content[field] = f"{base_url.rstrip('/')}{path}?{self.signed.query(path)}"
        return content

    async def stored(self, request: Request) -> Response:
        """A task's file at its presigned URL, as BytePlus's object storage serves it: no key; a bad or
        expired signature is refused."""
        self.signed.check(request.url.path, request.query_params)
        task = self.tasks.get(request.path_params["task_id"])
        if task is None or task.job_id not in self.engine.jobs:
            raise EngineError(404, "The specified key does not exist.")
        path, media_type = self.engine.asset(task.job_id, "video")
        if request.path_params["name"] == "video.mp4":
            return MediaFile(path, media_type=media_type)
        if request.path_params["name"] == "last_frame.png" and task.settings.return_last_frame:
            return Response(await asyncio.to_thread(_last_frame_png, path), media_type="image/png")
        raise EngineError(404, "The specified key does not exist.")

    def routes(self) -> list[Route]:
        task = TASKS + "/{task_id}"
        return [
            Route(TASKS, speaking(_ark_error, self.create), methods=["POST"]),
            Route(TASKS, speaking(_ark_error, self.listed), methods=["GET"]),
            Route(task, speaking(_ark_error, self.get), methods=["GET"]),
            Route(task, speaking(_ark_error, self.delete), methods=["DELETE"]),
            Route(STORAGE + "/{task_id}/{name}", speaking(_ark_error, self.stored), methods=["GET"]),
        ]


def _task_id(job: Job) -> str:
    """A task id as ModelArk writes them, `cgt-<created, to the second>-<5 characters>`, from the job."""
    created = datetime.fromtimestamp(job.created_at, UTC).strftime("%Y%m%d%H%M%S")
    number = int(job.id.removeprefix("video_")[:12], 16)
    alphabet = string.digits + string.ascii_lowercase
    suffix = "".join(alphabet[number // len(alphabet) ** n % len(alphabet)] for n in range(5))
    return f"cgt-{created}-{suffix}"


def _content(content: Any, model: Model) -> tuple[str, list[bytes]]:
    """The prompt and the images, first frame (or first reference) first."""
    if not isinstance(content, list) or not content:
        raise _missing("content")
    texts: list[str] = []
    images: dict[str, list[bytes]] = {FIRST_FRAME: [], LAST_FRAME: [], REFERENCE: []}
    for item in content:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "text":
            if not isinstance(item.get("text"), str):
                raise _invalid("content.text", "a text item's text must be a string")
            texts.append(item["text"])
        elif kind == "image_url":
            role = item.get("role") or FIRST_FRAME
            if role not in model.roles:
                raise _invalid("content.role", f"the model takes no {role} image")
            images[role].append(_image(item.get("image_url")))
        else:
            raise _invalid("content.type", f"{kind!r} is none of text and image_url")
    if len(texts) > 1:
        raise _invalid("content.text", "give one text item")
    return (texts[0] if texts else ""), _images(images, bool(texts))


def _images(images: dict[str, list[bytes]], has_text: bool) -> list[bytes]:
    frames, references = images[FIRST_FRAME] + images[LAST_FRAME], images[REFERENCE]
    if not has_text and not frames and not references:
        raise _missing("content.text")
    if frames and references:
        raise _invalid("content.role", "first and last frames and reference images do not mix")
    if len(images[FIRST_FRAME]) > 1 or len(images[LAST_FRAME]) > 1:
        raise _invalid("content.role", "give at most one first_frame and one last_frame")
    if images[LAST_FRAME] and not images[FIRST_FRAME]:
        raise _missing("content.image_url (first_frame)")
    if len(references) > MAX_REFERENCE_IMAGES:
        raise _invalid("content.image_url", f"give at most {MAX_REFERENCE_IMAGES} reference images")
    return frames or references


def _image(image_url: Any) -> bytes:
    """`image_url: {"url"}`: a base64 data URI of a picture ModelArk takes."""
    url = image_url.get("url") if isinstance(image_url, dict) else None
    if not isinstance(url, str):
        raise _missing("content.image_url.url")
    header, _, data = url.partition(",")
    if not (header.startswith("data:image/") and header.endswith(";base64")):
        raise _invalid(
            "content.image_url.url",
            "the engine fetches no URL: give the image as data:image/<format>;base64,…",
        )
    try:
        content = base64.b64decode(data, validate=True)
        with Image.open(io.BytesIO(content)) as picture:
            image_format, width, height = picture.format, picture.width, picture.height
    except (binascii.Error, ValueError, UnidentifiedImageError) as e:
        raise _invalid("content.image_url.url", "the image cannot be read") from e
    if image_format not in IMAGE_FORMATS:
        raise _invalid("content.image_url.url", f"the image must be one of {', '.join(IMAGE_FORMATS)}")
    shape = Fraction(width, height)
    if width not in IMAGE_SIDES or height not in IMAGE_SIDES or not IMAGE_SHAPES[0] < shape < IMAGE_SHAPES[1]:
        raise _invalid(
            "content.image_url.url", "each side must be 300 to 6000 pixels, width / height within (0.4, 2.5)"
        )
    return content


def _commands(text: str) -> tuple[str, dict[str, str]]:
    """The prompt without its text commands, and the commands by the field each stands for."""
    commands: dict[str, str] = {}

    def taken(found: re.Match[str]) -> str:
        commands[_COMMANDS[found.group(1)]] = found.group(2)
        return ""

    return _COMMAND.sub(taken, text).strip(), commands


def _settings(body: dict[str, Any], commands: dict[str, str], model: Model, image: bytes | None) -> Settings:
    """Every parameter, checked before any job starts: a field strictly, else its text command loosely,
    else the model's default."""
    resolution = _choice(
        body, "resolution", model.resolutions, _loose(commands, "resolution", model.resolutions)
    )
    ratios = (*RATIOS, "adaptive")
    ratio = _choice(body, "ratio", ratios, _loose(commands, "ratio", ratios))
    ratio = ratio or ("adaptive" if image is not None else model.default_ratio)
    if ratio == "adaptive":
        ratio = nearest_ratio(image, RATIOS) if image is not None else RATIOS[0]
    _unsupported(body)
    return Settings(
        resolution=resolution or model.default_resolution,
        ratio=ratio,
        duration=_duration(body, commands, model),
        seed=_seed(body, commands),
        generate_audio=_flag(body, "generate_audio", True) if model.audio else None,
        service_tier=_choice(
            body, "service_tier", ("default", "flex") if model.flex else ("default",), "default"
        ),
        execution_expires_after=_expiry(body),
        return_last_frame=_flag(body, "return_last_frame", False),
        callback_url=_callback_url(body),
    )


def _duration(body: dict[str, Any], commands: dict[str, str], model: Model) -> int:
    allowed = [*model.durations, *([-1] if model.auto_duration else [])]
    command = commands.get("duration", "")
    loose = int(command) if command.lstrip("-").isdigit() and int(command) in allowed else None
    duration = _integer(body, "duration", allowed, loose)
    # The model's own choice of length, here its default.
    return DEFAULT_DURATION if duration in (None, -1) else duration


def _seed(body: dict[str, Any], commands: dict[str, str]) -> int:
    command = commands.get("seed", "")
    loose = int(command) if command.lstrip("-").isdigit() and int(command) in SEED_RANGE else None
    seed = _integer(body, "seed", SEED_RANGE, loose)
    return random.randrange(2**31) if seed in (None, -1) else seed  # noqa: S311 - a seed, not a secret


def _choice(body: dict[str, Any], field: str, allowed: tuple[str, ...], default: str | None) -> Any:
    value = body.get(field)
    if value is None:
        return default
    if value not in allowed:
        raise _invalid(field, f"{value!r} is none of {', '.join(allowed)}")
    return value


def _loose(commands: dict[str, str], field: str, allowed: tuple[str, ...]) -> str | None:
    """A text command's value, or None (the default) when it is not one the field takes."""
    value = commands.get(field)
    return value if value in allowed else None


def _integer(body: dict[str, Any], field: str, allowed: Any, default: int | None) -> int | None:
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise _invalid(field, f"{json.dumps(value)} is out of range")
    return value


def _flag(body: dict[str, Any], field: str, default: bool) -> bool:
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _invalid(field, "it must be true or false")
    return value


def _expiry(body: dict[str, Any]) -> int:
    expiry = _integer(body, "execution_expires_after", EXPIRY_RANGE, DEFAULT_EXPIRY)
    assert expiry is not None
    return expiry


def _unsupported(body: dict[str, Any]) -> None:
    """The fields only checked for their type, and those the engine does not take."""
    for field in ("watermark", "camera_fixed"):
        _flag(body, field, False)
    if body.get("frames") is not None:
        raise _invalid("frames", "the engine makes whole seconds: give duration")
    if _flag(body, "draft", False):
        raise _invalid("draft", "the engine makes no drafts")


def _callback_url(body: dict[str, Any]) -> str | None:
    url = body.get("callback_url")
    if url is None:
        return None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise _invalid("callback_url", "it must be an http or https URL")
    return url


def _page(value: str | None, field: str, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise _invalid(field, "it must be a positive integer")
    return int(value)


def _usage(job: Job) -> dict[str, int]:
    """The video's tokens: width * height * 24 * seconds / 1024."""
    width, _, height = job.size.partition("x")
    tokens = int(width) * int(height) * FRAMES_PER_SECOND * int(job.seconds) // 1024
    return {"completion_tokens": tokens, "total_tokens": tokens}


def _last_frame_png(path: Path) -> bytes:
    """The video's last frame, as a PNG of its size."""
    last = None
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            last = frame
    assert last is not None, path
    buffer = io.BytesIO()
    picture: Image.Image = last.to_image()  # type: ignore[no-untyped-call]
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


DIALECT = Dialect(
    "seedance",
    PREFIX + "/api/v3",
    lambda engine, api_key: ModelArkTasks(engine, api_key).routes(),
    example_model="seedance-1-0-pro-fast-251015",
    errors=_ark_error,
)
