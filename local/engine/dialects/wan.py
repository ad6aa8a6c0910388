"""Wan on Alibaba Cloud Model Studio (DashScope), as its API references and the dashscope SDK have it,
under `/wan` (the SDK's `base_http_api_url` is the engine's URL + `/wan/api/v1`).

`POST /wan/api/v1/services/aigc/video-generation/video-synthesis` (bearer key, `X-DashScope-Async:
enable`) creates a task from `model`, `input` and `parameters`, and answers `{"output": {"task_id",
"task_status": "PENDING"}, "request_id"}`. The text-to-video models (wan2.6-t2v, wan2.5-t2v-preview,
wan2.2-t2v-plus) take `input.prompt` and `parameters.size` (`"1280*720"`, one of its resolution tiers'
pictures, default 1920*1080); the image-to-video ones (wan2.6-i2v, wan2.5-i2v-preview, wan2.2-i2v-plus)
take `input.img_url` and `parameters.resolution` (a tier, default 1080P), and make the tier's picture
nearest the image's shape. Both take `parameters.duration` (default 5). A prompt past the model's
limit is truncated. `GET /wan/api/v1/tasks/{task_id}` reads the task: PENDING, RUNNING, then
SUCCEEDED with `video_url` (a signed URL on the engine's result path, `/wan/results/…`, that needs no
key and expires) and `usage`, FAILED with `code` and `message` (`[fail]` is InternalError.Algo,
`[moderation]` DataInspectionFailed, the output's moderation), or CANCELED; a `[stall]` task is one
scheduled at once that never ends (RUNNING from its first read); a task the engine does not know, or
past its 24 hours, reads UNKNOWN. `POST /wan/api/v1/tasks/{task_id}/cancel` cancels a task
still PENDING and answers `{"request_id"}`; any other is a 400 UnsupportedOperation.

Errors are `{"request_id", "code", "message"}`. The gateway's own checks answer at once: no or another
key a 401 InvalidApiKey, no async header a 403 AccessDenied, a body that is not JSON a 400
BadRequest.IllegalInput, no model a 400 BadRequest.EmptyModel, an unknown one a 400 InvalidParameter
(`Model not exist.`), no input a 400 BadRequest.EmptyInput. A model's own parameters (a size, a
duration, a prompt or an image it does not take) are checked when the task is scheduled, as the API
reference shows: the task is created and reads FAILED with InvalidParameter and its reason. The engine
fetches no URL: `img_url` is a data URI here. Nothing is called back.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from PIL import Image, UnidentifiedImageError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.engine.dialects import Dialect, MediaFile, key_matches, speaking, start
from local.engine.errors import EngineError
from local.engine.jobs import QUEUED_SHARE, Job, Scenario
from local.engine.params import CreateParams
from local.engine.service import Engine
from local.engine.signed_urls import SignedUrls

PREFIX = "/wan"
API = PREFIX + "/api/v1"
# How long a task is kept: after it, the task reads UNKNOWN and its video is gone.
TASK_LIFETIME_SECONDS = 24 * 3600
# The pictures of each resolution tier (`size` names them `1280*720`).
TIERS = {
    "480P": ("832x480", "480x832", "624x624"),
    "720P": ("1280x720", "720x1280", "960x960", "1088x832", "832x1088"),
    "1080P": ("1920x1080", "1080x1920", "1440x1440", "1632x1248", "1248x1632"),
}
DEFAULT_TIER = "1080P"
DEFAULT_DURATION = 5
IMAGE_FORMATS = ("JPEG", "PNG", "BMP", "WEBP")
IMAGE_SIDES = range(360, 2001)
CANCELLED = "cancelled"
NOT_JSON = "The input parameter requires json format."
NOT_AN_IMAGE = "Invalid image type. Please ensure the uploaded file is a valid image."
NOT_PENDING = "Failed to cancel the task, please confirm if the task is in PENDING status."
_CODES = {
    400: "InvalidParameter",
    401: "InvalidApiKey",
    403: "AccessDenied",
    404: "NotFound",
    429: "Throttling",
}


@dataclass(frozen=True)
class Model:
    durations: tuple[int, ...]
    tiers: tuple[str, ...]
    prompt_chars: int
    # Image to video: `img_url` and `resolution` instead of `size`.
    image: bool = False
    # Usage as wan2.5 and earlier text to video report it (`video_duration`, `video_ratio`).
    legacy_usage: bool = False


_WAN26 = Model(tuple(range(2, 16)), ("720P", "1080P"), 1500)
_WAN25 = Model((5, 10), ("480P", "720P", "1080P"), 1500, legacy_usage=True)
_WAN22 = Model((5,), ("480P", "1080P"), 800, legacy_usage=True)
MODELS = {
    "wan2.6-t2v": _WAN26,
    "wan2.5-t2v-preview": _WAN25,
    "wan2.2-t2v-plus": _WAN22,
    "wan2.6-i2v": replace(_WAN26, image=True),
    "wan2.5-i2v-preview": replace(_WAN25, image=True, legacy_usage=False),
    "wan2.2-i2v-plus": replace(_WAN22, image=True, legacy_usage=False),
}


class _DashScopeError(EngineError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, message)
        self.dashscope_code = code


class _RefusedError(Exception):
    """A model's parameter the task is refused for when it is scheduled."""

    def __init__(self, message: str, code: str = "InvalidParameter") -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _dashscope_error(error: EngineError) -> Response:
    code = (
        error.dashscope_code
        if isinstance(error, _DashScopeError)
        else _CODES.get(error.status, "InternalError" if error.status >= 500 else "InvalidParameter")
    )
    body = {"request_id": _request_id(), "code": code, "message": error.message}
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return JSONResponse(body, error.status, headers=headers)


