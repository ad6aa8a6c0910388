"""Runway's API, as its reference (docs.dev.runwayml.com) and the runwayml SDK have it, under `/runway`.

`POST /runway/v1/text_to_video` and `/runway/v1/image_to_video` (bearer key, `X-Runway-Version`)
start a task and answer `{"id", "estimatedCost"}`; `GET /runway/v1/tasks/{id}` reads it: PENDING,
RUNNING (with `progress` from 0 to 1), SUCCEEDED (with `output`, signed URLs that need no key and
expire), FAILED (with `failure` and `failureCode`: SAFETY.INPUT.TEXT for a `[moderation]` prompt,
INTERNAL.BAD_OUTPUT.CODE01 for `[fail]`) or CANCELLED; `DELETE /runway/v1/tasks/{id}` answers 204,
cancelling a task not yet ended and deleting one that has (a deleted task is a 404 after). Each
model's fields are checked as Runway's validator does (`model`, `promptText`, `ratio`, `duration`,
`promptImage`): a 400 `{"error": "Validation of body failed", "issues": [{code, path, message}],
"docUrl"}`. Other errors are `{"error": "…"}`. The engine fetches no URL: `promptImage` is a data URI
here. Tasks are never THROTTLED here.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.engine.dialects import Dialect, job_video, key_matches, speaking, start
from local.engine.errors import EngineError
from local.engine.jobs import Job
from local.engine.params import CreateParams
from local.engine.service import Engine
from local.engine.signed_urls import SignedUrls

PREFIX = "/runway"
VERSIONS = ("2024-11-06",)
DOC_URL = "https://docs.dev.runwayml.com/api"
MAX_PROMPT_UNITS = 1000  # UTF-16 code units, as Runway counts them
MAX_DATA_URI_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")


@dataclass(frozen=True)
class Model:
    durations: tuple[int, ...]
    ratios: tuple[str, ...]
    credits_per_second: int
    # Whether `duration` must be given (gen4.5), and what it is when it may be left out.
    duration_required: bool = False
    default_duration: int = 10
    prompt_required: bool = True
    audio: bool = False  # takes `audio`, which doubles its price
    credits_without_audio: int = 0


_GEN4 = tuple(range(2, 11))
_VEO_RATIOS = ("1280:720", "720:1280", "1080:1920", "1920:1080")
_GEN4_IMAGE_RATIOS = ("1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672")
# Each endpoint's models, from the SDK's request types (runwayml 5.24) and Runway's prices.
TEXT_TO_VIDEO = {
    "gen4.5": Model(_GEN4, ("1280:720", "720:1280"), 12, duration_required=True),
    "veo3.1": Model((4, 6, 8), _VEO_RATIOS, 40, default_duration=8, audio=True, credits_without_audio=20),
    "veo3.1_fast": Model(
        (4, 6, 8), _VEO_RATIOS, 15, default_duration=8, audio=True, credits_without_audio=10
    ),
}
IMAGE_TO_VIDEO = {
    "gen4.5": Model(_GEN4, _GEN4_IMAGE_RATIOS, 12, duration_required=True),
    "gen4_turbo": Model(_GEN4, _GEN4_IMAGE_RATIOS, 5, prompt_required=False),
    "veo3.1": TEXT_TO_VIDEO["veo3.1"],
    "veo3.1_fast": TEXT_TO_VIDEO["veo3.1_fast"],
}
FAILURES = {
    "moderation_blocked": (
        "SAFETY.INPUT.TEXT",
        "Your prompt did not pass our content moderation. Please rephrase it and try again.",
    ),
}
FAILED_CODE = "INTERNAL.BAD_OUTPUT.CODE01"


class _ValidationError(EngineError):
    def __init__(self, issues: list[dict[str, Any]]) -> None:
        super().__init__(400, "Validation of body failed")
        self.issues = issues


def _issue(field: str, message: str, code: str = "custom") -> _ValidationError:
    return _ValidationError([{"code": code, "path": [field], "message": message}])


def _runway_error(error: EngineError) -> Response:
    body: dict[str, Any] = {"error": error.message}
    if isinstance(error, _ValidationError):
        body |= {"issues": error.issues, "docUrl": DOC_URL}
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return JSONResponse(body, error.status, headers=headers)


def _options(values: tuple[Any, ...]) -> str:
    return "|".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values)


class RunwayApi:
    def __init__(self, engine: Engine, api_key: str | None) -> None:
        self.engine, self.api_key = engine, api_key
        self.signed = SignedUrls()
        self.jobs: dict[str, str] = {}  # task id -> the engine's job id
        self.credits: dict[str, int] = {}  # job id -> the task's credits
        self.cancelled: set[str] = set()

    def _check(self, request: Request) -> None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key_matches(key, self.api_key):
            raise EngineError(401, "Invalid API key. Check the Authorization header: Bearer <key>.")
        version = request.headers.get("x-runway-version")
        if version not in VERSIONS:
            raise EngineError(
                400, f"Set the X-Runway-Version header to a supported version: {', '.join(VERSIONS)}."
            )

    async def _body(self, request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body() or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise EngineError(400, "The request body is not valid JSON.") from e
        if not isinstance(body, dict):
            raise _issue("", "Invalid input: expected object", "invalid_type")
        return body

    async def text_to_video(self, request: Request) -> Response:
        self._check(request)
        return self._start(await self._body(request), TEXT_TO_VIDEO, image=False)

    async def image_to_video(self, request: Request) -> Response:
        self._check(request)
        return self._start(await self._body(request), IMAGE_TO_VIDEO, image=True)

    def _start(self, body: dict[str, Any], models: dict[str, Model], image: bool) -> Response:
        name = body.get("model")
        model = models.get(name) if isinstance(name, str) else None
        if model is None:
            message = f"Invalid input: expected one of {_options(tuple(models))}"
            raise _issue("model", message, "invalid_union")
        prompt = _prompt(body.get("promptText"), model.prompt_required)
        ratio = body.get("ratio")
        if ratio not in model.ratios:
            raise _issue(
                "ratio", f"Invalid option: expected one of {_options(model.ratios)}", "invalid_value"
            )
        duration = body.get("duration", None if model.duration_required else model.default_duration)
        if isinstance(duration, bool) or duration not in model.durations:
            low, high = model.durations[0], model.durations[-1]
            expected = (
                f"an integer from {low} to {high}" if model.durations == _GEN4 else _options(model.durations)
            )
            raise _issue("duration", f"Invalid input: expected {expected}", "invalid_value")
        audio = body.get("audio", True)
        if "audio" in body and (not model.audio or not isinstance(audio, bool)):
            raise _issue("audio", "Unrecognized key or not a boolean: audio", "unrecognized_keys")
        reference = _image(body.get("promptImage")) if image else None
        size = str(ratio).replace(":", "x")
        job = start(self.engine, CreateParams(prompt, str(name), str(duration), size, reference=reference))
        per_second = model.credits_per_second if audio or not model.audio else model.credits_without_audio
        self.jobs[_task_id(job)] = job.id
        self.credits[job.id] = per_second * int(duration)
        return JSONResponse({"id": _task_id(job), "estimatedCost": {"credits": self.credits[job.id]}})

    def _job(self, request: Request) -> Job:
        self._check(request)
        job_id = self.jobs.get(request.path_params["task_id"])
        if job_id is None:
            raise EngineError(404, "Task not found.")
        try:
            return self.engine.read_status(job_id)
        except EngineError as e:
            if e.status == 404:
                raise EngineError(404, "Task not found.") from e
            raise

    async def task(self, request: Request) -> Response:
        job = self._job(request)
        return JSONResponse(self._view(job, str(request.base_url)))

    def _view(self, job: Job, base_url: str) -> dict[str, Any]:
        state, progress = job.live_status()
        credits = self.credits[job.id]
        view: dict[str, Any] = {"id": _task_id(job), "createdAt": _iso(job.created_at)}
        if job.id in self.cancelled:
            return view | {"status": "CANCELLED", "cost": {"credits": 0}}
        if state == "queued":
            return view | {"status": "PENDING", "estimatedCost": {"credits": credits}}
        if state == "in_progress":
            return view | {
                "status": "RUNNING",
                "progress": progress / 100,
                "estimatedCost": {"credits": credits},
            }
        if state == "completed":
            path = f"{PREFIX}/outputs/{_task_id(job)}/video.mp4"
            url = f"{base_url.rstrip('/')}{path}?{self.signed.query(path)}"
            return view | {"status": "SUCCEEDED", "output": [url], "cost": {"credits": credits}}
        code, failure = FAILURES.get(
            job.error["code"] if job.error else "",
            (FAILED_CODE, job.error["message"] if job.error else "Video generation failed."),
        )
        return view | {"status": "FAILED", "failure": failure, "failureCode": code, "cost": {"credits": 0}}

    async def delete(self, request: Request) -> Response:
        """Cancels a task not yet ended (it reads CANCELLED after); deletes an ended one (a 404 after)."""
        job = self._job(request)
        if job.terminal:
            del self.jobs[_task_id(job)]
            self.credits.pop(job.id, None)
            self.cancelled.discard(job.id)
            self.engine.delete(job.id)
        else:
            if job.task is not None:
                job.task.cancel()
            self.cancelled.add(job.id)
            job.fail("cancelled", "The task was cancelled.")
        return Response(status_code=204)

    async def output(self, request: Request) -> Response:
        """A task's output at its signed URL, as Runway's storage serves it: no key; a bad or expired
        signature is refused."""
        self.signed.check(request.url.path, request.query_params)
        job_id = self.jobs.get(request.path_params["task_id"])
        return job_video(self.engine, job_id, EngineError(404, "Not found."))

    def routes(self) -> list[Route]:
        return [
            Route(
                PREFIX + "/v1/text_to_video", speaking(_runway_error, self.text_to_video), methods=["POST"]
            ),
            Route(
                PREFIX + "/v1/image_to_video", speaking(_runway_error, self.image_to_video), methods=["POST"]
            ),
            Route(PREFIX + "/v1/tasks/{task_id}", speaking(_runway_error, self.task), methods=["GET"]),
            Route(PREFIX + "/v1/tasks/{task_id}", speaking(_runway_error, self.delete), methods=["DELETE"]),
            Route(
                PREFIX + "/outputs/{task_id}/video.mp4", speaking(_runway_error, self.output), methods=["GET"]
            ),
        ]


def _task_id(job: Job) -> str:
    """A task id as Runway writes them (a UUID), from the engine's job id."""
    hexa = job.id.removeprefix("video_")[:32]
    return f"{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:32]}"


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def _prompt(prompt: Any, required: bool) -> str:
    if prompt is None and not required:
        return "An image set in motion"
    if not isinstance(prompt, str) or not prompt.strip():
        raise _issue("promptText", "Invalid input: expected a non-empty string", "invalid_type")
    if len(prompt.encode("utf-16-le")) // 2 > MAX_PROMPT_UNITS:
        raise _issue(
            "promptText", f"Too big: expected string to have <={MAX_PROMPT_UNITS} characters", "too_big"
        )
    return prompt


def _image(prompt_image: Any) -> bytes:
    """`promptImage`: a data URI, or `[{"uri", "position": "first"}]`."""
    if isinstance(prompt_image, list) and prompt_image and isinstance(prompt_image[0], dict):
        first = next((i for i in prompt_image if i.get("position") == "first"), None)
        prompt_image = first.get("uri") if first else None
    if not isinstance(prompt_image, str):
        raise _issue("promptImage", "Invalid input: expected string", "invalid_type")
    if not prompt_image.startswith("data:"):
        raise _issue("promptImage", "The engine fetches no URL: give the image as a data URI.")
    if len(prompt_image) >= MAX_DATA_URI_BYTES:
        raise _issue("promptImage", "Data URIs must be under 5MB.")
    header, _, data = prompt_image.partition(",")
    media_type = header.removeprefix("data:").removesuffix(";base64")
    if not header.endswith(";base64") or media_type not in IMAGE_TYPES:
        raise _issue("promptImage", "Invalid data URI. Unsupported asset type.")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as e:
        raise _issue("promptImage", "Invalid data URI.") from e


DIALECT = Dialect(
    "runway", PREFIX, lambda engine, api_key: RunwayApi(engine, api_key).routes(), example_model="gen4.5"
)
