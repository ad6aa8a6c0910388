"""Kling AI's API, as its API reference (app.klingai.com/global/dev/document-api) has it, under `/kling`.
Kling has no official Python SDK: its reference is HTTP.

`POST /kling/v1/videos/text2video` and `/kling/v1/videos/image2video` (a bearer JWT) create a task
from `model_name` (default kling-v1), `prompt` (at most 2500 characters; image to video may leave it
out), `negative_prompt` (at most 2500), `cfg_scale` (0 to 1), `mode` (std or pro, default std),
`duration` ("5" or "10", default "5"), `aspect_ratio` (16:9, 9:16 or 1:1, default 16:9; text to
video), `sound` (on or off: kling-v2-6, on in pro only), `image` (image to video: base64 without a
`data:` prefix, a JPEG or PNG of at most 10 MB, 300 px a side at least, 1:2.5 to 2.5:1; the engine
fetches no URL), `callback_url` and `external_task_id`, and answer `{code: 0, message: "SUCCEED",
request_id, data: {task_id, task_status: "submitted", task_info, created_at, updated_at}}`. std makes
720p and pro 1080p (kling-v1 720p in both, kling-v2-1-master 1080p in both): text to video the aspect
ratio at it, image to video the image's own shape at it.

`GET /kling/v1/videos/{text2video|image2video}/{task_id}` reads a task made at that path (another
path's is not found): submitted, processing, succeed with `task_result.videos: [{id, url, duration}]`
(the URL signed: it needs no token, and expires) or failed with `task_status_msg` (`[fail]`); `GET
/kling/v1/videos/{path}?pageNum=&pageSize=` lists them, newest first. A `[moderation]` prompt is
refused at create with 1301, Kling's content security policy. A task with a `callback_url` is POSTed
there, as a read's `data`, when its status changes: to processing, and to its end. Kling has no
cancel; the other fields of its reference (camera_control, image_tail, the brushes, watermark_info)
are taken and ignored.

Errors are `{code, message, request_id}` with Kling's HTTP status: 401 1001 without a token, 1002
for one malformed, not HS256, badly signed or of another access key, 1003 before its `nbf`, 1004 from
its `exp`; 400 1200 for a body that is not a JSON object, 1201 for a field Kling refuses, 1301 for
moderation; 404 1203 for an unknown model or task; 429 1302 for `[rate-limit]`; 500 5000. An engine
started with a key (`ACCESS_KEY:SECRET_KEY`, as a route holds it) checks a token's signature with its
secret and its issuer; one started without takes any well-formed token that is valid now, having no
secret to check it with.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import io
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.engine.dialects import Dialect, Endpoint, job_video, size_of, speaking, start
from local.engine.errors import EngineError
from local.engine.jobs import QUEUED_SHARE, Job, Scenario, scenarios_in
from local.engine.params import CreateParams
from local.engine.service import Engine
from local.engine.signed_urls import SignedUrls

PREFIX = "/kling"
TEXT_TO_VIDEO, IMAGE_TO_VIDEO = "text2video", "image2video"
DEFAULT_MODEL = "kling-v1"
MAX_PROMPT_CHARS = 2500
DURATIONS = ("5", "10")
MODES = ("std", "pro")
RATIOS = ("16:9", "9:16", "1:1")
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MIN_IMAGE_SIDE = 300
MAX_IMAGE_RATIO = 2.5
IMAGE_FORMATS = ("PNG", "JPEG")
STATUSES = {"queued": "submitted", "in_progress": "processing", "completed": "succeed", "failed": "failed"}
CONTENT_REFUSED = (1301, "Trigger the content security policy of the platform")
# Kling's code for an error the engine raises in OpenAI's terms, by its HTTP status.
_CODES = {400: 1200, 401: 1000, 403: 1103, 404: 1203, 429: 1302, 500: 5000, 503: 5001, 504: 5002}


@dataclass(frozen=True)
class Model:
    # The resolution std and pro make.
    std: str
    pro: str
    sound: bool = False

    def resolution(self, mode: str) -> str:
        return self.std if mode == "std" else self.pro


# From Kling's capability map.
MODELS = {
    "kling-v1": Model("720p", "720p"),
    "kling-v2-1-master": Model("1080p", "1080p"),
    "kling-v2-5-turbo": Model("720p", "1080p"),
    "kling-v2-6": Model("720p", "1080p", sound=True),
}


@dataclass(frozen=True)
class Task:
    job_id: str
    endpoint: str
    external_task_id: str | None


class _KlingError(EngineError):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(status, message)
        self.kling_code = code


def _refused(message: str) -> _KlingError:
    return _KlingError(400, 1201, message)


def _unauthorized(code: int, message: str) -> _KlingError:
    return _KlingError(401, code, message)


def _not_found(message: str) -> _KlingError:
    return _KlingError(404, 1203, message)


def _kling_error(error: EngineError) -> Response:
    code = error.kling_code if isinstance(error, _KlingError) else None
    code = code or _CODES.get(error.status, 5000 if error.status >= 500 else 1200)
    body = {"code": code, "message": error.message, "request_id": str(uuid.uuid4())}
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return JSONResponse(body, error.status, headers=headers)


def _answer(data: Any) -> JSONResponse:
    return JSONResponse({"code": 0, "message": "SUCCEED", "request_id": str(uuid.uuid4()), "data": data})


class KlingApi:
    def __init__(self, engine: Engine, api_key: str | None) -> None:
        self.engine = engine
        self.keys = _keys(api_key)
        self.signed = SignedUrls()
        self.tasks: dict[str, Task] = {}

    def _check(self, request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not scheme:
            raise _unauthorized(1001, "Authorization is empty")
        if scheme.lower() != "bearer":
            raise _unauthorized(1002, "Authorization is invalid")
        claims = _claims(token.strip(), self.keys)
        now = time.time()
        if claims.get("nbf", 0) > now:
            raise _unauthorized(1003, "Authorization is not yet valid")
        if claims["exp"] <= now:
            raise _unauthorized(1004, "Authorization has expired")

    async def create(self, request: Request, endpoint: str) -> Response:
        self._check(request)
        body = await _body(request)
        name, model = _model(body)
        prompt = _prompt(body, "prompt", required=endpoint == TEXT_TO_VIDEO)
        _prompt(body, "negative_prompt", required=False)
        _cfg_scale(body.get("cfg_scale"))
        mode = _choice(body, "mode", MODES, "std")
        duration = _choice(body, "duration", DURATIONS, "5")
        _sound(body, name, model, mode)
        image, size = _picture(body, endpoint, model.resolution(mode))
        callback_url = _callback_url(body.get("callback_url"))
        external_task_id = self._external_task_id(body.get("external_task_id"))
        if Scenario.MODERATION in scenarios_in(prompt):
            raise _KlingError(400, *CONTENT_REFUSED)
        job = start(self.engine, CreateParams(prompt, name, duration, size, reference=image))
        task_id = _task_id(job)
        self.tasks[task_id] = Task(job.id, endpoint, external_task_id)
        base = str(request.base_url)
        if callback_url is not None:
            self._call_back(job, callback_url, base)
        created = self._view(job, base)
        return _answer({field: created[field] for field in _CREATED_FIELDS})

    def _external_task_id(self, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise _refused("external_task_id must be a string")
        if any(task.external_task_id == value for task in self.tasks.values()):
            raise _refused(f"external_task_id {value} already exists")
        return value

    def _call_back(self, job: Job, url: str, base: str) -> None:
        """The task to `url` when it turns processing and when it ends."""
        self.engine.call_back(job, url, lambda ended: self._view(ended, base))
        self.engine.in_background(self._announce_processing(job, url, base))

    async def _announce_processing(self, job: Job, url: str, base: str) -> None:
        # Just past the share of its time a job spends queued (the engine's time model).
        await asyncio.sleep(max(0.0, job.started + job.latency * QUEUED_SHARE - time.monotonic()) + 0.01)
        task = self._view(job, base)
        if task["task_status"] == "processing":
            await self.engine.callback_sender.send(url, task)

    async def get(self, request: Request, endpoint: str) -> Response:
        self._check(request)
        task_id = request.path_params["task_id"]
        task = self.tasks.get(task_id)
        if task is None or task.endpoint != endpoint:
            raise _not_found(f"Task {task_id} does not exist")
        return _answer(self._view(self.engine.read_status(task.job_id), str(request.base_url)))

    async def list_tasks(self, request: Request, endpoint: str) -> Response:
        """A page of the path's tasks, newest first."""
        self._check(request)
        number = _page_param(request, "pageNum", 1, 1000)
        size = _page_param(request, "pageSize", 30, 500)
        jobs = [
            self.engine.jobs.get(task.job_id) for task in self.tasks.values() if task.endpoint == endpoint
        ]
        newest = sorted((job for job in jobs if job is not None), key=lambda job: job.seq, reverse=True)
        page = newest[(number - 1) * size : number * size]
        return _answer([self._view(job, str(request.base_url)) for job in page])

    def _view(self, job: Job, base_url: str) -> dict[str, Any]:
        """The task, as a read's `data` and a callback carry it."""
        state, _ = job.live_status()
        task_id = _task_id(job)
        external_task_id = self.tasks[task_id].external_task_id
        view: dict[str, Any] = {
            "task_id": task_id,
            "task_status": STATUSES[state],
            "task_status_msg": "",
            "task_info": {"external_task_id": external_task_id} if external_task_id else {},
            "task_result": {},
            "created_at": job.created_at * 1000,
            "updated_at": (job.completed_at or job.created_at) * 1000,
        }
        if state == "completed":
            path = f"{PREFIX}/cdn/{task_id}.mp4"
            url = f"{base_url.rstrip('/')}{path}?{self.signed.query(path)}"
            video = {
                "id": str(uuid.UUID(job.id.removeprefix("video_")[:32])),
                "url": url,
                "duration": job.seconds,
            }
            view["task_result"] = {"videos": [video]}
        elif state == "failed":
            view["task_status_msg"] = (job.error or {}).get("message") or "Video generation failed."
        return view

    async def video(self, request: Request) -> Response:
        """A video at its signed URL, as Kling's CDN serves it: no token; a bad or expired signature is
        refused."""
        self.signed.check(request.url.path, request.query_params)
        task = self.tasks.get(request.path_params["task_id"])
        return job_video(self.engine, task.job_id if task else None, _not_found("Not found"))

    def routes(self) -> list[Route]:
        found = [Route(PREFIX + "/cdn/{task_id}.mp4", speaking(_kling_error, self.video), methods=["GET"])]
        for endpoint in (TEXT_TO_VIDEO, IMAGE_TO_VIDEO):
            path = f"{PREFIX}/v1/videos/{endpoint}"
            found += [
                Route(path, _at(self.create, endpoint), methods=["POST"]),
                Route(path, _at(self.list_tasks, endpoint), methods=["GET"]),
                Route(path + "/{task_id}", _at(self.get, endpoint), methods=["GET"]),
            ]
        return found