@dataclass
class _Task:
    id: str
    model: str
    submitted: float
    # The engine's job, or what the task was refused for when scheduled: (code, message).
    job_id: str | None = None
    refusal: tuple[str, str] | None = None

    @property
    def expired(self) -> bool:
        return time.time() >= self.submitted + TASK_LIFETIME_SECONDS


class WanApi:
    def __init__(self, engine: Engine, api_key: str | None) -> None:
        self.engine, self.api_key = engine, api_key
        self.signed = SignedUrls()
        self.tasks: dict[str, _Task] = {}

    def _check(self, request: Request) -> None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise _DashScopeError(401, "InvalidApiKey", "No API-key provided.")
        if not key_matches(key, self.api_key):
            raise _DashScopeError(401, "InvalidApiKey", "Invalid API-key provided.")

    async def create(self, request: Request) -> Response:
        self._check(request)
        if request.headers.get("x-dashscope-async", "").lower() != "enable":
            raise _DashScopeError(403, "AccessDenied", "current user api does not support synchronous calls.")
        body = await _json_object(request)
        name = body.get("model")
        if not isinstance(name, str) or not name:
            raise _DashScopeError(
                400, "BadRequest.EmptyModel", 'Required parameter "model" missing from request.'
            )
        model = MODELS.get(name)
        if model is None:
            raise _DashScopeError(400, "InvalidParameter", "Model not exist.")
        given, parameters = body.get("input"), body.get("parameters") or {}
        if not isinstance(given, dict):
            raise _DashScopeError(
                400, "BadRequest.EmptyInput", "Required input parameter missing from request."
            )
        if not isinstance(parameters, dict):
            raise _DashScopeError(400, "InvalidParameter", "parameters must be an object.")
        task = _Task(str(uuid.uuid4()), name, time.time())
        try:
            params = _params(name, model, given, parameters)
        except _RefusedError as refused:
            task.refusal = (refused.code, refused.message)
        else:
            task.job_id = start(self.engine, params).id
        self.tasks[task.id] = task
        return JSONResponse(
            {"output": {"task_status": "PENDING", "task_id": task.id}, "request_id": _request_id()}
        )

    def _known(self, request: Request) -> _Task | None:
        """The task the path names, unless unknown or past its lifetime."""
        self._check(request)
        task = self.tasks.get(request.path_params["task_id"])
        return None if task is None or task.expired else task

    def _job(self, task: _Task) -> Job | None:
        return self.engine.jobs.get(task.job_id) if task.job_id else None

    async def get(self, request: Request) -> Response:
        task = self._known(request)
        if task is not None and task.job_id is not None and task.job_id in self.engine.jobs:
            self.engine.read_status(task.job_id)  # a `[flaky]` job's failures
        answer = self._view(task, request.path_params["task_id"], str(request.base_url))
        return JSONResponse({"request_id": _request_id()} | answer)

    def _view(self, task: _Task | None, task_id: str, base_url: str) -> dict[str, Any]:
        """The task as a GET reads it: `output`, and `usage` once it succeeded."""
        unknown = {"output": {"task_id": task_id, "task_status": "UNKNOWN"}}
        if task is None:
            return unknown
        output = {"task_id": task.id, "task_status": "PENDING", "submit_time": _time(task.submitted)}
        if task.refusal is not None:
            code, message = task.refusal
            ended = {"end_time": _time(task.submitted), "code": code, "message": message}
            return {"output": output | {"task_status": "FAILED"} | ended}
        job = self._job(task)
        if job is None:
            return unknown
        if _pending(job):
            return {"output": output}
        output["scheduled_time"] = _time(task.submitted + _queued_seconds(job))
        if not job.terminal:
            return {"output": output | {"task_status": "RUNNING"}}
        output["end_time"] = _time(job.completed_at or task.submitted)
        error = job.error or {}
        if error.get("code") == CANCELLED:
            return {"output": output | {"task_status": "CANCELED"}}
        if job.status == "failed":
            return {"output": output | {"task_status": "FAILED"} | _failure(error)}
        path = f"{PREFIX}/results/{task.id}.mp4"
        url = f"{base_url.rstrip('/')}{path}?{self.signed.query(path)}"
        succeeded = {"task_status": "SUCCEEDED", "orig_prompt": job.prompt, "video_url": url}
        return {"output": output | succeeded, "usage": _usage(MODELS[task.model], job)}

    async def cancel(self, request: Request) -> Response:
        """Cancels a task still PENDING; any other is refused."""
        task = self._known(request)
        if task is None:
            raise _DashScopeError(404, "NotFound", "Not found!")
        job = self._job(task)
        if job is None or not _pending(job):
            raise _DashScopeError(400, "UnsupportedOperation", NOT_PENDING)
        if job.task is not None:
            job.task.cancel()
        job.fail(CANCELLED, "The task was canceled.")
        return JSONResponse({"request_id": _request_id()})

    async def result(self, request: Request) -> Response:
        """A task's video at its signed URL, as OSS serves it: no key; a bad or expired signature, or a
        task past its lifetime, is refused."""
        self.signed.check(request.url.path, request.query_params)
        task = self.tasks.get(request.path_params["task_id"])
        job = self._job(task) if task and not task.expired else None
        if job is None:
            raise _DashScopeError(404, "NotFound", "Not found!")
        path, media_type = self.engine.asset(job.id, "video")
        return MediaFile(path, media_type=media_type)

    def routes(self) -> list[Route]:
        task = API + "/tasks/{task_id}"
        return [
            Route(
                API + "/services/aigc/video-generation/video-synthesis",
                speaking(_dashscope_error, self.create),
                methods=["POST"],
            ),
            Route(task, speaking(_dashscope_error, self.get), methods=["GET"]),
            Route(task + "/cancel", speaking(_dashscope_error, self.cancel), methods=["POST"]),
            Route(
                PREFIX + "/results/{task_id}.mp4", speaking(_dashscope_error, self.result), methods=["GET"]
            ),
        ]


