"""MiniMax's video generation API (Hailuo), as platform.minimax.io's API reference has it, under
`/minimax`.

`POST /minimax/v1/video_generation` (bearer key) starts a task from `model` (MiniMax-Hailuo-2.3,
MiniMax-Hailuo-2.3-Fast, MiniMax-Hailuo-02), `prompt` (at most 2000 characters; needed without a first
frame), `duration` (6 or 10, default 6; 10 at 768P only, and at 512P for MiniMax-Hailuo-02),
`resolution` (768P, the default, or 1080P; 512P for MiniMax-Hailuo-02 from a first frame only),
`first_frame_image` (a data URL: the engine fetches no URL; a JPG, PNG or WebP under 20 MB, its shorter
side at least 300 px, its ratio between 2:5 and 5:2; MiniMax-Hailuo-2.3-Fast needs one),
`prompt_optimizer`, `fast_pretreatment` and `aigc_watermark` (booleans) and `callback_url`, and answers
`{"task_id", "base_resp"}`. A video from text is 16:9; from a first frame it takes the frame's shape.
`GET /minimax/v1/query/video_generation?task_id=` reads the task: Preparing, Queueing (while the
engine's job waits), Processing, then Success with `file_id`, `video_width` and `video_height`, or Fail
with its reason in `base_resp` (`[fail]`: code 0 and the reason; `[moderation]`: 1026, input
new_sensitive). `GET /minimax/v1/files/retrieve?file_id=` gives the file, its `download_url` a signed
URL on the engine's storage path (`/minimax/cdn/…`) that needs no key and expires. There is no cancel.

A create naming `callback_url` is answered at once; the URL is then POSTed `{"challenge"}`, and the
task's end is pushed there only if an answer echoed it within 3 s (a URL that did not is challenged
once more when the task ends, before anything is pushed): the task as a query reads it, its status as
the create pages list the callback's (`success`, `failed`). MiniMax pushes `processing` as well; the
engine pushes the end alone.

Errors are `base_resp: {status_code, status_msg}` on an HTTP 200, as MiniMax answers them: no key 1004,
another key than the engine's 2049, an invalid parameter (or an unknown model, task or file) 2013. A
status the engine answers otherwise (a `[rate-limit]` 429, a `[flaky]` 500, an armed fault) keeps its
HTTP status, with the code MiniMax documents for it (1002 rate limit, 1000 unknown error…).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.engine.dialects import (
    Dialect,
    data_uri_picture,
    job_video,
    key_matches,
    size_of,
    speaking,
    start,
)
from local.engine.errors import EngineError
from local.engine.jobs import QUEUED_SHARE, Job
from local.engine.params import CreateParams
from local.engine.service import Engine
from local.engine.signed_urls import SignedUrls

log = logging.getLogger("videos_api.engine.minimax")

PREFIX = "/minimax"
MAX_PROMPT_CHARS = 2000
DEFAULT_DURATION = 6
DEFAULT_RESOLUTION = "768P"
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MIN_IMAGE_SIDE = 300
IMAGE_RATIOS = (Fraction(2, 5), Fraction(5, 2))
# How long MiniMax waits for its challenge's echo.
CHALLENGE_SECONDS = 3.0
OK = {"status_code": 0, "status_msg": "success"}
NO_KEY = "login fail: Please carry the API secret key in the 'Authorization' field of the request header"
# MiniMax's codes for the statuses the engine answers by HTTP (otherwise 1000, unknown error).
_CODE_OF_STATUS = {400: 2013, 401: 1004, 402: 1008, 403: 1004, 404: 2013, 422: 2013, 429: 1002}
# The callback's status values for a task's end, as the create pages list them.
_PUSHED = {"Success": "success", "Fail": "failed"}


@dataclass(frozen=True)
class Model:
    resolutions: tuple[str, ...]
    # The resolutions 10 seconds are made at (6 seconds: at any of them).
    ten_seconds: tuple[str, ...]
    # The resolutions made from a first frame only.
    first_frame_only: tuple[str, ...] = ()


MODELS = {
    "MiniMax-Hailuo-2.3": Model(("768P", "1080P"), ("768P",)),
    "MiniMax-Hailuo-2.3-Fast": Model(("768P", "1080P"), ("768P",), first_frame_only=("768P", "1080P")),
    "MiniMax-Hailuo-02": Model(("512P", "768P", "1080P"), ("512P", "768P"), first_frame_only=("512P",)),
}


class _RefusedError(EngineError):
    """A request MiniMax refuses: an HTTP 200 whose `base_resp` carries the code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(200, message)
        self.base_code = code