_CREATED_FIELDS = ("task_id", "task_status", "task_info", "created_at", "updated_at")


def _at(handler: Callable[[Request, str], Awaitable[Response]], endpoint: str) -> Endpoint:
    """`handler` serving one path (text to video's or image to video's)."""

    async def served(request: Request) -> Response:
        return await handler(request, endpoint)

    return speaking(_kling_error, served)


def _task_id(job: Job) -> str:
    """A task id as Kling writes them (a decimal number of 18 or so digits), from the engine's job id."""
    return str(int(job.id.removeprefix("video_")[:15], 16))


def _keys(api_key: str | None) -> tuple[str, str] | None:
    """The access key and the secret key of the engine's key (`ACCESS_KEY:SECRET_KEY`)."""
    if api_key is None:
        return None
    access_key, _, secret_key = api_key.partition(":")
    return access_key.strip(), secret_key.strip()


def _decoded(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _claims(token: str, keys: tuple[str, str] | None) -> dict[str, Any]:
    """A well-formed HS256 token's claims (with `keys`, one signed with the secret for the access key)."""
    invalid = _unauthorized(1002, "Authorization is invalid")
    parts = token.split(".")
    if len(parts) != 3:
        raise invalid
    try:
        header, claims, signature = (
            json.loads(_decoded(parts[0])),
            json.loads(_decoded(parts[1])),
            _decoded(parts[2]),
        )
    except (ValueError, binascii.Error) as e:
        raise invalid from e
    if not isinstance(header, dict) or header.get("alg") != "HS256" or header.get("typ", "JWT") != "JWT":
        raise invalid
    if not isinstance(claims, dict) or not isinstance(claims.get("iss"), str) or not signature:
        raise invalid
    if not _number(claims.get("exp")) or not _number(claims.get("nbf", 0)):
        raise invalid
    if keys is not None:
        access_key, secret_key = keys
        expected = hmac.new(secret_key.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if claims["iss"] != access_key or not hmac.compare_digest(signature, expected):
            raise invalid
    return claims


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise _KlingError(400, 1200, "Invalid request parameters: the body is not JSON") from e
    if not isinstance(body, dict):
        raise _KlingError(400, 1200, "Invalid request parameters: the body is not a JSON object")
    return body


def _model(body: dict[str, Any]) -> tuple[str, Model]:
    name = body.get("model_name") or DEFAULT_MODEL
    if not isinstance(name, str):
        raise _refused("model_name must be a string")
    model = MODELS.get(name)
    if model is None:
        raise _not_found(f"model_name {name} does not exist")
    return name, model


def _prompt(body: dict[str, Any], field: str, required: bool) -> str:
    value = body.get(field)
    if value is None or value == "":
        if required:
            raise _refused(f"{field} is required")
        return ""
    if not isinstance(value, str):
        raise _refused(f"{field} must be a string")
    if len(value) > MAX_PROMPT_CHARS:
        raise _refused(f"{field} cannot exceed {MAX_PROMPT_CHARS} characters")
    return value


def _cfg_scale(value: Any) -> None:
    """Taken and checked (the engine has no use for it, nor do the V2 models)."""
    if value is not None and (not _number(value) or not 0 <= value <= 1):
        raise _refused("cfg_scale must be a number from 0 to 1")


def _choice(body: dict[str, Any], field: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, str) or value not in allowed:
        raise _refused(f"{field} must be one of {', '.join(allowed)}, not {json.dumps(value)}")
    return value


def _sound(body: dict[str, Any], name: str, model: Model, mode: str) -> None:
    if _choice(body, "sound", ("on", "off"), "off") == "off":
        return
    if not model.sound:
        raise _refused(f"sound is not supported by {name}")
    if mode != "pro":
        raise _refused(f"sound on is supported in pro mode only by {name}")


def _picture(body: dict[str, Any], endpoint: str, resolution: str) -> tuple[bytes | None, str]:
    """The first frame (image to video) and the picture's size."""
    if endpoint == TEXT_TO_VIDEO:
        return None, size_of(_choice(body, "aspect_ratio", RATIOS, RATIOS[0]), resolution)
    image, width, height = _image(body.get("image"))
    return image, size_of(f"{width}:{height}", resolution)


def _image(value: Any) -> tuple[bytes, int, int]:
    """`image`: a JPEG or PNG in base64 (no `data:` prefix), with its width and height."""
    if not isinstance(value, str) or not value:
        raise _refused("image is required")
    if value.startswith(("http://", "https://")):
        raise _refused("image: the engine fetches no URL; give the image in base64")
    if value.startswith("data:"):
        raise _refused("image: give the base64 alone, without a data: prefix")
    try:
        content = base64.b64decode(value, validate=True)
        with Image.open(io.BytesIO(content)) as picture:
            if picture.format not in IMAGE_FORMATS:
                raise _refused("image must be a JPG, JPEG or PNG")
            width, height = picture.width, picture.height
    except (binascii.Error, ValueError, UnidentifiedImageError) as e:
        raise _refused("image is not a readable JPG, JPEG or PNG") from e
    if len(content) > MAX_IMAGE_BYTES:
        raise _refused("image cannot exceed 10MB")
    if min(width, height) < MIN_IMAGE_SIDE:
        raise _refused(f"image must be at least {MIN_IMAGE_SIDE}px wide and high")
    if not 1 / MAX_IMAGE_RATIO <= width / height <= MAX_IMAGE_RATIO:
        raise _refused("image's aspect ratio must be between 1:2.5 and 2.5:1")
    return content, width, height


def _callback_url(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise _refused("callback_url must be an http(s) URL")
    return value


def _page_param(request: Request, name: str, default: int, most: int) -> int:
    value = request.query_params.get(name, str(default))
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise _refused(f"{name} must be from 1 to {most}")
    return int(value)


DIALECT = Dialect(
    "kling",
    PREFIX,
    lambda engine, api_key: KlingApi(engine, api_key).routes(),
    example_model="kling-v2-5-turbo",
    errors=_kling_error,
)