def _pending(job: Job) -> bool:
    """Whether the task waits in the queue: a `[stall]` one was scheduled at once and never ends."""
    return job.live_status()[0] == "queued" and Scenario.STALL not in job.scenarios


def _queued_seconds(job: Job) -> float:
    return 0.0 if Scenario.STALL in job.scenarios else job.latency * QUEUED_SHARE


def _request_id() -> str:
    return str(uuid.uuid4())


def _time(timestamp: float) -> str:
    """A time as DashScope writes one: `2025-09-29 14:18:52.331`."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise _DashScopeError(400, "BadRequest.IllegalInput", NOT_JSON) from e
    if not isinstance(body, dict):
        raise _DashScopeError(400, "BadRequest.IllegalInput", NOT_JSON)
    return body


def _params(name: str, model: Model, given: dict[str, Any], parameters: dict[str, Any]) -> CreateParams:
    """The engine's job for a task; _RefusedError naming what of it the model does not take."""
    duration = parameters.get("duration", DEFAULT_DURATION)
    if isinstance(duration, bool) or duration not in model.durations:
        raise _RefusedError(f"The duration is not match: {name} makes {_options(model.durations)} seconds.")
    prompt = given.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        raise _RefusedError("Input should be a valid string: input.prompt")
    if model.image:
        image = _image(given.get("img_url"))
        size = _shaped(image, _resolution(name, model, parameters.get("resolution", DEFAULT_TIER)))
        return CreateParams((prompt or "")[: model.prompt_chars], name, str(duration), size, reference=image)
    if not prompt or not prompt.strip():
        raise _RefusedError("Field required: input.prompt")
    size = str(parameters.get("size", TIERS[DEFAULT_TIER][0].replace("x", "*"))).replace("*", "x")
    allowed = [picture for tier in model.tiers for picture in TIERS[tier]]
    if size not in allowed:
        raise _RefusedError(f"The size is not match: {name} makes {_options(allowed)}.")
    return CreateParams(prompt[: model.prompt_chars], name, str(duration), size)