def _invalid(message: str) -> _RefusedError:
    return _RefusedError(2013, f"invalid params, {message}")


def _minimax_error(error: EngineError) -> Response:
    code = error.base_code if isinstance(error, _RefusedError) else _CODE_OF_STATUS.get(error.status, 1000)
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    body = {"base_resp": {"status_code": code, "status_msg": error.message}}
    return JSONResponse(body, error.status, headers=headers)


class MiniMaxVideos:
    def __init__(self, engine: Engine, api_key: str | None) -> None:
        self.engine, self.api_key = engine, api_key
        self.signed = SignedUrls()
        self.tasks: dict[str, str] = {}  # task id -> the engine's job id
        self.files: dict[str, str] = {}  # file id -> the engine's job id

    def _check(self, request: Request) -> None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise _RefusedError(1004, NO_KEY)
        if not key_matches(key, self.api_key):
            raise _RefusedError(2049, "invalid api key")

    async def create(self, request: Request) -> Response:
        self._check(request)
        body = await _json_object(request)
        name = body.get("model")
        model = MODELS.get(name) if isinstance(name, str) else None
        if model is None:
            raise _invalid(f"model {name} is not supported for video generation")
        frame = _first_frame(body.get("first_frame_image"))
        prompt = _prompt(body.get("prompt"), frame is not None)
        resolution = _resolution(body.get("resolution", DEFAULT_RESOLUTION), model, frame is not None)
        duration = _duration(body.get("duration", DEFAULT_DURATION), model, resolution)
        _booleans(body, ("prompt_optimizer", "fast_pretreatment", "aigc_watermark"))
        callback_url = _callback_url(body.get("callback_url"))
        shape = "16:9" if frame is None else "{}:{}".format(*frame[1])
        size = size_of(shape, resolution.lower())
        reference = None if frame is None else frame[0]
        job = start(self.engine, CreateParams(prompt, str(name), str(duration), size, reference=reference))
        self.tasks[_task_id(job)] = job.id
        self.files[_file_id(job)] = job.id
        if callback_url is not None:
            self.engine.in_background(self._push_end(job, callback_url))
        return JSONResponse({"task_id": _task_id(job), "base_resp": OK})

    async def _push_end(self, job: Job, url: str) -> None:
        """MiniMax's callback: a challenge as the task is made, then the task's end pushed to `url`
        once it ends, if `url` echoed a challenge in time (asked once more then, if it had not)."""
        echoed = await self._echoed(url)
        if job.task is not None:
            await asyncio.wait({job.task})
        if not job.terminal:
            return
        if echoed or await self._echoed(url):
            await self.engine.callback_sender.send(url, self._pushed(job))
        else:
            log.info("callback URL %s did not echo the challenge: no status is pushed there", url)

    async def _echoed(self, url: str) -> bool:
        challenge = secrets.token_urlsafe(24)
        answer = await self.engine.callback_sender.answer(url, {"challenge": challenge}, CHALLENGE_SECONDS)
        return isinstance(answer, dict) and answer.get("challenge") == challenge

    async def query(self, request: Request) -> Response:
        self._check(request)
        job_id = self.tasks.get(request.query_params.get("task_id", ""))
        if job_id is None:
            raise _invalid("task_id is not a task of yours")
        return JSONResponse(self._view(self.engine.read_status(job_id)))

    def _view(self, job: Job) -> dict[str, Any]:
        """The task, as a query reads it and its callback carries it."""
        state, _ = job.live_status()
        view: dict[str, Any] = {"task_id": _task_id(job), "base_resp": OK}
        if state == "queued":
            return view | {"status": "Preparing" if job.elapsed_share() < QUEUED_SHARE / 2 else "Queueing"}
        if state == "in_progress":
            return view | {"status": "Processing"}
        if state == "completed":
            width, _, height = job.size.partition("x")
            made = {"file_id": _file_id(job), "video_width": int(width), "video_height": int(height)}
            return view | {"status": "Success"} | made
        error = job.error or {}
        if error.get("code") == "moderation_blocked":
            return view | {
                "status": "Fail",
                "base_resp": {"status_code": 1026, "status_msg": "input new_sensitive"},
            }
        reason = error.get("message") or "Video generation failed."
        return view | {"status": "Fail", "base_resp": {"status_code": 0, "status_msg": reason}}

    def _pushed(self, job: Job) -> dict[str, Any]:
        """The task's end as its callback pushes it."""
        view = self._view(job)
        return view | {"status": _PUSHED[view["status"]]}

    async def retrieve_file(self, request: Request) -> Response:
        self._check(request)
        file_id = request.query_params.get("file_id", "")
        job_id = self.files.get(file_id)
        if job_id is None:
            raise _invalid("file_id is not a file of yours")
        path, _ = self.engine.asset(job_id, "video")
        job = self.engine.get(job_id)
        where = f"{PREFIX}/cdn/{file_id}/output.mp4"
        file = {
            "file_id": int(file_id),
            "bytes": path.stat().st_size,
            "created_at": job.completed_at or job.created_at,
            "filename": "output.mp4",
            "purpose": "video_generation",
            "download_url": f"{str(request.base_url).rstrip('/')}{where}?{self.signed.query(where)}",
        }
        return JSONResponse({"file": file, "base_resp": OK})

    async def download(self, request: Request) -> Response:
        """A file at its signed URL, as MiniMax's storage serves it: no key; a bad or expired
        signature is refused."""
        self.signed.check(request.url.path, request.query_params)
        job_id = self.files.get(request.path_params["file_id"])
        return job_video(self.engine, job_id, EngineError(404, "Not found."))

    def routes(self) -> list[Route]:
        return [
            Route(PREFIX + "/v1/video_generation", speaking(_minimax_error, self.create), methods=["POST"]),
            Route(
                PREFIX + "/v1/query/video_generation", speaking(_minimax_error, self.query), methods=["GET"]
            ),
            Route(
                PREFIX + "/v1/files/retrieve", speaking(_minimax_error, self.retrieve_file), methods=["GET"]
            ),
            Route(
                PREFIX + "/cdn/{file_id}/output.mp4", speaking(_minimax_error, self.download), methods=["GET"]
            ),
        ]


def _task_id(job: Job) -> str:
    """A task id as MiniMax writes them (a decimal number), from the engine's job id."""
    return str(int(job.id.removeprefix("video_")[:13], 16))


def _file_id(job: Job) -> str:
    return str(int(job.id.removeprefix("video_")[13:26], 16))


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise _invalid("the request body is not JSON") from e
    if not isinstance(body, dict):
        raise _invalid("the request body must be a JSON object")
    return body


def _first_frame(value: Any) -> tuple[bytes, tuple[int, int]] | None:
    """`first_frame_image` as MiniMax takes one: a JPG, PNG or WebP under 20 MB, its shorter side at
    least 300 px, its ratio between 2:5 and 5:2."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid("first_frame_image must be a string")
    try:
        content, (width, height) = data_uri_picture(value)
    except ValueError as e:
        raise _invalid(f"invalid first_frame_image: {e}") from e
    if len(content) >= MAX_IMAGE_BYTES:
        raise _invalid("first_frame_image must be smaller than 20MB")
    if min(width, height) < MIN_IMAGE_SIDE:
        raise _invalid(f"first_frame_image: minimum pixel on the short side of the image: {MIN_IMAGE_SIDE}px")
    if not IMAGE_RATIOS[0] <= Fraction(width, height) <= IMAGE_RATIOS[1]:
        raise _invalid("first_frame_image: aspect ratio not between 2:5 and 5:2")
    return content, (width, height)


def _prompt(value: Any, from_frame: bool) -> str:
    """The prompt, which a video from a first frame may go without."""
    if from_frame and value in (None, ""):
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _invalid("prompt is required")
    if len(value) > MAX_PROMPT_CHARS:
        raise _invalid(f"prompt is longer than {MAX_PROMPT_CHARS} characters")
    return value


def _resolution(value: Any, model: Model, from_frame: bool) -> str:
    if value not in model.resolutions:
        raise _invalid(f"resolution {value} is not supported: use {', '.join(model.resolutions)}")
    if value in model.first_frame_only and not from_frame:
        raise _invalid(f"first_frame_image is required: this model makes {value} from a first frame only")
    return str(value)


def _duration(value: Any, model: Model, resolution: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid("duration must be an integer")
    if value not in (6, 10):
        raise _invalid(f"duration {value} is not supported: use 6 or 10")
    if value == 10 and resolution not in model.ten_seconds:
        raise _invalid(f"duration 10 is not supported at resolution {resolution}")
    return value


def _booleans(body: dict[str, Any], fields: tuple[str, ...]) -> None:
    for field in fields:
        if field in body and not isinstance(body[field], bool):
            raise _invalid(f"{field} must be a boolean")


def _callback_url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise _invalid("callback_url must be an http(s) URL")
    return value


DIALECT = Dialect(
    "minimax",
    PREFIX,
    lambda engine, api_key: MiniMaxVideos(engine, api_key).routes(),
    example_model="MiniMax-Hailuo-2.3",
    errors=_minimax_error,
)