def _options(values: Any) -> str:
    return ", ".join(str(value).replace("x", "*") for value in values)


def _resolution(name: str, model: Model, resolution: Any) -> str:
    if resolution not in model.tiers:
        raise _RefusedError(f"The resolution is not match: {name} makes {_options(model.tiers)}.")
    return str(resolution)


def _image(img_url: Any) -> bytes:
    """`img_url`: a `data:{MIME_type};base64,{base64_data}` URI of a JPEG, PNG, BMP or WebP picture of
    360 to 2000 pixels a side."""
    if img_url is None:
        raise _RefusedError("Field required: input.img_url")
    if not isinstance(img_url, str) or not img_url.startswith("data:"):
        raise _RefusedError(
            "The engine fetches no URL: give img_url as data:{MIME_type};base64,{base64_data}."
        )
    header, _, data = img_url.partition(",")
    try:
        if not header.endswith(";base64"):
            raise ValueError("not base64")
        content = base64.b64decode(data, validate=True)
        with Image.open(io.BytesIO(content)) as picture:
            known, sides = picture.format in IMAGE_FORMATS, (picture.width, picture.height)
    except (binascii.Error, ValueError, UnidentifiedImageError) as e:
        raise _RefusedError(NOT_AN_IMAGE, "InvalidImage.FileFormat") from e
    if not known:
        raise _RefusedError(NOT_AN_IMAGE, "InvalidImage.FileFormat")
    if not all(side in IMAGE_SIDES for side in sides):
        raise _RefusedError("The input image resolution is too large or small.", "InvalidImageResolution")
    return content


def _shaped(image: bytes, tier: str) -> str:
    """The tier's picture nearest the image's shape."""
    with Image.open(io.BytesIO(image)) as picture:
        shape = Fraction(picture.width, picture.height)

    def off(size: str) -> Fraction:
        width, _, height = size.partition("x")
        return abs(Fraction(int(width), int(height)) - shape)

    return min(TIERS[tier], key=off)


def _failure(error: dict[str, str]) -> dict[str, str]:
    """A failed job's `code` and `message`: the output's moderation, or the model's own failure."""
    if error.get("code") == "moderation_blocked":
        return {"code": "DataInspectionFailed", "message": "Output data may contain inappropriate content."}
    return {"code": "InternalError.Algo", "message": error.get("message") or "inference internal error."}


def _usage(model: Model, job: Job) -> dict[str, Any]:
    seconds, size = int(job.seconds), job.size.replace("x", "*")
    if model.legacy_usage:
        return {"video_count": 1, "video_duration": seconds, "video_ratio": size}
    tier = next(tier for tier, sizes in TIERS.items() if job.size in sizes)
    return {
        "video_count": 1,
        "duration": seconds,
        "input_video_duration": 0,
        "output_video_duration": seconds,
        "SR": int(tier.removesuffix("P")),
        "size": size,
    }


DIALECT = Dialect(
    "wan",
    PREFIX,
    lambda engine, api_key: WanApi(engine, api_key).routes(),
    example_model="wan2.5-t2v-preview",
    errors=_dashscope_error,
)
